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
    """The existing log cannot be extended safely (its last record is not a valid record)."""


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

    async def write(self, line: str) -> None: ...

    async def last_line(self) -> str | None: ...


class FileSink:
    """Appends lines to a file with fsync; the chain resumes from the file's last line."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _append(self, line: str) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def _tail(self) -> str | None:
        if not self.path.exists():
            return None
        lines = [line for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return lines[-1] if lines else None

    async def write(self, line: str) -> None:
        await asyncio.to_thread(self._append, line)

    async def last_line(self) -> str | None:
        return await asyncio.to_thread(self._tail)


class StreamSink:
    """Emits each line to a logger (for log shipping); it keeps no history, so chains start fresh."""

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger("level5.safety.audit")

    async def write(self, line: str) -> None:
        self.logger.info("%s", line)

    async def last_line(self) -> str | None:
        return None


class TeeSink:
    """Writes every line to a primary sink and to mirrors; the chain resumes from the primary alone."""

    def __init__(self, primary: AuditSink, *mirrors: AuditSink) -> None:
        self.primary, self.mirrors = primary, mirrors

    async def write(self, line: str) -> None:
        await self.primary.write(line)  # durable first: a mirror failing must not lose the record
        for mirror in self.mirrors:
            await mirror.write(line)

    async def last_line(self) -> str | None:
        return await self.primary.last_line()


class AuditLog:
    """Hash-chained audit log over a sink; safe for many concurrent appenders in one event loop."""

    def __init__(self, sink: AuditSink, *, clock: Callable[[], datetime] | None = None) -> None:
        self.sink = sink
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = asyncio.Lock()
        self._next: tuple[int, str] | None = None

    async def _resume(self) -> tuple[int, str]:
        last = await self.sink.last_line()
        if last is None:
            return 0, GENESIS_HASH
        try:
            record = AuditRecord.model_validate_json(last)
        except ValidationError as exc:
            raise AuditError(f"last audit line is not a valid record: {exc}") from exc
        if record_hash(record.model_dump()) != record.hash:
            raise AuditError(f"last audit record (seq {record.seq}) has a wrong hash")
        return record.seq + 1, record.hash

    async def append(
        self, kind: str, task: str, iteration: int | None, data: dict[str, object]
    ) -> AuditRecord:
        """Append one record and return it."""
        async with self._lock:
            if self._next is None:
                self._next = await self._resume()
            seq, prev = self._next
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
            await self.sink.write(canonical(record.model_dump()).decode())
            self._next = (seq + 1, record.hash)
            return record


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
