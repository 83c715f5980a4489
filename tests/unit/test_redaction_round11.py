"""Layer 5's mechanisms added while tuning on round 11's corpus: own examples per mechanism, and
look-alikes that must stay unchanged."""

import pytest

from level5.safety.redaction import Redactor

REDACTOR = Redactor(b"test-round11")


def _redacted(text: str) -> str:
    return REDACTOR.redact(text).text


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        # A street line under its own key in a structured address (YAML, JSON).
        ("ADDRESS", "Lindvägen 12", "address:\n  street: Lindvägen 12\n  city: Lund\n"),
        ("ADDRESS", "Rua Augusta, 45 - sala 3", '{"street": "Rua Augusta, 45 - sala 3", "zip": "x"}'),
        # A phone number under a short or messenger label.
        ("PHONE", "017612345678", "import row=3 Mob: 017612345678 src=crm"),
        ("PHONE", "4915112345678", "sync id=9 whatsapp=4915112345678 src=crm"),
        ("PHONE", "(21) 98765-4321", "Celular: (21) 98765-4321"),
    ],
)
def test_round11_values_are_redacted(kind: str, value: str, text: str) -> None:
    out = _redacted(text)
    assert value not in out
    assert f"[{kind}:" in out


@pytest.mark.parametrize(
    "text",
    [
        "street: closed for the parade",
        "mob: 3 zombies spawned",
    ],
)
def test_round11_look_alikes_stay(text: str) -> None:
    assert _redacted(text) == text
