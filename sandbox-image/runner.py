"""level5 sandbox runner: run one generated program, then check it in another trust domain, and report one
JSON document.

The sandbox pod runs it twice, once in each of two containers that share nothing but the program's outputs:

    program  (init container, uid 65533)  python3 -I /opt/level5/runner.py program --code /code/main.py \
                 --policy /code/policy.json --report /report
    checks   (main container, uid 65532)  python3 -I /opt/level5/runner.py checks \
                 --checks /checks/checks.json --report /report

`program` is PID 1 of the program's container. It waits until the pod's network is cut off, runs the program
under the runtime policy (policy.py) with its stdout and stderr captured, and when the program has exited or
timed out it ends every process left in its PID namespace (kill(-1) from PID 1), reaps them all, and only then
writes the program's report into /report: exit code, captured output, usage, the policy violation if any.
Nothing the program started outlives that; the container then ends, and gVisor tears it down.

`checks` starts only after that container has ended. It runs as another uid in another PID namespace, with an
interpreter started isolated (-I: no user site, no PYTHON* variables, no script directory on sys.path), and
refuses to run if any directory on its import path is writable. It sees /output and /report read-only and
nothing else the program could write. It evaluates the checks and prints RESULT_MARKER on a line of its own,
followed by one line of JSON: that container's log is the only place the operator takes a verdict from.
Standard library only (the image has python3.11).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

RESULT_MARKER = "=====LEVEL5-RESULT-6f1d0c9a7b====="
RESULT_VERSION = 1
MAX_STREAM_BYTES = 64 * 1024
MAX_TRACEBACK_CHARS = 8 * 1024
MAX_OUTPUT_FILES = 100
WORK_DIR = Path(os.environ.get("LEVEL5_WORK_DIR", "/tmp/level5"))  # noqa: S108 - each container's private emptyDir
POLICY = Path(__file__).resolve().parent / "policy.py"
GATE_OPEN = b"go"
GATE_FD_MIN = 32
"""Written to the program's gate (policy.py --gate-fd) once the network is known to be cut."""
EXIT_POLICY_VIOLATION = 86
"""Must equal policy.EXIT_POLICY_VIOLATION."""
REPORT_FILE = "program.json"
STDOUT_FILE = "stdout.txt"
STDERR_FILE = "stderr.txt"
PR_SET_DUMPABLE = 4
# Signals the program could send the runner to end it early (same uid): the runner ignores them, and the
# program gets them back at their defaults. SIGKILL and SIGSTOP cannot be ignored (see the README's trust
# model: killing its runner only ends the program's own run, unchecked).
CATCHABLE_SIGNALS = (
    signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
    signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU,
)  # fmt: skip

# Last line of a Python error report, e.g. "KeyError: 'region'" or "pandas.errors.ParserError: ...".
_ERROR_LINE = re.compile(
    r"^((?:[A-Za-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Warning))(?::\s?(.*))?$"
)


# Node's report of an uncaught error: "TypeError: Cannot read ..." or "Error [ERR_X]: ...", then "at" lines.
_NODE_ERROR = re.compile(
    r"^([A-Za-z_$][\w$]*(?:Error|Exception)|PolicyViolation)(?: \[[A-Z0-9_]+\])?: (.*)\n(?=    at |Error\n)",
    re.MULTILINE,
)
_NODE_LOCATION = re.compile(r"^/\S+:\d+$", re.MULTILINE)
# JavaScript test scripts run with Node (the JavaScript image only), Python ones isolated.
TEST_INTERPRETERS = {".py": [sys.executable, "-I"], ".js": ["/usr/bin/node"]}


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


