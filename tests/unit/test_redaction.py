"""Unit tests for layer 5 (redaction of PII and secrets)."""

import hmac
import json
import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from level5.safety.redaction import Redactor, iban_ok, luhn_ok, ssn_ok, task_key
from level5.tools.safety_eval import redaction_figures, redaction_rates

REDACTOR = Redactor(task_key("uid-1"))


def redacted(text: str) -> str:
    return REDACTOR.redact(text).text


def test_first_names_file_matches_its_generator() -> None:
    """operator/level5/safety/data/first_names.txt is generated from Faker (make corpora)."""
    from corpora.first_names import OUTPUT, render

    assert OUTPUT.read_text(encoding="utf-8") == render(), "run: make corpora (first_names.txt drifted)"


@pytest.mark.parametrize(
    "sentence",
    [
        "then {} called back about the refund",
        "{} joined the project in March.",
        "We forwarded the logs to {}'s team.",
        "according to {} the import failed twice",
    ],
)
@pytest.mark.parametrize("name", ["Maria Gonzalez", "Heloisa da Costa", "Evelyn Schlosser-Tauber"])
def test_names_in_running_text(sentence: str, name: str) -> None:
    """A known first name and a capitalised surname are a person, with no label before them."""
    out = redacted(sentence.format(name))
    assert name.split()[-1] not in out and "[PERSON:" in out


@pytest.mark.parametrize(
    "text",
    [
        "then Data Loader called back the retry hook",
        "Max Value exceeded after Page Count reached 3",
        "Will Retry in 5 s; Grant Access denied",
        "Smith & Sons and Pires e Filhos reported 3 open tickets",
        "Maria said the Data Team would call back",
    ],
)
def test_capitalised_pairs_that_are_not_people(text: str) -> None:
    """Products, teams, ordinary words that are also first names, family firms, a first name alone."""
    assert redacted(text) == text


