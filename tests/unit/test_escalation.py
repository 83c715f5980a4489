"""Escalation triggers fire on their own condition and nothing else; the level decides who asks a person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from level5.api.spec import AgentTaskSpec
from level5.api.status import (
    AgentTaskStatus,
    Condition,
    CurrentIteration,
    HistoryEntry,
    ReviewSummary,
)
from level5.people.escalation import combined_confidence, detect, file_writes, gate

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CALM = "total = sum(range(10))\nprint(total)\n"


def spec(level: str = "B", **extra: object) -> AgentTaskSpec:
    goal = {"primary": "x", "successCriteria": [{"name": "a", "exitCode": 0}]}
    return AgentTaskSpec.model_validate({"goal": goal, "autonomy": {"level": level}, **extra})


def status(
    confidence: float | None = 0.9, uncertainty: str | None = None, **extra: object
) -> AgentTaskStatus:
    current = CurrentIteration(
        iteration=1,
        started_at=NOW,
        code_sha256="abc",
        confidence=confidence,
        uncertainty=uncertainty,
        review=extra.pop("review", ReviewSummary(verdict="allow")),  # type: ignore[arg-type]
    )
    extra.setdefault("started_at", NOW)
    return AgentTaskStatus(iteration=1, current=current, **extra)  # type: ignore[arg-type]


def fired(task_spec: AgentTaskSpec, task_status: AgentTaskStatus, code: str = CALM) -> set[str]:
    return {t.type.value for t in detect(task_spec, task_status, code, NOW)}


def test_calm_code_fires_nothing() -> None:
    assert fired(spec(), status()) == set()


def test_low_confidence_combines_self_report_review_and_scores() -> None:
    assert fired(spec(), status(confidence=0.1)) == {"LowConfidence"}
    # A confident model does not outvote an escalating review and a poor track record.
    history = [HistoryEntry(iteration=1, score=0.0, failure_signature="a")]
    escalated = ReviewSummary(verdict="escalate", rules=["L5-REFLECT-001"])
    assert combined_confidence(status(review=escalated).current, 0.0) == pytest.approx(0.575)  # type: ignore[arg-type]
    assert "LowConfidence" in fired(spec(autonomy={"level": "B", "escalation": {"confidenceThreshold": 0.6}}),
                                    status(review=escalated, history=history))  # fmt: skip


def test_anomaly_from_review_input_flag_run_and_withheld_output() -> None:
    escalated = ReviewSummary(verdict="escalate", rules=["L5-REFLECT-001"])
    assert "Anomaly" in fired(spec(), status(review=escalated))
    flag = Condition(type="InputFlagged", status="True", reason="x", last_transition_time=NOW)
    assert fired(spec(), status(conditions=[flag])) == {"Anomaly"}
    withheld = [HistoryEntry(iteration=1, output_withheld_rules=["role-override"])]
    assert fired(spec(), status(history=withheld)) == {"Anomaly"}


def test_impact_from_writes_resources_and_libraries() -> None:
    assert fired(spec(), status(), "open('/output/r.txt', 'w').write('x')\n") == {"Impact"}
    assert fired(spec(), status(), "import pandas as pd\npd.DataFrame().to_csv('/output/a.csv')\n") == {
        "Impact"
    }
    assert fired(spec(), status(), "print(open('/data/a.csv').read())\n") == set()
    assert fired(spec(capabilities={"memory": "2Gi"}), status()) == {"Impact"}
    assert fired(spec(capabilities={"allowedLibraries": ["requests"]}), status()) == {"Impact"}
    assert fired(spec(capabilities={"allowedLibraries": ["pandas"]}), status()) == set()
    assert file_writes("import pathlib\npathlib.Path('/output/x').write_text('y')\n") == ["write_text line 2"]


def test_time_fires_past_the_fraction_of_the_wall_clock_budget() -> None:
    budgeted = spec(iterations={"budgets": {"wallClockSeconds": 100}})
    assert fired(budgeted, status(started_at=NOW - timedelta(seconds=79))) == set()
    assert fired(budgeted, status(started_at=NOW - timedelta(seconds=81))) == {"Time"}


def test_uncertainty_only_when_the_model_states_one() -> None:
    assert fired(spec(), status(uncertainty="none")) == set()
    assert fired(spec(), status(uncertainty="N/A")) == set()
    assert fired(spec(), status(uncertainty="whether the CSV has a header")) == {"Uncertainty"}


def test_stuck_after_the_same_failure_repeats() -> None:
    same = [HistoryEntry(iteration=i, failure_signature="sig", reason="KeyError") for i in (1, 2)]
    assert fired(spec(), status(history=same[:1])) == set()
    assert fired(spec(), status(history=same)) == {"Stuck"}
    mixed = [same[0], HistoryEntry(iteration=2, failure_signature="other")]
    assert fired(spec(), status(history=mixed)) == set()


def test_levels_choose_who_asks() -> None:
    unsure = status(confidence=0.1, uncertainty="everything")
    for level, asks in (("A", True), ("B", True), ("C", False), ("D", False)):
        assert gate(spec(level), unsure, CALM, NOW)[1] is asks, level
    assert gate(spec("A"), status(), CALM, NOW)[1] is True  # A asks even when nothing fired
    assert gate(spec("D"), status(), CALM, NOW)[1] is False
    approved = status().model_copy(
        update={"current": status().current.model_copy(update={"approved_code_sha256": "abc"})}  # type: ignore[union-attr]
    )
    assert gate(spec("A"), approved, CALM, NOW)[1] is False  # a person already approved this exact code
    custom = spec(autonomy={"level": "D", "escalation": {"triggers": ["Uncertainty"]}})
    assert gate(custom, unsure, CALM, NOW)[1] is True
