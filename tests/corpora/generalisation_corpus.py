"""Layer 5's sixth tuning round (issue 15's generalisation gaps): names and addresses in non-Latin scripts
and national identity numbers, generated with Faker and split once, before any detector was changed for it,
into a tuning half (split ``tuning6e``) and a held-out half (split ``heldout6e``; not ``heldout6``, the blind
round written by someone else).

The halves differ by locale (or, for a script in both, by seed), by label wording and by carrier: the
tuning half prints a record as ``key: value`` lines, JSON or with the script's own label words, the
held-out half as YAML, XML, a CSV under native headers or prose. Identity numbers are split by country
(every one made by Faker in the country's own format and checked with python-stdnum, or computed with its
check digit). The clean texts hold checksum-valid numbers under labels that do not name a person (order,
SKU, shipment, build) and prose, file names and namespaces in the same scripts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from random import Random
from typing import NamedTuple

from faker import Faker

# The day the corpora are generated at (redaction_corpus.render freezes the clock there): Faker's dates, and
# the identity numbers built on them, count back from now.
CORPUS_DAY = date(2026, 12, 1)


def _identity_faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


SEED = 20261201


class Planted(NamedTuple):
    kind: str
    value: str
    text: str


class Script(NamedTuple):
    """A locale and how its records are labelled: the native words for a name and an address (an
    empty address label: Faker's addresses in that locale are not the script's own)."""

    locale: str
    name_label: str
    address_label: str
    honorific: str = ""


TUNING_SCRIPTS = (
    Script("zh_CN", "姓名", "地址", "先生"),
    Script("ja_JP", "氏名", "住所", "様"),
    Script("ko_KR", "이름", "주소", "님"),
    Script("he_IL", "שם", "כתובת"),
    Script("ar_SA", "الاسم", ""),
    Script("hi_IN", "नाम", "पता", "जी"),
    Script("th_TH", "ชื่อ", "ที่อยู่"),
    Script("ru_RU", "ФИО", "Адрес"),
)
HELDOUT_SCRIPTS = (
    Script("zh_TW", "收件人", "住址", "女士"),
    Script("ko_KR", "성명", "배송지", "씨"),
    Script("he_IL", "שם מלא", "כתובת למשלוח"),
    Script("fa_IR", "نام", "نشانی"),
    Script("ne_NP", "नाम", "ठेगाना"),
    Script("uk_UA", "ПІБ", "Адреса"),
    Script("bg_BG", "Име", ""),
    Script("el_GR", "Όνομα", "Διεύθυνση"),
    Script("bn_BD", "নাম", "ঠিকানা"),
)


def _address(fake: Faker) -> str:
    return ", ".join(part.strip().rstrip(",") for part in str(fake.address()).splitlines() if part.strip())


def _name(fake: Faker) -> str:
    # Without a title ("Г-н", "الدكتور"): the title is not part of the name a redactor must remove.
    return str(fake.first_name() + " " + fake.last_name()) if fake.random_int(0, 1) else str(fake.name())


Render = Callable[[Script, str, str], str]

TUNING_RENDERS: tuple[Render, ...] = (
    lambda s, n, a: f"name: {n}\naddress: {a}\nstatus: active",
    lambda s, n, a: json.dumps({"customer_name": n, "shipping_address": a, "items": 3}, ensure_ascii=False),
    lambda s, n, a: f"{s.name_label}: {n}\n{s.address_label or 'address'}: {a}",
    lambda s, n, a: f"order 4411 {s.name_label}：{n} | {s.address_label or 'addr'}：{a}",
)
HELDOUT_RENDERS: tuple[Render, ...] = (
    lambda s, n, a: f'recipient: {n}\ndelivery_address: "{a}"\nweight_kg: 2.5',
    lambda s, n, a: f"<customer><fullName>{n}</fullName><postalAddress>{a}</postalAddress></customer>",
    lambda s, n, a: f"id;{s.name_label};{s.address_label or 'adresse'}\n7;{n};{a}",
    lambda s, n, a: f"[{s.name_label}] {n} — [{s.address_label or 'address'}] {a}",
)


def script_records(scripts: tuple[Script, ...], renders: tuple[Render, ...], seed: int) -> list[Planted]:
    """Per locale, one record per carrier (a name and, where the locale has one, an address), and one
    name written with the script's honorific in running text."""
    samples: list[Planted] = []
    for index, script in enumerate(scripts):
        fake = Faker(script.locale)
        fake.seed_instance(seed + index)
        for render in renders:
            name, address = _name(fake), _address(fake)
            text = render(script, name, address)
            samples.append(Planted("PERSON", name, text))
            if script.address_label:
                samples.append(Planted("ADDRESS", address, text))
        if script.honorific:
            name = str(fake.name()).replace(" ", "")
            samples.append(Planted("PERSON", name, f"{name}{script.honorific} — ticket 8812 closed"))
    return samples


class Identity(NamedTuple):
    """A Faker locale and method that make a country's identity number, and how output labels it."""

    locale: str
    method: str
    label: str