@pytest.mark.parametrize(
    ("kind", "value", "sentence"),
    [
        ("EMAIL", "anna.schmidt+work@beispiel.de", "Kontakt: {}."),
        ("PHONE", "+1 415-555-2671", "call {} tomorrow"),
        ("PHONE", "+44 20 7946 0958", "UK office {}"),
        ("PHONE", "01 42 68 53 00", "Téléphone : {}"),
        ("PHONE", "080-9141-7776", "携帯 {} まで"),
        ("PHONE", "+91 98765 43210", "mobile {}"),
        ("CREDIT_CARD", "4111 1111 1111 1111", "paid with {} yesterday"),
        ("CREDIT_CARD", "5500-0000-0000-0004", "card={}"),
        ("CREDIT_CARD", "378282246310005", "amex {}"),
        ("SSN", "123-45-6789", "SSN {} on file"),
        ("IBAN", "DE89 3704 0044 0532 0130 00", "IBAN: {}"),
        ("IBAN", "GB82WEST12345698765432", "pay to {}"),
        ("IP_ADDRESS", "10.20.30.40", "connect to {}:8080"),
        ("IP_ADDRESS", "2001:db8::8a2e:370:7334", "peer [{}]"),
        ("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE", "key {}"),
        ("SECRET", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = {}"),
        ("GITHUB_TOKEN", "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6", "token {}"),
        ("SLACK_TOKEN", "xoxb-123456789012-AbCdEfGhIjKlMnOp", "slack {}"),
        ("STRIPE_KEY", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "stripe {}"),
        ("GOOGLE_API_KEY", "AIza" + "SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "?key={}&q=x"),
        ("OPENAI_KEY", "sk-proj-" + "Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56", "OPENAI_API_KEY is {}"),
        ("JWT", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLWJ5dGVz", "cookie jar: {}"),
        ("BEARER_TOKEN", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA", "Authorization: Bearer {}"),
        ("SECRET", "hunter2!x", "password={}"),
        ("SECRET", "s3cr3t-value", '{{"client_secret": "{}"}}'),
        ("HIGH_ENTROPY", "q2uFA793CYeT1bjYn2aGlYzVRMsTheYw8G2D", "upload handle {} returned"),
        ("HIGH_ENTROPY", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "value {}"),
    ],
)
def test_each_type_is_redacted(kind: str, value: str, sentence: str) -> None:
    result = REDACTOR.redact(sentence.format(value))
    assert value not in result.text
    assert result.counts == {kind: 1}
    assert REDACTOR.placeholder(kind, value) in result.text


def test_private_key_block_and_truncated_block() -> None:
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA7b\nq1w2e3r4\n-----END RSA PRIVATE KEY-----"
    result = REDACTOR.redact(f"loaded\n{block}\nready")
    assert result.counts == {"PRIVATE_KEY": 1} and result.text.endswith("\nready")
    cut = REDACTOR.redact("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA")
    assert "b3BlbnNz" not in cut.text


def test_same_value_same_placeholder_and_keyed_by_task() -> None:
    text = "from ops@example.com to dev@example.com, cc ops@example.com"
    out = redacted(text)
    placeholders = [p for p in out.split() if p.startswith("[EMAIL:")]
    assert placeholders[0].rstrip(",") == placeholders[2] != placeholders[1].rstrip(",")
    # A restarted operator derives the same key from the task uid; another task gets other placeholders.
    assert Redactor(task_key("uid-1")).redact(text).text == out
    assert Redactor(task_key("uid-2")).redact(text).text != out
    assert Redactor(task_key("uid-1", b"operator secret")).redact(text).text != out


def test_a_placeholder_is_the_documented_hmac_of_its_type_and_value() -> None:
    """The keyed HMAC is copied per value (redaction.py): the placeholder is still HMAC-SHA256(key, type NUL
    value), its first four bytes in hex, so placeholders written before that change are found again."""
    key = task_key("uid-1")
    digest = hmac.digest(key, b"EMAIL\0ops@example.com", "sha256")
    assert Redactor(key).placeholder("EMAIL", "ops@example.com") == f"[EMAIL:{digest[:4].hex()}]"
    # The copies do not share state: the same value twice, and another value between, agree.
    redactor = Redactor(key)
    first = redactor.placeholder("EMAIL", "ops@example.com")
    assert redactor.placeholder("PHONE", "+44 20 7946 0958") != first
    assert redactor.placeholder("EMAIL", "ops@example.com") == first


def test_redaction_is_idempotent() -> None:
    once = redacted("mail a@b.io, card 4111111111111111, ip 192.168.0.1, password: correcthorse")
    assert redacted(once) == once


def test_checksums() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE89370400440532013001")
    assert ssn_ok("123", "45", "6789")
    assert not any(
        ssn_ok(*parts)
        for parts in [
            ("000", "12", "3456"),
            ("666", "12", "3456"),
            ("912", "12", "3456"),
            ("123", "00", "4567"),
            ("123", "45", "0000"),
        ]
    )


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 failed Luhn",
        "IBAN DE89 3704 0044 0532 0130 01 has a wrong check digit",
        "SSN 000-12-3456 is not issued",
        "version 1.2.3.4, v10.0.0.1, pip install pkg==2.0.1.3",
        "Processed 1234567890 rows in 12.53s on 2024-01-15 at 12:30:45",
        "Total: $1,234.56 (up 3.2%), mean -0.347946, coordinates 86.9396715, 142.599029",
        "15.07.2018 15:03:27 Lieferung 76560 erfasst",
        "request id 4a2f20aa-f3c6-4af7-b5a8-9294c2cd789a completed",
        "sha256: 3dfe721bf15912f806e5d98677edb1701fa6449b1ead1e29ac2e178cfd5b0716",
        "commit 3dfe721bf15912f806e5d98677edb1701fa6449b",
        "3dfe721bf15912f806e5d98677edb1701fa6449b1ead1e29ac2e178cfd5b0716  data.csv",
        "ISBN 978-0-8377-8353-6, postcode 663-0116, order 1234 5678 9012 3456",
        "wrote /usr/lib/python3.11/site-packages/numpy/core.py (4884813 bytes)",
        "class AbstractBaseHTTPRequestHandler2: getUserAccountDetails2024 = None",
        "max_tokens=100; token_count = 42; password = os.environ['DB_PASSWORD']; token = get_token()",
        "std::vector<int> v; 12:30:45",
        "Traceback (most recent call last):\n  File \"/output/main.py\", line 3, in <module>\nKeyError: 'x'",
    ],
)
def test_benign_text_is_left_alone(text: str) -> None:
    assert redacted(text) == text


def test_redact_obj_walks_nested_values() -> None:
    obj = {"user": {"email": "x@example.org", "tags": ["ip 8.8.8.8", 3]}, "n": 1.5}
    out = REDACTOR.redact_obj(obj)
    assert json.dumps(out).count("[EMAIL:") == 1 and "8.8.8.8" not in json.dumps(out)
    assert isinstance(out, dict) and out["n"] == 1.5


def test_cli_redact_with_report() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "level5.tools.cli", "redact", "--report", "--key", "k"],
        input="mail me at jo@example.com or jo@example.com\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert "jo@example.com" not in done.stdout and done.stdout.endswith("\n")
    assert json.loads(done.stderr) == {"counts": {"EMAIL": 2}, "total": 2}


def test_eval_figures_cover_every_kind() -> None:
    rates = redaction_rates()
    kinds = {"EMAIL", "PHONE", "CREDIT_CARD", "SSN", "IBAN", "IP_ADDRESS", "JWT", "PERSON", "ADDRESS"}
    assert kinds <= set(rates.per_type)
    heldout = {f.name for f in redaction_figures() if f.split == "heldout"}
    assert {"PERSON", "ADDRESS", "PHONE", "CREDIT_CARD", "IBAN", "clean text"} <= heldout


def test_redaction_corpus_files_match_their_generator() -> None:
    """tests/corpora/redaction/*.jsonl are generated (make corpora); never edited by hand. Generated here
    as if on a day long after the files were, since Faker's dates count back from now: the corpus must not
    depend on the day CI runs."""
    import time_machine

    from corpora.redaction_corpus import OUTPUT, render

    with time_machine.travel(datetime(2029, 7, 15, 13, 5, tzinfo=UTC), tick=False):
        rendered = render()
    for name, text in rendered.items():
        assert (OUTPUT / name).read_text(encoding="utf-8") == text, f"run: make corpora ({name} drifted)"


@pytest.mark.parametrize(
    ("kind", "value", "sentence"),
    [
        ("PERSON", "Guillaume Humbert du Cordier", "Customer {} placed order 1182"),
        ("PERSON", "Karsten Wieloch-Bolnbach", "Dear {},\nyour order has shipped."),
        ("PERSON", "Kato", "Name: {}"),
        ("ADDRESS", "Wesackstraße 26-83\n66907 Werdau", "Ship to:\n{}"),
        ("ADDRESS", "7631 Johnson Village Suite 690, Adamsbury, OR 13900", "Address: {}"),
        ("ADDRESS", "8, avenue Manon Gillet\n97636 Sainte Antoinenec", "{}"),
        ("PHONE", "01144960303", "Tel: {}"),
        ("PHONE", "001-959-930-4707x62344", "call {}"),
        ("CREDIT_CARD", "501808063603", "paid by Maestro {}"),
        ("IBAN", "DE89 3704 0044 0532 0130 00", "IBAN {} BIC COBADEFFXXX"),
    ],
)
def test_people_places_national_phones_maestro_and_iban_retry(kind: str, value: str, sentence: str) -> None:
    result = REDACTOR.redact(sentence.format(value))
    assert value not in result.text and result.counts == {kind: 1}, result.text


@pytest.mark.parametrize(
    "text",
    [
        "order ORD-2024-000123 shipped",
        "invoice INV-2023-884512 paid",
        "SKU 4326097313535 restocked",
        "Name: total_revenue, dtype: float64",
        "Customer count: 120",
        "ship to region: EMEA (5960 parcels)",
        "Processed 126697767 rows",
    ],
)
def test_ids_and_labels_without_people_are_left_alone(text: str) -> None:
    assert redacted(text) == text


@pytest.mark.parametrize(
    ("value", "sentence"),
    [
        ("Ingrid Sæmundsdóttir", "employee_name;dept\n{};finance"),  # a CSV column that names a role
        ("Ingrid Sæmundsdóttir", '{{"contact_person": "{}", "tier": 2}}'),  # a JSON key
        ("Ingrid Sæmundsdóttir", "Warm regards,\n{}\nHead of Sales"),  # a sign-off, then the name line
        ("Ingrid Sæmundsdóttir", "Prof. {} will review it."),  # a title
        ("Ingrid Sæmundsdóttir", "{} <ingrid@example.is> wrote:"),  # a display name
        ("Ingrid Sæmundsdóttir", "reviewed by {} yesterday"),  # a role followed by two words
    ],
)
def test_names_are_found_by_their_structure(value: str, sentence: str) -> None:
    result = REDACTOR.redact(sentence.format(value))
    assert value not in result.text and result.counts.get("PERSON") == 1, result.text


@pytest.mark.parametrize(
    "text",
    [
        "Best regards,\nThe Data Team",
        "Dear Customer, your invoice is attached.",
        "Approved by Finance on 2024-03-02",
        "name,count\nalpha,3\nbeta,4",
        "Prepared by Quarterly Reporting Pipeline v2",
        "owner: platform-team",
    ],
)
def test_groups_and_code_in_person_places_are_left_alone(text: str) -> None:
    assert redacted(text) == text


@pytest.mark.parametrize(
    "value",
    ["Laugavegur 12\n101 Reykjavík", "Laugavegur 12, 101 Reykjavík", "412 Harbour Reach\nPortree\nIV51 9EH"],
)
def test_addresses_in_any_street_vocabulary(value: str) -> None:
    """A street line ending (or starting) with a house number, then a postcode and a town."""
    result = REDACTOR.redact(f"sent from {value} by post")
    assert "Laugavegur" not in result.text and "Harbour" not in result.text and "ADDRESS" in result.counts


def test_offsets_hold_in_text_that_is_not_ascii() -> None:
    """The prefilter scans one byte per character, so values after CJK or Greek text are cut exactly."""
    text = "結果: 合計 ✓ Σ=3 — contact jo@example.com, 電話 +81 3-1234-5678; ok"
    out = redacted(text)
    assert out.startswith("結果: 合計 ✓ Σ=3 — contact [EMAIL:") and out.endswith("; ok")
    assert "+81" not in out and "[PHONE:" in out


def test_tuning_half_figures() -> None:
    """The bars on the tuning half only (held-out figures are printed by eval-safety, never tuned on)."""
    tuning = {f.name: f for f in redaction_figures() if f.split == "tuning"}
    for kind in ("PERSON", "ADDRESS", "CREDIT_CARD", "IBAN", "EMAIL", "IP_ADDRESS", "SSN"):
        assert tuning[kind].rate >= 0.95, (kind, tuning[kind].failures)
    assert tuning["PHONE"].rate >= 0.9, tuning["PHONE"].failures
    assert tuning["clean text"].rate >= 0.99, tuning["clean text"].failures
    splits = {f.split for f in redaction_figures()}
    rounds = ("tuning", "heldout", "heldout2", "tuning3", "heldout3", "heldout4", "heldout5", "heldout6")
    assert splits == {
        *rounds,
        "tuning6e",
        "heldout6e",
        "tuning7",
        "heldout7",
        "tuning8",
        "heldout8",
        "tuning11",
        "heldout11",
        "tuning12",
        "heldout12",
        "tuning12c",
        "heldout12c",
        "tuning13",
        "heldout13",
        "tuning15",
        "heldout15",
    }
    kinds = {"PERSON", "ADDRESS", "PHONE", "EMAIL", "SSN", "IBAN", "CREDIT_CARD", "clean text"}
    for halves in (("tuning7", "heldout7"), ("tuning8", "heldout8")):
        # rounds 7 and 8 are split by technique, every kind in both halves
        names = [{f.name for f in redaction_figures() if f.split == half} for half in halves]
        assert names[0] == names[1] == kinds, (halves, names)


def _held_out_round(split: str) -> dict[str, int]:
    """A held-out-only round's cases per kind; it must have no tuning half."""
    assert not [f for f in redaction_figures() if f.split == split.replace("heldout", "tuning")]
    return {f.name: f.total for f in redaction_figures() if f.split == split}


@pytest.mark.parametrize("split", ["heldout4", "heldout5"])
def test_blind_rounds_are_held_out_only_and_cover_every_kind(split: str) -> None:
    """Rounds 4 and 5 (2026-12-01, outside evaluators) have no tuning half: at least 150 cases, personal
    data of every kind in program output, and at least 50 clean look-alikes."""
    counts = _held_out_round(split)
    assert sum(counts.values()) >= 150
    for kind in ("PERSON", "ADDRESS", "PHONE", "IBAN", "CREDIT_CARD", "EMAIL", "SSN"):
        assert counts.get(kind, 0) >= 15, (kind, counts)
    assert counts["clean text"] >= 50


def test_blind_round_6_is_held_out_only_and_plants_personal_data() -> None:
    """Round 6 (2026-12-01, a third outside evaluator, blind) has no tuning half: at least 200 planted values
    of the personal kinds (names, addresses, phones, e-mails, identity numbers of many countries; no cards)
    and at least 60 clean look-alikes."""
    counts = _held_out_round("heldout6")
    assert sum(n for kind, n in counts.items() if kind != "clean text") >= 200
    for kind in ("PERSON", "ADDRESS", "PHONE", "EMAIL", "SSN"):
        assert counts.get(kind, 0) >= 40, (kind, counts)
    assert counts["clean text"] >= 60


def test_the_prefilter_loses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each trigger is a superset of its detector's values: on the tuning halves of the corpora (every
    second text), redacting with the one-pass prefilter gives the same text as trying every detector at
    every position."""
    from level5.safety import redaction
    from level5.tools.safety_eval import DEFAULT_CORPORA

    rows = [
        json.loads(line)
        for name in ("sensitive.jsonl", "benign.jsonl")
        for line in (DEFAULT_CORPORA / "redaction" / name).read_text(encoding="utf-8").splitlines()
    ]
    texts = [str(row["text"]) for row in rows if row["split"] in ("tuning", "tuning3")][::2]
    with_prefilter = [redacted(text) for text in texts]
    names = redaction._PREFILTER.names
    monkeypatch.setattr(
        redaction._PREFILTER,
        "scan",
        lambda text: {name: [(i, i + 1) for i in range(len(text))] for name in names},
    )
    everywhere = [redacted(text) for text in texts]
    assert [t for t, a, b in zip(texts, with_prefilter, everywhere, strict=True) if a != b] == []


@pytest.mark.parametrize(
    "value",
    ["Drumul Toma Nr. 155 Bl. 29  Sc. 36 Ap. 432, Glina, 190381", "Via Roma, 12, Centro, 00184 Roma"],
)
def test_one_line_addresses_with_comma_fields(value: str) -> None:
    """Comma-separated fields ending in a postcode, in any street vocabulary."""
    out = redacted(f"the parcel goes to {value} tomorrow")
    assert "Glina" not in out and "Centro" not in out and "[ADDRESS:" in out


def test_csv_rows_are_not_comma_addresses() -> None:
    """A CSV row has no space after its commas."""
    text = "name,city,zip\nalpha,Berlin,10115"
    assert redacted(text) == text


def test_prefilter_windows_hold_the_real_start() -> None:
    """A trigger with a width reports its end exactly and a start at most `width` before it; width 0, the
    start of the match's line; no width, the exact start."""
    from level5.safety.prefilter import Prefilter, Trigger

    prefilter = Prefilter(
        (
            Trigger("fixed", r"id-\d{3}", width=6),
            Trigger("line", r"key=[a-z]+;", width=0),
            Trigger("exact", r"tel \d+"),
        )
    )
    text = "first line\nsee id-123 and key=abc; or tel 42"
    hits = prefilter.scan(text)
    start = text.index("id-123")
    assert hits["fixed"] == [(start, start + 6)]
    assert hits["line"] == [(text.index("see"), text.index(";") + 1)]
    assert hits["exact"][-1] == (text.index("tel"), len(text))


