"""Parsing of code-writing and judging answers."""

from __future__ import annotations

import pytest

from level5.model.answers import extract_code, parse_answer, parse_judgement


def test_fenced_python_with_confidence_and_uncertainty() -> None:
    answer = parse_answer(
        "Here you go:\n```python\nprint('hi')\n```\nCONFIDENCE: 0.8\nUNCERTAINTY: column names\n"
    )
    assert answer.code == "print('hi')\n"
    assert answer.confidence == 0.8
    assert answer.uncertainty == "column names"
    assert answer.problem is None


def test_prefers_longest_python_block_over_other_languages() -> None:
    text = (
        "Install:\n```bash\npip install x\n```\nExample:\n```py\nx = 1\n```\n"
        "Full program:\n```python3\nimport csv\nfor row in csv.reader([]):\n    print(row)\n```\n"
    )
    assert extract_code(text) == "import csv\nfor row in csv.reader([]):\n    print(row)\n"


def test_untagged_fence_and_tilde_fence() -> None:
    assert extract_code("```\nprint(1)\n```") == "print(1)\n"
    assert extract_code("~~~python\nprint(2)\n~~~") == "print(2)\n"


def test_unterminated_fence_is_taken_to_the_end() -> None:
    assert extract_code("```python\nprint(1)\nprint(2)") == "print(1)\nprint(2)\n"


def test_bare_code_without_fence() -> None:
    answer = parse_answer("import sys\nprint(sys.argv)\nCONFIDENCE: 90%\n")
    assert answer.code == "import sys\nprint(sys.argv)\n"
    assert answer.confidence == pytest.approx(0.9)


@pytest.mark.parametrize("text", ["I cannot help with that.", "Sure", "", "```bash\nls\n```"])
def test_prose_or_other_language_gives_no_code(text: str) -> None:
    answer = parse_answer(text)
    assert answer.code is None
    assert answer.problem is not None and "```python" in answer.problem


def test_untagged_prose_fence_is_ignored() -> None:
    assert extract_code("```\nThis is just an explanation of things.\n```") is None


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("VERDICT: PASS\nRATIONALE: all regions listed", True),
        ("**VERDICT:** fail\nRATIONALE: north missing", False),
        ("verdict = pass. RATIONALE: fine", True),
        ("I think it looks good", False),
    ],
)
def test_judgement(text: str, passed: bool) -> None:
    judgement = parse_judgement(text)
    assert judgement.passed is passed
    assert judgement.rationale


def test_judgement_records_rationale() -> None:
    assert parse_judgement("VERDICT: FAIL\nRATIONALE: north is missing").rationale == "north is missing"
