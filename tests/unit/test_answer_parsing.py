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


def test_bare_code_with_prose_around_it() -> None:
    text = (
        "Here is the program you asked for:\n\nimport csv\nrows = list(csv.reader(open('/data/a.csv')))\n"
        "print(len(rows))\n\nThis program counts the rows of the file.\nCONFIDENCE: 0.8\n"
    )
    answer = parse_answer(text)
    assert answer.code == "import csv\nrows = list(csv.reader(open('/data/a.csv')))\nprint(len(rows))\n"
    assert answer.confidence == pytest.approx(0.8)


def test_definitions_and_their_use_in_two_blocks_are_joined() -> None:
    text = (
        "First the helper:\n```python\ndef total(xs):\n    return sum(xs)\n```\n"
        "Then call it:\n```python\nprint(total([1, 2]))\n```\n"
    )
    assert extract_code(text) == "def total(xs):\n    return sum(xs)\n\nprint(total([1, 2]))\n"


def test_a_corrected_version_replaces_the_first() -> None:
    text = (
        "Original:\n```python\ndef f():\n    return 1\nprint(f())\n```\n"
        "Corrected:\n```python\ndef f():\n    return 2\nprint(f())\n```\n"
    )
    assert extract_code(text) == "def f():\n    return 2\nprint(f())\n"


def test_answer_format_lines_inside_the_fence_are_dropped() -> None:
    text = "```python\nconfidence = 0.5\nprint(confidence)\nCONFIDENCE: 0.9\nUNCERTAINTY: none\n```"
    answer = parse_answer(text)
    assert answer.code == "confidence = 0.5\nprint(confidence)\n"
    assert answer.confidence == pytest.approx(0.9)


def test_cut_off_answer_is_reported_as_cut_off() -> None:
    answer = parse_answer("```python\nimport csv\nfor row in csv.reader(open('/data/a.csv')):\n    print(")
    assert answer.code is None
    assert answer.problem is not None and "cut off" in answer.problem


def test_cut_off_answer_that_still_parses_is_kept() -> None:
    assert extract_code("```python\nprint(1)\nprint(2)\n") == "print(1)\nprint(2)\n"


@pytest.mark.parametrize(
    ("text", "passed"),
    [
        ("PASS\nThe output lists each region once.", True),
        ("**FAIL.** north is missing", False),
        ("The verdict is: pass, every region appears once.", True),
        ("Verdict - Fail (two lines for north)", False),
    ],
)
def test_judgement_without_a_verdict_line(text: str, passed: bool) -> None:
    assert parse_judgement(text).passed is passed