def test_a_dotted_capital_i_keeps_offsets_and_caseless_labels() -> None:
    """The dotted capital "İ" is the one character whose lower case is longer; the caseless patterns
    still find their labels in such a text and cut values at the right place."""
    text = "İzmir İİ: Password = 'hunter2-secret' and Dear Maria Rossi, ship to İstanbul"
    out = redacted(text)
    assert out.startswith("İzmir İİ: Password = '[SECRET:") and "hunter2" not in out
    assert "Dear [PERSON:" in out and "Rossi" not in out and out.endswith(", ship to İstanbul")


def test_word_lists_report_exact_spans_of_every_occurrence() -> None:
    """A word list is matched literally, case-sensitively, inside words too; a character outside Latin-1
    is matched by any other such character (the scanned bytes hold "?" for both)."""
    from level5.safety.prefilter import Prefilter, Trigger, Words

    prefilter = Prefilter((Trigger("digit", r"\d"),), (Words("names", frozenset({"Ann ", "Łukasz "})),))
    text = "Ann Lee, JoAnn Ward, ann Li, Żukasz Nowak"
    hits = prefilter.scan(text)
    assert [text[s:e] for s, e in hits["names"]] == ["Ann ", "Ann ", "Żukasz "]
    assert "names" in prefilter.names


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Wczoraj Łukasz Nowak oddzwonił.", "Łukasz Nowak"),  # a capital outside Latin-1
        ("then Ольга Петрова called back", "Ольга Петрова"),
    ],
)
def test_first_names_with_any_capital_in_running_text(text: str, name: str) -> None:
    out = redacted(text)
    assert name not in out and "[PERSON:" in out


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("phone: 4155552671 and later 4155552671 again", "later 4155552671 again"),
        ("then 4155552671 and phone: 4155552671", "then 4155552671 and"),
    ],
)
def test_a_repeated_digit_run_is_a_phone_number_only_under_a_label(text: str, left: str) -> None:
    """libphonenumber's answer is asked once per candidate in a text: the label is part of what is asked,
    so the same digits without a label stay, in either order."""
    result = REDACTOR.redact(text)
    assert left in result.text and result.counts == {"PHONE": 1}


