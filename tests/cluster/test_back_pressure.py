"""Back-pressure on the real cluster: when a ResourceQuota refuses a sandbox pod, the task waits in a visible
state (condition SandboxQueued and a Warning Event naming the quota) and goes on once a sandbox pod of its
namespace has ended or the quota is raised (the operator watches ResourceQuotas); the operator's daemon never
crashes for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import OperatorProcess, running, status_of, wait_for, wait_terminal
from kube import apply, kubectl
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster


def test_a_refused_sandbox_waits_visibly_and_runs_when_capacity_frees(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    # One sandbox pod at a time in this namespace (sandbox pods have activeDeadlineSeconds: scope
    # Terminating), on top of the operator's own quota.
    apply(
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "one-sandbox"},
            "spec": {"scopes": ["Terminating"], "hard": {"pods": "1"}},
        },
        namespace,
    )
    model.add({"content": code('print("ok")'), "repeat": True})
    names = [f"q{i}" for i in range(3)]
    apply(
        [task(n, "print ok", [{"name": "ok", "outputContains": "ok"}]) for n in names],
        namespace,
    )
    finals = {n: wait_terminal(namespace, n, timeout=240) for n in names}
    assert all(s["phase"] == "Succeeded" for s in finals.values()), json.dumps(finals, indent=1)
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    queued = [e for e in events if e.get("reason") == "SandboxQueued"]
    assert queued, "no task showed that it waited for the quota"
    assert all(e["type"] == "Warning" and "one-sandbox" in e["message"] for e in queued)
    assert any(e.get("reason") == "SandboxDequeued" for e in events)
    # Whoever waited ends with the condition False (capacity found), not stuck True.
    for status in finals.values():
        for condition in status.get("conditions", []):
            if condition["type"] == "SandboxQueued":
                assert condition["status"] == "False" and condition["reason"] == "CapacityFound"
    assert "Daemon 'drive_task' failed" not in operator.log.read_text()  # waited, never crashed


def _queued(namespace: str, name: str) -> bool:
    conditions = status_of(namespace, name).get("conditions", [])
    return any(c["type"] == "SandboxQueued" and c["status"] == "True" for c in conditions)


def test_a_raised_quota_wakes_the_waiting_task(
    crd: None, namespace: str, model: ScriptedModel, tmp_path: Path, webhook_tls: Path
) -> None:
    # The fallback re-check is set to an hour: only the ResourceQuota watch can let the task go on here.
    proc = OperatorProcess(namespace, model, tmp_path / "operator.log", webhook_tls)
    proc.extra_env["LEVEL5_QUEUE_RECHECK_SECONDS"] = "3600"
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "no-sandbox"},
        "spec": {"scopes": ["Terminating"], "hard": {"pods": "0"}},
    }
    apply(quota, namespace)
    model.add({"content": code('print("ok")'), "repeat": True})
    with running(proc):
        apply(task("raised", "print ok", [{"name": "ok", "outputContains": "ok"}]), namespace)
        wait_for(lambda: _queued(namespace, "raised"), 240, "the task to wait for the quota")
        kubectl("patch", "resourcequota", "no-sandbox", "-n", namespace, "--type", "merge",
                "-p", '{"spec":{"hard":{"pods":"1"}}}')  # fmt: skip
        final = wait_terminal(namespace, "raised", timeout=240)
    assert final["phase"] == "Succeeded", json.dumps(final, indent=1)
    raised = "ResourceQuota no-sandbox raised: pods 0 -> 1"
    [condition] = [c for c in final["conditions"] if c["type"] == "SandboxQueued"]
    assert condition["status"] == "False" and condition["reason"] == "CapacityFound"
    assert raised in condition["message"], condition
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    dequeued = [e["message"] for e in events if e.get("reason") == "SandboxDequeued"]
    assert dequeued and all(raised in message for message in dequeued), dequeued
    assert "Daemon 'drive_task' failed" not in proc.log.read_text()
