"""The Approval resource: one human decision point of an AgentTask. The operator creates it (task,
iteration, the code and its hash, review findings, fired triggers, expiry); a person patches spec.decision
and its details; the admission webhook stamps who decided. These pydantic models are the CRD schema, like
spec.py and status.py for AgentTask."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from level5.api.spec import CrdModel, ShortText, TimeoutAction, Trigger

MAX_APPROVAL_CODE = 200_000
"""Longest code an Approval carries inline (it also names the ConfigMap holding it)."""


class Decision(StrEnum):
    """What a person decided."""

    APPROVE = "Approve"
    """Run this exact code (bound to spec.codeSha256)."""
    REJECT = "Reject"
    """Do not run it; spec.reason is told to the model and the next iteration starts."""
    OVERRIDE = "Override"
    """Run spec.overrideCode instead; it is reviewed again before it runs."""
    GUIDE = "Guide"
    """Do not run it; generate again with spec.hint."""
    CONSTRAIN = "Constrain"
    """Do not run it; spec.constraints apply to this and every later generation."""


class FiredTrigger(CrdModel):
    """One escalation trigger that fired, and why."""

    type: Trigger
    """LowConfidence, Anomaly, Impact, Time, Uncertainty or Stuck."""
    reason: str = Field(max_length=128)
    """CamelCase detail, e.g. ReviewEscalated or WritesFiles."""
    message: str = Field(default="", max_length=2048)
    """Human-readable explanation."""


class ApprovalSpec(CrdModel):
    """The decision point (written by the operator, immutable) and the decision (written once by a person)."""

    task_name: str = Field(max_length=253)
    """The AgentTask waiting on this decision."""
    iteration: int = Field(ge=1)
    """Iteration of the task the code belongs to."""
    code_sha256: str = Field(max_length=64)
    """SHA-256 of the code under decision; a decision applies only while the task's code has this hash."""
    code: str = Field(default="", max_length=MAX_APPROVAL_CODE)
    """The code under decision."""
    review_verdict: str = Field(max_length=16)
    """Verdict of the pre-execution review: allow or escalate."""
    review_findings: list[ShortText] = Field(default_factory=list, max_length=64)
    """Review findings as 'RULE line N: message'."""
    triggers: list[FiredTrigger] = Field(default_factory=list, max_length=6)
    """Escalation triggers that fired (level A asks even when none did)."""
    confidence: float | None = None
    """Combined confidence of this code (self-report, review, scores so far), 0..1."""
    blocking: bool = True
    """True: the task waits for the decision. False: an audit item (level C) about code that already ran."""
    timeout_action: TimeoutAction = TimeoutAction.REJECT
    """What happens when expiresAt passes without a decision."""
    expires_at: datetime | None = None
    """When an undecided blocking Approval expires."""
    task_creator: str | None = Field(default=None, max_length=512)
    """The user who created the task (stamped by the admission webhook); they may not decide unless the
    operator allows self-approval."""
    decision: Decision | None = None
    """Set by a person: Approve, Reject, Override, Guide or Constrain. Immutable once set."""
    reason: str | None = Field(default=None, max_length=4096)
    """Why; required with Reject."""
    override_code: str | None = Field(default=None, min_length=1, max_length=MAX_APPROVAL_CODE)
    """Replacement program; required with Override."""
    hint: str | None = Field(default=None, min_length=1, max_length=4096)
    """Guidance for the next generation; required with Guide."""
    constraints: list[ShortText] = Field(default_factory=list, max_length=16)
    """Constraints added from now on; required with Constrain."""
    decided_by: str | None = Field(default=None, max_length=512)
    """Who decided: stamped from the API server's authenticated user by the admission webhook."""
    decided_at: datetime | None = None
    """When the decision was made, stamped by the admission webhook."""


class ApprovalState(StrEnum):
    """Where an Approval stands."""

    PENDING = "Pending"
    """A blocking decision is awaited."""
    REVIEW = "Review"
    """A non-blocking audit item awaits review."""
    ESCALATED = "Escalated"
    """It expired with timeoutAction Escalate; it stays open without expiry."""
    APPLIED = "Applied"
    """The decision was carried out."""
    EXPIRED = "Expired"
    """Nobody decided in time; the timeout action was taken."""
    SUPERSEDED = "Superseded"
    """The task moved on (cancelled, finished or the code changed) before a decision."""

    @property
    def open(self) -> bool:
        """True while a decision can still be made."""
        return self in {ApprovalState.PENDING, ApprovalState.REVIEW, ApprovalState.ESCALATED}


class ApprovalStatus(CrdModel):
    """Observed state of an Approval, written only by the operator."""

    state: ApprovalState = ApprovalState.PENDING
    """Pending, Review, Escalated, Applied, Expired or Superseded."""
    message: str = Field(default="", max_length=4096)
    """What the operator did with the decision."""
    applied_at: datetime | None = None
    """When the operator carried the decision out."""


class ApprovalObject(BaseModel):
    """An Approval as read from the API."""

    name: str
    spec: ApprovalSpec
    status: ApprovalStatus
    created_at: datetime | None = None
    """metadata.creationTimestamp."""

    @classmethod
    def from_object(cls, raw: Mapping[str, Any]) -> ApprovalObject:
        """Parse an Approval as the API (or a watch event) returns it."""
        meta = raw.get("metadata") or {}
        return cls(
            name=meta["name"],
            spec=ApprovalSpec.model_validate(raw.get("spec") or {}),
            status=ApprovalStatus.model_validate(raw.get("status") or {}),
            created_at=meta.get("creationTimestamp"),
        )


APPROVAL_LABEL_TASK_UID = "level5.dev/task-uid"
APPROVAL_LABEL_TASK = "level5.dev/task"
APPROVAL_LABEL_STATE = "level5.dev/state"
"""Labels for batch review: `kubectl get approvals -l level5.dev/state=pending`."""


def approval_name(task_name: str, iteration: int, code_sha256: str) -> str:
    """Deterministic name of the Approval for one code version of one iteration."""
    return f"{task_name[:200]}-{iteration}-{code_sha256[:10]}"


def task_label(task_name: str) -> str:
    """The task name as a label value (at most 63 characters; long names are shortened with a hash)."""
    if len(task_name) <= 63:
        return task_name
    return f"{task_name[:52]}-{hashlib.sha256(task_name.encode()).hexdigest()[:10]}"