def test_a_repeated_value_gets_one_placeholder_every_time() -> None:
    """A placeholder is computed once per value in a text, and stays the same for every occurrence."""
    out = redacted("call 415-555-2671, 415-555-2671 or mail a@example.org, a@example.org")
    phones, emails = re.findall(r"\[PHONE:\w+\]", out), re.findall(r"\[EMAIL:\w+\]", out)
    assert len(phones) == len(emails) == 2 and len(set(phones)) == len(set(emails)) == 1


def test_literal_search_finds_what_the_alternation_finds() -> None:
    """The literal search for words in other scripts (Hyperscan over UTF-8) gives the spans that
    ``finditer`` of the words' alternation, longest first, gives: leftmost, longest, not overlapping."""
    from level5.safety.prefilter import Literals
    from level5.safety.redaction import _SCRIPT_WORD_FORMS

    words = ["ab", "abc", "bcd", "住所", "住", "所在地", "ул.", "\ud800x"]
    alternation = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))
    text = "xabcd 住所在地 abcbcd ул.ул. é住所\ud800x abc"
    expected = [(m.start(), m.end()) for m in alternation.finditer(text)]
    assert Literals(words).spans(text) == expected and len(expected) == 9
    forms = re.compile("|".join(re.escape(w) for w in _SCRIPT_WORD_FORMS))
    sample = "氏名: 山田太郎\n住所: 東京都港区1-2-3\nИмя: Ольга, ул. Ленина 5\nשם: דנה כהן, רחוב הרצל 12\n"
    assert Literals(_SCRIPT_WORD_FORMS).spans(sample) == [
        (m.start(), m.end()) for m in forms.finditer(sample)
    ]


