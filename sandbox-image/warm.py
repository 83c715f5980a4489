"""level5 warm sandbox runner: the two trust domains of runner.py, started before there is any code, each
handed its one job over its container's stdin (an attach stream the operator opens), each answering on its
stdout. A warm pod runs it in two containers, both with `stdin` and `stdinOnce`, so each reads exactly one
job and the kubelet closes that stdin for good afterwards:

    program  (uid 65533, PID 1)  python3 -I /opt/level5/warm.py program --report /report
    checks   (uid 65532, PID 1)  python3 -I /opt/level5/warm.py checks --report /report

`program` first waits until the pod's network is cut off (runner.wait_for_isolation) and only then creates
READY_FILE, which the container's startup probe looks for: the pod is Ready, and may be claimed, only once
it is known to be isolated. A streamed cold pod's `program` (`--probe-in-gate`) has no startup probe and
nobody waits for it to be Ready: it probes in a thread meanwhile, and its gate (below) waits for that probe.
It then starts the program's interpreter (policy.py --load-after-gate), which
waits on its gate, reads one line of JSON from stdin, {"nonce", "code", "policy"}, writes main.py and
policy.json to /code (its own emptyDir), opens the gate, and runs the program exactly as the cold runner does
(runner.run_program: under the runtime policy, then every process of its PID namespace killed and reaped,
then the report written to /report). Only then it prints DONE_PREFIX and the nonce and exits. The program
never sees the nonce (the runner read it before the program started and is not dumpable), so a DONE line
the program forges on the runner's stdout carries no valid nonce: the operator hands in the checks only
after the true one, when nothing of the program is alive.

`checks` runs in the other domain (its own uid, PID namespace, /tmp and /dev/shm; /output and /report
read-only). It refuses to start unless its interpreter is isolated (runner.assert_isolated), reads one line
of JSON {"checks": checks.json, "scripts": {file: source}}, writes them to /checks (its own emptyDir, never
mounted in the program's container), evaluates them (runner.run_checks) and prints the result document
after runner.RESULT_MARKER, as the cold checks container does.

A streamed cold pod, made for one iteration, also carries each container's job in its environment (JOB_ENV,
without the nonce): when an operator is stopped after attaching to a container and before its job got through,
the kubelet closes that stdin for good, and the container runs the job it carries instead of failing the
iteration. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # -I leaves the script's directory off sys.path
import runner

JOB_ENV = "LEVEL5_JOB"
"""A streamed cold pod's containers carry their job here as well, without the nonce: what each runs when its
stdin ends before a whole job line arrived (the operator was stopped between attaching and sending). Only an
attach ends a `stdinOnce` stdin, and the operator attaches to the checks only once the program's run is over
(its DONE line, or its container ended with the runner's exit code 0), so this never starts anything early;
without the nonce the program's runner prints no DONE line, and the operator waits for its container's end."""
READY_FILE = runner.WORK_DIR / "isolated"
"""Created once the network is known to be cut; the program container's startup probe tests for it."""
DONE_PREFIX = "=====LEVEL5-WARM-DONE====="
"""Printed by the program's runner, followed by the job's nonce, once the program's report is written."""
CODE_DIR = Path("/code")
CHECKS_DIR = Path("/checks")
MAX_JOB_BYTES = 4 * 1024 * 1024
"""A job is one line of JSON: the code (at most 5000 lines) or the checks and their test scripts."""


def read_job(fallback: str | None) -> dict[str, Any]:
    """The one job this container gets: one line of JSON on stdin; `fallback` (JOB_ENV) when the stream ended
    before a whole line (nothing, or a line cut short by the sender's end)."""
    line = sys.stdin.buffer.readline(MAX_JOB_BYTES)
    if not line.endswith(b"\n") and fallback is not None:
        line = fallback.encode()
    job = json.loads(line)
    if not isinstance(job, dict):
        raise ValueError("a job must be a JSON object")
    return job


def write_files(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        if "/" in name or name.startswith("."):
            raise ValueError(f"bad file name {name!r}")
        path = directory / name
        path.write_text(text)
        path.chmod(0o444)


def serve_program(
    report_dir: Path, fallback: str | None, policy_runner: Path = runner.POLICY, probe_in_gate: bool = False
) -> int:
    """Isolation first, then one program, then the nonce. A pool pod probes before it is Ready (READY_FILE);
    a streamed cold pod (`probe_in_gate`) is never Ready-gated, so its probe runs in a thread while the
    interpreter starts and the job arrives, and the gate waits for it: the program's first line still runs
    only once the network is known to be cut."""
    isolation: Callable[[], dict[str, Any] | None]
    if probe_in_gate:
        isolation = ThreadPoolExecutor(max_workers=1).submit(runner.wait_for_isolation).result
    else:
        probe = runner.wait_for_isolation()
        runner.WORK_DIR.mkdir(parents=True, exist_ok=True)
        READY_FILE.touch()
        isolation = lambda: probe  # noqa: E731
    nonce: list[str] = []

    def receive() -> dict[str, Any] | None:
        """The program's gate: the interpreter has started meanwhile; the job arrives, its files are
        written, and the gate opens once the probe went unanswered (IsolationError keeps it shut)."""
        job = read_job(fallback)
        write_files(CODE_DIR, {"main.py": str(job["code"]), "policy.json": str(job["policy"])})
        if "nonce" in job:  # the fallback job has none
            nonce.append(str(job["nonce"]))
        return isolation()

    # The real policy's interpreter starts before the job (it reads its files after the gate); a bootstrap
    # the containment tests name instead is started only once the files exist.
    prestart = policy_runner == runner.POLICY
    received = None if prestart else receive()
    runner.run_program(
        CODE_DIR / "main.py",
        CODE_DIR / "policy.json",
        report_dir,
        policy_runner,
        isolation=receive if prestart else lambda: received,
        load_after_gate=prestart,
    )
    if nonce:  # without a job (or with the fallback's) no DONE line: the operator sees the stream end
        sys.stdout.write(f"\n{DONE_PREFIX} {nonce[0]}\n")
        sys.stdout.flush()
    return 0


def serve_checks(report_dir: Path, fallback: str | None) -> int:
    """One set of checks against the program's report and outputs; the result document on stdout."""
    runner.assert_isolated()
    try:
        job = read_job(fallback)
        scripts = job.get("scripts") or {}
        write_files(
            CHECKS_DIR, {"checks.json": str(job["checks"]), **{k: str(v) for k, v in scripts.items()}}
        )
        document = runner.run_checks(CHECKS_DIR / "checks.json", report_dir)
    except Exception as exc:  # the operator must always get a document
        document = runner.failed_document(exc)
    sys.stdout.write(f"\n{runner.RESULT_MARKER}\n{json.dumps(document, ensure_ascii=True)}\n")
    sys.stdout.flush()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve one level5 job in a warm sandbox container.")
    parser.add_argument("mode", choices=("program", "checks"))
    parser.add_argument("--report", type=Path, required=True)
    # As in runner.py: only the containment tests name another bootstrap, to show what holds without it.
    parser.add_argument("--policy-runner", type=Path, default=runner.POLICY)
    parser.add_argument(
        "--probe-in-gate", action="store_true", help="probe isolation while the job arrives (streamed cold pods)"
    )
    # Not read here: the node's system-call monitor names the container by it (gVisor's container/start point
    # carries the container's arguments), so the operator finds its summary without the kubelet's report.
    parser.add_argument("--run-key", help="the run's key for the system-call monitor (streamed cold pods)")
    args = parser.parse_args(argv)
    fallback = os.environ.pop(JOB_ENV, None)  # read once; nothing this container starts inherits it
    if args.mode == "program":
        return serve_program(args.report, fallback, args.policy_runner, args.probe_in_gate)
    return serve_checks(args.report, fallback)


if __name__ == "__main__":
    sys.exit(main())
