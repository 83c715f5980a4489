"""Evaluate one sandbox run against the task's success criteria.

Machine-checkable criteria come from the runner's check results; `judge` criteria are asked of the model,
but only once every machine-checked criterion passed (a crashed program is not worth a model call and the
model gets the machine failures as feedback anyway). Score = fraction of criteria passed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable, Sequence

from pydantic import BaseModel

from level5.api.spec import SuccessCriterion
from level5.api.status import CriterionResult
from level5.model.answers import Judgement
from level5.sandbox.result import RunResult

JudgeFn = Callable[[SuccessCriterion], Awaitable[tuple[Judgement, int]]]
"""Asks the model about one judge criterion; returns the judgement and the tokens it cost."""


class Evaluation(BaseModel):
    """Outcome of evaluating one iteration."""

    criteria: list[CriterionResult]
    score: float
    tokens: int = 0

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.criteria)


def _machine_result(criterion: SuccessCriterion, run: RunResult | None, not_run: str) -> CriterionResult:
    kind = criterion.kind
    if run is None:
        return CriterionResult(name=criterion.name, kind=kind, passed=False, reason=not_run)
    for check in run.checks:
        if check.name == criterion.name:
            return CriterionResult(name=criterion.name, kind=kind, passed=check.passed, reason=check.reason)
    return CriterionResult(
        name=criterion.name, kind=kind, passed=False, reason="the runner reported no result"
    )


async def evaluate(
    criteria: Sequence[SuccessCriterion], run: RunResult | None, not_run: str, judge: JudgeFn
) -> Evaluation:
    """Evaluate every criterion; `not_run` is the reason used when there is no run to check."""
    machine = {c.name: _machine_result(c, run, not_run) for c in criteria if c.judge is None}
    machine_ok = run is not None and all(r.passed for r in machine.values())
    results: list[CriterionResult] = []
    tokens = 0
    for criterion in criteria:
        if criterion.judge is None:
            results.append(machine[criterion.name])
        elif not machine_ok:
            reason = not_run if run is None else "not judged: machine-checked criteria failed first"
            results.append(CriterionResult(name=criterion.name, kind="judge", passed=False, reason=reason))
        else:
            judgement, cost = await judge(criterion)
            tokens += cost
            results.append(
                CriterionResult(
                    name=criterion.name, kind="judge", passed=judgement.passed, reason=judgement.rationale
                )
            )
    score = sum(r.passed for r in results) / len(results) if results else 0.0
    return Evaluation(criteria=results, score=round(score, 4), tokens=tokens)


_VOLATILE = re.compile(r"0x[0-9a-f]+|\d+")


def failure_signature(*parts: str | None) -> str:
    """A short hash identifying a kind of failure; numbers and addresses are blanked so the same error on
    another line or with another value still counts as the same failure."""
    text = "\n".join(_VOLATILE.sub("#", p) for p in parts if p)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
