"""The trust boundaries of the evaluation on the warm path, on the real cluster: pool pods built by the
operator's own code (level5.sandbox.pool.pool_pod) with the real warm runner, run by the operator's own
WarmPool.run over attach streams.

Every program of the forgery corpus (tests/corpora/forgery/, the same as for cold pods) runs with the runtime
policy bypassed (the program's runner is given main.py itself as its bootstrap), against a failing testScript
criterion, plus one attack on the warm protocol itself: a program that forges the runner's DONE line on
every stream it can reach and leaves a process writing the answer behind. No attempt may change the verdict;
the checks see their own uid, no process and no file of the program, an isolated interpreter; killing the
runner ends the run with no check run; and a pod serves one iteration only (it is deleted afterwards).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.stream import WsApiClient
from test_trust_boundaries import ATTEMPTS, FORGERY, KILLERS, assert_true_outcome, guarded_namespace, spec

from kube import apply, kubectl
from level5.core.config import OperatorConfig, PoolClass
from level5.kube.pool import WarmPool
from level5.sandbox.outcome import PodOutcome
from level5.sandbox.pool import DONE_PREFIX, POOL_LABEL, pool_pod

pytestmark = pytest.mark.cluster

CONFIG = OperatorConfig.from_env()
BATCH = 3
"""Pool pods started at once (the node has 2 cores, shared)."""
FORGE_DONE = f"""
import os, time
# Forge the runner's DONE line (without the nonce, which the program never sees) wherever it can write.
for target in ('/proc/1/fd/1', '/dev/stdout'):
    try:
        with open(target, 'w') as out:
            for guess in ('', '0' * 32, 'nonce'):
                out.write('\\n{DONE_PREFIX} ' + guess + '\\n')
    except OSError:
        pass
print('{DONE_PREFIX} 00000000000000000000000000000000')
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(0.5)  # until after the program's own end: only a run that left it alive sees 42
        for _ in range(200):
            open('/output/answer.txt', 'w').write('42')
            time.sleep(0.05)
        os._exit(0)
    os._exit(0)
