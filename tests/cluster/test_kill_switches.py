"""Layer 4 kill switches on the real cluster with the real operator: spec.cancel deletes the running sandbox
pod at once and ends the task, and the level5-emergency-stop ConfigMap kills running pods, holds the task and
lets it continue (a next iteration runs) once deleted. Only the model's answers are scripted."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from conftest import OperatorProcess, program_running, status_of, task_pods, wait_for
from kube import apply, kubectl
from scripted_model import ScriptedModel
from task_manifests import UNSUPERVISED

pytestmark = pytest.mark.cluster
SLEEPY = "```python\nimport time\ntime.sleep(60)\nprint('ok')\n```\nCONFIDENCE: 0.6\nUNCERTAINTY: none"
QUICK = "```python\nprint('ok')\n```\nCONFIDENCE: 0.9\nUNCERTAINTY: none"


def sleepy_task(name: str) -> dict[str, object]:
    return {
        "apiVersion": "level5.dev/v1alpha1",
        "kind": "AgentTask",
        "metadata": {"name": name},
        "spec": {
            "goal": {"primary": "Print ok.", "successCriteria": [{"name": "ok", "outputContains": "ok"}]},
            "capabilities": {"timeoutSeconds": 120},
            "iterations": {"maxIterations": 3},
            "autonomy": UNSUPERVISED,
        },
    }


def running_pod(namespace: str, name: str) -> str:
    """Wait until the task's sandbox pod runs the program and return its name."""

    def running() -> str | None:
        pods = [p for p in task_pods(namespace, name) if program_running(p)]
        return pods[0]["metadata"]["name"] if pods else None

    pod: str = wait_for(running, 180, f"a running sandbox pod of {name}")
    return pod


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in status.get("conditions", []) if c["type"] == type_)
    return found


def pod_gone_within(namespace: str, pod: str, seconds: float) -> float:
    """Seconds until the pod is deleted; fails after `seconds`."""
    start = time.monotonic()
    wait_for(
        lambda: "NotFound" in kubectl("get", "pod", pod, "-n", namespace, check=False),
        seconds,
        f"pod {pod} to be deleted",
    )
    return time.monotonic() - start


def test_cancel_kills_the_running_pod_at_once(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add({"content": SLEEPY, "repeat": True})
    apply(sleepy_task("cancelme"), namespace)
    pod = running_pod(namespace, "cancelme")
    requests = len(model.requests)
    kubectl(
        "patch", "agenttask", "cancelme", "-n", namespace, "--type", "merge", "-p", '{"spec":{"cancel":true}}'
    )
    assert pod_gone_within(namespace, pod, 10) < 10
    status = wait_for(
        lambda: (s := status_of(namespace, "cancelme")).get("phase") == "Cancelled" and s, 30, "Cancelled"
    )
    assert condition(status, "Cancelled")["status"] == "True"
    assert status["history"][-1]["termination"] == "Cancelled"
    time.sleep(5)  # a cancelled task never starts again
    assert status_of(namespace, "cancelme")["phase"] == "Cancelled"
    assert len(model.requests) == requests == 1
    assert len(task_pods(namespace, "cancelme")) == 0
    events = json.loads(
        kubectl(
            "get",
            "events",
            "-n",
            namespace,
            "--field-selector",
            "involvedObject.kind=AgentTask,involvedObject.name=cancelme",
            "-o",
            "json",
        )
    )
    assert "Cancelled" in {e["reason"] for e in events["items"]}


def test_emergency_stop_kills_pods_holds_and_releases(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add({"match": "Write the program", "content": SLEEPY}, {"content": QUICK, "repeat": True})
    apply(sleepy_task("stopme"), namespace)
    pod = running_pod(namespace, "stopme")
    stop = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "level5-emergency-stop"},
        "data": {"stop": "true"},
    }
    apply(stop, namespace)
    assert pod_gone_within(namespace, pod, 10) < 10
    status = wait_for(
        lambda: (
            (s := status_of(namespace, "stopme"))
            and any(c["type"] == "EmergencyStop" and c["status"] == "True" for c in s.get("conditions", []))
            and s
        ),
        30,
        "the EmergencyStop condition",
    )
    assert status["history"][-1]["termination"] == "EmergencyStop"
    assert status["phase"] not in ("Succeeded", "Failed", "Cancelled")
    time.sleep(8)  # held: no new pod and no model call while the stop is on
    assert task_pods(namespace, "stopme") == []
    assert len(model.requests) == 1
    kubectl("delete", "configmap", "level5-emergency-stop", "-n", namespace)

    def next_iteration_launched() -> list[dict[str, Any]]:
        pods = task_pods(namespace, "stopme")
        return [p for p in pods if p["metadata"]["labels"].get("level5.dev/iteration") == "2"]

    wait_for(next_iteration_launched, 120, "the next iteration's sandbox pod after the stop")
    status = status_of(namespace, "stopme")
    assert condition(status, "EmergencyStop")["status"] == "False"
    assert status["iteration"] == 2 and len(model.requests) >= 2
    # The killed iteration was not run again: its pod never came back.
    assert all(p["metadata"]["name"] != pod for p in task_pods(namespace, "stopme"))
