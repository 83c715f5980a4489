"""The AgentTask spec: what a user writes. These pydantic models are the single source of truth for the CRD
schema (see crdgen.py), so every field carries a docstring that becomes its `kubectl explain` description."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel


class CrdModel(BaseModel):
    """Base for every CRD model: camelCase JSON names, docstrings as descriptions, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        use_attribute_docstrings=True,
        extra="forbid",
    )


QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"
"""Kubernetes resource quantities in the plain forms the sandbox accepts ("500m", "1", "256Mi")."""

Quantity = Annotated[str, Field(pattern=QUANTITY_PATTERN, max_length=32)]

_QUANTITY_SUFFIXES = {
    "": 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
}  # fmt: skip


def quantity_value(quantity: str) -> float:
    """The number a Quantity stands for ("500m" -> 0.5, "1Gi" -> 1073741824.0), to compare two of them."""
    match = re.fullmatch(QUANTITY_PATTERN, quantity)
    if match is None:
        raise ValueError(f"not a quantity: {quantity!r}")
    number = quantity[: len(quantity) - len(match.group(2) or "")]
    return float(number) * _QUANTITY_SUFFIXES[match.group(2) or ""]


def cpu_cores(quantity: str) -> float:
    """A CPU quantity in cores, by the same parser ("500m" -> 0.5, "1k" -> 1000); binary suffixes (Ki, Mi...)
    measure bytes, never CPU."""
    if quantity.endswith("i"):
        raise ValueError(f"not a CPU quantity: {quantity!r}")
    return quantity_value(quantity)


