"""The whole refine loop without a cluster: real openai client against the scripted model server over HTTP,
the real runner as a local subprocess, the real review."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_sandbox import UNSUPERVISED, LocalSandbox, RecordingSink, build_loop

from level5.api.spec import AgentTaskSpec, ModelSettings
from level5.api.status import AgentTaskStatus, Phase
from level5.core.config import OperatorConfig
from level5.model.client import ModelGateway, resolve_endpoint
from level5.safety.audit import AUDIT_WRITE_FAILED, AuditLog, AuditWriteError, FileSink, completeness, verify
from level5.sandbox.manifests import TaskRef, sandbox_pod_name
from scripted_model import ScriptedModel

TASK = TaskRef(name="csv", namespace="ns", uid="uid-1234", generation=1)

GOOD = """```python
import csv, io
DATA = "region,product,units,price\\nnorth,a,2,10\\nsouth,b,1,5\\nnorth,c,1,1\\n"
totals = {}
for row in csv.DictReader(io.StringIO(DATA)):
    totals[row["region"]] = totals.get(row["region"], 0) + int(row["units"]) * float(row["price"])
for region in sorted(totals):
    print(region, totals[region])
```
CONFIDENCE: 0.9
UNCERTAINTY: none"""

BROKEN = """```python
import csv, io
DATA = "region,product,units,price\\nnorth,a,2,10\\n"
for row in csv.DictReader(io.StringIO(DATA)):
    print(row["Region"])
```
CONFIDENCE: 0.4
UNCERTAINTY: column names"""


def make_spec(**iterations: object) -> AgentTaskSpec:
    return AgentTaskSpec.model_validate(
        {
            "goal": {
                "primary": "Print total revenue per region.",
                "successCriteria": [
                    {"name": "exits-cleanly", "exitCode": 0},
                    {"name": "north-total", "outputContains": "north 21.0"},
                    {"name": "one-line-per-region", "judge": "Each region appears exactly once."},
                ],
            },
            "iterations": {"maxIterations": 3, **iterations},
            "autonomy": UNSUPERVISED,
        }
    )


def audit_log(sandbox: LocalSandbox) -> AuditLog:
    """The audit trail of a test run, next to the sandbox's files."""
    return AuditLog(FileSink(sandbox.root / "audit.jsonl"))


async def run_loop(
    spec: AgentTaskSpec,
    model: ScriptedModel,
    sandbox: LocalSandbox,
    status: AgentTaskStatus | None = None,
    sink: RecordingSink | None = None,
) -> tuple[AgentTaskStatus, RecordingSink]:
    gateway = ModelGateway(max_concurrent=4)
    sink = sink or RecordingSink()
    endpoint = resolve_endpoint(ModelSettings(base_url=model.base_url), OperatorConfig(), None)
    loop = build_loop(TASK, spec, sandbox, sink, gateway, endpoint, status)
    try:
        final = await loop.run()
    finally:
        await gateway.close()
    return final, sink


def judge_pass() -> dict[str, object]:
    return {"match": "strict reviewer", "content": "VERDICT: PASS\nRATIONALE: north and south once each"}


async def test_success_on_first_iteration(scripted_model: ScriptedModel, tmp_path: Path) -> None:
    scripted_model.add({"match": "Write the program", "content": GOOD}, judge_pass())
    final, sink = await run_loop(make_spec(), scripted_model, LocalSandbox(tmp_path))
    assert final.phase is Phase.SUCCEEDED
    assert final.iteration == 1 and final.score == 1.0
    assert (
        final.result is not None and final.result.code is not None and "csv.DictReader" in final.result.code
    )
    assert "north 21.0" in final.result.stdout_excerpt
    judged = [c for c in final.result.criteria if c.kind == "judge"]
    assert judged[0].passed and judged[0].reason == "north and south once each"
    assert [c.type for c in final.conditions if c.status == "True"] == ["Ready"]
    assert final.totals.tokens == sum(h.tokens for h in final.history) > 0
    assert (final.history[0].peak_memory_bytes or 0) > 1024 * 1024  # a Python process, as the runner saw it
    phases = [s.phase for s in sink.statuses]
    # Three patches: the start, the launch intent (carrying the code, its review and the gate), the end
    # (carrying the passing iteration's close). Reviewing and Evaluating are transitions with their Events.
    assert phases == [Phase.GENERATING, Phase.EXECUTING, Phase.SUCCEEDED]
    assert sink.statuses[1].current is not None and sink.statuses[1].current.review is not None
    reasons = [reason for reason, _, _ in sink.events]
    assert reasons.index("Reviewing") < reasons.index("Executing") < reasons.index("Evaluating")
    assert phases.index(Phase.GENERATING) < phases.index(Phase.EXECUTING) < phases.index(Phase.SUCCEEDED)
    assert any(reason == "AllCriteriaPassed" for reason, _, _ in sink.events)
    assert len(scripted_model.requests) == 2


