"""Layer 6: tamper-evident, append-only audit trail as JSON lines with a hash chain.

Each record is ``{seq, time, task, iteration, kind, data, prevHash, hash}`` where ``hash`` is the
SHA-256 of the canonical JSON (sorted keys, no whitespace, UTF-8) of the record without ``hash``,
so it covers ``prevHash`` and therefore the whole history. ``verify`` detects any edit, insertion,
reordering or deletion inside the log. Limits: deleting records from the *tail* (truncation) or
replacing the whole file with a fresh valid chain is only detectable against an external
checkpoint, so pass ``expected_last_seq``/``expected_last_hash`` from a copy kept elsewhere (for
example the last hash exported in task status or another sink). Appends never block the event
loop: file I/O runs in a worker thread under an asyncio lock, so concurrent tasks append safely.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ValidationError

GENESIS_HASH = "0" * 64


class AuditError(RuntimeError):
    """The existing log cannot be extended safely: it is not a valid chain, or it lacks a record that a task
    recorded as written (a checkpoint). Appending is refused from then on; it never starts a new chain."""


AUDIT_WRITE_FAILED = "AuditWriteFailed"
"""The Warning Event of a task whose step's audit record could not be written."""


class AuditWriteError(OSError):
    """A record could not be written (the disk full or read-only, the volume gone): the step that needed it
    fails before the status that would mark it done, and is taken up again later. The log is left as it was
    before the attempt, so the chain stays valid."""


ONCE_KINDS = frozenset({"launch", "execution", "evaluation", "kill"})
"""Record kinds that happen at most once per iteration: a step repeated after a restart finds its record
already written (by its step key) and does not write it again. Other kinds may recur in one iteration (a
judge's prompt and answer besides the generation's; a person's edit of the code)."""

COMPLETES_RUN = ("execution", "evaluation")
"""What every iteration whose pod was launched must also have recorded, unless a kill closed it."""


class AuditRecord(BaseModel):
    """One audit record; field names follow the on-disk JSON."""

    seq: int
    time: str
    task: str
    iteration: int | None
    kind: str
    data: dict[str, object]
    prevHash: str
    hash: str


class VerifyResult(BaseModel):
    """Outcome of verifying a log: ok, number of valid records, first broken record (seq index) and why."""

    ok: bool
    records: int
    first_bad: int | None = None
    reason: str = ""


def canonical(payload: dict[str, object]) -> bytes:
    """Canonical JSON: sorted keys, no whitespace, UTF-8."""
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def record_hash(fields: dict[str, object]) -> str:
    """SHA-256 over the canonical JSON of a record without its ``hash`` field."""
    return hashlib.sha256(canonical({k: v for k, v in fields.items() if k != "hash"})).hexdigest()


class AuditSink(Protocol):
    """Where audit lines go."""

    async def write(self, line: str, durable: bool = True) -> None:
        """Append one line; with `durable`, return only once it is on stable storage, else once it is
        written (a process that dies keeps it; a machine that fails may lose it until the next sync)."""
        ...

    async def sync(self) -> None:
        """Make every line written so far durable."""
        ...

    async def history(self) -> list[str]:
        """Every line written so far (empty for a sink that keeps none): the chain resumes from it."""
        ...

    async def changed_elsewhere(self) -> bool:
        """Whether another writer extended the log since this one last read or wrote it (a standby operator
        that was active once): the chain must then be read again before the next append."""
        ...


class FileSink:
    """Appends lines to a file with fsync; the chain resumes from the file's last line. Lines written without
    `durable` share the fsync of the next sync() or durable write: one fsync (about 4 ms on this machine's
    disk) covers every line written before it, so a step's records and many tasks' records cost one."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._size = 0  # bytes of the file as this sink last read or wrote it
        self._synced = 0  # bytes of the file known to be on stable storage
        self._sync_lock = asyncio.Lock()

    def _append(self, line: str, durable: bool) -> None:
        data = (line + "\n").encode()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:  # a read-only file system refuses the open already
            raise AuditWriteError(exc.errno, f"audit record not written to {self.path}: {exc}") from exc
        try:
            size = os.fstat(fd).st_size
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                if durable:
                    os.fsync(fd)
            except OSError as exc:
                # A full disk takes part of a line: cut it off again, or the next reader finds a broken chain.
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, size)
                raise AuditWriteError(exc.errno, f"audit record not written to {self.path}: {exc}") from exc
            self._size = size + len(data)
            if durable:
                self._synced = self._size
        finally:
            os.close(fd)

    def _fsync(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)  # the inode's dirty pages, whichever descriptor wrote them
            finally:
                os.close(fd)
        except OSError as exc:
            raise AuditWriteError(exc.errno, f"audit records not made durable in {self.path}: {exc}") from exc

    def _current_size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def _read(self) -> list[str]:
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        self._size = len(data)
        return [line for line in data.decode("utf-8").splitlines() if line.strip()]

    async def write(self, line: str, durable: bool = True) -> None:
        await asyncio.to_thread(self._append, line, durable)

    async def sync(self) -> None:
        target = self._size
        if self._synced >= target:
            return
        async with self._sync_lock:  # one fsync at a time; a waiter whose lines it covered returns at once
            if self._synced >= target:
                return
            size = self._size
            await asyncio.to_thread(self._fsync)
            self._synced = max(self._synced, size)

    async def history(self) -> list[str]:
        return await asyncio.to_thread(self._read)

    async def changed_elsewhere(self) -> bool:
        return await asyncio.to_thread(self._current_size) != self._size


class StreamSink:
    """Emits each line to a logger (for log shipping); it keeps no history, so chains start fresh."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("level5.safety.audit")

    async def write(self, line: str, durable: bool = True) -> None:
        self.logger.info("%s", line)

    async def sync(self) -> None:
        return None

    async def history(self) -> list[str]:
        return []

    async def changed_elsewhere(self) -> bool:
        return False


