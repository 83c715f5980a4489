"""A labelled corpus for measuring redaction (layer 5), generated with Faker (a pinned development dependency)
and a fixed seed into tests/corpora/redaction/: `python tests/corpora/redaction_corpus.py` (`make corpora`)
writes sensitive.jsonl and benign.jsonl, which `level5 eval-safety` reads; a unit test fails when they drift
from what this generator makes.

Sensitive samples plant one value of a known type in a realistic sentence (locales en_US, en_GB, de_DE,
fr_FR, ja_JP, es_ES); benign samples hold the look-alikes a program's output is full of (numbers, dates,
prices, versions, code, labelled hashes, UUIDs, ISBNs, paths) and must come back unchanged. Credentials
are built in their vendors' published shapes from the seeded random source, never taken from anywhere.

Every sample carries a ``split``. The first corpus (the six locales above, structured identifiers only) is
the ``tuning`` half, together with the personal names, postal addresses, national phone digit runs,
Maestro cards and order-id look-alikes of ``TUNING_LOCALES`` in ``TUNING_TEMPLATES``. The ``heldout``
half (split 2026-11-30, before any detector was changed for it) plants every kind in locales the
detectors were never tuned on, in sentences and labels of their own (``HELDOUT_TEMPLATES``), with
look-alikes of its own; its figures are only read, never tuned on.

Round 4 (split ``heldout4``, 2026-12-01) was written by an outside evaluator who does not write the
detectors and is held out only, with no tuning half: made-up records in ten new locales printed as programs
print them (``round4_records``), hand-written values in national formats (``ROUND4_HANDWRITTEN``), and clean
look-alikes (``ROUND4_CLEAN``, ``round4_clean_generated``).

Round 6 (split ``heldout6``, 2026-12-01) was written blind by a third outside evaluator, held out only:
made-up people in 20 locales printed in new program-output formats and under each locale's own field labels
(``round6_records``), hand-written names and addresses in their own scripts, checksummed identity numbers of
18 more countries and libphonenumber-valid mobiles of 14 (``round6_handwritten``), and clean look-alikes
(``ROUND6_CLEAN``, ``round6_clean_generated``).

Round 7 (splits ``tuning7`` and ``heldout7``, 2026-12-01) was written blind by a fourth outside evaluator and
split by technique before it was measured: each half has its own locales, program-output formats, identity
numbers and clean look-alike groups (``round7_records``, ``ROUND7_TUNING_CLEAN``, ``ROUND7_HELDOUT_CLEAN``,
``round7_clean_generated``); the comment above ``ROUND7_SEED`` lists them.

Round 8 (splits ``tuning8`` and ``heldout8``, 2026-12-01) was written blind by a fifth outside evaluator and
split by technique before it was measured, like round 7, with locales, formats, identity numbers and clean
look-alike groups of its own (``round8_records``, ``ROUND8_TUNING_CLEAN``, ``ROUND8_HELDOUT_CLEAN``,
``round8_clean_generated``); the comment above ``ROUND8_SEED`` lists them.

Round 11 (splits ``tuning11`` and ``heldout11``, 2026-12-02) was written blind by a ninth outside evaluator
with a script of its own (Faker in 22 locales, seed 11011, and hand-written values); its rows are kept as
written in ``redaction_round11/`` and copied to the end of the corpus files (``outside_rows``). Round 12
(splits ``tuning12`` and ``heldout12``, 2026-12-02), written blind by a tenth outside evaluator the same way
(Faker and python-stdnum-checked identifiers, ``round12_redaction_techniques.md``), follows it from
``redaction_round12/``, and then 160 clean program outputs in 32 categories (splits ``tuning12c`` and
``heldout12c``, ``round12_clean_techniques.md``) from ``redaction_clean12/``.
"""

from __future__ import annotations

import base64
import importlib
import json
import string
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from random import Random

import phonenumbers
import time_machine
from faker import Faker
from faker.decode import unidecode
from stdnum import iban as stdnum_iban
from stdnum import luhn

try:
    from corpora.generalisation_corpus import CORPUS_DAY, heldout6e, tuning6e
except ImportError:  # run as a script, from its own folder
    from generalisation_corpus import CORPUS_DAY, heldout6e, tuning6e  # type: ignore[no-redef]

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "ja_JP", "es_ES")
SEED = 20240501
EPOCH = datetime(2022, 1, 1)  # naive on purpose, like the log lines it stands for
SAMPLES_PER_LOCALE = 12

_TEMPLATES = (
    "Customer record updated: {value} (see ticket #4821).",
    "ERROR 2024-03-11 09:14:02 could not deliver to {value}, retrying in 30s",
    "Bitte kontaktieren Sie {value} für Rückfragen.",
    "Merci d'envoyer la facture à {value} avant vendredi.",
    "row 17: name=Kato, contact={value}, status=active",
    "{value}",
    "Se ha registrado el valor {value} en la base de datos.",
)


@dataclass(frozen=True)
class Planted:
    """A sentence holding one sensitive value of a known type."""

    kind: str
    value: str
    text: str


