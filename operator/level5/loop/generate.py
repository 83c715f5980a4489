"""The generate step: layer 1 on the task's goal, the model's answer, the code stored for the iteration."""

from __future__ import annotations

import hashlib

from level5.api.status import (
    ConditionStatus,
    ConditionType,
    HistoryEntry,
    Phase,
)
from level5.loop.context import StepContext
from level5.loop.evaluation import failure_signature
from level5.loop.guards import check_goal, check_goal_with_second_opinion
from level5.loop.prompts import describe_failure, generation_messages
from level5.loop.state_machine import (
    Action,
    ActionKind,
    start_iteration,
)
from level5.loop.stopping import judged
from level5.model.answers import parse_answer
from level5.safety.review.reviewer import Verdict
from level5.sandbox.manifests import sandbox_pod_name


class GenerateStep(StepContext):
    """The generate step: layer 1 on the task's goal, the model's answer, the code stored for the
    iteration."""

    async def _check_goal(self, iteration: int) -> bool:
        """Layer 1 on the task's own words; False when the task was failed for them."""
        check = (
            check_goal(self.spec)
            if self.second_opinion is None
            else await check_goal_with_second_opinion(self.spec, self.second_opinion)
        )
        if check.verdict is Verdict.ALLOW:
            return True
        await self._audit("input-check", iteration, {"verdict": check.verdict.value, "rules": check.rules})
        self.metrics.input_checked("goal", check.verdict.value, check.rules)
        rules = ", ".join(check.rules)
        if check.verdict is Verdict.BLOCK:
            message = f"the goal was rejected by the prompt-injection check (rules {rules})"
            await self._fail(Action(kind=ActionKind.FAIL, reason="InputRejected", message=message))
            return False
        if not any(c.type == ConditionType.INPUT_FLAGGED for c in self.status.conditions):
            # Recorded and continued: holding the task for a human is the approval flow's job.
            self.journal.event("InputFlagged", f"goal flagged (rules {rules})", warning=True)
            await self._save(
                self._with_condition(
                    self.status,
                    ConditionType.INPUT_FLAGGED,
                    ConditionStatus.TRUE,
                    "SuspectedPromptInjection",
                    f"goal flagged by the prompt-injection check (rules {rules}); continuing",
                )
            )
        return True

    async def _recent_codes(self) -> list[str]:
        """Programs of the last iterations, for the near-identical-attempts rule."""
        if self.status.current is not None:
            return []
        n = self.spec.iterations.stuck.max_similar_attempts
        codes = []
        for entry in judged(self.status)[-n:]:
            code = await self._code(entry.code_config_map) if (entry.code_config_map) else None
            if code is not None:
                codes.append(code)
        return codes

    async def _generate(self, action: Action) -> None:
        if not await self._check_goal(action.iteration):
            return
        now = self.clock()
        started = start_iteration(self.status, action.iteration, now)
        # Sent in the background, but the prompt's audit record just below waits for it (Journal.record
        # flushes first, for fencing), so it lands before the model is asked. Nothing irreversible depends on
        # it: a restart before it lands starts the iteration again, as one during an awaited save would.
        self.journal.save_soon(
            started, Phase.GENERATING, "Generating", f"iteration {action.iteration}: asking the model"
        )
        feedback = self.status.feedback
        previous = None
        if feedback is not None and feedback.code_config_map:
            previous = await self._code(feedback.code_config_map)
        messages = generation_messages(
            self._effective_spec(),
            action.iteration,
            previous,
            feedback.summary if feedback else None,
            guidance=[*self.spec.guidance, *self.status.interventions.hints],
        )
        text, used = await self._complete(action.iteration, messages)
        answer = parse_answer(text, self.spec.capabilities.language)
        current = self.status.current
        assert current is not None
        tokens = current.tokens + used
        if answer.code is None:
            entry = HistoryEntry(
                iteration=action.iteration,
                reason="NoCodeInAnswer",
                tokens=tokens,
                failure_signature=failure_signature("NoCodeInAnswer"),
                duration_seconds=(self.clock() - current.started_at).total_seconds(),
            )
            await self._close_iteration(entry, describe_failure(answer_problem=answer.problem), None)
            return
        code_sha256 = hashlib.sha256(answer.code.encode()).hexdigest()
        # The code is stored and run verbatim (redacting it would change the program); the trail keeps
        # its hash and a redacted copy.
        await self._audit(
            "code", action.iteration, {"sha256": code_sha256, "code": await self._redacted(answer.code)}
        )
        pod_name = sandbox_pod_name(self.task, action.iteration)
        config_map = self._store_code_soon(pod_name, action.iteration, answer.code)
        current = current.model_copy(
            update={
                "code_sha256": code_sha256,
                "code_config_map": config_map,
                "confidence": answer.confidence,
                "uncertainty": await self._redacted(answer.uncertainty) if answer.uncertainty else None,
                "tokens": tokens,
                "pod_name": pod_name,
            }
        )
        # Staged, written with the next save: the review and the gate follow at once in memory (while the code
        # ConfigMap is written), and the next save (the launch intent, awaited before any code leaves the
        # operator, or the wait for an Approval) carries it, once the ConfigMap exists. A restart before then
        # generates again; the code ConfigMap the lost attempt left is replaced (SandboxLauncher.store_code),
        # so what runs is always what was reviewed.
        self._stage(
            self.status.model_copy(update={"current": current}),
            Phase.REVIEWING,
            "Reviewing",
            f"iteration {action.iteration}: reviewing {current.code_sha256}",
        )
