"""The agent benchmark's tasks are sound: each reference solution, run here with the task's data, passes
every criterion of its task (the way the sandbox's checks judge them), and a wrong program fails them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from agent_tasks import TASKS, BenchTask


def _run(task: BenchTask, program: str, tmp_path: Path) -> list[str]:
    """Run program as the sandbox would (data at /data, working directory /output, here both under
    tmp_path) and return the names of the criteria it fails."""
    data, output = tmp_path / "data", tmp_path / "output"
    data.mkdir()
    output.mkdir()
    for name, content in task.data.items():
        (data / name).write_text(content)
    source = program.replace("/data/", f"{data}/").replace("/output/", f"{output}/")
    run = subprocess.run(
        [sys.executable, "-c", source], cwd=output, capture_output=True, text=True, timeout=30
    )
    (tmp_path / "stdout").write_text(run.stdout)
    (tmp_path / "stderr").write_text(run.stderr)
    return [c["name"] for c in task.criteria if not _passes(c, run, tmp_path, output)]


def _passes(
    criterion: dict[str, Any], run: subprocess.CompletedProcess[str], tmp: Path, output: Path
) -> bool:
    if "outputContains" in criterion:
        return bool(criterion["outputContains"] in run.stdout)
    if "outputMatches" in criterion:
        return re.search(criterion["outputMatches"], run.stdout, re.MULTILINE) is not None
    env = {
        **os.environ,
        "LEVEL5_STDOUT_FILE": str(tmp / "stdout"),
        "LEVEL5_STDERR_FILE": str(tmp / "stderr"),
        "LEVEL5_EXIT_CODE": str(run.returncode),
    }
    check = subprocess.run([sys.executable, "-c", criterion["testScript"]], cwd=output, env=env, timeout=30)
    return check.returncode == 0


def test_at_least_30_tasks_with_half_the_criteria_hidden() -> None:
    assert len(TASKS) >= 30
    assert len({t.name for t in TASKS}) == len(TASKS)
    criteria = [c for t in TASKS for c in t.criteria]
    assert sum(bool(c.get("hidden")) for c in criteria) * 2 == len(criteria)
    assert {t.category for t in TASKS} == {"csv", "cleaning", "json", "text", "algorithms"}


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_reference_solution_passes(task: BenchTask, tmp_path: Path) -> None:
    assert _run(task, task.reference, tmp_path) == []


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_wrong_program_fails(task: BenchTask, tmp_path: Path) -> None:
    assert _run(task, "print('nothing useful')\n", tmp_path) != []
