"""level5 sandbox runner: run one generated program, check it, report one JSON document.

Runs inside the locked-down sandbox pod as
    python3 /opt/level5/runner.py --code /code/main.py --checks /code/checks.json
Standard library only (the image has python3.11). The program runs in a subprocess with the working
directory /output; its stdout and stderr are captured with a size cap and never reach the pod log, so the
only thing the pod prints is RESULT_MARKER on a line of its own followed by one line of JSON. The operator
reads the last two log lines, checks the marker and validates the JSON against level5.run_result.RunResult.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

RESULT_MARKER = "=====LEVEL5-RESULT-6f1d0c9a7b====="
RESULT_VERSION = 1
MAX_STREAM_BYTES = 64 * 1024
MAX_TRACEBACK_CHARS = 8 * 1024
MAX_OUTPUT_FILES = 100
WORK_DIR = Path(os.environ.get("LEVEL5_WORK_DIR", "/tmp/level5"))  # noqa: S108 - the pod's private emptyDir

# Last line of a Python error report, e.g. "KeyError: 'region'" or "pandas.errors.ParserError: ...".
_ERROR_LINE = re.compile(
    r"^((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning))(?::\s?(.*))?$"
)


class CappedReader(threading.Thread):
    """Drain a pipe in the background, keeping only the first `cap` bytes so a chatty program cannot
    exhaust the runner's memory, while counting everything it wrote."""

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.cap = cap
        self.kept = bytearray()
        self.total = 0

    def run(self) -> None:
        for chunk in iter(lambda: self.stream.read(8192), b""):
            self.total += len(chunk)
            room = self.cap - len(self.kept)
            if room > 0:
                self.kept += chunk[:room]

    def text(self) -> str:
        return self.kept.decode("utf-8", errors="replace")


def child_env(output_dir: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: nothing of the runner's own environment leaks into the program."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(WORK_DIR),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "MPLCONFIGDIR": str(WORK_DIR),
        "LEVEL5_OUTPUT_DIR": output_dir,
        "LEVEL5_DATA_DIR": "/data",
    }
    env.update(extra or {})
    return env


