"""The task loop's step context: the ports the loop talks through (Sandbox, Approvals), and StepContext,
which holds the task's collaborators and the helpers every step shares. Each step lives in its own module
(generate, review, gate, approval, execute, finish, interruptions) as a mixin over StepContext; TaskLoop
(task_loop.py) combines them and dispatches."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from level5.api.approval import (
    ApprovalObject,
    ApprovalSpec,
    ApprovalState,
    Decision,
)
from level5.api.spec import AgentTaskSpec, AutonomyLevel, Trigger
from level5.api.status import (
    AgentTaskStatus,
    ConditionStatus,
    ConditionType,
    CurrentIteration,
    Feedback,
    HistoryEntry,
    Phase,
    SyscallMonitoring,
    TaskResult,
)
from level5.core.kill_switch import EmergencyStop
from level5.core.wakeups import Wakeups
from level5.loop.journal import Journal, StatusSink
from level5.loop.state_machine import (
    Action,
    finish_iteration,
    set_condition,
)
from level5.model.client import Completion, Endpoint, Message, ModelGateway, ModelUnavailableError
from level5.observability.metrics import Metrics, budget_of
from level5.observability.monitoring import (
    INCOMPLETE,
    detect_anomalies,
    executed,
)
from level5.safety.audit import AuditLog
from level5.safety.injection import SecondOpinion
from level5.safety.redaction import Redactor
from level5.sandbox.manifests import TaskRef, code_config_map_name
from level5.sandbox.outcome import LaunchOutcome, Pod, PodOutcome, QueueReport
from level5.sandbox.pool import ColdStartReason, WarmClaim


class Sandbox(Protocol):
    """The parts of SandboxLauncher the loop uses."""

    async def ensure_namespace_guards(self, namespace: str) -> None: ...

    async def store_code(
        self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, iteration: int, code: str
    ) -> str: ...

    async def read_code(self, namespace: str, config_map: str) -> str | None: ...

    async def launch(
        self,
        task: TaskRef,
        spec: AgentTaskSpec,
        pod_name: str,
        iteration: int,
        code: str | None,
        resuming: bool,
        queued: QueueReport | None = None,
    ) -> LaunchOutcome: ...

    async def run_cold(
        self, namespace: str, name: str, spec: AgentTaskSpec, code: str
    ) -> tuple[Pod | None, PodOutcome]: ...

    async def store_result(self, task: TaskRef, data: dict[str, str]) -> str: ...

    async def kill(self, namespace: str, name: str) -> None: ...

    async def claim_warm(self, task: TaskRef, spec: AgentTaskSpec) -> WarmClaim | ColdStartReason | None: ...

    async def run_warm(self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, code: str) -> PodOutcome: ...


class Approvals(Protocol):
    """The parts of approval_store.KubeApprovals the loop uses."""

    async def ensure(
        self, task: TaskRef, name: str, spec: ApprovalSpec, state: ApprovalState, now: datetime
    ) -> ApprovalObject: ...

    async def read(self, namespace: str, name: str) -> ApprovalObject | None: ...

    async def set_state(
        self, namespace: str, name: str, state: ApprovalState, message: str, applied_at: datetime | None
    ) -> None: ...


def _waited(approval: ApprovalObject, until: datetime) -> float:
    """Seconds from an Approval's creation to `until`."""
    return max((until - approval.created_at).total_seconds(), 0.0) if approval.created_at else 0.0


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class LoopServices:
    """What the operator shares among the loops of all its tasks (made once at startup)."""

    gateway: ModelGateway
    sandbox: Sandbox
    audit: AuditLog
    approvals: Approvals
    wakeups: Wakeups = field(default_factory=Wakeups)
    metrics: Metrics = field(default_factory=Metrics)
    emergency: EmergencyStop = field(default_factory=EmergencyStop)
    clock: Callable[[], datetime] = utcnow
    second_opinion: SecondOpinion | None = None
    """An optional injection classifier consulted on the goal and each run's redacted output, besides the
    built-in checks (it can only add findings)."""


