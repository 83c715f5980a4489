"""The AgentTask state machine as pure functions.

decide_next() looks only at the recorded status (never at memory), so a restarted operator picks up exactly
where the last one stopped. The status-changing helpers return new status objects; the loop persists them
before it acts on them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel

from level5.api.spec import AgentTaskSpec, Trigger
from level5.api.status import (
    MAX_HISTORY,
    AgentTaskStatus,
    Condition,
    ConditionStatus,
    ConditionType,
    CurrentIteration,
    HistoryEntry,
    Phase,
)
from level5.loop.stopping import should_stop


class ActionKind(StrEnum):
    """What the loop does next."""

    GENERATE = "Generate"
    REVIEW = "Review"
    GATE = "Gate"
    AWAIT_APPROVAL = "AwaitApproval"
    LAUNCH = "Launch"
    WAIT = "Wait"
    SUCCEED = "Succeed"
    FAIL = "Fail"
    DONE = "Done"


class Action(BaseModel):
    """The next step and, for SUCCEED/FAIL, why."""

    kind: ActionKind
    iteration: int = 0
    reason: str = ""
    message: str = ""


def decide_next(
    spec: AgentTaskSpec, status: AgentTaskStatus, now: datetime, recent_codes: Sequence[str] = ()
) -> Action:
    """The next step, from the recorded status alone. recent_codes are the programs of the last iterations
    (oldest first) for the near-identical-attempts rule."""
    if status.phase.terminal:
        return Action(kind=ActionKind.DONE, iteration=status.iteration)
    current = status.current
    if current is None:
        last = status.history[-1] if status.history else None
        if last is not None and last.iteration == status.iteration and last.score >= 1.0:
            return Action(
                kind=ActionKind.SUCCEED,
                iteration=last.iteration,
                reason="AllCriteriaPassed",
                message=f"all success criteria passed in iteration {last.iteration}",
            )
        if last is not None:
            stop = should_stop(spec.iterations, status, now, recent_codes)
            if stop is not None:
                return Action(
                    kind=ActionKind.FAIL, iteration=status.iteration, reason=stop.reason, message=stop.message
                )
        return Action(kind=ActionKind.GENERATE, iteration=status.iteration + 1)
    if current.code_sha256 is None:
        return Action(kind=ActionKind.GENERATE, iteration=current.iteration)
    if current.review is None:
        return Action(kind=ActionKind.REVIEW, iteration=current.iteration)
    if current.gate is None:
        return Action(kind=ActionKind.GATE, iteration=current.iteration)
    if current.gate.approval is not None and current.approved_code_sha256 != current.code_sha256:
        return Action(kind=ActionKind.AWAIT_APPROVAL, iteration=current.iteration)
    if current.launch_state is None:
        return Action(kind=ActionKind.LAUNCH, iteration=current.iteration)
    return Action(kind=ActionKind.WAIT, iteration=current.iteration)


_PHASE_OF_ACTION = {
    ActionKind.GENERATE: Phase.GENERATING,
    ActionKind.REVIEW: Phase.REVIEWING,
    ActionKind.GATE: Phase.REVIEWING,
    ActionKind.AWAIT_APPROVAL: Phase.AWAITING_APPROVAL,
    ActionKind.LAUNCH: Phase.EXECUTING,
    ActionKind.WAIT: Phase.EXECUTING,
}


def phase_of(action: Action) -> Phase | None:
    """The phase a task is in while it takes this step (none for the final steps)."""
    return _PHASE_OF_ACTION.get(action.kind)


def set_condition(
    conditions: Sequence[Condition],
    type_: ConditionType | Trigger,
    status: ConditionStatus,
    reason: str,
    message: str,
    now: datetime,
    generation: int | None,
) -> list[Condition]:
    """Conditions with one of them set; lastTransitionTime only moves when its status changes."""
    old = next((c for c in conditions if c.type == type_), None)
    changed_at = old.last_transition_time if old is not None and old.status == status else now
    new = Condition(
        type=type_,
        status=status,
        reason=reason,
        message=message[:4096],
        last_transition_time=changed_at,
        observed_generation=generation,
    )
    return [c for c in conditions if c.type != type_] + [new]


def with_phase(
    status: AgentTaskStatus, phase: Phase, reason: str, message: str, now: datetime, generation: int | None
) -> AgentTaskStatus:
    """Status moved to a phase, with Ready/Progressing/Failed conditions to match."""
    holds = {
        ConditionType.READY: phase is Phase.SUCCEEDED,
        ConditionType.PROGRESSING: not phase.terminal,
        ConditionType.FAILED: phase is Phase.FAILED,
    }
    conditions = list(status.conditions)
    for type_, true in holds.items():
        value = ConditionStatus.TRUE if true else ConditionStatus.FALSE
        conditions = set_condition(conditions, type_, value, reason, message, now, generation)
    return status.model_copy(
        update={
            "phase": phase,
            "conditions": conditions,
            "message": message[:4096],
            "observed_generation": generation,
        }
    )


def start_iteration(status: AgentTaskStatus, iteration: int, now: datetime) -> AgentTaskStatus:
    """Status at the start of generation for an iteration (kept when resuming the same one)."""
    if status.current is not None and status.current.iteration == iteration:
        return status
    return status.model_copy(
        update={
            "iteration": iteration,
            "started_at": status.started_at or now,
            "current": CurrentIteration(iteration=iteration, started_at=now),
        }
    )


def finish_iteration(status: AgentTaskStatus, entry: HistoryEntry, now: datetime) -> AgentTaskStatus:
    """Status with the iteration in flight closed: history appended (bounded), totals updated."""
    totals = status.totals.model_copy(
        update={
            "tokens": status.totals.tokens + entry.tokens,
            "cpu_seconds": round(status.totals.cpu_seconds + entry.cpu_seconds, 3),
            "interrupted_iterations": status.totals.interrupted_iterations + int(entry.interrupted),
            "wall_clock_seconds": round((now - status.started_at).total_seconds(), 3)
            if status.started_at
            else 0.0,
        }
    )
    return status.model_copy(
        update={
            "current": None,
            "history": [*status.history, entry][-MAX_HISTORY:],
            "totals": totals,
            "score": entry.score,
        }
    )
