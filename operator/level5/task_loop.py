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
import hashlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from level5.answer_parsing import Judgement, parse_answer, parse_judgement
from level5.audit import AuditLog
from level5.evaluation import JudgeFn, evaluate, failure_signature
from level5.guards import check_goal, guard_outcome
from level5.kill_switch import EmergencyStop
from level5.model_client import Endpoint, ModelGateway, ModelRejectedError
from level5.monitoring import detect_anomalies, executed, termination
from level5.prompts import Message, describe_failure, generation_messages, judge_messages
from level5.redaction import Redactor
from level5.review import Verdict, review_code
from level5.run_result import RunResult
from level5.sandbox import LaunchOutcome, Pod, PodOutcome
from level5.sandbox_manifests import TaskRef, sandbox_pod_name
from level5.spec import AgentTaskSpec, SuccessCriterion
from level5.state_machine import (
    Action,
    ActionKind,
    decide_next,
    finish_iteration,
    set_condition,
    start_iteration,
    with_phase,
)
from level5.status import (
    AgentTaskStatus,
    ConditionStatus,
    CurrentIteration,
    Feedback,
    HistoryEntry,
    LaunchState,
    Phase,
    RedactionCount,
    ReviewSummary,
    TaskResult,
)

MAX_INLINE_CODE = 16 * 1024
"""Final code larger than this goes to the <task>-result ConfigMap instead of status."""
STDOUT_EXCERPT = 4000


class StatusSink(Protocol):
    """Where the loop records progress (the status subresource and Events in the operator)."""

    async def save(self, status: AgentTaskStatus) -> None: ...

    def event(self, reason: str, message: str, warning: bool = False) -> None: ...


