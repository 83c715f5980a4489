"""Admission rules for AgentTasks and Approvals, as pure functions the kopf webhook handlers call.

Trust comes from the API server: the creator of a task and the person deciding an Approval are taken from
the authenticated user of the request, never from the object. A task's creator is stamped into an
annotation at creation; a decision is stamped with who made it and when, and is final. While a task runs,
its limits can only be tightened. Each denial names the field and the fix, since kubectl prints it as is.
Also here: the webhook configurations that route these requests to the operator."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from level5.api.approval import ApprovalSpec, ApprovalStatus, Decision
from level5.api.crdgen import APPROVAL_PLURAL, GROUP, PLURAL, VERSION
from level5.api.spec import AgentTaskSpec, AutonomyLevel, quantity_value

CREATED_BY = "level5.dev/created-by"
"""Annotation with the user who created an AgentTask, stamped by the mutating webhook."""

_SPEC_OR_ANNOTATIONS_CHANGED = (
    "object.spec != oldObject.spec || "
    "(has(object.metadata.annotations) ? object.metadata.annotations : {}) != "
    "(has(oldObject.metadata.annotations) ? oldObject.metadata.annotations : {})"
)
_CREATE_OR_SPEC_CHANGED = "request.operation == 'CREATE' || object.spec != oldObject.spec"

WEBHOOK_PATHS: dict[str, tuple[str, bool, list[str], str | None]] = {
    "mutate-agenttask": (PLURAL, True, ["CREATE"], None),
    "validate-agenttask": (PLURAL, False, ["UPDATE"], _SPEC_OR_ANNOTATIONS_CHANGED),
    "mutate-approval": (APPROVAL_PLURAL, True, ["CREATE", "UPDATE"], _CREATE_OR_SPEC_CHANGED),
    "validate-approval": (APPROVAL_PLURAL, False, ["UPDATE"], _CREATE_OR_SPEC_CHANGED),
}
"""kopf handler id (also the URL path) -> (resource, mutating, operations, match condition). The match
conditions let metadata-only writes (finalizers, labels, kopf's bookkeeping) through without the operator,
so a task can still be deleted, and its finalizer removed, while the operator is down."""

DECISION_FIELDS = ("decision", "reason", "override_code", "hint", "constraints", "decided_by", "decided_at")


class AdmissionDenied(Exception):
    """The request breaks a rule; the message is what the user sees."""


def _deny_if(problems: Sequence[str]) -> None:
    if problems:
        raise AdmissionDenied("; ".join(problems))


# -- AgentTask -------------------------------------------------------------------------------------------


def creator_annotation(username: str, annotations: Mapping[str, str]) -> dict[str, str]:
    """The annotations to stamp on a new task; a client-supplied creator other than the caller is refused."""
    supplied = annotations.get(CREATED_BY)
    if supplied is not None and supplied != username:
        raise AdmissionDenied(
            f"metadata.annotations[{CREATED_BY}]: set by the API server to the creating user; remove it"
        )
    return {CREATED_BY: username}


def check_task_update(
    old_annotations: Mapping[str, str],
    new_annotations: Mapping[str, str],
    old_spec: AgentTaskSpec,
    new_spec: AgentTaskSpec,
    running: bool,
) -> None:
    """The creator annotation never changes; while the task runs, its limits only tighten."""
    if old_annotations.get(CREATED_BY) != new_annotations.get(CREATED_BY):
        raise AdmissionDenied(f"metadata.annotations[{CREATED_BY}]: records who created the task; keep it")
    if running:
        _deny_if(loosenings(old_spec, new_spec))


_LEVEL_ORDER = {level: rank for rank, level in enumerate(AutonomyLevel)}


def _more(old: float | None, new: float | None) -> bool:
    """True when `new` allows more than `old` (None means unlimited)."""
    if old is None:
        return False
    return new is None or new > old


def _added(old: Sequence[str], new: Sequence[str]) -> list[str]:
    return sorted(set(new) - set(old))


def loosenings(old: AgentTaskSpec, new: AgentTaskSpec) -> list[str]:
    """Every way `new` gives a running task more room than `old`, as 'field: problem; fix' messages."""
    problems: list[str] = []
    fixed = "cannot change while the task runs; create a new AgentTask instead"
    if old.goal.primary != new.goal.primary:
        problems.append(f"spec.goal.primary: {fixed}")
    if old.goal.success_criteria != new.goal.success_criteria:
        problems.append(f"spec.goal.successCriteria: {fixed}")
    removed = sorted(set(old.goal.constraints) - set(new.goal.constraints))
    if removed:
        problems.append(
            f"spec.goal.constraints: constraints can only be added while the task runs (removed {removed})"
        )
    caps_old, caps_new = old.capabilities, new.capabilities
    if caps_old.language != caps_new.language:
        problems.append(f"spec.capabilities.language: {fixed}")
    for name, path in (("allowed_libraries", "allowedLibraries"),):
        extra = _added(getattr(caps_old, name), getattr(caps_new, name))
        if extra:
            problems.append(f"spec.capabilities.{path}: cannot add {extra} while the task runs (only remove)")
    for name in ("read", "write"):
        extra = _added(getattr(caps_old.files, name), getattr(caps_new.files, name))
        if extra:
            problems.append(f"spec.capabilities.files.{name}: cannot add {extra} while the task runs")
    if (caps_old.files.reference_data, caps_old.files.reference_data_claim) != (
        caps_new.files.reference_data,
        caps_new.files.reference_data_claim,
    ):
        problems.append(f"spec.capabilities.files reference data: {fixed}")
    numbers: list[tuple[str, float | None, float | None]] = [
        ("spec.capabilities.maxLines", caps_old.max_lines, caps_new.max_lines),
        ("spec.capabilities.timeoutSeconds", caps_old.timeout_seconds, caps_new.timeout_seconds),
        ("spec.capabilities.cpu", quantity_value(caps_old.cpu), quantity_value(caps_new.cpu)),
        ("spec.capabilities.memory", quantity_value(caps_old.memory), quantity_value(caps_new.memory)),
        (
            "spec.capabilities.ephemeralStorage",
            quantity_value(caps_old.ephemeral_storage),
            quantity_value(caps_new.ephemeral_storage),
        ),
        ("spec.iterations.maxIterations", old.iterations.max_iterations, new.iterations.max_iterations),
    ]
    budgets_old, budgets_new = old.iterations.budgets, new.iterations.budgets
    for name, path in (
        ("cpu_seconds", "cpuSeconds"),
        ("tokens", "tokens"),
        ("wall_clock_seconds", "wallClockSeconds"),
    ):
        numbers.append(
            (f"spec.iterations.budgets.{path}", getattr(budgets_old, name), getattr(budgets_new, name))
        )
    for path, before, after in numbers:
        if _more(before, after):
            problems.append(f"{path}: can only be lowered while the task runs ({before} -> {after})")
    if _LEVEL_ORDER[new.autonomy.level] > _LEVEL_ORDER[old.autonomy.level]:
        problems.append(
            f"spec.autonomy.level: can only move towards A while the task runs "
            f"({old.autonomy.level.value} -> {new.autonomy.level.value})"
        )
    dropped = sorted(set(old.autonomy.triggers()) - set(new.autonomy.triggers()))
    if dropped:
        problems.append(f"spec.autonomy.escalation.triggers: cannot remove {dropped} while the task runs")
    if new.autonomy.escalation.confidence_threshold < old.autonomy.escalation.confidence_threshold:
        problems.append(
            "spec.autonomy.escalation.confidenceThreshold: can only be raised while the task runs"
        )
    return problems


# -- Approval --------------------------------------------------------------------------------------------


def check_approval_create(spec: ApprovalSpec) -> None:
    """A new Approval is a question: it may not arrive with an answer."""
    given = [name for name in DECISION_FIELDS if getattr(spec, name) not in (None, [])]
    if given:
        raise AdmissionDenied(
            f"spec: a new Approval carries no decision (remove {given}); patch spec.decision afterwards"
        )


def decision_stamp(
    old: ApprovalSpec, new: ApprovalSpec, username: str, now: datetime
) -> dict[str, str] | None:
    """decidedBy/decidedAt for a request that makes the decision; a client-supplied decidedBy is refused."""
    if old.decision is not None or new.decision is None:
        return None
    if new.decided_by is not None and new.decided_by != username:
        raise AdmissionDenied("spec.decidedBy: set by the API server to the deciding user; remove it")
    return {"decidedBy": username, "decidedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


def check_approval_update(
    old: ApprovalSpec,
    old_status: ApprovalStatus,
    new: ApprovalSpec,
    username: str,
    allow_self_approval: bool,
) -> None:
    """Decision rules: the decision point never changes, a decision is made once, by someone other than the
    task's creator (unless allowed), while the Approval is open, and fits the Approval's kind."""
    request_fields = set(ApprovalSpec.model_fields) - set(DECISION_FIELDS)
    changed = sorted(
        ApprovalSpec.model_fields[f].alias or f for f in request_fields if getattr(old, f) != getattr(new, f)
    )
    if changed:
        raise AdmissionDenied(f"spec: {changed} describe the decision point and are set by the operator only")
    if old.decision is not None:
        if any(getattr(old, f) != getattr(new, f) for f in DECISION_FIELDS):
            raise AdmissionDenied(
                f"spec.decision: already decided ({old.decision.value} by {old.decided_by}); decisions are "
                "final"
            )
        return
    if new.decision is None:
        return
    if not old_status.state.open:
        raise AdmissionDenied(
            f"spec.decision: this Approval is {old_status.state.value} and takes no decision any more "
            "(see `kubectl level5 pending` for open ones)"
        )
    if not allow_self_approval and new.task_creator is not None and username == new.task_creator:
        raise AdmissionDenied(
            f"spec.decision: {username} created task {new.task_name} and may not decide its Approvals; ask "
            "another approver (or run the operator with LEVEL5_ALLOW_SELF_APPROVAL=true)"
        )
    if not new.blocking and new.decision not in (Decision.APPROVE, Decision.REJECT):
        raise AdmissionDenied(
            "spec.decision: this is an audit item about code that already ran; it takes Approve or Reject. "
            "To steer the task, patch its spec.guidance or spec.goal.constraints"
        )


# -- webhook configurations ------------------------------------------------------------------------------

ClientConfig = Callable[[str], dict[str, Any]]
"""Builds the clientConfig of one webhook from its handler id (the URL path)."""


def webhook_configurations(
    name: str, client_config: ClientConfig, namespace_selector: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The MutatingWebhookConfiguration and ValidatingWebhookConfiguration sending AgentTask and Approval
    creates and updates to the operator. failurePolicy Fail: without the operator, no decision is taken."""
    configurations = []
    for kind, mutating in (("MutatingWebhookConfiguration", True), ("ValidatingWebhookConfiguration", False)):
        webhooks = []
        for handler_id, (resource, is_mutating, operations, condition) in WEBHOOK_PATHS.items():
            if is_mutating != mutating:
                continue
            webhook: dict[str, Any] = {
                "name": f"{handler_id}.{GROUP}",
                "admissionReviewVersions": ["v1"],
                "sideEffects": "None",
                "failurePolicy": "Fail",
                "matchPolicy": "Equivalent",
                "timeoutSeconds": 10,
                "clientConfig": client_config(handler_id),
                "rules": [
                    {
                        "apiGroups": [GROUP],
                        "apiVersions": [VERSION],
                        "resources": [resource],
                        "operations": operations,
                        "scope": "Namespaced",
                    }
                ],
            }
            if condition is not None:
                webhook["matchConditions"] = [{"name": "decision-relevant", "expression": condition}]
            if mutating:
                webhook["reinvocationPolicy"] = "Never"
            if namespace_selector is not None:
                webhook["namespaceSelector"] = dict(namespace_selector)
            webhooks.append(webhook)
        configurations.append(
            {
                "apiVersion": "admissionregistration.k8s.io/v1",
                "kind": kind,
                "metadata": {"name": name},
                "webhooks": webhooks,
            }
        )
    return configurations
