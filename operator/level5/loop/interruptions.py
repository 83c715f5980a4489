"""Interruptions of a running task: pause (and resume), cancel and the operator-wide emergency stop."""

from __future__ import annotations

import asyncio

from level5.api.spec import PauseMode
from level5.api.status import (
    ConditionStatus,
    ConditionType,
    Phase,
    Termination,
)
from level5.loop.context import StepContext


class Interruptions(StepContext):
    """Interruptions of a running task: pause (and resume), cancel and the operator-wide emergency stop."""

    async def _pause(self) -> None:
        """spec.paused: stop before the next step (with Kill, delete the running pod first), keep all state,
        and wait until the pause is lifted or the task is cancelled."""
        if self.spec.pause_mode is PauseMode.KILL:
            await self._abort_iteration(
                Termination.PAUSED,
                "killed by a pause with pauseMode Kill",
                "The previous run was stopped by a person (pause) before it finished; its outcome is "
                "unknown. Write the program again.",
            )
        if self.status.phase is not Phase.PAUSED:
            message = "paused by spec.paused; no new step starts until it is false"
            status = self._with_condition(
                self.status, ConditionType.PAUSED, ConditionStatus.TRUE, "Paused", message
            )
            await self._save(status, Phase.PAUSED, "Paused", message)
        await self._until(lambda: not self.spec.paused or self.spec.cancel or self.cancel.is_set())
        if not self.spec.paused:
            message = "resumed: spec.paused is false"
            await self._save(
                self._with_condition(
                    self.status, ConditionType.PAUSED, ConditionStatus.FALSE, "Resumed", message
                )
            )
            self.journal.event("Resumed", message)

    async def _abort_iteration(self, reason: Termination, message: str, feedback: str | None) -> None:
        """Kill the iteration's sandbox pod (grace 0) and close the iteration as failed with `reason`, so
        its code never runs again. An iteration that has no pod yet stays open: nothing of it ran."""
        current = self.status.current
        if current is None or current.launch_state is None or current.pod_name is None:
            return
        await self.sandbox.kill(self.task.namespace, current.pod_name)
        await self._audit("kill", current.iteration, {"pod": current.pod_name, "reason": reason})
        self.journal.event(
            "SandboxKilled", f"iteration {current.iteration}: pod {current.pod_name}: {message}"
        )
        entry = self._entry(current, reason=f"{reason}: {message}"[:1024], signature=None)
        await self._close_iteration(entry.model_copy(update={"termination": reason}), feedback, None)

    async def _cancelled(self) -> None:
        """spec.cancel: kill the pod, record the iteration, end the task for good."""
        message = "cancelled by spec.cancel"
        await self._abort_iteration(Termination.CANCELLED, message, None)
        await self._supersede_approval("the task was cancelled")
        await self._audit(
            "outcome", self.status.iteration, {"phase": Phase.CANCELLED.value, "reason": "Cancelled"}
        )
        cancelled = self._with_condition(
            self.status, ConditionType.CANCELLED, ConditionStatus.TRUE, "Cancelled", message
        )
        await self._save(cancelled, Phase.CANCELLED, "Cancelled", message)

    async def _hold(self) -> None:
        """Operator-wide emergency stop: kill the pod in flight (its iteration failed, not re-run), then wait
        without any model call or pod until the stop is lifted or the task is cancelled."""
        await self._abort_iteration(
            Termination.EMERGENCY_STOP,
            "killed by the operator's emergency stop",
            "The previous run was killed by an emergency stop of the operator before it finished; its "
            "outcome is unknown. Write the program again.",
        )
        if not self._condition_is(ConditionType.EMERGENCY_STOP, ConditionStatus.TRUE):
            message = "the operator's emergency stop is active: no model calls or sandbox runs"
            self.journal.event("EmergencyStop", message, warning=True)
            await self._save(
                self._with_condition(
                    self.status, ConditionType.EMERGENCY_STOP, ConditionStatus.TRUE, "EmergencyStop", message
                )
            )
        lifted = asyncio.ensure_future(self.emergency.wait_inactive())
        cancel = asyncio.ensure_future(self.cancel.wait())
        try:
            await asyncio.wait({lifted, cancel}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lifted.cancel()
            cancel.cancel()
        if self.emergency.active:
            return  # cancelled meanwhile: run() ends the task
        message = "the operator's emergency stop was lifted; continuing"
        self.journal.event("EmergencyStopLifted", message)
        await self._save(
            self._with_condition(
                self.status,
                ConditionType.EMERGENCY_STOP,
                ConditionStatus.FALSE,
                "EmergencyStopLifted",
                message,
            )
        )
