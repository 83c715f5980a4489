"""The execute and evaluate steps: the sandbox pod launched once, its outcome guarded (layers 1 and 5),
checked against the success criteria and recorded."""

from __future__ import annotations

import asyncio

from level5.api.spec import SuccessCriterion
from level5.api.status import (
    LaunchState,
    Phase,
    RedactionCount,
    RuntimeViolation,
    TaskResult,
    Termination,
)
from level5.loop.approval import ApprovalSteps
from level5.loop.evaluation import JudgeFn, evaluate, failure_signature
from level5.loop.guards import guard_outcome_off_loop, guard_outcome_with_second_opinion
from level5.loop.prompts import describe_failure, judge_messages
from level5.loop.state_machine import (
    Action,
)
from level5.loop.stopping import SANDBOX_INTERRUPTED
from level5.model.answers import Judgement, parse_judgement
from level5.observability.monitoring import (
    syscall_record,
    termination,
)
from level5.safety.review.reviewer import Verdict
from level5.sandbox.outcome import POD_DELETED, LaunchOutcome, PodOutcome, deleted_mid_run
from level5.sandbox.pool import CLAIMED, FALLBACK_EVENT, WARM_EVENT, WarmClaim
from level5.sandbox.result import RunResult

STDOUT_EXCERPT = 4000


