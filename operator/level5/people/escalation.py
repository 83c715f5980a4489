"""Escalation triggers: whether an iteration's reviewed code needs a human before it runs.

Pure functions of the spec, the recorded status and the code. The model's self-reported confidence is never
used alone: it is combined with the review's findings and the scores so far. Each trigger that fires comes
with a reason and a message for the Approval, a condition and an Event."""

from __future__ import annotations

import re
from datetime import datetime

from level5.api.approval import FiredTrigger
from level5.api.spec import AgentTaskSpec, AutonomyLevel, Language, Trigger, quantity_value
from level5.api.status import AgentTaskStatus, ConditionStatus, ConditionType, CurrentIteration, Gate
from level5.safety.review.javascript import javascript_writes
from level5.safety.review.writes import file_writes

# Model answers that state no uncertainty in words.
_NO_UNCERTAINTY = re.compile(r"^\W*(none|nothing|n/?a|no|-+|nothing in particular|not applicable)\W*$", re.I)


def combined_confidence(current: CurrentIteration, best_score: float | None) -> float:
    """Half the model's self-report (0.5 when it gave none), a quarter the review (1 without findings, 0.75
    with findings that allow, 0.5 when it said escalate), a quarter the best score so far (0.5 before any)."""
    self_report = min(max(current.confidence, 0.0), 1.0) if current.confidence is not None else 0.5
    review = current.review
    review_part = 1.0
    if review is not None and review.rules:
        review_part = 0.5 if review.verdict == "escalate" else 0.75
    track = best_score if best_score is not None else 0.5
    return round(0.5 * self_report + 0.25 * review_part + 0.25 * track, 3)


def iteration_confidence(status: AgentTaskStatus) -> float:
    """combined_confidence of the iteration in flight, with the best score of the task so far."""
    assert status.current is not None
    scores = [entry.score for entry in status.history]
    return combined_confidence(status.current, max(scores) if scores else None)


def _has_condition(status: AgentTaskStatus, type_: ConditionType) -> bool:
    return any(c.type == type_ and c.status == ConditionStatus.TRUE for c in status.conditions)


def detect(spec: AgentTaskSpec, status: AgentTaskStatus, code: str, now: datetime) -> list[FiredTrigger]:
    """Every trigger whose condition holds for the current iteration, enabled or not."""
    current = status.current
    assert current is not None
    knobs = spec.autonomy.escalation
    fired: list[FiredTrigger] = []
    confidence = iteration_confidence(status)
    if confidence < knobs.confidence_threshold:
        fired.append(
            FiredTrigger(
                type=Trigger.LOW_CONFIDENCE,
                reason="BelowThreshold",
                message=f"combined confidence {confidence:.2f} < {knobs.confidence_threshold:.2f} "
                f"(model said {current.confidence if current.confidence is not None else 'nothing'})",
            )
        )
    anomalies = []
    if current.review is not None and current.review.verdict == "escalate":
        anomalies.append(
            ("ReviewEscalated", f"the review asks for a human: {', '.join(current.review.rules)}")
        )
    if _has_condition(status, ConditionType.INPUT_FLAGGED):
        anomalies.append(("InputFlagged", "the goal was flagged by the prompt-injection check"))
    if _has_condition(status, ConditionType.ANOMALY_DETECTED):
        anomalies.append(("RunAnomaly", "the previous run showed an anomaly (see condition AnomalyDetected)"))
    if status.history and status.history[-1].output_withheld_rules:
        anomalies.append(("OutputWithheld", "the previous run's output was withheld as prompt injection"))
    if anomalies:
        fired.append(
            FiredTrigger(
                type=Trigger.ANOMALY, reason=anomalies[0][0], message="; ".join(m for _, m in anomalies)
            )
        )
    impact = _impact(spec, code)
    if impact:
        fired.append(
            FiredTrigger(type=Trigger.IMPACT, reason=impact[0][0], message="; ".join(m for _, m in impact))
        )
    budget = spec.iterations.budgets.wall_clock_seconds
    if budget is not None and status.started_at is not None:
        elapsed = (now - status.started_at).total_seconds()
        if elapsed >= knobs.time_fraction * budget:
            fired.append(
                FiredTrigger(
                    type=Trigger.TIME,
                    reason="WallClockBudget",
                    message=f"{elapsed:.0f}s of the {budget}s wall-clock budget used",
                )
            )
    if current.uncertainty and not _NO_UNCERTAINTY.match(current.uncertainty):
        fired.append(
            FiredTrigger(type=Trigger.UNCERTAINTY, reason="ModelUnsure", message=current.uncertainty[:2048])
        )
    recent = status.history[-knobs.stuck_after :]
    signatures = {entry.failure_signature for entry in recent}
    if len(recent) == knobs.stuck_after and len(signatures) == 1 and None not in signatures:
        fired.append(
            FiredTrigger(
                type=Trigger.STUCK,
                reason="SameFailure",
                message=f"the last {knobs.stuck_after} iterations ended the same way: "
                f"{recent[-1].reason[:500]}",
            )
        )
    return fired


def _impact(spec: AgentTaskSpec, code: str) -> list[tuple[str, str]]:
    knobs = spec.autonomy.escalation
    caps = spec.capabilities
    found = []
    writes = javascript_writes(code) if caps.language is Language.JAVASCRIPT else file_writes(code)
    if writes:
        found.append(("WritesFiles", f"the code writes files ({', '.join(writes[:5])})"))
    if quantity_value(caps.cpu) > quantity_value(knobs.impact_cpu):
        found.append(("LargeCpu", f"capabilities.cpu {caps.cpu} is above {knobs.impact_cpu}"))
    if quantity_value(caps.memory) > quantity_value(knobs.impact_memory):
        found.append(("LargeMemory", f"capabilities.memory {caps.memory} is above {knobs.impact_memory}"))
    unsafe = sorted(set(caps.allowed_libraries) - set(knobs.safe_libraries))
    if unsafe:
        found.append(("UnsafeLibraries", f"allowed libraries outside the safe set: {', '.join(unsafe)}"))
    return found


def gate(spec: AgentTaskSpec, status: AgentTaskStatus, code: str, now: datetime) -> tuple[Gate, bool]:
    """The gate of the current iteration and whether a person must approve before the code runs: always at
    level A, else when an enabled trigger fired. Code a person already approved (or wrote) passes."""
    current = status.current
    assert current is not None
    enabled = set(spec.autonomy.triggers())
    everything = detect(spec, status, code, now)
    supervised = spec.autonomy.level is AutonomyLevel.A
    fired = everything if supervised else [t for t in everything if t.type in enabled]
    confidence = iteration_confidence(status)
    approved = (
        current.approved_code_sha256 is not None and current.approved_code_sha256 == current.code_sha256
    )
    needs_human = not approved and (supervised or bool(fired))
    return Gate(triggers=fired, confidence=confidence), needs_human