class TeeSink:
    """Writes every line to a primary sink and to mirrors; the chain resumes from the primary alone."""

    def __init__(self, primary: AuditSink, *mirrors: AuditSink) -> None:
        self.primary, self.mirrors = primary, mirrors

    async def write(self, line: str, durable: bool = True) -> None:
        await self.primary.write(line, durable)  # first: a mirror failing must not lose the record
        for mirror in self.mirrors:
            await mirror.write(line, durable)

    async def sync(self) -> None:
        await self.primary.sync()

    async def history(self) -> list[str]:
        return await self.primary.history()

    async def changed_elsewhere(self) -> bool:
        return await self.primary.changed_elsewhere()


def step_of(record: AuditRecord) -> str | None:
    """The record's step key (task uid/iteration/kind), or None for a record written without one."""
    step = record.data.get("step")
    return step if isinstance(step, str) else None


class AuditLog:
    """Hash-chained audit log over a sink; safe for many concurrent appenders in one event loop. On first use
    it reads the whole log once: the chain must verify (else every append is refused), and it keeps each
    record's hash by seq (to check tasks' checkpoints) and the step keys of ONCE_KINDS (to write those
    once)."""

    def __init__(self, sink: AuditSink, *, clock: Callable[[], datetime] | None = None) -> None:
        self.sink = sink
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = asyncio.Lock()
        self._next: tuple[int, str] | None = None
        self._hashes = bytearray()  # 32 bytes per record: a million records take 32 MB
        self._once: dict[str, AuditRecord] = {}
        self.refusal: str | None = None
        """Why the log may not be extended (set once, never cleared while the operator runs)."""

    async def _open(self) -> tuple[int, str]:
        if self._next is not None and self.refusal is None and await self.sink.changed_elsewhere():
            self._next, self._hashes, self._once = None, bytearray(), {}
        if self._next is None:
            lines = await self.sink.history()
            result = verify(lines)
            if not result.ok:
                self.refusal = (
                    f"the audit log is not a valid chain at record {result.first_bad}: {result.reason}"
                )
            else:
                for line in lines:
                    record = AuditRecord.model_validate_json(line)
                    self._remember(record)
            self._next = (self._count, self._hash(self._count - 1) if self._count else GENESIS_HASH)
        if self.refusal is not None:
            raise AuditError(self.refusal)
        return self._next

    @property
    def _count(self) -> int:
        return len(self._hashes) // 32

    def _hash(self, seq: int) -> str:
        return self._hashes[seq * 32 : seq * 32 + 32].hex()

    def _remember(self, record: AuditRecord) -> None:
        self._hashes += bytes.fromhex(record.hash)
        step = step_of(record)
        if step is not None and record.kind in ONCE_KINDS:
            self._once.setdefault(step, record)

    async def check(self, checkpoint: tuple[int, str] | None) -> str | None:
        """Whether the log can be extended and still holds a task's checkpoint (seq and hash of the task's
        last record); None if so. A log that does not (cut short, replaced, another chain) is refused for
        every later append, and the reason returned."""
        async with self._lock:
            try:
                await self._open()
            except AuditError as exc:
                return str(exc)
            if checkpoint is None:
                return None
            seq, digest = checkpoint
            problem = (
                f"the audit log has {self._count} records but a task recorded record {seq} as written "
                "(the log was cut short or replaced)"
                if seq >= self._count
                else f"audit record {seq} has another hash than the task recorded (the log was rewritten)"
                if self._hash(seq) != digest
                else None
            )
            if problem is not None:
                self.refusal = problem
            return problem

    async def append(
        self, kind: str, task: str, iteration: int | None, data: dict[str, object], durable: bool = True
    ) -> AuditRecord:
        """Append one record and return it; a record of ONCE_KINDS whose step key is already in the log is
        not written again, and the earlier record is returned. Without `durable` the record is written but
        made durable only by the next sync() (or durable append)."""
        async with self._lock:
            seq, prev = await self._open()
            step = data.get("step")
            if kind in ONCE_KINDS and isinstance(step, str) and step in self._once:
                return self._once[step]
            fields: dict[str, object] = {
                "seq": seq,
                "time": self._clock().isoformat(),
                "task": task,
                "iteration": iteration,
                "kind": kind,
                "data": json.loads(canonical(data)),
                "prevHash": prev,
            }
            record = AuditRecord.model_validate({**fields, "hash": record_hash(fields)})
            await self.sink.write(canonical(record.model_dump()).decode(), durable)
            self._remember(record)
            self._next = (seq + 1, record.hash)
            return record

    async def sync(self) -> None:
        """Make every record appended so far durable (AuditWriteError when the storage refuses)."""
        await self.sink.sync()


