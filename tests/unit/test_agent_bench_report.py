"""The agent benchmark's report survives a stopped run: it is rewritten after every task, read back into
the same rows, and a resumed run must measure the same model and iteration limit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from agent_bench import Block, TaskResult, load_results, resumable_meta, write_report

MODEL = "qwen2.5-coder-1.5b-instruct"
META: dict[str, Any] = {"model": MODEL, "machine": "x86_64, 2 cores", "max_iterations": 3}


def _rows() -> list[TaskResult]:
    blocked = TaskResult(
        "text-vowels", "text", "Failed", 3, None, 2400, 300.0, ["block", "allow", "allow"],
        [Block(1, "block", ["L5-IMPORT-001"], "false positive", "import os\n")],
        finished="2026-12-01T04:10:00Z", commit="abc1234",
    )  # fmt: skip
    solved = TaskResult(
        "algo-gcd-lcm", "algorithms", "Succeeded", 2, 2, 1500, 200.0, ["allow", "allow"],
        finished="2026-12-02T01:00:00Z", commit="def5678",
    )  # fmt: skip
    return [blocked, solved]


def test_a_report_reads_back_into_the_rows_it_was_written_from(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    report = write_report(path, _rows(), META)
    read = load_results(json.loads(path.read_text()))
    assert read == _rows()
    assert report["total"]["tasks"] == 2
    assert report["total"]["self_debugging_gain"] == 1
    assert report["total"]["blocks_false_positive"] == 1
    # A run that spans two days says so.
    assert report["meta"]["date"] == "2026-12-01 to 2026-12-02"
    assert not path.with_suffix(".tmp").exists()


def test_a_resumed_run_must_measure_the_same_model_and_limit() -> None:
    assert resumable_meta(META, MODEL, 3)["model"] == MODEL
    with pytest.raises(SystemExit, match="--max-iterations"):
        resumable_meta(META, MODEL, 5)
    with pytest.raises(SystemExit, match="same --model"):
        resumable_meta(META, "gpt-4o-mini", 3)
