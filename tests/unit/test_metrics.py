"""Prometheus metrics: every method changes what a real scrape of /metrics returns, labels stay bounded."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from level5.api.approval import Decision
from level5.api.spec import Trigger
from level5.api.status import HistoryEntry, Phase, RedactionCount, ReviewSummary
from level5.model.client import Completion
from level5.observability.metrics import OTHER, Metrics, budget_of, iteration_outcome
from level5.safety.audit import AuditLog

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


class Scraper:
    """A Metrics instance serving on a free loopback port, read back through HTTP and the text parser."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.port = self.metrics.serve(0, "127.0.0.1")

    def scrape(self) -> Samples:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
            text = response.read().decode()
        return {
            (s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def value(self, name: str, **labels: str) -> float | None:
        return self.scrape().get((name, frozenset(labels.items())))


@pytest.fixture
def scraper() -> Iterator[Scraper]:
    scraper = Scraper()
    yield scraper
    scraper.metrics.close()


def ran(**fields: object) -> HistoryEntry:
    """An iteration whose code ran and was reported on (failed unless fields say otherwise)."""
    values: dict[str, object] = {
        "iteration": 1,
        "code_sha256": "a" * 64,
        "review_verdict": "allow",
        "exit_code": 1,
        "run_seconds": 0.3,
        "cpu_seconds": 0.2,
        "stdout_bytes": 100,
        "stderr_bytes": 20,
        "duration_seconds": 7.0,
    }
    return HistoryEntry.model_validate({**values, **fields})


def not_run(**fields: object) -> HistoryEntry:
    """An iteration whose code never ran to a report (stopped before, killed, or lost)."""
    unrun = {"exit_code": None, "run_seconds": None, "cpu_seconds": 0.0, "stdout_bytes": None}
    return ran(**{**unrun, "stderr_bytes": None, **fields})


def test_tasks_by_phase_count_uids_without_exposing_them(scraper: Scraper) -> None:
    assert {p.value: scraper.value("level5_tasks", phase=p.value) for p in Phase} == {
        p.value: 0.0 for p in Phase
    }
    m = scraper.metrics
    m.task_phase("uid-1", Phase.PENDING)
    m.task_phase("uid-1", Phase.GENERATING)
    m.task_phase("uid-2", Phase.GENERATING)
    m.task_phase("uid-2", Phase.GENERATING)  # no change: counted once
    m.task_phase("uid-3", Phase.SUCCEEDED)
    samples = scraper.scrape()
    assert samples[("level5_tasks", frozenset({("phase", "Pending")}))] == 0
    assert samples[("level5_tasks", frozenset({("phase", "Generating")}))] == 2
    assert samples[("level5_tasks", frozenset({("phase", "Succeeded")}))] == 1
    assert not any("uid-" in value for _, labels in samples for _, value in labels)
    m.task_forgotten("uid-1")
    m.task_forgotten("uid-1")  # twice, or never seen: no effect
    m.task_forgotten("never-seen")
    assert scraper.value("level5_tasks", phase="Generating") == 1
    m.task_finished(Phase.SUCCEEDED, "AllCriteriaPassed")
    m.task_finished(Phase.FAILED, "user text: not a reason")
    assert scraper.value("level5_tasks_finished_total", phase="Succeeded", reason="AllCriteriaPassed") == 1
    assert scraper.value("level5_tasks_finished_total", phase="Failed", reason=OTHER) == 1


@pytest.mark.parametrize(
    ("entry", "decision", "outcome"),
    [
        (ran(exit_code=0, score=1.0), None, "succeeded"),
        (ran(), None, "failed"),
        (ran(review_verdict="escalate"), Decision.APPROVE, "failed"),  # approved after escalation, then ran
        (not_run(termination="OOMKilled"), None, "failed"),
        (not_run(termination="Cancelled"), None, "killed"),
        (not_run(termination="EmergencyStop"), None, "killed"),
        (not_run(termination="Paused"), None, "killed"),
        (not_run(code_sha256=None, review_verdict=None), None, "no_code"),
        (not_run(review_verdict="block"), None, "review_blocked"),
        (not_run(review_verdict="escalate"), None, "review_escalated"),
        (not_run(review_verdict="escalate"), Decision.REJECT, "rejected"),
        (not_run(), Decision.GUIDE, "rejected"),
        (not_run(), Decision.CONSTRAIN, "rejected"),
        (not_run(), Decision.OVERRIDE, "overridden"),
        (not_run(), None, "error"),  # allowed, but the pod never reported
    ],
)
def test_iteration_outcome(entry: HistoryEntry, decision: Decision | None, outcome: str) -> None:
    assert iteration_outcome(entry, decision) == outcome


def test_iteration_finished_records_outcome_durations_output_and_redactions(scraper: Scraper) -> None:
    m = scraper.metrics
    m.iteration_finished(
        ran(
            termination="Timeout",
            redactions=[RedactionCount(type="EMAIL", count=2), RedactionCount(type="bad type!", count=1)],
        )
    )
    m.iteration_finished(ran(exit_code=0, score=1.0, run_seconds=2.0, cpu_seconds=1.5, stderr_bytes=None))
    m.iteration_finished(not_run(review_verdict="block", duration_seconds=3.0))
    m.iteration_finished(not_run(review_verdict="escalate"), Decision.REJECT)
    samples = scraper.scrape()

    def get(name: str, **labels: str) -> float:
        return samples[(name, frozenset(labels.items()))]

    assert get("level5_iterations_total", outcome="failed") == 1
    assert get("level5_iterations_total", outcome="succeeded") == 1
    assert get("level5_iterations_total", outcome="review_blocked") == 1
    assert get("level5_iterations_total", outcome="rejected") == 1
    assert get("level5_iterations_total", outcome="killed") == 0
    assert get("level5_iteration_duration_seconds_count") == 4
    assert get("level5_iteration_duration_seconds_sum") == 24.0
    # Only the two runs that were reported on count as sandbox runs.
    assert get("level5_sandbox_run_duration_seconds_count") == 2
    assert get("level5_sandbox_run_duration_seconds_bucket", le="0.25") == 0
    assert get("level5_sandbox_run_duration_seconds_bucket", le="0.5") == 1
    assert get("level5_sandbox_run_duration_seconds_bucket", le="2.5") == 2
    assert get("level5_sandbox_cpu_seconds_sum") == pytest.approx(1.7)
    assert get("level5_sandbox_output_bytes_total", stream="stdout") == 200
    assert get("level5_sandbox_output_bytes_total", stream="stderr") == 20
    assert get("level5_sandbox_pods_killed_total", reason="Timeout") == 1
    assert get("level5_sandbox_pods_killed_total", reason="OOMKilled") == 0
    assert get("level5_redactions_total", type="EMAIL") == 2
    assert get("level5_redactions_total", type=OTHER) == 1


def test_model_calls_count_tokens_and_latency_by_outcome(scraper: Scraper) -> None:
    m = scraper.metrics
    m.model_call(0.4, Completion(text="x", prompt_tokens=100, completion_tokens=30))
    m.model_call(3.0, Completion(text="y", prompt_tokens=50, completion_tokens=20))
    m.model_call(12.0, None)
    assert scraper.value("level5_model_tokens_total", kind="prompt") == 150
    assert scraper.value("level5_model_tokens_total", kind="completion") == 50
    assert scraper.value("level5_model_request_duration_seconds_count", outcome="ok") == 2
    assert scraper.value("level5_model_request_duration_seconds_count", outcome="error") == 1
    assert scraper.value("level5_model_request_duration_seconds_bucket", outcome="ok", le="0.5") == 1


def test_safety_layers_by_verdict_and_rule(scraper: Scraper) -> None:
    m = scraper.metrics
    m.review_finished(ReviewSummary(verdict="allow"))
    m.review_finished(ReviewSummary(verdict="block", rules=["L5-IMPORT-001", "BANDIT-B602", "rm -rf /"]))
    m.review_finished(ReviewSummary(verdict="block", rules=["L5-IMPORT-001"]))
    m.input_checked("goal", "escalate", ["L5-INJ-001", "L5-INJ-001"])
    m.input_checked("stdin of doom", "block", ["L5-INJ-011"])
    assert scraper.value("level5_reviews_total", verdict="allow") == 1
    assert scraper.value("level5_reviews_total", verdict="block") == 2
    assert scraper.value("level5_review_rule_hits_total", verdict="block", rule="L5-IMPORT-001") == 2
    assert scraper.value("level5_review_rule_hits_total", verdict="block", rule="BANDIT-B602") == 1
    assert scraper.value("level5_review_rule_hits_total", verdict="block", rule=OTHER) == 1
    flags = "level5_input_flags_total"
    assert scraper.value(flags, source="goal", verdict="escalate", rule="L5-INJ-001") == 1
    assert scraper.value(flags, source=OTHER, verdict="block", rule="L5-INJ-011") == 1


def test_escalations_approvals_budgets_and_emergency_stop(scraper: Scraper) -> None:
    m = scraper.metrics
    m.escalated(Trigger.LOW_CONFIDENCE)
    m.escalated(Trigger.LOW_CONFIDENCE)
    m.approval_decided(Decision.APPROVE, 42.0)
    m.approval_expired(86400.0)
    m.budget_exhausted(budget_of("CpuBudgetExhausted") or "")
    m.emergency_stop_set(True)
    assert scraper.value("level5_escalations_total", trigger="LowConfidence") == 2
    assert scraper.value("level5_escalations_total", trigger="Stuck") == 0
    assert scraper.value("level5_approval_wait_seconds_bucket", decision="Approve", le="30.0") == 0
    assert scraper.value("level5_approval_wait_seconds_bucket", decision="Approve", le="60.0") == 1
    assert scraper.value("level5_approval_wait_seconds_sum", decision="Expired") == 86400.0
    assert scraper.value("level5_approval_wait_seconds_count", decision="Guide") == 0
    assert scraper.value("level5_budget_exhaustions_total", budget="cpu_seconds") == 1
    assert scraper.value("level5_budget_exhaustions_total", budget="tokens") == 0
    assert scraper.value("level5_emergency_stop_active") == 1
    m.emergency_stop_set(False)
    assert scraper.value("level5_emergency_stop_active") == 0


def test_budget_of_stop_reasons() -> None:
    assert budget_of("TokenBudgetExhausted") == "tokens"
    assert budget_of("WallClockBudgetExhausted") == "wall_clock_seconds"
    assert budget_of("MaxIterationsReached") == "iterations"
    assert budget_of("StuckSameFailure") is None


class MemorySink:
    """An audit sink that fails while `broken` is set."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.broken = False

    async def write(self, line: str, durable: bool = True) -> None:
        if self.broken:
            raise OSError("disk full")
        self.lines.append(line)

    async def sync(self) -> None:
        return None

    async def history(self) -> list[str]:
        return list(self.lines)

    async def changed_elsewhere(self) -> bool:
        return False


async def test_audit_sink_counts_records_and_failures_and_still_raises(scraper: Scraper) -> None:
    inner = MemorySink()
    log = AuditLog(scraper.metrics.audit_sink(inner))
    await log.append("prompt", "ns/task", 1, {"text": "hello"})
    await log.append("answer", "ns/task", 1, {"text": "hi"})
    inner.broken = True
    with pytest.raises(OSError, match="disk full"):
        await log.append("code", "ns/task", 1, {"code": "print(1)"})
    assert len(inner.lines) == 2
    assert scraper.value("level5_audit_records_total") == 2
    assert scraper.value("level5_audit_write_failures_total") == 1


def test_build_info_and_independent_registries(scraper: Scraper) -> None:
    other = Metrics()  # a second instance registers the same names without clashing
    other.escalated(Trigger.TIME)
    assert scraper.value("level5_escalations_total", trigger="Time") == 0
    samples = scraper.scrape()
    assert [labels for name, labels in samples if name == "level5_build_info"] != []


def test_close_stops_serving() -> None:
    scraper = Scraper()
    assert scraper.value("level5_emergency_stop_active") == 0
    with pytest.raises(RuntimeError, match="already serving"):
        scraper.metrics.serve(0, "127.0.0.1")
    scraper.metrics.close()
    with pytest.raises(urllib.error.URLError):
        scraper.scrape()


def test_series_lists_every_scraped_sample_with_its_labels(scraper: Scraper) -> None:
    m = scraper.metrics
    m.task_finished(Phase.FAILED, "MaxIterationsReached")
    m.iteration_finished(ran(redactions=[RedactionCount(type="IBAN", count=1)]))
    m.review_finished(ReviewSummary(verdict="block", rules=["L5-SRC-002"]))
    m.input_checked("sandbox_output", "block", ["L5-INJ-004"])
    series = m.series()
    scraped = scraper.scrape()
    assert {name for name, _ in scraped} == set(series)  # every family has samples once each method ran
    for name, labels in scraped:
        assert {label for label, _ in labels} == series[name], name


def test_readme_lists_every_series() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## Metrics\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(level5_\w+)` \|", section, re.MULTILINE))
    names = [name for name in Metrics().series() if not name.endswith("_created")]
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in names}
    assert listed == families