def end_every_process(proc: subprocess.Popen[bytes]) -> None:
    """Kill what the program left running. As PID 1 of the program's own PID namespace (the container), the
    runner kills every other process in it, whatever session or parent it has, and reaps them all, so
    nothing of the program is alive afterwards. Outside a container (a developer's machine) only the
    program's process group can be reached."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if os.getpid() != 1:
        return
    while True:
        with contextlib.suppress(ProcessLookupError):
            os.kill(-1, signal.SIGKILL)  # every process this uid may signal, except PID 1 itself
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return  # no child, and as PID 1 every orphan is our child: the namespace is empty
        if pid == proc.pid and proc.returncode is None:
            proc.returncode = os.waitstatus_to_exitcode(status)


def default_signals() -> None:
    """In the child before exec: the program starts with the default signal dispositions."""
    for sig in CATCHABLE_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)


def run_process(
    argv: list[str],
    cwd: str,
    env: dict[str, str],
    timeout: float | Callable[[], float],
    pass_fds: tuple[int, ...] = (),
    gate: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Run argv with capped output; afterwards end every process it left (see end_every_process). With a
    gate, the process is started first and gate() runs while it starts up; the time limit and the run's
    duration count from the gate's return. When gate() raises, every process is ended and the error
    passes on."""
    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        pass_fds=pass_fds,
        preexec_fn=default_signals,
    )
    assert proc.stdout is not None and proc.stderr is not None
    readers = [CappedReader(proc.stdout, MAX_STREAM_BYTES), CappedReader(proc.stderr, MAX_STREAM_BYTES)]
    for reader in readers:
        reader.start()
    if gate is not None:
        try:
            gate()
        except BaseException:
            end_every_process(proc)
            proc.wait()
            for reader in readers:
                reader.join(timeout=5)
            raise
        started = time.monotonic()
    timed_out = False
    try:
        proc.wait(timeout=timeout() if callable(timeout) else timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
    # Kill leftovers (also children the program forked or detached) so the readers see end-of-file.
    end_every_process(proc)
    returncode = proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    return {
        "returncode": returncode,
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
    node = None if start >= 0 else _NODE_ERROR.search(stderr)
    if node is not None:  # JavaScript: from the "file:line" above the error's source line to the end
        headers = list(_NODE_LOCATION.finditer(stderr, 0, node.start()))
        tail = stderr[headers[-1].start() if headers else node.start() :]
        return {
            "type": node.group(1),
            "message": node.group(2)[:2048],
            "traceback": tail[-MAX_TRACEBACK_CHARS:],
        }
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
    check: dict[str, Any], run: dict[str, Any], output_dir: str, report_dir: Path, timeout: float
) -> dict[str, Any]:
    """Run one machine-checkable criterion against the program's run. Test scripts run isolated (-I), as
    this container's uid, in the read-only output directory, with the captured output as read-only files."""
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
                "LEVEL5_STDOUT_FILE": str(report_dir / STDOUT_FILE),
                "LEVEL5_STDERR_FILE": str(report_dir / STDERR_FILE),
                "LEVEL5_EXIT_CODE": str(run["returncode"]),
            },
        )
        interpreter = TEST_INTERPRETERS.get(Path(check["path"]).suffix, TEST_INTERPRETERS[".py"])
        test = run_process([*interpreter, check["path"]], output_dir, env, timeout)
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
                files.append({"path": str(path), "bytes": path.lstat().st_size})
            except OSError:
                continue
            if len(files) >= MAX_OUTPUT_FILES:
                return files
    return files


class IsolationError(RuntimeError):
    """The pod's network is not (yet) cut off, so generated code must not run."""


def wait_for_isolation(limit_seconds: float = 20.0) -> dict[str, Any] | None:
    """Wait until the pod's deny-all NetworkPolicy is in effect before any generated code runs; returns the
    probe's target and how many connections it tried (the system-call monitor sees them and must not count
    them against the program), or None outside Kubernetes.

    A policy enforcer learns a new pod's IP from the API server, so a pod's first packets can pass
    before its rules exist. The kubelet always tells a pod where the API server is; while a TCP
    connection to it is answered (accepted or refused) packets still flow, and once it goes unanswered
    the network is cut. Outside Kubernetes (no KUBERNETES_SERVICE_HOST) there is nothing to wait for.
    """
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        return None
    port = int(os.environ.get("KUBERNETES_SERVICE_PORT", "443"))
    probe = {"address": f"{host}:{port}", "attempts": 0}
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        probe["attempts"] += 1
        try:
            with socket.create_connection((host, port), timeout=0.5):
                pass
        except TimeoutError:
            return probe  # unanswered: dropped by the policy
        except OSError as exc:
            if exc.errno in (101, 113):  # ENETUNREACH, EHOSTUNREACH: no route out either
                return probe
        time.sleep(0.05)
    raise IsolationError(f"network still reachable after {limit_seconds:.0f}s; refusing to run the code")


def not_dumpable() -> None:
    """Make this process non-dumpable: a process of the same uid (the program) can then neither ptrace it
    nor open its /proc files (memory, file descriptors)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def reset_report_dir(report_dir: Path) -> None:
    """Empty the report directory: the program could write there while it ran, but every process of it is
    gone now, so what is written next is the runner's alone."""
    for entry in list(report_dir.iterdir()):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def write_report(report_dir: Path, files: dict[str, str]) -> None:
    reset_report_dir(report_dir)
    for name, text in files.items():
        partial = report_dir / f".{name}.partial"
        partial.write_text(text)
        partial.replace(report_dir / name)


