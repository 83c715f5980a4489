"""Layer 4 in the refine loop without a cluster: cancel and the emergency stop interrupt a task that waits on
its sandbox pod (the pod is killed, no further model call), and anomalies of a run are recorded. The real
scripted model over HTTP and the real runner as a local subprocess."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from local_sandbox import UNSUPERVISED, LocalSandbox, RecordingSink, build_loop

from level5.api.spec import AgentTaskSpec, ModelSettings
from level5.api.status import AgentTaskStatus, Condition, Phase
from level5.core.config import OperatorConfig
from level5.core.kill_switch import EmergencyStop
from level5.loop.task_loop import TaskLoop
from level5.model.client import ModelGateway, resolve_endpoint
from level5.sandbox.manifests import TaskRef, sandbox_pod_name
from scripted_model import ScriptedModel

# The loop factory fixture and the tests share one event loop (the fixture loop scope is the session).
pytestmark = pytest.mark.asyncio(loop_scope="session")
TASK = TaskRef(name="kill", namespace="ns", uid="uid-kill", generation=1)
POD_1 = sandbox_pod_name(TASK, 1)


def code(source: str) -> str:
    return f"```python\n{source}\n```\nCONFIDENCE: 0.8\nUNCERTAINTY: none"


def make_spec(**spec: object) -> AgentTaskSpec:
    return AgentTaskSpec.model_validate(
        {
            "goal": {"primary": "Print ok.", "successCriteria": [{"name": "ok", "outputContains": "ok"}]},
            "autonomy": UNSUPERVISED,
            **spec,
        }
    )


LoopFactory = Callable[..., TaskLoop]


@pytest.fixture
async def make_loop(scripted_model: ScriptedModel, tmp_path: Path) -> AsyncIterator[LoopFactory]:
    gateway = ModelGateway(max_concurrent=2)
    endpoint = resolve_endpoint(ModelSettings(base_url=scripted_model.base_url), OperatorConfig(), None)

    def build(
        spec: AgentTaskSpec,
        sandbox: LocalSandbox,
        sink: RecordingSink,
        status: AgentTaskStatus | None = None,
        **switches: object,
    ) -> TaskLoop:
        return build_loop(TASK, spec, sandbox, sink, gateway, endpoint, status, **switches)

    yield build
    await gateway.close()


def condition(status: AgentTaskStatus, type_: str) -> Condition:
    return next(c for c in status.conditions if c.type == type_)


async def test_cancel_while_the_pod_runs_kills_it_and_ends_the_task(
    make_loop: LoopFactory, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add({"content": code("print('ok')"), "repeat": True})
    sandbox, sink, cancel = LocalSandbox(tmp_path), RecordingSink(), asyncio.Event()
    sandbox.block_on_wait = True
    run = asyncio.ensure_future(make_loop(make_spec(), sandbox, sink, cancel=cancel).run())
    await asyncio.wait_for(sandbox.waiting.wait(), 30)
    requests_before = len(scripted_model.requests)
    cancel.set()
    final = await asyncio.wait_for(run, 5)
    assert final.phase is Phase.CANCELLED and final.phase.terminal
    assert sandbox.killed == [POD_1]
    assert len(scripted_model.requests) == requests_before == 1
    assert condition(final, "Cancelled").status == "True"
    assert condition(final, "Progressing").status == "False"
    assert final.current is None and final.history[-1].termination == "Cancelled"
    assert [r for r, _, _ in sink.events][-2:] == ["SandboxKilled", "Cancelled"]
    # A cancelled task stays cancelled: a new loop over its status does nothing.
    again = await asyncio.wait_for(make_loop(make_spec(), sandbox, RecordingSink(), sink.last).run(), 5)
    assert again.phase is Phase.CANCELLED and len(scripted_model.requests) == 1


async def test_spec_cancel_before_start_makes_no_model_call(
    make_loop: LoopFactory, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    final = await make_loop(make_spec(cancel=True), LocalSandbox(tmp_path), RecordingSink()).run()
    assert final.phase is Phase.CANCELLED
    assert scripted_model.requests == []


async def test_emergency_stop_kills_the_run_holds_and_resumes(
    make_loop: LoopFactory, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add(
        {"match": "Write the program", "content": code("import time\ntime.sleep(1)\nprint('ok')")},
        {"match": "Attempt 1 failed", "content": code("print('ok')")},
    )
    sandbox, sink, stop = LocalSandbox(tmp_path), RecordingSink(), EmergencyStop()
    sandbox.block_on_wait = True
    run = asyncio.ensure_future(make_loop(make_spec(), sandbox, sink, emergency=stop).run())
    await asyncio.wait_for(sandbox.waiting.wait(), 30)
    sandbox.block_on_wait = False
    stop.set(True)
    await asyncio.sleep(0.5)
    assert not run.done()
    held = sink.last
    assert sandbox.killed == [POD_1]
    assert condition(held, "EmergencyStop").status == "True"
    assert (
        held.history[-1].reason.startswith("EmergencyStop")
        and held.history[-1].termination == "EmergencyStop"
    )
    assert held.phase is Phase.EXECUTING  # unchanged while held
    assert len(scripted_model.requests) == 1  # nothing asked of the model during the stop
    assert ("EmergencyStop", True) in [(r, w) for r, _, w in sink.events]
    stop.set(False)
    final = await asyncio.wait_for(run, 30)
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    assert condition(final, "EmergencyStop").status == "False"
    assert sandbox.launches[POD_1] == 1  # the killed iteration was not re-run
    assert "emergency stop" in scripted_model.prompts()[1]


async def test_output_flood_is_recorded_as_an_anomaly(
    make_loop: LoopFactory, scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add(code("print('ok')\nprint('x' * 200_000)"))
    sink = RecordingSink()
    final = await make_loop(make_spec(), LocalSandbox(tmp_path), sink).run()
    assert final.phase is Phase.SUCCEEDED
    entry = final.history[-1]
    assert entry.stdout_bytes is not None and entry.stdout_bytes > 200_000
    assert entry.run_seconds is not None and entry.exit_code == 0
    anomaly = condition(final, "AnomalyDetected")
    assert anomaly.status == "True" and anomaly.reason == "OutputFlood"
    assert any(r == "AnomalyDetected" and w and "OutputFlood" in m for r, m, w in sink.events)
