"""Identifiers: GTIN, GS1 element strings and Digital Link, ISO/IEC 15459, LEI, GLN."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from passport.errors import NotFound, ValidationFailed
from passport.identifiers import (
    IdentifierError,
    battery_by_digital_link,
    battery_identifier_parse,
    digital_link_path,
    gln_is_valid,
    gs1_check_digit,
    gtin_is_valid,
    gtin_normalise,
    lei_is_valid,
    lei_with_check_digits,
    qr_url,
)
from passport.selectors import battery_get, battery_passport
from passport.services import organisation_create


@pytest.mark.parametrize(
    ("gtin", "as_14"),
    [
        ("96385074", "00000096385074"),  # GTIN-8
        ("036000291452", "00036000291452"),  # GTIN-12 (UPC-A)
        ("4006381333931", "04006381333931"),  # GTIN-13
        ("10614141000019", "10614141000019"),  # GTIN-14
    ],
)
def test_gtins_of_every_length_become_gtin_14(gtin, as_14):
    assert gtin_is_valid(gtin)
    assert gtin_normalise(gtin) == as_14


@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_exactly_one_check_digit_makes_a_gtin_14_valid(body):
    valid = [d for d in "0123456789" if gtin_is_valid(body + d)]
    assert valid == [str(gs1_check_digit(body))]


@pytest.mark.parametrize(
    ("gtin", "reason"),
    [
        ("4006381333932", "GTIN 4006381333932 has check digit 2, but its digits give 1"),
        ("40063813339", "a GTIN has 8, 12, 13 or 14 digits, got 11"),
        ("4OO6381333931", "a GTIN has only digits, got '4OO6381333931'"),
    ],
)
def test_bad_gtins_say_why(gtin, reason):
    with pytest.raises(IdentifierError) as caught:
        gtin_normalise(gtin)
    assert str(caught.value) == reason


def test_battery_identifiers_are_read_in_every_form():
    canonical = "(01)04006381333931(21)SN-1"
    assert battery_identifier_parse(canonical).identifier == canonical
    assert battery_identifier_parse("/01/04006381333931/21/SN-1").identifier == canonical
    assert battery_identifier_parse("https://id.example/01/4006381333931/21/SN-1").identifier == canonical
    with_batch = battery_identifier_parse("https://id.example/01/04006381333931/10/L1/21/SN-1")
    assert (with_batch.identifier, with_batch.batch) == (canonical, "L1")
    assert battery_identifier_parse(" un.maker.abc/123 ").identifier == "UN.MAKER.ABC/123"
    for bad in ("", "with space", "(01)123(21)x", "Ü-123"):
        with pytest.raises(IdentifierError):
            battery_identifier_parse(bad)


def test_digital_link_and_qr(battery, passport, settings):
    settings.PASSPORT_BASE_URL = "https://passport.example"
    path = digital_link_path(battery.gtin, battery.serial)
    assert path == f"/01/{battery.gtin}/21/{battery.serial}"
    assert qr_url(passport) == f"https://passport.example{path}"
    assert battery_by_digital_link(battery.gtin.lstrip("0"), battery.serial) == battery
    with pytest.raises(NotFound):
        battery_by_digital_link(battery.gtin, "NOPE")
    with pytest.raises(NotFound):
        battery_by_digital_link("123", battery.serial)
    assert battery_get(identifier=path) == battery
    assert battery_passport(battery=battery) == passport


def test_qr_of_an_iso_15459_battery(register_battery, settings):
    settings.PASSPORT_BASE_URL = "https://passport.example"
    registered = register_battery(gtin=None, identifier="UN.VOLTARO/HR5-7")
    assert qr_url(registered.passport) == "https://passport.example/batteries/UN.VOLTARO%2FHR5-7"


def test_lei_and_gln_check_digits(db):
    lei = lei_with_check_digits("5299000VOLTARO0001")
    assert lei_is_valid(lei) and lei_is_valid("529900T8BM49AURSDO55")
    assert not lei_is_valid(lei[:-1] + str((int(lei[-1]) + 1) % 10))
    assert gln_is_valid("4012345000009") and not gln_is_valid("4012345000008")
    with pytest.raises(ValidationFailed) as caught:
        organisation_create(kind="manufacturer", name="Bad ids", lei="529900T8BM49AURSDO56",
                            gln="4012345000008", country="XX", colour="red")
    assert {e.field for e in caught.value.errors} == {"lei", "gln", "country", "colour"}
