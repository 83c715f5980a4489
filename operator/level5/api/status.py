"""The AgentTask status: what the operator records. It is the durable state of the refine loop (the operator
keeps nothing important only in memory), so these models double as the CRD's status schema."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from level5.api.approval import Decision, FiredTrigger
from level5.api.spec import CrdModel, ShortText

MAX_HISTORY = 20
"""History entries kept in status; older ones are dropped so the object stays small."""


class Phase(StrEnum):
    """Lifecycle phase of an AgentTask."""

    PENDING = "Pending"
    GENERATING = "Generating"
    REVIEWING = "Reviewing"
    EXECUTING = "Executing"
    EVALUATING = "Evaluating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    AWAITING_APPROVAL = "AwaitingApproval"
    PAUSED = "Paused"
    CANCELLED = "Cancelled"
    ESCALATED = "Escalated"

    @property
    def terminal(self) -> bool:
        """True when the loop has ended for good."""
        return self in {Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED}


class ConditionStatus(StrEnum):
    """Kubernetes condition status values."""

    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class ConditionType(StrEnum):
    """The conditions the operator sets on a task (besides one per escalation trigger, named like the
    trigger: LowConfidence, Anomaly, Impact, Time, Uncertainty, Stuck). Every lookup goes through this enum,
    so a renamed condition cannot silently switch off what reads it."""

    READY = "Ready"
    PROGRESSING = "Progressing"
    FAILED = "Failed"
    CANCELLED = "Cancelled"
    EMERGENCY_STOP = "EmergencyStop"
    ANOMALY_DETECTED = "AnomalyDetected"
    INPUT_FLAGGED = "InputFlagged"
    AWAITING_APPROVAL = "AwaitingApproval"
    ESCALATED = "Escalated"
    PAUSED = "Paused"
    SYSCALL_MONITORING = "SyscallMonitoring"
    SANDBOX_QUEUED = "SandboxQueued"
    AUDIT_REFUSED = "AuditRefused"
    MODEL_RETRYING = "ModelRetrying"


class Condition(CrdModel):
    """A Kubernetes-style condition."""

    type: str = Field(max_length=64)
    """Condition type: Ready, Progressing, Failed, Cancelled, EmergencyStop, AnomalyDetected, InputFlagged,
    AwaitingApproval, Escalated, Paused, SyscallMonitoring, SandboxQueued (the sandbox pod waits for a
    ResourceQuota), AuditRefused (the operator's audit log lacks this task's checkpoint: nothing runs until it
    is restored), ModelRetrying (model calls fail transiently and are retried), or an escalation trigger's
    name."""
    status: ConditionStatus
    """True, False or Unknown."""
    reason: str = Field(max_length=128)
    """CamelCase machine-readable reason of the last transition."""
    message: str = Field(default="", max_length=4096)
    """Human-readable details."""
    last_transition_time: datetime
    """When the status of this condition last changed."""
    observed_generation: int | None = None
    """The spec generation this condition was computed for."""


class LaunchState(StrEnum):
    """Progress of starting an iteration's sandbox pod; recorded before the pod is created so a restarted
    operator never runs the same code twice."""

    PENDING = "Pending"
    CREATED = "Created"


class Termination(StrEnum):
    """How a sandbox run was ended from outside: by the node (its limits), by the runner's own timeout, or by
    one of the operator's kill switches."""

    OOM_KILLED = "OOMKilled"
    DEADLINE_EXCEEDED = "DeadlineExceeded"
    EVICTED = "Evicted"
    TIMEOUT = "Timeout"
    CANCELLED = "Cancelled"
    EMERGENCY_STOP = "EmergencyStop"
    PAUSED = "Paused"
    POD_DELETED = "PodDeleted"
    """Deleted or evicted (the Eviction API) by someone other than the operator while the program ran: says
    nothing about the code, and the iteration does not count against maxIterations."""

    @property
    def by_node(self) -> bool:
        """Ended by the node's limits: the code ran until then, so the end says something about it."""
        return self in (Termination.OOM_KILLED, Termination.DEADLINE_EXCEEDED, Termination.EVICTED)

    @property
    def by_kill_switch(self) -> bool:
        """Ended by the operator (cancel, emergency stop, pause with Kill): says nothing about the code."""
        return self in (Termination.CANCELLED, Termination.EMERGENCY_STOP, Termination.PAUSED)


