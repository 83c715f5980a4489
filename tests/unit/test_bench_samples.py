"""`make bench`'s split of a cold sample into the sandbox's part and the operator's: the sandbox's part ends
when the checks' container is seen terminated or, when sooner, when the operator held the result (its
execution audit record): a streamed pod's result arrives on a stream before the kubelet reports the
container's end."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from bench import Timeline, results_in, sample_of


def _timeline(checks_done: float | None) -> Timeline:
    seen = Timeline(created=100.0, created_wall=5000.0, finished=102.5, phase="Succeeded")
    seen.pod_added["p"] = 100.2
    if checks_done is not None:
        seen.checks_done["p"] = checks_done
    return seen


def test_the_sandbox_part_ends_at_the_sooner_of_the_checks_end_and_the_result_in_hand() -> None:
    streamed = sample_of(_timeline(checks_done=103.4), result_wall=5002.0)  # result at perf 102.0
    assert streamed.sandbox == pytest.approx(1.8) and streamed.total == pytest.approx(2.5)
    fed = sample_of(_timeline(checks_done=101.5), result_wall=5001.6)  # checks ended first
    assert fed.sandbox == pytest.approx(1.3)
    assert sample_of(_timeline(checks_done=101.5)).sandbox == pytest.approx(1.3)  # no audit record
    assert sample_of(_timeline(checks_done=None)).sandbox is None


def test_results_in_reads_each_tasks_first_execution_record(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    records = [
        {"kind": "launch", "task": "ns/a", "time": "2026-12-01T07:00:00+00:00"},
        {"kind": "execution", "task": "ns/a", "time": "2026-12-01T07:00:02.500000+00:00"},
        {"kind": "execution", "task": "ns/a", "time": "2026-12-01T07:00:09+00:00"},  # a second iteration
    ]
    audit.write_text("".join(json.dumps(r) + "\n" for r in records))
    found = results_in(audit)
    assert list(found) == ["ns/a"]
    launched = datetime.fromisoformat("2026-12-01T07:00:00+00:00").timestamp()
    assert found["ns/a"] - launched == pytest.approx(2.5)
    assert results_in(tmp_path / "missing.jsonl") == {}
