"""Prometheus metrics of the operator: what the refine loop, the safety layers and the kill switches did, as
counters, gauges and histograms in one `Metrics` object with its own CollectorRegistry (no global state, so
every test can make a fresh one; the operator makes one at startup and passes it to whoever records).

The loop and the handlers call small typed methods with plain values or status objects (`task_phase`,
`iteration_finished(entry)`, `review_finished(summary)`, ...); this module decides the series, their
labels and their buckets. Every label takes values from a set fixed by the code: phases, outcomes, rule
ids, redaction types, trigger and decision names. A value outside its set is counted as "other" rather
than minting a new series, and a task's name or uid is never a label (tasks by phase are counted in
memory by uid and exposed as counts).

`serve(port)` exposes /metrics over HTTP from a daemon thread (prometheus_client's own server), so a scrape
never waits on the event loop. The port is OperatorConfig.metrics_port (LEVEL5_METRICS_PORT, default 9090).
The Grafana dashboard is charts/level5/dashboards/level5.json; the series are listed in the README's
"Metrics" section."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Final
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, start_http_server

from level5.api.approval import Decision
from level5.api.spec import Trigger
from level5.api.status import HistoryEntry, Phase, ReviewSummary, SyscallMonitoring, Termination
from level5.model.client import Completion, RetryReason
from level5.safety.audit import AuditSink
from level5.sandbox.pool import ColdStartReason
from level5.sandbox.result import RUNTIME_RULES

OTHER: Final = "other"
"""Label value standing in for anything outside a label's fixed set."""

OUTCOMES: Final = (
    "succeeded",
    "failed",
    "error",
    "no_code",
    "review_blocked",
    "review_escalated",
    "rejected",
    "overridden",
    "killed",
    "policy_violation",
)
"""How an iteration ended (`iteration_outcome`)."""
SYSCALL_ANOMALY_KINDS: Final = frozenset(
    {"ProcessStart", "Connect", "Socket", "FileAccess", "Ptrace", "Denied", "MonitoringIncomplete"}
)
"""The kinds level5.observability.syscalls.syscall_anomalies names (the first word of each sentence)."""
EXPIRED: Final = "Expired"
"""The decision label of an Approval nobody decided in time."""
TERMINATIONS: Final = frozenset(t.value for t in Termination)
"""Ways a sandbox pod is ended from outside (HistoryEntry.termination)."""
APPROVAL_DECISIONS: Final = frozenset({*(d.value for d in Decision), EXPIRED})
BUDGETS: Final = frozenset({"tokens", "cpu_seconds", "wall_clock_seconds", "iterations"})
VERDICTS: Final = frozenset({"allow", "escalate", "block"})
INPUT_SOURCES: Final = frozenset({"goal", "sandbox_output"})
"""Where layer 1 looked: the task's own words, or what a sandbox run printed."""
MODEL_OUTCOMES: Final = frozenset({"ok", "error"})
TOKEN_KINDS: Final = ("prompt", "completion")
STREAMS: Final = ("stdout", "stderr")

_BUDGET_OF_REASON: Final = {
    "TokenBudgetExhausted": "tokens",
    "CpuBudgetExhausted": "cpu_seconds",
    "WallClockBudgetExhausted": "wall_clock_seconds",
    "MaxIterationsReached": "iterations",
}
# Rule ids come from the review and injection modules (L5-IMPORT-001, L5-INJ-004, BANDIT-B602...), types
# from the redactor (EMAIL, AWS_ACCESS_KEY...), reasons from the loop's CamelCase constants: sets fixed by
# the code, checked by shape so a new rule needs no change here.
_RULE: Final = re.compile(r"(?:L5|BANDIT)-[A-Z0-9]{1,16}(?:-[0-9]{1,4})?")
_REDACTION_TYPE: Final = re.compile(r"[A-Z][A-Z0-9_]{0,31}")
_REASON: Final = re.compile(r"[A-Z][A-Za-z0-9]{0,47}")

# Buckets, in seconds unless named otherwise.
ITERATION_BUCKETS: Final = (1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0)
RUN_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)
CPU_BUCKETS: Final = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)
MODEL_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0)
APPROVAL_BUCKETS: Final = (5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 14400.0, 43200.0, 86400.0)