class ExecuteStep(ApprovalSteps):
    """The execute and evaluate steps: the sandbox pod launched once, its outcome guarded (layers 1 and 5),
    checked against the success criteria and recorded."""

    async def _launch(self, action: Action) -> None:
        current = self.status.current
        assert current is not None and current.pod_name is not None and current.code_config_map is not None
        await self.sandbox.ensure_namespace_guards(self.task.namespace)
        claim = await self.sandbox.claim_warm(self.task, self.spec)
        if isinstance(claim, WarmClaim):
            await self._launch_warm(action, claim)
            return
        if claim is not None:
            self.metrics.pool_fallback(claim.value)
            self.journal.event(
                FALLBACK_EVENT,
                f"iteration {action.iteration}: no warm sandbox ({claim.value}); starting a cold pod",
            )
        # Record the intent first: a restarted operator then knows this pod may exist and never makes a
        # second one for the same code.
        pending = current.model_copy(update={"launch_state": LaunchState.PENDING})
        await self._save(self.status.model_copy(update={"current": pending}))
        code = await self._code(current.code_config_map)
        outcome = await self.sandbox.launch(
            self.task, self.spec, current.pod_name, action.iteration, code, False, self.journal.queued
        )
        await self._audit_launch(action.iteration, current.pod_name, outcome)
        created = pending.model_copy(update={"launch_state": LaunchState.CREATED})
        self._stage(self.status.model_copy(update={"current": created}))
        self.journal.event(
            "SandboxLaunched", f"iteration {action.iteration}: pod {current.pod_name} ({outcome.value})"
        )

    async def _audit_launch(self, iteration: int, pod_name: str, outcome: LaunchOutcome) -> None:
        await self._audit("launch", iteration, {"pod": pod_name, "outcome": outcome.value})

    async def _audit_claim(self, iteration: int, pod_name: str, pool: str) -> None:
        await self._audit("launch", iteration, {"pod": pod_name, "outcome": CLAIMED, "warm_pool": pool})

    async def _launch_warm(self, action: Action, claim: WarmClaim) -> None:
        """Record the claimed pool pod as the iteration's pod before anything is handed to it; the run itself
        happens in the wait step, over the pod's streams."""
        current = self.status.current
        assert current is not None
        pending = current.model_copy(
            update={"launch_state": LaunchState.PENDING, "pod_name": claim.pod_name, "warm_pool": claim.pool}
        )
        # The intent and the code ConfigMap are written side by side (StepContext._save would write one after
        # the other): a resumed operator never runs a claimed pod's code, so the intent may land first.
        await asyncio.gather(
            self._code_stored(), self.journal.save(self.status.model_copy(update={"current": pending}))
        )
        self.metrics.pool_claimed()
        await self._audit_claim(action.iteration, claim.pod_name, claim.pool)
        created = pending.model_copy(update={"launch_state": LaunchState.CREATED})
        self._stage(self.status.model_copy(update={"current": created}))
        self.journal.event(
            WARM_EVENT, f"iteration {action.iteration}: warm pod {claim.pod_name} of pool {claim.pool}"
        )

    async def _wait_and_evaluate(self, action: Action) -> None:
        current = self.status.current
        assert current is not None and current.pod_name is not None and current.code_config_map is not None
        namespace = self.task.namespace
        outcome = PodOutcome(failure="the sandbox pod disappeared before its result was read")
        resumed_launch = LaunchOutcome.EXISTS
        if current.launch_state is LaunchState.PENDING and current.warm_pool is None:
            code = await self._code(current.code_config_map)
            resumed_launch = await self.sandbox.launch(
                self.task, self.spec, current.pod_name, action.iteration, code, True, self.journal.queued
            )
            # The launch record the interrupted step may not have written (written once: a record already
            # there is kept); Vanished says the pod may have existed and will not run again.
            await self._audit_launch(action.iteration, current.pod_name, resumed_launch)
            if resumed_launch is not LaunchOutcome.VANISHED:
                await self._save(
                    self.status.model_copy(
                        update={"current": current.model_copy(update={"launch_state": LaunchState.CREATED})}
                    )
                )
        if current.launch_state is LaunchState.PENDING and current.warm_pool is not None:
            # Interrupted between the claim's save and its record: write the record (once) before the run,
            # which fails because this process holds no claim on the pod.
            await self._audit_claim(action.iteration, current.pod_name, current.warm_pool)
        pod_uid = None
        interrupted = False
        if current.warm_pool is not None:
            code = await self._code(current.code_config_map) or ""
            outcome = await self.sandbox.run_warm(self.task, self.spec, current.pod_name, code)
        elif resumed_launch is not LaunchOutcome.VANISHED:
            code = await self._code(current.code_config_map) or ""
            pod, outcome = await self.sandbox.run_cold(namespace, current.pod_name, self.spec, code)
            pod_uid = (pod or {}).get("metadata", {}).get("uid")
            interrupted = deleted_mid_run(pod)
            if interrupted:  # what the program printed as it was killed is not its outcome
                outcome = PodOutcome(
                    failure=POD_DELETED,
                    monitoring=outcome.monitoring,
                    syscalls=outcome.syscalls,
                    job_files=outcome.job_files,
                )
        # Layers 1 and 5 over up to two 64 KiB streams take up to about a CPU-second of pure Python: off the
        # event loop unless the outcome is small.
        guarded = (
            await guard_outcome_off_loop(outcome, self.redactor)
            if self.second_opinion is None
            else await guard_outcome_with_second_opinion(outcome, self.redactor, self.second_opinion)
        )
        outcome = guarded.outcome
        syscalls = syscall_record(
            outcome.monitoring,
            outcome.syscalls,
            outcome.run.isolation_probe if outcome.run else None,
            self.spec.capabilities.language,
            outcome.job_files,
        )
        syscalls = syscalls.model_copy(
            update={"anomalies": [await self._redacted(a) for a in syscalls.anomalies]}
        )
        await self._audit(
            "execution",
            action.iteration,
            {
                "pod": current.pod_name,
                "pod_uid": pod_uid,
                "warm_pool": current.warm_pool,
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
            if evaluation.passed or interrupted
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
                "termination": Termination.POD_DELETED
                if interrupted
                else termination(outcome.failure, run.timed_out if run else False),
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
            else describe_failure(
                pod_failure=outcome.failure,
                run=run,
                criteria=evaluation.criteria,
                hidden=frozenset(c.name for c in self.spec.goal.success_criteria if c.hidden),
            )
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
        if interrupted:
            limit = self.spec.iterations.max_interrupted_iterations
            self.journal.event(
                SANDBOX_INTERRUPTED,
                f"iteration {action.iteration}: pod {current.pod_name} was deleted or evicted from outside "
                "while the program ran; the iteration is retried and not counted against maxIterations "
                f"({self.status.totals.interrupted_iterations + 1} of "
                f"spec.iterations.maxInterruptedIterations {limit})",
                warning=True,
            )
        await self._audit_item(current)
        await self._close_iteration(entry, feedback, result)

    def _judge_with(self, code: str, run: RunResult | None, current_iteration: int) -> JudgeFn:
        async def judge(criterion: SuccessCriterion) -> tuple[Judgement, int]:
            assert run is not None  # evaluate() only judges completed runs
            text, used = await self._complete(
                current_iteration,
                judge_messages(criterion, code, run, self.spec.capabilities.language),
            )
            return parse_judgement(text), used

        return judge
