"""When the refine loop must stop without success: iteration limit, budgets, stuck detection, convergence.
Pure functions of the spec, the recorded status and the recent code, so every rule is unit-tested."""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel

from level5.api.spec import Iterations
from level5.api.status import AgentTaskStatus, HistoryEntry

SANDBOX_INTERRUPTED = "SandboxInterrupted"
"""The stop reason of a task whose sandbox pods kept being deleted or evicted from outside."""


class StopReason(BaseModel):
    """Why the loop stops: a CamelCase reason for conditions and a sentence for people."""

    reason: str
    message: str


def elapsed_seconds(status: AgentTaskStatus, now: datetime) -> float:
    return (now - status.started_at).total_seconds() if status.started_at else 0.0


def budget_exceeded(limits: Iterations, status: AgentTaskStatus, now: datetime) -> StopReason | None:
    """A budget of spec.iterations.budgets that is used up."""
    budgets, totals = limits.budgets, status.totals
    if budgets.tokens is not None and totals.tokens >= budgets.tokens:
        return StopReason(
            reason="TokenBudgetExhausted",
            message=f"used {totals.tokens} tokens of a budget of {budgets.tokens}",
        )
    if budgets.cpu_seconds is not None and totals.cpu_seconds >= budgets.cpu_seconds:
        return StopReason(
            reason="CpuBudgetExhausted",
            message=f"used {totals.cpu_seconds:.1f} CPU-seconds of {budgets.cpu_seconds:g}",
        )
    elapsed = elapsed_seconds(status, now)
    if budgets.wall_clock_seconds is not None and elapsed >= budgets.wall_clock_seconds:
        return StopReason(
            reason="WallClockBudgetExhausted",
            message=f"ran {elapsed:.0f}s of a budget of {budgets.wall_clock_seconds}s",
        )
    return None


def judged(status: AgentTaskStatus) -> list[HistoryEntry]:
    """The iterations that say something about the code: all but those whose pod was deleted from outside."""
    return [h for h in status.history if not h.interrupted]


def interrupted_too_often(limits: Iterations, status: AgentTaskStatus) -> StopReason | None:
    """Sandbox pods deleted or evicted from outside in maxInterruptedIterations iterations: retrying them
    (uncounted) would never end while something keeps deleting them."""
    n = status.totals.interrupted_iterations
    if n >= limits.max_interrupted_iterations:
        return StopReason(
            reason=SANDBOX_INTERRUPTED,
            message=f"the sandbox pod was deleted or evicted from outside while the program ran in {n} "
            f"iterations (spec.iterations.maxInterruptedIterations is {limits.max_interrupted_iterations}); "
            "find what deletes the task's pods (a node drain, a cleanup job, a person)",
        )
    return None


def same_failure_repeated(limits: Iterations, status: AgentTaskStatus) -> StopReason | None:
    """The last maxSameFailure judged iterations failed in the same way."""
    n = limits.stuck.max_same_failure
    history = judged(status)
    recent = [h.failure_signature for h in history[-n:]]
    if len(recent) == n and recent[0] is not None and len(set(recent)) == 1:
        return StopReason(
            reason="StuckSameFailure",
            message=f"the last {n} iterations failed the same way: {history[-1].reason}",
        )
    return None


def similar_attempts(limits: Iterations, recent_codes: Sequence[str]) -> StopReason | None:
    """The last maxSimilarAttempts programs are nearly identical to each other (difflib ratio)."""
    n, threshold = limits.stuck.max_similar_attempts, limits.stuck.similarity_threshold
    codes = list(recent_codes[-n:])
    if len(codes) < n:
        return None
    ratios = [difflib.SequenceMatcher(None, a, b).ratio() for a, b in itertools.pairwise(codes)]
    if all(r >= threshold for r in ratios):
        return StopReason(
            reason="StuckSimilarAttempts",
            message=f"the last {n} attempts are nearly identical (similarity >= {threshold:g})",
        )
    return None


def not_converging(limits: Iterations, status: AgentTaskStatus) -> StopReason | None:
    """Over the last `window` iterations the best score did not beat the earlier best by minImprovement."""
    window, minimum = limits.convergence.window, limits.convergence.min_improvement
    scores = [h.score for h in judged(status)]
    if minimum <= 0 or len(scores) <= window:
        return None
    before, recent = max(scores[:-window]), max(scores[-window:])
    if recent - before < minimum:
        return StopReason(
            reason="NotConverging",
            message=f"best score {recent:.2f} in the last {window} iterations improved less "
            f"than {minimum:g} on {before:.2f}",
        )
    return None


def should_stop(
    limits: Iterations, status: AgentTaskStatus, now: datetime, recent_codes: Sequence[str]
) -> StopReason | None:
    """The first rule that ends the loop after a failed iteration, or None to keep refining."""
    if status.iteration - status.totals.interrupted_iterations >= limits.max_iterations:
        return StopReason(
            reason="MaxIterationsReached", message=f"no success after {limits.max_iterations} iterations"
        )
    return (
        interrupted_too_often(limits, status)
        or budget_exceeded(limits, status, now)
        or same_failure_repeated(limits, status)
        or similar_attempts(limits, recent_codes)
        or not_converging(limits, status)
    )