class ReviewSummary(CrdModel):
    """Outcome of the static review of one iteration's code."""

    verdict: str = Field(max_length=16)
    """allow, block or escalate."""
    rules: list[str] = Field(default_factory=list, max_length=64)
    """Ids of the review rules that fired."""


class Gate(CrdModel):
    """The approval gate of an iteration, passed after review and before the code runs."""

    triggers: list[FiredTrigger] = Field(default_factory=list, max_length=6)
    """Escalation triggers that fired for this code."""
    confidence: float = 0.0
    """Combined confidence: half the model's self-report (0.5 when absent), a quarter the review (1 without
    findings, 0.5 with escalate findings), a quarter the best score so far (0.5 before any)."""
    approval: str | None = Field(default=None, max_length=253)
    """The Approval the task waits for; none when the code may run without a human."""
    decision: Decision | None = None
    """The decision taken from that Approval."""
    decided_by: str | None = Field(default=None, max_length=512)
    """Who decided (as stamped by the admission webhook)."""


class CurrentIteration(CrdModel):
    """The iteration in flight: what has been generated and launched so far."""

    iteration: int = Field(ge=1)
    """Number of this iteration, from 1."""
    started_at: datetime
    """When generation of this iteration started."""
    code_sha256: str | None = Field(default=None, max_length=64)
    """SHA-256 of the generated code, once the code is stored."""
    code_config_map: str | None = Field(default=None, max_length=253)
    """ConfigMap holding the code and checks of this iteration."""
    confidence: float | None = None
    """Confidence the model stated for its answer."""
    uncertainty: str | None = Field(default=None, max_length=2048)
    """What the model said it is unsure about."""
    tokens: int = 0
    """Tokens spent on this iteration so far."""
    review: ReviewSummary | None = None
    """Review outcome, once reviewed."""
    pod_name: str | None = Field(default=None, max_length=63)
    """Sandbox pod of this iteration; its name is never reused."""
    launch_state: LaunchState | None = None
    """Pending is written before the pod is created, Created after."""
    warm_pool: str | None = Field(default=None, max_length=63)
    """The warm pool whose pre-started pod runs this iteration (podName is then that pod); none: a cold
    pod."""
    gate: Gate | None = None
    """The approval gate, once passed or waiting."""
    approved_code_sha256: str | None = Field(default=None, max_length=64)
    """Hash of the code a person approved (or supplied with Override); only that code may run."""


class CriterionResult(CrdModel):
    """Outcome of one success criterion."""

    name: str = Field(max_length=63)
    """Name of the criterion."""
    kind: str = Field(max_length=32)
    """exitCode, outputContains, outputMatches, testScript or judge."""
    passed: bool
    """Whether the criterion passed."""
    reason: str = Field(default="", max_length=4096)
    """Why it passed or failed; for judge criteria, the model's rationale."""


class RedactionCount(CrdModel):
    """How many values of one type were redacted from an iteration's output."""

    type: str = Field(max_length=32)
    """EMAIL, PHONE, CREDIT_CARD, SSN, IBAN, IP_ADDRESS, SECRET, HIGH_ENTROPY, a token kind..."""
    count: int = Field(ge=0)
    """Values replaced by a placeholder."""


class RuntimeViolation(CrdModel):
    """The runtime policy (layer 4, inside the sandbox's interpreter) stopped the program."""

    rule: str = Field(max_length=64)
    """Rule id, e.g. L5-RT-PROCESS."""
    event: str = Field(max_length=128)
    """The audited action, e.g. subprocess.Popen or open."""
    attempted: str = Field(default="", max_length=1024)
    """What the program tried, e.g. the path or the command."""
    line: int | None = None
    """The program's line that was running, when known."""


class SyscallMonitoring(StrEnum):
    """Whether the system-call monitor watched an iteration's program (layer 4, from outside the sandbox)."""

    OBSERVED = "Observed"
    OFF = "Off"
    """The operator has no monitor configured (LEVEL5_SYSCALL_MONITOR_URL unset)."""
    UNAVAILABLE = "Unavailable"
    """A monitor is configured but had no summary of this program (down, restarted or not on the node)."""


