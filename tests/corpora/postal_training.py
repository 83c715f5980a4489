"""Made-up program output for the postal-address model (``level5.safety.postal``), generated with Faker (a
pinned development dependency, which the operator's code may not import) and a fixed seed:
`python tests/corpora/postal_training.py` (`make postal-weights`) writes build/postal_lines.jsonl (not
committed: the weights file records its sha256, and a unit test makes it again to compare), which
``level5.tools.postal_train`` fits the weights on.

Each line is a line of program output: ``{"text": ..., "address": [start, end]}`` with one planted address
(or ``null`` for none). Addresses come from Faker's address providers in every locale but the held-out
locales of the redaction corpus (``HELD_OUT``), printed as programs print records: key=value pairs,
JSON, CSV, column-aligned tables, log lines, YAML, under labels in many languages or none. The lines
without an address are made per kind of clean program output (``NEGATIVES``): logs, metrics, tables of
numbers, tracebacks, configs, versions and product names, prices and measures, citations, dates and
events, headings, orchestrator and VCS output; each kind makes the same number of lines. The redaction
corpus's texts are not used: its tuning halves measure the model.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import time_machine
from faker import Faker
from faker.config import AVAILABLE_LOCALES

try:
    from corpora import redaction_corpus
except ImportError:  # run as a script, from its own folder
    import redaction_corpus  # type: ignore[no-redef]

OUTPUT = Path(__file__).resolve().parents[2] / "build" / "postal_lines.jsonl"
SEED = 14
ADDRESSES_PER_LOCALE = 260
NEGATIVES_PER_KIND = 2400
HELD_OUT = frozenset(
    locale
    for name in dir(redaction_corpus)
    if name.endswith("HELDOUT_LOCALES")
    for locale in getattr(redaction_corpus, name)
)
"""Locales of the corpus's held-out halves (rounds 1-3, 7 and 8): no address from them is trained on."""
LOCALES = tuple(locale for locale in AVAILABLE_LOCALES if locale not in HELD_OUT)
WORD_LOCALES = (
    "en_US",
    "de_DE",
    "fr_FR",
    "la",
    "ru_RU",
    "ja_JP",
    "zh_CN",
    "pt_BR",
    "id_ID",
    "ro_RO",
    "bg_BG",
)

ADDRESS_KEYS = (
    "address",
    "addr",
    "Address",
    "shipping_address",
    "ship_to",
    "Ship to",
    "delivery_address",
    "billing",
    "destination",
    "dest",
    "location",
    "recipient_address",
    "home",
    "postal",
    "adresse",
    "Anschrift",
    "Lieferadresse",
    "direccion",
    "dirección",
    "endereco",
    "indirizzo",
    "adres",
    "adresa",
    "osoite",
    "alamat",
    "dia_chi",
    "cim",
    "naslov",
    "adrese",
    "адрес",
    "住所",
    "地址",
    "주소",
    "warehouse",
    "store",
    "site",
    "origin",
    "pickup",
    "drop",
    "customer_address",
    "addr_line",
    "value",
    "col3",
    "field",
)
OTHER_KEYS = (
    "id",
    "status",
    "path",
    "version",
    "duration",
    "latency_ms",
    "region",
    "host",
    "node",
    "user",
    "error",
    "count",
    "size",
    "file",
    "module",
    "item",
    "product",
    "total",
    "price",
    "qty",
    "sku",
    "order",
    "carrier",
    "date",
    "time",
    "level",
    "msg",
    "name",
    "title",
    "label",
    "step",
    "phase",
    "job",
    "task",
    "build",
)
LEVELS = ("INFO", "WARN", "ERROR", "DEBUG", "info", "warning", "I", "E")
UNITS = ("MB", "ms", "s", "KiB", "GB", "%", "V", "Hz", "kWh", "EUR", "USD", "kg", "min", "px", "GiB/s", "€")
PRODUCTS = (
    "Rocky Linux",
    "Ubuntu",
    "Python",
    "Node",
    "CUDA",
    "Windows Server",
    "Mac Studio M2",
    "iPhone",
    "Galaxy S",
    "PostgreSQL",
    "Redis",
    "Kubernetes",
    "Java",
    "Debian",
    "Fedora",
    "Go",
    "Model",
    "Series",
    "Pixel",
    "Xeon E5",
)
HEADINGS = (
    "Section",
    "Chapter",
    "Step",
    "Phase",
    "Level",
    "Module",
    "Part",
    "Table",
    "Figure",
    "Appendix",
    "Room",
    "Floor",
    "Building",
    "Gate",
    "Track",
    "Platform",
    "Lane",
    "Block",
    "Sprint",
    "Release",
    "Episode",
    "Round",
)


