"""The Grafana dashboard only queries what the operator exports: metric names, label names and fixed label
values in every PromQL expression are checked against a fresh Metrics registry."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from level5.observability.metrics import Metrics

DASHBOARD = Path(__file__).resolve().parents[2] / "charts" / "level5" / "dashboards" / "level5.json"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
AGGREGATIONS = frozenset({"sum", "count", "max", "min", "avg", "topk", "bottomk", "quantile", "stddev"})
FUNCTIONS = AGGREGATIONS | {
    *("rate", "irate", "increase", "delta", "deriv", "histogram_quantile", "clamp_min", "clamp_max"),
    *("abs", "ceil", "floor", "round", "sort", "sort_desc", "vector", "scalar", "time", "absent"),
    *("changes", "resets", "label_replace", "avg_over_time", "max_over_time", "min_over_time"),
}
KEYWORDS = frozenset({"and", "or", "unless", "offset", "bool"})
GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
SELECTOR = re.compile(r"\b([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}")
MATCHER = re.compile(r'\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"([^"]*)"\s*')
RANGE = re.compile(r"\[([^\]]*)\]")
DURATION = re.compile(r"\$__(rate_interval|range|interval)|\d+[smhdw]")


def panels() -> list[dict[str, Any]]:
    """Every panel, rows and the panels inside collapsed rows included."""
    found: list[dict[str, Any]] = []
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        found += [panel, *panel.get("panels", [])]
    return found


def queries() -> list[tuple[str, str]]:
    return [(p["title"], t["expr"]) for p in panels() if p["type"] != "row" for t in p["targets"]]


@pytest.fixture(scope="module")
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture(scope="module")
def label_values(metrics: Metrics) -> dict[tuple[str, str], set[str]]:
    """Label values of the series a fresh Metrics exports before anything is recorded (the fixed sets)."""
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    for family in metrics.registry.collect():
        for sample in family.samples:
            for label, value in sample.labels.items():
                values[(sample.name, label)].add(value)
    return values


def test_dashboard_shape() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 36  # Grafana 10+
    assert dashboard["uid"] == "level5-operator"
    [variable] = dashboard["templating"]["list"]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    assert variable["name"] == DATASOURCE["uid"].strip("${}")
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    titles = [p["title"] for p in panels()]
    assert len(titles) == len(set(titles)), "panel titles must be unique"
    for panel in panels():
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"{panel['title']}: no query"
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), f"{panel['title']}: empty query"
            assert target["datasource"] == DATASOURCE, panel["title"]
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
    rows = {p["title"] for p in panels() if p["type"] == "row"}
    assert rows == {"Tasks", "Iterations", "Safety layers", "Escalations and approvals", "Sandbox", "Model"}


def check(expr: str, metrics: Metrics, label_values: dict[tuple[str, str], set[str]]) -> list[str]:
    """What is wrong with one PromQL expression: unknown metrics, functions, labels or label values."""
    series = metrics.series()
    problems: list[str] = []
    if expr.count("(") != expr.count(")") or expr.count("{") != expr.count("}"):
        problems.append("unbalanced brackets")
    problems += [f"range [{r}]" for r in RANGE.findall(expr) if not DURATION.fullmatch(r)]
    selected: list[str] = []
    for name, body in SELECTOR.findall(expr):
        selected.append(name)
        for matcher in filter(str.strip, body.split(",")):
            match = MATCHER.fullmatch(matcher)
            if match is None:
                problems.append(f"matcher {matcher!r}")
                continue
            label, _, value = match.groups()
            if label not in series.get(name, ()):
                problems.append(f"{name} has no label {label}")
            known = label_values.get((name, label))
            if known:
                problems += [f"{name}{{{label}}} is never {v!r}" for v in value.split("|") if v not in known]
    grouped = {label.strip() for _, labels in GROUPING.findall(expr) for label in labels.split(",")}
    bare = GROUPING.sub(" ", RANGE.sub(" ", SELECTOR.sub(r"\1", re.sub(r'"[^"]*"', '""', expr))))
    names = []
    for token, call in re.findall(r"\b([a-zA-Z_:][\w:]*)\b(\s*\()?", bare):
        if call:
            problems += [] if token in FUNCTIONS else [f"unknown function {token}"]
        elif token not in KEYWORDS:
            names.append(token)
    problems += [f"unknown metric {name}" for name in names if name not in series]
    if not names:
        problems.append("queries no metric")
    available = set().union(*(series.get(name, frozenset()) for name in names))
    problems += [f"grouping label {label} is on none of {names}" for label in grouped - available - {""}]
    return problems


@pytest.mark.parametrize(("title", "expr"), queries(), ids=[title for title, _ in queries()])
def test_every_query_uses_exported_series(
    title: str, expr: str, metrics: Metrics, label_values: dict[tuple[str, str], set[str]]
) -> None:
    assert check(expr, metrics, label_values) == [], f"{title}: {expr}"


@pytest.mark.parametrize(
    ("expr", "problem"),
    [
        ("sum(rate(level5_iteration_total[5m]))", "unknown metric level5_iteration_total"),
        ('sum(level5_tasks{phase="Succeded"})', "level5_tasks{phase} is never 'Succeded'"),
        ('sum(level5_tasks{stage="x"})', "level5_tasks has no label stage"),
        ("sum by (task) (level5_iterations_total)", "grouping label task is on none of"),
        ("histogram_quantil(0.5, level5_sandbox_cpu_seconds_bucket)", "unknown function histogram_quantil"),
        ("sum(rate(level5_reviews_total[$rate]))", "range [$rate]"),
        ("sum(up)", "unknown metric up"),
    ],
)
def test_the_checker_catches_bad_queries(
    expr: str, problem: str, metrics: Metrics, label_values: dict[tuple[str, str], set[str]]
) -> None:
    assert any(p.startswith(problem) for p in check(expr, metrics, label_values)), check(
        expr, metrics, label_values
    )


def test_every_series_family_is_on_the_dashboard(metrics: Metrics) -> None:
    """Each exported family appears in some panel (an unplotted series is usually a forgotten panel)."""
    text = " ".join(expr for _, expr in queries())
    families = {re.sub(r"_(total|bucket|sum|count|created|info)$", "", name) for name in metrics.series()}
    missing = sorted(
        f for f in families if not re.search(rf"\b{f}(_total|_bucket|_sum|_count|_info)?\b", text)
    )
    assert missing == []
