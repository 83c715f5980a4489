"""The answer parser on recorded real answers: tests/corpora/model-answers/*.jsonl holds answers the local
model (cluster/local-model.sh) gave to the operator's real prompts during `make bench-agent` and the demo
task, recorded by bench/recording_proxy.py, each labelled by a person: for a code-writing answer whether it
carries a program and one line that program must contain (or that it was cut off by the token limit); for
a judge's answer the verdict it states. Split into a tuning half (looked at while the parser was changed)
and a held-out half (not looked at); both are replayed here."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from level5.model.answers import parse_answer, parse_judgement

CORPUS = Path(__file__).resolve().parents[1] / "corpora" / "model-answers"
RECORDS = [
    json.loads(line)
    for path in sorted(CORPUS.glob("*.jsonl"))
    for line in path.read_text().splitlines()
    if line.strip()
]


def _id(record: dict[str, Any]) -> str:
    return f"{record['half']}-{record['id']}"


def test_corpus_has_both_halves_and_both_kinds() -> None:
    assert {r["half"] for r in RECORDS} == {"tuning", "held-out"}
    assert {r["kind"] for r in RECORDS} == {"code", "judge"}


@pytest.mark.parametrize("record", [r for r in RECORDS if r["kind"] == "code"], ids=_id)
def test_code_answer(record: dict[str, Any]) -> None:
    parsed = parse_answer(record["answer"])
    label = record["label"]
    if label["program"]:
        assert parsed.code is not None, parsed.problem
        assert label["contains"] in parsed.code
        assert parsed.problem is None
    else:
        assert parsed.code is None
        assert parsed.problem is not None
        if label.get("cut_off"):
            assert "cut off" in parsed.problem


@pytest.mark.parametrize("record", [r for r in RECORDS if r["kind"] == "judge"], ids=_id)
def test_judge_answer(record: dict[str, Any]) -> None:
    assert parse_judgement(record["answer"]).passed is record["label"]["passed"]
