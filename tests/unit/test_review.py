"""Unit tests for layer 3 (pre-execution review)."""

import hashlib

import pytest

from level5.review import Finding, ReviewResult, Verdict, review_code
from level5.safety_eval import benign_scripts, escape_payloads, review_rates

ALLOWED = ["pandas", "numpy", "yaml"]


def review(source: str, **kwargs: object) -> ReviewResult:
    return review_code(
        source, allowed_libraries=kwargs.get("allowed", ALLOWED), max_lines=kwargs.get("max_lines", 50)
    )


def rules(result: ReviewResult) -> set[str]:
    return {f.rule for f in result.findings}


def test_benign_script_is_allowed_and_hashed() -> None:
    source = 'import pandas as pd\ndf = pd.read_csv("/data/x.csv")\ndf.to_csv("/output/y.csv")\n'
    result = review(source)
    assert result.verdict is Verdict.ALLOW, result.feedback()
    assert result.code_sha256 == hashlib.sha256(source.encode()).hexdigest()


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("import os", "L5-IMPORT-001"),
        ("import scrapy", "L5-IMPORT-001"),
        ("from numpy import ctypeslib", "L5-IMPORT-001"),
        ("from . import x", "L5-IMPORT-003"),
        ("e = eval\ne('1')", "L5-CALL-001"),
        ("().__class__.__bases__", "L5-ATTR-001"),
        ("'{0.__globals__}'.format(f)", "L5-STRING-001"),
        ("getattr(x, '\uff46_globals')", "L5-ATTR-001"),
        ("\uff45\uff58\uff45\uff43('1')", "L5-SRC-007"),
        ("# coding: utf-7\nx = 1", "L5-SRC-001"),
        ("x = 1  # \u202e", "L5-SRC-003"),
        ("x = 10**10**10", "L5-BOMB-001"),
        ("x = [0] * 10**12", "L5-BOMB-001"),
        ("import sys\nsys.modules['os']", "L5-GUARD-001"),
        ("import numpy as np\nnp.load('/data/a', allow_pickle=True)", "L5-DESER-001"),
        ("open('/etc/passwd')", "L5-FILE-001"),
        ("open('/data/x', 'w')", "L5-FILE-001"),
        ("import json\nopen(json.loads('\"p\"'))", "L5-FILE-002"),
        ("def f(:", "L5-SYNTAX-001"),
    ],
)
def test_block_rules(source: str, rule: str) -> None:
    result = review(source)
    assert result.verdict is Verdict.BLOCK
    assert rule in rules(result), result.feedback()


@pytest.mark.parametrize(
    "source",
    [
        "import json\ngetattr(x, json.loads('\"a\"'))",
        "import threading",
        "n = 10**6\nfor i in range(n):\n    for j in range(n):\n        pass",
    ],
)
def test_escalations(source: str) -> None:
    assert review(source).verdict is Verdict.ESCALATE


def test_alias_through_module_and_function_scope_shadowing() -> None:
    assert review("import sys as s\nm = s\nm.modules").verdict is Verdict.BLOCK
    # a parameter named eval elsewhere must not hide the builtin at module level
    assert review("def f(eval):\n    return eval\neval('1')").verdict is Verdict.BLOCK
    # a local parameter named input is the user's, not the builtin
    assert review("def f(input):\n    return input + 1\nprint(f(1))").verdict is Verdict.ALLOW


def test_paths_are_folded_from_constants_and_fstrings() -> None:
    ok = 'D = "/data"\nfor n in ["a.csv"]:\n    open(f"{D}/{n}")\nopen("/output/" + "r.txt", "w")'
    assert review(ok).verdict is Verdict.ALLOW
    assert review('D = "/etc"\nopen(f"{D}/passwd")').verdict is Verdict.BLOCK


def test_max_lines_counts_non_blank_lines() -> None:
    assert review("x = 1\n\n\ny = 2\n", max_lines=2).verdict is Verdict.ALLOW
    assert "L5-SIZE-001" in rules(review("x = 1\ny = 2\nz = 3\n", max_lines=2))


def test_bandit_second_opinion_ignores_nosec() -> None:
    result = review("import yaml\nyaml.load(s)  # nosec\n")
    assert any(f.rule.startswith("BANDIT-") for f in result.findings)


def test_feedback_lists_rules_and_lines() -> None:
    text = review("x = 1\neval('2')").feedback()
    assert "line 2" in text and "L5-CALL-001" in text


def test_verdict_is_worst_finding() -> None:
    result = review("import threading\nimport os")
    assert {f.verdict for f in result.findings} >= {Verdict.ESCALATE, Verdict.BLOCK}
    assert result.verdict is Verdict.BLOCK
    assert isinstance(result.findings[0], Finding)


def test_tuning_half_figures() -> None:
    # Only the tuning half is asserted on: the held-out half is scored by `make eval-safety`, never tuned on.
    assert len(list(escape_payloads())) >= 60
    assert len(list(benign_scripts())) >= 40
    rates = review_rates(half="tuning")
    assert rates.detection_rate == 1.0, rates.missed
    assert rates.false_positive_rate <= 0.05, rates.flagged
