"""Run a program against an agent-benchmark task (bench/agent_tasks.py) on this machine, as the sandbox would:
the task's data at /data and the working directory /output, both moved under a temporary directory, and
each criterion judged the way the sandbox's checks judge it. Used by the tests of the tasks themselves and by
the replay of the benchmark's recorded answers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from agent_tasks import TASKS, BenchTask

__all__ = ["TASKS", "BenchTask", "CheckedRun", "run_task_program"]


@dataclass(frozen=True)
class CheckedRun:
    """One run of a program and what each criterion said of it."""

    stdout: str
    stderr: str
    reasons: dict[str, str | None]
    """Per criterion: None when it passed, else why not (a test script's standard error)."""

    @property
    def failed(self) -> list[str]:
        return [name for name, reason in self.reasons.items() if reason is not None]


def run_task_program(task: BenchTask, program: str, tmp_path: Path) -> CheckedRun:
    """Run program with the task's data and judge every criterion of the task."""
    data, output = tmp_path / "data", tmp_path / "output"
    data.mkdir(parents=True)
    output.mkdir()
    for name, content in task.data.items():
        (data / name).write_text(content)
    source = program.replace("/data/", f"{data}/").replace("/output/", f"{output}/")
    run = subprocess.run(
        [sys.executable, "-c", source], cwd=output, capture_output=True, text=True, timeout=30
    )
    (tmp_path / "stdout").write_text(run.stdout)
    (tmp_path / "stderr").write_text(run.stderr)
    reasons = {c["name"]: _check(c, run, tmp_path, output) for c in task.criteria}
    return CheckedRun(run.stdout, run.stderr, reasons)


def _check(
    criterion: dict[str, Any], run: subprocess.CompletedProcess[str], tmp: Path, output: Path
) -> str | None:
    if "outputContains" in criterion:
        return None if criterion["outputContains"] in run.stdout else "stdout does not contain it"
    if "outputMatches" in criterion:
        found = re.search(criterion["outputMatches"], run.stdout, re.MULTILINE)
        return None if found else "stdout does not match it"
    env = {
        **os.environ,
        "LEVEL5_STDOUT_FILE": str(tmp / "stdout"),
        "LEVEL5_STDERR_FILE": str(tmp / "stderr"),
        "LEVEL5_EXIT_CODE": str(run.returncode),
    }
    check = subprocess.run(
        [sys.executable, "-c", criterion["testScript"]],
        cwd=output,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return None if check.returncode == 0 else check.stderr or f"exit code {check.returncode}"