class Maker:
    """The seeded generators: one Faker per locale, and one random source for the layouts."""

    def __init__(self) -> None:
        self.rng = random.Random(SEED)
        self.fakers = {}
        for locale in LOCALES:
            faker = Faker(locale)
            faker.seed_instance(SEED)
            self.fakers[locale] = faker
        self.words = [self.fakers.get(loc) or Faker(loc) for loc in WORD_LOCALES]
        for faker in self.words:
            faker.seed_instance(SEED)

    def number(self) -> str:
        r = self.rng
        return r.choice(
            [
                str(r.randint(0, 99999)),
                f"{r.randint(0, 999)}.{r.randint(0, 99)}",
                f"{r.randint(1, 999)} {r.randint(100, 999)}",
                f"{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 99)}",
                f"{r.randint(1, 999)},{r.randint(0, 99)}",
                str(r.randint(1, 60)),
                f"{r.randint(1, 12)}/{r.randint(1, 99)}",
            ]
        )

    def stamp(self, pattern: str) -> str:
        """A date and time in 2020-2026 (from the seeded source: Faker's dates count back from now)."""
        moment = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(seconds=self.rng.randint(0, 7 * 365 * 86400))
        return moment.strftime(pattern)

    def word_faker(self) -> Faker:
        return self.rng.choice(self.words)

    def title_words(self, low: int = 1, high: int = 3) -> str:
        return " ".join(w.capitalize() for w in self.word_faker().words(self.rng.randint(low, high)))


def address_text(maker: Maker, faker: Faker) -> str | None:
    """One address as a program prints it: Faker's lines joined, or its street with a town."""
    r = maker.rng
    try:
        lines = [line.strip() for line in faker.address().split("\n") if line.strip()]
        street = faker.street_address()
        city = faker.city()
    except (AttributeError, ValueError):
        return None
    form = r.random()
    if form < 0.45:
        text = ", ".join(lines)
    elif form < 0.6:
        text = " ".join(lines)
    elif form < 0.75:
        text = lines[0]
    elif form < 0.9:
        text = f"{street}, {city}"
    else:
        postcode = faker.postcode() if hasattr(faker, "postcode") else ""
        text = f"{postcode} {city}, {street}" if r.random() < 0.5 else f"{street}, {postcode} {city}"
    if r.random() < 0.05:
        text = text.upper()
    return text if any(c.isdigit() for c in text) else None


def with_address(maker: Maker, address: str) -> tuple[str, int]:
    """A line holding the address, and where it starts."""
    r = maker.rng
    key = r.choice(ADDRESS_KEYS)
    other = f"{r.choice(OTHER_KEYS)}={maker.number()}"
    layouts: list[Callable[[], tuple[str, str]]] = [
        lambda: (f'{key}="', f'" {other}'),
        lambda: (f'{other} {key}="', '"'),
        lambda: (f"{key}: ", ""),
        lambda: (f"{key}: ", f"\n{r.choice(OTHER_KEYS)}: {maker.number()}"),
        lambda: (f'{{"{key}": "', f'", "{r.choice(OTHER_KEYS)}": {maker.number()}}}'),
        lambda: (f'{r.randint(1, 99999)},{maker.word_faker().last_name()},"', f'",{maker.number()}'),
        lambda: (f"{r.randint(1, 9999)};", f";{r.choice(OTHER_KEYS)};{maker.number()}"),
        lambda: (f"{key:<24}", ""),
        lambda: (f"{r.randint(1, 99999):<10}", f"    {maker.number()}"),
        lambda: (f"{r.choice(LEVELS)} {key} -> ", f" ({maker.word_faker().word()})"),
        lambda: (f"  {key}: '", "'"),
        lambda: (f"| {r.randint(1, 999)} | ", f" | {maker.number()} |"),
        lambda: ("", ""),
    ]
    before, after = r.choice(layouts)()
    return before + address + after, len(before)


