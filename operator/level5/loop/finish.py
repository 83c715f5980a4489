"""The finish step: the task's success, with its final result."""

from __future__ import annotations

from level5.api.status import (
    Phase,
    TaskResult,
)
from level5.loop.context import StepContext
from level5.loop.state_machine import (
    Action,
)

MAX_INLINE_CODE = 16 * 1024
"""Final code larger than this goes to the <task>-result ConfigMap instead of status."""


class FinishStep(StepContext):
    """The finish step: the task's success, with its final result."""

    async def _succeed(self, action: Action) -> None:
        last = self.status.history[-1]
        code = await self._code(last.code_config_map or "") or ""
        result = self.status.result or TaskResult(iteration=action.iteration)
        update: dict[str, object] = {"feedback": None}
        if len(code) <= MAX_INLINE_CODE:
            update["result"] = result.model_copy(update={"code": code})
        else:
            update["result_config_map"] = await self.sandbox.store_result(
                self.task, {"main.py": code, "result.json": result.model_dump_json(by_alias=True)}
            )
        await self._audit(
            "outcome", action.iteration, {"phase": Phase.SUCCEEDED.value, "reason": action.reason}
        )
        await self._save(
            self.status.model_copy(update=update), Phase.SUCCEEDED, action.reason, action.message
        )
