"""Pure state-machine, stopping-rule and evaluation logic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from level5.api.spec import AgentTaskSpec, Iterations, SuccessCriterion
from level5.api.status import (
    AgentTaskStatus,
    Gate,
    HistoryEntry,
    LaunchState,
    Phase,
    ReviewSummary,
    Termination,
)
from level5.loop.evaluation import evaluate, failure_signature
from level5.loop.state_machine import ActionKind, decide_next, finish_iteration, start_iteration, with_phase
from level5.loop.stopping import not_converging, should_stop, similar_attempts
from level5.model.answers import Judgement
from level5.sandbox.result import RunResult

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SPEC = AgentTaskSpec.model_validate(
    {"goal": {"primary": "x", "successCriteria": [{"name": "a", "exitCode": 0}]}}
)


def with_history(*scores: float, signature: str | None = "sig", **extra: object) -> AgentTaskStatus:
    history = [
        HistoryEntry(iteration=i + 1, score=s, failure_signature=signature) for i, s in enumerate(scores)
    ]
    return AgentTaskStatus(iteration=len(scores), history=history, started_at=NOW, **extra)  # type: ignore[arg-type]


def test_fresh_task_generates_iteration_one() -> None:
    action = decide_next(SPEC, AgentTaskStatus(), NOW)
    assert (action.kind, action.iteration) == (ActionKind.GENERATE, 1)


def test_resume_points_follow_recorded_progress() -> None:
    status = start_iteration(AgentTaskStatus(), 1, NOW)
    assert decide_next(SPEC, status, NOW).kind is ActionKind.GENERATE  # model answer never stored
    current = status.current
    assert current is not None
    current = current.model_copy(update={"code_sha256": "abc", "code_config_map": "cm", "pod_name": "p"})
    assert decide_next(SPEC, status.model_copy(update={"current": current}), NOW).kind is ActionKind.REVIEW
    current = current.model_copy(update={"review": ReviewSummary(verdict="allow")})
    assert decide_next(SPEC, status.model_copy(update={"current": current}), NOW).kind is ActionKind.GATE
    waiting = current.model_copy(update={"gate": Gate(approval="csv-1-abc")})
    assert (
        decide_next(SPEC, status.model_copy(update={"current": waiting}), NOW).kind
        is ActionKind.AWAIT_APPROVAL
    )
    approved = waiting.model_copy(update={"approved_code_sha256": "abc"})
    assert decide_next(SPEC, status.model_copy(update={"current": approved}), NOW).kind is ActionKind.LAUNCH
    changed = approved.model_copy(update={"code_sha256": "def"})  # an approval binds to the code hash
    assert (
        decide_next(SPEC, status.model_copy(update={"current": changed}), NOW).kind
        is ActionKind.AWAIT_APPROVAL
    )
    current = current.model_copy(update={"gate": Gate()})  # no approval needed
    assert decide_next(SPEC, status.model_copy(update={"current": current}), NOW).kind is ActionKind.LAUNCH
    for state in (LaunchState.PENDING, LaunchState.CREATED):
        launched = current.model_copy(update={"launch_state": state})
        assert decide_next(SPEC, status.model_copy(update={"current": launched}), NOW).kind is ActionKind.WAIT


def test_success_and_terminal() -> None:
    assert decide_next(SPEC, with_history(0.5, 1.0), NOW).kind is ActionKind.SUCCEED
    done = with_history(1.0).model_copy(update={"phase": Phase.SUCCEEDED})
    assert decide_next(SPEC, done, NOW).kind is ActionKind.DONE


def test_failed_iteration_continues_until_max() -> None:
    assert decide_next(SPEC, with_history(0.0, signature=None), NOW).kind is ActionKind.GENERATE
    five = with_history(0.0, 0.1, 0.2, 0.3, 0.4, signature=None)
    action = decide_next(SPEC, five, NOW)
    assert (action.kind, action.reason) == (ActionKind.FAIL, "MaxIterationsReached")


def deleted(iteration: int) -> HistoryEntry:
    """An iteration whose pod someone else deleted mid-run, as the execute step closes it."""
    return HistoryEntry(iteration=iteration, termination=Termination.POD_DELETED, reason="deleted")


def close(status: AgentTaskStatus, entry: HistoryEntry) -> AgentTaskStatus:
    return finish_iteration(start_iteration(status, entry.iteration, NOW), entry, NOW)


def test_iterations_whose_pod_was_deleted_from_outside_do_not_count_against_max_iterations() -> None:
    limits = Iterations.model_validate({"maxIterations": 2, "maxInterruptedIterations": 3})
    status = AgentTaskStatus()
    status = close(status, HistoryEntry(iteration=1, failure_signature="sig"))
    status = close(status, deleted(2))
    assert status.totals.interrupted_iterations == 1
    assert should_stop(limits, status, NOW, []) is None  # one counted iteration of two: go on
    status = close(status, HistoryEntry(iteration=3, failure_signature="other"))
    stop = should_stop(limits, status, NOW, [])
    assert stop is not None and stop.reason == "MaxIterationsReached"


def test_a_task_whose_pods_keep_being_deleted_ends_with_sandbox_interrupted() -> None:
    limits = Iterations.model_validate({"maxIterations": 10, "maxInterruptedIterations": 3})
    status = AgentTaskStatus()
    for iteration in (1, 2):
        status = close(status, deleted(iteration))
        assert should_stop(limits, status, NOW, []) is None
    status = close(status, deleted(3))
    stop = should_stop(limits, status, NOW, [])
    assert stop is not None and stop.reason == "SandboxInterrupted"
    assert "maxInterruptedIterations is 3" in stop.message


def test_deleted_iterations_are_not_a_repeated_failure_nor_a_plateau() -> None:
    limits = Iterations.model_validate(
        {"maxIterations": 10, "maxInterruptedIterations": 5, "stuck": {"maxSameFailure": 2}}
    )
    status = AgentTaskStatus()
    status = close(status, HistoryEntry(iteration=1, failure_signature="sig", score=0.5))
    status = close(status, deleted(2))
    assert should_stop(limits, status, NOW, []) is None
    status = close(status, HistoryEntry(iteration=3, failure_signature="sig", score=0.5))
    stop = should_stop(limits, status, NOW, [])
    assert stop is not None and stop.reason == "StuckSameFailure"  # 1 and 3 failed alike; 2 says nothing
    plateau = Iterations.model_validate(
        {
            "maxIterations": 10,
            "maxInterruptedIterations": 5,
            "convergence": {"window": 1, "minImprovement": 0.1},
        }
    )
    rising = close(close(AgentTaskStatus(), HistoryEntry(iteration=1, score=0.2)), deleted(2))
    assert not_converging(plateau, rising) is None


def test_budgets() -> None:
    limits = Iterations.model_validate(
        {"maxIterations": 50, "budgets": {"tokens": 100, "cpuSeconds": 5, "wallClockSeconds": 60}}
    )
    status = with_history(0.0, signature=None)
    assert should_stop(limits, status, NOW, []) is None
    over_tokens = status.model_copy(update={"totals": status.totals.model_copy(update={"tokens": 100})})
    assert should_stop(limits, over_tokens, NOW, []).reason == "TokenBudgetExhausted"  # type: ignore[union-attr]
    over_cpu = status.model_copy(update={"totals": status.totals.model_copy(update={"cpu_seconds": 5.5})})
    assert should_stop(limits, over_cpu, NOW, []).reason == "CpuBudgetExhausted"  # type: ignore[union-attr]
    late = NOW + timedelta(seconds=61)
    assert should_stop(limits, status, late, []).reason == "WallClockBudgetExhausted"  # type: ignore[union-attr]


def test_same_failure_needs_n_identical_signatures() -> None:
    limits = Iterations.model_validate({"maxIterations": 50, "stuck": {"maxSameFailure": 3}})
    assert should_stop(limits, with_history(0, 0), NOW, []) is None
    assert should_stop(limits, with_history(0, 0, 0), NOW, []).reason == "StuckSameFailure"  # type: ignore[union-attr]
    mixed = with_history(0, 0, 0)
    mixed.history[1].failure_signature = "other"
    assert should_stop(limits, mixed, NOW, []) is None


def test_similar_attempts_uses_difflib_ratio() -> None:
    limits = Iterations.model_validate({"stuck": {"maxSimilarAttempts": 3, "similarityThreshold": 0.9}})
    base = "import csv\nfor row in csv.reader(open('/data/x.csv')):\n    print(row[0], row[3])\n"
    assert similar_attempts(limits, [base, base + "# a\n", base + "# b\n"]) is not None
    assert similar_attempts(limits, [base, base]) is None
    assert similar_attempts(limits, [base, "print('completely different approach')\n", base]) is None


def test_convergence_window() -> None:
    limits = Iterations.model_validate({"convergence": {"window": 2, "minImprovement": 0.2}})
    assert not_converging(limits, with_history(0.5, 0.5)) is None  # not enough history yet
    assert not_converging(limits, with_history(0.5, 0.6, 0.6)) is not None
    assert not_converging(limits, with_history(0.3, 0.3, 0.6)) is None
    off = Iterations.model_validate({"convergence": {"window": 1, "minImprovement": 0}})
    assert not_converging(off, with_history(0.5, 0.5, 0.5)) is None


def test_conditions_and_history_bounds() -> None:
    status = with_phase(AgentTaskStatus(), Phase.GENERATING, "Generating", "m", NOW, 3)
    progressing = next(c for c in status.conditions if c.type == "Progressing")
    assert progressing.status == "True" and progressing.observed_generation == 3
    later = with_phase(status, Phase.EXECUTING, "Executing", "m", NOW + timedelta(seconds=5), 3)
    again = next(c for c in later.conditions if c.type == "Progressing")
    assert again.last_transition_time == NOW  # status unchanged, so no new transition time
    status = AgentTaskStatus(started_at=NOW)
    for i in range(30):
        status = finish_iteration(
            start_iteration(status, i + 1, NOW),
            HistoryEntry(iteration=i + 1, tokens=10, cpu_seconds=0.5),
            NOW,
        )
    assert len(status.history) == 20 and status.history[0].iteration == 11
    assert status.totals.tokens == 300 and status.totals.cpu_seconds == 15.0


def _run(exit_code: int, checks: list[dict[str, object]]) -> RunResult:
    return RunResult.model_validate(
        {
            "version": 1,
            "exitCode": exit_code,
            "timedOut": False,
            "stdout": "out",
            "stderr": "",
            "stdoutBytes": 3,
            "stderrBytes": 0,
            "error": None,
            "checks": checks,
            "cpuSeconds": 0.1,
            "durationSeconds": 0.1,
            "outputFiles": [],
        }
    )


async def test_evaluation_scores_and_judges_only_after_machine_checks_pass() -> None:
    criteria = [SuccessCriterion(name="exit", exit_code=0), SuccessCriterion(name="j", judge="looks right")]
    asked: list[str] = []

    async def judge(criterion: SuccessCriterion) -> tuple[Judgement, int]:
        asked.append(criterion.name)
        return Judgement(passed=False, rationale="wrong totals"), 42

    failing = await evaluate(
        criteria, _run(1, [{"name": "exit", "kind": "exitCode", "passed": False}]), "-", judge
    )
    assert failing.score == 0.0 and asked == [] and "not judged" in failing.criteria[1].reason
    passing = await evaluate(
        criteria, _run(0, [{"name": "exit", "kind": "exitCode", "passed": True}]), "-", judge
    )
    assert passing.score == 0.5 and asked == ["j"] and passing.tokens == 42
    assert passing.criteria[1].reason == "wrong totals"
    no_run = await evaluate(criteria, None, "OOMKilled", judge)
    assert [c.reason for c in no_run.criteria] == ["OOMKilled", "OOMKilled"]


def test_failure_signature_ignores_numbers() -> None:
    assert failure_signature("KeyError", "line 12") == failure_signature("KeyError", "line 40")
    assert failure_signature("KeyError") != failure_signature("ValueError")