TUNING_IDS = (
    Identity("nl_NL", "ssn", "BSN"),
    Identity("pl_PL", "ssn", "PESEL"),
    Identity("sv_SE", "ssn", "personnummer"),
    Identity("pt_BR", "cpf", "CPF"),
    Identity("fr_FR", "ssn", "NIR"),
    Identity("es_ES", "nif", "DNI"),
    Identity("it_IT", "ssn", "codice fiscale"),
    Identity("tr_TR", "ssn", "TC kimlik no"),
    Identity("fi_FI", "ssn", "henkilötunnus"),
    Identity("zh_CN", "ssn", "身份证号"),
    Identity("en_CA", "ssn", "SIN"),
    Identity("ro_RO", "ssn", "CNP"),
    Identity("de_CH", "ssn", "AHV-Nr."),
    Identity("es_MX", "curp", "CURP"),
)
HELDOUT_IDS = (
    Identity("no_NO", "ssn", "fødselsnummer"),
    Identity("et_EE", "ssn", "isikukood"),
    Identity("hr_HR", "ssn", "OIB"),
    Identity("cs_CZ", "birth_number", "rodné číslo"),
    Identity("el_GR", "ssn", "ΑΜΚΑ"),
    Identity("he_IL", "ssn", "מספר זהות"),
    Identity("th_TH", "ssn", "เลขประจำตัวประชาชน"),
    Identity("ru_RU", "individuals_inn", "ИНН"),
    Identity("uk_UA", "ssn", "РНОКПП"),
    Identity("es_CL", "rut", "RUT"),
    Identity("nl_BE", "ssn", "rijksregisternummer"),
    Identity("de_AT", "ssn", "SVNR"),
    Identity("es_AR", "cuit", "CUIT"),
    Identity("es_ES", "nie", "NIE"),
)

ID_TUNING_RENDERS: tuple[Callable[[Identity, str], str], ...] = (
    lambda i, v: f"{i.label}: {v}",
    lambda i, v: json.dumps({"customer": 118, "national_id": v, "verified": True}),
    lambda i, v: f"KYC check passed for {i.label} {v} (document scan 2 of 2)",
)
ID_HELDOUT_RENDERS: tuple[Callable[[Identity, str], str], ...] = (
    lambda i, v: f"<person><{i.label.replace(' ', '_')}>{v}</{i.label.replace(' ', '_')}></person>",
    lambda i, v: f'identity_number = "{v}"\nnationality = "{i.locale[-2:]}"',
    lambda i, v: f"WARN payroll: {i.label} {v} appears on two employee records",
)


def identity_numbers(
    ids: tuple[Identity, ...], renders: tuple[Callable[[Identity, str], str], ...], seed: int
) -> list[Planted]:
    """One number per country and carrier, filed under SSN (the redactor's identity-number kind)."""
    samples: list[Planted] = []
    for index, identity in enumerate(ids):
        fake = _identity_faker(identity.locale, seed + index)
        for render in renders:
            value = str(getattr(fake, identity.method)())
            if identity.locale == "zh_CN":  # a fifth of Faker's zh_CN numbers fail their check digit
                while not _cn_ok(value):
                    value = str(getattr(fake, identity.method)())
            samples.append(Planted("SSN", value, render(identity, value)))
    return samples


def _cn_ok(value: str) -> bool:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(value[:17], weights, strict=True))
    return "10X98765432"[total % 11] == value[17].upper()


# Clean text: a checksum-valid identity number of some country under a label that names no person (an
# order, a shipment, a build) is an id of something else; native prose, file names and namespaces.
CLEAN_TUNING_LABELS = ("order", "SKU", "shipment", "invoice no.", "build", "ticket #")
CLEAN_HELDOUT_LABELS = ("tracking number", "batch", "request", "artifact", "PO", "job")


def clean_texts(
    ids: tuple[Identity, ...], labels: tuple[str, ...], scripts: tuple[Script, ...], seed: int
) -> list[str]:
    rng = Random(seed)
    texts: list[str] = []
    for index, identity in enumerate(ids):
        fake = _identity_faker(identity.locale, seed + index)
        value = "".join(c for c in str(getattr(fake, identity.method)()) if c.isalnum())
        texts.append(f"{labels[index % len(labels)]} {value} dispatched at 09:{rng.randint(10, 59)}")
        texts.append(f"{rng.randint(10**8, 10**9 - 1)} rows read, {rng.randint(10**10, 10**11)} bytes")
    for index, script in enumerate(scripts):
        fake = Faker(script.locale)
        fake.seed_instance(seed + 50 + index)
        texts.append(str(fake.sentence(nb_words=10)))
        texts.append(f"{fake.company()}: {fake.random_int(100, 999)} {fake.word()} {fake.word()}")
        texts.append(f"file: {fake.word()}_{fake.random_int(1, 99)}.csv ({fake.random_int(2, 900)} kB)")
    return texts


def tuning6e() -> tuple[list[Planted], list[str]]:
    planted = script_records(TUNING_SCRIPTS, TUNING_RENDERS, SEED) + identity_numbers(
        TUNING_IDS, ID_TUNING_RENDERS, SEED + 100
    )
    return planted, clean_texts(TUNING_IDS, CLEAN_TUNING_LABELS, TUNING_SCRIPTS, SEED + 200) + list(
        TUNING_CLEAN
    )


def heldout6e() -> tuple[list[Planted], list[str]]:
    planted = script_records(HELDOUT_SCRIPTS, HELDOUT_RENDERS, SEED + 300) + identity_numbers(
        HELDOUT_IDS, ID_HELDOUT_RENDERS, SEED + 400
    )
    return planted, clean_texts(HELDOUT_IDS, CLEAN_HELDOUT_LABELS, HELDOUT_SCRIPTS, SEED + 500) + list(
        HELDOUT_CLEAN
    )


TUNING_CLEAN = (
    "名前空間: default (3 pods)",
    "파일 이름: report_2026.csv",
    "Имя файла: отчет.csv, размер 12 КБ",
    "שם הקובץ: data.csv",
    "地址簿已同步，共 42 条",
    "ORD-2026-118204 shipped, SKU 4006381333931",
)
HELDOUT_CLEAN = (
    "表名: orders_2026",
    "주소록 동기화 완료 (17건)",
    "Адресная книга обновлена: 5 записей",
    "العنوان: تقرير المبيعات الشهري",
    "RMA 2026-11-000412 received, serial 88012345671",
    "ชื่อไฟล์: sales.xlsx",
)