def read_violation(fd: int) -> dict[str, Any] | None:
    """The policy's report of the violation that stopped the program (the first line), if any."""
    with os.fdopen(fd, "rb") as pipe:
        data = pipe.read(16384)
    for line in data.splitlines():
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if isinstance(record, dict) and isinstance(record.get("rule"), str):
                return {
                    "rule": record["rule"][:64],
                    "event": str(record.get("event", ""))[:128],
                    "attempted": str(record.get("attempted", ""))[:1024],
                    "line": record["line"] if isinstance(record.get("line"), int) else None,
                }
    return None


def run_program(
    code: Path,
    policy_file: Path,
    report_dir: Path,
    policy_runner: Path = POLICY,
    isolation: Callable[[], dict[str, Any] | None] | None = None,
    load_after_gate: bool = False,
) -> int:
    """The program's domain: run it once under the runtime policy and leave its report. `isolation` waits
    until the network is cut (default wait_for_isolation; a warm pod has waited before it was Ready, and
    passes that probe's record). With `load_after_gate` (a warm pod) the interpreter starts before the code
    and policy exist: `isolation` writes them, and they are read once it returns."""
    for sig in CATCHABLE_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    not_dumpable()

    def policy() -> dict[str, Any]:
        return dict(json.loads(policy_file.read_text()))

    output_dir = "/output" if load_after_gate else policy().get("workDir", "/output")
    report: dict[str, Any] = {"version": RESULT_VERSION, "policyViolation": None, "runnerError": None}
    program: dict[str, Any] = {"stdout": "", "stderr": ""}
    try:
        WORK_DIR.mkdir(parents=True, exist_ok=True)
        read_end, write_end = os.pipe()
        gate_read, gate_write = os.pipe()
        # Kept descriptors must not be adjacent (nor 3): CPython then closes the others with close_range(2)
        # ranges, while an empty range makes it list /proc/self/fd instead (an open the syscall monitor
        # rightly flags). A high descriptor keeps the gate apart from the report pipe.
        gate_read, low = fcntl.fcntl(gate_read, fcntl.F_DUPFD, GATE_FD_MIN), gate_read
        os.close(low)
        argv = [sys.executable, "-I", "-u", str(policy_runner), "--policy", str(policy_file)]
        argv += ["--report-fd", str(write_end), "--gate-fd", str(gate_read)]
        argv += ["--load-after-gate", str(code)] if load_after_gate else [str(code)]

        def isolated() -> None:
            """The interpreter starts while the network is probed; the program's first line runs only once
            the probe went unanswered (the gate opens). A refusal closes the gate: the program never runs."""
            try:
                report["isolationProbe"] = (isolation or wait_for_isolation)()
                os.write(gate_write, GATE_OPEN)
            finally:
                os.close(gate_write)

        try:
            program = run_process(
                argv,
                output_dir,
                child_env(output_dir),
                lambda: float(policy().get("timeoutSeconds", 60)),
                pass_fds=(write_end, gate_read),
                gate=isolated,
            )
        finally:
            os.close(write_end)
            os.close(gate_read)
        report["policyViolation"] = read_violation(read_end)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        report.update(
            exitCode=program["returncode"],
            timedOut=program["timedOut"],
            stdoutBytes=program["stdoutBytes"],
            stderrBytes=program["stderrBytes"],
            durationSeconds=program["durationSeconds"],
            cpuSeconds=round(usage.ru_utime + usage.ru_stime, 3),
            # ru_maxrss is in KiB on Linux: the largest resident set of any process of the program.
            peakMemoryBytes=usage.ru_maxrss * 1024,
        )
    except Exception as exc:  # the checks must always find a report, never guess
        report["runnerError"] = f"{type(exc).__name__}: {exc}"
    write_report(
        report_dir,
        {
            REPORT_FILE: json.dumps(report),
            STDOUT_FILE: program["stdout"],
            STDERR_FILE: program["stderr"],
        },
    )
    return 0


def assert_isolated() -> None:
    """The checks' interpreter must not import anything from a place someone could have written. In its
    container (PID 1, read-only root) no directory on the import path may be writable; on a developer's
    machine, where the runner is no container's PID 1, that part cannot hold and is not checked."""
    if not sys.flags.isolated:
        raise RuntimeError("the checks' interpreter was not started isolated (python3 -I)")
    if os.getpid() != 1:
        return
    writable = [p for p in sys.path if p and os.path.isdir(p) and os.access(p, os.W_OK)]
    if writable:
        raise RuntimeError(f"writable directories on the checks' import path: {writable}")