class SyscallRecord(CrdModel):
    """What gVisor's trace points showed of the program's container, as the monitor summarised it."""

    monitoring: SyscallMonitoring
    """Observed, Off or Unavailable; the counts below are only meaningful when Observed."""
    processes: int = 0
    """Processes the program's container started (the program's own interpreter is one)."""
    connects: int = 0
    """Connection attempts, including the runner's isolation probe."""
    files_opened: int = 0
    """Files opened (the interpreter's own files included)."""
    denied: int = 0
    """Calls the sandbox refused (EPERM, EACCES, EROFS)."""
    dropped: int = 0
    """Trace points gVisor had to drop: the summary is incomplete."""
    anomalies: list[Annotated[str, Field(max_length=512)]] = Field(default_factory=list, max_length=8)
    """Unexpected activity, one sentence per kind (ProcessStart, Connect, Socket, FileAccess, Ptrace, Denied,
    MonitoringIncomplete)."""


class HistoryEntry(CrdModel):
    """Summary of one finished iteration."""

    iteration: int
    """Iteration number."""
    code_sha256: str | None = Field(default=None, max_length=64)
    """SHA-256 of the code of this iteration (none when the model gave no code)."""
    code_config_map: str | None = Field(default=None, max_length=253)
    """ConfigMap holding this iteration's code."""
    review_verdict: str | None = Field(default=None, max_length=16)
    """Review verdict: allow, block or escalate."""
    review_rules: list[str] = Field(default_factory=list, max_length=64)
    """Review rules that fired."""
    exit_code: int | None = None
    """Exit code of the program, when it ran."""
    score: float = 0.0
    """Fraction of success criteria that passed."""
    reason: str = Field(default="", max_length=1024)
    """Short outcome of the iteration."""
    failure_signature: str | None = Field(default=None, max_length=64)
    """Hash of the failure kind and message, used to spot the same failure repeating."""
    tokens: int = 0
    """Tokens spent on this iteration."""
    cpu_seconds: float = 0.0
    """CPU time of the sandbox run, as the runner measured it."""
    peak_memory_bytes: int | None = None
    """Largest resident memory of the program (and its test scripts) in the sandbox, as the runner
    measured it."""
    duration_seconds: float = 0.0
    """Wall-clock time of the iteration."""
    run_seconds: float | None = None
    """Wall-clock time of the program in the sandbox, as the runner measured it."""
    stdout_bytes: int | None = None
    """Bytes the program wrote to standard output (the runner keeps only the first 64 KiB)."""
    stderr_bytes: int | None = None
    """Bytes the program wrote to standard error (the runner keeps only the first 64 KiB)."""
    termination: Termination | None = None
    """How the sandbox run was ended from outside, if it was: OOMKilled, DeadlineExceeded, Evicted, Timeout,
    Cancelled or EmergencyStop."""
    pod_name: str | None = Field(default=None, max_length=63)
    """Sandbox pod of this iteration."""
    warm_pool: str | None = Field(default=None, max_length=63)
    """The warm pool whose pre-started, single-use pod ran this iteration; none: a cold pod."""
    redactions: list[RedactionCount] = Field(default_factory=list, max_length=32)
    """PII and secrets redacted from this iteration's output before it was stored or shown to the model."""
    output_withheld_rules: list[str] = Field(default_factory=list, max_length=32)
    """Prompt-injection rules that fired on the sandbox output; that output was withheld from the model."""
    policy_violation: RuntimeViolation | None = None
    """The runtime policy stopped the program (outcome PolicyViolation)."""
    syscalls: SyscallRecord | None = None
    """System calls of the program's container, observed from outside the sandbox."""

    @property
    def sandbox_started(self) -> bool:
        """A sandbox pod ran this iteration's code, however it ended (level5.observability.monitoring.executed
        says whether it ran to an end of its own)."""
        return self.run_seconds is not None or self.termination is not None

    @property
    def interrupted(self) -> bool:
        """Its sandbox pod was deleted or evicted from outside mid-run: not counted, not the code's doing."""
        return self.termination is Termination.POD_DELETED


