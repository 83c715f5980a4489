"""Layers 1 and 5 at the loop's boundaries: what may reach the model, the status and the audit trail.

The task's own words (goal, constraints, preferences) are checked for prompt injection before the first
model call. Everything a sandbox run returns (stdout, stderr, error message, traceback, check reasons,
file names) is untrusted: it is checked for indirect injection on the raw text (redaction first would
hide base64-encoded payloads from the check), then redacted, and a flagged run's text is replaced by a
neutral note so the model never reads it. The loop only ever handles the guarded copy.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence

from pydantic import BaseModel

from level5.api.sources import GOAL, SANDBOX_OUTPUT
from level5.api.spec import AgentTaskSpec
from level5.api.verdicts import Verdict
from level5.safety.injection import (
    InputVerdict,
    SecondOpinion,
    check_input,
    check_input_with_second_opinion,
)
from level5.safety.redaction import Redactor
from level5.sandbox.outcome import PodOutcome
from level5.sandbox.result import RunError, RunResult

WITHHELD_TYPE = "OutputWithheld"
INLINE_GUARD_CHARS = 1024
"""Outcomes with at most this much text are guarded on the event loop: layers 1 and 5 take well under a
millisecond on them (a few milliseconds for the worst text, one long line), less than handing the work to a
worker thread, which waits for the GIL (up to its 5 ms switch interval) and often took 5 to 10 ms of a warm
iteration's 0.15 s. Larger ones (up to two 64 KiB streams, up to about a CPU-second) go to a thread."""


class GoalCheck(BaseModel):
    """Verdict of the injection check over the task's goal texts and the rules that fired."""

    verdict: Verdict
    rules: list[str]


class GuardedOutcome(BaseModel):
    """A sandbox outcome safe to store and show the model, with what was done to make it so."""

    outcome: PodOutcome
    redactions: dict[str, int]
    injection_rules: list[str]
    outputs_sha256: str
    """SHA-256 of the raw result as the runner reported it, for the audit trail."""


def _rules(verdicts: Iterable[tuple[Verdict, list[str]]]) -> tuple[Verdict, list[str]]:
    worst, rules = Verdict.ALLOW, set[str]()
    for verdict, found in verdicts:
        worst = verdict if verdict.severity > worst.severity else worst
        rules.update(found)
    return worst, sorted(rules)


def _goal_texts(spec: AgentTaskSpec) -> list[str]:
    return [spec.goal.primary, *spec.goal.constraints, *spec.goal.preferences]


def _goal_check(results: Iterable[InputVerdict]) -> GoalCheck:
    verdict, rules = _rules((r.verdict, [f.rule for f in r.findings]) for r in results)
    return GoalCheck(verdict=verdict, rules=rules)


def check_goal(spec: AgentTaskSpec) -> GoalCheck:
    """Injection check of the goal, each constraint and each preference (all written by the task's author)."""
    return _goal_check(check_input(text, source=GOAL) for text in _goal_texts(spec))


async def check_goal_with_second_opinion(spec: AgentTaskSpec, classifier: SecondOpinion) -> GoalCheck:
    """``check_goal`` with a classifier's opinion on each text added (it can only add findings)."""
    return _goal_check(
        [
            await check_input_with_second_opinion(text, source=GOAL, classifier=classifier)
            for text in _goal_texts(spec)
        ]
    )


def withheld_note(rules: list[str]) -> str:
    return f"output withheld: flagged as prompt injection (rules {', '.join(rules)})"


def _texts(run: RunResult) -> list[str]:
    error = [run.error.type, run.error.message, run.error.traceback] if run.error else []
    return [
        run.stdout,
        run.stderr,
        *error,
        *(c.reason for c in run.checks),
        *(f.path for f in run.output_files),
        *([run.policy_violation.attempted] if run.policy_violation else []),
    ]