def test_an_identity_format_that_fails_inside_is_no_match() -> None:
    """python-stdnum 2.2's Chinese check raises KeyError for a Hong Kong birthplace code (81...) instead
    of answering: the redaction must still finish, leaving such a number as it is."""
    text = "身份证号: 810675441911198184 and 810675441911198184"
    assert redacted(text).endswith("810675441911198184 and 810675441911198184")


def test_iban_prefix_search_agrees_with_the_checksum_of_each_prefix() -> None:
    """The one-pass remainders pick the prefix that checking every prefix with iban_ok picks."""
    import random

    from level5.safety.redaction import _IBAN, _IBAN_MIN, _iban_end

    def each_prefix(candidate: str) -> int | None:
        for end in range(len(candidate), _IBAN_MIN - 1, -1):
            if candidate[end - 1] != " " and iban_ok(candidate[:end].replace(" ", "")):
                return end
        return None

    rng = random.Random(15)
    letters, digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789"
    candidates = ["DE89 3704 0044 0532 0130 00 BIC", "GB82WEST12345698765432", "NO9386011117947"]
    for _ in range(20_000):
        body = "".join(
            (" " if rng.random() < 0.2 else "") + rng.choice(digits if rng.random() < 0.7 else letters)
            for _ in range(rng.randrange(10, 40))
        )
        candidates.append(
            rng.choice(letters) + rng.choice(letters) + rng.choice(digits) + rng.choice(digits) + body
        )
    matches = [m.group() for c in candidates if (m := _IBAN.match(c))]
    found = [_iban_end(c) for c in matches]
    assert found == [each_prefix(c) for c in matches]
    assert found[:3] == [27, 22, 15] and sum(end is not None for end in found) > 1_000


