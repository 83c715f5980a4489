"""Run sandbox-image/runner.py for real (a local subprocess) and parse its output as the operator does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from level5.run_result import RESULT_MARKER, RunResultError, parse_pod_log

RUNNER = Path(__file__).resolve().parents[2] / "sandbox-image" / "runner.py"


def run_runner(tmp_path: Path, code: str, checks: list[dict[str, object]], timeout: float = 10) -> str:
    (tmp_path / "code").mkdir(parents=True)
    (tmp_path / "out").mkdir()
    main = tmp_path / "code" / "main.py"
    main.write_text(code)
    for i, check in enumerate(checks):
        if check["kind"] == "testScript":
            script = tmp_path / "code" / f"test_{i}.py"
            script.write_text(str(check.pop("source")))
            check["path"] = str(script)
    checks_file = tmp_path / "code" / "checks.json"
    checks_file.write_text(
        json.dumps({"outputDir": str(tmp_path / "out"), "timeoutSeconds": timeout, "checks": checks})
    )
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "--code", str(main), "--checks", str(checks_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"LEVEL5_WORK_DIR": str(tmp_path / "work")},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_marker_matches_operator() -> None:
    assert f'RESULT_MARKER = "{RESULT_MARKER}"' in RUNNER.read_text()


def test_success_with_all_check_kinds(tmp_path: Path) -> None:
    code = "import os\nprint('north 120.5')\nopen('report.txt','w').write('ok')\n"
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