Templates = tuple[Callable[[Maker, random.Random, Faker], str], ...]
"""A kind of line: templates over the maker, its random source and a Faker of some language."""


def _pick(templates: Templates) -> Callable[[Maker], str]:
    """A maker of one kind's lines: one of its templates, drawn each time."""

    def make(maker: Maker) -> str:
        return maker.rng.choice(templates)(maker, maker.rng, maker.word_faker())

    return make


def _log(maker: Maker) -> str:
    r, f = maker.rng, maker.word_faker()
    stamp = r.choice(
        [
            f"{maker.stamp('%b %d %H:%M:%S')}",
            f"{maker.stamp('%Y-%m-%dT%H:%M:%S')}.{r.randint(0, 999999)}",
            f"[{maker.stamp('%d/%b/%Y:%H:%M:%S')} +0000]",
            f"{maker.stamp('%d.%m.%Y %H:%M:%S')}",
        ]
    )
    message = r.choice(
        [
            f"{f.word()} {r.randint(1, 99999)} {f.word()}",
            f"{f.word().capitalize()} {f.word()} {r.randint(1, 999)} {r.choice(UNITS)}",
            f"Accepted publickey for {f.user_name()} port {r.randint(1024, 65535)}",
            f"GET /api/v{r.randint(1, 3)}/{f.word()}/{r.randint(1, 9999)} "
            f"{r.choice([200, 404, 500])} {r.randint(1, 999)}ms",
            f"worker-{r.randint(1, 20)} {f.word()} {f.word()} in {r.randint(1, 99)}.{r.randint(0, 99)}s",
            f"{maker.title_words(1, 2)} {r.randint(1, 999)} {f.word()}",
        ]
    )
    host = f"{f.word()}-{r.randint(1, 9)}"
    return f"{stamp} {host} {r.choice(LEVELS)} {message}"


def _metrics(maker: Maker) -> str:
    r = maker.rng
    keys = r.sample(OTHER_KEYS, r.randint(2, 5))
    return " ".join(f"{k}={maker.number()}" for k in keys)


def _table(maker: Maker) -> str:
    r = maker.rng
    cells = [maker.title_words(1, 3), maker.number(), maker.number(), f"{maker.number()} {r.choice(UNITS)}"]
    gap = r.choice(["  ", "\t", " | ", "   ", ","])
    return gap.join(cells[: r.randint(2, 4)])


_TRACEBACK: Templates = (
    lambda maker, r, f: f'  File "/app/{f.word()}/{f.word()}.py", line {r.randint(1, 999)}, in {f.word()}',
    lambda maker, r, f: (
        f"{maker.title_words(1, 2).replace(' ', '')}Error: {f.word()} {r.randint(1, 999)} {f.word()}"
    ),
    lambda maker, r, f: f"    at {f.word()}.{f.word().capitalize()}({f.word()}.java:{r.randint(1, 999)})",
)


_CONFIG: Templates = (
    lambda maker, r, f: f"  {f.word()}: {maker.number()}",
    lambda maker, r, f: f"{f.word()}_{f.word()} = {maker.number()}",
    lambda maker, r, f: f"[{f.word()}]\nport = {r.randint(1, 65535)}",
    lambda maker, r, f: f"{f.word().upper()}_{f.word().upper()}={r.randint(0, 9999)}",
    lambda maker, r, f: f"  - name: {maker.title_words(1, 2)} {r.randint(1, 99)}",
)


