"""The operator end to end on the real cluster: kubectl apply an AgentTask, the real operator drives it with a
scripted model, code runs in gVisor sandbox pods, the status tells the outcome. Nothing is mocked but the
model's answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conftest import OperatorProcess, task_pods, wait_for, wait_terminal
from kube import KubectlError, apply, get_json, kubectl
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster
SAMPLES = Path(__file__).resolve().parents[2] / "samples"

CSV_BROKEN = """```python
import csv
with open("/data/sales.csv") as f:
    for row in csv.DictReader(f):
        print(row["Region"])
```
CONFIDENCE: 0.5
UNCERTAINTY: column names"""

CSV_GOOD = """```python
import csv
totals = {}
with open("/data/sales.csv") as f:
    for row in csv.DictReader(f):
        totals[row["region"]] = totals.get(row["region"], 0.0) + int(row["units"]) * float(row["price"])
for region in sorted(totals):
    print(f"{region}: {totals[region]:.2f}")
```
CONFIDENCE: 0.9
UNCERTAINTY: none"""

JUDGE_PASS = {
    "match": "strict reviewer",
    "content": "VERDICT: PASS\nRATIONALE: each region once",
    "repeat": True,
}


def test_csv_sample_feeds_traceback_back_and_succeeds(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {"match": "Write the program", "content": CSV_BROKEN},
        {"match": "Attempt 1 failed", "content": CSV_GOOD},
        JUDGE_PASS,
    )
    kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "csv-analysis.yaml"))
    status = wait_terminal(namespace, "csv-analysis")
    assert status["phase"] == "Succeeded", json.dumps(status, indent=1)
    assert status["iteration"] == 2 and status["score"] == 1.0
    second = model.prompts()[1]
    assert "Traceback (most recent call last)" in second and "KeyError" in second
    assert "north: 55.00" in status["result"]["stdoutExcerpt"]
    assert "csv.DictReader" in status["result"]["code"]
    judged = [c for c in status["result"]["criteria"] if c["kind"] == "judge"]
    assert judged[0]["passed"] and judged[0]["reason"] == "each region once"
    pods = task_pods(namespace, "csv-analysis")
    assert len(pods) == 2
    for pod in pods:
        assert pod["spec"]["runtimeClassName"] == "gvisor"
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "AgentTask"
    kubectl("get", "networkpolicy", "level5-sandbox-deny-all", "-n", namespace)
    events = kubectl(
        "get",
        "events",
        "-n",
        namespace,
        "--field-selector",
        "involvedObject.kind=AgentTask,involvedObject.name=csv-analysis",
        "-o",
        "json",
    )
    reasons = {e["reason"] for e in json.loads(events)["items"]}
    assert {"Generating", "Executing", "AllCriteriaPassed"} <= reasons
    annotations = get_json("agenttask", "csv-analysis", namespace)["metadata"].get("annotations", {})
    assert not any(key.startswith("kopf.zalando.org") for key in annotations)


def test_success_on_first_iteration_and_delete_cascades(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(code("print(' '.join(str(i * i) for i in range(1, 11)))"))
    kubectl("apply", "-n", namespace, "-f", str(SAMPLES / "minimal.yaml"))
    status = wait_terminal(namespace, "minimal")
    assert status["phase"] == "Succeeded" and status["iteration"] == 1
    assert len(model.requests) == 1
    assert status["history"][0]["reviewVerdict"] == "allow" and status["totals"]["tokens"] > 0
    # Its system calls were observed from outside the sandbox, and an honest run shows nothing unexpected.
    syscalls = status["history"][0]["syscalls"]
    assert syscalls["monitoring"] == "Observed" and syscalls["anomalies"] == [], syscalls
    assert syscalls["processes"] >= 1 and syscalls["filesOpened"] > 0
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["SyscallMonitoring"]["status"] == "True"
    kubectl("delete", "agenttask", "minimal", "-n", namespace, "--wait=true", timeout=120)
    wait_for(lambda: not task_pods(namespace, "minimal"), 60, "pods to be garbage-collected")


def test_max_iterations_reached(operator: OperatorProcess, namespace: str, model: ScriptedModel) -> None:
    model.add(*(code(f"raise SystemExit({i + 1})") for i in range(2)))
    apply(
        task("maxiter", "Exit cleanly.", [{"name": "exit", "exitCode": 0}], iterations={"maxIterations": 2}),
        namespace,
    )
    status = wait_terminal(namespace, "maxiter")
    assert status["phase"] == "Failed" and status["iteration"] == 2
    failed = next(c for c in status["conditions"] if c["type"] == "Failed")
    assert failed["status"] == "True" and failed["reason"] == "MaxIterationsReached"


def test_token_budget_exhausted(operator: OperatorProcess, namespace: str, model: ScriptedModel) -> None:
    model.add(
        {
            "content": code("raise SystemExit(3)"),
            "repeat": True,
            "usage": {"prompt_tokens": 4000, "completion_tokens": 1000},
        }
    )
    apply(
        task(
            "tokens",
            "Exit cleanly.",
            [{"name": "exit", "exitCode": 0}],
            iterations={"maxIterations": 10, "budgets": {"tokens": 9000}},
        ),
        namespace,
    )
    status = wait_terminal(namespace, "tokens")
    assert status["phase"] == "Failed" and status["iteration"] == 2
    assert next(c for c in status["conditions"] if c["type"] == "Failed")["reason"] == "TokenBudgetExhausted"


def test_stuck_same_failure(operator: OperatorProcess, namespace: str, model: ScriptedModel) -> None:
    model.add(*(code(f"x = {i}\nraise ValueError('bad value')") for i in range(5)))
    apply(
        task(
            "stuck",
            "Exit cleanly.",
            [{"name": "exit", "exitCode": 0}],
            iterations={"maxIterations": 10, "stuck": {"maxSameFailure": 2}},
        ),
        namespace,
    )
    status = wait_terminal(namespace, "stuck")
    assert status["phase"] == "Failed" and status["iteration"] == 2
    assert next(c for c in status["conditions"] if c["type"] == "Failed")["reason"] == "StuckSameFailure"


def test_code_over_max_lines_is_blocked_and_fed_back(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {"match": "Write the program", "content": code("\n".join(f"print({i})" for i in range(20)))},
        {"match": "Attempt 1 failed", "content": code("print('ok')")},
    )
    apply(
        task("maxlines", "Print ok.", [{"name": "ok", "outputContains": "ok"}], capabilities={"maxLines": 5}),
        namespace,
    )
    status = wait_terminal(namespace, "maxlines")
    assert status["phase"] == "Succeeded" and status["iteration"] == 2
    assert status["history"][0]["reviewVerdict"] == "block" and status["history"][0]["reviewRules"]
    assert "review blocked" in model.prompts()[1]
    assert len(task_pods(namespace, "maxlines")) == 1  # the blocked code never ran


def test_memory_and_time_limits_are_clear_failures(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {
            "match": "MEMORY",
            "content": code(
                # writes 800 MiB at run time (zeroed pages stay untouched; a huge literal is a review block)
                "chunks = []\nfor i in range(100):\n    chunks.append(bytes([i % 256]) * (8 * 1024 * 1024))\n"
                "print(len(chunks))"
            ),
        },
        {"match": "SLEEPY", "content": code("import time\ntime.sleep(60)")},
    )
    apply(
        task(
            "memory",
            "MEMORY: allocate.",
            [{"name": "exit", "exitCode": 0}],
            capabilities={"memory": "64Mi"},
            iterations={"maxIterations": 1},
        ),
        namespace,
    )
    apply(
        task(
            "slow",
            "SLEEPY: wait.",
            [{"name": "exit", "exitCode": 0}],
            capabilities={"timeoutSeconds": 3},
            iterations={"maxIterations": 1},
        ),
        namespace,
    )
    memory = wait_terminal(namespace, "memory")
    assert memory["phase"] == "Failed"
    reason = memory["history"][0]["reason"]
    assert any(word in reason for word in ("OOMKilled", "MemoryError", "Killed")), reason
    slow = wait_terminal(namespace, "slow")
    assert slow["phase"] == "Failed" and slow["history"][0]["reason"].startswith("Timeout")


def test_invalid_manifest_is_rejected_naming_the_field(crd: None, namespace: str) -> None:
    bad = task(
        "bad", "x", [{"name": "a", "exitCode": 0}], capabilities={"maxLines": 9000, "language": "cobol"}
    )
    with pytest.raises(KubectlError) as raised:
        apply(bad, namespace)
    assert "spec.capabilities.maxLines" in str(raised.value)
    assert "spec.capabilities.language" in str(raised.value)
    # CEL rules run only on an object that passes the OpenAPI checks, so this one is tried alone.
    two = task("two", "x", [{"name": "two", "exitCode": 0, "outputContains": "y"}])
    with pytest.raises(KubectlError, match="set exactly one of exitCode"):
        apply(two, namespace)
    with pytest.raises(KubectlError, match="network"):
        apply(task("net", "x", [{"name": "a", "exitCode": 0}], capabilities={"network": True}), namespace)


def test_restart_mid_iteration_never_runs_code_twice(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add({"match": "Write the program", "content": code("import time\ntime.sleep(20)\nprint('ok')")})
    apply(task("restart", "Print ok after a while.", [{"name": "ok", "outputContains": "ok"}]), namespace)

    def launched() -> bool:
        current = (get_json("agenttask", "restart", namespace).get("status") or {}).get("current") or {}
        # The intent ("Pending") is written before the pod is created; "Created" rides along with the next
        # save, so the pod's existence is what tells that the launch happened.
        return current.get("launchState") in ("Pending", "Created") and bool(task_pods(namespace, "restart"))

    wait_for(launched, 120, "the sandbox pod to be launched")
    operator.kill()
    operator.start()
    status = wait_terminal(namespace, "restart")
    assert status["phase"] == "Succeeded" and status["iteration"] == 1
    assert len(task_pods(namespace, "restart")) == 1
    assert sum("Write the program" in p for p in model.prompts()) == 1


def test_samples_are_valid(crd: None, namespace: str) -> None:
    for sample in sorted(SAMPLES.glob("*.yaml")):
        for doc in yaml.safe_load_all(sample.read_text()):
            if doc and doc["kind"] == "AgentTask":
                kubectl("apply", "--dry-run=server", "-n", namespace, "-f", "-", input=json.dumps(doc))