class StepContext:
    """What every step of the loop works with: the task, its spec and status (through the Journal), the
    collaborators the operator passes in, and the helpers the steps share (recording, conditions, the
    iteration's code, closing an iteration, failing the task)."""

    def __init__(
        self,
        task: TaskRef,
        spec: AgentTaskSpec,
        status: AgentTaskStatus,
        services: LoopServices,
        *,
        endpoint: Endpoint,
        sink: StatusSink,
        redactor: Redactor,
        cancel: asyncio.Event | None = None,
        spec_view: Callable[[], AgentTaskSpec] | None = None,
        creator: str | None = None,
    ) -> None:
        self.task, self.spec = task, spec
        self.second_opinion = services.second_opinion
        # The spec changes while the task runs (pause, guidance, tighter constraints): spec_view reads the
        # live object; wake-ups tell when it or one of the task's Approvals changed.
        self.spec_view = spec_view or (lambda: spec)
        self.wakeups, self.approvals, self.metrics = services.wakeups, services.approvals, services.metrics
        self.gateway, self.sandbox, self.audit, self.clock = (
            services.gateway,
            services.sandbox,
            services.audit,
            services.clock,
        )
        # Kill switches: set from watch events by the handlers; a fresh (never set) cancel when not given.
        self.cancel, self.emergency = cancel or asyncio.Event(), services.emergency
        self.endpoint, self.sink, self.redactor, self.creator = endpoint, sink, redactor, creator
        self.journal = Journal(task, status, sink, services.audit, services.metrics, services.clock)
        # Code by ConfigMap name: the ConfigMaps are immutable, so what was stored or read once stays true.
        self._codes: dict[str, str] = {}
        # The iteration's code ConfigMap while it is being written (see _store_code_soon).
        self._storing: asyncio.Future[str] | None = None
        self._unstamped_warned = False

    @property
    def status(self) -> AgentTaskStatus:
        """The task's status as last recorded (the journal holds it)."""
        return self.journal.status

    @status.setter
    def status(self, status: AgentTaskStatus) -> None:
        """A change the next save persists (several steps build one status in stages)."""
        self.journal.status = status

    async def _save(
        self, status: AgentTaskStatus, phase: Phase | None = None, reason: str = "", message: str = ""
    ) -> None:
        """Persist status (Journal.save), once the code ConfigMap it may name exists: a durable status never
        names code that is not stored (a resumed operator reads it from there)."""
        await self._code_stored()
        await self.journal.save(status, phase, reason, message)

    def _stage(
        self, status: AgentTaskStatus, phase: Phase | None = None, reason: str = "", message: str = ""
    ) -> None:
        self.journal.stage(status, phase, reason, message)  # written with the next save

    async def _audit(self, kind: str, iteration: int | None, data: dict[str, object]) -> None:
        await self.journal.record(kind, iteration, data)

    async def _store_code(self, pod_name: str, iteration: int, code: str) -> str:
        """Store an iteration's code in its immutable ConfigMap and keep it: later steps read it from here."""
        config_map = self._store_code_soon(pod_name, iteration, code)
        await self._code_stored()
        return config_map

    def _store_code_soon(self, pod_name: str, iteration: int, code: str) -> str:
        """Start storing an iteration's code and keep it, and return its ConfigMap's name at once: the write
        overlaps the review and the gate, and the next awaited save waits for it (_code_stored)."""
        config_map = code_config_map_name(pod_name)
        self._codes[config_map] = code
        self._storing = asyncio.ensure_future(
            self.sandbox.store_code(self.task, self.spec, pod_name, iteration, code)
        )
        return config_map

    async def _code_stored(self) -> None:
        """Wait until the code being stored is (its failure is raised, and again by the next call)."""
        storing = self._storing
        if storing is not None:
            await asyncio.shield(storing)  # a step interrupted here leaves the write to finish
            if storing is self._storing:
                self._storing = None

    async def _code(self, config_map: str) -> str | None:
        """An iteration's code: held since it was stored, else read once (after a restart) and held."""
        if config_map not in self._codes:
            code = await self.sandbox.read_code(self.task.namespace, config_map)
            if code is None:
                return None
            self._codes[config_map] = code
        return self._codes[config_map]

    async def _redacted(self, text: str) -> str:
        """The text redacted in a worker thread, as program output is (``guards.py``): a prompt holds the
        goal, the reference data and the last output, a millisecond or more of detector work, and a ramp's
        tasks ask for theirs together. On the event loop, 1,000 tasks' prompts and answers held it for
        1.6 s of CPU in stalls of 100 to 250 ms (`make bench`'s ramp, 2026-12-02); in a thread the loop
        gets the interpreter back every switch interval (5 ms)."""
        return (await asyncio.to_thread(self.redactor.redact, text)).text

    def _with_condition(
        self,
        status: AgentTaskStatus,
        type_: ConditionType | Trigger,
        value: ConditionStatus,
        reason: str,
        message: str,
    ) -> AgentTaskStatus:
        conditions = set_condition(
            status.conditions, type_, value, reason, message, self.clock(), self.task.generation
        )
        return status.model_copy(update={"conditions": conditions})

    def _condition_is(self, type_: ConditionType, value: ConditionStatus) -> bool:
        return any(c.type == type_ and c.status == value for c in self.status.conditions)

    async def _complete(self, iteration: int, messages: list[Message]) -> tuple[str, int]:
        """One model call, audited: the prompt before it is sent, the answer before anything uses it."""
        prompt = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)
        await self._audit(
            "prompt",
            iteration,
            {"sha256": hashlib.sha256(prompt.encode()).hexdigest(), "text": await self._redacted(prompt)},
        )
        completion = await self._complete_with_retries(iteration, messages)
        await self._audit(
            "answer", iteration, {"text": await self._redacted(completion.text), "tokens": completion.tokens}
        )
        return completion.text, completion.tokens

    async def _complete_with_retries(self, iteration: int, messages: list[Message]) -> Completion:
        """The call, retried after transient faults as the gateway allows: each retry an Event, a metric and
        the ModelRetrying condition (False again after an answer). The last fault is raised."""
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                completion = await self.gateway.complete(self.endpoint, messages)
            except ModelUnavailableError as exc:
                self.metrics.model_call(time.monotonic() - started, None)
                attempt += 1
                if attempt > self.gateway.retries:
                    raise
                delay = self.gateway.backoff(attempt, exc.retry_after)
                message = (
                    f"iteration {iteration}: model call failed ({exc.reason.value}: {exc}); "
                    f"retry {attempt} of {self.gateway.retries} in {delay:g} s"
                )[:1024]
                self.metrics.model_retry(exc.reason)
                self.journal.event("ModelRetrying", message, warning=True)
                await self._save(
                    self._with_condition(
                        self.status,
                        ConditionType.MODEL_RETRYING,
                        ConditionStatus.TRUE,
                        exc.reason.value,
                        message,
                    )
                )
                await asyncio.sleep(delay)
                continue
            except Exception:
                self.metrics.model_call(time.monotonic() - started, None)
                raise
            self.metrics.model_call(time.monotonic() - started, completion)
            if self._condition_is(ConditionType.MODEL_RETRYING, ConditionStatus.TRUE):
                self._stage(
                    self._with_condition(
                        self.status,
                        ConditionType.MODEL_RETRYING,
                        ConditionStatus.FALSE,
                        "Answered",
                        f"iteration {iteration}: the model answered",
                    )
                )
            return completion

    def _entry(self, current: CurrentIteration, reason: str, signature: str | None) -> HistoryEntry:
        return HistoryEntry(
            iteration=current.iteration,
            code_sha256=current.code_sha256,
            code_config_map=current.code_config_map,
            review_verdict=current.review.verdict if current.review else None,
            review_rules=current.review.rules if current.review else [],
            reason=reason,
            failure_signature=signature,
            tokens=current.tokens,
            duration_seconds=(self.clock() - current.started_at).total_seconds(),
            pod_name=current.pod_name if current.launch_state else None,
            warm_pool=current.warm_pool if current.launch_state else None,
        )

    async def _close_iteration(
        self,
        entry: HistoryEntry,
        feedback: str | None,
        result: TaskResult | None,
        decision: Decision | None = None,
    ) -> None:
        await self._code_stored()  # the history names the iteration's code ConfigMap
        status = self._monitored(finish_iteration(self.status, entry, self.clock()))
        update: dict[str, object] = {}
        if feedback is not None:
            update["feedback"] = Feedback(
                iteration=entry.iteration, code_config_map=entry.code_config_map, summary=feedback
            )
        if result is not None:
            update["result"] = result
        # Not awaited: the next step writes next and nothing irreversible comes before (no code runs before
        # a launch intent's awaited save). An iteration that passed is not even written on its own: the
        # task's end follows at once (decide_next: SUCCEED) and writes both in one patch. A restart before
        # that write finds the iteration open and takes it up as after any interrupted wait (a cold pod's
        # result is read again; a warm run is failed, WarmRunInterrupted, never re-run).
        closed = status.model_copy(update=update)
        if entry.score >= 1.0:
            self._stage(closed)
        else:
            self.journal.save_soon(closed)
        self.metrics.iteration_finished(entry, decision)

    def _monitored(self, status: AgentTaskStatus) -> AgentTaskStatus:
        """Status with the AnomalyDetected condition for the run just closed, and a Warning Event per
        anomaly (layer 4: recorded only; escalation is a separate concern)."""
        if not executed(status.history[-1]):
            return status
        status = self._with_syscall_condition(status)
        anomalies = detect_anomalies(status.history, self.spec.capabilities)
        for anomaly in anomalies:
            self.journal.event("AnomalyDetected", f"{anomaly.kind.value}: {anomaly.message}", warning=True)
        if anomalies:
            return self._with_condition(
                status,
                ConditionType.ANOMALY_DETECTED,
                ConditionStatus.TRUE,
                anomalies[0].kind.value,
                "; ".join(f"{a.kind.value}: {a.message}" for a in anomalies),
            )
        if not any(c.type == ConditionType.ANOMALY_DETECTED for c in status.conditions):
            return status
        return self._with_condition(
            status,
            ConditionType.ANOMALY_DETECTED,
            ConditionStatus.FALSE,
            "NoAnomaly",
            f"iteration {status.history[-1].iteration} ran without anomalies",
        )

    def _with_syscall_condition(self, status: AgentTaskStatus) -> AgentTaskStatus:
        """SyscallMonitoring: whether the last run's system calls were observed from outside the sandbox.
        Where no monitor is configured or it had nothing, the condition says so; never taken as clean."""
        record = status.history[-1].syscalls
        if record is None:
            return status
        if record.monitoring is SyscallMonitoring.OBSERVED:
            incomplete = [a for a in record.anomalies if a.startswith(INCOMPLETE)]
            message = "; ".join(incomplete) or f"iteration {status.history[-1].iteration} was observed"
            return self._with_condition(
                status, ConditionType.SYSCALL_MONITORING, ConditionStatus.TRUE, "Observed", message[:1024]
            )
        reason, message = (
            ("MonitorOff", "no system-call monitor is configured (LEVEL5_SYSCALL_MONITOR_URL)")
            if record.monitoring is SyscallMonitoring.OFF
            else ("MonitorUnavailable", "the system-call monitor had no summary of this run")
        )
        return self._with_condition(
            status, ConditionType.SYSCALL_MONITORING, ConditionStatus.FALSE, reason, message
        )

    def _effective_spec(self) -> AgentTaskSpec:
        """The spec with the constraints people added through Constrain decisions."""
        added = self.status.interventions.constraints
        if not added:
            return self.spec
        goal = self.spec.goal.model_copy(update={"constraints": [*self.spec.goal.constraints, *added]})
        return self.spec.model_copy(update={"goal": goal})

    def _humans_decide(self) -> bool:
        """Whether review escalations go to a person (level A, or the Anomaly trigger on) instead of being
        treated as a block."""
        autonomy = self.spec.autonomy
        return autonomy.level is AutonomyLevel.A or Trigger.ANOMALY in autonomy.triggers()

    async def _until(self, holds: Callable[[], bool]) -> None:
        """Wait until `holds()` is true of the live spec; woken by the task's watch events."""
        while True:
            changed = self.wakeups.arm("task", self.task.uid)
            self.spec = self.spec_view()
            if holds():
                return
            await changed.wait()

    async def _supersede_approval(self, why: str) -> None:
        """The task moved on without a decision: its open Approval no longer applies."""
        if self.status.approval is None:
            return
        found = await self.approvals.read(self.task.namespace, self.status.approval)
        if found is not None and found.status.state.open:
            await self.approvals.set_state(
                self.task.namespace, found.name, ApprovalState.SUPERSEDED, why, None
            )
        await self._save(self.status.model_copy(update={"approval": None}))

    async def _fail(self, action: Action) -> None:
        await self._supersede_approval(f"the task failed: {action.reason}")
        budget = budget_of(action.reason)
        if budget is not None:
            self.metrics.budget_exhausted(budget)
        await self.journal.fail(action.reason, action.message, action.iteration)
