"""The refine loop of one AgentTask: generate, review, execute, evaluate, refine or finish.

Each step asks state_machine.decide_next() what to do from the recorded status, does it, and persists the
new status through a StatusSink before the next step. Side effects that must not repeat (running code) are
recorded before they happen. Every step writes its audit record (layer 6) before the status update that
marks it done, so a crash in between repeats the step and its record (at least once, each record carrying
a step key task/iteration/kind) but never leaves a completed step unaudited. The goal and all sandbox
output pass the guards (layers 1 and 5) before anything reaches the model, the status or an Event. No
Kubernetes types here: the sandbox, the sink and the audit log are passed in, so the loop runs in unit tests
with a local sandbox and a recording sink."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from level5.api.spec import PauseMode
from level5.api.status import (
    AgentTaskStatus,
    Phase,
)
from level5.loop.execute import ExecuteStep
from level5.loop.finish import FinishStep
from level5.loop.gate import GateStep
from level5.loop.generate import GenerateStep
from level5.loop.interruptions import Interruptions
from level5.loop.review import ReviewStep
from level5.loop.state_machine import (
    Action,
    ActionKind,
    decide_next,
    phase_of,
)
from level5.model.client import MODEL_UNAVAILABLE, ModelRejectedError, ModelUnavailableError


class TaskLoop(GenerateStep, ReviewStep, GateStep, ExecuteStep, FinishStep, Interruptions):
    """Drives one task to a terminal phase: checks the kill switches and interventions before every step,
    dispatches the next step of the state machine, and lets a step in flight be interrupted."""

    async def run(self) -> AgentTaskStatus:
        """Step until the task is Succeeded, Failed or Cancelled; return the final status. The kill switches
        are checked before every step and interrupt a step in flight (a model call, a wait on a pod)."""
        while True:
            self.spec = self.spec_view()
            if self.status.phase.terminal:
                await self.journal.flush()  # the end is written before the daemon returns
                return self.status
            if self.spec.cancel or self.cancel.is_set():
                await self._cancelled()
                continue
            if self.emergency.active:
                await self._hold()
                continue
            if self.spec.paused:
                await self._pause()
                continue
            action = decide_next(self.spec, self.status, self.clock(), await self._recent_codes())
            if action.kind is ActionKind.DONE:
                await self.journal.flush()
                return self.status
            resumed_phase = phase_of(action)
            if self.status.phase is Phase.PAUSED and resumed_phase is not None:
                await self._save(
                    self.status, resumed_phase, "Resumed", f"iteration {action.iteration}: resumed"
                )
            # Waiting for a person, or a pod that a Kill pause deletes, gives way to a pause at once; other
            # steps finish first ("no new step starts").
            pausable = action.kind is ActionKind.AWAIT_APPROVAL or (
                action.kind is ActionKind.WAIT and self.spec.pause_mode is PauseMode.KILL
            )
            try:
                await self._interruptible(self._step(action), pausable)
            except ModelRejectedError as exc:  # a wrong key or model name: retrying cannot help
                await self._fail(Action(kind=ActionKind.FAIL, reason="ModelRejected", message=str(exc)))
            except ModelUnavailableError as exc:  # still failing after the retries the operator allows
                message = (
                    f"the model failed {self.gateway.retries + 1} times, last: {exc.reason.value}: {exc}"
                )
                await self._fail(
                    Action(kind=ActionKind.FAIL, reason=MODEL_UNAVAILABLE, message=message[:4000])
                )

    async def _interruptible(self, step: Awaitable[None], pausable: bool = False) -> None:
        """Run one step, abandoned as soon as the task is cancelled or the emergency stop begins (or, when
        pausable, paused). Steps are resume-safe, so an abandoned one is simply taken up again (or its
        iteration closed) afterwards."""
        work = asyncio.ensure_future(step)
        switches = [
            asyncio.ensure_future(self.cancel.wait()),
            asyncio.ensure_future(self.emergency.wait_active()),
        ]
        if pausable:
            switches.append(asyncio.ensure_future(self._until(lambda: self.spec.paused)))
        try:
            await asyncio.wait({work, *switches}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            interrupted = not work.done()
            for future in (*switches, work):
                future.cancel()
            await asyncio.gather(*switches, work, return_exceptions=True)
        if not interrupted:
            work.result()  # the step's own outcome, exceptions included

    async def _step(self, action: Action) -> None:
        steps = {
            ActionKind.GENERATE: self._generate,
            ActionKind.REVIEW: self._review,
            ActionKind.GATE: self._gate,
            ActionKind.AWAIT_APPROVAL: self._await_approval,
            ActionKind.LAUNCH: self._launch,
            ActionKind.WAIT: self._wait_and_evaluate,
            ActionKind.SUCCEED: self._succeed,
            ActionKind.FAIL: self._fail,
        }
        await steps[action.kind](action)
