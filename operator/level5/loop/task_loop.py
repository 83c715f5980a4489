"""The refine loop of one AgentTask: generate, review, execute, evaluate, refine or finish.

Each step asks state_machine.decide_next() what to do from the recorded status, does it, and persists the
new status through a StatusSink before the next step. Side effects that must not repeat (running code) are
recorded before they happen. Every step writes its audit record (layer 6) before the status update that
marks it done, so a crash in between repeats the step and its record (at least once, each record carrying
a step key task/iteration/kind) but never leaves a completed step unaudited. The goal and all sandbox
output pass the guards (layers 1 and 5) before anything reaches the model, the status or an Event. No
Kubernetes types here: the sandbox, the sink and the audit log are passed in, so the loop runs in unit tests
with a local sandbox and a recording sink."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from level5.api.approval import (
    ApprovalObject,
    ApprovalSpec,
    ApprovalState,
    Decision,
    FiredTrigger,
    approval_name,
)
from level5.api.spec import AgentTaskSpec, AutonomyLevel, PauseMode, SuccessCriterion, TimeoutAction, Trigger
from level5.api.status import (
    AgentTaskStatus,
    ConditionStatus,
    ConditionType,
    CurrentIteration,
    Feedback,
    HistoryEntry,
    LaunchState,
    Phase,
    RedactionCount,
    ReviewSummary,
    RuntimeViolation,
    SyscallMonitoring,
    TaskResult,
    Termination,
)
from level5.core.kill_switch import EmergencyStop
from level5.core.wakeups import Wakeups
from level5.loop.evaluation import JudgeFn, evaluate, failure_signature
from level5.loop.guards import check_goal, guard_outcome
from level5.loop.journal import Journal, StatusSink
from level5.loop.prompts import describe_failure, generation_messages, judge_messages
from level5.loop.state_machine import (
    Action,
    ActionKind,
    decide_next,
    finish_iteration,
    phase_of,
    set_condition,
    start_iteration,
)
from level5.model.answers import Judgement, parse_answer, parse_judgement
from level5.model.client import Endpoint, Message, ModelGateway, ModelRejectedError
from level5.observability.metrics import Metrics, budget_of
from level5.observability.monitoring import (
    INCOMPLETE,
    detect_anomalies,
    executed,
    syscall_record,
    termination,
)
from level5.people import escalation
from level5.safety.audit import AuditLog
from level5.safety.redaction import Redactor
from level5.safety.review.reviewer import Verdict, review_code
from level5.sandbox.manifests import TaskRef, sandbox_pod_name
from level5.sandbox.outcome import LaunchOutcome, Pod, PodOutcome, QueueReport
from level5.sandbox.result import RunResult

_PAST = {Decision.REJECT: "Rejected", Decision.GUIDE: "Guided", Decision.CONSTRAIN: "Constrained"}
MAX_INLINE_CODE = 16 * 1024
"""Final code larger than this goes to the <task>-result ConfigMap instead of status."""
STDOUT_EXCERPT = 4000


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
        resuming: bool,
        queued: QueueReport | None = None,
    ) -> LaunchOutcome: ...

    async def wait(self, namespace: str, name: str, spec: AgentTaskSpec) -> Pod | None: ...

    async def result(self, namespace: str, name: str, pod: Pod | None) -> PodOutcome: ...

    async def store_result(self, task: TaskRef, data: dict[str, str]) -> str: ...

    async def kill(self, namespace: str, name: str) -> None: ...


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


class TaskLoop:
    """Drives one task to a terminal phase."""

    def __init__(
        self,
        task: TaskRef,
        spec: AgentTaskSpec,
        status: AgentTaskStatus,
        *,
        gateway: ModelGateway,
        endpoint: Endpoint,
        sandbox: Sandbox,
        sink: StatusSink,
        audit: AuditLog,
        redactor: Redactor,
        clock: Callable[[], datetime] = utcnow,
        cancel: asyncio.Event | None = None,
        emergency: EmergencyStop | None = None,
        approvals: Approvals,
        spec_view: Callable[[], AgentTaskSpec] | None = None,
        wakeups: Wakeups | None = None,
        creator: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.task, self.spec = task, spec
        # The spec changes while the task runs (pause, guidance, tighter constraints): spec_view reads the
        # live object; wake-ups tell when it or one of the task's Approvals changed.
        self.spec_view = spec_view or (lambda: spec)
        self.wakeups = wakeups or Wakeups()
        self.approvals, self.creator = approvals, creator
        self.metrics = metrics or Metrics()
        self.journal = Journal(task, status, sink, audit, self.metrics, clock)
        # Code by ConfigMap name: the ConfigMaps are immutable, so what was stored or read once stays true.
        self._codes: dict[str, str] = {}
        self._unstamped_warned = False
        # Kill switches: set from watch events by the handlers; fresh (never set) ones when not given.
        self.cancel = cancel or asyncio.Event()
        self.emergency = emergency or EmergencyStop()
        self.audit, self.redactor = audit, redactor
        self.gateway, self.endpoint, self.sandbox, self.sink, self.clock = (
            gateway,
            endpoint,
            sandbox,
            sink,
            clock,
        )

    async def run(self) -> AgentTaskStatus:
        """Step until the task is Succeeded, Failed or Cancelled; return the final status. The kill switches
        are checked before every step and interrupt a step in flight (a model call, a wait on a pod)."""
        while True:
            self.spec = self.spec_view()
            if self.status.phase.terminal:
                return self.status
            if self.spec.cancel or self.cancel.is_set():
                await self._cancelled()
                continue
            if self.emergency.active:
                await self._hold()
                continue
            if self.spec.paused:
                await self._pause()
                continue
            action = decide_next(self.spec, self.status, self.clock(), await self._recent_codes())
            if action.kind is ActionKind.DONE:
                return self.status
            resumed_phase = phase_of(action)
            if self.status.phase is Phase.PAUSED and resumed_phase is not None:
                await self._save(
                    self.status, resumed_phase, "Resumed", f"iteration {action.iteration}: resumed"
                )
            # Waiting for a person, or a pod that a Kill pause deletes, gives way to a pause at once; other
            # steps finish first ("no new step starts").
            pausable = action.kind is ActionKind.AWAIT_APPROVAL or (
                action.kind is ActionKind.WAIT and self.spec.pause_mode is PauseMode.KILL
            )
            try:
                await self._interruptible(self._step(action), pausable)
            except ModelRejectedError as exc:  # a wrong key or model name: retrying cannot help
                await self._fail(Action(kind=ActionKind.FAIL, reason="ModelRejected", message=str(exc)))

    async def _interruptible(self, step: Awaitable[None], pausable: bool = False) -> None:
        """Run one step, abandoned as soon as the task is cancelled or the emergency stop begins (or, when
        pausable, paused). Steps are resume-safe, so an abandoned one is simply taken up again (or its
        iteration closed) afterwards."""
        work = asyncio.ensure_future(step)
        switches = [
            asyncio.ensure_future(self.cancel.wait()),
            asyncio.ensure_future(self.emergency.wait_active()),
        ]
        if pausable:
            switches.append(asyncio.ensure_future(self._until(lambda: self.spec.paused)))
        try:
            await asyncio.wait({work, *switches}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            interrupted = not work.done()
            for future in (*switches, work):
                future.cancel()
            await asyncio.gather(*switches, work, return_exceptions=True)
        if not interrupted:
            work.result()  # the step's own outcome, exceptions included

    async def _step(self, action: Action) -> None:
        steps = {
            ActionKind.GENERATE: self._generate,
            ActionKind.REVIEW: self._review,
            ActionKind.GATE: self._gate,
            ActionKind.AWAIT_APPROVAL: self._await_approval,
            ActionKind.LAUNCH: self._launch,
            ActionKind.WAIT: self._wait_and_evaluate,
            ActionKind.SUCCEED: self._succeed,
            ActionKind.FAIL: self._fail,
        }
        await steps[action.kind](action)

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
        await self.journal.save(status, phase, reason, message)

    def _stage(
        self, status: AgentTaskStatus, phase: Phase | None = None, reason: str = "", message: str = ""
    ) -> None:
        self.journal.stage(status, phase, reason, message)  # written with the next save

    async def _audit(self, kind: str, iteration: int | None, data: dict[str, object]) -> None:
        await self.journal.record(kind, iteration, data)

    async def _store_code(self, pod_name: str, iteration: int, code: str) -> str:
        """Store an iteration's code in its immutable ConfigMap and keep it: later steps read it from here."""
        config_map = await self.sandbox.store_code(self.task, self.spec, pod_name, iteration, code)
        self._codes[config_map] = code
        return config_map

    async def _code(self, config_map: str) -> str | None:
        """An iteration's code: held since it was stored, else read once (after a restart) and held."""
        if config_map not in self._codes:
            code = await self.sandbox.read_code(self.task.namespace, config_map)
            if code is None:
                return None
            self._codes[config_map] = code
        return self._codes[config_map]

    def _redact(self, text: str) -> str:
        return self.redactor.redact(text).text

    async def _check_goal(self, iteration: int) -> bool:
        """Layer 1 on the task's own words; False when the task was failed for them."""
        check = check_goal(self.spec)
        if check.verdict is Verdict.ALLOW:
            return True
        await self._audit("input-check", iteration, {"verdict": check.verdict.value, "rules": check.rules})
        self.metrics.input_checked("goal", check.verdict.value, check.rules)
        rules = ", ".join(check.rules)
        if check.verdict is Verdict.BLOCK:
            message = f"the goal was rejected by the prompt-injection check (rules {rules})"
            await self._fail(Action(kind=ActionKind.FAIL, reason="InputRejected", message=message))
            return False
        if not any(c.type == ConditionType.INPUT_FLAGGED for c in self.status.conditions):
            # Recorded and continued: holding the task for a human is the approval flow's job.
            self.journal.event("InputFlagged", f"goal flagged (rules {rules})", warning=True)
            await self._save(
                self._with_condition(
                    self.status,
                    ConditionType.INPUT_FLAGGED,
                    ConditionStatus.TRUE,
                    "SuspectedPromptInjection",
                    f"goal flagged by the prompt-injection check (rules {rules}); continuing",
                )
            )
        return True

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
            {"sha256": hashlib.sha256(prompt.encode()).hexdigest(), "text": self._redact(prompt)},
        )
        started = time.monotonic()
        try:
            completion = await self.gateway.complete(self.endpoint, messages)
        except Exception:
            self.metrics.model_call(time.monotonic() - started, None)
            raise
        self.metrics.model_call(time.monotonic() - started, completion)
        await self._audit(
            "answer", iteration, {"text": self._redact(completion.text), "tokens": completion.tokens}
        )
        return completion.text, completion.tokens

    async def _recent_codes(self) -> list[str]:
        """Programs of the last iterations, for the near-identical-attempts rule."""
        if self.status.current is not None:
            return []
        n = self.spec.iterations.stuck.max_similar_attempts
        codes = []
        for entry in self.status.history[-n:]:
            code = await self._code(entry.code_config_map) if (entry.code_config_map) else None
            if code is not None:
                codes.append(code)
        return codes

    # -- steps ----------------------------------------------------------------------------------------------

    async def _generate(self, action: Action) -> None:
        if not await self._check_goal(action.iteration):
            return
        now = self.clock()
        started = start_iteration(self.status, action.iteration, now)
        await self._save(
            started, Phase.GENERATING, "Generating", f"iteration {action.iteration}: asking the model"
        )
        feedback = self.status.feedback
        previous = None
        if feedback is not None and feedback.code_config_map:
            previous = await self._code(feedback.code_config_map)
        messages = generation_messages(
            self._effective_spec(),
            action.iteration,
            previous,
            feedback.summary if feedback else None,
            guidance=[*self.spec.guidance, *self.status.interventions.hints],
        )
        text, used = await self._complete(action.iteration, messages)
        answer = parse_answer(text)
        current = self.status.current
        assert current is not None
        tokens = current.tokens + used
        if answer.code is None:
            entry = HistoryEntry(
                iteration=action.iteration,
                reason="NoCodeInAnswer",
                tokens=tokens,
                failure_signature=failure_signature("NoCodeInAnswer"),
                duration_seconds=(self.clock() - current.started_at).total_seconds(),
            )
            await self._close_iteration(entry, describe_failure(answer_problem=answer.problem), None)
            return
        code_sha256 = hashlib.sha256(answer.code.encode()).hexdigest()
        # The code is stored and run verbatim (redacting it would change the program); the trail keeps
        # its hash and a redacted copy.
        await self._audit(
            "code", action.iteration, {"sha256": code_sha256, "code": self._redact(answer.code)}
        )
        pod_name = sandbox_pod_name(self.task, action.iteration)
        config_map = await self._store_code(pod_name, action.iteration, answer.code)
        current = current.model_copy(
            update={
                "code_sha256": code_sha256,
                "code_config_map": config_map,
                "confidence": answer.confidence,
                "uncertainty": self._redact(answer.uncertainty) if answer.uncertainty else None,
                "tokens": tokens,
                "pod_name": pod_name,
            }
        )
        await self._save(
            self.status.model_copy(update={"current": current}),
            Phase.REVIEWING,
            "Reviewing",
            f"iteration {action.iteration}: reviewing {current.code_sha256}",
        )

    async def _review(self, action: Action) -> None:
        current = self.status.current
        assert current is not None and current.code_config_map is not None
        code = await self._code(current.code_config_map)
        if code is None:  # the code ConfigMap was deleted: generate this iteration again
            await self._save(
                self.status.model_copy(
                    update={
                        "current": current.model_copy(update={"code_sha256": None, "code_config_map": None})
                    }
                )
            )
            return
        caps = self.spec.capabilities
        review = review_code(code, allowed_libraries=caps.allowed_libraries, max_lines=caps.max_lines)
        rules = sorted({f.rule for f in review.findings})
        summary = ReviewSummary(verdict=review.verdict.value, rules=rules)
        self.metrics.review_finished(summary)
        await self._audit(
            "review",
            action.iteration,
            {
                "code_sha256": current.code_sha256,
                "verdict": review.verdict.value,
                "findings": [f.model_dump(mode="json") for f in review.findings],
            },
        )
        if review.verdict is Verdict.ALLOW or (review.verdict is Verdict.ESCALATE and self._humans_decide()):
            # On to the approval gate; an escalate verdict is a person's call when one can be asked.
            self._stage(
                self.status.model_copy(update={"current": current.model_copy(update={"review": summary})})
            )
            return
        self.journal.event(
            "ReviewBlocked",
            f"iteration {action.iteration}: {review.verdict.value} ({', '.join(rules)})",
            warning=True,
        )
        entry = self._entry(
            current,
            reason=f"Review{review.verdict.value.capitalize()}: {', '.join(rules)}",
            signature=failure_signature("review", *rules),
        )
        entry = entry.model_copy(update={"review_verdict": summary.verdict, "review_rules": rules})
        await self._close_iteration(entry, describe_failure(review_feedback=review.feedback()), None)

    async def _launch(self, action: Action) -> None:
        current = self.status.current
        assert current is not None and current.pod_name is not None
        await self.sandbox.ensure_namespace_guards(self.task.namespace)
        # Record the intent first: a restarted operator then knows this pod may exist and never makes a
        # second one for the same code.
        pending = current.model_copy(update={"launch_state": LaunchState.PENDING})
        await self._save(self.status.model_copy(update={"current": pending}))
        outcome = await self.sandbox.launch(
            self.task, self.spec, current.pod_name, action.iteration, False, self.journal.queued
        )
        await self._audit("launch", action.iteration, {"pod": current.pod_name, "outcome": outcome.value})
        created = pending.model_copy(update={"launch_state": LaunchState.CREATED})
        self._stage(self.status.model_copy(update={"current": created}))
        self.journal.event(
            "SandboxLaunched", f"iteration {action.iteration}: pod {current.pod_name} ({outcome.value})"
        )

    async def _wait_and_evaluate(self, action: Action) -> None:
        current = self.status.current
        assert current is not None and current.pod_name is not None and current.code_config_map is not None
        namespace = self.task.namespace
        outcome = PodOutcome(failure="the sandbox pod disappeared before its result was read")
        resumed_launch = LaunchOutcome.EXISTS
        if current.launch_state is LaunchState.PENDING:
            resumed_launch = await self.sandbox.launch(
                self.task, self.spec, current.pod_name, action.iteration, True, self.journal.queued
            )
            if resumed_launch is not LaunchOutcome.VANISHED:
                await self._save(
                    self.status.model_copy(
                        update={"current": current.model_copy(update={"launch_state": LaunchState.CREATED})}
                    )
                )
        pod_uid = None
        if resumed_launch is not LaunchOutcome.VANISHED:
            pod = await self.sandbox.wait(namespace, current.pod_name, self.spec)
            outcome = await self.sandbox.result(namespace, current.pod_name, pod)
            pod_uid = (pod or {}).get("metadata", {}).get("uid")
        guarded = guard_outcome(outcome, self.redactor)
        outcome = guarded.outcome
        syscalls = syscall_record(
            outcome.monitoring, outcome.syscalls, outcome.run.isolation_probe if outcome.run else None
        )
        syscalls = syscalls.model_copy(update={"anomalies": [self._redact(a) for a in syscalls.anomalies]})
        await self._audit(
            "execution",
            action.iteration,
            {
                "pod": current.pod_name,
                "pod_uid": pod_uid,
                "code_sha256": current.code_sha256,
                "exit_code": outcome.run.exit_code if outcome.run else None,
                "timed_out": outcome.run.timed_out if outcome.run else None,
                "failure": outcome.failure,
                "policy_violation": (
                    outcome.run.policy_violation.model_dump(mode="json")
                    if outcome.run and outcome.run.policy_violation
                    else None
                ),
                "syscalls": syscalls.model_dump(mode="json", by_alias=True),
                "outputs_sha256": guarded.outputs_sha256,
                "redactions": guarded.redactions,
                "output_withheld_rules": guarded.injection_rules,
            },
        )
        if guarded.injection_rules:
            self.metrics.input_checked("sandbox_output", Verdict.BLOCK.value, guarded.injection_rules)
            self.journal.event(
                "OutputWithheld",
                f"iteration {action.iteration}: sandbox output flagged as prompt injection "
                f"({', '.join(guarded.injection_rules)}); not shown to the model",
                warning=True,
            )
        self._stage(self.status, Phase.EVALUATING, "Evaluating", f"iteration {action.iteration}: evaluating")
        code = await self._code(current.code_config_map) or ""
        run = outcome.run
        not_run = f"the program did not complete: {outcome.failure}"
        evaluation = await evaluate(
            self.spec.goal.success_criteria, run, not_run, self._judge_with(code, run, action.iteration)
        )
        error = run.error if run is not None else None
        reason = (
            "AllCriteriaPassed"
            if evaluation.passed
            else (outcome.failure or (f"{error.type}: {error.message}" if error else "CriteriaFailed"))
        )
        failed = [c.name for c in evaluation.criteria if not c.passed]
        entry = self._entry(
            current,
            reason=reason[:1024],
            signature=None
            if evaluation.passed
            else failure_signature(
                outcome.failure, error.type if error else None, error.message if error else None, *failed
            ),
        )
        entry = entry.model_copy(
            update={
                "exit_code": run.exit_code if run else None,
                "score": evaluation.score,
                "tokens": entry.tokens + evaluation.tokens,
                "cpu_seconds": run.cpu_seconds if run else 0.0,
                "peak_memory_bytes": run.peak_memory_bytes if run else None,
                "run_seconds": run.duration_seconds if run else None,
                "stdout_bytes": run.stdout_bytes if run else None,
                "stderr_bytes": run.stderr_bytes if run else None,
                "termination": termination(outcome.failure, run.timed_out if run else False),
                "redactions": [
                    RedactionCount(type=k, count=n) for k, n in sorted(guarded.redactions.items())
                ],
                "output_withheld_rules": guarded.injection_rules,
                "policy_violation": (
                    RuntimeViolation.model_validate(run.policy_violation.model_dump())
                    if run and run.policy_violation
                    else None
                ),
                "syscalls": syscalls if resumed_launch is not LaunchOutcome.VANISHED else None,
            }
        )
        result = TaskResult(
            stdout_excerpt=(run.stdout[:STDOUT_EXCERPT] if run else ""),
            criteria=evaluation.criteria,
            iteration=action.iteration,
        )
        feedback = (
            None
            if evaluation.passed
            else describe_failure(pod_failure=outcome.failure, run=run, criteria=evaluation.criteria)
        )
        await self._audit(
            "evaluation",
            action.iteration,
            {
                "score": evaluation.score,
                "passed": evaluation.passed,
                "reason": entry.reason,
                "criteria": [c.model_dump(mode="json") for c in evaluation.criteria],
            },
        )
        self.journal.event(
            "Evaluated", f"iteration {action.iteration}: score {evaluation.score:.2f} ({reason[:200]})"
        )
        await self._audit_item(current)
        await self._close_iteration(entry, feedback, result)

    def _judge_with(self, code: str, run: RunResult | None, current_iteration: int) -> JudgeFn:
        async def judge(criterion: SuccessCriterion) -> tuple[Judgement, int]:
            assert run is not None  # evaluate() only judges completed runs
            text, used = await self._complete(current_iteration, judge_messages(criterion, code, run))
            return parse_judgement(text), used

        return judge

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
        )

    async def _close_iteration(
        self,
        entry: HistoryEntry,
        feedback: str | None,
        result: TaskResult | None,
        decision: Decision | None = None,
    ) -> None:
        status = self._monitored(finish_iteration(self.status, entry, self.clock()))
        update: dict[str, object] = {}
        if feedback is not None:
            update["feedback"] = Feedback(
                iteration=entry.iteration, code_config_map=entry.code_config_map, summary=feedback
            )
        if result is not None:
            update["result"] = result
        await self._save(status.model_copy(update=update))
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

    # -- people in the loop ---------------------------------------------------------------------------------

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

    def _with_triggers(self, status: AgentTaskStatus, fired: list[FiredTrigger]) -> AgentTaskStatus:
        """One condition per trigger: True with its reason when it fired now, False when it did before."""
        by_type = {t.type: t for t in fired}
        for trigger in Trigger:
            hit = by_type.get(trigger)
            if hit is not None:
                self.journal.event(trigger.value, hit.message, warning=True)
                status = self._with_condition(status, trigger, ConditionStatus.TRUE, hit.reason, hit.message)
            elif any(c.type == trigger and c.status == ConditionStatus.TRUE for c in status.conditions):
                status = self._with_condition(
                    status,
                    trigger,
                    ConditionStatus.FALSE,
                    "NotFired",
                    f"not fired in iteration {status.iteration}",
                )
        return status

    async def _gate(self, action: Action) -> None:
        """Decide whether a person must approve this code before it runs (autonomy level, triggers)."""
        current = self.status.current
        assert current is not None and current.code_config_map is not None and current.code_sha256 is not None
        code = await self._code(current.code_config_map) or ""
        gate, needs_human = escalation.gate(self.spec, self.status, code, self.clock())
        await self._audit(
            "gate",
            action.iteration,
            {
                "code_sha256": current.code_sha256,
                "level": self.spec.autonomy.level.value,
                "confidence": gate.confidence,
                "triggers": [t.model_dump(mode="json") for t in gate.triggers],
                "needs_approval": needs_human,
            },
        )
        status = self._with_triggers(self.status, gate.triggers)
        name = approval_name(self.task.name, action.iteration, current.code_sha256)
        if not needs_human:
            current = current.model_copy(update={"gate": gate})
            self._stage(
                status.model_copy(update={"current": current}),
                Phase.EXECUTING,
                "Executing",
                f"iteration {action.iteration}: review passed, no approval needed",
            )
            return
        for trigger in gate.triggers:
            self.metrics.escalated(trigger.type)
        current = current.model_copy(update={"gate": gate.model_copy(update={"approval": name})})
        why = (
            ", ".join(t.type.value for t in gate.triggers)
            or f"autonomy level {self.spec.autonomy.level.value}"
        )
        message = f"iteration {action.iteration}: waiting for Approval {name} ({why})"
        status = self._with_condition(
            status, ConditionType.AWAITING_APPROVAL, ConditionStatus.TRUE, "ApprovalRequired", message
        )
        await self._save(
            status.model_copy(update={"current": current, "approval": name}),
            Phase.AWAITING_APPROVAL,
            "AwaitingApproval",
            message,
        )

    async def _approval_spec(self, current: CurrentIteration, blocking: bool) -> ApprovalSpec:
        """The decision point of the current code, as the Approval carries it."""
        assert current.code_config_map is not None and current.code_sha256 is not None
        code = await self._code(current.code_config_map) or ""
        autonomy = self.spec.autonomy
        gate = current.gate
        return ApprovalSpec(
            task_name=self.task.name,
            iteration=current.iteration,
            code_sha256=current.code_sha256,
            code=code,
            review_verdict=current.review.verdict if current.review else "allow",
            review_findings=current.review.rules if current.review else [],
            triggers=gate.triggers if gate else [],
            confidence=gate.confidence if gate else None,
            blocking=blocking,
            timeout_action=autonomy.timeout_action,
            expires_at=self.clock() + timedelta(seconds=autonomy.approval_timeout_seconds)
            if blocking
            else None,
            task_creator=self.creator,
        )

    async def _await_approval(self, action: Action) -> None:
        """Wait for a decision on the gate's Approval (created here if missing), then carry it out; an
        undecided one expires into its timeout action."""
        current = self.status.current
        assert current is not None and current.gate is not None and current.gate.approval is not None
        name = current.gate.approval
        # Armed before the read: a decision arriving in between still wakes the wait below.
        changed = self.wakeups.arm("approval", self.task.uid)
        # Read first: this runs on every wake-up, and building the spec reads the code ConfigMap.
        found = await self.approvals.read(self.task.namespace, name)
        if found is None:
            found = await self.approvals.ensure(
                self.task, name, await self._approval_spec(current, True), ApprovalState.PENDING, self.clock()
            )
        if found.spec.code_sha256 != current.code_sha256:
            message = (
                f"Approval {name} is about code {found.spec.code_sha256[:12]}, not {current.code_sha256}"
            )
            await self._fail(Action(kind=ActionKind.FAIL, reason="ApprovalMismatch", message=message))
            return
        if found.spec.decision is not None and found.spec.decided_by:
            await self._apply_decision(found)
            return
        if found.spec.decision is not None and not self._unstamped_warned:
            # Only the admission webhook's stamp says who decided; without it the decision cannot be trusted.
            self._unstamped_warned = True
            self.journal.event(
                "UnstampedDecision",
                f"Approval {name} has a decision but no decidedBy stamp, so it is ignored: the admission "
                "webhook must be configured (LEVEL5_WEBHOOK_CERT_DIR and the webhook configurations)",
                warning=True,
            )
        timeout = None
        if found.status.state is not ApprovalState.ESCALATED and found.spec.expires_at is not None:
            timeout = (found.spec.expires_at - self.clock()).total_seconds()
            if timeout <= 0:
                await self._expired(found)
                return
        with contextlib.suppress(TimeoutError):  # an expired wait: the next pass finds it expired
            await asyncio.wait_for(changed.wait(), timeout)

    async def _apply_decision(self, approval: ApprovalObject) -> None:
        """Carry out a person's decision on the current code."""
        current = self.status.current
        assert current is not None and current.gate is not None
        spec = approval.spec
        decision, by = spec.decision, spec.decided_by or ""
        assert decision is not None
        await self._audit(
            "decision",
            current.iteration,
            {
                "approval": approval.name,
                "decision": decision.value,
                "decided_by": by,
                "decided_at": spec.decided_at.isoformat() if spec.decided_at else None,
                "code_sha256": spec.code_sha256,
                "reason": spec.reason,
                "hint": spec.hint,
                "constraints": spec.constraints,
                "override_sha256": hashlib.sha256(spec.override_code.encode()).hexdigest()
                if spec.override_code
                else None,
            },
        )
        # Marked applied first: a crash after this re-applies the same decision, which is idempotent.
        await self.approvals.set_state(
            self.task.namespace,
            approval.name,
            ApprovalState.APPLIED,
            f"{decision.value} carried out",
            self.clock(),
        )
        message = f"iteration {current.iteration}: {decision.value} by {by}"
        self.metrics.approval_decided(decision, _waited(approval, spec.decided_at or self.clock()))
        self.journal.event(f"Approval{decision.value}", message, warning=decision is Decision.REJECT)
        gate = current.gate.model_copy(update={"decision": decision, "decided_by": by})
        status = self._with_condition(
            self.status, ConditionType.AWAITING_APPROVAL, ConditionStatus.FALSE, decision.value, message
        )
        status = (
            self._with_condition(
                status, ConditionType.ESCALATED, ConditionStatus.FALSE, decision.value, message
            )
            if any(c.type == ConditionType.ESCALATED for c in status.conditions)
            else status
        )
        status = status.model_copy(
            update={"approval": None, "current": current.model_copy(update={"gate": gate})}
        )
        self.status = status
        if decision is Decision.APPROVE:
            approved = status.current.model_copy(update={"approved_code_sha256": current.code_sha256})  # type: ignore[union-attr]
            await self._save(
                status.model_copy(update={"current": approved}), Phase.EXECUTING, "Approved", message
            )
            return
        if decision is Decision.OVERRIDE:
            await self._override(spec.override_code or "", by)
            return
        interventions = status.interventions
        if decision is Decision.GUIDE:
            interventions = interventions.model_copy(
                update={"hints": [*interventions.hints, spec.hint or ""][-32:]}
            )
            told = f"A person did not run this program and gave this guidance: {spec.hint}"
        elif decision is Decision.CONSTRAIN:
            interventions = interventions.model_copy(
                update={"constraints": [*interventions.constraints, *spec.constraints][-32:]}
            )
            told = "A person did not run this program and added constraints:\n" + "\n".join(
                f"- {c}" for c in spec.constraints
            )
        else:
            told = f"A person rejected this program, so it was not run. Their reason: {spec.reason}"
        self.status = status.model_copy(update={"interventions": interventions})
        entry = self._entry(self.status.current, reason=f"{_PAST[decision]} by {by}"[:1024], signature=None)  # type: ignore[arg-type]
        await self._close_iteration(entry, told, None, decision)

    async def _override(self, code: str, by: str) -> None:
        """A person's replacement program: the current iteration ends unrun and the next one starts with this
        code, already approved (it is still reviewed before it runs)."""
        current = self.status.current
        assert current is not None
        iteration = current.iteration + 1
        sha = hashlib.sha256(code.encode()).hexdigest()
        pod_name = sandbox_pod_name(self.task, iteration)
        config_map = await self._store_code(pod_name, iteration, code)
        await self._audit("code", iteration, {"sha256": sha, "code": self._redact(code), "written_by": by})
        entry = self._entry(current, reason=f"Overridden by {by}"[:1024], signature=None)
        closed = finish_iteration(self.status, entry, self.clock())
        now = self.clock()
        override = CurrentIteration(
            iteration=iteration,
            started_at=now,
            code_sha256=sha,
            code_config_map=config_map,
            pod_name=pod_name,
            approved_code_sha256=sha,
        )
        await self._save(
            closed.model_copy(update={"iteration": iteration, "current": override, "feedback": None}),
            Phase.REVIEWING,
            "Overridden",
            f"iteration {iteration}: reviewing the code {by} supplied",
        )
        self.metrics.iteration_finished(entry, Decision.OVERRIDE)

    async def _expired(self, approval: ApprovalObject) -> None:
        """Nobody decided in time: reject (the task fails) or escalate (it stays open, without expiry)."""
        action = approval.spec.timeout_action
        iteration = approval.spec.iteration
        self.metrics.approval_expired(_waited(approval, self.clock()))
        await self._audit("approval-expired", iteration, {"approval": approval.name, "action": action.value})
        if action is TimeoutAction.REJECT:
            await self.approvals.set_state(
                self.task.namespace,
                approval.name,
                ApprovalState.EXPIRED,
                "expired: task failed",
                self.clock(),
            )
            message = f"Approval {approval.name} expired without a decision; the code was not run"
            await self._fail(
                Action(kind=ActionKind.FAIL, iteration=iteration, reason="ApprovalExpired", message=message)
            )
            return
        await self.approvals.set_state(
            self.task.namespace,
            approval.name,
            ApprovalState.ESCALATED,
            "expired: escalated, still open",
            None,
        )
        message = f"Approval {approval.name} expired without a decision; escalated and still open"
        self.journal.event("Escalated", message, warning=True)
        status = self._with_condition(
            self.status, ConditionType.ESCALATED, ConditionStatus.TRUE, "ApprovalExpired", message
        )
        await self._save(status, Phase.ESCALATED, "Escalated", message)

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

    async def _audit_item(self, current: CurrentIteration) -> None:
        """Level C: a non-blocking Approval in state Review about code that ran, for periodic human review."""
        if self.spec.autonomy.level is not AutonomyLevel.C or current.code_sha256 is None:
            return
        name = approval_name(self.task.name, current.iteration, current.code_sha256)
        await self.approvals.ensure(
            self.task, name, await self._approval_spec(current, False), ApprovalState.REVIEW, self.clock()
        )
        interventions = self.status.interventions
        self.status = self.status.model_copy(
            update={
                "interventions": interventions.model_copy(
                    update={"audit_items": interventions.audit_items + 1}
                )
            }
        )

    async def _pause(self) -> None:
        """spec.paused: stop before the next step (with Kill, delete the running pod first), keep all state,
        and wait until the pause is lifted or the task is cancelled."""
        if self.spec.pause_mode is PauseMode.KILL:
            await self._abort_iteration(
                Termination.PAUSED,
                "killed by a pause with pauseMode Kill",
                "The previous run was stopped by a person (pause) before it finished; its outcome is "
                "unknown. Write the program again.",
            )
        if self.status.phase is not Phase.PAUSED:
            message = "paused by spec.paused; no new step starts until it is false"
            status = self._with_condition(
                self.status, ConditionType.PAUSED, ConditionStatus.TRUE, "Paused", message
            )
            await self._save(status, Phase.PAUSED, "Paused", message)
        await self._until(lambda: not self.spec.paused or self.spec.cancel or self.cancel.is_set())
        if not self.spec.paused:
            message = "resumed: spec.paused is false"
            await self._save(
                self._with_condition(
                    self.status, ConditionType.PAUSED, ConditionStatus.FALSE, "Resumed", message
                )
            )
            self.journal.event("Resumed", message)

    # -- kill switches --------------------------------------------------------------------------------------

    async def _abort_iteration(self, reason: Termination, message: str, feedback: str | None) -> None:
        """Kill the iteration's sandbox pod (grace 0) and close the iteration as failed with `reason`, so
        its code never runs again. An iteration that has no pod yet stays open: nothing of it ran."""
        current = self.status.current
        if current is None or current.launch_state is None or current.pod_name is None:
            return
        await self.sandbox.kill(self.task.namespace, current.pod_name)
        await self._audit("kill", current.iteration, {"pod": current.pod_name, "reason": reason})
        self.journal.event(
            "SandboxKilled", f"iteration {current.iteration}: pod {current.pod_name}: {message}"
        )
        entry = self._entry(current, reason=f"{reason}: {message}"[:1024], signature=None)
        await self._close_iteration(entry.model_copy(update={"termination": reason}), feedback, None)

    async def _cancelled(self) -> None:
        """spec.cancel: kill the pod, record the iteration, end the task for good."""
        message = "cancelled by spec.cancel"
        await self._abort_iteration(Termination.CANCELLED, message, None)
        await self._supersede_approval("the task was cancelled")
        await self._audit(
            "outcome", self.status.iteration, {"phase": Phase.CANCELLED.value, "reason": "Cancelled"}
        )
        cancelled = self._with_condition(
            self.status, ConditionType.CANCELLED, ConditionStatus.TRUE, "Cancelled", message
        )
        await self._save(cancelled, Phase.CANCELLED, "Cancelled", message)

    async def _hold(self) -> None:
        """Operator-wide emergency stop: kill the pod in flight (its iteration failed, not re-run), then wait
        without any model call or pod until the stop is lifted or the task is cancelled."""
        await self._abort_iteration(
            Termination.EMERGENCY_STOP,
            "killed by the operator's emergency stop",
            "The previous run was killed by an emergency stop of the operator before it finished; its "
            "outcome is unknown. Write the program again.",
        )
        if not self._condition_is(ConditionType.EMERGENCY_STOP, ConditionStatus.TRUE):
            message = "the operator's emergency stop is active: no model calls or sandbox runs"
            self.journal.event("EmergencyStop", message, warning=True)
            await self._save(
                self._with_condition(
                    self.status, ConditionType.EMERGENCY_STOP, ConditionStatus.TRUE, "EmergencyStop", message
                )
            )
        lifted = asyncio.ensure_future(self.emergency.wait_inactive())
        cancel = asyncio.ensure_future(self.cancel.wait())
        try:
            await asyncio.wait({lifted, cancel}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            lifted.cancel()
            cancel.cancel()
        if self.emergency.active:
            return  # cancelled meanwhile: run() ends the task
        message = "the operator's emergency stop was lifted; continuing"
        self.journal.event("EmergencyStopLifted", message)
        await self._save(
            self._with_condition(
                self.status,
                ConditionType.EMERGENCY_STOP,
                ConditionStatus.FALSE,
                "EmergencyStopLifted",
                message,
            )
        )

    async def _succeed(self, action: Action) -> None:
        last = self.status.history[-1]
        code = await self._code(last.code_config_map or "") or ""
        result = self.status.result or TaskResult(iteration=action.iteration)
        update: dict[str, object] = {"feedback": None}
        if len(code) <= MAX_INLINE_CODE:
            update["result"] = result.model_copy(update={"code": code})
        else:
            update["result_config_map"] = await self.sandbox.store_result(
                self.task, {"main.py": code, "result.json": result.model_dump_json(by_alias=True)}
            )
        await self._audit(
            "outcome", action.iteration, {"phase": Phase.SUCCEEDED.value, "reason": action.reason}
        )
        await self._save(
            self.status.model_copy(update=update), Phase.SUCCEEDED, action.reason, action.message
        )

    async def _fail(self, action: Action) -> None:
        await self._supersede_approval(f"the task failed: {action.reason}")
        budget = budget_of(action.reason)
        if budget is not None:
            self.metrics.budget_exhausted(budget)
        await self.journal.fail(action.reason, action.message, action.iteration)
