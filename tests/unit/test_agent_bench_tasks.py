"""The agent benchmark's tasks are sound: each reference solution, run here with the task's data, passes
every criterion of its task (the way the sandbox's checks judge them), and a wrong program fails them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from agent_task_runs import TASKS, BenchTask, run_task_program
from level5.api.spec import AgentTaskSpec
from level5.loop.prompts import system_prompt


def _run(task: BenchTask, program: str, tmp_path: Path) -> list[str]:
    return run_task_program(task, program, tmp_path).failed


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


@pytest.mark.parametrize(
    "task", [t for t in TASKS if any(n.endswith(".csv") for n in t.data)], ids=lambda t: t.name
)
def test_a_csv_task_names_its_columns(task: BenchTask) -> None:
    # csv-column-stats did not (2026-12-01): the model guessed the units column's index and summed products.
    for name, content in task.data.items():
        if name.endswith(".csv"):
            assert f"/data/{name} (columns {', '.join(content.splitlines()[0].split(','))})" in task.goal


@pytest.mark.parametrize(
    "script",
    [c["testScript"] for t in TASKS for c in t.criteria if c.get("hidden") and "testScript" in c],
)
def test_a_hidden_test_script_says_what_the_program_produced(script: str) -> None:
    # A hidden check's failure reaches the model only as its last line: a fixed 'wrong rows' told the model
    # nothing (csv-filter-write, 2026-12-01), what its program wrote tells it where to look, and gives
    # nothing of the expectation away.
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Assert):
            assert node.msg is not None and not isinstance(node.msg, ast.Constant), ast.unparse(node)


@pytest.mark.parametrize("task", TASKS, ids=lambda t: t.name)
def test_the_prompt_names_the_files_the_goal_asks_for(task: BenchTask) -> None:
    spec = AgentTaskSpec.model_validate(task.manifests(3)[-1]["spec"])
    sandbox = system_prompt(spec).split("SANDBOX:")[1]
    to_write = sandbox.split("files to write: ")[1].split("\n")[0]
    wanted = re.findall(r"/output/[\w.-]*\w", task.goal)
    assert (to_write == "none required") is not wanted
    for path in wanted:
        assert path in to_write and f"Readable paths: {', '.join(spec.capabilities.files.read)}" in sandbox