def run_process(argv: list[str], cwd: str, env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run argv with capped output; on timeout kill its whole process group."""
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    readers = [CappedReader(proc.stdout, MAX_STREAM_BYTES), CappedReader(proc.stderr, MAX_STREAM_BYTES)]
    for reader in readers:
        reader.start()
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    # Kill leftovers (also children the program forked) so the readers see end-of-file.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    return {
        "returncode": proc.returncode,
        "timedOut": timed_out,
        "stdout": readers[0].text(),
        "stderr": readers[1].text(),
        "stdoutBytes": readers[0].total,
        "stderrBytes": readers[1].total,
        "durationSeconds": round(time.monotonic() - started, 3),
    }


def parse_error(
    stderr: str, returncode: int | None, timed_out: bool, timeout: float
) -> dict[str, str] | None:
    """Error type, message and traceback of a failed run, for the model to debug."""
    if timed_out:
        return {
            "type": "Timeout",
            "message": f"the program ran longer than {timeout:g}s and was killed",
            "traceback": "",
        }
    if returncode is not None and returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.Signals._value2member_map_ else ""
        hint = " (probably out of memory)" if name == "SIGKILL" else ""
        return {
            "type": "Killed",
            "message": f"the program was killed by signal {name or -returncode}{hint}",
            "traceback": stderr[-MAX_TRACEBACK_CHARS:],
        }
    start = stderr.rfind("Traceback (most recent call last):")
    if start < 0 and returncode == 0:
        return None
    tail = stderr[start:] if start >= 0 else stderr
    lines = [line for line in tail.strip().splitlines() if line.strip()]
    error_type, message = "NonZeroExit", f"the program exited with code {returncode}"
    match = _ERROR_LINE.match(lines[-1]) if lines else None
    if match:  # syntax errors have no "Traceback" header, so the last line alone decides
        error_type, message = match.group(1), match.group(2) or ""
    elif start >= 0 and lines:
        message = lines[-1]
    return {"type": error_type, "message": message[:2048], "traceback": tail[-MAX_TRACEBACK_CHARS:]}


def evaluate_check(
    check: dict[str, Any], run: dict[str, Any], output_dir: str, timeout: float
) -> dict[str, Any]:
    """Run one machine-checkable criterion against the program's run."""
    kind = check["kind"]
    result: dict[str, Any] = {"name": check["name"], "kind": kind, "passed": False, "reason": ""}
    if kind == "exitCode":
        expected = int(check["value"])
        result["passed"] = run["returncode"] == expected and not run["timedOut"]
        result["reason"] = f"exit code {run['returncode']}, expected {expected}"
    elif kind == "outputContains":
        result["passed"] = check["value"] in run["stdout"]
        result["reason"] = (
            "found in stdout" if result["passed"] else f"stdout does not contain {check['value']!r}"
        )
    elif kind == "outputMatches":
        try:
            result["passed"] = re.search(check["value"], run["stdout"], re.MULTILINE) is not None
            result["reason"] = (
                "stdout matches" if result["passed"] else f"stdout does not match {check['value']!r}"
            )
        except re.error as exc:
            result["reason"] = f"invalid regular expression: {exc}"
    elif kind == "testScript":
        env = child_env(
            output_dir,
            {
                "LEVEL5_STDOUT_FILE": str(WORK_DIR / "stdout.txt"),
                "LEVEL5_STDERR_FILE": str(WORK_DIR / "stderr.txt"),
                "LEVEL5_EXIT_CODE": str(run["returncode"]),
            },
        )
        test = run_process([sys.executable, check["path"]], output_dir, env, timeout)
        result["passed"] = test["returncode"] == 0 and not test["timedOut"]
        detail = (test["stderr"] or test["stdout"]).strip()[-1024:]
        status = "timed out" if test["timedOut"] else f"exited {test['returncode']}"
        result["reason"] = f"test script {status}" + (
            f": {detail}" if detail and not result["passed"] else ""
        )
    else:
        result["reason"] = f"unknown check kind {kind!r}"
    return result


def list_output_files(output_dir: str) -> list[dict[str, Any]]:
    """Files the program left in the output directory (names and sizes only)."""
    files: list[dict[str, Any]] = []
    for root, _dirs, names in os.walk(output_dir):
        for name in sorted(names):
            path = Path(root, name)
            try:
                files.append({"path": str(path), "bytes": path.stat().st_size})
            except OSError:
                continue
            if len(files) >= MAX_OUTPUT_FILES:
                return files
    return files


class IsolationError(RuntimeError):
    """The pod's network is not (yet) cut off, so generated code must not run."""


def wait_for_isolation(limit_seconds: float = 20.0) -> None:
    """Wait until the pod's deny-all NetworkPolicy is in effect before any generated code runs.

    A policy enforcer learns a new pod's IP from the API server, so a pod's first packets can pass
    before its rules exist. The kubelet always tells a pod where the API server is; while a TCP
    connection to it is answered (accepted or refused) packets still flow, and once it goes unanswered
    the network is cut. Outside Kubernetes (no KUBERNETES_SERVICE_HOST) there is nothing to wait for.
    """
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        return
    port = int(os.environ.get("KUBERNETES_SERVICE_PORT", "443"))
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
        except TimeoutError:
            return  # unanswered: dropped by the policy
        except OSError as exc:
            if exc.errno in (101, 113):  # ENETUNREACH, EHOSTUNREACH: no route out either
                return
        time.sleep(0.2)
    raise IsolationError(f"network still reachable after {limit_seconds:.0f}s; refusing to run the code")


def run(code: Path, checks_file: Path) -> dict[str, Any]:
    """Run the program and its checks; return the result document."""
    spec = json.loads(checks_file.read_text())
    wait_for_isolation()
    output_dir = spec.get("outputDir", "/output")
    timeout = float(spec.get("timeoutSeconds", 60))
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    program = run_process([sys.executable, str(code)], output_dir, child_env(output_dir), timeout)
    (WORK_DIR / "stdout.txt").write_text(program["stdout"])
    (WORK_DIR / "stderr.txt").write_text(program["stderr"])
    checks = [evaluate_check(check, program, output_dir, timeout) for check in spec.get("checks", [])]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "version": RESULT_VERSION,
        "exitCode": program["returncode"],
        "timedOut": program["timedOut"],
        "stdout": program["stdout"],
        "stderr": program["stderr"],
        "stdoutBytes": program["stdoutBytes"],
        "stderrBytes": program["stderrBytes"],
        "error": parse_error(program["stderr"], program["returncode"], program["timedOut"], timeout),
        "checks": checks,
        "cpuSeconds": round(usage.ru_utime + usage.ru_stime, 3),
        # ru_maxrss is in KiB on Linux: the largest resident set of the program and its checks.
        "peakMemoryBytes": usage.ru_maxrss * 1024,
        "durationSeconds": program["durationSeconds"],
        "outputFiles": list_output_files(output_dir),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a level5 program and its checks; print one result.")
    parser.add_argument("--code", type=Path, required=True)
    parser.add_argument("--checks", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        document = run(args.code, args.checks)
    except Exception as exc:  # the operator must always get a document, never a silent pod
        document = {
            "version": RESULT_VERSION,
            "exitCode": None,
            "timedOut": False,
            "stdout": "",
            "stderr": "",
            "stdoutBytes": 0,
            "stderrBytes": 0,
            "checks": [],
            "cpuSeconds": 0.0,
            "peakMemoryBytes": 0,
            "durationSeconds": 0.0,
            "outputFiles": [],
            "error": {"type": "RunnerError", "message": f"{type(exc).__name__}: {exc}", "traceback": ""},
        }
    sys.stdout.write(f"\n{RESULT_MARKER}\n{json.dumps(document, ensure_ascii=True)}\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
