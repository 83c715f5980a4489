"""The result document the sandbox runner prints, and how the operator reads it from the pod log.

The runner (sandbox-image/runner.py, standard library only) prints RESULT_MARKER on its own line and then one
line of JSON, in the log of the pod's checks container only (the program's container never writes
there). The pod log is untrusted input: it is size-capped, parsed as JSON only (never pickle) and
validated against RunResult before anything uses it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

RESULT_MARKER = "=====LEVEL5-RESULT-6f1d0c9a7b====="
"""Must equal RESULT_MARKER in sandbox-image/runner.py (a unit test checks it)."""
MAX_RESULT_BYTES = 1024 * 1024
"""Largest pod log tail the operator reads."""
MAX_STREAM_BYTES = 64 * 1024
"""Must equal MAX_STREAM_BYTES in sandbox-image/runner.py: the runner keeps only this much of each stream."""


class RunnerModel(BaseModel):
    """Strict parsing of runner output: camelCase names, unknown fields rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class RunError(RunnerModel):
    """Why the program failed."""

    type: str = Field(max_length=256)
    message: str = Field(max_length=4096)
    traceback: str = Field(default="", max_length=16384)


RUNTIME_RULES = {
    "L5-RT-IMPORT": "importing a module the task does not allow",
    "L5-RT-READ": "reading a path outside the task's read paths",
    "L5-RT-WRITE": "writing, linking or changing a path outside the task's write paths",
    "L5-RT-PROCESS": "starting a process",
    "L5-RT-NETWORK": "opening a socket or a network connection",
    "L5-RT-NATIVE": "loading or calling native code, or reading raw memory",
    "L5-RT-EXEC": "compiling or executing a string, or code from outside the installed libraries",
    "L5-RT-DESERIALISE": "deserialising code or objects (marshal, pickle, code objects)",
    "L5-RT-INTROSPECT": "reaching interpreter frames, code objects or the garbage collector",
    "L5-RT-SIGNAL": "sending a signal to a process",
    "L5-RT-HOOK": "installing an audit, trace or profile hook",
    "L5-RT-LIMITS": "changing resource limits or mapping memory",
    "L5-RT-UNJUDGED": "an action the policy failed to judge (it fails closed)",
}
"""The runtime policy's rules (sandbox-image/policy.py RULES; a unit test checks they are equal)."""


class PolicyViolation(RunnerModel):
    """The runtime policy stopped the program: which rule, what the program tried, and where."""

    rule: str = Field(max_length=64)
    event: str = Field(max_length=128)
    attempted: str = Field(max_length=1024)
    line: int | None = None


class IsolationProbe(RunnerModel):
    """The runner's wait for the deny-all NetworkPolicy: its connection attempts to the API server before the
    program started (the system-call monitor sees them too)."""

    address: str = Field(max_length=64)
    attempts: int = Field(ge=0, le=10_000)


class CheckOutcome(RunnerModel):
    """One machine-checked criterion."""

    name: str = Field(max_length=63)
    kind: str = Field(max_length=32)
    passed: bool
    reason: str = Field(default="", max_length=4096)


class OutputFile(RunnerModel):
    """A file the program left in /output."""

    path: str = Field(max_length=4096)
    bytes: int = Field(ge=0)


class RunResult(RunnerModel):
    """Everything the runner reports about one sandbox run."""

    version: int = Field(ge=1, le=1)
    exit_code: int | None = Field(alias="exitCode")
    timed_out: bool = Field(alias="timedOut")
    stdout: str = Field(max_length=128 * 1024)
    stderr: str = Field(max_length=128 * 1024)
    stdout_bytes: int = Field(alias="stdoutBytes", ge=0)
    stderr_bytes: int = Field(alias="stderrBytes", ge=0)
    error: RunError | None
    policy_violation: PolicyViolation | None = Field(default=None, alias="policyViolation")
    isolation_probe: IsolationProbe | None = Field(default=None, alias="isolationProbe")
    checks: list[CheckOutcome] = Field(max_length=64)
    cpu_seconds: float = Field(alias="cpuSeconds", ge=0)
    peak_memory_bytes: int = Field(default=0, alias="peakMemoryBytes", ge=0)
    duration_seconds: float = Field(alias="durationSeconds", ge=0)
    output_files: list[OutputFile] = Field(alias="outputFiles", max_length=100)


class RunResultError(ValueError):
    """The pod log holds no valid result document."""


def parse_pod_log(log: str) -> RunResult:
    """Extract and validate the result document that follows the last marker line in a pod log."""
    if len(log.encode()) > MAX_RESULT_BYTES:
        raise RunResultError(f"pod log larger than {MAX_RESULT_BYTES} bytes")
    lines = log.rstrip("\n").split("\n")
    try:
        marker_at = len(lines) - 1 - lines[::-1].index(RESULT_MARKER)
    except ValueError:
        raise RunResultError("no result marker in the pod log (the runner did not finish)") from None
    payload = "\n".join(lines[marker_at + 1 :])
    try:
        return RunResult.model_validate_json(payload)
    except ValidationError as exc:
        raise RunResultError(f"invalid result document: {exc.error_count()} errors: {exc}") from None