async def test_traceback_fed_back_then_fixed(scripted_model: ScriptedModel, tmp_path: Path) -> None:
    scripted_model.add(
        {"match": "Write the program", "content": BROKEN},
        {"match": "Attempt 1 failed", "content": GOOD},
        judge_pass(),
    )
    final, _ = await run_loop(make_spec(), scripted_model, LocalSandbox(tmp_path))
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    second = scripted_model.prompts()[1]
    assert "Traceback (most recent call last)" in second
    assert "Error type: KeyError" in second and "'Region'" in second
    assert 'print(row["Region"])' in second  # the previous code is shown
    assert "exits-cleanly (exitCode): exit code 1, expected 0" in second
    first = final.history[0]
    assert first.exit_code == 1 and first.score == 0.0 and first.reason.startswith("KeyError")
    assert first.review_verdict == "allow"


async def test_max_iterations_reached(scripted_model: ScriptedModel, tmp_path: Path) -> None:
    scripted_model.add({"content": BROKEN, "repeat": True})
    final, sink = await run_loop(make_spec(maxIterations=2), scripted_model, LocalSandbox(tmp_path))
    assert final.phase is Phase.FAILED and final.iteration == 2
    failed = next(c for c in final.conditions if c.type == "Failed")
    assert failed.status == "True" and failed.reason == "MaxIterationsReached"
    assert sink.events[-1][2] is True  # a Warning event for the failure


async def test_token_budget_exhausted(scripted_model: ScriptedModel, tmp_path: Path) -> None:
    scripted_model.add(
        {"content": BROKEN, "repeat": True, "usage": {"prompt_tokens": 900, "completion_tokens": 200}}
    )
    final, _ = await run_loop(
        make_spec(maxIterations=5, budgets={"tokens": 2000}), scripted_model, LocalSandbox(tmp_path)
    )
    assert final.phase is Phase.FAILED
    assert final.conditions[-1].reason == "TokenBudgetExhausted"
    assert final.iteration == 2 and final.totals.tokens == 2200


async def test_stuck_same_failure(scripted_model: ScriptedModel, tmp_path: Path) -> None:
    variants = [BROKEN.replace("print(row", f"x = {i}\n    print(row") for i in range(5)]
    scripted_model.add(*({"content": v} for v in variants))
    spec = make_spec(maxIterations=10, stuck={"maxSameFailure": 2, "maxSimilarAttempts": 10})
    final, _ = await run_loop(spec, scripted_model, LocalSandbox(tmp_path))
    assert final.phase is Phase.FAILED and final.iteration == 2
    assert final.conditions[-1].reason == "StuckSameFailure"


async def test_stuck_similar_attempts(scripted_model: ScriptedModel, tmp_path: Path) -> None:
    variants = [BROKEN.replace("Region", f"Region{i}") for i in range(5)]  # different errors, same code
    scripted_model.add(*({"content": v} for v in variants))
    spec = make_spec(maxIterations=10, stuck={"maxSameFailure": 10, "maxSimilarAttempts": 3})
    final, _ = await run_loop(spec, scripted_model, LocalSandbox(tmp_path))
    assert final.phase is Phase.FAILED and final.iteration == 3
    assert final.conditions[-1].reason == "StuckSimilarAttempts"


