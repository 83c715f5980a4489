"""People deciding: the Approval for an iteration, waiting for its decision, and applying Approve, Reject,
Guide, Constrain, Override or expiry; level C audit items."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from datetime import timedelta

from level5.api.approval import (
    ApprovalObject,
    ApprovalSpec,
    ApprovalState,
    Decision,
    approval_name,
)
from level5.api.spec import AutonomyLevel, TimeoutAction
from level5.api.status import (
    ConditionStatus,
    ConditionType,
    CurrentIteration,
    Phase,
)
from level5.loop.context import StepContext, _waited
from level5.loop.state_machine import (
    Action,
    ActionKind,
    finish_iteration,
)
from level5.sandbox.manifests import sandbox_pod_name

_PAST = {Decision.REJECT: "Rejected", Decision.GUIDE: "Guided", Decision.CONSTRAIN: "Constrained"}


class ApprovalSteps(StepContext):
    """People deciding: the Approval for an iteration, waiting for its decision, and applying Approve,
    Reject, Guide, Constrain, Override or expiry; level C audit items."""

    async def _approval_spec(self, current: CurrentIteration, blocking: bool) -> ApprovalSpec:
        """The decision point of the current code, as the Approval carries it."""
        assert current.code_config_map is not None and current.code_sha256 is not None
        code = await self._code(current.code_config_map) or ""
        autonomy = self.spec.autonomy
        gate = current.gate
        return ApprovalSpec(
            task_name=self.task.name,
            iteration=current.iteration,
            code_sha256=current.code_sha256,
            code=code,
            review_verdict=current.review.verdict if current.review else "allow",
            review_findings=current.review.rules if current.review else [],
            triggers=gate.triggers if gate else [],
            confidence=gate.confidence if gate else None,
            blocking=blocking,
            timeout_action=autonomy.timeout_action,
            expires_at=self.clock() + timedelta(seconds=autonomy.approval_timeout_seconds)
            if blocking
            else None,
            task_creator=self.creator,
        )

    async def _await_approval(self, action: Action) -> None:
        """Wait for a decision on the gate's Approval (created here if missing), then carry it out; an
        undecided one expires into its timeout action."""
        current = self.status.current
        assert current is not None and current.gate is not None and current.gate.approval is not None
        name = current.gate.approval
        # Armed before the read: a decision arriving in between still wakes the wait below.
        changed = self.wakeups.arm("approval", self.task.uid)
        # Read first: this runs on every wake-up, and building the spec reads the code ConfigMap.
        found = await self.approvals.read(self.task.namespace, name)
        if found is None:
            found = await self.approvals.ensure(
                self.task, name, await self._approval_spec(current, True), ApprovalState.PENDING, self.clock()
            )
        if found.spec.code_sha256 != current.code_sha256:
            message = (
                f"Approval {name} is about code {found.spec.code_sha256[:12]}, not {current.code_sha256}"
            )
            await self._fail(Action(kind=ActionKind.FAIL, reason="ApprovalMismatch", message=message))
            return
        if found.spec.decision is not None and found.spec.decided_by:
            await self._apply_decision(found)
            return
        if found.spec.decision is not None and not self._unstamped_warned:
            # Only the admission webhook's stamp says who decided; without it the decision cannot be trusted.
            self._unstamped_warned = True
            self.journal.event(
                "UnstampedDecision",
                f"Approval {name} has a decision but no decidedBy stamp, so it is ignored: the admission "
                "webhook must be configured (LEVEL5_WEBHOOK_CERT_DIR and the webhook configurations)",
                warning=True,
            )
        timeout = None
        if found.status.state is not ApprovalState.ESCALATED and found.spec.expires_at is not None:
            timeout = (found.spec.expires_at - self.clock()).total_seconds()
            if timeout <= 0:
                await self._expired(found)
                return
        with contextlib.suppress(TimeoutError):  # an expired wait: the next pass finds it expired
            await asyncio.wait_for(changed.wait(), timeout)

    async def _apply_decision(self, approval: ApprovalObject) -> None:
        """Carry out a person's decision on the current code."""
        current = self.status.current
        assert current is not None and current.gate is not None
        spec = approval.spec
        decision, by = spec.decision, spec.decided_by or ""
        assert decision is not None
        await self._audit(
            "decision",
            current.iteration,
            {
                "approval": approval.name,
                "decision": decision.value,
                "decided_by": by,
                "decided_at": spec.decided_at.isoformat() if spec.decided_at else None,
                "code_sha256": spec.code_sha256,
                "reason": spec.reason,
                "hint": spec.hint,
                "constraints": spec.constraints,
                "override_sha256": hashlib.sha256(spec.override_code.encode()).hexdigest()
                if spec.override_code
                else None,
            },
        )
        # Marked applied first: a crash after this re-applies the same decision, which is idempotent.
        await self.approvals.set_state(
            self.task.namespace,
            approval.name,
            ApprovalState.APPLIED,
            f"{decision.value} carried out",
            self.clock(),
        )
        message = f"iteration {current.iteration}: {decision.value} by {by}"
        self.metrics.approval_decided(decision, _waited(approval, spec.decided_at or self.clock()))
        self.journal.event(f"Approval{decision.value}", message, warning=decision is Decision.REJECT)
        gate = current.gate.model_copy(update={"decision": decision, "decided_by": by})
        status = self._with_condition(
            self.status, ConditionType.AWAITING_APPROVAL, ConditionStatus.FALSE, decision.value, message
        )
        status = (
            self._with_condition(
                status, ConditionType.ESCALATED, ConditionStatus.FALSE, decision.value, message
            )
            if any(c.type == ConditionType.ESCALATED for c in status.conditions)
            else status
        )
        status = status.model_copy(
            update={"approval": None, "current": current.model_copy(update={"gate": gate})}
        )
        self.status = status
        if decision is Decision.APPROVE:
            approved = status.current.model_copy(update={"approved_code_sha256": current.code_sha256})  # type: ignore[union-attr]
            await self._save(
                status.model_copy(update={"current": approved}), Phase.EXECUTING, "Approved", message
            )
            return
        if decision is Decision.OVERRIDE:
            await self._override(spec.override_code or "", by)
            return
        interventions = status.interventions
        if decision is Decision.GUIDE:
            interventions = interventions.model_copy(
                update={"hints": [*interventions.hints, spec.hint or ""][-32:]}
            )
            told = f"A person did not run this program and gave this guidance: {spec.hint}"
        elif decision is Decision.CONSTRAIN:
            interventions = interventions.model_copy(
                update={"constraints": [*interventions.constraints, *spec.constraints][-32:]}
            )
            told = "A person did not run this program and added constraints:\n" + "\n".join(
                f"- {c}" for c in spec.constraints
            )
        else:
            told = f"A person rejected this program, so it was not run. Their reason: {spec.reason}"
        self.status = status.model_copy(update={"interventions": interventions})
        entry = self._entry(self.status.current, reason=f"{_PAST[decision]} by {by}"[:1024], signature=None)  # type: ignore[arg-type]
        await self._close_iteration(entry, told, None, decision)

    async def _override(self, code: str, by: str) -> None:
        """A person's replacement program: the current iteration ends unrun and the next one starts with this
        code, already approved (it is still reviewed before it runs)."""
        current = self.status.current
        assert current is not None
        iteration = current.iteration + 1
        sha = hashlib.sha256(code.encode()).hexdigest()
        pod_name = sandbox_pod_name(self.task, iteration)
        config_map = await self._store_code(pod_name, iteration, code)
        await self._audit(
            "code", iteration, {"sha256": sha, "code": await self._redacted(code), "written_by": by}
        )
        entry = self._entry(current, reason=f"Overridden by {by}"[:1024], signature=None)
        closed = finish_iteration(self.status, entry, self.clock())
        now = self.clock()
        override = CurrentIteration(
            iteration=iteration,
            started_at=now,
            code_sha256=sha,
            code_config_map=config_map,
            pod_name=pod_name,
            approved_code_sha256=sha,
        )
        await self._save(
            closed.model_copy(update={"iteration": iteration, "current": override, "feedback": None}),
            Phase.REVIEWING,
            "Overridden",
            f"iteration {iteration}: reviewing the code {by} supplied",
        )
        self.metrics.iteration_finished(entry, Decision.OVERRIDE)

    async def _expired(self, approval: ApprovalObject) -> None:
        """Nobody decided in time: reject (the task fails) or escalate (it stays open, without expiry)."""
        action = approval.spec.timeout_action
        iteration = approval.spec.iteration
        self.metrics.approval_expired(_waited(approval, self.clock()))
        await self._audit("approval-expired", iteration, {"approval": approval.name, "action": action.value})
        if action is TimeoutAction.REJECT:
            await self.approvals.set_state(
                self.task.namespace,
                approval.name,
                ApprovalState.EXPIRED,
                "expired: task failed",
                self.clock(),
            )
            message = f"Approval {approval.name} expired without a decision; the code was not run"
            await self._fail(
                Action(kind=ActionKind.FAIL, iteration=iteration, reason="ApprovalExpired", message=message)
            )
            return
        await self.approvals.set_state(
            self.task.namespace,
            approval.name,
            ApprovalState.ESCALATED,
            "expired: escalated, still open",
            None,
        )
        message = f"Approval {approval.name} expired without a decision; escalated and still open"
        self.journal.event("Escalated", message, warning=True)
        status = self._with_condition(
            self.status, ConditionType.ESCALATED, ConditionStatus.TRUE, "ApprovalExpired", message
        )
        await self._save(status, Phase.ESCALATED, "Escalated", message)

    async def _audit_item(self, current: CurrentIteration) -> None:
        """Level C: a non-blocking Approval in state Review about code that ran, for periodic human review."""
        if self.spec.autonomy.level is not AutonomyLevel.C or current.code_sha256 is None:
            return
        name = approval_name(self.task.name, current.iteration, current.code_sha256)
        await self.approvals.ensure(
            self.task, name, await self._approval_spec(current, False), ApprovalState.REVIEW, self.clock()
        )
        interventions = self.status.interventions
        self.status = self.status.model_copy(
            update={
                "interventions": interventions.model_copy(
                    update={"audit_items": interventions.audit_items + 1}
                )
            }
        )