def bounded(value: str, allowed: Iterable[str]) -> str:
    """`value` when it is in `allowed`, else "other"."""
    return value if value in allowed else OTHER


def shaped(value: str, pattern: re.Pattern[str]) -> str:
    """`value` when it has the shape of its label's values, else "other"."""
    return value if pattern.fullmatch(value) else OTHER


def budget_of(reason: str) -> str | None:
    """The budget a stop reason from stopping.py reports exhausted (tokens, cpu_seconds, wall_clock_seconds,
    iterations), or None for any other reason."""
    return _BUDGET_OF_REASON.get(reason)


def iteration_outcome(entry: HistoryEntry, decision: Decision | None = None) -> str:
    """How a finished iteration ended, one of OUTCOMES: killed by a kill switch, succeeded (every criterion
    passed), no code in the answer, a person's decision that closed it unrun (rejected for Reject, Guide and
    Constrain; overridden for Override), stopped by the runtime policy while it ran (policy_violation),
    stopped by the review (block or escalate) before it ran, error (it
    was allowed but never reported: the pod vanished or failed to start) or failed. The entry does not
    record the decision, so the caller passes the one that closed the iteration."""
    if entry.termination is not None and entry.termination.by_kill_switch:
        return "killed"
    if decision is Decision.OVERRIDE:
        return "overridden"
    if decision in (Decision.REJECT, Decision.GUIDE, Decision.CONSTRAIN):
        return "rejected"
    if entry.score >= 1.0:
        return "succeeded"
    if entry.policy_violation is not None:
        return "policy_violation"
    if entry.code_sha256 is None:
        return "no_code"
    if not entry.sandbox_started and entry.review_verdict in ("block", "escalate"):
        return "review_blocked" if entry.review_verdict == "block" else "review_escalated"
    if not entry.sandbox_started and entry.exit_code is None:
        return "error"
    return "failed"


class _CountingSink:
    """An AuditSink that counts what it writes and what fails to be written; failures still raise."""

    def __init__(self, inner: AuditSink, metrics: Metrics) -> None:
        self.inner, self.metrics = inner, metrics

    async def write(self, line: str, durable: bool = True) -> None:
        try:
            await self.inner.write(line, durable)
        except Exception:
            self.metrics.audit_write_failed()
            raise
        self.metrics.audit_written()

    async def sync(self) -> None:
        try:
            await self.inner.sync()
        except Exception:
            self.metrics.audit_write_failed()
            raise

    async def history(self) -> list[str]:
        return await self.inner.history()

    async def changed_elsewhere(self) -> bool:
        return await self.inner.changed_elsewhere()


