"""Layer 5's mechanisms added while tuning on round 11's corpus: own examples per mechanism, and
look-alikes that must stay unchanged."""

import re

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
        # A delivery or billing address under a qualified label, building and floor included.
        (
            "ADDRESS",
            "Escalier B, 2e étage, 7 rue Oberkampf, 75011 Paris",
            "Adresse de facturation : Escalier B, 2e étage, 7 rue Oberkampf, 75011 Paris",
        ),
        # A Polish street abbreviation that opens an address after its label.
        (
            "ADDRESS",
            "al. Grunwaldzka 12 m. 4, 80-236 Gdańsk",
            "the new address al. Grunwaldzka 12 m. 4, 80-236 Gdańsk",
        ),
        # A phone number under a short or messenger label.
        ("PHONE", "017612345678", "import row=3 Mob: 017612345678 src=crm"),
        ("PHONE", "4915112345678", "sync id=9 whatsapp=4915112345678 src=crm"),
        ("PHONE", "(21) 98765-4321", "Celular: (21) 98765-4321"),
        # A passenger as airlines print them: SURNAME/GIVEN and a title.
        ("PERSON", "KOWALSKA/ANNA MARIA", "  3  KOWALSKA/ANNA MARIA MRS       ADT  LO0281  WAW-CDG  OK"),
        ("PERSON", "OKAFOR/CHIDI", "RLOC 9XK2QL  1.1OKAFOR/CHIDI MR  LH0568 Y 02MAR LOS FRA HK1"),
        # A speaker in a chat export, after the time the message was sent.
        ("PERSON", "Oluwadamilare Bankole", "[09:41] Oluwadamilare Bankole: rollout paused"),
        ("PERSON", "Tadhg Ó Súilleabháin", "03/04/2024, 09:15:02 - Tadhg Ó Súilleabháin: on my way"),
        # Dutch's elided article among a name's particles.
        ("PERSON", "Femke van 't Riet", 'msg="renamed" display_name="Femke van \'t Riet"'),
        # A relay's display name in quotes: the name before "via".
        ("PERSON", "Nkechi Obi", 'From: "Nkechi Obi via Slack" <notifications@slack.example>'),
        # A password in a URL's user information, which "<password>@host" made look like an e-mail.
        ("SECRET", "q7Rz-Lp2Wm", "DSN=mysql+pymysql://svc_ro:q7Rz-Lp2Wm@mysql-1.svc:3306/app"),
        ("SECRET", "Tn83vKq1", "dial redis://default:Tn83vKq1@cache:6379/0 ok"),
        # git shortlog's author line: a count in brackets then ":" still heads a person's commits.
        ("PERSON", "Maria Lopez", "Maria Lopez (12):\n      Fix the retry loop\n"),
    ],
)
def test_round11_values_are_redacted(kind: str, value: str, text: str) -> None:
    out = _redacted(text)
    assert f"[{kind}:" in out
    # The whole value: none of its words is left.
    assert not [word for word in re.findall(r"\w{3,}", value) if re.search(rf"\b{word}\b", out)], out


@pytest.mark.parametrize(
    "text",
    [
        "street: closed for the parade",
        "mob: 3 zombies spawned",
        # Capitalised words after a first name that end with a street word name a place.
        "venues: Oxford Street (2F), Victoria Road annex, Anna Platz hall",
        # Capitalised words followed by a bare count in brackets are an item of a tally.
        "stock: Victoria Classic Blend (12), Henry Grand Reserve (3)",
        # A URL whose user information has no password, or a placeholder for it.
        "pushing to https://registry.example.org:5000/v2/team/app:1.4",
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
        # Times before capitalised words that are no name, and a path of capitals before a title.
        "[14:02] Build: ok",
        "see DOCS/API MR 42 for details",
        # A person's column in a table's definition, followed by its SQL type.
        "CREATE TABLE staff (id INT, owner VARCHAR(64), name TEXT NOT NULL);",
        # A score before club names, and a date's year, are no house number and postcode.
        "Result: Real Betis 3\u20131 Sporting Lisboa (Sevilla, 12.05.2023)",
    ],
)
def test_round11_look_alikes_stay(text: str) -> None:
    assert _redacted(text) == text
