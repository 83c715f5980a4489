"""Layer 5 on records that programs print without a key next to a value, or with keys glued to values
(positional.py, fields.py's record printers), and on look-alikes that must stay unchanged (CAS registry
numbers, page ranges, product names). Own examples, one per mechanism."""

import pytest

from level5.safety import positional
from level5.safety.redaction import Redactor, Span, _select

REDACTOR = Redactor(b"test-records")


def _redacted(text: str) -> str:
    return REDACTOR.redact(text).text


def _gone(out: str, kind: str, *values: str) -> None:
    for value in values:
        assert value not in out, out
    assert f"[{kind}:" in out, out


# -- positional values: an SQL column list keys the values of its rows ------------------------------------


def test_positional_cells_name_each_plain_value_by_its_column() -> None:
    text = (
        "INSERT INTO t (id, `Full_Name`, note, made) "
        "VALUES (1, 'O''Neil Kay', f(2, 3), NOW()), (2, 'B', NULL, 'x');"
    )
    head = text.index("(") + 1
    cells, end = positional.cells(text, head)
    assert [(text[a:b], column) for a, b, column in cells] == [
        ("1", "id"),
        ("O''Neil Kay", "full_name"),
        ("2", "id"),
        ("B", "full_name"),
        ("NULL", "note"),
        ("x", "made"),
    ]
    assert text[end:] == ";"


@pytest.mark.parametrize(
    "text",
    [
        "INSERT INTO t VALUES (1, 'Ann Lee');",  # no column list: nothing names the values
        "INSERT INTO t (id, name) SELECT id, name FROM u;",  # no rows of values
        "INSERT INTO t (id, name) VALUES (1, 'Ann Lee",  # the text ends inside a quote
    ],
)
def test_positional_cells_need_a_column_list_and_rows(text: str) -> None:
    cells, _ = positional.cells(text, text.index("(") + 1)
    assert cells == []


def test_sql_insert_values_are_redacted_by_their_columns() -> None:
    text = (
        "INSERT INTO people (pid, display_name, home_address, mobile, tax_id, card)\n"
        "VALUES (17, 'Henrike Albers', 'Lindenweg 14, 26122 Oldenburg', '0151 23456789', '86095742719',"
        " '4111 1111 1111 1111'),\n"
        "       (18, 'Joaquim Seixas', 'Rua do Sol 9, 1200-195 Lisboa', '912345678', '123.456.789-09', NULL);"
    )
    out = _redacted(text)
    _gone(out, "PERSON", "Henrike Albers", "Joaquim Seixas")
    _gone(out, "ADDRESS", "Lindenweg 14", "Rua do Sol 9")
    _gone(out, "PHONE", "0151 23456789", "912345678")
    _gone(out, "SSN", "86095742719", "123.456.789-09")  # a German tax id and a CPF under "tax_id"
    assert "(17, '[PERSON:" in out and "(18, '[PERSON:" in out


def test_pg_dump_copy_rows_are_redacted_by_their_columns() -> None:
    text = (
        "COPY public.customers (id, full_name, address, phone, pesel) FROM stdin;\n"
        "1\tIrena Kowalska\tul. Lipowa 4, 20-020 Lublin\t601234567\t02270803624\n"
        "2\tJan Nowak\t\\N\t\\N\t\\N\n"
        "\\.\n"
        "\n"
        "9\tchecksum ok\t601234567\n"
    )
    out = _redacted(text)
    _gone(out, "PERSON", "Irena Kowalska", "Jan Nowak")
    _gone(out, "ADDRESS", "ul. Lipowa 4")
    _gone(out, "SSN", "02270803624")
    assert "\t[PHONE:" in out and "2\t[PERSON:" in out and "\\N\t\\N" in out
    assert out.endswith("9\tchecksum ok\t601234567\n")  # after the block's end, no column names anything


def test_sql_columns_that_name_things_keep_their_values() -> None:
    text = (
        "INSERT INTO products (sku, product_name, file_name, build) "
        "VALUES ('A-77', 'Grace Hopper', 'Alan Turing', '015123456789');"
    )
    assert _redacted(text) == text  # capitalised words under a thing's column; a bare digit run under "build"


# -- record printers: keys glued to their values -------------------------------------------------------------


