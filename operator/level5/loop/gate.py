"""The approval gate after the review: which escalation triggers fire, and whether a person must decide before
the code runs."""

from __future__ import annotations

from level5.api.approval import (
    FiredTrigger,
    approval_name,
)
from level5.api.spec import Trigger
from level5.api.status import (
    AgentTaskStatus,
    ConditionStatus,
    ConditionType,
    Phase,
)
from level5.loop.context import StepContext
from level5.loop.state_machine import (
    Action,
)
from level5.people import escalation


class GateStep(StepContext):
    """The approval gate after the review: which escalation triggers fire, and whether a person must decide
    before the code runs."""

    def _with_triggers(self, status: AgentTaskStatus, fired: list[FiredTrigger]) -> AgentTaskStatus:
        """One condition per trigger: True with its reason when it fired now, False when it did before."""
        by_type = {t.type: t for t in fired}
        for trigger in Trigger:
            hit = by_type.get(trigger)
            if hit is not None:
                self.journal.event(trigger.value, hit.message, warning=True)
                status = self._with_condition(status, trigger, ConditionStatus.TRUE, hit.reason, hit.message)
            elif any(c.type == trigger and c.status == ConditionStatus.TRUE for c in status.conditions):
                status = self._with_condition(
                    status,
                    trigger,
                    ConditionStatus.FALSE,
                    "NotFired",
                    f"not fired in iteration {status.iteration}",
                )
        return status

    async def _gate(self, action: Action) -> None:
        """Decide whether a person must approve this code before it runs (autonomy level, triggers)."""
        current = self.status.current
        assert current is not None and current.code_config_map is not None and current.code_sha256 is not None
        code = await self._code(current.code_config_map) or ""
        gate, needs_human = escalation.gate(self.spec, self.status, code, self.clock())
        await self._audit(
            "gate",
            action.iteration,
            {
                "code_sha256": current.code_sha256,
                "level": self.spec.autonomy.level.value,
                "confidence": gate.confidence,
                "triggers": [t.model_dump(mode="json") for t in gate.triggers],
                "needs_approval": needs_human,
            },
        )
        status = self._with_triggers(self.status, gate.triggers)
        name = approval_name(self.task.name, action.iteration, current.code_sha256)
        if not needs_human:
            current = current.model_copy(update={"gate": gate})
            self._stage(
                status.model_copy(update={"current": current}),
                Phase.EXECUTING,
                "Executing",
                f"iteration {action.iteration}: review passed, no approval needed",
            )
            return
        for trigger in gate.triggers:
            self.metrics.escalated(trigger.type)
        current = current.model_copy(update={"gate": gate.model_copy(update={"approval": name})})
        why = (
            ", ".join(t.type.value for t in gate.triggers)
            or f"autonomy level {self.spec.autonomy.level.value}"
        )
        message = f"iteration {action.iteration}: waiting for Approval {name} ({why})"
        status = self._with_condition(
            status, ConditionType.AWAITING_APPROVAL, ConditionStatus.TRUE, "ApprovalRequired", message
        )
        await self._save(
            status.model_copy(update={"current": current, "approval": name}),
            Phase.AWAITING_APPROVAL,
            "AwaitingApproval",
            message,
        )
