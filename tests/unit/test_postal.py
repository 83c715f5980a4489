"""Layer 5's postal-address model (level5.safety.postal): what it adds after the rules, what it leaves."""

from __future__ import annotations

import hashlib
import json

import pytest

from level5.safety import postal
from level5.safety.redaction import Redactor
from level5.tools.postal_train import THRESHOLD, WEIGHTS


def test_committed_weights_match_their_training_lines() -> None:
    """Drift: the training lines' generator changed since the weights were fitted (make postal-weights)."""
    from corpora.postal_training import render

    document = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert document["training_sha256"] == hashlib.sha256(render().encode()).hexdigest(), (
        "run make postal-weights"
    )
    assert document["threshold"] == THRESHOLD
    assert len(postal.weights().slots) == postal.DIMENSIONS


@pytest.mark.parametrize(
    ("text", "address"),
    [
        (
            'rendeles=HU0114704 cim="4025 Debrecen, Piac u. 21. 3/12" allapot=kiszallitva',
            "4025 Debrecen, Piac u. 21",
        ),
        ("[shop] destino: Av. Santa Fe 3012, piso 4, C1425BGP Palermo | costo: $ 1.980", "Av. Santa Fe 3012"),
    ],
)
def test_an_address_the_rules_miss_is_redacted(text: str, address: str) -> None:
    rules = Redactor(b"k", postal_model=False).redact(text).text
    assert address in rules  # the rules alone leave it
    redacted = Redactor(b"k").redact(text).text
    assert address not in redacted
    assert "[ADDRESS:" in redacted


def test_a_rules_address_is_widened_to_its_field() -> None:
    text = "rider_app: new drop -> Plot 12, Adeola Odeku Street, Victoria Island, Lagos (call on arrival)"
    redacted = Redactor(b"k").redact(text).text
    assert "Victoria Island" not in redacted
    assert redacted.count("[ADDRESS:") == 1


@pytest.mark.parametrize(
    "text",
    [
        "Section 4 Data Retention",
        "Chapter 12 Results And Discussion",
        "Running Python 3.11.4 on Rocky Linux 9",
        "Step 2/5 : Type check",
        "Real Madrid 2\u20130 Borussia Dortmund",
        "Copyright 2026 The Kubernetes Authors. All rights reserved.",
        "Dec 02 04:01:12 edge-3 sshd[51011]: Accepted publickey for deploy",
    ],
)
def test_title_case_headings_and_program_output_are_left(text: str) -> None:
    assert Redactor(b"k").redact(text).text == text


def test_candidates_are_delimited_fields_with_an_address_like_token() -> None:
    text = 'id=7 addr="Kerkstraat 14, 1017 GC Amsterdam" total=12 rows 44 done\nline 41, in validate'
    fields = [(text[c.start : c.end], c.before, c.after) for c in postal.candidates(text)]
    assert fields == [("Kerkstraat 14, 1017 GC Amsterdam", "addr", "total")]


def test_a_field_cut_by_the_window_is_not_asked_about() -> None:
    text = "x" * 500 + " Kerkstraat 14 " + "y" * 500  # one field longer than the window each way
    assert postal.candidates(text) == []


def test_verdicts_are_kept_per_field() -> None:
    field = ("4025 Debrecen, Piac u. 21. 3/12", "cim", "allapot")
    assert postal.verdicts([field], postal.weights()) == [True]
    assert field in postal._VERDICTS
    assert postal.verdicts([field, field], postal.weights()) == [True, True]


def test_weights_survive_int8_storage() -> None:
    weights = postal.weights()
    encoded, scale = postal.encode(weights.slots)
    assert scale == pytest.approx(float(abs(weights.slots).max()) / 127)
    assert len(encoded) < 400_000