def _alnum(rng: Random, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(payload: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _grouped(digits: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(digits[i : i + size] for i in range(0, len(digits), size))


def _secrets(fake: Faker, rng: Random) -> Iterator[tuple[str, str, str]]:
    """(kind, value, text) for each credential shape; the text is how programs typically print it."""
    upper = string.ascii_uppercase + string.digits
    aws = rng.choice(["AKIA", "ASIA"]) + _alnum(rng, 16, upper)
    yield "AWS_ACCESS_KEY", aws, f"Using access key {aws} for bucket uploads"
    aws_secret = _alnum(rng, 40, string.ascii_letters + string.digits + "/+")
    yield "SECRET", aws_secret, f"aws_secret_access_key = {aws_secret}"
    github = rng.choice(["ghp_", "gho_"]) + _alnum(rng, 36)
    yield "GITHUB_TOKEN", github, f"git remote uses token {github}"
    pat = "github_pat_" + _alnum(rng, 22) + "_" + _alnum(rng, 59)
    yield "GITHUB_TOKEN", pat, f"GH_TOKEN set to {pat}"
    slack = f"xox{rng.choice('abpr')}-{_alnum(rng, 12, string.digits)}-{_alnum(rng, 24)}"
    yield "SLACK_TOKEN", slack, f"posting to #alerts with {slack}"
    stripe = rng.choice(["sk_live_", "rk_live_"]) + _alnum(rng, 24)
    yield "STRIPE_KEY", stripe, f"stripe.api_key configured: {stripe}"
    google = "AIza" + _alnum(rng, 35, string.ascii_letters + string.digits + "_-")
    yield "GOOGLE_API_KEY", google, f"maps request ?key={google}&q=Berlin"
    openai = "sk-proj-" + _alnum(rng, 48, string.ascii_letters + string.digits + "_-")
    yield "OPENAI_KEY", openai, f"client = OpenAI(api_key={openai!r})"
    claims = {
        "sub": fake.user_name(),
        "email": fake.email(),
        "iat": rng.randrange(1_600_000_000, 1_800_000_000),
    }
    signature = base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")
    jwt = f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url(claims)}.{signature}"
    yield "JWT", jwt, f"session restored from {jwt}"
    body = base64.encodebytes(rng.randbytes(180)).decode()
    key = f"-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----"
    yield "PRIVATE_KEY", key, f"loaded key:\n{key}\ndone"
    bearer = _alnum(rng, 40, string.ascii_letters + string.digits + "._-")
    yield "BEARER_TOKEN", bearer, f"GET /v1/items HTTP/1.1\nAuthorization: Bearer {bearer}"
    password = fake.password(length=14)
    yield "SECRET", password, f'db config: {{"host": "db", "password": "{password}"}}'
    token = _alnum(rng, 32)
    yield "SECRET", token, f"export API_TOKEN={token}"
    entropy = base64.b64encode(rng.randbytes(30)).decode()
    yield "HIGH_ENTROPY", entropy, f"the server returned {entropy} as the upload handle"


def _pii(fake: Faker, locale: str) -> Iterator[tuple[str, str]]:
    """(kind, value) for each kind of personal data the locale's providers can make."""
    yield "EMAIL", fake.email()
    yield "PHONE", fake.phone_number()
    card = fake.credit_card_number()
    # People group 16-digit numbers in fours; other lengths are written as printed by Faker.
    yield "CREDIT_CARD", _grouped(card) if len(card) == 16 and fake.boolean() else card
    yield "IP_ADDRESS", fake.ipv4()
    yield "IP_ADDRESS", fake.ipv6()
    if locale == "en_US":
        yield "SSN", fake.ssn()
    if locale != "ja_JP":  # Faker's ja_JP has no IBAN provider
        iban = fake.iban()
        yield "IBAN", _grouped(iban) if fake.boolean() else iban


def sensitive_samples(seed: int = SEED) -> list[Planted]:
    """Every PII kind in every locale several times, plus each credential shape several times."""
    samples: list[Planted] = []
    for index, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        rng = Random(seed + index)
        for _ in range(SAMPLES_PER_LOCALE // 4):
            samples += [Planted(kind, value, text) for kind, value, text in _secrets(fake, rng)]
        for n in range(SAMPLES_PER_LOCALE):
            for kind, value in _pii(fake, locale):
                template = _TEMPLATES[(n + len(samples)) % len(_TEMPLATES)]
                samples.append(Planted(kind, value, template.format(value=value)))
    return samples


def _benign_lines(fake: Faker, rng: Random) -> Iterator[str]:
    # Faker's own dates are relative to today; the corpus must be the same file every day.
    def moment() -> datetime:
        return EPOCH + timedelta(seconds=rng.randrange(3 * 365 * 86400), microseconds=rng.randrange(10**6))

    makers: tuple[Callable[[], str], ...] = (
        lambda: f"Processed {rng.randrange(10**9)} rows in {rng.uniform(0, 99):.2f}s",
        lambda: f"Total revenue: {fake.pricetag()} (up {rng.uniform(0, 40):.1f}% on {moment().date()})",
        lambda: f"{moment().isoformat()} INFO job {rng.randrange(10**6)} finished",
        lambda: f"{moment():%d.%m.%Y %H:%M:%S} Lieferung {rng.randrange(10**5)} erfasst",
        lambda: (
            f"Running Python {rng.randrange(3, 4)}.{rng.randrange(8, 14)}.{rng.randrange(10)} "
            f"with numpy=={rng.randrange(1, 3)}.{rng.randrange(30)}.{rng.randrange(10)}"
        ),
        lambda: (
            f"package version {rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(10)}.{rng.randrange(99)}"
        ),
        lambda: f"sha256: {fake.sha256()}",
        lambda: f"commit {fake.sha1()}\nAuthor: build bot",
        lambda: f"{fake.sha256()}  {fake.file_name(extension='csv')}",
        lambda: f"request id {fake.uuid4()} completed",
        lambda: f"ISBN {fake.isbn13()}: {fake.catch_phrase()}",
        lambda: f"wrote {fake.file_path(depth=3)} ({rng.randrange(10**7)} bytes)",
        lambda: f"for i in range({rng.randrange(100)}):\n    total += values[i] * {rng.uniform(0, 9):.3f}",
        lambda: f"token_count = {rng.randrange(5000)}; max_tokens={rng.randrange(4096)}",
        lambda: f"password = os.environ[{fake.word().upper()!r}]",
        lambda: f"matrix shape ({rng.randrange(999)}, {rng.randrange(999)}), mean {rng.gauss(0, 5):.6f}",
        lambda: f"order {rng.randrange(10**7, 10**8)} shipped to postcode {fake.postcode()}",
        lambda: f"coordinates {fake.latitude()}, {fake.longitude()}",
        lambda: fake.sentence(nb_words=12),
        lambda: f"see {fake.url()} for the {fake.word()} report",
        lambda: (
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d} "
            f"step {rng.randrange(99)}"
        ),
        lambda: f"class {fake.word().capitalize()}Handler(BaseHTTPRequestHandler): pass",
    )
    for make in makers:
        yield make()


def benign_samples(seed: int = SEED) -> list[str]:
    """Look-alikes of sensitive values that redaction must leave alone, in every locale."""
    samples: list[str] = []
    for index, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + 100 + index)
        rng = Random(seed + 100 + index)
        for _ in range(SAMPLES_PER_LOCALE // 3):
            samples += _benign_lines(fake, rng)
    return samples


TUNING_LOCALES = ("en_US", "de_DE", "fr_FR", "en_GB")
HELDOUT_LOCALES = ("it_IT", "nl_NL", "pl_PL", "en_AU", "pt_PT", "es_ES")
PHONE_REGION = {
    "en_US": "US",
    "de_DE": "DE",
    "fr_FR": "FR",
    "en_GB": "GB",
    "it_IT": "IT",
    "nl_NL": "NL",
    "pl_PL": "PL",
    "en_AU": "AU",
    "pt_PT": "PT",
    "es_ES": "ES",
}
TUNING_TEMPLATES: dict[str, tuple[str, ...]] = {
    "PERSON": (
        "Name: {value}",
        "Dear {value},\nyour order has shipped.",
        "Customer {value} placed order 1182",
        "ship to: {value}",
        "row 4: name={value}, status=active",
    ),
    "ADDRESS": ("Ship to:\n{value}", "Address: {value}", "customer moved to {value} last year"),
    "PHONE_DIGITS": ("Tel: {value}", "phone={value}", "Mobile {value} (evenings)"),
    "MAESTRO": ("paid by Maestro {value}", "card number: {value}"),
}
HELDOUT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "PERSON": (
        "Contact person: {value}",
        "Attn: {value}",
        "Hello {value}, thanks for your message.",
        "Recipient: {value}",
        "Patient {value} was discharged on Monday.",
        "Cliente: {value}",
    ),
    "ADDRESS": (
        "Deliver to: {value}",
        "billing address:\n{value}",
        "Our office is now at {value}.",
        "Indirizzo: {value}",
    ),
    "PHONE_DIGITS": ("Telefon: {value}", "cell: {value}", "ph. {value}", "telefono {value}"),
    "MAESTRO": ("Maestro card {value} was declined", "debit card={value}"),
}
HELDOUT_SENTENCES = (
    "value on file: {value}",
    "contatto aggiornato: {value}",
    "zie bijlage; gegevens {value} bevestigd",
    "| {value} | verified |",
    "klient podał {value} w formularzu",
)
TUNING_LOOKALIKES = (
    "order ORD-2024-{n:06d} shipped",
    "invoice INV-{year}-{n:06d} paid",
    "SKU {ean} restocked",
    "Name: total_revenue, dtype: float64",
    "Customer count: {n}",
    "ticket #{year}0312-{small:04d} closed",
    "ship to region: EMEA ({n} parcels)",
    "class Customer(BaseModel): name: str",
)
HELDOUT_LOOKALIKES = (
    "case CASE-{year}-{n:06d} reopened",
    "PO {n:010d} approved by purchasing",
    "batch B-{year}-{small:04d} released",
    "Name: order_date, Length: {small}, dtype: datetime64[ns]",
    "tracking 1Z{n:06d}AA{small:08d}",
    "Dear reader, the {year} figures follow.",
    "Street names in the dataset: {small} unique values",
    "request {year}{n:09d} took {small} ms",
)


def _one_line(address: str) -> str:
    return ", ".join(part.strip() for part in address.splitlines())


def _national_digits(phone: str, region: str) -> str:
    """The number as a bare national digit run (0 and the digits, no spaces), the way forms store it."""
    import phonenumbers

    number = phonenumbers.parse(phone, region)
    return "".join(
        ch
        for ch in phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        if ch.isdigit()
    )


def people_samples(
    locales: tuple[str, ...], templates: dict[str, tuple[str, ...]], *, structured: bool = False
) -> list[Planted]:
    """Names, postal addresses, national phone digit runs and Maestro numbers in each locale; with
    `structured`, the structured kinds of `_pii` too (the held-out half measures every kind)."""
    samples: list[Planted] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(SEED + 200 + index + (50 if structured else 0))
        for n in range(SAMPLES_PER_LOCALE // 2):
            values = {
                "PERSON": fake.name(),
                "ADDRESS": fake.address() if n % 2 else _one_line(fake.address()),
                "PHONE_DIGITS": _national_digits(fake.phone_number(), PHONE_REGION[locale]),
                "MAESTRO": fake.credit_card_number(card_type="maestro"),
            }
            for label, value in values.items():
                kind = {"PHONE_DIGITS": "PHONE", "MAESTRO": "CREDIT_CARD"}.get(label, label)
                template = templates[label][n % len(templates[label])]
                samples.append(Planted(kind, value, template.format(value=value)))
            if structured:
                sentence = HELDOUT_SENTENCES[n % len(HELDOUT_SENTENCES)]
                samples += [
                    Planted(kind, value, sentence.format(value=value)) for kind, value in _pii(fake, locale)
                ]
    return samples


def id_lookalikes(templates: tuple[str, ...]) -> list[str]:
    """Order, invoice, case and tracking ids and label-like code that must come back unchanged."""
    rng = Random(SEED + 300 + len(templates[0]))
    return [
        template.format(
            n=rng.randrange(10**6),
            year=rng.randrange(2019, 2027),
            small=rng.randrange(10**4),
            ean="".join(rng.choice(string.digits) for _ in range(13)),
        )
        for _ in range(SAMPLES_PER_LOCALE // 2)
        for template in templates
    ]


def local_prose(locales: tuple[str, ...]) -> list[str]:
    """Sentences, cities and company names in each locale: capitalised words that are not people."""
    lines: list[str] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(SEED + 400 + index)
        for n in range(SAMPLES_PER_LOCALE // 4):
            lines += [
                fake.sentence(nb_words=10),
                f"Sales in {fake.country()}: {n * 37 + 5} units",
                f"{fake.company()} reported {n + 2} open tickets",
            ]
    return lines


# Round 2 (2026-11-30), written before any detector was changed for it and split once: new formats (CSV
# header columns, JSON and YAML keys, signature blocks, sign-offs, salutations with titles, bare address
# blocks) in the tuning locales for tuning, and other formats in locales never used before for the held-out
# half. Clean look-alikes of both halves put capitalised words where a person could stand.
ROUND2_HELDOUT_LOCALES = ("sv_SE", "da_DK", "fi_FI", "en_CA", "cs_CZ", "hu_HU")
ROUND2_TUNING_TEMPLATES: dict[str, tuple[str, ...]] = {
    "PERSON": (
        "customer_name,amount\n{value},120.50",
        '{{"full_name": "{value}", "plan": "pro"}}',
        "Best regards,\n{value}\nAccount Manager",
        "Approved by {value} on 2024-03-02",
        "Dr. {value} reviewed the chart.",
        "From: {value} <{email}>",
    ),
    "ADDRESS": (
        'name,address\nitem 4,"{value}"',
        "{value}",
        "Our warehouse: {value}",
    ),
}
ROUND2_HELDOUT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "PERSON": (
        "id;contact;city\n17;{value};{city}",
        "owner: {value}\nteam: data",
        "Kind regards\n\n{value}",
        "Thanks, {value}",
        "{value} <{email}> wrote:",
        "Good morning Mrs {value},",
        "assigned_to={value}",
        "Prepared by: {value}",
    ),
    "ADDRESS": (
        "Postadresse\n{value}",
        "location={value}",
        "{value}\n(entrance from the courtyard)",
        "Sent from {value} by courier.",
    ),
}
ROUND2_TUNING_LOOKALIKES = (
    "Best regards,\nThe Data Team",
    "Approved by Finance on {year}-03-{day:02d}",
    "name,count\nalpha,{n}\nbeta,{small}",
    "Dear Customer, your invoice {n} is attached.",
    "Prepared by Quarterly Reporting Pipeline v{day}",
    "Main Street Bistro had {n} orders in {year}",
    "Hi team, the job finished after {small} s",
    "From: Monitoring System ({host})",
)
ROUND2_HELDOUT_LOOKALIKES = (
    "Kind regards\n\nSupport",
    "owner: platform-team\nreplicas: {day}",
    "contact;count\nn/a;{n}",
    "Thanks, everyone! {small} tickets closed.",
    "Sent from my iPhone",
    "Good morning, {n} tasks remain.",
    "assigned_to=unassigned (queue {day})",
    "Hello World program printed {small} lines",
    "Revenue in New York grew {day}% while Rio de Janeiro fell",
    "Table 3: Park Avenue Partners, {n} shares",
)


def _in_templates(
    locales: tuple[str, ...],
    templates: dict[str, tuple[str, ...]],
    seed: int,
    value_of: Callable[[Faker, str, int], str],
    *,
    with_fields: bool,
) -> list[Planted]:
    """One value of each kind per template turn, each template in each locale; `with_fields` fills the
    templates' {email} and {city} too (round 2; drawing them changes what Faker makes next)."""
    samples: list[Planted] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        for n in range(SAMPLES_PER_LOCALE // 2):
            for kind, forms in templates.items():
                value = value_of(fake, kind, n)
                template = forms[(n + index) % len(forms)]
                fields = {"email": fake.email(), "city": fake.city()} if with_fields else {}
                samples.append(Planted(kind, value, template.format(value=value, **fields)))
    return samples


def _round2_value(fake: Faker, kind: str, n: int) -> str:
    if kind == "PERSON":
        return str(fake.name())
    address = str(fake.address())
    return _one_line(address) if n % 2 else address


def round2_people(
    locales: tuple[str, ...], templates: dict[str, tuple[str, ...]], seed: int
) -> list[Planted]:
    """Names and postal addresses in round 2's formats, each template in each locale."""
    return _in_templates(locales, templates, seed, _round2_value, with_fields=True)


def round2_lookalikes(templates: tuple[str, ...], seed: int) -> list[str]:
    """Capitalised words where a person or an address could stand, that must come back unchanged."""
    rng = Random(seed)
    return [
        template.format(
            n=rng.randrange(10**5),
            small=rng.randrange(1000),
            day=rng.randrange(1, 29),
            year=rng.randrange(2019, 2027),
            host=rng.choice(["eu-west", "us-east"]),
        )
        for _ in range(SAMPLES_PER_LOCALE // 2)
        for template in templates
    ]


# Round 3 (2026-11-30), written and split before any detector was changed for it: people, addresses and phone
# numbers in running text, with no label before them ("then Maria Gonzalez called back"), and clean
# sentences of the same shape whose capitalised word pairs are products, places and teams. Tuning: four
# locales never used before; held-out: six others, in other sentences.
ROUND3_TUNING_LOCALES = ("pt_BR", "en_NZ", "de_AT", "ro_RO")
ROUND3_HELDOUT_LOCALES = ("es_MX", "sk_SK", "hr_HR", "no_NO", "tr_TR", "en_IE")
ROUND3_TUNING_TEMPLATES: dict[str, tuple[str, ...]] = {
    "PERSON": (
        "then {value} called back about the refund",
        "{value} joined the project in March.",
        "I spoke with {value} yesterday and the fix was agreed.",
        "The incident was escalated by {value} at 14:05.",
        "Meeting notes: {value} will send the draft.",
        "according to {value} the import failed twice",
    ),
    "ADDRESS": (
        "the parcel goes to {value} tomorrow",
        "Meeting moved to {value}, second floor.",
    ),
    "PHONE": (
        "call me on {value} after six",
        "you can reach the warehouse at {value} until noon",
    ),
}
ROUND3_HELDOUT_TEMPLATES: dict[str, tuple[str, ...]] = {
    "PERSON": (
        "{value} asked for a copy of the contract.",
        "We forwarded the logs to {value} for analysis.",
        "Yesterday {value} and the on-call engineer restarted the cluster.",
        "- {value}: 3 commits, 2 reviews",
        "Sadly {value} is out sick today.",
        "reassigned from {value} to the backlog",
        "{value}'s laptop was replaced on Friday.",
        "The winner of the raffle is {value}!",
    ),
    "ADDRESS": (
        "Invoices were posted to {value} in error.",
        "the van stopped at {value} twice",
    ),
    "PHONE": (
        "if the build breaks, ring {value} at once",
        "Her direct line is {value}.",
    ),
}
ROUND3_TUNING_LOOKALIKES = (
    "then Data Loader called back the retry hook",
    "Visual Studio Code joined the workspace in March.",
    "I spoke with Customer Success yesterday and the fix was agreed.",
    "The incident was escalated by Site Reliability at 14:{day:02d}.",
    "according to Google Cloud the import failed {day} times",
    "New York and San Francisco saw {n} orders",
    "Annual Report {year} was published by Corporate Communications",
)
ROUND3_HELDOUT_LOOKALIKES = (
    "Apache Spark asked for {day} executors.",
    "We forwarded the logs to Splunk Cloud for analysis.",
    "Yesterday Grafana Labs released version {day}.{small}",
    "- Pull Request: {day} commits, 2 reviews",
    "The winner of the benchmark is Random Forest!",
    "Machine Learning Pipeline finished in {small} s",
    "Buenos Aires and Mexico City led sales with {n} units",
    "Amazon Web Services billed {n} USD in {year}",
)


def _round3_value(fake: Faker, kind: str, n: int) -> str:
    if kind == "PERSON":
        return str(fake.name())
    return _one_line(fake.address()) if kind == "ADDRESS" else str(fake.phone_number())


def round3_running_text(
    locales: tuple[str, ...], templates: dict[str, tuple[str, ...]], seed: int
) -> list[Planted]:
    """Names, one-line addresses and phone numbers (as Faker writes them) inside sentences, no label."""
    return _in_templates(locales, templates, seed, _round3_value, with_fields=False)


OUTPUT = Path(__file__).resolve().parent / "redaction"


# Round 4 (2026-12-01), written by an outside evaluator who does not write the detectors: held out only
# (split "heldout4"; there is no tuning half in this round). Each record of made-up personal data is
# printed the way programs print it (logfmt, CSV, JSON, a traceback, an e-mail, a pandas frame, SQL, XML,
# YAML, an access log, a markdown table), one planted value per field. Locales never used before:
ROUND4_LOCALES = ("de_CH", "nl_BE", "el_GR", "uk_UA", "en_IN", "es_AR", "zh_CN", "ko_KR", "he_IL", "az_AZ")
# Faker writes a locale-native IBAN and national identity number only in some locales (others fall back to
# the British IBAN or the US SSN, which are not what this round measures).
ROUND4_IBAN_LOCALES = ("de_CH", "nl_BE", "el_GR", "uk_UA", "az_AZ")
ROUND4_ID_LOCALES = ("de_CH", "nl_BE", "el_GR", "uk_UA", "es_AR", "zh_CN", "ko_KR", "he_IL")
ROUND4_SEED = SEED + 4000


def _round4_record(fake: Faker, locale: str) -> dict[str, str]:
    """One person's made-up fields; kinds the locale cannot make natively are left out."""
    record = {
        "PERSON": str(fake.name()),
        "ADDRESS": ", ".join(line.strip().rstrip(",") for line in str(fake.address()).splitlines()),
        "PHONE": str(fake.phone_number()),
        "EMAIL": str(fake.email()),
        "CREDIT_CARD": str(fake.credit_card_number()),
    }
    if locale in ROUND4_IBAN_LOCALES:
        record["IBAN"] = str(fake.iban())
    if locale in ROUND4_ID_LOCALES:
        record["SSN"] = str(fake.ssn())  # the redactor's kind for identity numbers
    return record


def _round4_render(style: int, r: dict[str, str], order: str) -> str:
    """The record as one kind of program output (style picks which)."""
    pay = r.get("IBAN", "n/a")  # the fields a locale cannot fill are printed as missing
    ident = r.get("SSN", "n/a")
    styles = (
        lambda: (
            f'2026-11-30T08:15:02.113Z level=info msg="order shipped" order_id={order} '
            f'customer="{r["PERSON"]}" phone="{r["PHONE"]}" email={r["EMAIL"]} ship_to="{r["ADDRESS"]}" '
            f"card={r['CREDIT_CARD']} national_id={ident} iban={pay}"
        ),
        lambda: (
            "order_id,customer_name,email,phone,delivery_address,payment,id_number\n"
            f'{order},{r["PERSON"]},{r["EMAIL"]},{r["PHONE"]},"{r["ADDRESS"]}",{pay},{ident}\n'
            f"{order}-B,{r['PERSON']},{r['EMAIL']},,,,\n"
            f"card on file: {r['CREDIT_CARD']}"
        ),
        lambda: json.dumps(
            {
                "order": order,
                "account_holder": r["PERSON"],
                "contact": {"mail": r["EMAIL"], "tel": r["PHONE"]},
                "shipping": {"address": r["ADDRESS"]},
                "payment": {"iban": pay, "card": r["CREDIT_CARD"]},
                "kyc": {"document_number": ident},
            },
            ensure_ascii=False,
            indent=2,
        ),
        lambda: (
            "Traceback (most recent call last):\n"
            '  File "/code/main.py", line 88, in <module>\n'
            "    charge(customer)\n"
            '  File "/code/billing.py", line 41, in charge\n'
            "    raise PaymentError(f'declined: {customer!r}')\n"
            f"billing.PaymentError: declined: Customer(name='{r['PERSON']}', email='{r['EMAIL']}', "
            f"phone='{r['PHONE']}', address='{r['ADDRESS']}', card='{r['CREDIT_CARD']}', "
            f"iban='{pay}', tax_id='{ident}', order='{order}')"
        ),
        lambda: (
            f"From: {r['PERSON']} <{r['EMAIL']}>\n"
            f"Subject: Re: order {order}\n\n"
            "Hi,\n\nthe parcel has still not arrived. Please send it again to\n"
            f"{r['ADDRESS']}\n"
            f"or call me on {r['PHONE']}. The refund can go to {pay}; my ID number is {ident}. "
            f"The card I paid with was {r['CREDIT_CARD']}.\n\n"
            f"Best,\n{r['PERSON']}"
        ),
        lambda: (
            "      order                 name                 phone\n"
            f"0  {order}  {r['PERSON']:>20}  {r['PHONE']:>20}\n"
            f"address: {r['ADDRESS']}\nemail: {r['EMAIL']}\ncard: {r['CREDIT_CARD']}\n"
            f"iban: {pay}\nid: {ident}\n[1 rows x 3 columns]"
        ),
        lambda: (
            "INSERT INTO customers (order_ref, full_name, email, phone, address, iban, card, national_id) "
            f"VALUES ('{order}', '{r['PERSON']}', '{r['EMAIL']}', '{r['PHONE']}', "
            f"'{r['ADDRESS']}', '{pay}', '{r['CREDIT_CARD']}', '{ident}');"
        ),
        lambda: (
            f'<customer ref="{order}">\n  <name>{r["PERSON"]}</name>\n  <email>{r["EMAIL"]}</email>\n'
            f"  <phone>{r['PHONE']}</phone>\n  <address>{r['ADDRESS']}</address>\n"
            f"  <iban>{pay}</iban>\n  <card>{r['CREDIT_CARD']}</card>\n  <idNumber>{ident}</idNumber>\n"
            "</customer>"
        ),
        lambda: (
            f"- order: {order}\n  recipient: {r['PERSON']}\n  email: {r['EMAIL']}\n"
            f"  phone: '{r['PHONE']}'\n  address: {r['ADDRESS']}\n  iban: {pay}\n"
            f"  card: '{r['CREDIT_CARD']}'\n  id_no: '{ident}'"
        ),
        lambda: (
            f"| order | holder | phone | email |\n|---|---|---|---|\n"
            f"| {order} | {r['PERSON']} | {r['PHONE']} | {r['EMAIL']} |\n\n"
            f"Delivery: {r['ADDRESS']}. Paid with {r['CREDIT_CARD']} (IBAN for refunds: {pay}; ID {ident})."
        ),
    )
    return styles[style % len(styles)]()


def round4_records(locales: tuple[str, ...] = ROUND4_LOCALES, seed: int = ROUND4_SEED) -> list[Planted]:
    """Two records per locale, each printed in one style, one planted value per field of the record."""
    samples: list[Planted] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        for n in range(2):
            record = _round4_record(fake, locale)
            order = f"ORD-2026-{fake.random_int(1, 999_999):06d}"
            text = _round4_render(2 * index + n, record, order)
            samples += [Planted(kind, value, text) for kind, value in record.items()]
    return samples


# Hand-written: (kind, value, text). Values in national formats the generator above does not make.
ROUND4_HANDWRITTEN: tuple[tuple[str, str, str], ...] = (
    ("PERSON", "Oliver Bennett", "Delivered to Mr Oliver Bennett at 09:14, signed for."),
    (
        "ADDRESS",
        "14 Hollybush Lane, Little Snoring, Fakenham NR21 0AA",
        "ship_to: 14 Hollybush Lane, Little Snoring, Fakenham NR21 0AA",
    ),
    ("PHONE", "07700 900461", "SMS sent to 07700 900461 (status: delivered)"),
    ("SSN", "JT 48 21 93 D", "payroll: employee 118 NI number JT 48 21 93 D, tax code 1257L"),
    (
        "PERSON",
        "Élodie Marchand",
        "[2026-11-30 10:02:11] WARN relance envoyée à Mme Élodie Marchand (facture FA-2026-0912)",
    ),
    ("ADDRESS", "27 rue des Lilas, 69003 Lyon", "Adresse de livraison : 27 rue des Lilas, 69003 Lyon"),
    ("PHONE", "06 12 34 56 78", "rappeler au 06 12 34 56 78 après 18h"),
    ("SSN", "2 84 05 69 123 456 78", "n° de sécurité sociale : 2 84 05 69 123 456 78"),
    ("PHONE", "0171 2345678", "Rückruf erbeten unter 0171 2345678"),
    (
        "ADDRESS",
        "Lindenstraße 12a, 10969 Berlin",
        "Lieferadresse=Lindenstraße 12a, 10969 Berlin; Zustellung Mo-Fr",
    ),
    ("SSN", "65 929 970 489", "Steuer-ID 65 929 970 489 liegt vor"),
    ("PERSON", "Hans-Peter Müller", "Konto gesperrt für Hans-Peter Müller (Mahnstufe 2)"),
    ("PERSON", "MÜLLER, Hans-Peter", "Kunde: MÜLLER, Hans-Peter | Kundennr. 100234"),
    ("SSN", "RSSMRA85T10A562S", "codice fiscale RSSMRA85T10A562S non valido per la regione"),
    ("SSN", "12345678Z", "DNI del titular: 12345678Z"),
    ("SSN", "X1234567L", "NIE X1234567L caducado, solicitar renovación"),
    ("ADDRESS", "Keizersgracht 123, 1015 CJ Amsterdam", "bezorgadres: Keizersgracht 123, 1015 CJ Amsterdam"),
    ("SSN", "111222333", "BSN 111222333 gekoppeld aan dossier 2026/0044"),
    ("SSN", "811218-9876", "personnummer 811218-9876 saknas i registret"),
    ("ADDRESS", "Storgatan 5, 114 51 Stockholm", "Leveransadress: Storgatan 5, 114 51 Stockholm"),
    ("PHONE", "070-123 45 67", "mobil: 070-123 45 67"),
    ("SSN", "44051401359", "PESEL: 44051401359"),
    ("PHONE", "+48 601 234 567", "tel. kom. +48 601 234 567"),
    (
        "ADDRESS",
        "ul. Marszałkowska 84/92 m. 12, 00-514 Warszawa",
        "adres: ul. Marszałkowska 84/92 m. 12, 00-514 Warszawa",
    ),
    ("PERSON", "山田 太郎", "担当者: 山田 太郎 (営業部)"),
    ("ADDRESS", "〒150-0002 東京都渋谷区渋谷2-21-1", "配送先: 〒150-0002 東京都渋谷区渋谷2-21-1"),
    ("PHONE", "090-1234-5678", "携帯 090-1234-5678 に連絡済み"),
    ("SSN", "123.456.789-09", "CPF 123.456.789-09 já cadastrado"),
    ("PHONE", "(11) 91234-5678", "WhatsApp do cliente: (11) 91234-5678"),
    (
        "ADDRESS",
        "Rua Augusta, 1508 - Consolação, São Paulo - SP, 01304-001",
        "entrega: Rua Augusta, 1508 - Consolação, São Paulo - SP, 01304-001",
    ),
    ("SSN", "4587 2365 9012", "Aadhaar 4587 2365 9012 verified via OTP"),
    ("SSN", "ABCPE1234F", "PAN ABCPE1234F linked to account 0042"),
    ("PHONE", "+91 98765 43210", "OTP sent to +91 98765 43210"),
    (
        "ADDRESS",
        "Flat 4B, Shanti Apartments, 12 MG Road, Bengaluru 560001",
        "Deliver to Flat 4B, Shanti Apartments, 12 MG Road, Bengaluru 560001",
    ),
    ("SSN", "512-44-8931", "ssn=512-44-8931 matched 2 records"),
    (
        "ADDRESS",
        "1427 Maple Ave Apt 3, Springfield, IL 62704",
        "billing_address: 1427 Maple Ave Apt 3, Springfield, IL 62704",
    ),
    ("PHONE", "(217) 555-0143", "callback (217) 555-0143 requested"),
    ("SSN", "046 454 286", "SIN 046 454 286 on file"),
    ("ADDRESS", "24 Sussex Drive, Ottawa, ON K1M 1M4", "mailing address 24 Sussex Drive, Ottawa, ON K1M 1M4"),
    ("SSN", "123 456 782", "TFN 123 456 782 supplied by employee"),
    ("CREDIT_CARD", "3782 822463 10005", "Amex 3782 822463 10005 exp 04/28"),
    ("CREDIT_CARD", "5555 5555 5555 4444", '{"pan": "5555 5555 5555 4444", "exp": "11/27"}'),
    ("CREDIT_CARD", "222300312200328", "mc2 pan=222300312200328"),
    ("CREDIT_CARD", "3530111333300000", "JCB 3530111333300000 authorised"),
    ("CREDIT_CARD", "30569309025904", "Diners Club 30569309025904"),
    ("CREDIT_CARD", "6212345678901234569", "UnionPay card 6212345678901234569 declined"),
    ("CREDIT_CARD", "4111-1111-1111-1111", "card_number=4111-1111-1111-1111 cvv=***"),
    ("CREDIT_CARD", "4000056655665556", '{"card": 4000056655665556, "amount": 12.5}'),
    ("IBAN", "DE89 3704 0044 0532 0130 00", "Überweisung an DE89 3704 0044 0532 0130 00 veranlasst"),
    ("IBAN", "FR14 2004 1010 0505 0001 3M02 606", "RIB / IBAN : FR14 2004 1010 0505 0001 3M02 606"),
    ("IBAN", "GB29NWBK60161331926819", "payee_iban=GB29NWBK60161331926819"),
    ("IBAN", "NL91ABNA0417164300", "rekening NL91ABNA0417164300 t.n.v. de klant"),
    ("IBAN", "IT60 X054 2811 1010 0000 0123 456", "IBAN IT60 X054 2811 1010 0000 0123 456 - bonifico"),
    ("IBAN", "ES9121000418450200051332", "cuenta ES9121000418450200051332"),
    ("IBAN", "de89370400440532013000", "iban (lower case in the export): de89370400440532013000"),
    ("EMAIL", "siobhan.o'connor@example.ie", "bounce: <siobhan.o'connor@example.ie> mailbox full"),
    ("EMAIL", "jörg.müller@beispiel.de", "Empfänger jörg.müller@beispiel.de unbekannt"),
    ("EMAIL", "ana+invoices@sub.example.co.uk", "cc=ana+invoices@sub.example.co.uk"),
    ("EMAIL", "marta dot ruiz at example dot es", "escríbeme a marta dot ruiz at example dot es"),
    ("PERSON", "Иван Сергеевич Петров", "Клиент: Иван Сергеевич Петров, заказ 5512"),
    ("PERSON", "Γιώργος Παπαδόπουλος", "Πελάτης: Γιώργος Παπαδόπουλος"),
    ("PERSON", "김민준", "고객명: 김민준"),
    ("PERSON", "فاطمة الزهراء بنعلي", "اسم العميل: فاطمة الزهراء بنعلي"),
    ("PERSON", "שרה לוי", "שם הלקוח: שרה לוי"),
    ("PERSON", "O'Brien, Siobhán", "patient O'Brien, Siobhán admitted to ward 7"),
    ("PERSON", "J. R. Hartley", "signed: J. R. Hartley"),
    ("PERSON", "Nguyễn Thị Minh Khai", "Người nhận: Nguyễn Thị Minh Khai"),
    ("PERSON", "Kwame Mensah", "2026-11-30 14:22:08 INFO password reset for Kwame Mensah (uid 8812)"),
    ("PERSON", "Ayşe Yılmaz", "assigned reviewer Ayşe Yılmaz approved the change"),  # noqa: RUF001
    ("PERSON", "Lars Øyvind Hansen", "ticket #5521 opened by Lars Øyvind Hansen via web form"),
    (
        "PHONE",
        "%2B41%2044%20668%2018%2000",
        "GET /api/v1/lookup?phone=%2B41%2044%20668%2018%2000&lang=de HTTP/1.1 200",
    ),
    ("EMAIL", "lena.schmid%40example.ch", "GET /unsubscribe?email=lena.schmid%40example.ch HTTP/1.1 302"),
    ("PHONE", "+33 1 42 68 53 00", "phone_number: +33 1 42 68 53 00"),
    ("PHONE", "0044 20 7946 0958", "int'l format 0044 20 7946 0958 rejected by validator"),
    ("PHONE", "+8613912345678", "sms_to=+8613912345678 status=queued"),
    ("PHONE", "02-312-3456", "대표번호 02-312-3456"),
    ("IP_ADDRESS", "203.0.113.77", "login from 203.0.113.77 for user 4412"),
    ("ADDRESS", "Bahnhofstrasse 21, 8001 Zürich", "Rechnungsadresse: Bahnhofstrasse 21, 8001 Zürich"),
    (
        "ADDRESS",
        "Calle de Alcalá 48, 3º izq., 28014 Madrid",
        "dirección: Calle de Alcalá 48, 3º izq., 28014 Madrid",
    ),
    ("ADDRESS", "Via Garibaldi 7, 16124 Genova GE", "spedire a Via Garibaldi 7, 16124 Genova GE"),
    (
        "ADDRESS",
        "Mannerheimintie 14 B 22, 00100 Helsinki",
        "toimitusosoite Mannerheimintie 14 B 22, 00100 Helsinki",
    ),
)


def round4_handwritten() -> list[Planted]:
    """The hand-written values of round 4, each in the line a program printed it in."""
    return [Planted(kind, value, text) for kind, value, text in ROUND4_HANDWRITTEN]


ROUND4_CLEAN = (
    "order ORD-2026-004512 shipped; invoice INV/2026/11/000873; PO#4500123456",
    "RMA 2026-11-000317 opened for SKU 4006381333931",
    "UPS 1Z999AA10123456784 out for delivery; SSCC 00340434161094042557",
    "build v2.14.3-rc.1+build.20261130 (Chrome/131.0.6778.86, kernel 6.8.0-49-generic)",
    "Windows build 10.0.19045.5131 detected",
    "commit 9f2c1e7a4b3d5c6e8f90a1b2c3d4e5f607182930 on branch main",
    "md5 d41d8cd98f00b204e9800998ecf8427e  empty.txt",
    "timestamps: 30/11/2026 23:59:59, 2026-11-30 23:59:59,123, 1764547199123, 20261130T235959Z",
    "Date: Mon, 30 Nov 2026 23:59:59 +0100",
    "location 52.520008, 13.404954 (Berlin Mitte), 48°51′24″N 2°21′07″E",  # noqa: RUF001
    "lat=-33.8688 lon=151.2093 alt=58m geohash=r3gx2f",
    "population 83 200 000; GDP 4 121 160 000 000 USD",
    "Umsatz 1 234 567,89 € (+12,5 % gegenüber 2025-11)",
    "Fibonacci: 1 1 2 3 5 8 13 21 34 55 89 144 233 377 610 987",
    "sensor ids 0451 2231 9987 4410 reported 21.4 21.9 22.0",
    "ISBN 978-3-16-148410-0, EAN 4006381333931",
    "MAC 00:1A:2B:3C:4D:5E, UUID 3f2b8c1e-4d5a-4b6c-9e7f-0a1b2c3d4e5f",
    "pod level5-sandbox-7f9c8d6b5-x2kqz restarted 3 times",
    "p < 0.001, σ = 0.0123, r² = 0.87, n = 1204",  # noqa: RUF001
    "matrix [[1, 2, 3], [4, 5, 6], [7, 8, 9]] has rank 2",
    "Monte Carlo simulation with 10000 paths; Markov Chain mixed after 512 steps",
    "Random Forest beat the Gaussian Process Regressor (0.91 vs 0.88 AUC)",
    "Victoria Station and Rio Grande were the busiest routes",
    "Georgia Tech and Washington Post cited the Kelvin Helmholtz instability example",
    "Dear team, the nightly build passed.\n\nKind regards,\nThe Release Bot",
    "Hello World! Jordan Curve theorem demo finished.",
    "Main Street branch closed 12 tickets; Route 66 dataset loaded",
    "Building 42, Floor 3: 18 desks free",
    "Article 17 GDPR requests: 4; Section 230 notices: 0",
    "card ending 4242; IBAN DE** **** **** **** **30 00; SSN ***-**-6789",
    "2026-11-30T12:00:00Z INFO worker-3 processed 120000 rows in 4.2s (28571 rows/s)",
    "HTTP 404 on port 5432 after 3 retries; ISO 3166-2 code DE-BE",
    "batch 4000 1234 5678 9010 rejected (checksum mismatch)",
    "range 10-20-30-40; version tuple (3, 12, 7); semver 1.0.0-alpha.1",
    "ticket JIRA-20451 linked to PR #8812 and CVE-2024-3094",
    "account 00123 balance 1 500,00 CHF; rate 0.75 %",
    "phone model: iPhone 15 Pro; Samsung Galaxy Tab S9",
    "Grace Period: 14 days; Julia Set render took 812 ms",
    "Deutsche Bahn delays: 17 min avg; Saint Petersburg weather 4 °C",
    "elapsed 00:01:23.456; ETA 00:12:00",
)


def round4_clean_generated(seed: int = ROUND4_SEED + 100) -> list[str]:
    """Look-alikes made with Faker in the round's locales: ids, codes, dates, hashes, places, companies."""
    lines: list[str] = []
    for index, locale in enumerate(ROUND4_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        lines += [
            f"{fake.date_time_between(EPOCH, EPOCH + timedelta(days=1500)).isoformat()} INFO export "
            f"{fake.bothify('EXP-####-??').upper()} wrote {fake.random_int(100, 99_999)} rows "
            f"(sha1 {fake.sha1()})",
            f"lot {fake.ean13()} / {fake.isbn13()} / {fake.uuid4()} at {fake.latitude()}, {fake.longitude()}",
            f"{fake.company()}: Q{fake.random_int(1, 4)} revenue {fake.pyfloat(6, 2, positive=True)} "
            f"({fake.city()})",
        ]
    return lines


# Round 5 (2026-12-01, an outside evaluator): held out only, like round 4, written without reading the
# redactor. Faker locales never used before, each record printed the way other programs print one, then
# hand-written values in formats not used before, and clean look-alikes.
ROUND5_SEED = SEED + 5000
ROUND5_LOCALES = (
    "sl_SI", "ru_RU", "th_TH", "vi_VN", "id_ID", "fa_IR", "zh_TW",
    "fr_CH", "es_CO", "es_CL", "ka_GE", "hy_AM", "bn_BD", "ne_NP",
)  # fmt: skip
ROUND5_IBAN_LOCALES = ("fa_IR", "fr_CH")  # countries of these that use IBANs and that Faker can make
# Faker prints US-style numbers for sl_SI, es_CO and es_CL ssn(): those are left out, and es_CL uses rut().
ROUND5_ID_LOCALES = ("ru_RU", "th_TH", "zh_TW", "fr_CH", "bn_BD")


def _round5_record(fake: Faker, locale: str) -> dict[str, str]:
    """Round 4's fields, from this round's locales."""
    record = _round4_record(fake, locale)
    record.pop("IBAN", None)
    record.pop("SSN", None)
    if locale in ROUND5_IBAN_LOCALES:
        record["IBAN"] = str(fake.iban())
    if locale in ROUND5_ID_LOCALES:
        record["SSN"] = str(fake.ssn())
    if locale == "es_CL":
        record["SSN"] = str(fake.rut())
    return record


def _round5_render(style: int, r: dict[str, str], ref: str) -> str:
    """The record as one kind of program output not used in earlier rounds (style picks which)."""
    pay, ident = r.get("IBAN", "-"), r.get("SSN", "-")
    styles = (
        lambda: (  # Go's %+v of a struct pointer
            f"2026/11/30 09:12:44 handler.go:212: upsert failed: &{{ID:{ref} Name:{r['PERSON']} "
            f"Email:{r['EMAIL']} Phone:{r['PHONE']} Address:{r['ADDRESS']} Card:{r['CREDIT_CARD']} "
            f"IBAN:{pay} NationalID:{ident} CreatedAt:2026-11-30 09:12:44 +0000 UTC}}"
        ),
        lambda: (  # a Java toString in a stack trace
            'Exception in thread "main" com.shop.ValidationException: rejected '
            f"Customer{{ref='{ref}', fullName='{r['PERSON']}', email='{r['EMAIL']}', mobile='{r['PHONE']}', "
            f"street='{r['ADDRESS']}', pan='{r['CREDIT_CARD']}', iban='{pay}', taxId='{ident}'}}\n"
            "\tat com.shop.Checkout.validate(Checkout.java:87)\n\tat com.shop.Main.main(Main.java:12)"
        ),
        lambda: (  # Rails request parameters
            f'Started POST "/checkout" for 127.0.0.1\n  Parameters: {{"order"=>{{"ref"=>"{ref}", '
            f'"name"=>"{r["PERSON"]}", "email"=>"{r["EMAIL"]}", "phone"=>"{r["PHONE"]}", '
            f'"address"=>"{r["ADDRESS"]}", "card"=>"{r["CREDIT_CARD"]}", "iban"=>"{pay}", '
            f'"document"=>"{ident}"}}}}\nCompleted 422 Unprocessable Entity in 12ms'
        ),
        lambda: (  # a vCard
            f"BEGIN:VCARD\nVERSION:4.0\nFN:{r['PERSON']}\nEMAIL;TYPE=home:{r['EMAIL']}\n"
            f'TEL;TYPE=cell:{r["PHONE"]}\nADR;TYPE=home;LABEL="{r["ADDRESS"]}":;;;;;;\n'
            f"NOTE:card {r['CREDIT_CARD']}, iban {pay}, id {ident}, ref {ref}\nEND:VCARD"
        ),
        lambda: (  # an LDIF entry
            f"dn: uid={ref.lower()},ou=customers,dc=example,dc=org\nobjectClass: inetOrgPerson\n"
            f"cn: {r['PERSON']}\nmail: {r['EMAIL']}\ntelephoneNumber: {r['PHONE']}\n"
            f"postalAddress: {r['ADDRESS']}\ndescription: card {r['CREDIT_CARD']} iban {pay}\n"
            f"employeeNumber: {ident}"
        ),
        lambda: (  # TOML
            f'[customer]\nref = "{ref}"\nname = "{r["PERSON"]}"\nemail = "{r["EMAIL"]}"\n'
            f'phone = "{r["PHONE"]}"\naddress = "{r["ADDRESS"]}"\n\n[customer.payment]\n'
            f'card = "{r["CREDIT_CARD"]}"\niban = "{pay}"\nnational_id = "{ident}"'
        ),
        lambda: (  # a pytest assertion diff
            "E       AssertionError: assert {'ref': '" + ref + "', 'status': 'ok'} == "
            f"{{'ref': '{ref}', 'name': '{r['PERSON']}', 'email': '{r['EMAIL']}', "
            f"'phone': '{r['PHONE']}', 'addr': '{r['ADDRESS']}', 'card': '{r['CREDIT_CARD']}', "
            f"'iban': '{pay}', 'id': '{ident}'}}\nE         Right contains 7 more items"
        ),
        lambda: (  # text extracted from a PDF invoice
            f"INVOICE {ref}\n\nBill to:\n    {r['PERSON']}\n    {r['ADDRESS']}\n"
            f"    Tel. {r['PHONE']}    E-mail {r['EMAIL']}\n\nPaid by card {r['CREDIT_CARD']}\n"
            f"Refund account {pay}    Customer tax no. {ident}\nTotal due 0.00"
        ),
        lambda: json.dumps(  # one-line event JSON with camelCase keys
            {
                "ts": "2026-11-30T09:12:44Z",
                "event": "kyc.submitted",
                "payload": {
                    "ref": ref,
                    "fullName": r["PERSON"],
                    "mobile": r["PHONE"],
                    "mail": r["EMAIL"],
                    "residence": r["ADDRESS"],
                    "pan": r["CREDIT_CARD"],
                    "iban": pay,
                    "nationalId": ident,
                },
            },
            ensure_ascii=False,
        ),
        lambda: (  # an environment dump
            f"CUSTOMER_REF={ref}\nCUSTOMER_NAME='{r['PERSON']}'\nCUSTOMER_EMAIL={r['EMAIL']}\n"
            f"CUSTOMER_PHONE='{r['PHONE']}'\nCUSTOMER_ADDRESS='{r['ADDRESS']}'\n"
            f"CUSTOMER_CARD={r['CREDIT_CARD']}\nCUSTOMER_IBAN={pay}\nCUSTOMER_ID={ident}"
        ),
        lambda: (  # Rust's pretty Debug
            f'[src/main.rs:40:5] &customer = Customer {{\n    reference: "{ref}",\n'
            f'    name: "{r["PERSON"]}",\n    email: "{r["EMAIL"]}",\n    phone: "{r["PHONE"]}",\n'
            f'    address: "{r["ADDRESS"]}",\n    card: "{r["CREDIT_CARD"]}",\n    iban: "{pay}",\n'
            f'    national_id: "{ident}",\n}}'
        ),
        lambda: (  # an HTML table row
            f"<tr><td>{ref}</td><td>{r['PERSON']}</td><td>{r['EMAIL']}</td><td>{r['PHONE']}</td>"
            f"<td>{r['ADDRESS']}</td><td>{r['CREDIT_CARD']}</td><td>{pay}</td><td>{ident}</td></tr>"
        ),
    )
    return styles[style % len(styles)]()


def round5_records(locales: tuple[str, ...] = ROUND5_LOCALES, seed: int = ROUND5_SEED) -> list[Planted]:
    """Two records per locale, each printed in one style, one planted value per field of the record."""
    samples: list[Planted] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        for n in range(2):
            record = _round5_record(fake, locale)
            ref = f"CUS-{fake.random_int(1, 99_999):05d}"
            text = _round5_render(2 * index + n, record, ref)
            samples += [Planted(kind, value, text) for kind, value in record.items()]
    return samples


def _iban(country: str, bban: str) -> str:
    """An IBAN with its ISO 13616 check digits, grouped by four like a bank statement prints it."""
    digits = "".join(str(int(c, 36)) for c in bban + country + "00")
    compact = f"{country}{98 - int(digits) % 97:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _luhn(prefix: str, length: int) -> str:
    """A card number of `length` digits that starts with `prefix` and passes the Luhn check."""
    body = prefix + "7" * (length - len(prefix) - 1)
    total = sum(
        (2 * int(d) - 9 if 2 * int(d) > 9 else 2 * int(d)) if i % 2 == 0 else int(d)
        for i, d in enumerate(reversed(body))
    )
    return body + str((10 - total % 10) % 10)


def round5_handwritten() -> list[Planted]:
    """Hand-written values of round 5, each in a line a program could print."""
    si, lv, lt = (
        _iban("SI", "263300012039086"),
        _iban("LV", "BANK0000435195001"),
        _iban("LT", "1000011101001000"),
    )
    ee, bg, ge = (
        _iban("EE", "2200221020145685"),
        _iban("BG", "BNBG96611020345678"),
        _iban("GE", "NB0000000101904917"),
    )
    rs, mk, al = (
        _iban("RS", "260005601001611379"),
        _iban("MK", "250120000058984"),
        _iban("AL", "212110090000000235698741"),
    )
    sa, ae, br = (
        _iban("SA", "80000000608010167519"),
        _iban("AE", "0331234567890123456"),
        _iban("BR", "00360305000010009795493P1"),
    )
    ba, mt = _iban("BA", "1290079401028494"), _iban("MT", "MALT011000012345MTLCAST001S")
    lt, ge, rs, al, ae, ba, mt = (
        value.replace(" ", "") for value in (lt, ge, rs, al, ae, ba, mt)
    )  # printed compact
    mir, rupay, disc = _luhn("2200", 16), _luhn("6522", 16), _luhn("6011", 16)
    rows: list[tuple[str, str, str]] = [
        ("IBAN", si, f"Plačilo na račun {si} je bilo zavrnjeno."),
        ("IBAN", lv, f"konts: {lv}"),
        ("IBAN", lt, f"<CdtrAcct><Id><IBAN>{lt}</IBAN></Id></CdtrAcct>"),
        ("IBAN", ee, f"arveldusarve {ee}, viitenumber 1234561"),
        ("IBAN", bg, f"IBAN: {bg} (BIC BNBGBGSF)"),
        ("IBAN", ge, f"ანგარიში {ge} დადასტურებულია"),
        ("IBAN", rs, f"uplata na {rs} - pozivna broj 97"),
        ("IBAN", mk, f"сметка {mk}"),
        ("IBAN", al, f"llogaria {al}"),
        ("IBAN", sa, f"رقم الآيبان: {sa}"),
        ("IBAN", ae, f"beneficiary_iban={ae}&amount=1500.00"),
        ("IBAN", br, f"Conta IBAN {br}"),
        ("IBAN", ba, f"transakcijski račun {ba}"),
        ("IBAN", mt, f"payee: {mt} ref INV-88"),
        (
            "CREDIT_CARD",
            " ".join(mir[i : i + 4] for i in range(0, 16, 4)),
            f"Карта МИР {' '.join(mir[i : i + 4] for i in range(0, 16, 4))} привязана",
        ),
        ("CREDIT_CARD", rupay, f"RuPay card {rupay} debited INR 499"),
        (
            "CREDIT_CARD",
            ".".join(disc[i : i + 4] for i in range(0, 16, 4)),
            f"cc={'.'.join(disc[i : i + 4] for i in range(0, 16, 4))}",
        ),
        ("CREDIT_CARD", "3714 496353 98431", "AMEX 3714 496353 98431 exp 09/29 CID ****"),
        ("PERSON", "Guðrún Sigurðardóttir", "Viðskiptavinur: Guðrún Sigurðardóttir, pöntun 4411"),
        ("PERSON", "María José García-Herrera López", "titular de la cuenta María José García-Herrera López"),
        ("PERSON", "Jan van der Berg", "behandelaar: Jan van der Berg (team Noord)"),
        ("PERSON", "Ahmed bin Khalid Al-Mansouri", "passenger Ahmed bin Khalid Al-Mansouri, seat 14C"),
        ("PERSON", "ANNA KOWALCZYK", "SHIP TO: ANNA KOWALCZYK\nUL. DŁUGA 5/7\n80-831 GDAŃSK"),
        ("PERSON", "YAMAMOTO Haruki", "participant: YAMAMOTO Haruki (Kyoto University)"),
        ("PERSON", "Zhang Wei", "2026-11-30 WARN duplicate account for user Zhang Wei merged"),
        ("PERSON", "Abebe Tesfaye Bekele", "ደንበኛ / customer: Abebe Tesfaye Bekele"),
        ("PERSON", "Siobhán Ní Bhriain", "Caller Siobhán Ní Bhriain asked for a refund"),
        ("PERSON", "Ngozi Okonkwo-Adeyemi", "The form was signed by Ngozi Okonkwo-Adeyemi on 30 Nov."),
        ("ADDRESS", "〒150-0002 東京都渋谷区渋谷2-21-1", "お届け先: 〒150-0002 東京都渋谷区渋谷2-21-1"),
        (
            "ADDRESS",
            "Flat 3, 14 Queen's Road, Bristol BS8 1QU",
            "deliver_to: Flat 3, 14 Queen's Road, Bristol BS8 1QU",
        ),
        (
            "ADDRESS",
            "Rua Augusta, 1500, apto 42 - Consolação, São Paulo - SP, 01304-001",
            "Endereço de entrega: Rua Augusta, 1500, apto 42 - Consolação, São Paulo - SP, 01304-001",
        ),
        ("ADDRESS", "PO Box 4471, Juneau, AK 99803", "remit to PO Box 4471, Juneau, AK 99803"),
        (
            "ADDRESS",
            "Keizersgracht 123-H, 1015 CJ Amsterdam",
            "adres: Keizersgracht 123-H, 1015 CJ Amsterdam",
        ),
        (
            "ADDRESS",
            "Blk 123 Ang Mo Kio Ave 3, #05-67, Singapore 560123",
            'mailing_addr="Blk 123 Ang Mo Kio Ave 3, #05-67, Singapore 560123"',
        ),
        ("ADDRESS", "12 Long Street, Cape Town, 8001", "Physical address: 12 Long Street, Cape Town, 8001"),
        (
            "ADDRESS",
            "Av. Insurgentes Sur 1602, Col. Crédito Constructor, 03940 Ciudad de México, CDMX",
            "Domicilio fiscal: Av. Insurgentes Sur 1602, Col. Crédito Constructor, 03940 Ciudad de México, "
            "CDMX",
        ),
        ("ADDRESS", "7 Eyre Square, Galway H91 F6PK", "billing: 7 Eyre Square, Galway H91 F6PK"),
        ("PHONE", "+7 (495) 123-45-67", "Телефон: +7 (495) 123-45-67"),
        ("PHONE", "+65 9123 4567", "WhatsApp +65 9123 4567"),
        ("PHONE", "+27 82 555 0199", "cell: +27 82 555 0199"),
        ("PHONE", "tel:+4915112345678", '<a href="tel:+4915112345678">call</a>'),
        ("PHONE", "(03) 9123 4567", "Ph (03) 9123 4567 after 5pm"),
        ("PHONE", "+234 803 123 4567", "mobile_no: +234 803 123 4567"),
        ("PHONE", "087 123 4567", "Mob. 087 123 4567"),
        ("EMAIL", "J.DOE@EXAMPLE.COM", "REPLY-TO: J.DOE@EXAMPLE.COM"),
        ("EMAIL", "info@bücher.example", "Kontakt: info@bücher.example"),
        ("EMAIL", "ana[at]example[dot]org", "write to ana[at]example[dot]org"),
        (
            "EMAIL",
            "k.tanaka@example.co.jp",
            '<a href="mailto:k.tanaka@example.co.jp?subject=Invoice">mail</a>',
        ),
        ("SSN", "GODE561231HDFRRN09", "CURP: GODE561231HDFRRN09"),
        ("SSN", "12.345.678-5", "RUT 12.345.678-5 validado"),
        ("SSN", "1850101123456", "CNP 1850101123456"),
        ("SSN", "3174051208900003", "NIK: 3174051208900003 (KTP terverifikasi)"),
        ("SSN", "078-05-1120", "the applicant's social security number is 078-05-1120"),
        (
            "IP_ADDRESS",
            "2001:db8:85a3::8a2e:370:7334",
            "client [2001:db8:85a3::8a2e:370:7334]:51234 connected",
        ),
        ("IP_ADDRESS", "198.51.100.23", "X-Forwarded-For: 198.51.100.23, 10.0.0.4"),
        (
            "SLACK_TOKEN",
            "xoxb-2718281828-3141592653-Zk9fQ2xWmR7tYb4LpN8cVd1s",
            "SLACK_BOT_TOKEN=xoxb-2718281828-3141592653-Zk9fQ2xWmR7tYb4LpN8cVd1s",
        ),
        (
            "STRIPE_KEY",
            "sk_live_51N8xQ2KfR7mT3vW9pL4zY6hB0cD5eF1gH",
            "stripe.api_key = 'sk_live_51N8xQ2KfR7mT3vW9pL4zY6hB0cD5eF1gH'",
        ),
        (
            "GOOGLE_API_KEY",
            "AIzaSyC8v3Nq7LmP2xR9tW4kY6hB1dF5gJ0sE2a",
            "maps?key=AIzaSyC8v3Nq7LmP2xR9tW4kY6hB1dF5gJ0sE2a&q=cafe",
        ),
    ]
    return [Planted(kind, value, text) for kind, value, text in rows]


ROUND5_CLEAN = (
    "Adam optimizer (lr 3e-4, betas 0.9/0.999) beat SGD after 40 epochs",
    "Kalman Filter and Bloom Filter benchmarks: 1.2 ms vs 0.3 ms",
    "Levenshtein Distance between the two headers is 7; Nelder Mead converged in 112 steps",
    "Wall Street Journal and Sesame Street were the top referrers",
    "A Nightmare on Elm Street (1984) is in the catalogue under genre horror",
    "Abbey Road Studios sample rate 96 kHz, bit depth 24",
    "Victoria Falls tour sold 412 seats; Santa Clara County data refreshed",
    "Paris Agreement targets: 1.5 °C; Baker Street line closed for works",
    "Amount: ₹1,23,45,678.00 (one crore twenty-three lakh)",
    "تاریخ: ۱۴۰۵/۰۹/۱۰ — مبلغ ۱۲٬۵۰۰٬۰۰۰ ریال",  # noqa: RUF001
    "พ.ศ. 2569 ไตรมาส 4: ยอดขาย 1,250,000 บาท",
    "VIN 1HGCM82633A004352 passed the check digit test",
    "GTIN-14 10614141000415; GS1 company prefix 0614141",
    "container 4f2b9c1d7e3a started; image sha256:9b2f1c7e4d5a6b8c",
    "arn:aws:s3:::example-bucket/reports/2026/11/summary.csv uploaded",
    "ISO week 2026-W49; interval 2026-11-30T00:00Z/P1D",
    "opening hours 09:00-17:30, lunch 12:30-13:15",
    "build 2026.11.30.1542 (nightly), api v3.14.159",
    "colours #1a2b3c #ffcc00 rgb(12, 34, 56)",
    "1. e4 e5 2. Nf3 Nc6 3. Bb5 a6 4. Ba4 Nf6 5. O-O Be7",
    "K8s: deployment/orders-api-6d9f7b8c5 scaled to 12 replicas in zone europe-west4-b",
    "Chem: C6H12O6 + 6 O2 -> 6 CO2 + 6 H2O; ΔH = -2803 kJ/mol",
    "tickers: AAPL 231.45, MSFT 421.10, 7203.T 2,845",
    "dimensions 1200 x 800 x 450 mm; weight 32.5 kg; pallet 0800 1200",
    "Frequency 2412 MHz, channel 1; 5180 MHz channel 36",
    "Chapter 12, Verse 4-9; pages 1023-1047",
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
    "Grüße aus dem Team Datenplattform — keine Auffälligkeiten im Nachtlauf.",
    "Jackson Structured Programming and Hoare Logic lecture notes, week 6",
    "Mercedes Benz and Rolls Royce models: 14 rows each",
    "Queue depth 0; Unit 731 test rig idle; Apartment complex dataset has 4 412 rows",
    "Dear Customer, your order has shipped. Regards, Customer Service",
    "Bill To: (not provided)\nShip To: (same as billing)",
    "name=None email=None phone=None address=None",
    "total 1 234 567 889 bytes across 12 345 files",
    "patch: 0001-fix-phone-validation.patch applied to branch feature/address-parser",
    "regex ^\\+?[0-9 ()-]{7,}$ matched 0 of 12 lines",
)


def round5_clean_generated(seed: int = ROUND5_SEED + 100) -> list[str]:
    """Look-alikes made with Faker in the round's locales: jobs, companies, colours, dates, file names."""
    lines: list[str] = []
    for index, locale in enumerate(ROUND5_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        lines += [
            f"{fake.date_between(EPOCH, EPOCH + timedelta(days=1500)).isoformat()} job "
            f"{fake.bothify('JOB-??-#####').upper()} finished: {fake.random_int(1, 9_999)} files, "
            f"md5 {fake.md5()}, {fake.file_name(category='text')}",
            f"{fake.company()} ({fake.country()}): color {fake.hex_color()}, "
            f"{fake.random_int(10, 99)}.{fake.random_int(0, 9)} % of {fake.random_int(1_000, 9_000)} units",
        ]
    return lines


# Round 6 (2026-12-01), written blind by a third outside evaluator (who read neither the detectors nor earlier
# rounds' rows): held out only (split "heldout6"). Made-up people in 20 locales, one record a locale printed
# in a program-output format not used in rounds 4 and 5 and one under the locale's own field labels (every
# second of those with the phone as a bare national digit run), plus hand-written values and clean text.
# Phone numbers are checked with libphonenumber for the locale's country (Faker's are not always valid:
# es_MX prints +63 numbers); Faker's ssn() is used only where it makes the country's own checksummed number.
ROUND6_LOCALES = (
    "vi_VN", "tr_TR", "id_ID", "pl_PL", "th_TH", "hi_IN", "ko_KR", "ja_JP", "zh_CN", "he_IL",
    "fa_IR", "ar_AA", "pt_BR", "es_MX", "de_DE", "fr_FR", "nl_NL", "sv_SE", "en_IN", "en_GB",
)  # fmt: skip
ROUND6_SEED = SEED + 6000
ROUND6_REGION = {
    "vi_VN": "VN", "tr_TR": "TR", "id_ID": "ID", "pl_PL": "PL", "th_TH": "TH", "hi_IN": "IN", "ko_KR": "KR",
    "ja_JP": "JP", "zh_CN": "CN", "he_IL": "IL", "fa_IR": "IR", "ar_AA": "SA", "pt_BR": "BR", "es_MX": "MX",
    "de_DE": "DE", "fr_FR": "FR", "nl_NL": "NL", "sv_SE": "SE", "en_IN": "IN", "en_GB": "GB",
}  # fmt: skip
ROUND6_ID_LOCALES = (
    "tr_TR", "pl_PL", "th_TH", "ko_KR", "zh_CN", "he_IL", "pt_BR", "es_MX", "fr_FR", "nl_NL", "sv_SE",
)  # fmt: skip
ROUND6_IBAN_LOCALES = ("tr_TR", "pl_PL", "fa_IR", "pt_BR", "de_DE", "fr_FR", "nl_NL")
# Faker's tr_TR and ar_AA addresses are American templates with local words (hand-written ones stand in).
ROUND6_NO_ADDRESS = ("tr_TR", "ar_AA")
# The locale's own labels: name, address, phone, e-mail, identity number, account, greeting.
ROUND6_LABELS = {
    "vi_VN": ("Họ và tên", "Địa chỉ", "Số điện thoại", "Email", "Số CCCD", "Số tài khoản", "Kính gửi"),
    "tr_TR": ("Ad Soyad", "Adres", "Cep telefonu", "E-posta", "T.C. Kimlik No", "IBAN", "Sayın"),  # noqa: RUF001
    "id_ID": ("Nama lengkap", "Alamat", "No. HP", "Surel", "NIK", "No. rekening", "Yth."),
    "pl_PL": (
        "Imię i nazwisko",
        "Adres",
        "Telefon",
        "E-mail",
        "PESEL",
        "Nr rachunku",
        "Szanowna Pani / Szanowny Panie",
    ),
    "th_TH": ("ชื่อ-นามสกุล", "ที่อยู่", "โทรศัพท์", "อีเมล", "เลขประจำตัวประชาชน", "เลขที่บัญชี", "เรียน"),
    "hi_IN": ("नाम", "पता", "मोबाइल नंबर", "ईमेल", "आधार संख्या", "खाता संख्या", "प्रिय"),
    "ko_KR": ("성명", "주소", "휴대전화", "이메일", "주민등록번호", "계좌번호", "안녕하세요,"),
    "ja_JP": ("氏名", "住所", "電話番号", "メールアドレス", "個人番号", "口座番号", "拝啓"),
    "zh_CN": ("姓名", "地址", "联系电话", "电子邮箱", "身份证号", "银行账号", "尊敬的"),
    "he_IL": ("שם מלא", "כתובת", "טלפון נייד", 'דוא"ל', "מספר תעודת זהות", "מספר חשבון", "לכבוד"),
    "fa_IR": (
        "نام و نام خانوادگی",
        "نشانی",
        "تلفن همراه",
        "پست الکترونیک",
        "کد ملی",
        "شماره شبا",
        "جناب آقای / سرکار خانم",
    ),
    "ar_AA": (
        "الاسم الكامل",
        "العنوان",
        "رقم الجوال",
        "البريد الإلكتروني",
        "رقم الهوية",
        "رقم الآيبان",
        "السيد/السيدة",
    ),
    "pt_BR": ("Nome completo", "Endereço", "Celular", "E-mail", "CPF", "Conta (IBAN)", "Prezado(a)"),
    "es_MX": (
        "Nombre",
        "Domicilio",
        "Teléfono celular",
        "Correo electrónico",
        "NSS",
        "Cuenta",
        "Estimado(a)",
    ),
    "de_DE": ("Name", "Anschrift", "Telefon", "E-Mail", "Ausweisnummer", "IBAN", "Sehr geehrte(r)"),
    "fr_FR": (
        "Nom",
        "Adresse",
        "Téléphone",
        "Courriel",
        "N° de sécurité sociale",
        "IBAN",
        "Madame, Monsieur",
    ),
    "nl_NL": ("Naam", "Adres", "Telefoon", "E-mail", "BSN", "IBAN", "Beste"),
    "sv_SE": ("Namn", "Adress", "Mobil", "E-post", "Personnummer", "Konto", "Hej"),
    "en_IN": ("Name", "Address", "Mobile", "Email", "Aadhaar", "Account", "Dear"),
    "en_GB": ("Full name", "Address", "Mobile", "Email", "NI number", "Account", "Dear"),
}


def _valid_phone(fake: Faker, region: str, rng: Random) -> str:
    """A phone number valid for `region`: Faker's when libphonenumber accepts it, else one made from
    libphonenumber's mobile example with its last digits drawn from `rng`, in national format."""
    for _ in range(25):
        candidate = str(fake.phone_number())
        if "x" in candidate:  # an extension is not part of the number
            continue
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number_for_region(number, region):
            return candidate
    return _random_mobile(region, rng, 5)


def _random_mobile(region: str, rng: Random, drawn: int) -> str:
    """A valid mobile number of `region` in national format: libphonenumber's example with its last `drawn`
    digits drawn from `rng`."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    assert example is not None
    digits = str(example.national_number)
    while True:
        tail = "".join(rng.choice(string.digits) for _ in range(drawn))
        number = phonenumbers.parse(f"+{example.country_code}{digits[:-drawn]}{tail}", None)
        if phonenumbers.is_valid_number_for_region(number, region):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


_TITLE_LISTS = (
    "prefixes",
    "prefixes_male",
    "prefixes_female",
    "suffixes",
    "suffixes_male",
    "suffixes_female",
)


def _plain_name(fake: Faker) -> str:
    """A name without the honorifics and degrees Faker sometimes adds (a title is not the person's name,
    and the eval counts words left over)."""
    titles = {str(t) for p in fake.get_providers() for a in _TITLE_LISTS for t in getattr(p, a, None) or ()}
    name = str(fake.name())
    for _ in range(30):
        if not any(word in titles or word.endswith(".") for word in name.split()):
            break
        name = str(fake.name())
    return name


def _identity_number(fake: Faker, locale: str) -> str:
    """The locale's identity number; ko_KR's ssn() can print month 00 or 13+, which no real one has."""
    for _ in range(50):
        value = str(fake.ssn())
        if locale != "ko_KR" or (1 <= int(value[2:4]) <= 12 and 1 <= int(value[4:6]) <= 28):
            break
    return value


def _round6_record(fake: Faker, locale: str, rng: Random) -> dict[str, str]:
    """One made-up person of `locale`; kinds the locale cannot make natively are left out."""
    record = {"PERSON": _plain_name(fake), "PHONE": _valid_phone(fake, ROUND6_REGION[locale], rng)}
    if locale not in ROUND6_NO_ADDRESS:
        record["ADDRESS"] = ", ".join(line.strip().rstrip(",") for line in str(fake.address()).splitlines())
    record["EMAIL"] = str(fake.email())
    if locale in ROUND6_ID_LOCALES:
        record["SSN"] = _identity_number(fake, locale)
    if locale in ("en_IN", "hi_IN"):
        india = fake if locale == "en_IN" else Faker("en_IN")
        india.seed_instance(rng.randrange(1 << 30))
        record["SSN"] = str(india.aadhaar_id())
    if locale in ROUND6_IBAN_LOCALES:
        record["IBAN"] = str(fake.iban())
    return record


def _round6_render(style: int, r: dict[str, str], ref: str) -> str:
    """The record as one kind of program output not used in earlier rounds (style picks which)."""
    g = {k: r.get(k, "-") for k in ("PERSON", "ADDRESS", "PHONE", "EMAIL", "SSN", "IBAN")}
    name, addr, phone, mail, ident, iban = g.values()
    styles: tuple[Callable[[], str], ...] = (
        lambda: (  # Python logging of a dict
            f"2026-11-30 14:02:11,487 INFO crm.sync upsert {{'id': '{ref}', 'name': '{name}', "
            f"'phone': '{phone}', 'email': '{mail}', 'address': '{addr}', 'national_id': '{ident}', "
            f"'iban': '{iban}', 'updated': True}}"
        ),
        lambda: (  # a semicolon CSV as a European spreadsheet exports it
            "customer_no;full_name;phone;email;postal_address;id_number;iban;balance\n"
            f'{ref};{name};{phone};{mail};"{addr}";{ident};{iban};1.204,50'
        ),
        lambda: (  # a shipping label
            f"================ SHIP TO ================\n{name}\n{addr}\nTel: {phone}\n"
            f"-----------------------------------------\nOrder {ref}   Parcel 1/1   2.4 kg   COD no\n"
            f"Notify: {mail}   ID checked: {ident}"
        ),
        lambda: (  # a traceback that prints the frame's locals
            'Traceback (most recent call last):\n  File "/app/kyc/verify.py", line 88, in verify\n'
            "    raise KycMismatch(ref)\n    ├ ref = '" + ref + "'\n"
            f"    └ applicant = Applicant(name='{name}', phone='{phone}', email='{mail}', "
            f"address='{addr}', id_number='{ident}', iban='{iban}')\n"
            "kyc.errors.KycMismatch: document does not match applicant"
        ),
        lambda: (  # an e-mail with headers
            f'From: "Shop Support" <support@shop.example>\nTo: "{name}" <{mail}>\n'
            f"Subject: Your order {ref} is on its way\nDate: Mon, 30 Nov 2026 14:02:11 +0000\n\n"
            f"Dear {name},\n\nyour parcel is on its way to {addr}. The courier will call you on {phone} "
            f"before delivery.\nFor returns we will refund to {iban}; identity on file: {ident}.\n\n"
            "Kind regards"
        ),
        lambda: (  # tabulate's grid format
            "+-------------+----------------------------------------------+\n"
            "| field       | value                                        |\n"
            "+=============+==============================================+\n"
            f"| ref         | {ref} |\n| name        | {name} |\n| phone       | {phone} |\n"
            f"| email       | {mail} |\n| address     | {addr} |\n| id_number   | {ident} |\n"
            f"| iban        | {iban} |\n+-------------+----------------------------------------------+"
        ),
        lambda: (  # protobuf text format
            f'customer {{\n  id: "{ref}"\n  display_name: "{name}"\n  contact {{\n'
            f'    phone_number: "{phone}"\n'
            f'    email: "{mail}"\n  }}\n  postal_address: "{addr}"\n  national_id: "{ident}"\n'
            f'  payout_iban: "{iban}"\n}}'
        ),
        lambda: json.dumps(  # a pretty-printed GraphQL response
            {
                "data": {
                    "customer": {
                        "id": ref,
                        "displayName": name,
                        "contact": {"phoneNumber": phone, "emailAddress": mail},
                        "shippingAddress": {"formatted": addr},
                        "identityDocument": {"number": ident},
                        "payout": {"iban": iban},
                    }
                }
            },
            indent=2,
            ensure_ascii=False,
        ),
        lambda: (  # journald with quoted key=value pairs
            f'Nov 30 14:02:11 app-7 billing[812]: level=error msg="charge declined" ref={ref} '
            f'cust_name="{name}" cust_phone="{phone}" cust_mail="{mail}" cust_addr="{addr}" '
            f'doc="{ident}" iban="{iban}"'
        ),
        lambda: (  # a Kotlin data class's toString
            f"W/CheckoutViewModel: validation failed for Customer(id={ref}, fullName={name}, "
            f"phone={phone}, email={mail}, address={addr}, nationalId={ident}, iban={iban})"
        ),
        lambda: (  # psql's expanded display
            "-[ RECORD 1 ]--+----------------------------------------\n"
            f"id             | {ref}\nfull_name      | {name}\nphone          | {phone}\n"
            f"email          | {mail}\npostal_address | {addr}\nid_number      | {ident}\n"
            f"iban           | {iban}\ncreated_at     | 2026-11-30 14:02:11.487+00"
        ),
        lambda: (  # a markdown issue comment
            f"### Complaint {ref}\n\n**Reporter:** {name} ({mail})\n**Callback number:** {phone}\n"
            f"**Site address:** {addr}\n**ID verified:** {ident}\n**Refund to:** {iban}\n\n"
            "> The installer did not show up on Tuesday."
        ),
        lambda: (  # Serilog's rendering of a destructured object
            f'[14:02:11 ERR] Payment declined for Customer {{ Id: "{ref}", Name: "{name}", '
            f'Phone: "{phone}", Email: "{mail}", Address: "{addr}", NationalId: "{ident}", '
            f'Iban: "{iban}" }}\nSystem.InvalidOperationException: card issuer unavailable'
        ),
        lambda: (  # PHP's print_r
            f"Array\n(\n    [id] => {ref}\n    [name] => {name}\n    [phone] => {phone}\n"
            f"    [email] => {mail}\n    [address] => {addr}\n    [national_id] => {ident}\n"
            f"    [iban] => {iban}\n)"
        ),
        lambda: (  # Elixir's inspect of a struct
            f'%Shop.Customer{{address: "{addr}", email: "{mail}", iban: "{iban}", id: "{ref}", '
            f'name: "{name}", national_id: "{ident}", phone: "{phone}"}}'
        ),
        lambda: (  # the MongoDB shell
            f"{{\n  _id: ObjectId('6566f0c2a1b2c3d4e5f60718'),\n  ref: '{ref}',\n  name: '{name}',\n"
            f"  phone: '{phone}',\n  email: '{mail}',\n  address: '{addr}',\n  nationalId: '{ident}',\n"
            f"  iban: '{iban}'\n}}"
        ),
        lambda: (  # a unified diff of a fixture file
            "--- a/fixtures/customers.yaml\n+++ b/fixtures/customers.yaml\n@@ -3,7 +3,7 @@\n"
            f"   - id: {ref}\n-    name: TODO\n+    name: {name}\n+    phone: '{phone}'\n"
            f"+    email: {mail}\n+    address: '{addr}'\n+    national_id: '{ident}'\n+    iban: {iban}"
        ),
        lambda: (  # a tab-separated export
            "ref\tname\tphone\temail\taddress\tid_number\tiban\n"
            f"{ref}\t{name}\t{phone}\t{mail}\t{addr}\t{ident}\t{iban}"
        ),
        lambda: (  # docker compose logs
            f'web-1     | 172.18.0.5 - - [30/Nov/2026:14:02:11 +0000] "POST /signup HTTP/1.1" 201 512\n'
            f"worker-1  | new signup ref={ref} name={name!r} phone={phone!r} email={mail!r}\n"
            f"worker-1  | geocoding {addr!r} ... ok\nworker-1  | kyc document {ident} iban {iban} queued"
        ),
        lambda: (  # a fixed-width report
            f"{'REF':<12}{'NAME':<34}{'PHONE':<22}EMAIL\n{ref:<12}{name:<34}{phone:<22}{mail}\n"
            f"{'':<12}ADDRESS: {addr}\n{'':<12}ID: {ident}   IBAN: {iban}"
        ),
    )
    return styles[style % len(styles)]()


def _round6_local(style: int, r: dict[str, str], ref: str, locale: str) -> str:
    """The record under the locale's own field labels: a form, a one-line receipt or a letter."""
    name_l, addr_l, phone_l, mail_l, id_l, iban_l, greet = ROUND6_LABELS[locale]
    fields = [(name_l, "PERSON"), (addr_l, "ADDRESS"), (phone_l, "PHONE"), (mail_l, "EMAIL"),
              (id_l, "SSN"), (iban_l, "IBAN")]  # fmt: skip
    shown = [(label, r[kind]) for label, kind in fields if kind in r]
    if style % 3 == 0:
        return f"#{ref}\n" + "\n".join(f"{label}: {value}" for label, value in shown)
    if style % 3 == 1:
        return f"[{ref}] " + " · ".join(f"{label} {value}" for label, value in shown)
    rest = "\n".join(f"  {label}: {value}" for label, value in shown[1:])
    return f"{greet} {r['PERSON']},\n\n{ref}\n{rest}\n"


def round6_records(locales: tuple[str, ...] = ROUND6_LOCALES, seed: int = ROUND6_SEED) -> list[Planted]:
    """Two records per locale: one in a program-output format, one under the locale's labels (every second
    one with its phone as a national digit run), one planted value per field."""
    samples: list[Planted] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        rng = Random(seed + index)
        for n in range(2):
            record = _round6_record(fake, locale, rng)
            ref = f"{fake.bothify('??').upper()}-{fake.random_int(10_000, 99_999)}"
            if n == 0:
                text = _round6_render(index, record, ref)
            else:
                if index % 2 == 0:
                    number = phonenumbers.parse(record["PHONE"], ROUND6_REGION[locale])
                    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
                    record["PHONE"] = "".join(ch for ch in national if ch.isdigit())
                text = _round6_local(index, record, ref, locale)
            samples += [Planted(kind, value, text) for kind, value in record.items()]
    return samples


def _round6_ids() -> list[tuple[str, str]]:
    """(label line, value): national identity numbers with their checksums, from Faker's locale providers."""
    made: list[tuple[str, str]] = []
    recipes: tuple[tuple[str, str, str], ...] = (
        ("it_IT", "ssn", "Anagrafica aggiornata - codice fiscale {} verificato"),
        ("fi_FI", "ssn", "Potilas: henkilötunnus {} (ajanvaraus 14:30)"),
        ("no_NO", "ssn", "Søknad mottatt, fødselsnummer {} registrert"),
        ("et_EE", "ssn", "Klient isikukood {} - leping allkirjastatud"),
        ("cs_CZ", "birth_number", "Pojištěnec, rodné číslo {}, pobočka Brno"),
        ("hr_HR", "ssn", "Račun izdan na OIB {}"),
        ("en_CA", "ssn", "T4 slip generated for SIN {}"),
        ("es_ES", "nif", "Titular con DNI {} - contrato 2026/0457"),
        ("lv_LV", "ssn", "Personas kods {} apstiprināts"),
        ("hu_HU", "ssn", "Ügyfél személyi azonosító: {}"),
        ("en_IN", "aadhaar_id", "eKYC ok: Aadhaar {}"),
        ("pl_PL", "nip", "Faktura dla NIP {} wystawiona"),
        ("pt_BR", "cpf", "Nota fiscal emitida para o CPF {}"),
        ("es_MX", "rfc", "Factura CFDI timbrada, RFC del receptor {}"),
        ("de_AT", "ssn", "Versicherungsnummer {} an die ÖGK übermittelt"),
        ("en_PH", "ssn", "SSS number {} linked to payroll"),
        ("tr_TR", "ssn", "müşteri doğrulandı: TCKN={}"),  # noqa: RUF001
        ("ko_KR", "ssn", "본인확인 완료 (주민번호 {})"),
    )
    for n, (locale, method, line) in enumerate(recipes):
        fake = Faker(locale)
        fake.seed_instance(ROUND6_SEED + 500 + n)
        value = str(getattr(fake, method)())
        if method == "aadhaar_id":
            value = " ".join(value[i : i + 4] for i in range(0, 12, 4))
        made.append((line.format(value), value))
    return made


def _round6_phones() -> list[tuple[str, str]]:
    """(line, value): valid mobile numbers of 14 countries written as their people write them."""
    rng = Random(ROUND6_SEED + 700)
    lines = (
        ("VN", "Gọi lại cho khách: {}"), ("TR", "müşteri cep: {}"), ("ID", "WA admin: {}"),
        ("PL", "tel. kom. {}"), ("TH", "โทร {} (คุณแม่)"), ("IN", "mob no {}"), ("KR", "연락처 {}"),
        ("JP", "携帯 {}"), ("CN", "手机号：{}"), ("IL", "נייד: {}"), ("BR", "WhatsApp {}"),  # noqa: RUF001
        ("MX", "cel. {}"), ("EG", "موبايل {}"), ("IR", "موبایل {}"),
    )  # fmt: skip
    made: list[tuple[str, str]] = []
    for region, line in lines:
        value = _random_mobile(region, rng, 6)
        if region == "IR":  # written with Persian digits
            value = value.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
        if region == "IN":  # an Indian mobile as two groups of five
            national = "".join(ch for ch in value if ch.isdigit()).lstrip("0")
            value = f"{national[:5]} {national[5:]}"
        made.append((line.format(value), value))
    return made


# (kind, value, the line a program printed it in: {} is the value)
ROUND6_HANDWRITTEN = (
    # people, as program output mentions them
    ("PERSON", "Nguyễn Thị Minh Khai", "Khách hàng {} đã thanh toán đơn DH-2026-000123"),
    ("PERSON", "Zeynep Kılıçarslan-Öztürk", "Müşteri: {}, şikâyet kaydı açıldı"),  # noqa: RUF001
    ("PERSON", "สมศรี ทองดี", "ผู้ติดต่อ: {} (ฝ่ายบัญชี)"),
    ("PERSON", "김민준", "담당자 {} 님이 요청을 승인했습니다"),
    ("PERSON", "佐藤 花子", "担当：{}（経理部）"),  # noqa: RUF001
    ("PERSON", "王秀英", "联系人：{}，已回访"),  # noqa: RUF001
    ("PERSON", "יוסי כהן", "נציג: {} סגר את הפנייה"),  # noqa: RUF001
    ("PERSON", "زهرا احمدی", "نماینده فروش: {}"),
    ("PERSON", "محمد بن عبدالله العتيبي", "الموظف المسؤول: {}"),
    ("PERSON", "Siti Nurhaliza binti Abdullah", "Pelanggan {} mendaftar hari ini"),
    ("PERSON", "Krzysztof Wiśniewski", "Zgłoszenie przyjął Pan {}"),
    ("PERSON", "राजेश कुमार शर्मा", "आवेदक: श्री {}"),
    ("PERSON", "María Guadalupe Hernández López", "Atendió: Sra. {}"),
    ("PERSON", "Jörg Müller-Lüdenscheidt", "Sachbearbeiter Hr. {} hat den Antrag geprüft"),
    ("PERSON", "Anne-Sophie Lefèvre", "Dossier suivi par Mme {}"),
    ("PERSON", "Pieter de Vries", "Behandeld door dhr. {}"),
    ("PERSON", "Lars-Erik Lindqvist", "Ärendet tilldelat {}"),
    ("PERSON", "Chukwuemeka Obi", "assigned_to={} status=open"),
    # addresses
    ("ADDRESS", "Atatürk Cad. No: 45 D: 7, 34710 Kadıköy/İstanbul", "teslimat adresi: {}"),  # noqa: RUF001
    ("ADDRESS", "شارع الملك فهد، حي العليا، الرياض 12214", "عنوان التسليم: {}"),
    ("ADDRESS", "서울특별시 강남구 테헤란로 152, 12층", "배송지: {}"),
    ("ADDRESS", "〒150-0002 東京都渋谷区渋谷2-21-1", "お届け先：{}"),  # noqa: RUF001
    ("ADDRESS", "רחוב הרצל 12, תל אביב-יפו 6578101", "כתובת למשלוח: {}"),
    ("ADDRESS", "تهران، خیابان ولیعصر، پلاک ۱۲۳۴، کد پستی ۱۵۱۱۷-۳۴۵۶۷", "نشانی: {}"),  # noqa: RUF001
    ("ADDRESS", "मकान नं. 12, गांधी मार्ग, जयपुर, राजस्थान 302001", "डिलीवरी पता: {}"),
    ("ADDRESS", "ul. Marszałkowska 84/92 m. 15, 00-514 Warszawa", "adres dostawy: {}"),
    ("ADDRESS", "Storgatan 12 B, 114 55 Stockholm", "levereras till {}"),
    ("ADDRESS", "Keizersgracht 418-2, 1016 GC Amsterdam", "bezorgadres: {}"),
    (
        "ADDRESS",
        "Rua das Laranjeiras, 310, apto 52, Laranjeiras, Rio de Janeiro - RJ, 22240-003",
        "Entrega: {}",
    ),
    (
        "ADDRESS",
        "Av. Insurgentes Sur 1602, Col. Crédito Constructor, Benito Juárez, 03940 Ciudad de México",
        "enviar a {}",
    ),
    (
        "ADDRESS",
        "Flat 3B, Sai Krupa Apartments, 14th Cross, Indiranagar, Bengaluru 560038",
        "deliver_to='{}'",
    ),
    ("ADDRESS", "12 Acacia Avenue, Leeds LS6 2AB", "Ship to: {}"),
    ("ADDRESS", "Số 18 ngõ 55 Huỳnh Thúc Kháng, Đống Đa, Hà Nội", "giao hàng tới {}"),
    ("ADDRESS", "88/9 ซอยสุขุมวิท 31 แขวงคลองตันเหนือ เขตวัฒนา กรุงเทพฯ 10110", "ส่งที่ {}"),
    ("ADDRESS", "上海市浦东新区世纪大道100号 200120", "收货地址：{}"),  # noqa: RUF001
    # e-mails
    ("EMAIL", "ayse.yilmaz@firma.com.tr", "bildirim gönderildi -> {}"),
    ("EMAIL", "nguyen.van.an@congty.vn", "reply-to: {}"),
    ("EMAIL", "josé.garcía@correo.mx", "notificar a {}"),
    ("EMAIL", "k.wisniewski+faktury@poczta.pl", "CC: {}"),
)


def round6_handwritten() -> list[Planted]:
    """Round 6's hand-written values (and Faker identity numbers and libphonenumber-checked phones), each in
    a line a program could print."""
    planted = [Planted(kind, value, line.format(value)) for kind, value, line in ROUND6_HANDWRITTEN]
    planted += [Planted("SSN", value, line) for line, value in _round6_ids()]
    planted += [Planted("SSN", "NE 67 13 29 B", "HMRC match: NI number NE 67 13 29 B confirmed")]
    planted += [Planted("PHONE", value, line) for line, value in _round6_phones()]
    return planted


ROUND6_CLEAN = (
    "order ORD-2026-004512 shipped in 3 parcels",
    "SKU TR-34-0532-1234 restocked: 45 units",
    "Windows build 10.0.19045.3693, driver 31.0.15.5222",
    "numpy 1.26.4, pandas 2.2.2, pyarrow 15.0.2, scikit-learn 1.4.2",
    "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  data.csv",
    "HEAD is now at 4f2a9c1 (tag: v2.14.0) merge branch 'release/2.14'",
    "2026-11-30T14:02:11.487+07:00 batch 0045 done in 0.912 s",
    "client 192.0.2.44 -> 198.51.100.7:8443 via 203.0.113.250",
    "prefix 2001:db8:85a3::/48 advertised on eth0",
    "EAN 8934588012346 ISBN 978-604-1-12345-6",
    "tracking 1Z 999 AA1 01 2345 6784 out for delivery",
    "suma brutto 1.234.567,89 zł (VAT 23%)",
    "Unix ms 1764511331000, epoch s 1764511331",
    "sequence 0912345678 of 9999999999 processed",
    "RAM 17 179 869 184 bytes, swap 0 bytes",
    "lot 20261130-0045-12 passed QA",
    "PO-2026-11-000987 approved by workflow",
    "container 3f4e5d6c7b8a exited with code 0",
    "pod web-7d9f8b6c5d-x2kqz restarted 3 times",
    "MAC 00:1A:2B:3C:4D:5E link up 1000 Mb/s",
    "NodePort range 30000-32767",
    "centroid 10.7769, 106.7009 (cluster 4 of 12)",
    "ticket INC0012345 resolved; KB0010023 linked",
    "Mã đơn hàng DH-2026-000124 đã giao thành công",
    "Sipariş No: 2026113000451 kargoya verildi",
    "Faktura VAT nr FV/2026/11/0457 zaksięgowana",
    "ใบเสร็จเลขที่ INV-6611-000123 ยอด 1,250.00 บาท",
    "주문번호 20261130-000045 배송 완료",
    "注文番号 2026-1130-0045 の発送が完了しました",
    "订单号 202611300045678 已发货",
    "הזמנה מס' 2026-004512 נשלחה",
    "شماره سفارش ۱۴۰۵۰۹۱۰-۰۰۴۵ ارسال شد",
    "رقم الطلب 2026-000451 تم الشحن",
    "ऑर्डर संख्या 2026-004512 भेज दिया गया",
    "Pedido nº 2026.11.30.0045 enviado",
    "Folio 0045-2026 timbrado correctamente",
    "Galaxy S24 Ultra SM-S928B firmware S928BXXS3AXJ1",
    "CVE-2024-3094 patched in xz 5.6.1-2",
    "chmod 0755 /output/run.sh",
    "temperature 36.6 °C, pressure 1013.25 hPa, humidity 81 %",
    "grad norm 1.2345e-05 at step 004512",
    "ISO 3166-2 codes: VN-SG, TR-34, ID-JK, PL-14, TH-10",
    "HTTP 503 after 0.250 s; retry 3/5",
    "canvas 1920 x 1080 px at 300 dpi",
    "request id 123e4567-e89b-12d3-a456-426614174000",
    "bbox 40.8,28.5,41.3,29.4 (Istanbul tile z=9)",
    "Tổng cộng 12 345 678 ₫",
    "Ho Chi Minh City and Hanoi stores grew 12 % and 9 %",
    "Baltic Sea Region dataset v3 (NUTS-2, 2024)",
    "Grand Bazaar footfall index 118.4",
    "Euler Maruyama scheme, dt=0.001, 10 000 paths",
    "Route 66 playlist, 42 tracks, 2:41:07",
    "invoice 0031 2026 0000 4512 (reference, not an account)",
    "batch 0800 1234 5678 exported to parquet",
    "phone_model_count=412, phone_col_nulls=0",
)


def round6_clean_generated(seed: int = ROUND6_SEED + 100) -> list[str]:
    """Look-alikes made with Faker in the round's locales: dates, SKUs, barcodes, amounts, local words."""
    lines: list[str] = []
    for index, locale in enumerate(ROUND6_LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + index)
        lines.append(
            f"{fake.date_between(EPOCH, EPOCH + timedelta(days=1500)).isoformat()} "
            f"{fake.bothify('SKU-???-####').upper()} x{fake.random_int(1, 40)} "
            f"{fake.random_int(1, 9_999)}.{fake.random_int(0, 99):02d} {fake.currency_code()} "
            f"EAN {fake.ean13()} [{fake.word()}]"
        )
    return lines


# Round 7 (2026-12-01), written blind by an outside evaluator (who did not read the detectors, their word
# lists or the earlier rounds' rows) and split BY TECHNIQUE before any detector was run on it:
#   tuning7  locales  cs_CZ ro_RO fi_FI it_IT pt_PT en_AU de_AT sk_SK es_CL mk_MK uk_UA
#            formats  logfmt line, CSV under native headers, native-label form (phone as a national digit
#                     run), e-mail with headers and greeting, postal letter (address block on its own lines)
#            ids      it_IT codice fiscale, ro_RO CNP, uk_UA RNOKPP, de_AT SV-Nummer, es_CL RUT
#            clean    product codes, versions and build ids, chemical names, coordinates, capitalised terms
#   heldout7 locales  hu_HU el_GR da_DK no_NO es_ES fr_CA hr_HR nl_BE en_IE en_NZ zu_ZA
#            formats  nested JSON, YAML under native keys, fixed-width table under native headers, traceback
#                     message (phone as a national digit run after "tel"), vCard 3.0
#            ids      hu_HU személyi szám, no_NO fødselsnummer, es_ES NIF, hr_HR OIB, el_GR AFM
#            clean    order and ticket ids, timestamps and durations, street-named products, measurements
#                     and lot numbers, place-named things
# Each locale's record is printed in three of its half's five formats; every format plants PERSON, ADDRESS,
# PHONE and EMAIL, plus the locale's identity number, IBAN (Faker's, or built with its checksum where Faker
# falls back to GB) and every second record a card. No value depends on today's date: birth dates for
# identity numbers are drawn from the seeded source and passed in.
ROUND7_SEED = SEED + 7000
ROUND7_TUNING_LOCALES = (
    "cs_CZ", "ro_RO", "fi_FI", "it_IT", "pt_PT", "en_AU", "de_AT", "sk_SK", "es_CL", "mk_MK", "uk_UA",
)  # fmt: skip
ROUND7_HELDOUT_LOCALES = (
    "hu_HU", "el_GR", "da_DK", "no_NO", "es_ES", "fr_CA", "hr_HR", "nl_BE", "en_IE", "en_NZ", "zu_ZA",
)  # fmt: skip
ROUND7_REGION = {
    "cs_CZ": "CZ", "ro_RO": "RO", "fi_FI": "FI", "it_IT": "IT", "pt_PT": "PT", "en_AU": "AU", "de_AT": "AT",
    "sk_SK": "SK", "es_CL": "CL", "mk_MK": "MK", "uk_UA": "UA", "hu_HU": "HU", "el_GR": "GR", "da_DK": "DK",
    "no_NO": "NO", "es_ES": "ES", "fr_CA": "CA", "hr_HR": "HR", "nl_BE": "BE", "en_IE": "IE", "en_NZ": "NZ",
    "zu_ZA": "ZA",
}  # fmt: skip
# Countries with IBANs whose Faker bank provider falls back to a GB number: (country, digits in the BBAN).
ROUND7_BUILT_IBAN = {"hu_HU": ("HU", 24), "hr_HR": ("HR", 17)}
ROUND7_NO_IBAN = ("en_AU", "es_CL", "fr_CA", "en_NZ", "zu_ZA")
# Field labels as each locale's own forms print them: name, address, phone, e-mail, identity number, IBAN,
# card, greeting.
ROUND7_LABELS: dict[str, tuple[str, str, str, str, str, str, str, str]] = {
    "cs_CZ": (
        "Jméno a příjmení",
        "Adresa",
        "Telefon",
        "E-mail",
        "Číslo OP",
        "IBAN",
        "Číslo karty",
        "Dobrý den",
    ),
    "ro_RO": (
        "Nume și prenume",
        "Adresă",
        "Telefon",
        "E-mail",
        "CNP",
        "IBAN",
        "Număr card",
        "Stimate client",
    ),
    "fi_FI": (
        "Nimi",
        "Osoite",
        "Puhelin",
        "Sähköposti",
        "Henkilötunnus",
        "Tilinumero",
        "Kortin numero",
        "Hei",
    ),
    "it_IT": (
        "Nome e cognome",
        "Indirizzo",
        "Telefono",
        "E-mail",
        "Codice fiscale",
        "IBAN",
        "Numero carta",
        "Gentile",
    ),
    "pt_PT": ("Nome", "Morada", "Telefone", "E-mail", "NIF", "IBAN", "Número do cartão", "Caro(a)"),
    "en_AU": (
        "Full name",
        "Postal address",
        "Mobile",
        "Email",
        "Customer no.",
        "Account",
        "Card number",
        "Dear",
    ),
    "de_AT": (
        "Name",
        "Anschrift",
        "Telefon",
        "E-Mail",
        "SV-Nummer",
        "IBAN",
        "Kartennummer",
        "Sehr geehrte/r",
    ),
    "sk_SK": (
        "Meno a priezvisko",
        "Adresa",
        "Telefón",
        "E-mail",
        "Rodné číslo",
        "IBAN",
        "Číslo karty",
        "Dobrý deň",
    ),
    "es_CL": ("Nombre", "Dirección", "Teléfono", "Correo", "RUT", "Cuenta", "Tarjeta", "Estimado/a"),
    "mk_MK": (
        "Име и презиме",
        "Адреса",
        "Телефон",
        "Е-пошта",  # noqa: RUF001
        "ЕМБГ",
        "IBAN",
        "Број на картичка",
        "Почитуван/а",  # noqa: RUF001
    ),
    "uk_UA": ("ПІБ", "Адреса", "Телефон", "Ел. пошта", "РНОКПП", "IBAN", "Номер картки", "Шановний/а"),  # noqa: RUF001
    "hu_HU": (
        "Név",
        "Lakcím",
        "Telefonszám",
        "E-mail",
        "Személyi szám",
        "Bankszámla",
        "Kártyaszám",
        "Tisztelt",
    ),
    "el_GR": (
        "Ονοματεπώνυμο",
        "Διεύθυνση",
        "Τηλέφωνο",
        "Email",
        "ΑΦΜ",
        "IBAN",
        "Αριθμός κάρτας",
        "Αγαπητέ/ή",
    ),
    "da_DK": ("Navn", "Adresse", "Telefon", "E-mail", "Kundenr.", "IBAN", "Kortnummer", "Kære"),
    "no_NO": ("Navn", "Adresse", "Telefon", "E-post", "Fødselsnummer", "Kontonummer", "Kortnummer", "Hei"),
    "es_ES": (
        "Nombre",
        "Domicilio",
        "Teléfono",
        "Correo electrónico",
        "DNI/NIF",
        "IBAN",
        "Nº de tarjeta",
        "Estimado/a",
    ),
    "fr_CA": ("Nom", "Adresse", "Téléphone", "Courriel", "No de dossier", "Compte", "No de carte", "Bonjour"),
    "hr_HR": ("Ime i prezime", "Adresa", "Telefon", "E-pošta", "OIB", "IBAN", "Broj kartice", "Poštovani"),
    "nl_BE": ("Naam", "Adres", "Telefoon", "E-mail", "Klantnummer", "IBAN", "Kaartnummer", "Beste"),
    "en_IE": ("Name", "Address", "Phone", "Email", "Account ref", "IBAN", "Card number", "Dear"),
    "en_NZ": ("Name", "Address", "Mobile", "Email", "Client no.", "Account", "Card number", "Kia ora"),
    "zu_ZA": (
        "Igama",
        "Ikheli",
        "Ucingo",
        "I-imeyili",
        "Inombolo yekhasimende",
        "I-akhawunti",
        "Inombolo yekhadi",
        "Sawubona",
    ),
}
_KINDS = ("PERSON", "ADDRESS", "PHONE", "EMAIL", "SSN", "IBAN", "CREDIT_CARD")


def _round7_identity(fake: Faker, locale: str, rng: Random) -> str | None:
    """The locale's checksummed identity number, its birth date (where it has one) drawn from `rng`."""
    year, month, day = rng.randint(1950, 2003), rng.randint(1, 12), rng.randint(1, 28)
    made: dict[str, Callable[[], str]] = {
        "it_IT": lambda: str(fake.ssn()),
        "ro_RO": lambda: str(fake.ssn()),
        "uk_UA": lambda: str(fake.ssn(birthday=f"{day:02d}-{month:02d}-{year}")),
        "de_AT": lambda: str(fake.ssn(birthdate=datetime(year, month, day).date())),
        "es_CL": lambda: str(fake.rut()),
        "hu_HU": lambda: str(fake.ssn(dob=f"{year % 100:02d}{month:02d}{day:02d}")),
        "no_NO": lambda: str(fake.ssn(dob=f"{year}{month:02d}{day:02d}")),
        "es_ES": lambda: str(fake.nif()),
        "hr_HR": lambda: str(fake.ssn()),
        "el_GR": lambda: str(fake.tin()),
    }
    return made[locale]() if locale in made else None


def _round7_email(fake: Faker, name: str, rng: Random) -> str:
    """An address made from the person's name (Faker's email() can put a year counted from today in it)."""
    words = ["".join(ch for ch in unidecode(word).lower() if ch.isalnum()) for word in name.split()]
    local = rng.choice((".", "_", "")).join(word for word in words if word)
    return f"{local}{rng.choice(('', str(rng.randint(1, 99))))}@{fake.safe_domain_name()}"


def _round7_record(fake: Faker, locale: str, rng: Random, with_card: bool) -> dict[str, str]:
    region = ROUND7_REGION[locale]
    phone = _valid_phone(fake, region, rng)
    record = {
        "PERSON": _plain_name(fake),
        "ADDRESS": ", ".join(line.strip().rstrip(",") for line in str(fake.address()).splitlines()),
        "PHONE": phone,
        "DIGITS": _national_digits(phone, region),
        "EMAIL": "",
    }
    record["EMAIL"] = _round7_email(fake, record["PERSON"], rng)
    identity = _round7_identity(fake, locale, rng)
    if identity:
        record["SSN"] = identity
    if locale in ROUND7_BUILT_IBAN:
        country, length = ROUND7_BUILT_IBAN[locale]
        record["IBAN"] = _iban(country, "".join(rng.choice(string.digits) for _ in range(length)))
    elif locale not in ROUND7_NO_IBAN:
        record["IBAN"] = " ".join(textwrap.wrap(str(fake.iban()), 4))
    if with_card:
        record["CREDIT_CARD"] = str(fake.credit_card_number())
    return record


def _round7_moment(rng: Random) -> str:
    return (EPOCH + timedelta(seconds=rng.randrange(4 * 365 * 86_400))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round7_tuning_format(
    style: int, r: dict[str, str], locale: str, rng: Random
) -> tuple[str, dict[str, str]]:
    """One record in a tuning7 format; returns the text and the planted values as printed in it."""
    name, address, phone, email, ident, iban, card, greeting = ROUND7_LABELS[locale]
    extra = {k: r[k] for k in ("SSN", "IBAN", "CREDIT_CARD") if k in r}
    label = {"SSN": ident, "IBAN": iban, "CREDIT_CARD": card}
    if style == 0:  # logfmt
        fields = " ".join(f'{k.lower()}="{v}"' for k, v in extra.items())
        text = (
            f'ts={_round7_moment(rng)} level=info svc=crm msg="contact updated" '
            f"id={rng.randint(10_000, 99_999)} "
            f'name="{r["PERSON"]}" addr="{r["ADDRESS"]}" tel="{r["PHONE"]}" mail={r["EMAIL"]} {fields}'
        )
        return text.rstrip(), {**{k: r[k] for k in ("PERSON", "ADDRESS", "PHONE", "EMAIL")}, **extra}
    if style == 1:  # CSV under native headers
        heads = [name, address, phone, email, *(label[k] for k in extra)]
        values = [r["PERSON"], r["ADDRESS"], r["PHONE"], r["EMAIL"], *extra.values()]
        row = ",".join(f'"{v}"' if "," in v else v for v in values)
        text = f"nr,{','.join(heads)}\n{rng.randint(1, 999)},{row}"
        return text, {**{k: r[k] for k in ("PERSON", "ADDRESS", "PHONE", "EMAIL")}, **extra}
    if style == 2:  # native-label form, the phone as a national digit run
        lines = [
            f"{name}: {r['PERSON']}",
            f"{address}: {r['ADDRESS']}",
            f"{phone}: {r['DIGITS']}",
            f"{email}: {r['EMAIL']}",
        ]
        lines += [f"{label[k]}: {v}" for k, v in extra.items()]
        planted = {"PERSON": r["PERSON"], "ADDRESS": r["ADDRESS"], "PHONE": r["DIGITS"], "EMAIL": r["EMAIL"]}
        return "\n".join(lines), {**planted, **extra}
    if style == 3:  # e-mail with headers
        body = "; ".join(f"{label[k]} {v}" for k, v in extra.items())
        text = (
            f"From: {r['EMAIL']}\nTo: support@shop.example\nDate: {_round7_moment(rng)}\nSubject: Re: order "
            f"{rng.randint(100_000, 999_999)}\n\n{greeting},\nplease ship to {r['ADDRESS']}. You can reach "
            f"me on "
            f"{r['PHONE']}. {body}\n\n-- \n{r['PERSON']}"
        )
        return text, {**{k: r[k] for k in ("PERSON", "ADDRESS", "PHONE", "EMAIL")}, **extra}
    # postal letter: the address block on its own lines, as a mail-merge prints it
    block = "\n".join(part.strip() for part in r["ADDRESS"].split(", "))
    body = "\n".join(f"{label[k]}: {v}" for k, v in extra.items())
    text = (
        f"{r['PERSON']}\n{block}\n\n{greeting} {r['PERSON'].split()[0]},\nwe confirm the details we hold: "
        f"{phone} {r['PHONE']}, {email} {r['EMAIL']}.\n{body}"
    )
    planted = {"PERSON": r["PERSON"], "ADDRESS": block, "PHONE": r["PHONE"], "EMAIL": r["EMAIL"]}
    return text.rstrip(), {**planted, **extra}


def _round7_heldout_format(
    style: int, r: dict[str, str], locale: str, rng: Random
) -> tuple[str, dict[str, str]]:
    """One record in a heldout7 format; returns the text and the planted values as printed in it."""
    name, address, phone, email, ident, iban, card, _ = ROUND7_LABELS[locale]
    extra = {k: r[k] for k in ("SSN", "IBAN", "CREDIT_CARD") if k in r}
    label = {"SSN": ident, "IBAN": iban, "CREDIT_CARD": card}
    four = {k: r[k] for k in ("PERSON", "ADDRESS", "PHONE", "EMAIL")}
    if style == 0:  # nested JSON
        document = {
            "id": rng.randint(10_000, 99_999),
            "customer": {"fullName": r["PERSON"], "contact": {"phone": r["PHONE"], "email": r["EMAIL"]}},
            "shipping": {"address": r["ADDRESS"]},
            "payment": {k.lower(): v for k, v in extra.items()},
        }
        return json.dumps(document, ensure_ascii=False), {**four, **extra}
    if style == 1:  # YAML under native keys
        lines = [f"- {name}: {r['PERSON']}", f'  {address}: "{r["ADDRESS"]}"', f'  {phone}: "{r["PHONE"]}"']
        lines += [f"  {email}: {r['EMAIL']}", *(f'  {label[k]}: "{v}"' for k, v in extra.items())]
        return "\n".join(lines), {**four, **extra}
    if style == 2:  # fixed-width table under native headers
        cells = [(name, r["PERSON"]), (phone, r["PHONE"]), (email, r["EMAIL"]), (address, r["ADDRESS"])]
        cells += [(label[k], v) for k, v in extra.items()]
        widths = [max(len(h), len(v)) for h, v in cells]
        head = "  ".join(h.ljust(w) for (h, _), w in zip(cells, widths, strict=True))
        rule = "  ".join("-" * w for w in widths)
        row = "  ".join(v.ljust(w) for (_, v), w in zip(cells, widths, strict=True))
        return f"{head}\n{rule}\n{row}".rstrip(), {**four, **extra}
    if style == 3:  # traceback message, the phone as a national digit run after "tel"
        extras = ", ".join(f"{k.lower()}={v!r}" for k, v in extra.items())
        text = (
            'Traceback (most recent call last):\n  File "/app/sync.py", line 88, in push\n    '
            "client.upsert(record)\nValidationError: postcode rejected for "
            f"customer {r['PERSON']} <{r['EMAIL']}> at '{r['ADDRESS']}' (tel {r['DIGITS']}; {extras})"
        )
        planted = {"PERSON": r["PERSON"], "ADDRESS": r["ADDRESS"], "PHONE": r["DIGITS"], "EMAIL": r["EMAIL"]}
        return text, {**planted, **extra}
    # vCard 3.0
    family, _, given = r["PERSON"].rpartition(" ")
    lines = [
        "BEGIN:VCARD",
        "VERSION:3.0",
        f"FN:{r['PERSON']}",
        f"N:{given};{family};;;",
        f"ADR;TYPE=home:;;{r['ADDRESS']}",
        f"TEL;TYPE=cell:{r['PHONE']}",
        f"EMAIL:{r['EMAIL']}",
        *(f"NOTE:{label[k]} {v}" for k, v in extra.items()),
        "END:VCARD",
    ]
    return "\n".join(lines), {**four, **extra}


def round7_records(tuning: bool, seed: int = ROUND7_SEED) -> list[Planted]:
    """Each locale of the half printed in three of the half's five formats, one record a format."""
    locales = ROUND7_TUNING_LOCALES if tuning else ROUND7_HELDOUT_LOCALES
    render_one = _round7_tuning_format if tuning else _round7_heldout_format
    planted: list[Planted] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + (0 if tuning else 50) + index)
        rng = Random(seed + (0 if tuning else 50) + index)
        for turn in range(3):
            record = _round7_record(fake, locale, rng, with_card=(index + turn) % 2 == 0)
            text, values = render_one((index + turn) % 5, record, locale, rng)
            for kind in _KINDS:
                if kind in values:
                    assert values[kind] in text, (locale, kind)
                    planted.append(Planted(kind, values[kind], text))
    return planted


# Clean look-alikes, grouped by technique; the groups alternate between the halves (see the block above).
ROUND7_TUNING_CLEAN = (
    # product codes
    "Restock SKU-CZ-4471-B (Dělnická series) x12, bin A-07-3, EAN 8594001234567 is a barcode not a phone.",
    "part no. 06-07/439-1500-R rev C replaces 06-07/439-1400-R; supplier code HU-BD-8835.",
    "Catalogue: Model MK-389-011 'Букурешка' lamp, 524 lm, 4 W, ref 33025-DB.",
    "Artikel 4740-SP-53 Mitterlehner-Edition, Charge 2026/118, 500 Stück à 0,80 EUR.",
    "item_code=RO-935337-FAG qty=48 unit=buc price=264.00 RON",
    "SKU 0264 391 500 is the printer's toner cartridge (black, 3k pages).",
    "Referência PT-2374-068-ODV: cadeira 'Praça do Falcão', carvalho, 6 unidades.",
    # versions and build ids
    "Upgraded libxml2 2.12.7 -> 2.13.4; openssl 3.0.15; build 20261201.4471 (commit 4f2a91c).",
    "release/v7.14.2-rc.3+build.0420 tagged; wheel: level5-0.7.0-py3-none-any.whl sha256 ok",
    "Android 14 (UP1A.231005.007), kernel 5.15.123-android14-11-g3f9a1c2, security patch 2026-11-05",
    "chart version 1.29.4, appVersion 2.8.1, image digest sha256:9f86d081884c7d65 (truncated)",
    "CUDA 12.4.1 / cuDNN 9.1.0.70 / driver 550.54.15 on node gpu-07",
    "pip freeze: numpy==2.1.3 pandas==2.2.3 scipy==1.14.1 matplotlib==3.9.2",
    # chemical names
    "Sample 17: 2-(4-isobutylphenyl)propanoic acid, 98.7 % purity, CAS 15687-27-1, lot 2410-118.",
    "Reagents: sodium dodecyl sulfate, Tris-HCl pH 7.4, 1,4-dithiothreitol (DTT) 100 mM.",
    "Peak at 6.02 min identified as N,N-diethyl-meta-toluamide; second peak methyl salicylate.",
    "Hexafluorophosphate salts of 1-butyl-3-methylimidazolium were dried at 80 °C for 12 h.",
    "CAS 7732-18-5 (water), CAS 64-17-5 (ethanol), CAS 67-64-1 (acetone) in the solvent table.",
    # coordinates
    "Station Salla-3: 66.8333 N, 28.6667 E, elevation 218 m, reading 2026-02-11 -31.4 °C.",
    "GeoJSON point [14.4378, 50.0755] labelled 'Prague depot'; bbox 14.22,49.94,14.71,50.18",
    "waypoint WP-0914: lat -33.8688 lon 151.2093 (Sydney), next WP-0915 lat -34.4278 lon 150.8931",
    "UTM 33T 448251 5411943; MGRS 33TWN4825111943; grid ref checked by survey team.",
    # capitalised terms
    "The Treaty of Trianon, the Danube Commission and the Vienna Convention were discussed in Chapter 4.",
    "Rosetta Stone, Magna Carta and Dead Sea Scrolls are the three exhibits on floor 2.",
    "Mont Blanc, Monte Rosa and Gran Paradiso top the list of Alpine peaks by prominence.",
    "Apollo Program, Project Gemini and Mercury Seven appear in the reading list for Module B.",
)  # fmt: skip
ROUND7_HELDOUT_CLEAN = (
    # order and ticket ids
    "Order ORD-HU-2026-0081234 shipped; return RMA-55-019283; invoice INV/2026/11/00412.",
    "Ticket INC0049211 merged into PRB0012093; change CHG0031776 approved by CAB.",
    "Booking ref K7Q9ZP, PNR 4HT2LX, e-ticket 220-2412345678 (12 chars of airline code + serial).",
    "Case no. 2026/1184-KR, file HR-OIB-TEST-000 (test fixture name), docket 18 Cv 4471.",
    "Shipment 00340434161234567890 (SSCC) on pallet PAL-NO-8377-36C.",
    "Basket 7f3c2a in session sess_4471_aa; cart items 3; coupon WINTER26.",
    # timestamps and durations
    "2026-11-30T23:59:59.999+01:00 -> 2026-12-01T00:00:00.000+01:00: 1 ms rollover handled.",
    "uptime 41 days, 06:12:55; load average 0.42 0.38 0.35; last boot 20261020 0547.",
    "cron '15 3 * * 1-5' ran at 2026-11-27 03:15:00 CET, took PT4M32S, next run 2026-11-30.",
    "epoch 1764547200 = 2025-12-01 00:00:00 UTC; epoch ms 1764547200123.",
    "Durations: p50 120 ms, p95 480 ms, p99 1 204 ms over 86 400 requests.",
    # street-named products
    "Now playing: 'Abbey Road' (2019 remaster), then 'Penny Lane' and 'Baker Street'.",
    "Wall Street Journal and Fleet Street Press subscriptions renewed for 12 months.",
    "Menu: Rue de la Paix macarons, Champs-Élysées cake, Unter den Linden strudel.",
    "Board game 'Park Lane Tycoon' (ages 8+), puzzle 'Lombard Street 1000 pcs'.",
    "Perfume 'Via Condotti No. 5' 50 ml and candle 'Nevsky Prospekt' 200 g.",
    # measurements and lot numbers
    "Lot 2410-118-B: 25 kg bags, moisture 11.2 %, protein 12.8 %, falling number 320 s.",
    "Voltage 230 V, current 16 A, 3 680 W; meter 44 719 283 kWh (meter serial 06-07439).",
    "Dimensions 1200 x 800 x 144 mm, weight 25.4 kg, stack 4 high, pallet ID EUR-1.",
    "Tyre 205/55 R16 91V, pressure 2.3 bar, tread 6.5 mm, DOT 4421.",
    "Blood test reference ranges: glucose 3.9-5.6 mmol/L, HbA1c 20-42 mmol/mol (table only).",
    # place-named things
    "Varieties tested: Granny Smith, Golden Delicious, Bramley, Cox's Orange Pippin.",
    "Stations on line M2: Déli pályaudvar, Széll Kálmán tér, Batthyány tér, Kossuth Lajos tér.",
    "Cheeses: Jarlsberg, Gouda, Manchego, Kefalotyri, Paški sir, Herve.",
    "Ferry routes: Split-Supetar, Zadar-Preko, Bergen-Stavanger, Dublin-Holyhead.",
    "Dances: Zorba, Hasapiko, Halling, Kolo, Sardana, Tinikling, Indlamu.",
)  # fmt: skip


def round7_clean_generated(tuning: bool, seed: int = ROUND7_SEED + 100) -> list[str]:
    """Look-alikes made from the seeded source in the half's locales: SKUs, builds, amounts, local words."""
    locales = ROUND7_TUNING_LOCALES if tuning else ROUND7_HELDOUT_LOCALES
    lines: list[str] = []
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + (0 if tuning else 50) + index)
        rng = Random(seed + (0 if tuning else 50) + index)
        if tuning:
            lines.append(
                f"build {rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 300)} "
                f"{fake.bothify('SKU-???-####').upper()} x{rng.randint(1, 40)} "
                f"{rng.randint(1, 9_999)}.{rng.randint(0, 99):02d} {fake.currency_code()} [{fake.word()}]"
            )
        else:
            lines.append(
                f"{_round7_moment(rng)} order {fake.bothify('??-#####-##').upper()} "
                f"{rng.randint(1, 9_999)},{rng.randint(0, 99):02d} {fake.currency_code()} "
                f"EAN {fake.ean13()} [{fake.word()}]"
            )
    return lines


# Round 8 (2026-12-01), written blind by a fifth outside evaluator (who read neither the detectors, their word
# lists, the README's account of them, nor earlier rounds' generators or rows) and split BY TECHNIQUE before
# any detector was run on it:
#   tuning8  locales  pl_PL sv_SE sl_SI pt_BR es_MX en_CA ru_RU ka_GE hy_AM id_ID vi_VN
#            formats  Python dict repr in a log line, Markdown table row under an English header, SQL INSERT
#                     with a column list, Go %+v struct print, Rust {:?} Debug print
#            phones   libphonenumber-valid mobiles: international format, or the national digit run
#            ids      pl_PL PESEL, sv_SE personnummer, sl_SI EMSO, pt_BR CPF, es_MX CURP, en_CA SIN,
#                     ru_RU INN, id_ID NIK
#            clean    git SHAs and semver, ISBNs and DOIs, CAS registry numbers, GPS track points, capitalised
#                     product and tool names
#   heldout8 locales  nl_NL de_CH fr_CH es_AR es_CO en_PH th_TH ko_KR he_IL en_IN ja_JP
#            formats  TOML table, XML element with attributes, protobuf text format, Java toString(),
#                     shipping label (name, address lines, phone on their own lines)
#            phones   libphonenumber-valid mobiles: E.164, national format, or the national digit run
#            ids      nl_NL BSN, de_CH/fr_CH AHV number, es_AR CUIT, th_TH national id, ko_KR RRN, he_IL
#                     Teudat Zehut, en_IN Aadhaar, ja_JP My Number
#            clean    UUIDs and Kubernetes resource names, flight numbers and seat codes, invoice totals with
#                     currencies, street-named restaurants in reviews, things named after people (theorems,
#                     diseases, units)
# Each locale's record is printed in three of its half's five formats, a new made-up person each time; every
# format plants PERSON, ADDRESS, PHONE and EMAIL, plus the locale's identity number (checked with
# python-stdnum), an IBAN where the country has one (checked with python-stdnum) and every second record a
# Luhn-valid card. Birth dates for identity numbers come from the seeded source, never from today.
ROUND8_SEED = SEED + 8000
ROUND8_TUNING_LOCALES = (
    "pl_PL", "sv_SE", "sl_SI", "pt_BR", "es_MX", "en_CA", "ru_RU", "ka_GE", "hy_AM", "id_ID", "vi_VN",
)  # fmt: skip
ROUND8_HELDOUT_LOCALES = (
    "nl_NL", "de_CH", "fr_CH", "es_AR", "es_CO", "en_PH", "th_TH", "ko_KR", "he_IL", "en_IN", "ja_JP",
)  # fmt: skip
ROUND8_REGION = {
    "pl_PL": "PL", "sv_SE": "SE", "sl_SI": "SI", "pt_BR": "BR", "es_MX": "MX", "en_CA": "CA", "ru_RU": "RU",
    "ka_GE": "GE", "hy_AM": "AM", "id_ID": "ID", "vi_VN": "VN", "nl_NL": "NL", "de_CH": "CH", "fr_CH": "CH",
    "es_AR": "AR", "es_CO": "CO", "en_PH": "PH", "th_TH": "TH", "ko_KR": "KR", "he_IL": "IL", "en_IN": "IN",
    "ja_JP": "JP",
}  # fmt: skip
# IBAN countries: Faker's own IBAN where it is the country's, else built from (country, BBAN digits).
ROUND8_FAKER_IBAN = ("pl_PL", "pt_BR", "nl_NL", "de_CH", "fr_CH")
ROUND8_BUILT_IBAN = {"sv_SE": ("SE", 20), "sl_SI": ("SI", 15), "ka_GE": ("GE", 16), "he_IL": ("IL", 19)}


def _round8_validated(module: str, make: Callable[[], str]) -> str:
    """A value from `make` that python-stdnum's `module` accepts (drawn again until it does)."""
    validator = importlib.import_module(f"stdnum.{module}")
    for _ in range(200):
        value = make()
        if validator.is_valid(value):
            return value
    raise AssertionError(f"no valid {module} number drawn")


def _round8_check_digit(module: str, body: Callable[[], str]) -> str:
    """`body()` followed by the one check digit that python-stdnum's `module` accepts."""

    def make() -> str:
        prefix = body()
        return next((prefix + d for d in string.digits if _stdnum_ok(module, prefix + d)), prefix + "x")

    return _round8_validated(module, make)


def _stdnum_ok(module: str, value: str) -> bool:
    return bool(importlib.import_module(f"stdnum.{module}").is_valid(value))


def _round8_birth(rng: Random) -> datetime:
    return datetime(1950, 1, 1) + timedelta(days=rng.randrange(365 * 50))


def _round8_identity(fake: Faker, locale: str, rng: Random) -> str | None:
    """The locale's national identity number, valid by python-stdnum, or None where the round plants none."""
    digits = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    if locale == "sl_SI":
        return _round8_check_digit(
            "si.emso",
            lambda: (
                _round8_birth(rng).strftime("%d%m%Y")[:4]
                + "".join((_round8_birth(rng).strftime("%Y")[1:], "50", digits(3)))
            ),
        )
    if locale == "id_ID":

        def nik() -> str:
            born = _round8_birth(rng)
            day = born.day + (40 if rng.random() < 0.5 else 0)
            return f"{rng.choice(('31', '32', '33', '35', '51', '73'))}{rng.randrange(1, 30):02d}" + (
                f"{rng.randrange(1, 30):02d}{day:02d}{born:%m%y}{rng.randrange(1, 60):04d}"
            )

        return _round8_validated("id.nik", nik)
    if locale == "en_IN":
        number = _round8_check_digit("in_.aadhaar", lambda: str(rng.randrange(2, 10)) + digits(10))
        return _grouped(number)
    if locale == "ja_JP":
        number = _round8_check_digit("jp.in_", lambda: digits(11))
        return _grouped(number)
    if locale == "es_MX":
        return _round8_validated("mx.curp", fake.curp)
    if locale == "pt_BR":
        number = _round8_validated("br.cpf", fake.ssn)
        return f"{number[:3]}.{number[3:6]}.{number[6:9]}-{number[9:]}"
    faker_ids = {
        "pl_PL": "pl.pesel", "sv_SE": "se.personnummer", "en_CA": "ca.sin", "ru_RU": "ru.inn",
        "nl_NL": "nl.bsn", "de_CH": "ch.ssn", "fr_CH": "ch.ssn", "es_AR": "ar.cuit", "th_TH": "th.pin",
        "ko_KR": "kr.rrn", "he_IL": "il.idnr",
    }  # fmt: skip
    if locale in faker_ids:
        return _round8_validated(faker_ids[locale], fake.ssn)
    return None


def _round8_iban(fake: Faker, locale: str, rng: Random) -> str | None:
    if locale in ROUND8_FAKER_IBAN:
        value = fake.iban()
    elif locale in ROUND8_BUILT_IBAN:
        country, length = ROUND8_BUILT_IBAN[locale]
        bank = "".join(rng.choice(string.ascii_uppercase) for _ in range(2)) if country == "GE" else ""
        bban = bank + "".join(rng.choice(string.digits) for _ in range(length))
        value = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
    else:
        return None
    assert stdnum_iban.is_valid(value), (locale, value)
    return stdnum_iban.format(value) if rng.random() < 0.5 else value


def _round8_card(rng: Random) -> str:
    prefix, length = rng.choice((("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("37", 15), ("6011", 16)))
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    number = body + luhn.calc_check_digit(body)
    return _grouped(number) if rng.random() < 0.5 else number


def _round8_phone(region: str, rng: Random, heldout: bool) -> str:
    """A libphonenumber-valid mobile of the region, printed in one of the half's formats."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    national = str(example.national_number)
    for _ in range(500):
        drawn = national[:-6] + "".join(rng.choice(string.digits) for _ in range(6))
        number = phonenumbers.parse(drawn, region)
        if phonenumbers.is_valid_number(number):
            break
    else:
        raise AssertionError(region)
    digit_run = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digit_run = "".join(c for c in digit_run if c.isdigit())
    formats = (
        (phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.NATIONAL)
        if heldout
        else (phonenumbers.PhoneNumberFormat.INTERNATIONAL,)
    )
    choice = rng.randrange(len(formats) + 1)
    return digit_run if choice == len(formats) else phonenumbers.format_number(number, formats[choice])


def _round8_affixes(locale: str) -> set[str]:
    """The titles and degrees the locale's Faker puts before or after a name (drawn from its own instance)."""
    sampler = Faker(locale)
    sampler.seed_instance(ROUND8_SEED)
    affixes: set[str] = set()
    for method in ("prefix", "prefix_male", "prefix_female", "suffix"):
        if hasattr(sampler, method):
            affixes.update(str(getattr(sampler, method)()) for _ in range(40))
    return affixes - {""}


def _round8_name(fake: Faker, affixes: set[str]) -> str:
    """The locale's own name format, drawn again while it carries a title or degree (not part of the name)."""
    for _ in range(50):
        name = str(fake.name())
        if not any(name.startswith(a + " ") or name.endswith((" " + a, "," + a)) for a in affixes):
            return name
    raise AssertionError(name)


def _round8_record(
    fake: Faker, locale: str, rng: Random, *, heldout: bool, label: bool, with_card: bool, affixes: set[str]
) -> dict[str, str]:
    """One made-up person; the address keeps its lines only on a shipping label."""
    address = str(fake.address())
    record = {
        "PERSON": _round8_name(fake, affixes),
        "ADDRESS": address if label else ", ".join(line.strip() for line in address.splitlines()),
        "PHONE": _round8_phone(ROUND8_REGION[locale], rng, heldout),
        "EMAIL": str(fake.email()),
    }
    for kind, value in (
        ("SSN", _round8_identity(fake, locale, rng)),
        ("IBAN", _round8_iban(fake, locale, rng)),
        ("CREDIT_CARD", _round8_card(rng) if with_card else None),
    ):
        if value is not None:
            record[kind] = value
    return record


_ROUND8_FIELDS = {
    "PERSON": "name", "ADDRESS": "address", "PHONE": "phone", "EMAIL": "email", "SSN": "national_id",
    "IBAN": "iban", "CREDIT_CARD": "card_number",
}  # fmt: skip


def _round8_tuning_format(style: int, r: dict[str, str], rng: Random) -> str:
    ident = rng.randrange(10_000, 99_999)
    moment = (datetime(2026, 3, 2, 8) + timedelta(seconds=rng.randrange(60 * 86400))).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    fields = {_ROUND8_FIELDS[k]: v for k, v in r.items()}
    if style == 0:  # Python dict repr in a log line
        body = repr({"id": ident, **fields, "active": True})
        return f"{moment},{rng.randrange(1000):03d} INFO sync.customers: upserted {body}"
    if style == 1:  # Markdown table row under an English header
        header = ["id", *fields]
        return "\n".join(
            (
                "| " + " | ".join(header) + " |",
                "|" + "|".join("---" for _ in header) + "|",
                "| " + " | ".join([str(ident), *fields.values()]) + " |",
            )
        )
    if style == 2:  # SQL INSERT with a column list
        values = ", ".join("'" + v.replace("'", "''") + "'" for v in fields.values())
        columns = ", ".join(fields)
        return f"INSERT INTO customers (id, {columns}, created_at) VALUES ({ident}, {values}, '{moment}');"
    if style == 3:  # Go %+v
        go = " ".join(f"{k.title().replace('_', '')}:{v}" for k, v in fields.items())
        return f"{moment} main.go:{rng.randrange(40, 400)}: loaded customer &{{ID:{ident} {go} Active:true}}"
    rust = ", ".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items())  # Rust {:?}
    return f"[{moment}Z DEBUG billing::sync] customer = Customer {{ id: {ident}, {rust} }}"


def _round8_heldout_format(style: int, r: dict[str, str], rng: Random) -> str:
    ident = rng.randrange(10_000, 99_999)
    fields = {_ROUND8_FIELDS[k]: v for k, v in r.items()}
    if style == 0:  # TOML table
        lines = [f"[customers.c{ident}]"]
        lines += [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items()]
        return "\n".join(lines)
    if style == 1:  # XML element with attributes
        attrs = " ".join(f'{k}="{v.replace("&", "&amp;")}"' for k, v in fields.items())
        return f'<customer id="{ident}" {attrs} status="active"/>'
    if style == 2:  # protobuf text format
        lines = ["customer {", f"  id: {ident}"]
        lines += [f"  {k}: {json.dumps(v, ensure_ascii=False)}" for k, v in fields.items()]
        return "\n".join([*lines, "}"])
    if style == 3:  # Java toString()
        java = ", ".join(
            f"{''.join(w.title() if i else w for i, w in enumerate(k.split('_')))}='{v}'"
            for k, v in fields.items()
        )
        return f"Customer{{id={ident}, {java}, active=true}}"
    lines = [  # shipping label, lines in the address's own order
        f"SHIP TO                       PARCEL {rng.randrange(10**9, 10**10)}",
        r["PERSON"],
        *r["ADDRESS"].splitlines(),
        f"TEL {r['PHONE']}",
        f"NOTIFY {r['EMAIL']}",
    ]
    extra = [
        f"{k.upper().replace('_', ' ')} {fields[k]}"
        for k in ("national_id", "iban", "card_number")
        if k in fields
    ]
    return "\n".join(lines + extra + [f"WEIGHT {rng.randrange(1, 30)}.{rng.randrange(10)} kg"])


def round8_records(tuning: bool, seed: int = ROUND8_SEED) -> list[Planted]:
    """Each locale of the half: three new people, each printed in one of the half's formats (three distinct
    formats a locale), one Planted per value."""
    locales = ROUND8_TUNING_LOCALES if tuning else ROUND8_HELDOUT_LOCALES
    render_as = _round8_tuning_format if tuning else _round8_heldout_format
    rng = Random(seed + (0 if tuning else 1))
    planted: list[Planted] = []
    count = 0
    for index, locale in enumerate(locales):
        fake = Faker(locale)
        fake.seed_instance(seed + index + (0 if tuning else 100))
        affixes = _round8_affixes(locale)
        for offset in range(3):
            style = (index + offset) % 5
            label = not tuning and style == 4
            record = _round8_record(
                fake, locale, rng, heldout=not tuning, label=label, with_card=count % 2 == 0, affixes=affixes
            )
            count += 1
            text = render_as(style, record, rng)
            planted += [Planted(kind, value, text) for kind, value in record.items()]
    return planted


# Clean look-alikes, one technique group each, whole to one half (see the block above ROUND8_SEED).
ROUND8_TUNING_CLEAN = (
    # git SHAs and semver
    "HEAD is now at 4f2a9c1 bump numpy to 2.1.3 (was 1.26.4)",
    "Merge pull request #8812 from ops/release-3.14.0-rc.2",
    "fatal: reference is not a tree: 9d5e0b7a3c41f2e8d6b09a7c5e3f1d2b4a6c8e0f",
    "Successfully installed pydantic-2.9.2 pydantic-core-2.23.4 typing-extensions-4.12.2",
    "version 0.48.1+build.20260301 (commit 1a2b3c4d, dirty)",
    # ISBNs and DOIs
    "Cite as: Harris et al., Nature 585, 357-362 (2020), doi:10.1038/s41586-020-2649-2",
    "ISBN 978-0-13-468599-1, 3rd printing; ISBN-10 0-201-63361-2",
    "references.bib: 214 entries, 9 without a DOI (e.g. 10.1145/3368089.3409741 resolved)",
    "arXiv:2310.06825v3 [cs.CL] 12 Mar 2024",
    # CAS registry numbers
    "CAS 7732-18-5 (water), CAS 64-17-5 (ethanol), CAS 50-00-0 (formaldehyde): all in stock",
    "SDS section 3: sodium chloride 7647-14-5, 99.5 %; potassium iodide 7681-11-0, 0.5 %",
    "reagent lot 7440-50-8 copper powder, 325 mesh, 500 g",
    # GPS track points
    "trkpt lat=50.06143 lon=19.93658 ele=219.4 time=2026-05-14T06:12:09Z hr=142",
    "waypoint 17: 59.32938, 18.06871 (±4 m), speed 12.6 km/h, heading 274°",
    "track.gpx: 3 918 points, 41.7 km, ascent 612 m, from 46.05108,14.50513 to 46.36917,14.11361",
    # capitalised product and tool names
    "Built with Visual Studio Code 1.95 and Apple Clang 16.0.0 on Mac Studio M2 Ultra",
    "Deployed to Google Kubernetes Engine via Cloud Build; Grafana Loki retention 30 days",
    "Red Hat Enterprise Linux 9.4, Amazon Linux 2023 and Rocky Linux 9 images rebuilt",
    "Benchmark: Intel Xeon Gold 6338 vs AMD EPYC Milan 7763, Microsoft SQL Server 2022 workload",
    "Adobe Acrobat Reader could not open report.pdf; try Google Chrome or Mozilla Firefox",
)
ROUND8_HELDOUT_CLEAN = (
    # UUIDs and Kubernetes resource names
    "pod/payments-api-7c9d8f6b5-x2k4q   1/1   Running   0   3d4h",
    "deployment.apps/checkout-worker-v2 scaled to 6 replicas (uid 3f0c2a9e-1b7d-4e8a-9c61-0d5f4b2e7a18)",
    "persistentvolumeclaim/data-postgres-0 Bound pvc-8e1b4c2d-77aa-4f3e-b9d0-12c6e5a4f901 20Gi RWO",
    "request_id=6b1f0d3e-9a4c-4c57-8e2b-5d7a0f9c1e64 trace=00f067aa0ba902b7 status=200 in 38ms",
    "job.batch/nightly-export-29481320 completed in 4m12s",
    # flight numbers and seat codes
    "Boarding LH 1617 to WAW, gate B44, seat 23C, group 4, departs 14:35",
    "Flight KL 1273 AMS-CPH delayed 45 min; rebooked on SK 1550, seat 12A",
    "PNR X7KQ2M: TK 1880 IST-LHR 06DEC 0810 economy, seats 31E 31F",
    "QR 8 DOH-LHR arrived 07:02 at Terminal 4, baggage belt 11",
    "EK 215 seat map: 88A-88K, exit rows 41 and 42, aisle 44C",
    # invoice totals with currencies
    "Invoice INV-2026-04417: subtotal CHF 1'284.50, VAT 8.1 % CHF 104.04, total CHF 1'388.54",
    "Total due: ₹ 1,24,560.00 (incl. GST 18 %) by 15/04/2026",
    "Amount ¥ 128,400 (tax incl.), ₩ 1,250,000, ₪ 3,480.90, ฿ 12,900.00 settled",
    "Subtotal 4.215,75 ARS; percepción IVA 3 % 126,47; total 4.342,22 ARS",
    "Payout batch 2026-03: € 18.402,11 to 214 merchants, fee € 92,01",
    # street-named restaurants in reviews
    "★★★★☆ Dinner at Baker Street Kitchen: great ramen, slow service.",
    "Review of Orchard Road Noodle House: the laksa was worth the queue.",
    "We tried Canal Street Oyster Bar and Main Street Diner on the same weekend.",
    "Ate at Bourbon Street Grill twice; the jambalaya beats Fifth Avenue Bistro's.",
    # things named after people: theorems, diseases, units
    "Hodgkin lymphoma and Crohn's disease cohorts were excluded from the analysis.",
    "torque limit 45 Newton metres; pressure 2.4 bar; 3.3 kelvin above ambient",
    "By Bayes' theorem and Chebyshev's inequality the bound holds for n >= 40.",
    "Applied Gaussian elimination, then a Fourier transform and a Kalman filter.",
    "Parkinson's disease, Alzheimer's disease and Tourette syndrome registries merged.",
)


def round8_clean_generated(tuning: bool, seed: int = ROUND8_SEED + 100) -> list[str]:
    """Look-alikes drawn from the seeded source, in the half's own techniques: 20 a half."""
    rng = Random(seed + (0 if tuning else 1))
    hexes = lambda n: "".join(rng.choice("0123456789abcdef") for _ in range(n))  # noqa: E731
    lines: list[str] = []
    for _ in range(4):
        if tuning:
            major, minor, patch = rng.randrange(1, 12), rng.randrange(40), rng.randrange(30)
            isbn_body = "978" + "".join(rng.choice(string.digits) for _ in range(9))
            check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(isbn_body)) % 10) % 10
            isbn = f"{isbn_body[:3]}-{isbn_body[3]}-{isbn_body[4:8]}-{isbn_body[8:]}-{check}"
            cas_body = str(rng.randrange(50, 99999))
            digits = cas_body + f"{rng.randrange(10, 99)}"
            cas_check = sum(int(d) * (i + 1) for i, d in enumerate(reversed(digits))) % 10
            lat, lon = rng.uniform(35, 60), rng.uniform(-10, 30)
            lines += [
                f"commit {hexes(40)}  tag v{major}.{minor}.{patch}",
                f"ISBN {isbn}, doi:10.{rng.randrange(1000, 9999)}/{hexes(4)}."
                f"{rng.randrange(2015, 2026)}.{rng.randrange(1000)}",
                f"CAS {cas_body}-{digits[-2:]}-{cas_check}, "
                f"purity {rng.randrange(90, 100)}.{rng.randrange(10)} %",
                f"point {rng.randrange(1, 5000)}: {lat:.5f},{lon:.5f} alt {rng.randrange(0, 2500)} m",
                f"{rng.choice(('Apple', 'Google', 'Microsoft', 'Oracle', 'Canon'))} "
                f"{rng.choice(('Cloud', 'Studio', 'Vision', 'Office', 'Workspace'))} "
                f"{rng.choice(('Pro', 'Max', 'Plus', 'Enterprise'))} {rng.randrange(2, 20)} licence renewed",
            ]
        else:
            uuid = f"{hexes(8)}-{hexes(4)}-4{hexes(3)}-{rng.choice('89ab')}{hexes(3)}-{hexes(12)}"
            airline = rng.choice(("LX", "AF", "IB", "OS", "LO", "AY", "SN", "TP"))
            row = rng.randrange(1, 45)
            amount = rng.randrange(100, 999_999) / 100
            lines += [
                f"replicaset.apps/{rng.choice(('search', 'orders', 'ingest'))}-{hexes(10)} uid={uuid}",
                f"{airline} {rng.randrange(100, 9999)} seat {row}{rng.choice('ABCDEF')} "
                f"boarding {rng.randrange(1, 6)}",
                f"Invoice total {rng.choice(('USD', 'EUR', 'GBP', 'SEK', 'PLN'))} {amount:,.2f}, due in "
                f"{rng.choice((14, 30, 60))} days",
                f"{rng.randrange(1, 6)}/5 for "
                f"{rng.choice(('Harbour', 'Market', 'Church', 'Station', 'Mill'))} Street "
                f"{rng.choice(('Tacos', 'Pizzeria', 'Curry House', 'Bakery', 'Dumplings'))}, "
                f"{rng.randrange(2, 400)} reviews",
                f"{rng.choice(('Poisson', 'Bernoulli', 'Weibull', 'Cauchy', 'Laplace'))} "
                "distribution fitted, "
                f"{rng.choice(('Pearson', 'Spearman', 'Kendall'))} r = 0.{rng.randrange(10, 99)}",
            ]
    return lines


OUTSIDE_ROUNDS = tuple(
    Path(__file__).resolve().parent / folder
    for folder in (
        "redaction_round11",
        "redaction_round12",
        "redaction_clean12",
        "redaction_round13",
        "redaction_round15",
    )
)
"""The rounds whose rows their writers wrote as they are (``round11_redaction_techniques.md``,
``round12_...``, ``round12_clean_techniques.md``, ``round13_...``, ``round15_redaction_techniques.md``):
copied, not generated here, since their Faker seeds and hand-written values live in the writers' own
scripts. A round of clean texts only has no sensitive file."""


def outside_rows(name: str) -> list[dict[str, str]]:
    """The outside rounds' rows of one corpus file, round by round in the order they were written."""
    files = [folder / name for folder in OUTSIDE_ROUNDS if (folder / name).exists()]
    lines = [line for path in files for line in path.read_text(encoding="utf-8").splitlines()]
    return [json.loads(line) for line in lines if line.strip()]


def render() -> dict[str, str]:
    """The corpus files' contents, one JSON object a line, generated at the start of CORPUS_DAY: Faker's dates
    (and the identity numbers built on them, such as Ukraine's) count back from now, so without a fixed clock
    the committed corpus drifts from its generator by the next day."""
    with time_machine.travel(datetime.combine(CORPUS_DAY, time.min, tzinfo=UTC), tick=False):
        return _render()


def _render() -> dict[str, str]:
    sensitive = [
        json.dumps({"kind": p.kind, "value": p.value, "text": p.text, "split": split}, ensure_ascii=False)
        for split, planted in (
            ("tuning", sensitive_samples() + people_samples(TUNING_LOCALES, TUNING_TEMPLATES)),
            ("heldout", people_samples(HELDOUT_LOCALES, HELDOUT_TEMPLATES, structured=True)),
            ("tuning", round2_people(TUNING_LOCALES, ROUND2_TUNING_TEMPLATES, SEED + 600)),
            ("heldout2", round2_people(ROUND2_HELDOUT_LOCALES, ROUND2_HELDOUT_TEMPLATES, SEED + 700)),
            ("tuning3", round3_running_text(ROUND3_TUNING_LOCALES, ROUND3_TUNING_TEMPLATES, SEED + 1000)),
            ("heldout3", round3_running_text(ROUND3_HELDOUT_LOCALES, ROUND3_HELDOUT_TEMPLATES, SEED + 1100)),
            ("heldout4", round4_records() + round4_handwritten()),
            ("heldout5", round5_records() + round5_handwritten()),
            ("heldout6", round6_records() + round6_handwritten()),
            ("tuning6e", tuning6e()[0]),
            ("heldout6e", heldout6e()[0]),
            ("tuning7", round7_records(tuning=True)),
            ("heldout7", round7_records(tuning=False)),
            ("tuning8", round8_records(tuning=True)),
            ("heldout8", round8_records(tuning=False)),
        )
        for p in planted
    ] + [
        json.dumps(
            {"kind": r["kind"], "value": r["value"], "text": r["text"], "split": r["split"]},
            ensure_ascii=False,
        )
        for r in outside_rows("sensitive.jsonl")
    ]
    benign = [
        json.dumps({"text": text, "split": split}, ensure_ascii=False)
        for split, texts in (
            ("tuning", benign_samples() + id_lookalikes(TUNING_LOOKALIKES)),
            ("heldout", id_lookalikes(HELDOUT_LOOKALIKES) + local_prose(HELDOUT_LOCALES)),
            ("tuning", round2_lookalikes(ROUND2_TUNING_LOOKALIKES, SEED + 800)),
            (
                "heldout2",
                round2_lookalikes(ROUND2_HELDOUT_LOOKALIKES, SEED + 900)
                + local_prose(ROUND2_HELDOUT_LOCALES),
            ),
            (
                "tuning3",
                round2_lookalikes(ROUND3_TUNING_LOOKALIKES, SEED + 1200) + local_prose(ROUND3_TUNING_LOCALES),
            ),
            (
                "heldout3",
                round2_lookalikes(ROUND3_HELDOUT_LOOKALIKES, SEED + 1300)
                + local_prose(ROUND3_HELDOUT_LOCALES),
            ),
            ("heldout4", list(ROUND4_CLEAN) + round4_clean_generated()),
            ("heldout5", list(ROUND5_CLEAN) + round5_clean_generated()),
            ("heldout6", list(ROUND6_CLEAN) + round6_clean_generated()),
            ("tuning6e", tuning6e()[1]),
            ("heldout6e", heldout6e()[1]),
            ("tuning7", list(ROUND7_TUNING_CLEAN) + round7_clean_generated(tuning=True)),
            ("heldout7", list(ROUND7_HELDOUT_CLEAN) + round7_clean_generated(tuning=False)),
            ("tuning8", list(ROUND8_TUNING_CLEAN) + round8_clean_generated(tuning=True)),
            ("heldout8", list(ROUND8_HELDOUT_CLEAN) + round8_clean_generated(tuning=False)),
        )
        for text in texts
    ] + [
        json.dumps({"text": r["text"], "split": r["split"]}, ensure_ascii=False)
        for r in outside_rows("benign.jsonl")
    ]
    return {"sensitive.jsonl": "\n".join(sensitive) + "\n", "benign.jsonl": "\n".join(benign) + "\n"}


def main() -> int:
    OUTPUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUTPUT / name).write_text(text, encoding="utf-8")
    print(f"wrote {', '.join(sorted(render()))} to {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