def guard_outcome(
    outcome: PodOutcome, redactor: Redactor, withhold_for: Sequence[str] = ()
) -> GuardedOutcome:
    """The outcome with injected instructions withheld and PII and secrets redacted; `withhold_for` are
    rules found by a second opinion that withhold the output as well."""
    run = outcome.run
    raw = (outcome.failure or "") + (run.model_dump_json(by_alias=True) if run else "")
    counts: Counter[str] = Counter()

    def clean(text: str) -> str:
        result = redactor.redact(text)
        counts.update(result.counts)
        return result.text

    rules: list[str] = []
    if run is not None:
        verdict = check_input("\n".join(_texts(run)), source=SANDBOX_OUTPUT)
        found = {f.rule for f in verdict.findings} if verdict.verdict is not Verdict.ALLOW else set()
        rules = sorted(found | set(withhold_for))
        if rules:
            note = withheld_note(rules)
            run = run.model_copy(
                update={
                    "stdout": note,
                    "stderr": "",
                    "error": RunError(type=WITHHELD_TYPE, message=note) if run.error else None,
                    "checks": [c.model_copy(update={"reason": "(withheld)"}) for c in run.checks],
                    "output_files": [f.model_copy(update={"path": "(withheld)"}) for f in run.output_files],
                    "policy_violation": run.policy_violation.model_copy(update={"attempted": "(withheld)"})
                    if run.policy_violation
                    else None,
                }
            )
        run = run.model_copy(
            update={
                "stdout": clean(run.stdout),
                "stderr": clean(run.stderr),
                "error": run.error.model_copy(
                    update={k: clean(getattr(run.error, k)) for k in ("type", "message", "traceback")}
                )
                if run.error
                else None,
                "checks": [c.model_copy(update={"reason": clean(c.reason)}) for c in run.checks],
                "output_files": [f.model_copy(update={"path": clean(f.path)}) for f in run.output_files],
                "policy_violation": run.policy_violation.model_copy(
                    update={"attempted": clean(run.policy_violation.attempted)}
                )
                if run.policy_violation
                else None,
            }
        )
    failure = clean(outcome.failure) if outcome.failure else None
    return GuardedOutcome(
        outcome=outcome.model_copy(update={"run": run, "failure": failure}),
        redactions=dict(counts),
        injection_rules=rules,
        outputs_sha256=hashlib.sha256(raw.encode()).hexdigest(),
    )


async def guard_outcome_off_loop(
    outcome: PodOutcome, redactor: Redactor, withhold_for: Sequence[str] = ()
) -> GuardedOutcome:
    """``guard_outcome`` without holding the event loop: in a worker thread unless the outcome is small
    (INLINE_GUARD_CHARS), so the loop keeps serving the other tasks meanwhile (the GIL is handed over every
    few milliseconds; the Hyperscan scratch space is per thread)."""
    texts = [outcome.failure or "", *(_texts(outcome.run) if outcome.run else [])]
    if sum(len(t) for t in texts) <= INLINE_GUARD_CHARS:
        return guard_outcome(outcome, redactor, withhold_for)
    return await asyncio.to_thread(guard_outcome, outcome, redactor, withhold_for)


async def guard_outcome_with_second_opinion(
    outcome: PodOutcome, redactor: Redactor, classifier: SecondOpinion
) -> GuardedOutcome:
    """``guard_outcome``, then the classifier's opinion on the redacted texts (it never sees what layer 5
    removed); when it flags them, the output is withheld like a built-in finding. A failing classifier
    changes nothing (``check_input_with_second_opinion``'s fallback)."""
    guarded = await guard_outcome_off_loop(outcome, redactor)
    run = guarded.outcome.run
    if run is None or guarded.injection_rules:
        return guarded
    opinion = await check_input_with_second_opinion(
        "\n".join(_texts(run)), source=SANDBOX_OUTPUT, classifier=classifier
    )
    flagged = sorted({f.rule for f in opinion.findings if f.verdict is not Verdict.ALLOW})
    return await guard_outcome_off_loop(outcome, redactor, flagged) if flagged else guarded
