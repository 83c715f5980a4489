"""Fault injection on the real cluster (`make chaos`): the operator SIGKILLed at steps of the state machine
(while the model answers, while the sandbox pod runs, while an Approval is pending), the model endpoint
failing in each way an HTTP service can (timeout, 429 with Retry-After, 500, a body that is not JSON, an empty
choice list, a truncated answer, a closed connection, and one that never recovers), and a sandbox pod deleted
by someone else while its program runs. Every scenario asserts
that no code ran twice (one pod per iteration, from the pods' Scheduled Events), that no iteration was lost
(the iterations in status are 1..n and each that ran is in the audit trail), that no audit record is missing
(level5.safety.audit.completeness on the chain, which must verify) and that the task ends in its true
outcome. The module prints one table row per scenario at its end."""

from __future__ import annotations

import contextlib
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import (
    OperatorProcess,
    as_user,
    binding,
    program_running,
    status_of,
    task_pods,
    user_kubeconfig,
    wait_for,
    wait_terminal,
)
from kube import get_json, kubectl
from level5.safety.audit import completeness, verify
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster

ROWS: list[dict[str, object]] = []
EXIT0 = {"name": "exits-cleanly", "exitCode": 0}


@pytest.fixture(scope="module", autouse=True)
def table(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the scenarios' table once the module's tests ran (on the terminal, also without -s)."""
    yield
    columns = [
        "scenario",
        "tasks",
        "executions",
        "lost iterations",
        "missing audit records",
        "double executions",
    ]
    lines = [" | ".join(columns), *(" | ".join(str(row[c]) for c in columns) for row in ROWS)]
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print("\n" + "\n".join(lines), flush=True)


def create(namespace: str, manifest: dict[str, Any]) -> str:
    kubectl("create", "-n", namespace, "-f", "-", input=json.dumps(manifest))
    return str(manifest["metadata"]["name"])


def scheduled_pods(namespace: str) -> dict[str, set[str]]:
    """Each sandbox pod name and the UIDs of the pods of that name the scheduler placed: two UIDs for one
    name would be the same iteration's code run twice."""
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    found: dict[str, set[str]] = defaultdict(set)
    for event in events:
        target = event.get("involvedObject") or {}
        if target.get("kind") == "Pod" and event.get("reason") == "Scheduled":
            found[target["name"]].add(target["uid"])
    return found


def record(
    scenario: str, operator: OperatorProcess, namespace: str, outcomes: dict[str, str]
) -> dict[str, object]:
    """Check the scenario's tasks against the invariants, add its table row and return it."""
    lines = operator.audit_path.read_text().splitlines()
    assert verify(lines).ok, verify(lines)
    check = completeness(lines)
    lost = 0
    for name, expected in outcomes.items():
        status = status_of(namespace, name)
        assert status["phase"] == expected, (name, status.get("phase"), status.get("conditions"))
        iterations = [h["iteration"] for h in status.get("history", [])]
        lost += len(set(range(1, len(iterations) + 1)) - set(iterations))
        uid = json.loads(kubectl("get", "agenttask", name, "-n", namespace, "-o", "json"))["metadata"]["uid"]
        ran = {h["iteration"] for h in status.get("history", []) if h.get("podName")}
        audited = {int(step.split("/")[1]) for step in _launched(lines) if step.startswith(f"{uid}/")}
        lost += len(ran - audited)
    pods = scheduled_pods(namespace)
    row: dict[str, object] = {
        "scenario": scenario,
        "tasks": len(outcomes),
        "executions": sum(len(uids) for uids in pods.values()),
        "lost iterations": lost,
        "missing audit records": len(check.missing) + len(check.repeated),
        "double executions": sum(len(uids) - 1 for uids in pods.values()),
    }
    ROWS.append(row)
    assert row["lost iterations"] == row["missing audit records"] == row["double executions"] == 0, (
        row,
        check,
    )
    return row


def _launched(lines: list[str]) -> list[str]:
    steps = []
    for line in lines:
        record = json.loads(line)
        if record["kind"] == "launch":
            steps.append(str(record["data"]["step"]))
    return steps


def restart(operator: OperatorProcess) -> None:
    operator.kill()  # SIGKILL, to the whole process group
    operator.start()


def test_operator_killed_at_each_step(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    # While the model answers (Generating): the answer comes late, the operator dies waiting for it.
    model.add(
        {"match": "chaos-generating", "content": code("print('generated')"), "delay": 6},
        {"match": "chaos-generating", "content": code("print('generated')")},
        {"match": "chaos-running", "content": code("import time\ntime.sleep(15)\nprint('ran once')")},
    )
    generating = create(namespace, task("generating", "Print a line (chaos-generating).", [EXIT0]))
    wait_for(lambda: any("chaos-generating" in p for p in model.prompts()), 120, "the model to be asked")
    restart(operator)
    running = create(namespace, task("running", "Print a line (chaos-running).", [EXIT0]))
    wait_for(lambda: bool(task_pods(namespace, running)), 120, "the sandbox pod")
    restart(operator)
    for name in (generating, running):
        assert wait_terminal(namespace, name)["phase"] == "Succeeded"
    record(
        "operator SIGKILL: Generating, Running",
        operator,
        namespace,
        {generating: "Succeeded", running: "Succeeded"},
    )


def test_operator_killed_while_an_approval_is_pending(
    operator: OperatorProcess, namespace: str, model: ScriptedModel, tmp_path: Path, chart_roles: None
) -> None:
    kubectl("create", "serviceaccount", "alice", "-n", namespace)
    kubectl("apply", "-n", namespace, "-f", "-",
            input=json.dumps(binding(namespace, "alice", "ClusterRole", "level5-approver")))  # fmt: skip
    alice = user_kubeconfig(tmp_path, namespace, "alice")
    model.add({"match": "chaos-approval", "content": code("print('approved')", confidence=0.2)})
    name = create(
        namespace, task("approval", "Print a line (chaos-approval).", [EXIT0], autonomy={"level": "A"})
    )

    def pending() -> str | None:
        found = json.loads(kubectl("get", "approvals", "-n", namespace, "-o", "json"))["items"]
        open_ = [a for a in found if (a.get("status") or {}).get("state") == "Pending"]
        return str(open_[0]["metadata"]["name"]) if open_ else None

    approval = wait_for(pending, 120, "the Approval")
    restart(operator)
    decided = as_user(alice, "patch", "approval", approval, "-n", namespace, "--type", "merge",
                      "-p", '{"spec":{"decision":"Approve"}}')  # fmt: skip
    assert decided.returncode == 0, decided.stderr
    assert wait_terminal(namespace, name)["phase"] == "Succeeded"
    record("operator SIGKILL: AwaitingApproval", operator, namespace, {name: "Succeeded"})


FAULTS: dict[str, dict[str, object]] = {
    "timeout": {"delay": 6},
    "429-retry-after": {"status": 429, "retryAfter": 1},
    "500": {"status": 500},
    "malformed-json": {"fault": "malformed"},
    "empty-choices": {"fault": "empty-choices"},
    "truncated": {"fault": "truncated"},
    "connection-closed": {"fault": "close"},
}


def test_model_endpoint_faults_are_retried_then_the_task_goes_on(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    operator.extra_env.update(
        {
            "LEVEL5_MODEL_TIMEOUT_SECONDS": "3",
            "LEVEL5_MODEL_RETRIES": "2",
            "LEVEL5_MODEL_BACKOFF_SECONDS": "0.5",
        }
    )
    restart(operator)
    for fault, reply in FAULTS.items():
        model.add({"match": f"chaos-{fault}.", **reply})
        model.add({"match": f"chaos-{fault}.", "content": code(f"print('{fault} survived')")})
        create(namespace, task(fault, f"Print a line (chaos-{fault}.).", [EXIT0]))
    model.add({"match": "chaos-down.", "status": 503, "repeat": True})
    down = create(namespace, task("down", "Print a line (chaos-down.).", [EXIT0]))
    outcomes = {fault: "Succeeded" for fault in FAULTS}
    for name in outcomes:
        wait_terminal(namespace, name)
    failed = wait_terminal(namespace, down)
    reason = next(c for c in failed["conditions"] if c["type"] == "Failed")["reason"]
    assert reason == "ModelUnavailable"
    events = json.loads(kubectl("get", "events", "-n", namespace, "-o", "json"))["items"]
    retried = {e["involvedObject"]["name"] for e in events if e.get("reason") == "ModelRetrying"}
    assert retried == {*FAULTS, down}
    record("model endpoint faults (7 kinds, and one that stays down)", operator, namespace,
           {**outcomes, down: "Failed"})  # fmt: skip


def test_a_sandbox_pod_deleted_mid_run_is_reported_as_such_and_the_task_goes_on(
    operator: OperatorProcess, namespace: str, model: ScriptedModel
) -> None:
    model.add(
        {"match": "chaos-deleted", "content": code("import time\ntime.sleep(60)\nprint('slow')")},
        {"match": "chaos-deleted", "content": code("print('quick')")},
    )
    name = create(namespace, task("deleted", "Print a line (chaos-deleted).", [EXIT0]))
    pod = wait_for(lambda: task_pods(namespace, name), 120, "the sandbox pod")[0]
    wait_for(lambda: program_running(get_json("pod", pod["metadata"]["name"], namespace)), 120, "the program")
    kubectl("delete", "pod", pod["metadata"]["name"], "-n", namespace, "--wait=false")
    status = wait_terminal(namespace, name)
    first = status["history"][0]
    assert "deleted before the program finished" in first["reason"], first
    assert "143" not in first["reason"]
    retry_prompt = [p for p in model.prompts() if "chaos-deleted" in p][-1]
    assert "not the program's fault" in retry_prompt
    record("sandbox pod deleted mid-run", operator, namespace, {name: "Succeeded"})