class Metrics:
    """Every series the operator exports, in a registry of its own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._labels: dict[str, tuple[str, ...]] = {}
        self._phases: dict[str, Phase] = {}
        self._server: WSGIServer | None = None

        self.build_info = Info("level5_build", "Version of the level5 operator.", registry=self.registry)
        self.build_info.info({"version": _package_version()})
        self._labels["level5_build"] = ("version",)
        self.tasks = self._gauge("level5_tasks", "AgentTasks the operator knows, by phase.", "phase")
        self.emergency_stop = self._gauge(
            "level5_emergency_stop_active", "1 while the operator-wide emergency stop is active."
        )
        self.tasks_finished = self._counter(
            "level5_tasks_finished",
            "Tasks that reached a terminal phase, by phase and reason.",
            "phase",
            "reason",
        )
        self.iterations = self._counter("level5_iterations", "Finished iterations, by outcome.", "outcome")
        self.iteration_duration = self._histogram(
            "level5_iteration_duration_seconds",
            "Wall-clock time of an iteration, generation to evaluation.",
            ITERATION_BUCKETS,
        )
        self.run_duration = self._histogram(
            "level5_sandbox_run_duration_seconds",
            "Wall-clock time of the program in the sandbox.",
            RUN_BUCKETS,
        )
        self.run_cpu = self._histogram(
            "level5_sandbox_cpu_seconds",
            "CPU time of one sandbox run, as the runner measured it.",
            CPU_BUCKETS,
        )
        self.output_bytes = self._counter(
            "level5_sandbox_output_bytes", "Bytes sandbox programs wrote, by stream.", "stream"
        )
        self.pods_killed = self._counter(
            "level5_sandbox_pods_killed",
            "Sandbox runs ended from outside, by reason (kill switch, timeout, OOM, deadline, eviction).",
            "reason",
        )
        self.model_tokens = self._counter(
            "level5_model_tokens", "Model tokens used, by kind (prompt, completion).", "kind"
        )
        self.model_latency = self._histogram(
            "level5_model_request_duration_seconds",
            "Latency of one model request, by outcome (ok, error).",
            MODEL_BUCKETS,
            "outcome",
        )
        self.reviews = self._counter("level5_reviews", "Code reviews (layer 3), by verdict.", "verdict")
        self.review_rules = self._counter(
            "level5_review_rule_hits",
            "Review rules that fired (layer 3), by the review's verdict and rule id.",
            "verdict",
            "rule",
        )
        self.policy_violations = self._counter(
            "level5_policy_violations",
            "Programs stopped by the runtime policy inside the sandbox (layer 4), by rule id.",
            "rule",
        )
        self.syscall_runs = self._counter(
            "level5_syscall_monitored_runs",
            "Sandbox runs by whether the system-call monitor observed them (Observed, Off, Unavailable).",
            "monitoring",
        )
        self.syscall_anomalies = self._counter(
            "level5_syscall_anomalies",
            "Unexpected system-call activity of sandbox programs, observed from outside (layer 4), by kind.",
            "kind",
        )
        self.input_flags = self._counter(
            "level5_input_flags",
            "Prompt-injection rules that fired on input (layer 1), by source, verdict and rule id.",
            "source",
            "verdict",
            "rule",
        )
        self.redactions = self._counter(
            "level5_redactions", "Values redacted from sandbox output (layer 5), by type.", "type"
        )
        self.escalations = self._counter(
            "level5_escalations", "Tasks escalated to a human, by trigger.", "trigger"
        )
        self.approval_wait = self._histogram(
            "level5_approval_wait_seconds",
            "Time from an approval request to its decision, by decision.",
            APPROVAL_BUCKETS,
            "decision",
        )
        self.budgets_exhausted = self._counter(
            "level5_budget_exhaustions", "Tasks stopped by a budget, by budget.", "budget"
        )
        self.audit_records = self._counter("level5_audit_records", "Audit records written.")
        self.audit_failures = self._counter(
            "level5_audit_write_failures", "Audit records that could not be written."
        )
        self.pool_size = self._gauge(
            "level5_sandbox_pool_size", "Warm sandbox pods the pools are configured to keep."
        )
        self.pool_ready = self._gauge(
            "level5_sandbox_pool_ready", "Warm sandbox pods Ready and unclaimed now."
        )
        self.pool_claims = self._counter(
            "level5_sandbox_pool_claims", "Iterations that ran in a claimed warm pool pod."
        )
        self.pool_fallbacks = self._counter(
            "level5_sandbox_pool_fallbacks",
            "Iterations in a namespace with a warm pool that started a cold pod, by reason.",
            "reason",
        )
        self.audit_refused = self._gauge(
            "level5_audit_refused",
            "1 while the operator refuses to extend its audit log (not a valid chain, or a task's checkpoint "
            "is not in it).",
        )
        self.model_retries = self._counter(
            "level5_model_retries", "Model calls retried after a transient failure, by reason.", "reason"
        )
        # Series of fixed label sets exist from the start, so rate() and the dashboard see 0, not nothing.
        fixed: list[tuple[Gauge | Counter | Histogram, Iterable[str]]] = [
            (self.tasks, (p.value for p in Phase)),
            (self.iterations, OUTCOMES),
            (self.output_bytes, STREAMS),
            (self.pods_killed, TERMINATIONS),
            (self.model_tokens, TOKEN_KINDS),
            (self.model_latency, MODEL_OUTCOMES),
            (self.reviews, VERDICTS),
            (self.policy_violations, RUNTIME_RULES),
            (self.syscall_runs, (m.value for m in SyscallMonitoring)),
            (self.syscall_anomalies, SYSCALL_ANOMALY_KINDS),
            (self.escalations, (t.value for t in Trigger)),
            (self.approval_wait, APPROVAL_DECISIONS),
            (self.budgets_exhausted, BUDGETS),
            (self.pool_fallbacks, (r.value for r in ColdStartReason)),
            (self.model_retries, (r.value for r in RetryReason)),
        ]
        for metric, values in fixed:
            for value in values:
                metric.labels(value)

    def _gauge(self, name: str, documentation: str, *labels: str) -> Gauge:
        self._labels[name] = labels
        return Gauge(name, documentation, labels, registry=self.registry)

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        self._labels[name] = labels
        return Counter(name, documentation, labels, registry=self.registry)

    def _histogram(
        self, name: str, documentation: str, buckets: tuple[float, ...], *labels: str
    ) -> Histogram:
        self._labels[name] = labels
        return Histogram(name, documentation, labels, registry=self.registry, buckets=buckets)

    # -- warm pool -------------------------------------------------------------------------------------------

    def pool_gauges(self, size: int, ready: Callable[[], float]) -> None:
        """The pools' configured size, and a live count of their Ready pods (read at each scrape)."""
        self.pool_size.set(size)
        self.pool_ready.set_function(ready)

    def pool_claimed(self) -> None:
        self.pool_claims.inc()

    def pool_fallback(self, reason: str) -> None:
        known = {r.value for r in ColdStartReason}
        self.pool_fallbacks.labels(reason if reason in known else OTHER).inc()

    # -- tasks -----------------------------------------------------------------------------------------------

    def task_phase(self, uid: str, phase: Phase) -> None:
        """The task with this uid is now in `phase` (also the first time it is seen)."""
        old = self._phases.get(uid)
        if old is phase:
            return
        if old is not None:
            self.tasks.labels(old.value).dec()
        self._phases[uid] = phase
        self.tasks.labels(phase.value).inc()

    def tasks_known(self) -> int:
        """How many tasks the operator knows (seen and not yet deleted), in every phase."""
        return len(self._phases)

    def task_forgotten(self, uid: str) -> None:
        """The task was deleted: it no longer counts in any phase."""
        old = self._phases.pop(uid, None)
        if old is not None:
            self.tasks.labels(old.value).dec()

    def task_finished(self, phase: Phase, reason: str) -> None:
        """The task reached a terminal phase for a CamelCase reason (AllCriteriaPassed, MaxIterationsReached,
        InputRejected, Cancelled...)."""
        self.tasks_finished.labels(phase.value, shaped(reason, _REASON)).inc()

    # -- iterations ------------------------------------------------------------------------------------------

    def iteration_finished(self, entry: HistoryEntry, decision: Decision | None = None) -> None:
        """An iteration was closed with this history entry (and, when a person's Approval decision closed it,
        that decision): its outcome (`iteration_outcome`), duration and,
        if the sandbox ran it, run time, CPU time, output bytes, redactions from its output and how it was
        ended (pods killed by reason); the loop makes no separate call for those."""
        self.iterations.labels(iteration_outcome(entry, decision)).inc()
        self.iteration_duration.observe(entry.duration_seconds)
        if entry.run_seconds is not None:
            self.run_duration.observe(entry.run_seconds)
            self.run_cpu.observe(entry.cpu_seconds)
        for stream, size in zip(STREAMS, (entry.stdout_bytes, entry.stderr_bytes), strict=True):
            if size:
                self.output_bytes.labels(stream).inc(size)
        if entry.termination is not None:
            self.pods_killed.labels(bounded(entry.termination, TERMINATIONS)).inc()
        for redaction in entry.redactions:
            self.redactions.labels(shaped(redaction.type, _REDACTION_TYPE)).inc(redaction.count)
        if entry.policy_violation is not None:
            self.policy_violations.labels(bounded(entry.policy_violation.rule, RUNTIME_RULES)).inc()
        if entry.syscalls is not None:
            self.syscall_runs.labels(entry.syscalls.monitoring.value).inc()
            for anomaly in entry.syscalls.anomalies:
                self.syscall_anomalies.labels(bounded(anomaly.split(":", 1)[0], SYSCALL_ANOMALY_KINDS)).inc()

    # -- model -----------------------------------------------------------------------------------------------

    def model_call(self, seconds: float, completion: Completion | None) -> None:
        """One model request took `seconds`; `completion` is its answer, or None when it failed."""
        self.model_latency.labels("ok" if completion is not None else "error").observe(seconds)
        if completion is not None:
            self.model_tokens.labels("prompt").inc(completion.prompt_tokens)
            self.model_tokens.labels("completion").inc(completion.completion_tokens)

    # -- safety layers ---------------------------------------------------------------------------------------

    def review_finished(self, summary: ReviewSummary) -> None:
        """One review of an iteration's code (layer 3): its verdict and every rule that fired."""
        verdict = bounded(summary.verdict, VERDICTS)
        self.reviews.labels(verdict).inc()
        for rule in set(summary.rules):
            self.review_rules.labels(verdict, shaped(rule, _RULE)).inc()

    def input_checked(self, source: str, verdict: str, rules: Iterable[str]) -> None:
        """Layer 1 flagged input from `source` (goal, sandbox_output) with `verdict` for these rules; a check
        that found nothing needs no call."""
        source, verdict = bounded(source, INPUT_SOURCES), bounded(verdict, VERDICTS)
        for rule in set(rules):
            self.input_flags.labels(source, verdict, shaped(rule, _RULE)).inc()

    def audit_sink(self, sink: AuditSink) -> AuditSink:
        """`sink` wrapped to count records written and write failures (which it still raises)."""
        return _CountingSink(sink, self)

    def audit_written(self) -> None:
        """An audit record was written; the `audit_sink` wrapper calls this itself."""
        self.audit_records.inc()

    def audit_write_failed(self) -> None:
        """An audit record could not be written; the `audit_sink` wrapper calls this itself."""
        self.audit_failures.inc()

    # -- humans and limits -----------------------------------------------------------------------------------

    def escalated(self, trigger: Trigger) -> None:
        """An escalation trigger fired and a person was asked (once per fired trigger of the gate)."""
        self.escalations.labels(trigger.value).inc()

    def approval_decided(self, decision: Decision, wait_seconds: float) -> None:
        """A person decided an Approval `wait_seconds` after it was created."""
        self.approval_wait.labels(decision.value).observe(wait_seconds)

    def approval_expired(self, wait_seconds: float) -> None:
        """An Approval expired undecided after `wait_seconds` (counted as the decision "Expired")."""
        self.approval_wait.labels(EXPIRED).observe(wait_seconds)

    def budget_exhausted(self, budget: str) -> None:
        """A task was stopped by a budget: tokens, cpu_seconds, wall_clock_seconds or iterations (see
        `budget_of` for the stop reasons)."""
        self.budgets_exhausted.labels(bounded(budget, BUDGETS)).inc()

    def audit_refusing(self) -> None:
        """The audit log may not be extended: no step can be recorded until a person restores it."""
        self.audit_refused.set(1)

    def model_retry(self, reason: str) -> None:
        """A model call failed transiently (timeout, 429, 5xx, connection, malformed reply) and is retried."""
        self.model_retries.labels(bounded(reason, (r.value for r in RetryReason))).inc()

    def emergency_stop_set(self, active: bool) -> None:
        """The operator-wide emergency stop began (True) or was lifted (False)."""
        self.emergency_stop.set(1 if active else 0)

    # -- exposition ------------------------------------------------------------------------------------------

    def serve(self, port: int, addr: str = "0.0.0.0") -> int:  # noqa: S104  # scraped from outside the pod
        """Serve /metrics on addr:port from a daemon thread; returns the bound port (useful with port 0)."""
        if self._server is not None:
            raise RuntimeError(f"already serving /metrics on port {self._server.server_port}")
        self._server, _ = start_http_server(port, addr, registry=self.registry)
        return int(self._server.server_port)

    def close(self) -> None:
        """Stop serving /metrics."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def series(self) -> dict[str, frozenset[str]]:
        """Every sample name a scrape can contain, suffixes included (_total, _bucket, _sum, _count, _info,
        _created), with its label names, whether or not a labelled child has been recorded yet. Read from
        the registry, so a dashboard can be checked against what is really exported."""
        suffixes = {
            "counter": ("_total", "_created"),
            "histogram": ("_bucket", "_sum", "_count", "_created"),
            "info": ("_info",),
        }
        return {
            family.name + suffix: frozenset(self._labels[family.name])
            | ({"le"} if suffix == "_bucket" else set())
            for family in self.registry.collect()
            for suffix in suffixes.get(family.type, ("",))
        }


def _package_version() -> str:
    try:
        return version("level5")
    except PackageNotFoundError:
        return "unknown"