DnsName = Annotated[str, Field(max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
"""A Kubernetes object name (RFC 1123 subdomain)."""
ShortText = Annotated[str, Field(max_length=2048)]
"""One constraint, preference or similar line of text."""


class Language(StrEnum):
    """Languages the sandbox can run."""

    PYTHON = "python"
    """Python 3.11 (Debian bookworm) with numpy and pandas."""
    JAVASCRIPT = "javascript"
    """Node.js 20 (Debian trixie), CommonJS, with the npm packages of IMAGE_LIBRARIES."""


IMAGE_LIBRARIES: dict[Language, tuple[str, ...]] = {
    Language.PYTHON: ("numpy", "pandas"),
    Language.JAVASCRIPT: ("lodash", "moment"),
}
"""Third-party libraries each language's sandbox image provides (for JavaScript, the packages of
sandbox-image/javascript/package.json; a unit test checks both agree)."""


class SuccessCriterion(CrdModel):
    """One check the result must pass. Exactly one of exitCode, outputContains, outputMatches, testScript
    or judge must be set."""

    name: str = Field(min_length=1, max_length=63, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
    """Short identifier of the criterion, reported in status.result.criteria and in feedback to the model."""
    exit_code: int | None = Field(default=None, ge=0, le=255)
    """The program must exit with this code (0 for success)."""
    output_contains: str | None = Field(default=None, min_length=1, max_length=4096)
    """The program's standard output must contain this text verbatim."""
    output_matches: str | None = Field(default=None, min_length=1, max_length=4096)
    """The program's standard output must match this Python regular expression (re.search, MULTILINE)."""
    test_script: str | None = Field(default=None, min_length=1, max_length=65536)
    """Source of a test run in the sandbox after the program (Python, or JavaScript with
    testScriptLanguage: javascript), with the working directory /output and the environment variables
    LEVEL5_STDOUT_FILE, LEVEL5_STDERR_FILE and LEVEL5_EXIT_CODE; it passes when it exits 0."""
    test_script_language: Language = Language.PYTHON
    """Language of testScript: python (the default) or javascript (run by Node in the JavaScript sandbox
    image only)."""
    judge: str | None = Field(default=None, min_length=1, max_length=4096)
    """A plain-language criterion judged by the model from the code and its output; the model's rationale
    is recorded in status."""
    hidden: bool = False
    """Hide the check from the model: it sees the criterion's name and, when it fails, only the failure
    message, never the expected text, pattern or test script (so it cannot write to the test). The program
    never sees test scripts in any case."""

    @property
    def kind(self) -> str:
        """The camelCase name of the one check this criterion sets."""
        for field_name in CRITERION_KINDS:
            if getattr(self, field_name) is not None:
                return to_camel(field_name)
        raise ValueError(f"criterion {self.name!r} sets no check")

    @field_validator("output_matches")
    @classmethod
    def _regex_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            re.compile(value)
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> SuccessCriterion:
        if sum(getattr(self, name) is not None for name in CRITERION_KINDS) != 1:
            raise ValueError(
                f"criterion {self.name!r} must set exactly one of exitCode, outputContains, outputMatches, "
                "testScript, judge"
            )
        return self


CRITERION_KINDS = ("exit_code", "output_contains", "output_matches", "test_script", "judge")
"""Python names of the mutually exclusive checks of a SuccessCriterion."""


class Goal(CrdModel):
    """What the generated program must achieve."""

    primary: str = Field(min_length=1, max_length=16384)
    """The task in plain language, e.g. "print total revenue per region from /data/sales.csv"."""
    success_criteria: list[SuccessCriterion] = Field(min_length=1, max_length=32)
    """Checks that decide success; the score of an iteration is the fraction of them that pass."""
    constraints: list[ShortText] = Field(default_factory=list, max_length=32)
    """Hard rules the code must follow, given to the model verbatim."""
    preferences: list[ShortText] = Field(default_factory=list, max_length=32)
    """Soft wishes (style, approach), given to the model verbatim."""


class FileAccess(CrdModel):
    """Which paths the program may read and write. The sandbox root filesystem is read-only; reference data
    is mounted read-only at /data and writes go only to the ephemeral directory /output."""

    read: list[Annotated[str, Field(max_length=512)]] = Field(default_factory=list, max_length=32)
    """Path globs the program may read, e.g. /data/*.csv."""
    write: list[Annotated[str, Field(max_length=512)]] = Field(default_factory=list, max_length=32)
    """Path globs under /output the program may create, e.g. /output/report.txt."""
    reference_data: DnsName | None = None
    """Name of a ConfigMap in the task's namespace mounted read-only at /data."""
    reference_data_claim: DnsName | None = None
    """Name of a PersistentVolumeClaim mounted read-only at /data (alternative to referenceData)."""

    @model_validator(mode="after")
    def _one_data_source(self) -> FileAccess:
        if self.reference_data is not None and self.reference_data_claim is not None:
            raise ValueError("files: set at most one of referenceData and referenceDataClaim")
        return self


class Capabilities(CrdModel):
    """What the generated program may use. Network access is never allowed and has no field."""

    language: Language = Language.PYTHON
    """Programming language of the generated code."""
    max_lines: int = Field(default=200, ge=1, le=5000)
    """Longest program the review lets through, in lines."""
    allowed_libraries: list[ShortText] = Field(default_factory=list, max_length=64)
    """Third-party modules the code may import (e.g. pandas; for javascript only the npm packages its image
    provides: lodash, moment); safe standard-library or built-in modules are always allowed by the
    review."""
    files: FileAccess = Field(default_factory=FileAccess)
    """File access of the program."""
    timeout_seconds: int = Field(default=60, ge=1, le=3600)
    """Wall-clock limit of one sandbox run; the pod's activeDeadlineSeconds is derived from it."""
    cpu: Quantity = "500m"
    """CPU request and limit of the sandbox pod."""
    memory: Quantity = "256Mi"
    """Memory request and limit of the sandbox pod."""
    ephemeral_storage: Quantity = "64Mi"
    """Ephemeral-storage request and limit of the sandbox pod (also the size of /output and /tmp)."""

    @model_validator(mode="after")
    def _libraries_in_image(self) -> Capabilities:
        # The Python image's import names are many (numpy's submodules, the standard library), so only the
        # JavaScript packages, which are exactly the image's lockfile, are checked here.
        if self.language is Language.JAVASCRIPT:
            provided = IMAGE_LIBRARIES[Language.JAVASCRIPT]
            missing = [lib for lib in self.allowed_libraries if lib not in provided]
            if missing:
                raise ValueError(
                    f"capabilities.allowedLibraries: {', '.join(missing)} not in the JavaScript sandbox "
                    f"image (it provides {', '.join(provided)}); remove them, or add them to "
                    "sandbox-image/javascript/package.json and rebuild the image"
                )
        return self


class Convergence(CrdModel):
    """Stop when the score stops improving."""

    window: int = Field(default=3, ge=1, le=50)
    """Number of recent iterations compared with the best score before them."""
    min_improvement: float = Field(default=0.0, ge=0.0, le=1.0)
    """Smallest gain of the best score over the window that counts as progress; 0 disables the check."""


class Budgets(CrdModel):
    """Limits over the whole task; exceeding one fails the task."""

    cpu_seconds: float | None = Field(default=None, gt=0)
    """CPU time used by all sandbox runs together."""
    tokens: int | None = Field(default=None, gt=0)
    """Model tokens (prompt + completion) used by generation and judging together."""
    wall_clock_seconds: int | None = Field(default=None, gt=0)
    """Time since the task started."""


class StuckDetection(CrdModel):
    """Stop a task that goes round in circles."""

    max_same_failure: int = Field(default=3, ge=2, le=50)
    """Fail after this many consecutive iterations ending with the same failure."""
    max_similar_attempts: int = Field(default=3, ge=2, le=50)
    """Fail after this many consecutive attempts whose code is nearly identical."""
    similarity_threshold: float = Field(default=0.95, gt=0.0, le=1.0)
    """difflib similarity ratio at or above which two attempts count as nearly identical."""


class Iterations(CrdModel):
    """How the generate, review, execute, evaluate, refine loop is bounded."""

    max_iterations: int = Field(default=5, ge=1, le=50)
    """Most attempts before the task fails; an iteration whose sandbox pod was deleted or evicted from
    outside while it ran is retried and not counted."""
    max_interrupted_iterations: int = Field(default=3, ge=1, le=50)
    """Most iterations whose sandbox pod is deleted or evicted from outside before the task fails with
    SandboxInterrupted (those iterations do not count against maxIterations)."""
    convergence: Convergence = Field(default_factory=Convergence)
    """Stop early when the score plateaus."""
    budgets: Budgets = Field(default_factory=Budgets)
    """Resource budgets of the whole task."""
    stuck: StuckDetection = Field(default_factory=StuckDetection)
    """Detection of repeated failures and repeated code."""


class SecretKeyRef(CrdModel):
    """A key of a Secret in the task's namespace."""

    name: str = Field(min_length=1, max_length=253)
    """Name of the Secret."""
    key: str = Field(min_length=1, max_length=253)
    """Key inside the Secret."""


class ModelSettings(CrdModel):
    """Which OpenAI-compatible model writes and judges the code; unset fields use the operator's defaults."""

    base_url: str | None = Field(default=None, alias="baseURL", max_length=2048, pattern=r"^https?://")
    """Base URL of the OpenAI-compatible API, e.g. http://llm.internal/v1."""
    model: str | None = Field(default=None, max_length=256)
    """Model name sent to the API."""
    api_key_secret_ref: SecretKeyRef | None = None
    """Secret holding the API key."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    """Sampling temperature."""
    max_tokens: int | None = Field(default=None, ge=1, le=200000)
    """Upper bound of completion tokens per request."""
    seed: int | None = Field(default=None, ge=0, le=2**31 - 1)
    """Sampling seed sent with every request, for endpoints that honour it (llama.cpp's server does; OpenAI
    on a best-effort basis): with a fixed seed and the same prompt a rerun samples the same answer."""


class AutonomyLevel(StrEnum):
    """How much the agent may do without a human."""

    A = "A"
    """Supervised: every iteration's code waits for an approved Approval before it runs."""
    B = "B"
    """Monitored: runs without waiting, every step is visible live; all escalation triggers are on."""
    C = "C"
    """Audited: runs independently; each executed iteration leaves a non-blocking Approval in state Review
    for later human review; anomaly, impact, time and stuck triggers escalate."""
    D = "D"
    """Full: only exceptions (anomaly, stuck) escalate."""


class Trigger(StrEnum):
    """Why a human is asked to decide before code runs."""

    LOW_CONFIDENCE = "LowConfidence"
    """The combined confidence (the model's self-report, the review findings and the scores so far) is below
    escalation.confidenceThreshold."""
    ANOMALY = "Anomaly"
    """The review said escalate, the goal was flagged by the prompt-injection check, the previous run showed
    an anomaly, or its output was withheld as prompt injection."""
    IMPACT = "Impact"
    """The code writes files, the task requests more CPU or memory than escalation.impactCpu/impactMemory,
    or it allows libraries outside escalation.safeLibraries."""
    TIME = "Time"
    """More than escalation.timeFraction of spec.iterations.budgets.wallClockSeconds has passed."""
    UNCERTAINTY = "Uncertainty"
    """The model said what it is unsure about."""
    STUCK = "Stuck"
    """The last escalation.stuckAfter iterations ended with the same failure."""


DEFAULT_TRIGGERS: dict[AutonomyLevel, tuple[Trigger, ...]] = {
    AutonomyLevel.A: tuple(Trigger),
    AutonomyLevel.B: tuple(Trigger),
    AutonomyLevel.C: (Trigger.ANOMALY, Trigger.IMPACT, Trigger.TIME, Trigger.STUCK),
    AutonomyLevel.D: (Trigger.ANOMALY, Trigger.STUCK),
}
"""The triggers that escalate at each level when spec.autonomy.escalation.triggers is not set."""

SAFE_LIBRARIES = ["numpy", "pandas", "lodash", "moment"]
"""Default escalation.safeLibraries: third-party libraries whose use is not a high-impact change."""


class Escalation(CrdModel):
    """When a running task stops for a human. Unset fields use the defaults of the autonomy level."""

    triggers: list[Trigger] | None = Field(default=None, max_length=6)
    """Triggers that make the task wait for an Approval; unset: the level's defaults (A and B: all; C:
    Anomaly, Impact, Time, Stuck; D: Anomaly, Stuck); [] disables escalation (level A still asks for every
    iteration)."""
    confidence_threshold: float = Field(default=0.5, ge=0.0, le=1.0)
    """LowConfidence fires below this combined confidence."""
    time_fraction: float = Field(default=0.8, gt=0.0, le=1.0)
    """Time fires once this fraction of the wall-clock budget has passed."""
    stuck_after: int = Field(default=2, ge=2, le=50)
    """Stuck fires when this many consecutive iterations ended with the same failure; keep it below
    iterations.stuck.maxSameFailure so a human is asked before the task fails."""
    impact_cpu: Quantity = "1"
    """Impact fires when capabilities.cpu is above this."""
    impact_memory: Quantity = "1Gi"
    """Impact fires when capabilities.memory is above this."""
    safe_libraries: list[ShortText] = Field(default_factory=lambda: list(SAFE_LIBRARIES), max_length=64)
    """Impact fires when capabilities.allowedLibraries holds a library not in this list."""


class TimeoutAction(StrEnum):
    """What happens to an Approval nobody decided before it expired."""

    REJECT = "Reject"
    """The task fails with reason ApprovalExpired; the code never runs."""
    ESCALATE = "Escalate"
    """The task's phase becomes Escalated and the Approval stays open, without expiry, for a decision."""


class Autonomy(CrdModel):
    """Autonomy settings of the task: how much it does without a human."""

    level: AutonomyLevel = AutonomyLevel.A
    """Autonomy level A (supervised) to D (full); A, the default, approves every iteration."""
    escalation: Escalation = Field(default_factory=Escalation)
    """Escalation triggers and their thresholds."""
    approval_timeout_seconds: int = Field(default=3600, ge=10, le=7 * 24 * 3600)
    """Seconds a blocking Approval waits for a decision before timeoutAction applies."""
    timeout_action: TimeoutAction = TimeoutAction.REJECT
    """Reject (fail the task) or Escalate (phase Escalated, the Approval stays open)."""

    def triggers(self) -> tuple[Trigger, ...]:
        """The triggers in effect: the configured ones, else the level's defaults."""
        if self.escalation.triggers is not None:
            return tuple(self.escalation.triggers)
        return DEFAULT_TRIGGERS[self.level]


class PauseMode(StrEnum):
    """What spec.paused does to a sandbox pod that is running."""

    FINISH = "Finish"
    """The running pod finishes and its iteration is evaluated; no new step starts."""
    KILL = "Kill"
    """The running pod is killed at once; its iteration ends as Paused and is not run again."""


class AgentTaskSpec(CrdModel):
    """Desired state of an AgentTask: a goal for a code-writing agent and the limits it runs under."""

    goal: Goal
    """What the program must achieve and how success is checked."""
    capabilities: Capabilities = Field(default_factory=Capabilities)
    """Language, size, files and resources the program may use."""
    iterations: Iterations = Field(default_factory=Iterations)
    """Bounds of the refine loop."""
    model: ModelSettings | None = None
    """Model used for this task; the operator's default when unset."""
    autonomy: Autonomy = Field(default_factory=Autonomy)
    """Autonomy level of the agent."""
    paused: bool = False
    """Pause: true stops the task before its next step (phase Paused) with all state kept; false resumes
    exactly where it stopped. `kubectl patch agenttask NAME --type merge -p '{"spec":{"paused":true}}'`."""
    pause_mode: PauseMode = PauseMode.FINISH
    """Finish lets a running sandbox pod complete; Kill deletes it when the pause begins."""
    guidance: list[ShortText] = Field(default_factory=list, max_length=32)
    """Hints from people for the next generations, added while the task runs; shown to the model."""
    cancel: bool = False
    """Kill switch of this task: set to true to stop it for good. The running sandbox pod is deleted at once
    (grace period 0), no further model calls are made and the phase becomes Cancelled; a cancelled task
    never restarts. `kubectl patch agenttask NAME --type merge -p '{"spec":{"cancel":true}}'`."""

    @model_validator(mode="after")
    def _test_scripts_runnable(self) -> AgentTaskSpec:
        for criterion in self.goal.success_criteria:
            if (
                criterion.test_script_language is Language.JAVASCRIPT
                and self.capabilities.language is not Language.JAVASCRIPT
            ):
                raise ValueError(
                    f"goal.successCriteria[{criterion.name}].testScriptLanguage: javascript test scripts run "
                    "only in the JavaScript sandbox; set capabilities.language: javascript or write the test "
                    "in Python"
                )
        return self
