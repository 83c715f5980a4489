"""Layer 4 monitoring: anomalies over the iteration history (pure), and the runner's stream cap in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from level5.api.spec import Capabilities
from level5.api.status import HistoryEntry
from level5.observability.monitoring import AnomalyKind, cpu_cores, detect_anomalies, executed, termination
from level5.sandbox.result import MAX_STREAM_BYTES

RUNNER = Path(__file__).resolve().parents[2] / "sandbox-image" / "runner.py"
CAPS = Capabilities(cpu="500m", timeout_seconds=10, memory="64Mi")


def ran(iteration: int, **fields: object) -> HistoryEntry:
    """A history entry of a run the runner reported on (clean exit unless fields say otherwise)."""
    values: dict[str, object] = {
        "iteration": iteration,
        "exit_code": 0,
        "run_seconds": 1.0,
        "stdout_bytes": 10,
        "stderr_bytes": 0,
        "cpu_seconds": 0.1,
    }
    return HistoryEntry.model_validate({**values, **fields})


def kinds(history: list[HistoryEntry]) -> list[AnomalyKind]:
    return [a.kind for a in detect_anomalies(history, CAPS)]


def test_stream_cap_matches_the_runner() -> None:
    assert f"MAX_STREAM_BYTES = {MAX_STREAM_BYTES // 1024} * 1024" in RUNNER.read_text()


def test_clean_run_and_unexecuted_iterations_show_nothing() -> None:
    assert kinds([]) == []
    assert kinds([ran(1)]) == []
    blocked = HistoryEntry(iteration=2, review_verdict="block", stdout_bytes=10**9, cpu_seconds=0)
    assert kinds([ran(1), blocked]) == []  # never ran: no run data to judge
    assert not executed(blocked)


@pytest.mark.parametrize("stream", ["stdout_bytes", "stderr_bytes"])
def test_output_flood_beyond_the_runner_cap(stream: str) -> None:
    assert kinds([ran(1, **{stream: MAX_STREAM_BYTES})]) == []
    found = detect_anomalies([ran(1, **{stream: MAX_STREAM_BYTES + 1})], CAPS)
    assert [a.kind for a in found] == [AnomalyKind.OUTPUT_FLOOD]
    assert stream.split("_")[0] in found[0].message


def test_repeated_crash_needs_three_same_endings_in_a_row() -> None:
    crash = [ran(i, exit_code=2) for i in (1, 2, 3)]
    assert AnomalyKind.REPEATED_CRASH in kinds(crash)
    assert AnomalyKind.REPEATED_CRASH not in kinds(crash[:2])
    assert AnomalyKind.REPEATED_CRASH not in kinds([*crash[:2], ran(3, exit_code=1)])
    assert AnomalyKind.REPEATED_CRASH not in kinds([*crash[:2], ran(3)])
    assert AnomalyKind.REPEATED_CRASH not in kinds([ran(i) for i in (1, 2, 3)])  # clean exits are no crash
    # Unexecuted iterations in between do not break the streak; a later clean run does.
    blocked = HistoryEntry(iteration=3, review_verdict="block")
    streak = [ran(1, exit_code=2), ran(2, exit_code=2), blocked, ran(4, exit_code=2)]
    assert AnomalyKind.REPEATED_CRASH in kinds(streak)


def test_repeated_oom_without_a_runner_report() -> None:
    oom = [HistoryEntry(iteration=i, termination="OOMKilled") for i in (1, 2, 3)]
    assert kinds(oom) == [AnomalyKind.REPEATED_CRASH, AnomalyKind.RESOURCE_SPIKE]
    assert "OOMKilled" in detect_anomalies(oom, CAPS)[0].message


def test_resource_spike_near_cpu_limit_times_timeout() -> None:
    # 0.5 cores x 10 s = 5 CPU-seconds allowed; 90 % of it or more is a spike.
    assert kinds([ran(1, cpu_seconds=4.4)]) == []
    spike = detect_anomalies([ran(1, cpu_seconds=4.5)], CAPS)
    assert [a.kind for a in spike] == [AnomalyKind.RESOURCE_SPIKE]
    assert "4.5 CPU-seconds" in spike[0].message


def test_kill_switch_endings_are_not_executions() -> None:
    for reason in ("Cancelled", "EmergencyStop"):
        stopped = HistoryEntry(iteration=1, termination=reason)
        assert not executed(stopped) and kinds([stopped]) == []


def test_termination_and_cpu_quantities() -> None:
    assert termination("OOMKilled: the program used more than 64Mi", False) == "OOMKilled"
    assert termination("DeadlineExceeded: the sandbox ran longer than 70s", False) == "DeadlineExceeded"
    assert termination("Evicted: low on memory", False) == "Evicted"
    assert termination(None, True) == "Timeout"
    assert termination("the runner exited 1 (Error)", False) is None
    assert cpu_cores("500m") == 0.5 and cpu_cores("2") == 2.0 and cpu_cores("1.5") == 1.5
    with pytest.raises(ValueError, match="not a CPU quantity"):
        cpu_cores("1Gi")