_VERSION: Templates = (
    lambda maker, r, f: f"{r.choice(PRODUCTS)} {r.randint(1, 30)}",
    lambda maker, r, f: f"{r.choice(PRODUCTS)} {r.randint(1, 20)}.{r.randint(0, 20)}.{r.randint(0, 99)}",
    lambda maker, r, f: f"{r.choice(PRODUCTS)} {r.randint(1, 30)} {maker.title_words(1, 1)}",
    lambda maker, r, f: (
        f"Running {r.choice(PRODUCTS)} {r.randint(1, 30)} on {maker.title_words(1, 2)} {r.randint(1, 999)}"
    ),
)


_PRICE: Templates = (
    lambda maker, r, f: (
        f"{r.randint(1, 999)} {f.word()} à {r.randint(0, 99)},{r.randint(0, 99)} {r.choice(UNITS)}"
    ),
    lambda maker, r, f: (
        f"{maker.title_words(1, 2)} {r.randint(1, 999)} {r.choice(UNITS)}, {f.month_name()} "
        f"{r.randint(1990, 2030)}"
    ),
    lambda maker, r, f: (
        f"Total: {r.randint(1, 99999)}.{r.randint(0, 99)} {r.choice(UNITS)} ({r.randint(1, 99)} {f.word()})"
    ),
    lambda maker, r, f: f"{f.company()} {r.randint(1, 999)} {f.word()}",
)


_CITATION: Templates = (
    lambda maker, r, f: (
        f"{f.last_name()} et al., {maker.title_words(1, 3)} {r.randint(1, 400)}, "
        f"{r.randint(1, 999)}-{r.randint(1000, 2999)} ({r.randint(1950, 2025)})"
    ),
    lambda maker, r, f: (
        f"{maker.title_words(1, 2)} {r.randint(1, 400)}, {r.randint(1, 9999)} ({r.randint(1950, 2025)})"
    ),
    lambda maker, r, f: (
        f"ISBN "
        f"{r.randint(100, 999)}-{r.randint(0, 9)}-{r.randint(100, 999)}-"
        f"{r.randint(10000, 99999)}-{r.randint(0, 9)}"
    ),
)


_EVENT: Templates = (
    lambda maker, r, f: f"{f.city()} {r.randint(1990, 2030)}",
    lambda maker, r, f: f"{f.city()}, {r.randint(1, 28)} {f.month_name()} {r.randint(1990, 2030)}",
    lambda maker, r, f: f"{maker.title_words(1, 2)} {f.city()} {r.randint(1990, 2030)}",
    lambda maker, r, f: (
        f"{f.month_name()} {r.randint(1, 28)}, {r.randint(1990, 2030)} at "
        f"{r.randint(1, 12)}:{r.randint(10, 59)}"
    ),
    lambda maker, r, f: (
        f"Meeting in {r.choice(HEADINGS)} {r.randint(1, 12)}{r.choice('ABC')} at "
        f"{r.randint(8, 18)}:{r.randint(10, 59)}"
    ),
)


_HEADING: Templates = (
    lambda maker, r, f: f"{r.choice(HEADINGS)} {r.randint(1, 40)} {maker.title_words(1, 3)}",
    lambda maker, r, f: f"{r.choice(HEADINGS)} {r.randint(1, 40)}: {maker.title_words(1, 3)}",
    lambda maker, r, f: f"{maker.title_words(1, 3)} {r.randint(1, 40)}",
    lambda maker, r, f: f"Q{r.randint(1, 4)} {r.randint(2000, 2030)} {maker.title_words(1, 2)}",
    lambda maker, r, f: f"{maker.title_words(2, 4)}",
)


