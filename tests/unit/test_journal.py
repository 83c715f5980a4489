"""The Journal, the one writer of status, audit records, Events and phase metrics: a failed task (the path a
task whose spec does not parse takes in the handler) is audited first, then counted, posted and saved."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

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