def test_unrepeated_text_is_the_mixed_text_with_new_digits() -> None:
    """The benchmark's second text: the same characters but digits, the same on every run, and no line
    holding a number repeated (the mixed text repeats one unit)."""
    from level5.tools.safety_eval import DEFAULT_CORPORA, mixed_text, unrepeated_text

    # 600,000 characters: the corpus's clean program outputs of round 12 (many lines each) make one unit of
    # the mixed text longer, and its repeats start later.
    mixed, text = mixed_text(DEFAULT_CORPORA, 600_000), unrepeated_text(DEFAULT_CORPORA, 600_000)
    assert text == unrepeated_text(DEFAULT_CORPORA, 600_000) and len(text) == len(mixed)
    assert re.sub(r"\d", "0", text) == re.sub(r"\d", "0", mixed) and text != mixed
    numbered = [line for line in text.split("\n") if re.search(r"\d{3}", line)]
    assert len(set(numbered)) > 0.99 * len(numbered)
    assert len(set(line for line in mixed.split("\n") if re.search(r"\d{3}", line))) < 0.5 * len(numbered)


def test_luhn_by_slices_agrees_with_the_digit_loop() -> None:
    """luhn_ok sums two slices; the textbook loop over the digits from the right gives the same answer."""
    import random

    def digit_loop(digits: str) -> bool:
        total = 0
        for i, ch in enumerate(reversed(digits)):
            doubled = int(ch) * (2 if i % 2 else 1)
            total += doubled - 9 if doubled > 9 else doubled
        return total % 10 == 0

    rng = random.Random(25)
    numbers = ["", "0", "79927398713", "4111111111111111", "\u0664\u0661\u0661\u0661"]
    numbers += ["".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 20))) for _ in range(20_000)]
    answers = [luhn_ok(n) for n in numbers]
    assert answers == [digit_loop(n) for n in numbers]
    assert 1_500 < sum(answers) < 2_600  # about one in ten passes


