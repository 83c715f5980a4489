"""People in the refine loop without a cluster: autonomy levels, the approval gate and every decision,
expiry, escalation triggers and pause/resume. The real scripted model over HTTP, the real runner as a local
subprocess, Approvals kept in memory and decided by the test as a person would."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from local_sandbox import LocalSandbox, MemoryApprovals, RecordingSink, build_loop

from level5.api.approval import ApprovalState, Decision
from level5.api.spec import AgentTaskSpec, ModelSettings
from level5.api.status import AgentTaskStatus, Phase
from level5.core.config import OperatorConfig
from level5.core.wakeups import Wakeups
from level5.loop.task_loop import TaskLoop
from level5.model.client import ModelGateway, resolve_endpoint
from level5.sandbox.manifests import TaskRef, sandbox_pod_name
from scripted_model import ScriptedModel

pytestmark = pytest.mark.asyncio(loop_scope="session")
TASK = TaskRef(name="people", namespace="ns", uid="uid-people", generation=1)
OK = "print('ok')\n"  # the answer parser ends a program with a newline
HUMAN = "print('ok from a person')\n"


def answer(source: str, confidence: float = 0.9, uncertainty: str = "none") -> str:
    return f"```python\n{source}\n```\nCONFIDENCE: {confidence}\nUNCERTAINTY: {uncertainty}"


def make_spec(level: str = "A", **autonomy: object) -> AgentTaskSpec:
    return AgentTaskSpec.model_validate(
        {
            "goal": {"primary": "Print ok.", "successCriteria": [{"name": "ok", "outputContains": "ok"}]},
            "iterations": {"maxIterations": 4},
            "autonomy": {"level": level, **autonomy},
        }
    )


class Harness:
    """One task loop running in the background, with its approvals, sandbox, sink and a mutable spec."""

    def __init__(
        self, loop: TaskLoop, approvals: MemoryApprovals, sandbox: LocalSandbox, sink: RecordingSink
    ):
        self.loop, self.approvals, self.sandbox, self.sink = loop, approvals, sandbox, sink
        self.run = asyncio.ensure_future(loop.run())

    async def finished(self) -> AgentTaskStatus:
        return await asyncio.wait_for(self.run, 30)

    async def pending(self) -> str:
        return (await asyncio.wait_for(self.approvals.next_pending(), 30)).name


Start = Callable[..., Harness]


@pytest.fixture
async def start(scripted_model: ScriptedModel, tmp_path: Path) -> AsyncIterator[Start]:
    gateway = ModelGateway(max_concurrent=4)
    endpoint = resolve_endpoint(ModelSettings(base_url=scripted_model.base_url), OperatorConfig(), None)
    started: list[Harness] = []

    def begin(
        spec: AgentTaskSpec, spec_view: Callable[[], AgentTaskSpec] | None = None, **extra: object
    ) -> Harness:
        wakeups = extra.pop("wakeups", None) or Wakeups()
        approvals = MemoryApprovals(TASK.uid, wakeups)  # type: ignore[arg-type]
        sandbox, sink = LocalSandbox(tmp_path), RecordingSink()
        loop = build_loop(
            TASK, spec, sandbox, sink, gateway, endpoint, approvals=approvals, wakeups=wakeups,
            spec_view=spec_view, **extra,
        )  # fmt: skip
        harness = Harness(loop, approvals, sandbox, sink)
        started.append(harness)
        return harness

    yield begin
    for harness in started:
        harness.run.cancel()
    await gateway.close()


async def test_level_a_runs_nothing_until_a_person_approves(
    scripted_model: ScriptedModel, start: Start
) -> None:
    scripted_model.add({"match": "Write the program", "content": answer(OK)})
    task = start(make_spec("A"))
    name = await task.pending()
    approval = task.approvals.items[name]
    assert approval.spec.code == OK and approval.spec.code_sha256 == hashlib.sha256(OK.encode()).hexdigest()
    assert approval.spec.blocking and approval.spec.expires_at is not None
    assert task.sink.last.phase is Phase.AWAITING_APPROVAL and task.sink.last.approval == name
    await asyncio.sleep(0.2)
    assert not task.sandbox.launches, "code ran before approval"
    task.approvals.decide(name, Decision.APPROVE)
    final = await task.finished()
    assert final.phase is Phase.SUCCEEDED
    assert task.sandbox.launches[sandbox_pod_name(TASK, 1)] == 1
    assert final.history[0].reason == "AllCriteriaPassed"
    assert task.approvals.items[name].status.state is ApprovalState.APPLIED
    assert ("ApprovalApprove", "iteration 1: Approve by alice", False) in task.sink.events


async def test_a_decision_without_the_webhooks_stamp_is_ignored(
    scripted_model: ScriptedModel, start: Start
) -> None:
    scripted_model.add({"match": "Write the program", "content": answer(OK)})
    task = start(make_spec("A"))
    name = await task.pending()
    task.approvals.decide(name, Decision.APPROVE, by="")  # as if patched with no webhook in the path
    for _ in range(100):
        if any(reason == "UnstampedDecision" for reason, _, _ in task.sink.events):
            break
        await asyncio.sleep(0.05)
    assert any(reason == "UnstampedDecision" for reason, _, _ in task.sink.events)
    assert not task.sandbox.launches and task.sink.last.phase is Phase.AWAITING_APPROVAL
    task.approvals.decide(name, Decision.APPROVE, by="alice")
    assert (await task.finished()).phase is Phase.SUCCEEDED


async def test_reject_tells_the_model_why_and_generates_again(
    scripted_model: ScriptedModel, start: Start
) -> None:
    scripted_model.add(
        {"match": "Write the program", "content": answer("print('ok', 1)")},
        {"match": "Attempt 1 failed", "content": answer(OK)},
    )
    task = start(make_spec("A"))
    first = await task.pending()
    task.approvals.decide(first, Decision.REJECT, reason="never print numbers")
    second = await task.pending()
    assert second != first
    assert "never print numbers" in scripted_model.prompts()[-1]
    task.approvals.decide(second, Decision.APPROVE, by="bob")
    final = await task.finished()
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    assert final.history[0].reason == "Rejected by alice"
    assert sandbox_pod_name(TASK, 1) not in task.sandbox.launches


async def test_override_code_is_reviewed_and_runs_without_another_approval(
    scripted_model: ScriptedModel, start: Start
) -> None:
    scripted_model.add({"match": "Write the program", "content": answer("print('model')")})
    task = start(make_spec("A"))
    name = await task.pending()
    task.approvals.decide(name, Decision.OVERRIDE, override_code=HUMAN)
    final = await task.finished()
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    assert final.history[0].reason == "Overridden by alice"
    assert task.sandbox.codes[f"{sandbox_pod_name(TASK, 2)}-code"] == HUMAN
    assert "ok from a person" in (final.result.stdout_excerpt if final.result else "")
    assert len(task.approvals.items) == 1


async def test_override_code_that_the_review_blocks_never_runs(
    scripted_model: ScriptedModel, start: Start
) -> None:
    scripted_model.add(
        {"match": "Write the program", "content": answer("print('model')")},
        {"match": "Attempt 2 failed", "content": answer(OK)},
    )
    task = start(make_spec("A"))
    task.approvals.decide(await task.pending(), Decision.OVERRIDE, override_code="import os\nos.system('id')")
    third = await task.pending()
    assert task.approvals.items[third].spec.iteration == 3
    assert not task.sandbox.launches
    assert task.sink.last.history[-1].review_verdict == "block"
    task.approvals.decide(third, Decision.APPROVE)
    assert (await task.finished()).phase is Phase.SUCCEEDED


async def test_guide_and_constrain_reach_the_next_prompt(scripted_model: ScriptedModel, start: Start) -> None:
    scripted_model.add(
        {"match": "Attempt 2 failed", "content": answer(OK)},
        {"match": "Attempt 1 failed", "content": answer("print('ok', 2)")},
        {"match": "Write the program", "content": answer("print('ok', 1)")},
    )
    task = start(make_spec("A"))
    task.approvals.decide(await task.pending(), Decision.GUIDE, hint="use a single print call")
    second = await task.pending()
    assert "use a single print call" in scripted_model.prompts()[-1]
    task.approvals.decide(second, Decision.CONSTRAIN, constraints=["no numbers in the output"])
    third = await task.pending()
    last = scripted_model.prompts()[-1]
    assert "no numbers in the output" in last and "use a single print call" in last
    task.approvals.decide(third, Decision.APPROVE)
    final = await task.finished()
    assert final.phase is Phase.SUCCEEDED
    assert final.interventions.hints == ["use a single print call"]
    assert final.interventions.constraints == ["no numbers in the output"]


@pytest.mark.parametrize("action", ["Reject", "Escalate"])
async def test_an_expired_approval_takes_its_timeout_action(
    scripted_model: ScriptedModel, start: Start, action: str
) -> None:
    scripted_model.add({"match": "Write the program", "content": answer(OK)})
    later = [datetime.now(UTC)]
    task = start(make_spec("A", approvalTimeoutSeconds=60, timeoutAction=action), clock=lambda: later[0])
    name = await task.pending()
    later[0] += timedelta(seconds=61)
    task.approvals.wakeups.notify("approval", TASK.uid)  # a watch event (or the wait's own timeout)
    if action == "Reject":
        final = await task.finished()
        assert (final.phase, task.approvals.items[name].status.state) == (Phase.FAILED, ApprovalState.EXPIRED)
        assert "ApprovalExpired" in final.message or final.conditions[-1].reason == "ApprovalExpired"
        assert not task.sandbox.launches
        return
    for _ in range(100):
        if task.sink.statuses and task.sink.last.phase is Phase.ESCALATED:
            break
        await asyncio.sleep(0.05)
    assert task.sink.last.phase is Phase.ESCALATED
    assert task.approvals.items[name].status.state is ApprovalState.ESCALATED
    task.approvals.decide(name, Decision.APPROVE)
    assert (await task.finished()).phase is Phase.SUCCEEDED


async def test_level_d_runs_without_asking_unless_a_trigger_fires(
    scripted_model: ScriptedModel, start: Start
) -> None:
    scripted_model.add(
        {"match": "Write the program", "content": answer(OK, confidence=0.1, uncertainty="all of it")}
    )
    final = await start(make_spec("D")).finished()
    assert final.phase is Phase.SUCCEEDED  # low confidence and uncertainty are not D's triggers
    scripted_model.add(
        {"match": "Write the program", "content": answer(OK, confidence=0.1, uncertainty="all of it")}
    )
    task = start(make_spec("B"))
    name = await task.pending()
    fired = {t.type.value for t in task.approvals.items[name].spec.triggers}
    assert fired == {"LowConfidence", "Uncertainty"}
    conditions = {c.type: c for c in task.sink.last.conditions}
    assert conditions["LowConfidence"].status == "True" and conditions["Uncertainty"].reason == "ModelUnsure"
    assert {"LowConfidence", "Uncertainty"} <= {reason for reason, _, _ in task.sink.events}
    task.approvals.decide(name, Decision.APPROVE)
    assert (await task.finished()).phase is Phase.SUCCEEDED


async def test_level_c_leaves_an_audit_item_for_each_run(scripted_model: ScriptedModel, start: Start) -> None:
    scripted_model.add({"match": "Write the program", "content": answer(OK)})
    task = start(make_spec("C"))
    final = await task.finished()
    assert final.phase is Phase.SUCCEEDED and final.interventions.audit_items == 1
    (item,) = task.approvals.items.values()
    assert not item.spec.blocking and item.status.state is ApprovalState.REVIEW and item.spec.code == OK


async def test_pause_stops_before_the_next_step_and_resume_continues(
    scripted_model: ScriptedModel, start: Start
) -> None:
    scripted_model.add({"match": "Write the program", "content": answer(OK)})
    wakeups = Wakeups()
    spec = [make_spec("A")]
    task = start(spec[0], spec_view=lambda: spec[0], wakeups=wakeups)
    name = await task.pending()
    spec[0] = spec[0].model_copy(update={"paused": True})
    wakeups.notify("task", TASK.uid)
    for _ in range(100):
        if task.sink.last.phase is Phase.PAUSED:
            break
        await asyncio.sleep(0.05)
    assert task.sink.last.phase is Phase.PAUSED
    task.approvals.decide(name, Decision.APPROVE)  # decided while paused: nothing runs yet
    await asyncio.sleep(0.3)
    assert not task.sandbox.launches and task.sink.last.phase is Phase.PAUSED
    spec[0] = spec[0].model_copy(update={"paused": False})
    wakeups.notify("task", TASK.uid)
    final = await task.finished()
    assert final.phase is Phase.SUCCEEDED and final.iteration == 1
    assert [c.reason for c in final.conditions if c.type == "Paused"] == ["Resumed"]


async def test_the_runtime_policy_stops_approved_code_and_the_next_run_asks_again(
    scripted_model: ScriptedModel, start: Start
) -> None:
    """A person approves code the review could not judge (a call it cannot resolve); the runtime policy
    still stops it when it turns out to read /etc/hostname: a PolicyViolation iteration, fed back to the
    model, whose anomaly makes the next iteration ask a person again (Anomaly trigger)."""
    reads = 'readers = [print, open]\nwith readers[1]("/etc/hostname") as handle:\n    print(handle.read())\n'
    scripted_model.add(
        {"match": "Write the program", "content": answer(reads)},
        {"match": "Attempt 1 failed", "content": answer(OK)},
    )
    task = start(make_spec("B"))
    first = await task.pending()
    assert task.approvals.items[first].spec.review_verdict == "escalate"
    task.approvals.decide(first, Decision.APPROVE)
    second = await task.pending()
    assert {t.type.value for t in task.approvals.items[second].spec.triggers} >= {"Anomaly"}
    entry = task.sink.last.history[0]
    assert entry.policy_violation is not None and entry.policy_violation.rule == "L5-RT-READ"
    assert entry.policy_violation.line == 2 and "/etc/hostname" in entry.policy_violation.attempted
    assert entry.exit_code == 86 and entry.reason.startswith("PolicyViolation: L5-RT-READ")
    conditions = {c.type: c for c in task.sink.last.conditions}
    assert conditions["AnomalyDetected"].reason == "PolicyViolation"
    assert "Error type: PolicyViolation" in scripted_model.prompts()[1]
    task.approvals.decide(second, Decision.APPROVE)
    final = await task.finished()
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    assert task.loop.metrics.policy_violations.labels("L5-RT-READ")._value.get() == 1
