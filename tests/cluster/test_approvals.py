"""People in the loop on the real cluster: Approvals decided through `kubectl level5` by real users
(service-account tokens with different RBAC), the admission webhook served by the operator stamping and
checking who decides, every decision kind, expiry, each escalation trigger, pause/resume and cancel.
Only the model's answers are scripted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
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
from kube import apply, get_json, kubectl
from scripted_model import ScriptedModel
from task_manifests import code, task

pytestmark = pytest.mark.cluster
OK = "print('ok')"


@dataclass
class People:
    """kubeconfigs of three real users of the namespace: carol creates tasks, alice approves, bob only
    views."""

    namespace: str
    carol: str
    alice: str
    bob: str

    def name(self, who: str) -> str:
        return f"system:serviceaccount:{self.namespace}:{who}"


@pytest.fixture
def people(namespace: str, tmp_path: Path, chart_roles: None) -> People:
    """Three service accounts with tokens, bound to a task-author Role and the chart's approver and viewer
    ClusterRoles."""
    for user in ("carol", "alice", "bob"):
        kubectl("create", "serviceaccount", user, "-n", namespace)
    apply(
        [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": "task-author", "namespace": namespace},
                "rules": [
                    {
                        "apiGroups": ["level5.dev"],
                        "resources": ["agenttasks", "approvals"],
                        "verbs": ["create", "get", "list", "watch", "patch"],
                    }
                ],
            },
            binding(namespace, "carol", "Role", "task-author"),
            binding(namespace, "alice", "ClusterRole", "level5-approver"),
            binding(namespace, "bob", "ClusterRole", "level5-viewer"),
        ],
        namespace,
    )
    configs = {user: user_kubeconfig(tmp_path, namespace, user) for user in ("carol", "alice", "bob")}
    return People(namespace=namespace, **configs)


def level5(kubeconfig: str | None, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`kubectl level5 ...` as a kubectl plugin (kubectl finds kubectl-level5 on PATH)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    user = ["--kubeconfig", kubeconfig] if kubeconfig else []
    proc = subprocess.run(
        ["kubectl", "level5", *user, *args], capture_output=True, text=True, env=env, check=False, timeout=60
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl level5 {' '.join(args)} failed: {proc.stderr}")
    return proc


def create_task(people: People, manifest: dict[str, Any]) -> str:
    """Carol creates the task (so the webhook records her as its creator)."""
    made = as_user(people.carol, "create", "-f", "-", input=json.dumps(manifest))
    assert made.returncode == 0, made.stderr
    return str(manifest["metadata"]["name"])


def waiting_approval(namespace: str, name: str, iteration: int) -> str:
    def pending() -> str | None:
        status = status_of(namespace, name)
        current = status.get("current") or {}
        if status.get("phase") == "AwaitingApproval" and current.get("iteration") == iteration:
            return str(status["approval"])
        return None

    approval: str = wait_for(pending, 180, f"{name} to wait for an Approval in iteration {iteration}")
    return approval


def supervised(name: str, **spec: object) -> dict[str, Any]:
    """A task asking to print ok, at autonomy level A unless `autonomy` says otherwise."""
    spec.setdefault("autonomy", {"level": "A"})
    return task(name, "Print ok.", [{"name": "ok", "outputContains": "ok"}], **spec)


def test_level_a_waits_for_a_person_and_only_real_approvers_decide(
    operator: OperatorProcess, model: ScriptedModel, people: People
) -> None:
    ns = people.namespace
    model.add(
        {"match": "Write the program", "content": code("print('OK', 1)")},
        {"match": "print the word ok in lower case", "content": code("print('ok', 2)")},
        {"match": "use a single print of the literal", "content": code(OK)},
    )
    name = create_task(people, supervised("approve-me"))
    meta = get_json("agenttask", name, ns)["metadata"]
    assert meta["annotations"]["level5.dev/created-by"] == people.name("carol")
    first = waiting_approval(ns, name, 1)
    assert not task_pods(ns, name), "code ran before a person approved it"
    approval = get_json("approval", first, ns)
    assert approval["spec"]["code"].strip() == "print('OK', 1)" and approval["spec"][
        "taskCreator"
    ] == people.name("carol")
    assert approval["metadata"]["ownerReferences"][0]["name"] == name

    listing = level5(people.alice, "-n", ns, "pending").stdout
    assert first in listing and name in listing
    # bob may look but not decide: the API server says Forbidden.
    denied = level5(people.bob, "-n", ns, "approve", first, check=False)
    assert denied.returncode == 1 and "not allowed" in denied.stderr and "forbidden" in denied.stderr.lower()
    # carol created the task: the webhook refuses her approval of its code.
    selfish = level5(people.carol, "-n", ns, "approve", name, check=False)
    assert selfish.returncode == 1 and "may not decide" in selfish.stderr
    # A decision naming someone else as decider is refused.
    forged = json.dumps({"spec": {"decision": "Approve", "decidedBy": people.name("bob")}})
    spoof = as_user(people.alice, "patch", "approval", first, "-n", ns, "--type", "merge", "-p", forged)
    assert spoof.returncode != 0 and "decidedBy" in spoof.stderr

    level5(people.alice, "-n", ns, "reject", name, "--reason", "print the word ok in lower case")
    rejected = get_json("approval", first, ns)
    assert rejected["spec"]["decidedBy"] == people.name("alice") and rejected["spec"]["decidedAt"]
    final_again = as_user(people.alice, "patch", "approval", first, "-n", ns, "--type", "merge", "-p",
                          '{"spec":{"decision":"Approve"}}')  # fmt: skip
    assert final_again.returncode != 0 and "final" in final_again.stderr

    second = waiting_approval(ns, name, 2)
    assert "print the word ok in lower case" in model.prompts()[-1]
    level5(people.alice, "-n", ns, "guide", name, "--hint", "use a single print of the literal")
    waiting_approval(ns, name, 3)
    assert "use a single print of the literal" in model.prompts()[-1]
    assert get_json("approval", second, ns)["spec"]["decision"] == "Guide"
    level5(people.alice, "-n", ns, "approve", name)
    status = wait_terminal(ns, name)
    assert status["phase"] == "Succeeded" and status["iteration"] == 3
    assert [h["reason"] for h in status["history"][:2]] == [
        f"Rejected by {people.name('alice')}",
        f"Guided by {people.name('alice')}",
    ]
    history = level5(None, "-n", ns, "history", name).stdout
    assert "Rejected by" in history and "AllCriteriaPassed" in history
    assert "ok" in level5(None, "-n", ns, "logs", name).stdout
    assert level5(None, "-n", ns, "pending").stdout.strip() == "no Approvals are waiting"
    assert "no AgentTask named 'nope'" in level5(None, "-n", ns, "history", "nope", check=False).stderr


def test_constrain_override_and_tightening(
    operator: OperatorProcess, model: ScriptedModel, people: People, tmp_path: Path
) -> None:
    ns = people.namespace
    model.add(
        {"match": "Write the program", "content": code("print('first')")},
        {"match": "never print the word first", "content": code("print('second')")},
    )
    name = create_task(people, supervised("steer-me"))
    waiting_approval(ns, name, 1)
    # Loosening a running task is refused with the field named; tightening it is fine.
    looser = as_user(people.alice, "patch", "agenttask", name, "-n", ns, "--type", "merge", "-p",
                     '{"spec":{"capabilities":{"maxLines":4000}}}')  # fmt: skip
    assert looser.returncode != 0 and "spec.capabilities.maxLines" in looser.stderr
    level5(people.alice, "-n", ns, "constrain", name, "--constraint", "never print the word first")
    waiting_approval(ns, name, 2)
    assert "never print the word first" in model.prompts()[-1]
    tighter = as_user(people.alice, "patch", "agenttask", name, "-n", ns, "--type", "merge", "-p",
                      '{"spec":{"capabilities":{"maxLines":100}}}')  # fmt: skip
    assert tighter.returncode == 0, tighter.stderr
    mine = tmp_path / "mine.py"
    mine.write_text("print('ok from alice')\n")
    level5(people.alice, "-n", ns, "override", name, "--file", str(mine))
    status = wait_terminal(ns, name)
    assert status["phase"] == "Succeeded" and status["iteration"] == 3
    assert status["history"][1]["reason"] == f"Overridden by {people.name('alice')}"
    assert "ok from alice" in status["result"]["stdoutExcerpt"]
    assert status["interventions"]["constraints"] == ["never print the word first"]
    assert status["history"][2]["reviewVerdict"] == "allow"  # the person's code was reviewed too


def test_an_unanswered_approval_expires_and_the_task_fails(
    operator: OperatorProcess, model: ScriptedModel, people: People
) -> None:
    ns = people.namespace
    model.add({"match": "Write the program", "content": code(OK)})
    name = create_task(people, supervised("expire-me", autonomy={"level": "A", "approvalTimeoutSeconds": 10}))
    approval = waiting_approval(ns, name, 1)
    status = wait_terminal(ns, name)
    assert status["phase"] == "Failed" and "expired" in status["message"]
    assert get_json("approval", approval, ns)["status"]["state"] == "Expired"
    late = level5(people.alice, "-n", ns, "approve", approval, check=False)
    assert late.returncode == 1 and "Expired" in late.stderr
    assert not task_pods(ns, name)


def test_each_escalation_trigger_fires(
    operator: OperatorProcess, model: ScriptedModel, people: People
) -> None:
    ns = people.namespace
    writes_and_fails = "with open('/output/notes.txt', 'w') as f:\n    f.write('x')\nprint({}['total'])"
    escalating = "import sys\nname = sys.argv[0][:0] + 'upper'\nprint(getattr('OK', name)().lower())"
    model.add(
        {"match": "Write the program", "content": code(writes_and_fails, 0.1, "which key holds the total")},
        {"match": "Attempt 1 failed", "content": code(writes_and_fails)},
        {"match": "Attempt 2 failed", "content": code(escalating)},
    )
    manifest = supervised(
        "trigger-me",
        autonomy={"level": "B", "escalation": {"timeFraction": 0.01}},
        capabilities={"files": {"write": ["/output/notes.txt"]}},
        iterations={"maxIterations": 4, "budgets": {"wallClockSeconds": 500}},
    )
    name = create_task(people, manifest)
    fired: dict[int, set[str]] = {}
    for iteration in (1, 2, 3):
        approval = waiting_approval(ns, name, iteration)
        fired[iteration] = {t["type"] for t in get_json("approval", approval, ns)["spec"]["triggers"]}
        level5(people.alice, "-n", ns, "approve", approval)
    status = wait_terminal(ns, name)
    assert status["phase"] == "Succeeded"
    assert {"LowConfidence", "Uncertainty", "Impact"} <= fired[1]
    assert {"Anomaly", "Stuck", "Time"} <= fired[3]
    assert set().union(*fired.values()) == {
        "LowConfidence",
        "Anomaly",
        "Impact",
        "Time",
        "Uncertainty",
        "Stuck",
    }
    reasons = kubectl("get", "events", "-n", ns, "--field-selector", f"involvedObject.name={name}",
                      "-o", "jsonpath={.items[*].reason}").split()  # fmt: skip
    assert {"LowConfidence", "Anomaly", "Impact", "Time", "Uncertainty", "Stuck"} <= set(reasons)
    conditions = {c["type"]: c for c in status["conditions"]}
    assert (
        conditions["Stuck"]["reason"] == "SameFailure"
        and conditions["Anomaly"]["reason"] == "ReviewEscalated"
    )


def test_pause_resume_and_cancel_through_the_plugin(
    operator: OperatorProcess, model: ScriptedModel, people: People
) -> None:
    ns = people.namespace
    sleepy = "import time\ntime.sleep(8)\nprint('not yet')"
    model.add(
        {"match": "Write the program", "content": code(sleepy)},
        {"match": "Attempt 1 failed", "content": code("import time\ntime.sleep(120)\nprint('ok')")},
    )
    name = create_task(people, task("pause-me", "Print ok.", [{"name": "ok", "outputContains": "ok"}],
                                    capabilities={"timeoutSeconds": 180}))  # fmt: skip
    wait_for(lambda: any(program_running(p) for p in task_pods(ns, name)), 180, "pod 1 running")
    level5(people.alice, "-n", ns, "pause", name)
    paused = wait_for(
        lambda: status_of(ns, name).get("phase") == "Paused" and status_of(ns, name), 120, "Paused"
    )
    assert paused["history"][0]["exitCode"] == 0  # the running pod finished and was evaluated first
    assert len(task_pods(ns, name)) == 1 and len(model.prompts()) == 1  # nothing new started
    level5(people.alice, "-n", ns, "resume", name)
    wait_for(lambda: len([p for p in task_pods(ns, name) if program_running(p)]) == 1
             and len(task_pods(ns, name)) == 2, 180, "pod 2 running")  # fmt: skip
    level5(people.alice, "-n", ns, "cancel", name)
    status = wait_terminal(ns, name)
    assert status["phase"] == "Cancelled" and status["history"][-1]["termination"] == "Cancelled"
    wait_for(lambda: len(task_pods(ns, name)) <= 1, 60, "the running pod to be deleted")
    conditions = {c["type"]: c["reason"] for c in status["conditions"]}
    assert conditions["Paused"] == "Resumed"


def _approval_states(namespace: str) -> Iterator[str]:  # used by the level C test below
    for item in json.loads(kubectl("get", "approvals", "-n", namespace, "-o", "json"))["items"]:
        yield item["status"]["state"]


def test_level_c_leaves_audit_items_that_a_person_reviews_later(
    operator: OperatorProcess, model: ScriptedModel, people: People
) -> None:
    ns = people.namespace
    model.add({"match": "Write the program", "content": code(OK)})
    name = create_task(people, supervised("audit-me", autonomy={"level": "C"}))
    assert wait_terminal(ns, name)["phase"] == "Succeeded"
    [state] = list(_approval_states(ns))
    assert state == "Review"
    items = level5(people.alice, "-n", ns, "pending", "--include-review").stdout
    assert name in items
    level5(people.alice, "-n", ns, "approve", "-l", f"level5.dev/task={name}")
    wait_for(lambda: list(_approval_states(ns)) == ["Applied"], 60, "the audit item to be recorded")
    guide = level5(
        people.alice, "-n", ns, "reject", "-l", f"level5.dev/task={name}", "--reason", "x", check=False
    )
    assert guide.returncode == 1 and "no undecided Approvals" in guide.stderr
