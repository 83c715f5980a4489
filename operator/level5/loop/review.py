"""The review step (layer 3): the static review of the exact code that will run, and what its verdict means
for the iteration."""

from __future__ import annotations

from level5.api.status import (
    ReviewSummary,
)
from level5.loop.context import StepContext
from level5.loop.evaluation import failure_signature
from level5.loop.prompts import describe_failure
from level5.loop.state_machine import (
    Action,
)
from level5.safety.review.languages import review_program
from level5.safety.review.reviewer import Verdict


class ReviewStep(StepContext):
    """The review step (layer 3): the static review of the exact code that will run, and what its verdict
    means for the iteration."""

    async def _review(self, action: Action) -> None:
        current = self.status.current
        assert current is not None and current.code_config_map is not None
        code = await self._code(current.code_config_map)
        if code is None:  # the code ConfigMap was deleted: generate this iteration again
            await self._save(
                self.status.model_copy(
                    update={
                        "current": current.model_copy(update={"code_sha256": None, "code_config_map": None})
                    }
                )
            )
            return
        caps = self.spec.capabilities
        review = review_program(
            code, language=caps.language, allowed_libraries=caps.allowed_libraries, max_lines=caps.max_lines
        )
        rules = sorted({f.rule for f in review.findings})
        summary = ReviewSummary(verdict=review.verdict.value, rules=rules)
        self.metrics.review_finished(summary)
        await self._audit(
            "review",
            action.iteration,
            {
                "code_sha256": current.code_sha256,
                "verdict": review.verdict.value,
                "findings": [f.model_dump(mode="json") for f in review.findings],
            },
        )
        if review.verdict is Verdict.ALLOW or (review.verdict is Verdict.ESCALATE and self._humans_decide()):
            # On to the approval gate; an escalate verdict is a person's call when one can be asked.
            self._stage(
                self.status.model_copy(update={"current": current.model_copy(update={"review": summary})})
            )
            return
        self.journal.event(
            "ReviewBlocked",
            f"iteration {action.iteration}: {review.verdict.value} ({', '.join(rules)})",
            warning=True,
        )
        if review.only_a_syntax_error and review.compile_error is not None:
            # A program that does not compile has a bug to debug: Python's own message, not a security block.
            error = review.compile_error.splitlines()[-1]
            reason, signature = error, failure_signature("compile", error)
            feedback = describe_failure(compile_error=review.compile_error, language=caps.language)
        else:
            reason = f"Review{review.verdict.value.capitalize()}: {', '.join(rules)}"
            signature = failure_signature("review", *rules)
            feedback = describe_failure(review_feedback=review.feedback(), review_rules=rules)
        entry = self._entry(current, reason=reason[:1024], signature=signature)
        entry = entry.model_copy(update={"review_verdict": summary.verdict, "review_rules": rules})
        await self._close_iteration(entry, feedback, None)