def read_program_report(report_dir: Path) -> dict[str, Any]:
    """The program domain's report, validated; its captured streams."""
    try:
        report = json.loads((report_dir / REPORT_FILE).read_text())
        stdout = (report_dir / STDOUT_FILE).read_text(errors="replace")[:MAX_STREAM_BYTES]
        stderr = (report_dir / STDERR_FILE).read_text(errors="replace")[:MAX_STREAM_BYTES]
    except (OSError, ValueError) as exc:
        raise RuntimeError(f"the program's container left no report ({type(exc).__name__})") from None
    if report.get("runnerError"):
        raise RuntimeError(f"the program's runner failed: {str(report['runnerError'])[:1024]}")
    numbers = ("stdoutBytes", "stderrBytes", "durationSeconds", "cpuSeconds", "peakMemoryBytes")
    exit_code = report.get("exitCode")
    if not (exit_code is None or type(exit_code) is int) or not all(
        type(report.get(k)) in (int, float) and report[k] >= 0 for k in numbers
    ):
        raise RuntimeError("the program's report is malformed")
    violation = report.get("policyViolation")
    probe = report.get("isolationProbe")
    valid_probe = (
        isinstance(probe, dict)
        and isinstance(probe.get("address"), str)
        and type(probe.get("attempts")) is int
    )
    return {
        "isolationProbe": {"address": probe["address"][:64], "attempts": probe["attempts"]}
        if valid_probe
        else None,
        "returncode": exit_code,
        "timedOut": report.get("timedOut") is True,
        "stdout": stdout,
        "stderr": stderr,
        **{k: report[k] for k in numbers},
        "policyViolation": violation if isinstance(violation, dict) else None,
    }


def program_error(program: dict[str, Any], timeout: float) -> dict[str, str] | None:
    violation = program["policyViolation"]
    if violation is not None:
        where = f" at line {violation['line']}" if violation.get("line") else ""
        return {
            "type": "PolicyViolation",
            "message": f"{violation['rule']}: {violation['event']} {violation['attempted']}{where}"[:2048],
            "traceback": "",
        }
    return parse_error(program["stderr"], program["returncode"], program["timedOut"], timeout)


def run_checks(checks_file: Path, report_dir: Path) -> dict[str, Any]:
    """The trusted domain: evaluate the checks against the program's report and outputs."""
    assert_isolated()
    spec = json.loads(checks_file.read_text())
    output_dir = spec.get("outputDir", "/output")
    timeout = float(spec.get("timeoutSeconds", 60))
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    program = read_program_report(report_dir)
    checks = [evaluate_check(c, program, output_dir, report_dir, timeout) for c in spec.get("checks", [])]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "version": RESULT_VERSION,
        "exitCode": program["returncode"],
        "timedOut": program["timedOut"],
        "stdout": program["stdout"],
        "stderr": program["stderr"],
        "stdoutBytes": program["stdoutBytes"],
        "stderrBytes": program["stderrBytes"],
        "error": program_error(program, timeout),
        "policyViolation": program["policyViolation"],
        "isolationProbe": program["isolationProbe"],
        "checks": checks,
        "cpuSeconds": round(program["cpuSeconds"] + usage.ru_utime + usage.ru_stime, 3),
        "peakMemoryBytes": max(program["peakMemoryBytes"], usage.ru_maxrss * 1024),
        "durationSeconds": program["durationSeconds"],
        "outputFiles": list_output_files(output_dir),
    }


def failed_document(exc: Exception) -> dict[str, Any]:
    """The document for a run that could not be checked: the operator must always get one."""
    return {
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
        "policyViolation": None,
        "isolationProbe": None,
        "error": {"type": "RunnerError", "message": f"{type(exc).__name__}: {exc}", "traceback": ""},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run a level5 program, or check its run.")
    modes = parser.add_subparsers(dest="mode", required=True)
    program = modes.add_parser("program", help="run the program (its own container, PID 1)")
    program.add_argument("--code", type=Path, required=True)
    program.add_argument("--policy", type=Path, required=True)
    program.add_argument("--report", type=Path, required=True)
    # The policy's bootstrap: only the containment tests name another one, to show what holds without it.
    program.add_argument("--policy-runner", type=Path, default=POLICY)
    checks = modes.add_parser("checks", help="check the program's run (another container, after it)")
    checks.add_argument("--checks", type=Path, required=True)
    checks.add_argument("--report", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.mode == "program":
        return run_program(args.code, args.policy, args.report, args.policy_runner)
    try:
        document = run_checks(args.checks, args.report)
    except Exception as exc:  # the operator must always get a document, never a silent pod
        document = failed_document(exc)
    sys.stdout.write(f"\n{RESULT_MARKER}\n{json.dumps(document, ensure_ascii=True)}\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