_ORCHESTRATOR: Templates = (
    lambda maker, r, f: (
        f"pod/{f.word()}-{r.randint(1000, 9999):x}   {r.randint(0, 3)}/{r.randint(1, 3)}   "
        f"Running   {r.randint(0, 9)}   {r.randint(1, 59)}d"
    ),
    lambda maker, r, f: f"Merge pull request #{r.randint(1, 9999)} from {f.user_name()}/{f.word()}",
    lambda maker, r, f: (
        f"v{r.randint(0, 9)}.{r.randint(0, 30)}.{r.randint(0, 9)} ({maker.stamp('%Y-%m-%d')})"
    ),
    lambda maker, r, f: (
        f"node {f.word()}-{r.randint(1, 99):02d} {r.randint(1, 96)} cores {r.randint(1, 512)} GiB"
    ),
    lambda maker, r, f: f"{f.company()} order #{r.randint(1000, 99999)} {r.randint(1, 99)} items",
)


def _listing(maker: Maker) -> str:
    """Comma-separated items, each a word with a count, an id or a standard's number."""
    r, f = maker.rng, maker.word_faker()
    items = [
        lambda: f"{r.randint(1, 999)} {f.word()}",
        lambda: f"{f.word()} {f.word().upper()[:3]}{r.randint(100, 99999)}",
        lambda: f"{r.choice(['ISO', 'EN', 'DIN', 'RFC', 'IEC', 'IEEE'])} {r.randint(100, 99999)}",
        lambda: f"{maker.title_words(1, 2)} {r.randint(1, 999)} {r.choice(UNITS)}",
        lambda: f"{f.company()}",
        lambda: f"{r.randint(1800, 2026)}, {f.company()}",
    ]
    return ", ".join(r.choice(items)() for _ in range(r.randint(2, 4)))


_LEGAL: Templates = (
    lambda maker, r, f: (
        f"Copyright {r.randint(1990, 2026)} The {maker.title_words(1, 2)} Authors. All rights reserved"
    ),
    lambda maker, r, f: f"(c) {r.randint(1990, 2010)}-{r.randint(2011, 2026)} {f.company()}",
    lambda maker, r, f: f"Licensed under the {maker.title_words(1, 2)} License, Version {r.randint(1, 3)}.0",
    lambda maker, r, f: f"{maker.title_words(1, 3)} — {r.randint(1800, 2026)}, {f.company()}",
    lambda maker, r, f: f"CN={maker.title_words(2, 4)} {r.randint(2000, 2030)} CA{r.randint(1, 3)}",
)


NEGATIVES: dict[str, Callable[[Maker], str]] = {
    "listing": _listing,
    "legal": _pick(_LEGAL),
    "log": _log,
    "metrics": _metrics,
    "table": _table,
    "traceback": _pick(_TRACEBACK),
    "config": _pick(_CONFIG),
    "version": _pick(_VERSION),
    "price": _pick(_PRICE),
    "citation": _pick(_CITATION),
    "event": _pick(_EVENT),
    "heading": _pick(_HEADING),
    "orchestrator": _pick(_ORCHESTRATOR),
}


def lines() -> list[dict[str, object]]:
    """Every training line, in a fixed order: the addresses locale by locale, then the negatives."""
    maker = Maker()
    out: list[dict[str, object]] = []
    for faker in maker.fakers.values():
        for _ in range(ADDRESSES_PER_LOCALE):
            address = address_text(maker, faker)
            if address is None:
                break
            text, start = with_address(maker, address)
            out.append({"text": text, "address": [start, start + len(address)]})
    for kind, make in NEGATIVES.items():
        for _ in range(NEGATIVES_PER_KIND):
            out.append({"text": make(maker), "address": None, "kind": kind})
    return out


def render() -> str:
    """The lines as the file holds them, generated at the start of the corpus's day (CORPUS_DAY): some of
    Faker's providers read the clock (their output differed from one hour to the next), so without a fixed
    one the drift test failed on a later day, or hour, than the fit's."""
    moment = datetime.combine(redaction_corpus.CORPUS_DAY, time.min, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines())


if __name__ == "__main__":
    OUTPUT.parent.mkdir(exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")