@pytest.mark.parametrize("enabled", [True, False])
def test_redaction_leaves_the_garbage_collector_as_it_found_it(enabled: bool) -> None:
    """The cyclic collector is paused during a redaction and then restored: on when it was on, still off
    when the caller had paused it, also when the redaction raises."""
    import gc

    redactor = Redactor(b"k")
    (gc.enable if enabled else gc.disable)()
    try:
        assert redactor.redact("call +44 20 7946 0000").counts == {"PHONE": 1}
        assert gc.isenabled() is enabled
        with pytest.raises(TypeError):
            redactor.redact(None)  # type: ignore[arg-type]
        assert gc.isenabled() is enabled
    finally:
        gc.enable()


def test_lead_lookahead_keeps_an_alternations_matches() -> None:
    """The look-ahead put before a long alternation holds wherever one of its words starts (a space
    second may be any join), so the pattern finds what it found without it."""
    from level5.safety import identity
    from level5.safety.redaction import lead

    assert lead(["name", "nip", "dear"]) == "(?=[dn][aei])"
    assert lead(["a b", "cd"]) == r"(?=[ac][\ \-\._bd])"
    assert lead(["x", "yz"]) == "(?=[xy])"  # a one-letter word: only the first character is known
    labels = frozenset({"national id", "n i", "bsn", "id no", "t.c. kimlik no."})
    plain = re.compile(rf"(?<![^\W_])(?:{identity.label_pattern(labels)})(?![^\W_])")
    led = re.compile(lead(labels) + plain.pattern)
    text = "national_id: 1; n-i 2; n.i3; bsn=4; id no. 5; t.c. kimlik no. 6; xbsn; national-id"
    assert [m.span() for m in led.finditer(text)] == [m.span() for m in plain.finditer(text)]
    assert len(list(led.finditer(text))) == 6


def test_name_kept_per_line_is_the_name_read_in_place() -> None:
    """_name_at keeps its answer for the rest of a short line (and the character before it): at every
    word of the corpora's texts, with and without a cell's limit, it is the answer read in place."""
    from pathlib import Path

    from level5.safety.redaction import _name_at, _name_length

    corpus = Path(__file__).parents[1] / "corpora" / "redaction"
    texts = [
        str(json.loads(line)["text"])
        for name in ("sensitive.jsonl", "benign.jsonl")
        for line in (corpus / name).read_text(encoding="utf-8").splitlines()
    ]
    texts += ["Name: Ann Lee:x", "Dear 'Ann O'Neil'\nBob", "Ann Lee", "prof.  \t Ann Lee Name=Bo"]
    checked = 0
    for text in texts:
        for m in re.finditer(r"(?<!\w)[^\W\d_]", text):
            start = m.start()
            for limit in (None, start + 8, len(text) + 5):
                for min_words in (1, 2):
                    span = _name_at(text, start, min_words, 35, limit)
                    length = _name_length(text, start, min_words, limit)
                    assert (span.end - start if span else None) == length, (text, start, limit)
                    checked += 1
    assert checked > 100_000
