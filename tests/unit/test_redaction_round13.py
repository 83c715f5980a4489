"""Layer 5's mechanisms added while tuning on round 13's corpus (names by the technique that prints them,
and the smaller kinds): own examples per mechanism, and look-alikes that must stay unchanged."""

import re

import pytest

from level5.safety.redaction import Redactor

REDACT = Redactor(b"test-round13").redact

# Each mechanism with a sentence of its own: the kind, then the text with its value between « and ».
VALUES = [
    # A commit's author after its hash and date (a git log format), or in blame's brackets.
    "PERSON: a1b2c3d 2025-03-14 «Ingrid Halvorsen»  docs: fix typo in setup",
    "PERSON: ^9f8e7d6 lib/util.py («Tomasz Wiśniewski» 2025-02-01 09:30:00 +0100 17) x",
    # A person's label in another script as a header cell: its column holds names.
    "PERSON: код,ФИО,отдел\n17,«Соколова Анна Игоревна»,склад\n",
    # A role column of a psql table, below its rule line.
    "PERSON:  id | owner_name\n----+--------------\n  4 | «Lars Eriksen»\n(1 row)",
    # Thai: Khun after "Dear", glued to the name; the name is a given name and a family name.
    "PERSON: เรียน คุณ«สมชาย ใจดี» ขอบคุณที่ใช้บริการของเรา",
    # Initials after "signed off by"; the holder of an account.
    "PERSON: approval signed off by «A. K. Mensah» on 2025-01-02",
    'PERSON: account_holder="«Olusegun Bankole»" currency=NGN',
    # A role only a person fills: numbered in a list, and a one-word name in capitals under it.
    "PERSON: penumpang 7: «Wulan», dewasa",
    "PERSON: Cashier: «PRAPTO»\nTotal 12.500",
    # A vCard's phone property with parameters; an SMS gateway's number key without the "+".
    "PHONE: BEGIN:VCARD\nTEL;TYPE=WORK,VOICE:«+44 7700 900123»\nEND:VCARD",
    "PHONE: submit_sm destination_addr=«447911123456» status=0",
    # An address whose local part's dots are spelled too.
    "EMAIL: contact «mai(dot)tran(at)example(dot)net» today",
    # A card number in four dotted groups.
    "CREDIT_CARD: track data: pan=«4111.1111.1111.1111» exp=2811",
    # Slack's rotated tokens and Stripe's webhook signing secret.
    "SLACK_TOKEN: rotated: «xoxe.xoxb-1-Qm9vZ2xlU2VjcmV0MTIzNDU2Nzg5»",
    "STRIPE_KEY: signing secret «whsec_7Kq2Lm9Xp4Rt8Vw3Yz6Bc1Dn5Fg0Hj» set",
]


@pytest.mark.parametrize("row", VALUES)
def test_round13_values_are_redacted(row: str) -> None:
    kind, _, marked = row.partition(": ")
    value = marked[marked.index("«") + 1 : marked.index("»")]
    out = REDACT(marked.replace("«", "").replace("»", "")).text
    words_left = [word for word in re.findall(r"\w{3,}", value) if re.search(rf"\b{word}\b", out)]
    assert (f"[{kind}:" in out, value in out, words_left) == (True, False, []), out


def test_a_thai_name_after_khun_stops_at_the_family_name() -> None:
    assert REDACT("เรียน คุณสมชาย ใจดี ขอบคุณที่ใช้บริการของเรา").text.endswith(" ขอบคุณที่ใช้บริการของเรา")


@pytest.mark.parametrize(
    "text",
    [
        # A log line whose subject follows the date (no author), and git's one-line log.
        "a1b2c3d 2025-03-14 Update Release Notes",
        "a1b2c3d Fix Parser Crash (#12)",
        # Khun as "you", with no greeting before it.
        "คุณสามารถดาวน์โหลดไฟล์ได้ที่หน้าแรก",
        # A header cell in another script that names no person, and a psql column that is no role.
        "код,отдел,ставка\n17,Склад Север,0.75\n",
        " id | status\n----+--------------\n  4 | Active Ready\n",
        # A word for nobody, and an acronym, under a role only a person fills or a role of anyone.
        "Cashier: NONE",
        "Owner: ACME",
        # Digits under an SMS key that are no valid international number; dotted groups that are no card.
        "submit_sm destination_addr=99912345678 status=0",
        "build 2024.0101.1200.0001 done",
        # "(dot)" with no "(at)" after it.
        "the file name (dot) extension",
    ],
)
def test_round13_lookalikes_are_left(text: str) -> None:
    assert REDACT(text).text == text
