"""The warm pool end to end on the real cluster: the real operator with a pool configured
(LEVEL5_SANDBOX_POOLS) fills it with Ready pods, runs a matching task's iteration in one of them over attach
streams (status and audit say warm, no cold pod is made), deletes that pod and refills the pool; a task whose
resources match no pool class runs cold and says why in a WarmPoolFallback Event. An idle pool pod whose held
attach stream ends (its runner killed while it waits) is never claimed: it is deleted and replaced, and tasks
still run warm."""

from __future__ import annotations

import json

import pytest

from conftest import OperatorProcess, task_pods, wait_for, wait_terminal
from kube import apply, kubectl
from level5.core.layout import PROGRAM_CONTAINER
from level5.kube.pool import STREAM_ENDED
from level5.sandbox.pool import FALLBACK_EVENT, POOL_LABEL, WARM_EVENT, ColdStartReason
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster


def ready_pool_pods(namespace: str) -> list[str]:
    pods = json.loads(kubectl("get", "pods", "-n", namespace, "-l", f"{POOL_LABEL}=small", "-o", "json"))
    return [
        p["metadata"]["name"]
        for p in pods["items"]
        if not p["metadata"].get("deletionTimestamp")
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
    ]


def events(namespace: str, name: str) -> list[dict[str, str]]:
    found = kubectl(
        "get", "events", "-n", namespace, "--field-selector",
        f"involvedObject.kind=AgentTask,involvedObject.name={name}", "-o", "json",
    )  # fmt: skip
    return [{"reason": e["reason"], "message": e["message"]} for e in json.loads(found)["items"]]


CRITERIA = [{"name": "ok", "outputContains": "ok"}]
SMALL = {"cpu": "150m", "memory": "256Mi"}


def start_small_pool(operator: OperatorProcess, namespace: str, model: ScriptedModel) -> str:
    """Restart the operator with a one-pod pool of class SMALL; the name of its first Ready pod."""
    pool = {"name": "small", "namespace": namespace, "size": 1, **SMALL}
    operator.extra_env["LEVEL5_SANDBOX_POOLS"] = json.dumps([pool])
    operator.kill()
    operator.start()
    model.add({"match": "Write the program", "content": code("print('ok')"), "repeat": True})
    first: str = wait_for(lambda: ready_pool_pods(namespace), 240, "a Ready pool pod")[0]
    return first


def pod_exists(namespace: str, name: str) -> bool:
    found = kubectl("get", "pods", "-n", namespace, "--field-selector", f"metadata.name={name}", "-o", "name")
    return bool(found.strip())


def test_a_matching_task_runs_warm_and_another_falls_back_cold(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    first = start_small_pool(operator, namespace, model)
    warm = task("warm", "Print ok.", CRITERIA, capabilities=SMALL)
    apply(warm, namespace)
    status = wait_terminal(namespace, "warm")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    entry = status["history"][0]
    assert entry["warmPool"] == "small" and entry["podName"] == first, entry
    assert task_pods(namespace, "warm") == []  # no cold pod was made for it
    assert any(e["reason"] == WARM_EVENT and first in e["message"] for e in events(namespace, "warm"))
    audit = [json.loads(line) for line in operator.audit_path.read_text().splitlines()]
    launches = [r for r in audit if r["kind"] == "launch" and r["task"] == f"{namespace}/warm"]
    assert launches and launches[0]["data"]["warm_pool"] == "small", launches
    # Used once, then deleted; the pool refills behind it under the slot's next name.
    wait_for(lambda: first not in ready_pool_pods(namespace) and ready_pool_pods(namespace), 240, "a refill")

    cold = task("cold", "Print ok.", CRITERIA, capabilities={"cpu": "200m", "memory": "256Mi"})
    apply(cold, namespace)
    status = wait_terminal(namespace, "cold")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert "warmPool" not in status["history"][0]
    assert len(task_pods(namespace, "cold")) == 1
    fallbacks = [e for e in events(namespace, "cold") if e["reason"] == FALLBACK_EVENT]
    assert fallbacks and ColdStartReason.NO_MATCHING_CLASS.value in fallbacks[0]["message"], fallbacks


def test_an_idle_pool_pod_whose_stream_ends_is_replaced_never_claimed(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    first = start_small_pool(operator, namespace, model)
    # The program container's runner (PID 1, waiting for its job on the stdin the operator holds) is killed:
    # the container ends, and with it the held attach stream. The checks container still runs, so the pod
    # is not terminal: only the stream's end can tell the operator that this pod can no longer take a job.
    # The exec'd process dies with the container (exit code 137), so kubectl's status is not checked.
    kubectl(
        "exec", "-n", namespace, first, "-c", PROGRAM_CONTAINER, "--",
        "python3", "-c", "import os, signal; os.kill(1, signal.SIGKILL)", check=False,
    )  # fmt: skip
    # A task created at once must not be handed the dead pod: it runs on the replacement or cold.
    apply(task("right-after", "Print ok.", CRITERIA, capabilities=SMALL), namespace)
    wait_for(lambda: STREAM_ENDED % (namespace, first) in operator.log.read_text(), 60, "the stream's end")
    wait_for(lambda: not pod_exists(namespace, first), 120, f"{first} to be deleted")
    status = wait_terminal(namespace, "right-after")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert status["history"][0].get("podName") != first, status["history"][0]
    # Replaced under the slot's next name; a task then runs warm in the replacement.
    second = wait_for(lambda: [p for p in ready_pool_pods(namespace) if p != first], 240, "a replacement")[0]
    apply(task("later", "Print ok.", CRITERIA, capabilities=SMALL), namespace)
    status = wait_terminal(namespace, "later")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    entry = status["history"][0]
    assert entry["warmPool"] == "small" and entry["podName"] == second, entry