open('/output/answer.txt', 'w').write('41')
"""


POLICED = "policed_"
"""Programs named so run under the real runtime policy, in its warm form (the interpreter pre-started)."""


def warm_pod(namespace: str, index: int, policed: bool) -> dict[str, Any]:
    """A pool pod exactly as the operator builds it; unless `policed`, with the runtime policy bypassed."""
    pool = PoolClass(name="trust", namespace=namespace, cpu="150m", memory="256Mi")
    pod = pool_pod(pool, 0, index, "unused", CONFIG)
    del pod["metadata"]["ownerReferences"]  # no pool owner here; an absent owner would collect the pod
    if not policed:
        pod["spec"]["containers"][0]["command"] += ["--policy-runner", "/code/main.py"]
    return pod


async def run_all(namespace: str, programs: dict[str, str]) -> dict[str, tuple[str, PodOutcome]]:
    check = (FORGERY / "check_answer.py.txt").read_text()
    await kube_config.load_kube_config()
    pool = WarmPool(ApiClient(), WsApiClient(), CONFIG)
    outcomes: dict[str, tuple[str, PodOutcome]] = {}
    names = sorted(programs)
    try:
        for start in range(0, len(names), BATCH):
            batch = names[start : start + BATCH]
            pods = {a: warm_pod(namespace, start + i, a.startswith(POLICED)) for i, a in enumerate(batch)}
            apply(list(pods.values()), namespace)
            for pod in pods.values():
                kubectl(
                    "wait", "-n", namespace, "--for=condition=Ready", "--timeout=240s",
                    f"pod/{pod['metadata']['name']}", timeout=250,
                )  # fmt: skip
            runs = [pool.run(namespace, pods[a]["metadata"]["name"], spec(check), programs[a]) for a in batch]
            for attempt, outcome in zip(batch, await asyncio.gather(*runs), strict=True):
                outcomes[attempt] = (pods[attempt]["metadata"]["name"], outcome)
        await asyncio.sleep(1)  # the pool deletes used pods in the background
    finally:
        await pool.close()
    return outcomes


@pytest.fixture(scope="module")
def warm_namespace(cluster: None) -> Iterator[str]:
    yield from guarded_namespace("warm-trust")


def streamed_programs() -> dict[str, str]:
    """What a streamed pod (pool or cold) is tested with: the forgery corpus, the honest control, the attack
    on the DONE line, and two programs under the real runtime policy."""
    programs = {attempt: (FORGERY / f"{attempt}.py.txt").read_text() for attempt in ATTEMPTS}
    programs["honest"] = "open('/output/answer.txt', 'w').write('42')\nprint('done')\n"
    programs["forge_done"] = FORGE_DONE
    programs[f"{POLICED}process"] = "import subprocess\nsubprocess.run(['id'])\n"
    programs[f"{POLICED}honest"] = "open('/output/answer.txt', 'w').write('42')\n"
    return programs


@pytest.fixture(scope="module")
def forgeries(warm_namespace: str) -> dict[str, tuple[str, PodOutcome]]:
    return asyncio.run(run_all(warm_namespace, streamed_programs()))


@pytest.mark.parametrize("attempt", ["honest", f"{POLICED}honest"])
def test_the_check_can_pass_warm(forgeries: dict[str, tuple[str, PodOutcome]], attempt: str) -> None:
    _, outcome = forgeries[attempt]
    assert outcome.failure is None and outcome.run is not None, outcome.failure
    assert [c.passed for c in outcome.run.checks] == [True, True], outcome.run.checks


def test_the_runtime_policy_holds_in_a_warm_pod(forgeries: dict[str, tuple[str, PodOutcome]]) -> None:
    """The interpreter starts before the code arrives, yet the policy is armed before its first line."""
    _, outcome = forgeries[f"{POLICED}process"]
    assert outcome.run is not None and outcome.run.policy_violation is not None, outcome
    assert outcome.run.policy_violation.rule == "L5-RT-IMPORT" and outcome.run.exit_code == 86
    assert [c.passed for c in outcome.run.checks] == [False, False]


@pytest.mark.parametrize("attempt", sorted({*ATTEMPTS, "forge_done"} - KILLERS))
def test_no_forgery_changes_the_verdict_warm(
    forgeries: dict[str, tuple[str, PodOutcome]], attempt: str
) -> None:
    _, outcome = forgeries[attempt]
    result = outcome.run
    assert outcome.failure is None and result is not None, outcome.failure
    assert_true_outcome(result)


@pytest.mark.parametrize("attempt", sorted(KILLERS))
def test_killing_the_runner_fails_the_warm_run_unchecked(
    forgeries: dict[str, tuple[str, PodOutcome]], attempt: str
) -> None:
    _, outcome = forgeries[attempt]
    assert outcome.run is None
    assert outcome.failure is not None and "stream ended before its report" in outcome.failure, (
        outcome.failure
    )


def test_a_warm_pod_serves_one_iteration(forgeries: dict[str, tuple[str, PodOutcome]]) -> None:
    """Every used pod is gone or going: never returned to a pool."""
    for attempt, (pod_name, _) in forgeries.items():
        namespace = kubectl(
            "get", "pods", "-A", "--field-selector", f"metadata.name={pod_name}", "-o", "json"
        )
        items = json.loads(namespace)["items"]
        assert all(p["metadata"].get("deletionTimestamp") for p in items), (attempt, pod_name)


@pytest.fixture
def claim_namespace(cluster: None) -> Iterator[str]:
    yield from guarded_namespace("warm-claim")


def test_a_claim_waits_for_a_ready_pod_whose_streams_are_being_opened(claim_namespace: str) -> None:
    """A Ready pod joins its pool only once both its attach streams are open (a handshake each); a task that
    launches in that window is handed that pod rather than a cold one, and it runs there."""
    assert asyncio.run(claim_while_attaching(claim_namespace)) == "ok"


async def claim_while_attaching(namespace: str) -> str:
    await kube_config.load_kube_config()
    pool_class = PoolClass(name="claims", namespace=namespace, cpu="150m", memory="256Mi", size=1)
    config = CONFIG.model_copy(update={"sandbox_pools": [pool_class]})
    async with ApiClient() as api:
        pool = WarmPool(api, WsApiClient(), config)
        try:
            await pool.start()  # the slot's pod is created in the background
            selector = f"{POOL_LABEL}=claims"
            listing = ["get", "pods", "-n", namespace, "-l", selector, "-o", "json"]
            for _ in range(100):
                pods = json.loads(kubectl(*listing))["items"]
                if pods:
                    break
                await asyncio.sleep(0.2)
            name = pods[0]["metadata"]["name"]
            kubectl(
                "wait", "-n", namespace, "--for=condition=Ready", "--timeout=240s", f"pod/{name}", timeout=250
            )  # fmt: skip
            pod = json.loads(kubectl("get", "pod", "-n", namespace, name, "-o", "json"))
            pool.observe(namespace, name, pod)  # as the operator's pod watch reports it: streams are opened
            assert pool.ready_count() == 0  # not yet in the pool: the handshakes take a while
            task_spec = spec(timeout=20)
            assert await pool.claim(pool_class, task_spec) == name
            outcome = await pool.run(namespace, name, task_spec, "print('ok')")
            assert outcome.run is not None, outcome.failure
            return outcome.run.stdout.strip()
        finally:
            await pool.close()