async def test_code_over_max_lines_is_blocked_and_fed_back(
    scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    long_code = "```python\n" + "".join(f"print({i})\n" for i in range(30)) + "```"
    scripted_model.add(
        {"match": "Write the program", "content": long_code},
        {"match": "Attempt 1 failed", "content": GOOD},
        judge_pass(),
    )
    spec = make_spec()
    spec.capabilities.max_lines = 12
    sandbox = LocalSandbox(tmp_path)
    final, _ = await run_loop(spec, scripted_model, sandbox)
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    blocked = final.history[0]
    assert blocked.review_verdict == "block" and blocked.review_rules and blocked.pod_name is None
    assert "review blocked" in scripted_model.prompts()[1]
    assert sandbox.launches[sandbox_pod_name(TASK, 1)] == 0  # blocked code never ran


async def test_a_syntax_error_is_fed_back_as_python_reports_it(
    scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    """A program that does not compile is a bug to debug, not a construct to avoid: the model gets Python's
    own message with the line and a caret, never the review's 'do not disguise' words."""
    scripted_model.add(
        {"match": "Write the program", "content": '```python\nprint("north)\n```'},
        {"match": "Attempt 1 failed", "content": GOOD},
        judge_pass(),
    )
    sandbox = LocalSandbox(tmp_path)
    final, _ = await run_loop(make_spec(), scripted_model, sandbox)
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    first = final.history[0]
    assert first.reason.startswith("SyntaxError: unterminated string literal") and first.pod_name is None
    second = scripted_model.prompts()[1]
    assert "Python could not compile the program" in second and 'File "main.py", line 1' in second
    assert "disguise" not in second and "review blocked" not in second
    assert sandbox.launches[sandbox_pod_name(TASK, 1)] == 0


async def test_answer_without_code_is_a_failed_iteration(
    scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add(
        {"match": "Write the program", "content": "I am not sure what you want."},
        {"match": "Attempt 1 failed", "content": GOOD},
        judge_pass(),
    )
    final, _ = await run_loop(make_spec(), scripted_model, LocalSandbox(tmp_path))
    assert final.phase is Phase.SUCCEEDED and final.iteration == 2
    assert final.history[0].reason == "NoCodeInAnswer"
    assert "no usable Python program" in scripted_model.prompts()[1]


@pytest.mark.parametrize("crash", ["while the pod runs", "while the launch is pending"])
async def test_resume_after_crash_never_runs_code_twice(
    scripted_model: ScriptedModel, tmp_path: Path, crash: str
) -> None:
    scripted_model.add({"match": "Write the program", "content": GOOD}, judge_pass())
    sandbox = LocalSandbox(tmp_path)
    sandbox.hang_on_wait = crash == "while the pod runs"
    sandbox.crash_after_create = crash == "while the launch is pending"
    gateway = ModelGateway(max_concurrent=1)
    sink = RecordingSink()
    endpoint = resolve_endpoint(ModelSettings(base_url=scripted_model.base_url), OperatorConfig(), None)
    crashed = build_loop(TASK, make_spec(), sandbox, sink, gateway, endpoint)
    with pytest.raises(BaseException, match="operator killed"):
        await crashed.run()
    await gateway.close()
    persisted = sink.last
    # Only the intent is written before the pod is created ("Created" rides along with the next save): a
    # resumed launch then finds the pod and runs nothing twice.
    assert persisted.current is not None and persisted.current.launch_state == "Pending"
    sandbox.hang_on_wait = sandbox.crash_after_create = False
    final, _ = await run_loop(make_spec(), scripted_model, sandbox, status=persisted)
    assert final.phase is Phase.SUCCEEDED and final.iteration == 1
    assert sandbox.launches == {sandbox_pod_name(TASK, 1): 1}
    generation_calls = [p for p in scripted_model.prompts() if "Write the program" in p]
    assert len(generation_calls) == 1
    # Every step recorded once, on whichever attempt its effect happened: the launch record too.
    lines = (sandbox.root / "audit.jsonl").read_text().splitlines()
    assert verify(lines).ok
    check = completeness(lines)
    assert check.iterations == 1 and check.missing == [] and check.repeated == []
    launches = [line for line in lines if '"kind":"launch"' in line]
    assert len(launches) == 1


async def run_with_faults(
    model: ScriptedModel, sandbox: LocalSandbox, retries: int
) -> tuple[AgentTaskStatus, RecordingSink]:
    gateway = ModelGateway(max_concurrent=1, timeout_seconds=1.0, retries=retries, backoff_seconds=0.01)
    sink = RecordingSink()
    endpoint = resolve_endpoint(ModelSettings(base_url=model.base_url), OperatorConfig(), None)
    try:
        final = await build_loop(TASK, make_spec(), sandbox, sink, gateway, endpoint).run()
    finally:
        await gateway.close()
    return final, sink


async def test_model_faults_are_retried_visibly_then_the_task_goes_on(
    scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add(
        {"match": "Write the program", "fault": "malformed"},
        {"match": "Write the program", "status": 429, "retryAfter": 0},
        {"match": "Write the program", "content": GOOD},
        judge_pass(),
    )
    final, sink = await run_with_faults(scripted_model, LocalSandbox(tmp_path), retries=2)
    assert final.phase is Phase.SUCCEEDED and final.iteration == 1
    retries = [message for reason, message, _ in sink.events if reason == "ModelRetrying"]
    assert len(retries) == 2 and "malformed" in retries[0] and "rate_limited" in retries[1]
    retrying = next(c for c in final.conditions if c.type == "ModelRetrying")
    assert retrying.status == "False"


async def test_a_model_that_keeps_failing_fails_the_task_after_the_retries(
    scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add({"match": "Write the program", "fault": "empty-choices", "repeat": True})
    final, _ = await run_with_faults(scripted_model, LocalSandbox(tmp_path), retries=3)
    assert final.phase is Phase.FAILED
    failed = next(c for c in final.conditions if c.type == "Failed")
    assert failed.reason == "ModelUnavailable" and "4 times" in failed.message
    assert len(scripted_model.requests) == 4
    assert next(c for c in final.conditions if c.type == "ModelRetrying").status == "True"


class FullDisk(FileSink):
    """The audit log's disk fills up when the execution record is written."""

    full = True

    async def write(self, line: str, durable: bool = True) -> None:
        if self.full and '"kind":"execution"' in line:
            raise AuditWriteError(28, "No space left on device")
        await super().write(line, durable)


async def test_a_full_audit_disk_fails_the_step_and_nothing_counts_as_done_unaudited(
    scripted_model: ScriptedModel, tmp_path: Path
) -> None:
    scripted_model.add({"match": "Write the program", "content": GOOD}, judge_pass())
    sandbox = LocalSandbox(tmp_path)
    disk = FullDisk(sandbox.root / "audit.jsonl")
    gateway = ModelGateway(max_concurrent=1)
    sink = RecordingSink()
    endpoint = resolve_endpoint(ModelSettings(base_url=scripted_model.base_url), OperatorConfig(), None)
    loop = build_loop(TASK, make_spec(), sandbox, sink, gateway, endpoint, audit=AuditLog(disk))
    with pytest.raises(AuditWriteError, match="No space left"):
        await loop.run()
    assert [r for r, _, warning in sink.events if warning] == [AUDIT_WRITE_FAILED]  # visibly
    assert sink.last.history == [] and sink.last.phase is not Phase.EVALUATING  # the run is not counted
    disk.full = False  # space freed; kopf restarts the daemon, which takes the step up again
    final, _ = await run_loop(make_spec(), scripted_model, sandbox, status=sink.last)
    await gateway.close()
    assert final.phase is Phase.SUCCEEDED and sandbox.launches == {sandbox_pod_name(TASK, 1): 1}
    lines = (sandbox.root / "audit.jsonl").read_text().splitlines()
    assert verify(lines).ok and completeness(lines).ok