class Sandbox(Protocol):
    """The parts of SandboxLauncher the loop uses."""

    async def ensure_namespace_guards(self, namespace: str) -> None: ...

    async def store_code(
        self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, iteration: int, code: str
    ) -> str: ...

    async def read_code(self, namespace: str, config_map: str) -> str | None: ...

    async def launch(
        self, task: TaskRef, spec: AgentTaskSpec, pod_name: str, iteration: int, resuming: bool
    ) -> LaunchOutcome: ...

    async def wait(self, namespace: str, name: str, spec: AgentTaskSpec) -> Pod | None: ...

    async def result(self, namespace: str, name: str, pod: Pod | None) -> PodOutcome: ...

    async def store_result(self, task: TaskRef, data: dict[str, str]) -> str: ...

    async def kill(self, namespace: str, name: str) -> None: ...


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
    ) -> None:
        self.task, self.spec, self.status = task, spec, status
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
            if self.status.phase.terminal:
                return self.status
            if self.spec.cancel or self.cancel.is_set():
                await self._cancelled()
                continue
            if self.emergency.active:
                await self._hold()
                continue
            action = decide_next(self.spec, self.status, self.clock(), await self._recent_codes())
            if action.kind is ActionKind.DONE:
                return self.status
            try:
                await self._interruptible(self._step(action))
            except ModelRejectedError as exc:  # a wrong key or model name: retrying cannot help
                await self._fail(Action(kind=ActionKind.FAIL, reason="ModelRejected", message=str(exc)))

    async def _interruptible(self, step: Awaitable[None]) -> None:
        """Run one step, abandoned as soon as the task is cancelled or the emergency stop begins. Steps are
        resume-safe, so an abandoned one is simply taken up again (or its iteration closed) afterwards."""
        work = asyncio.ensure_future(step)
        switches = [
            asyncio.ensure_future(self.cancel.wait()),
            asyncio.ensure_future(self.emergency.wait_active()),
        ]
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
            ActionKind.LAUNCH: self._launch,
            ActionKind.WAIT: self._wait_and_evaluate,
            ActionKind.SUCCEED: self._succeed,
            ActionKind.FAIL: self._fail,
        }
        await steps[action.kind](action)

    async def _save(
        self, status: AgentTaskStatus, phase: Phase | None = None, reason: str = "", message: str = ""
    ) -> None:
        """Persist status; on a phase change also set conditions and post an Event."""
        if phase is not None and phase != status.phase:
            status = with_phase(status, phase, reason, message, self.clock(), self.task.generation)
            self.sink.event(reason, message, warning=phase is Phase.FAILED)
        # Memory first: a step interrupted during the patch then continues from what it meant to record,
        # and the next save carries it.
        self.status = status
        await self.sink.save(status)

    async def _audit(self, kind: str, iteration: int | None, data: dict[str, object]) -> None:
        """One audit record; the step key lets readers collapse a record repeated after a crash."""
        step = f"{self.task.uid}/{iteration}/{kind}"
        await self.audit.append(
            kind, f"{self.task.namespace}/{self.task.name}", iteration, {"step": step, **data}
        )

    def _redact(self, text: str) -> str:
        return self.redactor.redact(text).text

    async def _check_goal(self, iteration: int) -> bool:
        """Layer 1 on the task's own words; False when the task was failed for them."""
        check = check_goal(self.spec)
        if check.verdict is Verdict.ALLOW:
            return True
        await self._audit("input-check", iteration, {"verdict": check.verdict.value, "rules": check.rules})
        rules = ", ".join(check.rules)
        if check.verdict is Verdict.BLOCK:
            message = f"the goal was rejected by the prompt-injection check (rules {rules})"
            await self._fail(Action(kind=ActionKind.FAIL, reason="InputRejected", message=message))
            return False
        if not any(c.type == "InputFlagged" for c in self.status.conditions):
            # Recorded and continued: holding the task for a human is the approval flow's job.
            self.sink.event("InputFlagged", f"goal flagged (rules {rules})", warning=True)
            await self._save(
                self._with_condition(
                    self.status,
                    "InputFlagged",
                    ConditionStatus.TRUE,
                    "SuspectedPromptInjection",
                    f"goal flagged by the prompt-injection check (rules {rules}); continuing",
                )
            )
        return True

    def _with_condition(
        self, status: AgentTaskStatus, type_: str, value: ConditionStatus, reason: str, message: str
    ) -> AgentTaskStatus:
        conditions = set_condition(
            status.conditions, type_, value, reason, message, self.clock(), self.task.generation
        )
        return status.model_copy(update={"conditions": conditions})

    def _condition_is(self, type_: str, value: ConditionStatus) -> bool:
        return any(c.type == type_ and c.status == value for c in self.status.conditions)

    async def _complete(self, iteration: int, messages: list[Message]) -> tuple[str, int]:
        """One model call, audited: the prompt before it is sent, the answer before anything uses it."""
        prompt = "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)
        await self._audit(
            "prompt",
            iteration,
            {"sha256": hashlib.sha256(prompt.encode()).hexdigest(), "text": self._redact(prompt)},
        )
        completion = await self.gateway.complete(self.endpoint, messages)
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
            code = (
                await self.sandbox.read_code(self.task.namespace, entry.code_config_map)
                if (entry.code_config_map)
                else None
            )
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
            previous = await self.sandbox.read_code(self.task.namespace, feedback.code_config_map)
        messages = generation_messages(
            self.spec, action.iteration, previous, feedback.summary if feedback else None
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
        config_map = await self.sandbox.store_code(
            self.task, self.spec, pod_name, action.iteration, answer.code
        )
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
        code = await self.sandbox.read_code(self.task.namespace, current.code_config_map)
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
        await self._audit(
            "review",
            action.iteration,
            {
                "code_sha256": current.code_sha256,
                "verdict": review.verdict.value,
                "findings": [f.model_dump(mode="json") for f in review.findings],
            },
        )
        if review.verdict is Verdict.ALLOW:
            await self._save(
                self.status.model_copy(update={"current": current.model_copy(update={"review": summary})}),
                Phase.EXECUTING,
                "Executing",
                f"iteration {action.iteration}: review passed",
            )
            return
        self.sink.event(
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
            self.task, self.spec, current.pod_name, action.iteration, resuming=False
        )
        await self._audit("launch", action.iteration, {"pod": current.pod_name, "outcome": outcome.value})
        created = pending.model_copy(update={"launch_state": LaunchState.CREATED})
        await self._save(self.status.model_copy(update={"current": created}))
        self.sink.event(
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
                self.task, self.spec, current.pod_name, action.iteration, resuming=True
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
                "outputs_sha256": guarded.outputs_sha256,
                "redactions": guarded.redactions,
                "output_withheld_rules": guarded.injection_rules,
            },
        )
        if guarded.injection_rules:
            self.sink.event(
                "OutputWithheld",
                f"iteration {action.iteration}: sandbox output flagged as prompt injection "
                f"({', '.join(guarded.injection_rules)}); not shown to the model",
                warning=True,
            )
        await self._save(
            self.status, Phase.EVALUATING, "Evaluating", f"iteration {action.iteration}: evaluating"
        )
        code = await self.sandbox.read_code(namespace, current.code_config_map) or ""
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
                "run_seconds": run.duration_seconds if run else None,
                "stdout_bytes": run.stdout_bytes if run else None,
                "stderr_bytes": run.stderr_bytes if run else None,
                "termination": termination(outcome.failure, run.timed_out if run else False),
                "redactions": [
                    RedactionCount(type=k, count=n) for k, n in sorted(guarded.redactions.items())
                ],
                "output_withheld_rules": guarded.injection_rules,
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
        self.sink.event(
            "Evaluated", f"iteration {action.iteration}: score {evaluation.score:.2f} ({reason[:200]})"
        )
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
        self, entry: HistoryEntry, feedback: str | None, result: TaskResult | None
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

    def _monitored(self, status: AgentTaskStatus) -> AgentTaskStatus:
        """Status with the AnomalyDetected condition for the run just closed, and a Warning Event per
        anomaly (layer 4: recorded only; escalation is a separate concern)."""
        if not executed(status.history[-1]):
            return status
        anomalies = detect_anomalies(status.history, self.spec.capabilities)
        for anomaly in anomalies:
            self.sink.event("AnomalyDetected", f"{anomaly.kind.value}: {anomaly.message}", warning=True)
        if anomalies:
            return self._with_condition(
                status,
                "AnomalyDetected",
                ConditionStatus.TRUE,
                anomalies[0].kind.value,
                "; ".join(f"{a.kind.value}: {a.message}" for a in anomalies),
            )
        if not any(c.type == "AnomalyDetected" for c in status.conditions):
            return status
        return self._with_condition(
            status,
            "AnomalyDetected",
            ConditionStatus.FALSE,
            "NoAnomaly",
            f"iteration {status.history[-1].iteration} ran without anomalies",
        )

    # -- kill switches --------------------------------------------------------------------------------------

    async def _abort_iteration(self, reason: str, message: str, feedback: str | None) -> None:
        """Kill the iteration's sandbox pod (grace 0) and close the iteration as failed with `reason`, so
        its code never runs again. An iteration that has no pod yet stays open: nothing of it ran."""
        current = self.status.current
        if current is None or current.launch_state is None or current.pod_name is None:
            return
        await self.sandbox.kill(self.task.namespace, current.pod_name)
        await self._audit("kill", current.iteration, {"pod": current.pod_name, "reason": reason})
        self.sink.event("SandboxKilled", f"iteration {current.iteration}: pod {current.pod_name}: {message}")
        entry = self._entry(current, reason=f"{reason}: {message}"[:1024], signature=None)
        await self._close_iteration(entry.model_copy(update={"termination": reason}), feedback, None)

    async def _cancelled(self) -> None:
        """spec.cancel: kill the pod, record the iteration, end the task for good."""
        message = "cancelled by spec.cancel"
        await self._abort_iteration("Cancelled", message, None)
        await self._audit(
            "outcome", self.status.iteration, {"phase": Phase.CANCELLED.value, "reason": "Cancelled"}
        )
        cancelled = self._with_condition(self.status, "Cancelled", ConditionStatus.TRUE, "Cancelled", message)
        await self._save(cancelled, Phase.CANCELLED, "Cancelled", message)

    async def _hold(self) -> None:
        """Operator-wide emergency stop: kill the pod in flight (its iteration failed, not re-run), then wait
        without any model call or pod until the stop is lifted or the task is cancelled."""
        await self._abort_iteration(
            "EmergencyStop",
            "killed by the operator's emergency stop",
            "The previous run was killed by an emergency stop of the operator before it finished; its "
            "outcome is unknown. Write the program again.",
        )
        if not self._condition_is("EmergencyStop", ConditionStatus.TRUE):
            message = "the operator's emergency stop is active: no model calls or sandbox runs"
            self.sink.event("EmergencyStop", message, warning=True)
            await self._save(
                self._with_condition(
                    self.status, "EmergencyStop", ConditionStatus.TRUE, "EmergencyStop", message
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
        self.sink.event("EmergencyStopLifted", message)
        await self._save(
            self._with_condition(
                self.status, "EmergencyStop", ConditionStatus.FALSE, "EmergencyStopLifted", message
            )
        )

    async def _succeed(self, action: Action) -> None:
        last = self.status.history[-1]
        code = await self.sandbox.read_code(self.task.namespace, last.code_config_map or "") or ""
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
        await self._audit(
            "outcome",
            action.iteration,
            {"phase": Phase.FAILED.value, "reason": action.reason, "message": action.message},
        )
        await self._save(self.status, Phase.FAILED, action.reason, action.message)