def test_go_struct_print_fields_end_at_the_next_glued_key() -> None:
    text = (
        "loaded &{ID:4 Name:Halina Zawadzka Address:ul. Polna 12, 00-950 Warszawa "
        "Phone:601234567 Pesel:02270803624 Active:true}"
    )
    out = _redacted(text)
    assert "Name:[PERSON:" in out and "Address:[ADDRESS:" in out and "Phone:[PHONE:" in out, out
    assert " Active:true}" in out and "ID:4 " in out
    _gone(out, "ADDRESS", "ul. Polna 12", "Warszawa")
    _gone(out, "PHONE", "601234567")
    _gone(out, "SSN", "02270803624")


def test_kotlin_to_string_values_end_at_the_next_field_or_bracket() -> None:
    text = (
        "saved Customer(id=9, name=Tomasz Wójcik, address=Kwiatowa 3, 61-001 Poznań, phone=+48 601 234 567)"
    )
    out = _redacted(text)
    assert out.endswith("phone=[PHONE:" + out.rsplit("phone=[PHONE:", 1)[1])
    assert out.endswith("])")
    _gone(out, "ADDRESS", "Kwiatowa 3", "Poznań")
    _gone(out, "PERSON", "Tomasz Wójcik")


@pytest.mark.parametrize(
    "text",
    [
        # PHP's print_r, Perl's Data::Dumper, Ruby's hash inspect, a C# record's ToString.
        "Array\n(\n    [name] => Ines Kohlmann\n    [address] => Amselstieg 9, 22337 Hamburg\n"
        "    [phone] => 017612345678\n)\n",
        "$VAR1 = { 'name' => 'Ines Kohlmann', 'phone' => '017612345678',\n"
        "          'address' => 'Amselstieg 9, 22337 Hamburg' };",
        '{:name=>"Ines Kohlmann", :phone=>"017612345678", :address=>"Amselstieg 9, 22337 Hamburg"}',
        "Customer { Name = Ines Kohlmann, Address = Amselstieg 9, 22337 Hamburg, Phone = 017612345678 }",
        # A Java record's toString, in square brackets.
        "Customer[name=Ines Kohlmann, address=Amselstieg 9, 22337 Hamburg, phone=017612345678]",
    ],
)
def test_record_printers_with_arrows_and_spaced_keys(text: str) -> None:
    out = _redacted(text)
    _gone(out, "PERSON", "Ines Kohlmann")
    _gone(out, "ADDRESS", "Amselstieg 9", "Hamburg")
    _gone(out, "PHONE", "017612345678")


@pytest.mark.parametrize(
    "text",
    [
        # A TSV under its header (the tab is the delimiter, not padding), XML elements, Clojure's EDN map;
        # the phone a bare national digit run that only its key vouches for.
        "name\taddress\tphone\nLê Thị Hồng\t45 Đường Trần Phú, Quận 5, TP Hồ Chí Minh\t0987654321\n",
        "<row><name>Lê Thị Hồng</name><address>45 Đường Trần Phú, Quận 5, TP Hồ Chí Minh</address>"
        "<phone>0987654321</phone></row>",
        '{:name "Lê Thị Hồng", :address "45 Đường Trần Phú, Quận 5, TP Hồ Chí Minh", :phone "0987654321"}',
    ],
)
def test_tables_elements_and_maps(text: str) -> None:
    out = _redacted(text)
    _gone(out, "PERSON", "Lê Thị Hồng")
    _gone(out, "ADDRESS", "Trần Phú", "Quận 5")
    _gone(out, "PHONE", "0987654321")


def test_a_quoted_phrase_after_a_role_word_in_prose_is_no_name() -> None:
    text = 'the client "Mobile App" crashed twice'
    assert _redacted(text) == text


def test_an_xml_tag_needs_its_opening_bracket() -> None:
    text = "if phone> 0612345678 then retry"
    assert _redacted(text) == text


def test_a_name_may_end_with_a_word_that_is_also_an_article() -> None:
    out = _redacted("customer_name: Trần Thị An\n")
    _gone(out, "PERSON", "Trần Thị An")


