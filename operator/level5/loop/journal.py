"""The Journal: the only writer of a task's status, its audit records, its Events and its phase metrics, so
"audit before status" and "an Event and a metric per transition" hold in one place. The task loop records
through it, and so does the handler that fails a task whose spec does not parse."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from level5.api.status import AgentTaskStatus, AuditCheckpoint, ConditionStatus, ConditionType, Phase
from level5.loop.state_machine import set_condition, with_phase
from level5.observability.metrics import Metrics
from level5.safety.audit import AUDIT_WRITE_FAILED, AuditLog, AuditWriteError
from level5.sandbox.manifests import TaskRef
from level5.sandbox.outcome import QuotaRefusal


class StatusSink(Protocol):
    """Where the loop records progress (the status subresource and Events in the operator)."""

    async def save(self, status: AgentTaskStatus) -> None: ...

    def event(self, reason: str, message: str, warning: bool = False) -> None: ...


INVALID_SPEC = "InvalidSpec"
"""The reason a task fails with when its spec does not parse (the schema and webhook normally stop it)."""


class Journal:
    """Records one task's progress: audit records first, then the status that completes the step."""

    def __init__(
        self,
        task: TaskRef,
        status: AgentTaskStatus,
        sink: StatusSink,
        audit: AuditLog,
        metrics: Metrics,
        clock: Callable[[], datetime],
    ) -> None:
        self.task, self.status, self.sink, self.audit, self.metrics, self.clock = (
            task,
            status,
            sink,
            audit,
            metrics,
            clock,
        )
        self._checkpoint = status.audit
        # The one writer of status patches (see save_soon), and whether self.status holds more than it wrote.
        self._writer: asyncio.Task[None] | None = None
        self._dirty = False
        self._written = False  # a status write went out: the sink's claim on the task (KubeStatusSink) holds

    async def save(
        self, status: AgentTaskStatus, phase: Phase | None = None, reason: str = "", message: str = ""
    ) -> None:
        """Persist status; on a phase change also set conditions, post an Event and count it. It returns once
        this status (or a later one) is written: what follows may depend on it being durable."""
        self.save_soon(status, phase, reason, message)
        await self.flush()

    def save_soon(
        self, status: AgentTaskStatus, phase: Phase | None = None, reason: str = "", message: str = ""
    ) -> None:
        """Like save, but the patch goes out in the background and the step continues at once. Only for a
        step whose next side effect does not depend on the write being durable, and that is safe to repeat
        if the operator stops before it lands (exactly as if it stopped during an awaited save): the next
        save waits for it (a launch intent is always saved, never saved soon). Writes go out one at a time,
        in order, and a status staged while one is in flight is written next as the latest whole status, so
        a burst of steps costs two patches, not one each. A failed write is raised by the next save or
        flush."""
        self.stage(status, phase, reason, message)
        self._dirty = True
        writer = self._writer
        if writer is None or writer.done():
            if writer is not None and not writer.cancelled() and writer.exception() is not None:
                return  # the failure stays for the next flush to raise; nothing more is written
            self._writer = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        while self._dirty:
            self._dirty = False
            self._written = True
            # Audit before status: the status names the last record as its checkpoint, so every record it
            # follows is made durable first, all of them with one fsync (records are written, not synced).
            try:
                await self.audit.sync()
            except AuditWriteError as exc:
                self.sink.event(AUDIT_WRITE_FAILED, f"audit records not made durable: {exc}", warning=True)
                raise
            await self.sink.save(self.status)

    async def flush(self) -> None:
        """Wait until every status staged with save or save_soon is written; raise a write's failure."""
        writer = self._writer
        if writer is not None:
            # Shielded: a step interrupted here (cancel, pause) leaves the patch to finish, not half-sent.
            await asyncio.shield(writer)
            if writer is self._writer:
                self._writer = None

    def stage(
        self, status: AgentTaskStatus, phase: Phase | None = None, reason: str = "", message: str = ""
    ) -> None:
        """Like save, but the status is written with the next save: for a step that another one follows at
        once without waiting on anything (review, gate, evaluation), and that is safe to repeat if the
        operator stops before that save (the repeat gives the same result and the audit trail collapses the
        repeated record by its step key). The Event and the metrics are not deferred."""
        if phase is not None and phase != status.phase:
            status = with_phase(status, phase, reason, message, self.clock(), self.task.generation)
            self.sink.event(reason, message, warning=phase is Phase.FAILED)
            self.metrics.task_phase(self.task.uid, phase)
            if phase.terminal:
                self.metrics.task_finished(phase, reason)
        if self._checkpoint is not None:
            status = status.model_copy(update={"audit": self._checkpoint})
        # Memory first: a step interrupted during the patch then continues from what it meant to record,
        # and the next save carries it.
        self.status = status

    async def queued(self, refusal: QuotaRefusal | None, freed_by: str = "") -> None:
        """The sandbox pod waits for a ResourceQuota (a visible wait, not a crash): the SandboxQueued
        condition and a Warning Event naming the quota, written at once. None: it no longer waits; the
        condition goes False with the next save, its message and Event saying what freed capacity."""
        waiting = any(
            c.type == ConditionType.SANDBOX_QUEUED and c.status == ConditionStatus.TRUE
            for c in self.status.conditions
        )
        if refusal is None:
            if waiting:
                admitted = "the sandbox pod was admitted" + (f" ({freed_by})" if freed_by else "")
                conditions = set_condition(
                    self.status.conditions, ConditionType.SANDBOX_QUEUED, ConditionStatus.FALSE,
                    "CapacityFound", admitted, self.clock(), self.task.generation,
                )  # fmt: skip
                self.stage(self.status.model_copy(update={"conditions": conditions}))
                self.sink.event("SandboxDequeued", f"capacity found: {admitted}")
            return
        quota, message = refusal
        text = f"waiting for capacity: ResourceQuota {quota} refused the sandbox pod ({message})"[:1024]
        conditions = set_condition(
            self.status.conditions, ConditionType.SANDBOX_QUEUED, ConditionStatus.TRUE,
            "QuotaExceeded", text, self.clock(), self.task.generation,
        )  # fmt: skip
        self.sink.event("SandboxQueued", text, warning=True)
        await self.save(self.status.model_copy(update={"conditions": conditions}))

    async def record(self, kind: str, iteration: int | None, data: dict[str, object]) -> None:
        """One audit record; the step key lets readers collapse a record repeated after a crash. A status
        written in the background goes out first: when another operator instance has taken the task over
        (fencing, see KubeStatusSink), that write is refused and this instance records nothing more. The
        first record of a Journal follows a status write (the status as it is, if none went out yet): that
        write is the instance's claim on the task."""
        if not self._written:
            self.save_soon(self.status)
        await self.flush()
        step = f"{self.task.uid}/{iteration}/{kind}"
        try:
            # Written, not yet synced: the next status write syncs it (and every record before it) first.
            record = await self.audit.append(
                kind,
                f"{self.task.namespace}/{self.task.name}",
                iteration,
                {"step": step, **data},
                durable=False,
            )
        except AuditWriteError as exc:  # the step fails; say so where the task's owner looks
            self.sink.event(AUDIT_WRITE_FAILED, f"iteration {iteration}: {kind}: {exc}", warning=True)
            raise
        self._checkpoint = AuditCheckpoint(seq=record.seq, hash=record.hash)

    def event(self, reason: str, message: str, warning: bool = False) -> None:
        self.sink.event(reason, message, warning)

    async def audit_refused(self, problem: str | None) -> None:
        """Whether the operator's audit log can be extended for this task (see AuditLog.check): the
        AuditRefused condition, with a Warning Event when it begins, never an audit record (there is nowhere
        to write one). None: it can (again); the condition goes False if it was True."""
        refused = any(
            c.type == ConditionType.AUDIT_REFUSED and c.status == ConditionStatus.TRUE
            for c in self.status.conditions
        )
        if problem is None and not refused:
            return
        if problem is None:
            value, reason, message = (
                ConditionStatus.FALSE,
                "CheckpointInLog",
                "the audit log holds the checkpoint",
            )
        else:
            value, reason = ConditionStatus.TRUE, "CheckpointNotInLog"
            message = f"the task waits: {problem}; restore the audit log (README: Durable audit)"[:1024]
            if not refused:
                self.sink.event("AuditRefused", message, warning=True)
        conditions = set_condition(
            self.status.conditions, ConditionType.AUDIT_REFUSED, value, reason, message, self.clock(),
            self.task.generation,
        )  # fmt: skip
        await self.save(self.status.model_copy(update={"conditions": conditions}))

    async def fail(self, reason: str, message: str, iteration: int | None = None) -> None:
        """The task's end as Failed: the outcome audited, then the status, its Event and its metrics."""
        await self.record(
            "outcome", iteration, {"phase": Phase.FAILED.value, "reason": reason, "message": message}
        )
        await self.save(self.status, Phase.FAILED, reason, message)
