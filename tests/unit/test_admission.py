"""Admission rules: creators and deciders come from the API server, decisions are final and bound to their
Approval, and a running task's limits only tighten. Each denial names the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from level5.api.approval import ApprovalSpec, ApprovalState, ApprovalStatus, Decision
from level5.api.spec import AgentTaskSpec
from level5.people.admission import (
    CREATED_BY,
    AdmissionDenied,
    check_approval_create,
    check_approval_update,
    check_task_update,
    creator_annotation,
    decision_stamp,
    loosenings,
    webhook_configurations,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
OPEN = ApprovalStatus(state=ApprovalState.PENDING)


def task_spec(**extra: object) -> AgentTaskSpec:
    goal = {"primary": "x", "successCriteria": [{"name": "a", "exitCode": 0}], "constraints": ["c1"]}
    return AgentTaskSpec.model_validate({"goal": goal, **extra})


def approval(**extra: object) -> ApprovalSpec:
    base = {
        "taskName": "t",
        "iteration": 1,
        "codeSha256": "abc",
        "reviewVerdict": "allow",
        "taskCreator": "carol",
    }
    return ApprovalSpec.model_validate({**base, **extra})


def test_creator_is_the_caller_and_cannot_be_forged() -> None:
    assert creator_annotation("carol", {}) == {CREATED_BY: "carol"}
    assert creator_annotation("carol", {CREATED_BY: "carol"}) == {CREATED_BY: "carol"}
    with pytest.raises(AdmissionDenied, match="created-by"):
        creator_annotation("carol", {CREATED_BY: "alice"})
    with pytest.raises(AdmissionDenied, match="created-by"):
        check_task_update({CREATED_BY: "carol"}, {CREATED_BY: "alice"}, task_spec(), task_spec(), False)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            {"goal": {"primary": "x", "successCriteria": [{"name": "a", "exitCode": 0}]}},
            "spec.goal.constraints",
        ),
        ({"capabilities": {"maxLines": 500}}, "spec.capabilities.maxLines"),
        ({"capabilities": {"memory": "1Gi"}}, "spec.capabilities.memory"),
        ({"capabilities": {"allowedLibraries": ["requests"]}}, "spec.capabilities.allowedLibraries"),
        ({"capabilities": {"files": {"write": ["/output/*"]}}}, "spec.capabilities.files.write"),
        ({"iterations": {"maxIterations": 9}}, "spec.iterations.maxIterations"),
        ({"autonomy": {"level": "D"}}, "spec.autonomy.level"),
        ({"autonomy": {"level": "A", "escalation": {"triggers": []}}}, "spec.autonomy.escalation.triggers"),
    ],
)
def test_running_tasks_reject_loosening(change: dict[str, object], field: str) -> None:
    old = task_spec()
    new = AgentTaskSpec.model_validate({**old.model_dump(by_alias=True, exclude_none=True), **change})
    assert any(p.startswith(field) for p in loosenings(old, new)), loosenings(old, new)
    with pytest.raises(AdmissionDenied, match=field.replace(".", r"\.")):
        check_task_update({}, {}, old, new, running=True)
    check_task_update({}, {}, old, new, running=False)  # before it starts, anything goes


def test_tightening_is_allowed_while_running() -> None:
    old = task_spec(iterations={"budgets": {"tokens": 1000}})
    tighter = task_spec(
        goal={"primary": "x", "successCriteria": [{"name": "a", "exitCode": 0}], "constraints": ["c1", "c2"]},
        capabilities={"maxLines": 50, "memory": "128Mi"},
        iterations={"maxIterations": 2, "budgets": {"tokens": 500}},
        paused=True,
        guidance=["try harder"],
    )
    assert loosenings(old, tighter) == []
    unlimited = loosenings(old, task_spec())
    assert unlimited == [
        "spec.iterations.budgets.tokens: can only be lowered while the task runs (1000 -> None)"
    ]


def test_a_new_approval_carries_no_decision() -> None:
    check_approval_create(approval())
    with pytest.raises(AdmissionDenied, match="no decision"):
        check_approval_create(approval(decision="Approve", decidedBy="system:serviceaccount:x:y"))


def test_decision_is_stamped_with_the_caller_and_spoofing_is_refused() -> None:
    assert decision_stamp(approval(), approval(decision="Approve"), "alice", NOW) == {
        "decidedBy": "alice",
        "decidedAt": "2026-11-24T12:00:00Z",
    }
    with pytest.raises(AdmissionDenied, match="decidedBy"):
        decision_stamp(approval(), approval(decision="Approve", decidedBy="root"), "mallory", NOW)
    assert decision_stamp(approval(), approval(hint="x"), "alice", NOW) is None


def test_decision_rules() -> None:
    decided = approval(decision="Approve", decidedBy="alice")
    check_approval_update(approval(), OPEN, decided, "alice", False)
    with pytest.raises(AdmissionDenied, match="may not decide"):
        check_approval_update(approval(), OPEN, approval(decision="Approve"), "carol", False)
    check_approval_update(approval(), OPEN, approval(decision="Approve"), "carol", True)
    with pytest.raises(AdmissionDenied, match="final"):
        check_approval_update(
            decided, OPEN, approval(decision="Reject", reason="no", decidedBy="bob"), "bob", False
        )
    with pytest.raises(AdmissionDenied, match="Expired"):
        check_approval_update(
            approval(), ApprovalStatus(state=ApprovalState.EXPIRED), decided, "alice", False
        )
    with pytest.raises(AdmissionDenied, match="codeSha256"):
        check_approval_update(
            approval(), OPEN, approval(codeSha256="evil", decision=Decision.APPROVE), "alice", False
        )
    audit_item = approval(blocking=False)
    with pytest.raises(AdmissionDenied, match="Approve or Reject"):
        check_approval_update(
            audit_item, OPEN, approval(blocking=False, decision="Guide", hint="h"), "alice", False
        )


def test_webhook_configurations_route_every_handler() -> None:
    mutating, validating = webhook_configurations(
        "level5", lambda path: {"url": f"https://127.0.0.1:9443/{path}"}, {"matchLabels": {"a": "b"}}
    )
    assert mutating["kind"] == "MutatingWebhookConfiguration"
    urls = [w["clientConfig"]["url"] for c in (mutating, validating) for w in c["webhooks"]]
    assert sorted(u.rsplit("/", 1)[1] for u in urls) == [
        "mutate-agenttask", "mutate-approval", "validate-agenttask", "validate-approval",
    ]  # fmt: skip
    assert all(w["failurePolicy"] == "Fail" and w["namespaceSelector"] for w in validating["webhooks"])