class Totals(CrdModel):
    """Resources used so far, compared against spec.iterations.budgets."""

    tokens: int = 0
    """Model tokens used."""
    cpu_seconds: float = 0.0
    """Sandbox CPU time used."""
    wall_clock_seconds: float = 0.0
    """Time since the task started."""
    interrupted_iterations: int = 0
    """Iterations whose sandbox pod was deleted or evicted from outside while the program ran; they do not
    count against maxIterations (spec.iterations.maxInterruptedIterations bounds them)."""


class Feedback(CrdModel):
    """What went wrong in the previous iteration; sent to the model on the next one (self-debugging)."""

    iteration: int
    """Iteration the feedback is about."""
    code_config_map: str | None = Field(default=None, max_length=253)
    """ConfigMap with the code of that iteration."""
    summary: str = Field(max_length=16384)
    """Error type, message, traceback, failed checks and output excerpts, as told to the model."""


class TaskResult(CrdModel):
    """Final outcome of a finished task."""

    code: str | None = Field(default=None, max_length=32768)
    """The final code, unless it is stored in resultConfigMap."""
    stdout_excerpt: str = Field(default="", max_length=8192)
    """Start of the final run's standard output."""
    criteria: list[CriterionResult] = Field(default_factory=list, max_length=32)
    """Outcome of each success criterion in the final iteration."""
    iteration: int = 0
    """Iteration that produced this result."""


class Interventions(CrdModel):
    """What people added through Approval decisions while the task ran."""

    hints: list[ShortText] = Field(default_factory=list, max_length=32)
    """Guide hints, shown to the model on every later generation."""
    constraints: list[ShortText] = Field(default_factory=list, max_length=32)
    """Constrain additions, added to spec.goal.constraints for every later generation."""
    audit_items: int = 0
    """Non-blocking Approvals (level C) created for later review."""


class AuditCheckpoint(CrdModel):
    """The last audit record written for this task: the log must still contain it (`level5 audit verify
    --checkpoint SEQ:HASH`), so cutting records off the log's end is detected."""

    seq: int = Field(ge=0)
    """Sequence number of the record in the operator's audit log."""
    hash: str = Field(max_length=64)
    """Its SHA-256 chain hash."""


class AgentTaskStatus(CrdModel):
    """Observed state of an AgentTask, written only by the operator."""

    phase: Phase = Phase.PENDING
    """Pending, Generating, Reviewing, AwaitingApproval, Escalated, Executing, Evaluating, Paused,
    Succeeded, Failed or Cancelled."""
    iteration: int = 0
    """Number of the current (or last) iteration."""
    score: float | None = None
    """Score of the last evaluated iteration."""
    observed_generation: int | None = None
    """The spec generation the operator last acted on."""
    started_at: datetime | None = None
    """When the operator started working on the task."""
    conditions: list[Condition] = Field(default_factory=list, max_length=32)
    """Ready, Progressing and Failed conditions; Cancelled, EmergencyStop, AnomalyDetected, InputFlagged,
    Paused, AwaitingApproval, Escalated and one per fired escalation trigger (LowConfidence, Anomaly,
    Impact, Time, Uncertainty, Stuck) when they apply."""
    current: CurrentIteration | None = None
    """The iteration in flight."""
    history: list[HistoryEntry] = Field(default_factory=list, max_length=MAX_HISTORY)
    """The most recent finished iterations, oldest first."""
    totals: Totals = Field(default_factory=Totals)
    """Resources used so far."""
    feedback: Feedback | None = None
    """Failure of the last iteration, fed to the model."""
    result: TaskResult | None = None
    """Outcome of a finished task."""
    approval: str | None = Field(default=None, max_length=253)
    """The Approval the task is waiting for, if any."""
    audit: AuditCheckpoint | None = None
    """The last audit record of this task, kept outside the log."""
    interventions: Interventions = Field(default_factory=Interventions)
    """Hints and constraints people added while the task ran."""
    result_config_map: str | None = Field(default=None, max_length=253)
    """ConfigMap holding the final code and result when they are too large for status."""
    message: str = Field(default="", max_length=4096)
    """Human-readable summary of the current state."""
    driver: str | None = Field(default=None, max_length=253)
    """The operator instance driving the task (fencing): it claims the task here with a write conditional on
    the status it read, and all its later status writes are conditional too; an instance that finds another's
    name here has been replaced (a standby took over) and stops driving the task."""
