"""The cold path run the warm way, on the real cluster: streamed cold pods built by the operator's own code
(level5.sandbox.manifests.streamed_pod) with the real warm runner, run by the operator's own
SandboxLauncher.run_cold over attach streams, with the local cluster's system-call monitor configured as the
operator's cluster tests configure it.

The trust boundaries of "Trust boundaries" on this path: every program of the forgery corpus (runtime policy
bypassed) and the attack on the DONE line (test_warm_trust_boundaries.FORGE_DONE) leave the verdict true,
killing the runner fails the run with no check run, and the runtime policy holds in its warm form. Beyond the
pool's path: the system-call monitor observes a streamed cold run (a misbehaving program is named, an honest
one and the runner's own job files are not), and a run resumed on a pod that already ran (an operator
restart) reads its result from the checks' log and runs nothing again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes_asyncio import config as kube_config
from kubernetes_asyncio.client import ApiClient, CoreV1Api
from kubernetes_asyncio.stream import WsApiClient
from kubernetes_asyncio.watch import Watch
from test_trust_boundaries import (
    ATTEMPTS,
    CONFIG,
    FORGERY,
    KILLERS,
    MISBEHAVING,
    MONITOR_PORT,
    assert_true_outcome,
    guarded_namespace,
    spec,
)
from test_warm_trust_boundaries import BATCH, POLICED, streamed_programs

from kube import apply, kubectl, unique_name
from level5.api.spec import AgentTaskSpec
from level5.api.status import SyscallMonitoring
from level5.core.layout import CHECKS_CONTAINER, PROGRAM_CONTAINER
from level5.core.wakeups import Wakeups
from level5.kube.pool import Stream, attach
from level5.kube.sandboxes import SandboxLauncher
from level5.observability.monitoring import syscall_record
from level5.observability.syscalls import SyscallMonitorClient, container_id_of
from level5.safety.runtime_policy import policy_document
from level5.sandbox.manifests import NONCE_ANNOTATION, TaskRef, is_streamed, sandbox_pod_name, streamed_pod
from level5.sandbox.outcome import PodOutcome, container_status, run_key_of
from level5.sandbox.pool import DONE_PREFIX, done_line, fallback_jobs, program_job
from level5.sandbox.syscall_summary import SyscallSummary

pytestmark = pytest.mark.cluster

UNPOLICED = "unpoliced_"
"""Programs named so run with the runtime policy bypassed (the runner is given main.py as its bootstrap)."""
Runs = dict[str, tuple[str, PodOutcome, PodOutcome]]
"""Per program: its pod, the run's outcome, and a second run_cold on the same pod (a resumed operator's)."""


def cold_pod(namespace: str, attempt: str, code: str, task_spec: AgentTaskSpec) -> dict[str, Any]:
    """A streamed cold pod exactly as the launcher builds it for `code`; with the policy bypassed unless
    policed."""
    task = TaskRef(name=attempt.replace("_", "-")[:40], namespace=namespace, uid=unique_name("uid"))
    fallback = fallback_jobs(task_spec, code, policy_document(task_spec))
    pod = streamed_pod(
        task,
        task_spec,
        sandbox_pod_name(task, 1),
        1,
        CONFIG,
        unique_name("nonce"),
        unique_name("key"),
        fallback,
    )
    del pod["metadata"]["ownerReferences"]  # no AgentTask here; an absent owner would collect the pod
    if not attempt.startswith(POLICED):
        program = next(c for c in pod["spec"]["containers"] if c["name"] == PROGRAM_CONTAINER)
        program["command"] += ["--policy-runner", "/code/main.py"]
    return pod


async def run_all(namespace: str, programs: dict[str, str]) -> Runs:
    check = (FORGERY / "check_answer.py.txt").read_text()
    await kube_config.load_kube_config()
    monitor = SyscallMonitorClient(f"http://{{hostIP}}:{MONITOR_PORT}")
    outcomes: Runs = {}
    names = sorted(programs)
    async with ApiClient() as api:
        launcher = SandboxLauncher(api, CONFIG, Wakeups(), monitor, None, WsApiClient())
        try:
            for start in range(0, len(names), BATCH):
                batch = names[start : start + BATCH]
                pods = {a: cold_pod(namespace, a, programs[a], spec(check)) for a in batch}
                apply(list(pods.values()), namespace)
                for pod in pods.values():  # no pod watch here: started before the launcher looks
                    kubectl(
                        "wait", "-n", namespace, "--for=condition=ContainersReady", "--timeout=240s",
                        f"pod/{pod['metadata']['name']}", timeout=250,
                    )  # fmt: skip
                names_of = {a: str(pods[a]["metadata"]["name"]) for a in batch}
                runs = [launcher.run_cold(namespace, names_of[a], spec(check), programs[a]) for a in batch]
                firsts = [outcome for _, outcome in await asyncio.gather(*runs)]
                # Once every pod's checks have ended (a failed run's pod is being deleted: no wait there).
                for attempt, outcome in zip(batch, firsts, strict=True):
                    if outcome.failure is None:
                        kubectl(
                            "wait", "-n", namespace, "--for=jsonpath={.status.phase}=Succeeded",
                            "--timeout=120s", f"pod/{names_of[attempt]}", timeout=130,
                        )  # fmt: skip
                again = [launcher.run_cold(namespace, names_of[a], spec(check), programs[a]) for a in batch]
                seconds = [outcome for _, outcome in await asyncio.gather(*again)]
                for attempt, first, second in zip(batch, firsts, seconds, strict=True):
                    outcomes[attempt] = (names_of[attempt], first, second)
        finally:
            await launcher.close()
    return outcomes


@pytest.fixture(scope="module")
def cold_namespace(cluster: None) -> Iterator[str]:
    yield from guarded_namespace("cold-streamed")


@pytest.fixture(scope="module")
def runs(cold_namespace: str) -> Runs:
    programs = {**streamed_programs(), f"{UNPOLICED}misbehaving": MISBEHAVING}
    return asyncio.run(run_all(cold_namespace, programs))


def test_the_pods_are_streamed(runs: Runs, cold_namespace: str) -> None:
    pod = json.loads(kubectl("get", "pod", runs["honest"][0], "-n", cold_namespace, "-o", "json"))
    assert is_streamed(pod) and len(pod["spec"]["containers"]) == 2
    assert all(c["stdinOnce"] for c in pod["spec"]["containers"])


@pytest.mark.parametrize("attempt", ["honest", f"{POLICED}honest"])
def test_the_check_can_pass_cold_streamed(runs: Runs, attempt: str) -> None:
    _, outcome, _ = runs[attempt]
    assert outcome.failure is None and outcome.run is not None, outcome.failure
    assert [c.passed for c in outcome.run.checks] == [True, True], outcome.run.checks


def test_the_runtime_policy_holds_in_a_cold_streamed_pod(runs: Runs) -> None:
    _, outcome, _ = runs[f"{POLICED}process"]
    assert outcome.run is not None and outcome.run.policy_violation is not None, outcome
    assert outcome.run.policy_violation.rule == "L5-RT-IMPORT" and outcome.run.exit_code == 86


@pytest.mark.parametrize("attempt", sorted({*ATTEMPTS, "forge_done"} - KILLERS))
def test_no_forgery_changes_the_verdict_cold_streamed(runs: Runs, attempt: str) -> None:
    _, outcome, _ = runs[attempt]
    assert outcome.failure is None and outcome.run is not None, outcome.failure
    assert_true_outcome(outcome.run)


@pytest.mark.parametrize("attempt", sorted(KILLERS))
def test_killing_the_runner_fails_the_cold_streamed_run_unchecked(runs: Runs, attempt: str) -> None:
    _, outcome, _ = runs[attempt]
    assert outcome.run is None and outcome.failure is not None
    assert "RunnerKilled" in outcome.failure or "without its report" in outcome.failure, outcome.failure


def test_a_resumed_run_reads_the_result_and_runs_nothing_again(runs: Runs, cold_namespace: str) -> None:
    """A second run_cold on a pod that ran (what an operator restarted after the run does) gives the same
    result from the checks' log; the pod's program ran once (its container never restarted)."""
    pod_name, first, second = runs["honest"]
    assert first.run is not None and second.run is not None, second.failure
    assert second.run.stdout == first.run.stdout and second.run.checks == first.run.checks
    pod = json.loads(kubectl("get", "pod", pod_name, "-n", cold_namespace, "-o", "json"))
    assert all(c["restartCount"] == 0 for c in pod["status"]["containerStatuses"])


def test_the_syscall_monitor_observes_cold_streamed_runs(runs: Runs) -> None:
    """The program's container is summarised as a cold pod's is: the runner's own job files are expected,
    a process started and a connection tried are named."""
    records = {}
    for attempt in (f"{POLICED}honest", f"{UNPOLICED}misbehaving"):
        _, outcome, _ = runs[attempt]
        assert outcome.monitoring is SyscallMonitoring.OBSERVED and outcome.run is not None, outcome
        records[attempt] = syscall_record(
            outcome.monitoring, outcome.syscalls, outcome.run.isolation_probe, job_files=outcome.job_files
        )
    assert records[f"{POLICED}honest"].anomalies == [], records[f"{POLICED}honest"]
    kinds = {a.split(":", 1)[0] for a in records[f"{UNPOLICED}misbehaving"].anomalies}
    assert {"ProcessStart", "Connect"} <= kinds, records[f"{UNPOLICED}misbehaving"].anomalies


def test_the_syscall_monitor_finds_a_streamed_run_by_its_run_key(runs: Runs, cold_namespace: str) -> None:
    """A streamed run's summary is asked for by the pod's run key as soon as its result is in (the kubelet
    may report the program container's id up to a second later): the key names the program's container, and
    its summary is the one its container id gives."""
    pod = json.loads(
        kubectl("get", "pod", runs[f"{UNPOLICED}misbehaving"][0], "-n", cold_namespace, "-o", "json")
    )
    key, host = run_key_of(pod), pod["status"]["hostIP"]
    container_id = str((container_status(pod, PROGRAM_CONTAINER) or {})["containerID"])

    async def by_key_and_by_id() -> tuple[SyscallSummary | None, SyscallSummary | None]:
        async with SyscallMonitorClient(f"http://{{hostIP}}:{MONITOR_PORT}") as monitor:
            assert key is not None
            return await monitor.run_summary(host, key), await monitor.summary(host, container_id)

    by_key, by_id = asyncio.run(by_key_and_by_id())
    assert by_key is not None and by_key.container_id == container_id_of(container_id), by_key
    assert by_key == by_id and by_key.connect_count > 0  # the misbehaving program's connection is in it


LEFT_WITHOUT_JOB = "print('ran', flush=True)\n"


@pytest.mark.parametrize("side", [PROGRAM_CONTAINER, CHECKS_CONTAINER])
def test_a_container_left_without_its_job_runs_the_job_it_carries(cold_namespace: str, side: str) -> None:
    """An operator stopped after attaching to a container and before its job got through (the kubelet then
    closes that `stdinOnce` stdin for good): the resumed operator's run gives the iteration's true result,
    from the job the container carries in its environment, and the program ran once. Without that job the
    program's runner ends with no job (the run fails, nothing checked), or the checks fail reading none."""
    outcome, pod, program_log = asyncio.run(left_without_job(cold_namespace, side))
    assert outcome.failure is None and outcome.run is not None, outcome.failure
    assert outcome.run.exit_code == 0 and [(c.name, c.passed) for c in outcome.run.checks] == [("exit", True)]
    assert outcome.run.stdout == "ran\n"
    assert all(c["restartCount"] == 0 for c in pod["status"]["containerStatuses"])
    # The program's runner printed its DONE line only when it had the job with the nonce.
    assert (DONE_PREFIX in program_log) is (side == CHECKS_CONTAINER), program_log


async def left_without_job(namespace: str, side: str) -> tuple[PodOutcome, dict[str, Any], str]:
    """Attach to `side` and leave without sending (on the checks side, after the program's run, as the
    operator hands them in); then run_cold on the pod as a resumed operator does, fed by a pod watch."""
    task_spec = spec()
    pod = cold_pod(namespace, f"{POLICED}left-{side}", LEFT_WITHOUT_JOB, task_spec)
    name, nonce = pod["metadata"]["name"], pod["metadata"]["annotations"][NONCE_ANNOTATION]
    apply([pod], namespace)
    ready = ["--for=condition=ContainersReady", "--timeout=240s", f"pod/{name}"]
    kubectl("wait", "-n", namespace, *ready, timeout=250)
    await kube_config.load_kube_config()
    wakeups = Wakeups()
    async with ApiClient() as api, WsApiClient() as ws_api:
        ws_core = CoreV1Api(ws_api)
        if side == CHECKS_CONTAINER:
            program = Stream(await attach(ws_core, namespace, name, PROGRAM_CONTAINER), lambda: None)
            await program.send(program_job(nonce, LEFT_WITHOUT_JOB, policy_document(task_spec)))
            await program.until(lambda text: done_line(nonce) in text.split("\n"))
            await program.close()
        await (await attach(ws_core, namespace, name, side)).close()  # the operator is gone: no job sent
        launcher = SandboxLauncher(api, CONFIG, wakeups, None, None, WsApiClient())
        watching = asyncio.ensure_future(watch_pod(api, namespace, name, launcher, wakeups))
        try:
            async with asyncio.timeout(120):
                _, outcome = await launcher.run_cold(namespace, name, task_spec, LEFT_WITHOUT_JOB)
        finally:
            watching.cancel()
            await launcher.close()
        log = await CoreV1Api(api).read_namespaced_pod_log(name, namespace, container=PROGRAM_CONTAINER)
    return outcome, json.loads(kubectl("get", "pod", name, "-n", namespace, "-o", "json")), str(log)


async def watch_pod(
    api: ApiClient, namespace: str, name: str, launcher: SandboxLauncher, wakeups: Wakeups
) -> None:
    """The operator's pod watch for one pod (handlers.sandbox_pod_changed): the launcher told, its waiters
    woken."""
    async with Watch() as watch:
        async for event in watch.stream(
            CoreV1Api(api).list_namespaced_pod, namespace, field_selector=f"metadata.name={name}"
        ):
            body = api.sanitize_for_serialization(event["object"])
            launcher.observe(namespace, name, None if event["type"] == "DELETED" else body)
            wakeups.notify(namespace, name)
