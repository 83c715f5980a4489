"""The warm pool end to end on the real cluster: the real operator with a pool configured
(LEVEL5_SANDBOX_POOLS) fills it with Ready pods, runs a matching task's iteration in one of them over attach
streams (status and audit say warm, no cold pod is made), deletes that pod and refills the pool; a task whose
resources match no pool class runs cold and says why in a WarmPoolFallback Event."""

from __future__ import annotations

import json

import pytest

from conftest import OperatorProcess, task_pods, wait_for, wait_terminal
from kube import apply, kubectl
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


def test_a_matching_task_runs_warm_and_another_falls_back_cold(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    pool = {"name": "small", "namespace": namespace, "size": 1, "cpu": "150m", "memory": "256Mi"}
    operator.extra_env["LEVEL5_SANDBOX_POOLS"] = json.dumps([pool])
    operator.kill()
    operator.start()
    first = wait_for(lambda: ready_pool_pods(namespace), 240, "a Ready pool pod")[0]
    model.add({"match": "Write the program", "content": code("print('ok')"), "repeat": True})
    criteria = [{"name": "ok", "outputContains": "ok"}]
    warm = task("warm", "Print ok.", criteria, capabilities={"cpu": "150m", "memory": "256Mi"})
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

    cold = task("cold", "Print ok.", criteria, capabilities={"cpu": "200m", "memory": "256Mi"})
    apply(cold, namespace)
    status = wait_terminal(namespace, "cold")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert "warmPool" not in status["history"][0]
    assert len(task_pods(namespace, "cold")) == 1
    fallbacks = [e for e in events(namespace, "cold") if e["reason"] == FALLBACK_EVENT]
    assert fallbacks and ColdStartReason.NO_MATCHING_CLASS.value in fallbacks[0]["message"], fallbacks
