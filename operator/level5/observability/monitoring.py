"""Execution monitoring (safety layer 4): what one sandbox run tells about itself, and anomalies over the
recent runs of a task (output flood, repeated crashes, resource spikes). Pure functions of the iteration
history and the spec, so every rule is unit-tested; the loop records what they find as the AnomalyDetected
condition and a Warning Event. Escalating on an anomaly is not this module's job."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pydantic import BaseModel

from level5.api.spec import Capabilities, Language, cpu_cores
from level5.api.status import HistoryEntry, SyscallMonitoring, SyscallRecord, Termination
from level5.core.layout import NODE_MODULES_DIR, REPORT_DIR, RUNNER_DIR, TMP_DIR
from level5.observability.syscalls import JAVASCRIPT_SYSTEM_READ_ROOTS, syscall_anomalies
from level5.safety.review.policy import READ_ROOTS, WRITE_ROOTS
from level5.sandbox.result import MAX_STREAM_BYTES, IsolationProbe
from level5.sandbox.syscall_summary import SyscallSummary

REPEATED_CRASHES = 3
"""Consecutive runs ending with the same non-zero exit code or the same kill that count as a crash loop."""
CPU_SPIKE_FRACTION = 0.9
"""A run that used this fraction of cpu limit x timeout (or more) ran flat out for its whole allowance."""


class AnomalyKind(StrEnum):
    """What kind of unusual behaviour a run showed; also the reason of the AnomalyDetected condition."""

    OUTPUT_FLOOD = "OutputFlood"
    REPEATED_CRASH = "RepeatedCrash"
    RESOURCE_SPIKE = "ResourceSpike"
    POLICY_VIOLATION = "PolicyViolation"
    UNEXPECTED_SYSCALLS = "UnexpectedSyscalls"


class Anomaly(BaseModel):
    """One anomaly of the latest run, with a sentence for people."""

    kind: AnomalyKind
    message: str


def termination(failure: str | None, timed_out: bool) -> Termination | None:
    """How a run was ended from outside (OOMKilled, DeadlineExceeded, Evicted, Timeout), or None: the node's
    reasons lead the failure message pod_failure() writes."""
    for kind in Termination:
        if kind.by_node and failure is not None and failure.startswith(kind.value):
            return kind
    return Termination.TIMEOUT if timed_out else None


def _crash_mark(entry: HistoryEntry) -> str | None:
    """What makes two runs the same crash: the kill, else a non-zero exit code; None for a clean exit."""
    if entry.termination is not None and entry.termination.by_node:
        return entry.termination.value
    if entry.exit_code not in (None, 0):
        return f"exit code {entry.exit_code}"
    return None


def executed(entry: HistoryEntry) -> bool:
    """The iteration's code ran to an end of its own in the sandbox: the runner reported on it or the node
    killed it. Runs ended by a kill switch (Cancelled, EmergencyStop) say nothing about the code."""
    return entry.run_seconds is not None or (entry.termination is not None and entry.termination.by_node)


INCOMPLETE = "MonitoringIncomplete"
"""The monitor's note that its summary is partial: said in the record, not an anomaly of the program."""
PROGRAM_EXECS = 1
"""Processes the program's container itself starts: the runner (its own process) starts the program's
interpreter once."""
LANGUAGE_RUNTIMES: dict[Language, tuple[int, tuple[str, ...]]] = {
    Language.PYTHON: (0, ()),
    Language.JAVASCRIPT: (1, (*JAVASCRIPT_SYSTEM_READ_ROOTS, NODE_MODULES_DIR)),
}
"""What each language's runtime adds to the expected activity: executions (node_launch.py executes Node) and
files it reads by itself."""


def syscall_record(
    monitoring: SyscallMonitoring,
    summary: SyscallSummary | None,
    probe: IsolationProbe | None,
    language: Language = Language.PYTHON,
    job_files: Sequence[str] = (),
) -> SyscallRecord:
    """What the system-call monitor saw of one program run, with its anomalies. The program's container may
    read the task's paths and the runner's own files, and write its outputs, the report and its own scratch
    directory; the runner's
    isolation probe makes the only expected connections."""
    if summary is None:
        return SyscallRecord(monitoring=monitoring)
    execs, system_roots = LANGUAGE_RUNTIMES[language]
    found = syscall_anomalies(
        summary,
        expected_execs=PROGRAM_EXECS + execs,
        read_roots=(*READ_ROOTS, RUNNER_DIR, *system_roots),
        write_roots=(*WRITE_ROOTS, REPORT_DIR, TMP_DIR, *job_files),
        expected_connects={probe.address: probe.attempts} if probe else None,
    )
    return SyscallRecord(
        monitoring=SyscallMonitoring.OBSERVED,
        processes=max(summary.exec_count, summary.forks),
        connects=summary.connect_count,
        files_opened=summary.open_count,
        denied=summary.denied_count,
        dropped=summary.dropped,
        anomalies=[a[:512] for a in found[:8]],
    )


def detect_anomalies(history: Sequence[HistoryEntry], capabilities: Capabilities) -> list[Anomaly]:
    """Anomalies of the latest iteration in history, judged together with the ones before it. Iterations
    that never ran (review block, no code) have no run data and show none."""
    if not history or not executed(history[-1]):
        return []
    last = history[-1]
    anomalies: list[Anomaly] = []
    if last.policy_violation is not None:
        violation = last.policy_violation
        where = f" at line {violation.line}" if violation.line else ""
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.POLICY_VIOLATION,
                message=f"iteration {last.iteration} was stopped by the runtime policy: {violation.rule} "
                f"({violation.event} {violation.attempted[:200]}){where}",
            )
        )
    syscall_anomalies_seen = [
        a for a in (last.syscalls.anomalies if last.syscalls else []) if not a.startswith(INCOMPLETE)
    ]
    if syscall_anomalies_seen:
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.UNEXPECTED_SYSCALLS,
                message=f"iteration {last.iteration}'s system calls: " + "; ".join(syscall_anomalies_seen),
            )
        )
    flooded = [
        f"{name} {size} bytes"
        for name, size in (("stdout", last.stdout_bytes), ("stderr", last.stderr_bytes))
        if size is not None and size > MAX_STREAM_BYTES
    ]
    if flooded:
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.OUTPUT_FLOOD,
                message=f"iteration {last.iteration} wrote {', '.join(flooded)}, beyond the runner's cap of "
                f"{MAX_STREAM_BYTES} bytes per stream",
            )
        )
    ran = [h for h in history if executed(h)][-REPEATED_CRASHES:]
    marks = {_crash_mark(h) for h in ran}
    if len(ran) == REPEATED_CRASHES and len(marks) == 1 and None not in marks:
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.REPEATED_CRASH,
                message=f"the last {REPEATED_CRASHES} runs ended the same way: {marks.pop()}",
            )
        )
    allowance = cpu_cores(capabilities.cpu) * capabilities.timeout_seconds
    if last.termination is Termination.OOM_KILLED:
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.RESOURCE_SPIKE,
                message=f"iteration {last.iteration} was killed for using more than {capabilities.memory}",
            )
        )
    elif last.cpu_seconds >= CPU_SPIKE_FRACTION * allowance:
        anomalies.append(
            Anomaly(
                kind=AnomalyKind.RESOURCE_SPIKE,
                message=f"iteration {last.iteration} used {last.cpu_seconds:.1f} CPU-seconds of an "
                f"allowance of {allowance:g} ({capabilities.cpu} x {capabilities.timeout_seconds}s)",
            )
        )
    return anomalies