def test_a_span_dropped_for_a_replaced_wider_one_comes_back() -> None:
    # A name (0-10) and an address guess over the whole row (0-40), which a keyed address (12-30) beats.
    spans = [Span(0, 10, "PERSON", 35), Span(0, 40, "ADDRESS", 40), Span(12, 30, "ADDRESS", 86)]
    assert _select(spans) == [Span(0, 10, "PERSON", 35), Span(12, 30, "ADDRESS", 86)]
    # Spans that overlap what stayed are not put back.
    assert _select([Span(0, 20, "PERSON", 35), Span(0, 40, "ADDRESS", 40), Span(12, 30, "ADDRESS", 86)]) == [
        Span(12, 30, "ADDRESS", 86)
    ]


def test_a_quoted_name_keeps_its_closing_quote() -> None:
    out = _redacted("{'name': 'Ines Kohlmann', 'id': 3}")
    assert out.startswith("{'name': '[PERSON:") and out.endswith("]', 'id': 3}"), out


def test_camel_case_keys_name_their_kind() -> None:
    out = _redacted("{HomeAddress:Parkstraat 8, 3581 PK Utrecht PhoneNumber:0612345678}")
    _gone(out, "ADDRESS", "Parkstraat 8")
    _gone(out, "PHONE", "0612345678")


def test_a_bounded_keyed_value_outranks_a_guess_inside_it() -> None:
    # The ZIP+4 code inside the quoted address parses as a phone number on its own.
    out = _redacted('row { address: "Calle Olmo 12, Colonia Centro, JAL 44100-3321", ok: true }')
    _gone(out, "ADDRESS", "Calle Olmo 12", "44100-3321")
    assert "[PHONE:" not in out


def test_a_word_glued_to_a_colon_and_a_space_stays_in_the_value() -> None:
    out = _redacted("Address: Flat 3, Floor: 2, 14 Quay Street, Galway H91 X2YK")
    _gone(out, "ADDRESS", "14 Quay Street", "Floor")


def test_georgian_names_are_written_without_capitals() -> None:
    out = _redacted('user = User { name: "ნინო ბერიძე", city: "Tbilisi" }')
    _gone(out, "PERSON", "ნინო ბერიძე")
    assert 'city: "Tbilisi"' in out


# -- look-alikes --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Polyethylene glycol, CAS 25322-68-3; diesel fuel 68476-34-6",
        "See the review in JAMA 323, 2052-2059 (2020) and Blood 136, 2845-2856 (2020)",
        "Proc. ICML, pp. 2345-2367, 2019",
        "Tested on Rocky Linux 9 and Mac Studio M2 Ultra",
        "then Morgan Stanley 2024 guidance was cut",
    ],
)
def test_look_alikes_stay_unchanged(text: str) -> None:
    assert _redacted(text) == text


def test_a_digit_run_in_cas_shape_with_a_wrong_check_digit_is_still_a_phone_candidate() -> None:
    # 7732-18-4 fails the CAS check, so the CAS rule does not hide the labelled number around it.
    out = _redacted("Phone: 0301 7732-18-4")
    assert "[PHONE:" in out


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Entrega: Travessa Lobo, 15, Boa Vista, 69301-120 Boa Vista / RR", "69301-120"),
        ("Send it to 88 Birch Hollow, Plano, TX 75024-3347 by Friday", "75024-3347"),
    ],
)
def test_a_long_postcode_after_its_comma_or_state_is_not_a_phone(text: str, address: str) -> None:
    out = _redacted(text)
    assert "[PHONE:" not in out, out
    _gone(out, "ADDRESS", address)


@pytest.mark.parametrize(
    "text",
    ["Rückruf an Herrn Braun, 06151-1234 ab 9 Uhr", "Telefon: 06151-123 Zentrale", "call 31415-9265 today"],
)
def test_a_number_in_postcode_shape_elsewhere_is_still_a_phone(text: str) -> None:
    assert "[PHONE:" in _redacted(text)


@pytest.mark.parametrize(
    "text",
    [
        "Yesterday Maria Gonzalez called about the refund.",
        "Call Maria Gonzalez 0612 345 678 today",  # a phone number after the name is no version
        "Maria Gonzalez   34   Madrid",  # nor a table's next column
    ],
)
def test_a_person_in_running_text_is_still_found(text: str) -> None:
    _gone(_redacted(text), "PERSON", "Maria Gonzalez")
