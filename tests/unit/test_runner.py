"""Run sandbox-image/runner.py for real (local subprocesses: the program's run, then the checks, as the pod's
two containers do) and parse its output as the operator does."""

from __future__ import annotations

import ast
import asyncio
import json
from pathlib import Path

import pytest
from local_sandbox import RUNNER, run_locally

from level5.api.spec import AgentTaskSpec
from level5.safety.runtime_policy import policy_document
from level5.sandbox.result import RESULT_MARKER, RUNTIME_RULES, RunResultError, parse_pod_log

SPEC = AgentTaskSpec.model_validate(
    {"goal": {"primary": "x", "successCriteria": [{"name": "exit", "exitCode": 0}]}}
)


def run_runner(tmp_path: Path, code: str, checks: list[dict[str, object]], timeout: float = 10) -> str:
    scripts: dict[str, str] = {}
    for i, check in enumerate(checks):
        if check["kind"] == "testScript":
            scripts[f"test_{i}.py"] = str(check.pop("source"))
            check["path"] = f"/checks/test_{i}.py"
    policy = json.loads(policy_document(SPEC)) | {"timeoutSeconds": timeout}
    document = {"outputDir": "/output", "timeoutSeconds": timeout, "checks": checks}
    return asyncio.run(run_locally(tmp_path, code, json.dumps(policy), json.dumps(document), scripts))


def test_marker_matches_operator() -> None:
    assert f'RESULT_MARKER = "{RESULT_MARKER}"' in RUNNER.read_text()


def test_success_with_all_check_kinds(tmp_path: Path) -> None:
    code = "print('north 120.5')\nopen('report.txt','w').write('ok')\n"
    checks = [
        {"name": "exit", "kind": "exitCode", "value": 0},
        {"name": "has-north", "kind": "outputContains", "value": "north"},
        {"name": "number", "kind": "outputMatches", "value": r"^north \d+\.\d$"},
        {
            "name": "file",
            "kind": "testScript",
            "source": "import os,sys\nassert open('report.txt').read()=='ok'\n"
            "assert 'north' in open(os.environ['LEVEL5_STDOUT_FILE']).read()\n"
            "assert os.environ['LEVEL5_EXIT_CODE']=='0'\n",
        },
    ]
    result = parse_pod_log(run_runner(tmp_path, code, checks))
    assert result.exit_code == 0 and result.error is None
    assert [c.passed for c in result.checks] == [True, True, True, True], result.checks
    assert result.stdout == "north 120.5\n"
    assert [f.path.endswith("report.txt") for f in result.output_files] == [True]


def test_exception_gives_type_message_traceback(tmp_path: Path) -> None:
    code = "def f():\n    raise KeyError('region')\nprint('partial')\nf()\n"
    result = parse_pod_log(
        run_runner(
            tmp_path,
            code,
            [
                {"name": "exit", "kind": "exitCode", "value": 0},
                {"name": "x", "kind": "outputContains", "value": "zzz"},
            ],
        )
    )
    assert result.exit_code == 1
    assert result.error is not None
    assert result.error.type == "KeyError" and result.error.message == "'region'"
    assert "line 2, in f" in result.error.traceback
    assert [c.passed for c in result.checks] == [False, False]
    assert "exit code 1" in result.checks[0].reason


def test_failing_test_script_reports_its_error(tmp_path: Path) -> None:
    result = parse_pod_log(
        run_runner(
            tmp_path,
            "print(1)\n",
            [{"name": "t", "kind": "testScript", "source": "raise SystemExit('missing report.txt')\n"}],
        )
    )
    assert not result.checks[0].passed
    assert "missing report.txt" in result.checks[0].reason


def test_timeout_kills_the_program(tmp_path: Path) -> None:
    result = parse_pod_log(
        run_runner(
            tmp_path,
            "import time\nprint('start', flush=True)\ntime.sleep(30)\n",
            [{"name": "exit", "kind": "exitCode", "value": 0}],
            timeout=1,
        )
    )
    assert result.timed_out and result.error is not None and result.error.type == "Timeout"
    assert result.duration_seconds < 10
    assert not result.checks[0].passed


def test_output_is_capped(tmp_path: Path) -> None:
    result = parse_pod_log(run_runner(tmp_path, "import sys\nsys.stdout.write('x' * 1_000_000)\n", []))
    assert result.stdout_bytes == 1_000_000
    assert len(result.stdout) == 64 * 1024


def test_syntax_error(tmp_path: Path) -> None:
    result = parse_pod_log(run_runner(tmp_path, "def broken(:\n", []))
    assert result.error is not None and result.error.type == "SyntaxError"


def test_parse_rejects_missing_marker_and_bad_json() -> None:
    with pytest.raises(RunResultError, match="no result marker"):
        parse_pod_log("Traceback...\nKilled\n")
    with pytest.raises(RunResultError, match="invalid result document"):
        parse_pod_log(f'{RESULT_MARKER}\n{{"version": 1}}\n')
    with pytest.raises(RunResultError, match="larger than"):
        parse_pod_log("x" * (2 * 1024 * 1024))


def test_peak_memory_of_the_program_is_reported(tmp_path: Path) -> None:
    small = parse_pod_log(run_runner(tmp_path / "small", "print('x')\n", []))
    big = parse_pod_log(
        run_runner(tmp_path / "big", "block = bytearray(64 * 1024 * 1024)\nprint(len(block))\n", [])
    )
    assert 0 < small.peak_memory_bytes < big.peak_memory_bytes
    assert big.peak_memory_bytes >= 64 * 1024 * 1024


def test_policy_violation_stops_the_program_and_is_reported(tmp_path: Path) -> None:
    code = "print('before')\ntry:\n    import subprocess\nexcept BaseException:\n    print('swallowed')\n"
    code += "print('after')\n"
    result = parse_pod_log(run_runner(tmp_path, code, [{"name": "exit", "kind": "exitCode", "value": 0}]))
    assert result.exit_code == 86 and result.stdout == "before\n"
    assert result.policy_violation is not None
    assert (result.policy_violation.rule, result.policy_violation.line) == ("L5-RT-IMPORT", 3)
    assert result.error is not None and result.error.type == "PolicyViolation"
    assert "L5-RT-IMPORT" in result.error.message and not result.checks[0].passed


def test_checks_never_see_what_the_program_planted_in_the_report(tmp_path: Path) -> None:
    """The program can write into the report directory while it runs; the runner empties it afterwards."""
    code = (
        "import json\nfor name in ('program.json', 'stdout.txt'):\n"
        "    open('../report/' + name, 'w').write(json.dumps({'exitCode': 0}))\nraise SystemExit(3)\n"
    )
    policy_free = json.loads(policy_document(SPEC)) | {"writeRoots": ["/"], "readRoots": ["/"]}
    document = {
        "outputDir": "/output",
        "timeoutSeconds": 10,
        "checks": [{"name": "e", "kind": "exitCode", "value": 0}],
    }
    output = asyncio.run(run_locally(tmp_path, code, json.dumps(policy_free), json.dumps(document), {}))
    result = parse_pod_log(output)
    assert result.exit_code == 3 and not result.checks[0].passed


def test_runtime_rules_match_the_operator() -> None:
    text = (RUNNER.parent / "policy.py").read_text()
    rules = text[text.index("RULES = {") : text.index("}", text.index("RULES = {")) + 1]
    assert ast.literal_eval(rules.removeprefix("RULES = ")) == RUNTIME_RULES