def verify(
    lines: Iterable[str],
    *,
    expected_last_seq: int | None = None,
    expected_last_hash: str | None = None,
    checkpoints: Iterable[tuple[int, str]] = (),
) -> VerifyResult:
    """Check the chain; ``first_bad`` is the 0-based position of the first broken record. Each checkpoint
    (seq, hash), e.g. the one an AgentTask keeps in status.audit, must be a record of the chain: a log cut
    short before it, or rewritten from it on, fails."""
    prev, count = GENESIS_HASH, 0
    hashes: dict[int, str] = {}
    for position, line in enumerate(line for line in lines if line.strip()):
        try:
            raw = json.loads(line)
            record = AuditRecord.model_validate(raw)
        except (ValueError, ValidationError) as exc:
            return VerifyResult(
                ok=False, records=count, first_bad=position, reason=f"not a valid record: {exc}"
            )
        problem = (
            "sequence number out of order"
            if record.seq != position
            else "prevHash does not match the previous record"
            if record.prevHash != prev
            else "hash does not match the record contents"
            if record_hash(raw) != record.hash or set(raw) != set(AuditRecord.model_fields)
            else ""
        )
        if problem:
            return VerifyResult(ok=False, records=count, first_bad=position, reason=problem)
        prev, count = record.hash, count + 1
        hashes[record.seq] = record.hash
    if expected_last_seq is not None and count - 1 != expected_last_seq:
        return VerifyResult(
            ok=False, records=count, first_bad=count, reason="log truncated or extended past checkpoint"
        )
    for seq, digest in checkpoints:
        if hashes.get(seq) != digest:
            missing = (
                "is missing (log truncated)" if seq not in hashes else "has another hash (log rewritten)"
            )
            return VerifyResult(
                ok=False, records=count, first_bad=min(seq, count), reason=f"checkpoint {seq} {missing}"
            )
    if expected_last_hash is not None and prev != expected_last_hash:
        return VerifyResult(
            ok=False, records=count, first_bad=count, reason="last hash differs from checkpoint"
        )
    return VerifyResult(ok=True, records=count)


class Completeness(BaseModel):
    """Per-iteration completeness of a log: iterations whose pod was launched, the records they lack, and the
    records written more than once (ONCE_KINDS with the same step key)."""

    iterations: int
    missing: list[str]
    """'<task uid>/<iteration>/<kind>' of each record an iteration lacks."""
    repeated: list[str]
    """Step keys of ONCE_KINDS written more than once."""

    @property
    def ok(self) -> bool:
        return not self.missing and not self.repeated


def completeness(lines: Iterable[str]) -> Completeness:
    """Check that every iteration that ran has its launch, execution and evaluation records: an iteration
    with any of them (or a kill) must have the launch, and a launched one the execution and evaluation, unless
    a kill closed it (cancel, pause with Kill, emergency stop). Call on a log whose chain verifies."""
    kinds: dict[str, set[str]] = {}
    seen: set[str] = set()
    repeated: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        record = AuditRecord.model_validate_json(line)
        step = step_of(record)
        if step is None or record.kind not in ONCE_KINDS:
            continue
        if step in seen:
            repeated.append(step)
        seen.add(step)
        kinds.setdefault(step.rsplit("/", 1)[0], set()).add(record.kind)
    missing = []
    for iteration, found in kinds.items():
        needed = {"launch"} | (set() if "kill" in found else set(COMPLETES_RUN))
        missing += [f"{iteration}/{kind}" for kind in sorted(needed - found)]
    return Completeness(iterations=len(kinds), missing=missing, repeated=repeated)
