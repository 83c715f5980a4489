"""Why the agent benchmark's tasks failed on 2026-12-01, replayed from what was recorded: the operator's real
prompts and Qwen2.5-Coder-1.5B's real answers (greedy decoding, the current prompts) of three `make
bench-agent` runs, kept in tests/corpora/agent-bench-runs as bench/recording_proxy.py wrote them. Each
answer's program is taken out with the operator's own parser and run here against its task's data and
criteria (tests/agent_task_runs.py), which tells the model's own bugs from failures that were not the
model's; each fix made for the latter is shown on the recorded answer that needed it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent_task_runs import TASKS, BenchTask, run_task_program
from level5.api.spec import AgentTaskSpec
from level5.api.status import CriterionResult
from level5.loop.prompts import REVIEW_FIX_HINTS, describe_failure, generation_messages
from level5.model.answers import parse_answer
from level5.observability.monitoring import termination
from level5.safety.review.reviewer import Verdict, review_code
from level5.sandbox.outcome import SANDBOX_START_FAILED, pod_failure

RUNS = Path(__file__).resolve().parents[1] / "corpora" / "agent-bench-runs"
_GOAL = re.compile(r"GOAL:\n(.*?)\n\nCONSTRAINTS", re.S)
_ATTEMPT = re.compile(r"\(attempt (\d+)\)")
# A goal recorded before its columns were named (csv-column-stats) is still that task's.
_COLUMNS = re.compile(r" \(columns [^)]*\)")


@dataclass(frozen=True)
class Exchange:
    """One recorded request and answer of a benchmark run."""

    run: str
    task: BenchTask
    iteration: int
    prompt: str
    """The last user message: the first request, or the feedback on the iteration before."""
    answer: str
    finish_reason: str | None


def _exchanges() -> list[Exchange]:
    by_goal = {_COLUMNS.sub("", t.goal): t for t in TASKS}
    found = []
    for path in sorted(RUNS.glob("answers-*.jsonl")):
        for line in path.read_text().splitlines():
            record: dict[str, Any] = json.loads(line)
            goal = _GOAL.search(record["messages"][0]["content"])
            prompt = record["messages"][-1]["content"]
            attempt = _ATTEMPT.search(prompt)
            found.append(
                Exchange(
                    path.stem.removeprefix("answers-"),
                    by_goal[_COLUMNS.sub("", goal.group(1) if goal else "")],
                    int(attempt.group(1)) if attempt else 1,
                    prompt,
                    record["answer"],
                    record.get("finish_reason"),
                )
            )
    return found


EXCHANGES = _exchanges()


def _of(task: str, run: str | None = None) -> list[Exchange]:
    return [e for e in EXCHANGES if e.task.name == task and (run is None or e.run == run)]


def _spec(task: BenchTask) -> AgentTaskSpec:
    return AgentTaskSpec.model_validate(task.manifests(3)[-1]["spec"])


def _program(exchange: Exchange) -> str:
    code = parse_answer(exchange.answer).code
    assert code is not None
    return code


# The model's own bugs: the same criteria fail here as in the run (the review allowed these programs).
MODEL_BUGS = [
    ("csv-average-age", 1, ["lisbon", "porto"]),  # TypeError: len() of the running float sum, three times
    ("algo-fibonacci", 1, ["starts", "all"]),  # starts at 1, not 0, three times
    ("text-log-errors", 3, ["error-count", "top"]),  # KeyError on a WARN message
    ("clean-emails", 2, ["answer"]),  # column 3 (amount) taken for the email: 'emails: 6'
    ("text-line-stats", 2, ["lines"]),  # count('\n') + 1 with a final newline: 'lines: 3'
    ("csv-filter-write", 1, ["file"]),  # csv.writer.writerows of dicts writes their keys
    ("csv-to-json", 1, ["json"]),  # the age left a string
]


@pytest.mark.parametrize(("task", "iteration", "failed"), MODEL_BUGS, ids=[m[0] for m in MODEL_BUGS])
def test_the_model_s_own_bugs_fail_here_too(
    task: str, iteration: int, failed: list[str], tmp_path: Path
) -> None:
    exchange = next(e for e in _of(task) if e.iteration == iteration)
    assert run_task_program(exchange.task, _program(exchange), tmp_path).failed == failed


@pytest.mark.parametrize("task", ["csv-temp-range", "clean-write-csv"])
def test_right_programs_failed_because_the_sandbox_never_started_them(task: str, tmp_path: Path) -> None:
    # Every iteration of the 02:26 run: told "DeadlineExceeded: the sandbox ran longer than 90s", the model
    # "optimised" or added timers to programs that pass every criterion; the program's container had no
    # container ID (the syscall monitor: Unavailable in all 12 runs, Observed in the run before).
    exchanges = _of(task, "20261201T022640Z")
    assert [e.iteration for e in exchanges] == [1, 2, 3]
    for n, exchange in enumerate(exchanges):
        assert run_task_program(exchange.task, _program(exchange), tmp_path / str(n)).failed == []
    assert all("DeadlineExceeded: the sandbox ran longer than" in e.prompt for e in exchanges[1:])


def _pod(program_state: dict[str, Any]) -> dict[str, Any]:
    return {
        "spec": {"activeDeadlineSeconds": 90, "containers": [{"resources": {"limits": {"memory": "256Mi"}}}]},
        "status": {
            "phase": "Failed",
            "reason": "DeadlineExceeded",
            "initContainerStatuses": [{"name": "program", "state": program_state}],
            "containerStatuses": [{"name": "checks", "state": {"waiting": {"reason": "PodInitializing"}}}],
        },
    }


def test_a_program_that_never_started_is_told_apart_from_one_that_ran_too_long() -> None:
    waited = _pod({"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "x"'}})
    failure = pod_failure(waited) or ""
    assert failure.startswith(SANDBOX_START_FAILED) and "ImagePullBackOff" in failure and "90s" in failure
    assert termination(failure, False) is None  # not a kill of a running program
    ran = _pod({"terminated": {"exitCode": 137, "reason": "Error", "startedAt": "2026-12-01T02:27:40Z"}})
    assert pod_failure(ran) == "DeadlineExceeded: the sandbox ran longer than 90s"
    running = {
        **ran,
        "status": {**ran["status"], "initContainerStatuses": [{"name": "program", "state": {}}]},
    }
    running["status"]["initContainerStatuses"][0]["state"] = {
        "running": {"startedAt": "2026-12-01T02:27:40Z"}
    }
    assert (pod_failure(running) or "").startswith("DeadlineExceeded")
    never_created = {**ran, "status": {"phase": "Failed", "reason": "DeadlineExceeded"}}
    assert (pod_failure(never_created) or "").startswith(SANDBOX_START_FAILED)

    told = describe_failure(pod_failure=failure)
    assert "not of the program" in told and "The sandbox stopped the program" not in told
    assert "stopped the program" in describe_failure(pod_failure=pod_failure(ran))


def test_after_an_answer_without_a_program_the_model_is_asked_for_the_program_again() -> None:
    # json-events-per-hour: the first answer looped on print("10:00 0") up to the 700-token limit, so it
    # held no complete program (rightly: the parser reports it cut off). The next two requests asked to
    # "find the cause" in a program the prompt did not show, and the model refused both times.
    first, second, third = _of("json-events-per-hour")
    assert first.finish_reason == "length"
    parsed = parse_answer(first.answer)
    assert parsed.code is None and parsed.problem is not None and "cut off" in parsed.problem
    for refused in (second, third):
        assert "Find the cause" in refused.prompt and "Your previous program" not in refused.prompt
        assert parse_answer(refused.answer).code is None and "can't assist" in refused.answer.replace(
            "not", "'t"
        )
    feedback = describe_failure(answer_problem=parsed.problem)
    request = generation_messages(_spec(first.task), 2, None, feedback)[-1]["content"]
    assert "Find the cause" not in request and "cut off" in request
    assert request.endswith("Write the program, in Python.")  # the first request's words, which it answers
    # With a program to look at, the request is unchanged.
    shown = generation_messages(_spec(first.task), 2, "print(1)\n", "Exit code: 1")[-1]["content"]
    assert "Your previous program" in shown and "Find the cause" in shown


def test_a_failed_hidden_file_check_shows_what_the_program_wrote(tmp_path: Path) -> None:
    exchange = _of("csv-filter-write")[0]
    assert "file (hidden): AssertionError: wrong rows" in _of("csv-filter-write")[1].prompt  # what it got
    run = run_task_program(exchange.task, _program(exchange), tmp_path)
    reason = run.reasons["file"]
    assert reason is not None
    told = describe_failure(
        criteria=[CriterionResult(name="file", kind="testScript", passed=False, reason=reason)],
        hidden=frozenset({"file"}),
    )
    # The rows it wrote (each dict's keys), never the rows expected.
    assert "file (hidden): AssertionError: rows [['name', 'age', 'city']" in told
    assert "Chloe" not in told


@pytest.mark.parametrize(
    ("task", "iteration", "rules"),
    [
        ("text-line-stats", 1, {"L5-IMPORT-001", "L5-REACH-001"}),  # import os, unused
        ("text-line-stats", 3, {"L5-FILE-001"}),  # os.path.exists('/data/text.txt'), no import
        ("clean-emails", 3, {"L5-FILE-001"}),
    ],
)
def test_an_os_path_block_says_what_to_use_instead(task: str, iteration: int, rules: set[str]) -> None:
    exchange = next(e for e in _of(task) if e.iteration == iteration)
    review = review_code(_program(exchange), allowed_libraries=[], max_lines=80)
    found = [f.rule for f in review.findings]
    assert review.verdict is Verdict.BLOCK and set(found) == rules
    told = describe_failure(review_feedback=review.feedback(), review_rules=found)
    assert "How to fix it:" in told and "open('/data/name.csv')" in told
    if "L5-FILE-001" in rules:  # the rule's own message ("outside /output") did not say it
        assert "do not check for them, os.path is blocked" in told


def test_every_fix_hint_is_keyed_by_a_rule_the_review_reports_on_recorded_programs() -> None:
    reported = set()
    for exchange in EXCHANGES:
        code = parse_answer(exchange.answer).code
        if code is not None:
            reported |= {f.rule for f in review_code(code, allowed_libraries=[], max_lines=80).findings}
    # L5-FILE-002 (a path through a parameter) is shown on its own program in test_prompts_and_model.py.
    assert set(REVIEW_FIX_HINTS) - {"L5-FILE-002"} <= reported
