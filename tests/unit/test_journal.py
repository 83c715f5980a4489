"""The Journal, the one writer of status, audit records, Events and phase metrics: a failed task (the path a
task whose spec does not parse takes in the handler) is audited first, then counted, posted and saved."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from local_sandbox import RecordingSink

from level5.api.status import AgentTaskStatus, Phase
from level5.loop.journal import INVALID_SPEC, Journal
from level5.observability.metrics import Metrics
from level5.safety.audit import AuditLog, FileSink
from level5.sandbox.manifests import TaskRef

TASK = TaskRef(name="broken", namespace="ns", uid="uid-broken", generation=3)


async def test_fail_audits_counts_posts_and_saves(tmp_path: Path) -> None:
    sink, metrics = RecordingSink(), Metrics()
    log = tmp_path / "audit.jsonl"
    journal = Journal(
        TASK, AgentTaskStatus(), sink, AuditLog(FileSink(log)), metrics, lambda: datetime.now(UTC)
    )
    await journal.fail(INVALID_SPEC, "invalid spec: spec.goal: Field required")
    record = json.loads(log.read_text().splitlines()[-1])
    assert record["kind"] == "outcome" and record["data"]["reason"] == INVALID_SPEC
    final = sink.last
    assert final.phase is Phase.FAILED and final.message.startswith("invalid spec")
    assert final.audit is not None and final.audit.seq == record["seq"]  # the checkpoint of that record
    assert (INVALID_SPEC, "invalid spec: spec.goal: Field required", True) in sink.events
    assert metrics.tasks_finished.labels("Failed", INVALID_SPEC)._value.get() == 1
    assert metrics.tasks.labels("Failed")._value.get() == 1
    conditions = {c.type: c for c in final.conditions}
    assert conditions["Failed"].status == "True" and conditions["Failed"].observed_generation == 3


async def test_a_staged_step_posts_its_event_at_once_and_is_written_with_the_next_save(
    tmp_path: Path,
) -> None:
    sink, metrics = RecordingSink(), Metrics()
    journal = Journal(
        TASK,
        AgentTaskStatus(),
        sink,
        AuditLog(FileSink(tmp_path / "a.jsonl")),
        metrics,
        lambda: datetime.now(UTC),
    )
    journal.stage(journal.status, Phase.EVALUATING, "Evaluating", "iteration 1: evaluating")
    assert not sink.statuses and ("Evaluating", "iteration 1: evaluating", False) in sink.events
    assert journal.status.phase is Phase.EVALUATING
    await journal.save(journal.status.model_copy(update={"iteration": 1}))
    assert len(sink.statuses) == 1
    assert sink.last.phase is Phase.EVALUATING and sink.last.iteration == 1


class GatedSink(RecordingSink):
    """A sink whose writes wait until the test lets them through (a slow API server), or fail."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.started = 0
        self.fail_with: Exception | None = None

    async def save(self, status: AgentTaskStatus) -> None:
        self.started += 1
        await self.gate.wait()
        if self.fail_with is not None:
            raise self.fail_with
        await super().save(status)


def gated_journal(tmp_path: Path) -> tuple[Journal, GatedSink]:
    sink = GatedSink()
    audit = AuditLog(FileSink(tmp_path / "a.jsonl"))
    return Journal(TASK, AgentTaskStatus(), sink, audit, Metrics(), lambda: datetime.now(UTC)), sink


async def test_save_soon_writes_in_the_background_in_order_and_coalesces_a_burst(tmp_path: Path) -> None:
    journal, sink = gated_journal(tmp_path)
    journal.save_soon(journal.status, Phase.GENERATING, "Generating", "iteration 1: asking the model")
    await asyncio.sleep(0)  # the writer starts its first patch, which now hangs on the gate
    assert sink.started == 1 and not sink.statuses
    assert ("Generating", "iteration 1: asking the model", False) in sink.events  # the Event did not wait
    journal.save_soon(journal.status.model_copy(update={"iteration": 1}), Phase.REVIEWING, "Reviewing", "r")
    journal.stage(journal.status, Phase.EXECUTING, "Executing", "e")
    saved = asyncio.ensure_future(journal.save(journal.status.model_copy(update={"iteration": 2})))
    await asyncio.sleep(0.01)
    assert not saved.done()  # an awaited save returns only once it is written
    sink.gate.set()
    await saved
    # Two patches for four steps: the first, then the latest whole status.
    assert [s.phase for s in sink.statuses] == [Phase.GENERATING, Phase.EXECUTING]
    assert sink.last.iteration == 2 and sink.started == 2


async def test_a_failed_background_write_is_raised_by_the_next_save(tmp_path: Path) -> None:
    journal, sink = gated_journal(tmp_path)
    sink.fail_with = RuntimeError("status patch failed: 500")
    sink.gate.set()
    journal.save_soon(journal.status, Phase.GENERATING, "Generating", "g")
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="500"):
        await journal.save(journal.status, Phase.REVIEWING, "Reviewing", "r")
    assert sink.started == 1 and not sink.statuses  # nothing written after the failure


class CountingFileSink(FileSink):
    """A FileSink that notes each fsync it asks for and the statuses saved meanwhile (the order matters)."""

    def __init__(self, path: Path, order: list[str]) -> None:
        super().__init__(path)
        self.order = order

    def _fsync(self) -> None:
        self.order.append("fsync")
        super()._fsync()


class OrderedSink(RecordingSink):
    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self.order = order

    async def save(self, status: AgentTaskStatus) -> None:
        self.order.append("status")
        await super().save(status)


async def test_a_steps_records_share_one_fsync_before_the_status_naming_them(tmp_path: Path) -> None:
    order: list[str] = []
    log = tmp_path / "audit.jsonl"
    audit = AuditLog(CountingFileSink(log, order))
    sink = OrderedSink(order)
    journal = Journal(TASK, AgentTaskStatus(), sink, audit, Metrics(), lambda: datetime.now(UTC))
    for kind in ("prompt", "answer", "code"):
        await journal.record(kind, 1, {"n": kind})
    # The first record follows a status write (an operator's claim on the task), then none until a save.
    assert order == ["status"] and len(log.read_text().splitlines()) == 3  # a dying process keeps them
    await journal.save(journal.status.model_copy(update={"iteration": 1}))
    assert order == ["status", "fsync", "status"]
    assert journal.status.audit is not None and journal.status.audit.seq == 2  # the checkpoint is synced
    await journal.save(journal.status.model_copy(update={"iteration": 2}))  # nothing new to make durable
    assert order == ["status", "fsync", "status", "status"]
