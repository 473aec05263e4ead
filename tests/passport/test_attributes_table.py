"""The attribute table against the reference list, and the value kinds' validation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from passport.attributes import (
    ATTRIBUTES,
    BY_KEY,
    DOCUMENT_FIELDS,
    TIER_OF,
    Entry,
    Level,
    Tier,
    View,
    mandatory,
)
from passport.services.documents import DOCUMENT_KEYS
from passport.values import (
    CasNumber,
    Choice,
    CountryCode,
    Date,
    DateTime,
    Email,
    Field,
    ListOf,
    Number,
    Object,
    Percent,
    Text,
    Url,
    canonical_number,
    cas_number_is_valid,
)
from passport.vocabulary import Category

REFERENCE = Path("/work/shared/reference/passport-attributes.md")
WHO_TO_TIER = {
    "public": Tier.PUBLIC,
    "legitimate interest + authorities": Tier.RESTRICTED,
    "authorities only": Tier.AUTHORITIES,
    "legitimate interest": Tier.INDIVIDUAL,
}


def reference_rows() -> list[dict[str, str]]:
    rows = []
    for line in REFERENCE.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0].isdigit():
            rows.append(dict(zip(
                ("number", "name", "stationary", "regulation", "unit", "who", "static", "level", "aspect"),
                cells, strict=True,
            )))
    return rows


def test_the_table_has_the_93_attributes_numbered_once_with_unique_keys():
    assert [a.number for a in ATTRIBUTES] == list(range(1, 94))
    assert len(BY_KEY) == 93
    for attribute in ATTRIBUTES:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", attribute.key), attribute.key


@pytest.mark.skipif(not REFERENCE.exists(), reason=f"reference list {REFERENCE} is not on this machine")
def test_the_table_matches_the_reference_list_row_by_row():
    rows = reference_rows()
    assert len(rows) == 93
    for row in rows:
        attribute = next(a for a in ATTRIBUTES if a.number == int(row["number"]))
        where = f"#{row['number']} {row['name']}"
        assert attribute.tier is WHO_TO_TIER[row["who"]], where
        assert attribute.level.value == row["level"], where
        assert attribute.dynamic is (row["static"] == "Dynamic"), where
        assert attribute.is_mandatory(Category.STATIONARY) is (row["stationary"] == "mandatory"), where
        assert attribute.aspect == row["aspect"], where


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: f"{a.number}-{a.key}")
def test_numeric_attributes_carry_their_unit_in_the_key(attribute):
    unit_suffixes = {"kg": "_kg", "Ah": "_ah", "V": "_v", "W": "_w", "%": "_pct", "kWh": "_kwh",
                     "°C": "_c", "years": "_years", "minutes": "_minutes", "ohm": "_ohm"}
    if isinstance(attribute.kind, Number) and attribute.unit in unit_suffixes:
        assert attribute.key.endswith(unit_suffixes[attribute.unit]), attribute.key


def test_na_for_stationary_means_mandatory_for_ev_only_or_voluntary():
    # The consortium list marks 57 and 83 mandatory for EV, 55 and 56 voluntary for EV.
    for number, categories in ((55, set()), (56, set()), (57, {Category.EV}), (83, {Category.EV})):
        attribute = next(a for a in ATTRIBUTES if a.number == number)
        assert attribute.mandatory_for == frozenset(categories)


def test_mandatory_sets_depend_on_the_category():
    stationary = {a.key for a in mandatory(Category.STATIONARY, Level.MODEL)}
    ev = {a.key for a in mandatory(Category.EV, Level.MODEL)}
    assert "capacity_threshold_for_exhaustion_pct" in ev - stationary
    assert "state_of_certified_energy_pct" in {a.key for a in mandatory(Category.EV, Level.ITEM)}
    assert {"remaining_round_trip_efficiency_pct", "self_discharge_evolution"} <= {
        a.key for a in mandatory(Category.STATIONARY, Level.ITEM)
    }


def test_registration_requires_only_static_input_item_attributes():
    required = {a.key for a in mandatory(Category.STATIONARY, Level.ITEM, at_creation=True)}
    assert required == {"manufacturing_date", "extinguishing_agent"}
    for attribute in ATTRIBUTES:
        if attribute.dynamic:
            assert attribute.entry is not Entry.INPUT


def test_every_document_key_has_exactly_one_tier():
    assert set(DOCUMENT_KEYS) == set(TIER_OF)
    assert len(DOCUMENT_KEYS) == len(ATTRIBUTES) + len(DOCUMENT_FIELDS)
    assert not {f.key for f in DOCUMENT_FIELDS} & set(BY_KEY)


def test_views_are_not_nested():
    assert Tier.INDIVIDUAL not in View.AUTHORITY.tiers()
    assert Tier.AUTHORITIES not in View.LEGITIMATE.tiers()
    assert Tier.INDIVIDUAL not in View.LEGITIMATE.tiers(interest=False)
    assert View.FULL.tiers() == frozenset(Tier)
    assert View.PUBLIC.tiers() == {Tier.PUBLIC}


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: f"{a.number}-{a.key}")
def test_every_kind_describes_itself_as_json_schema(attribute):
    schema = attribute.kind.json_schema()
    types = [option["type"] for option in schema.get("oneOf", [schema])]
    assert set(types) <= {"number", "integer", "string", "boolean", "object", "array"}


# --- value kinds -------------------------------------------------------------------------------


def reasons(kind, value, path="x"):
    _, errors = kind.clean(value, path)
    return [(e.field, e.reason) for e in errors]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("battery_mass_kg", 0),
        ("battery_mass_kg", -3),
        ("battery_mass_kg", 1_000_000.1),
        ("rated_capacity_ah", 0),
        ("rated_capacity_ah", 100_001),
        ("nominal_voltage_v", 2_001),
        ("min_voltage_v", -1),
        ("capacity_fade_pct", 100.5),
        ("renewable_content_pct", -0.1),
        ("expected_lifetime_cycles", 6000.5),
        ("warranty_period_years", "10"),
        ("battery_mass_kg", True),
        ("battery_mass_kg", float("nan")),
        ("battery_mass_kg", float("inf")),
    ],
)
def test_physically_absurd_numbers_are_refused_with_the_range(key, value):
    errors = reasons(BY_KEY[key].kind, value, key)
    assert errors and errors[0][0] == key
    assert "must be" in errors[0][1]


def test_number_reason_names_range_and_unit():
    [(field, reason)] = reasons(BY_KEY["battery_mass_kg"].kind, -3, "battery_mass_kg")
    assert reason == "must be a number greater than 0 kg and at most 1e+06 kg, got -3"


@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_percentages_in_range_are_accepted(value):
    cleaned, errors = Percent().clean(value, "p")
    assert not errors and cleaned == canonical_number(value)


@given(st.one_of(st.floats(max_value=-1e-9), st.floats(min_value=100.000001, allow_infinity=False)))
def test_percentages_out_of_range_are_refused(value):
    _, errors = Percent().clean(value, "p")
    assert errors


def test_integral_floats_are_stored_as_integers_for_a_stable_hash():
    assert Number(0, 1e20).clean(1e16, "x") == (10**16, [])
    assert Number(0, 10).clean(5.5, "x") == (5.5, [])


def test_text_url_email_date_choice_country():
    assert reasons(Text(5), "  ") == [("x", "must not be empty")]
    assert reasons(Text(5), "abcdef")[0][1].startswith("must be at most 5 characters")
    assert Text(10).clean("  trimmed ", "x") == ("trimmed", [])
    assert reasons(Url(), "ftp://example.com/a")
    assert reasons(Url(), "not a url")
    assert Url().clean("https://example.com/a.pdf", "x") == ("https://example.com/a.pdf", [])
    assert reasons(Email(), "nobody@")
    assert reasons(Date(), "2026-02-30")[0][1].startswith("must be a date in ISO 8601")
    assert reasons(Date(), "2999-01-01")[0][1].startswith("must not be in the future")
    assert reasons(Date(), "1980-01-01")[0][1].startswith("must not be before 1990-01-01")
    assert Date().clean("2026-01-31", "x") == ("2026-01-31", [])
    assert reasons(DateTime(), "2026-01-31T10:00:00")  # no time zone
    assert DateTime().clean("2026-01-31T10:00:00+01:00", "x") == ("2026-01-31T09:00:00Z", [])
    assert reasons(Choice(("A", "B")), "F") == [("x", "must be one of A, B, got 'F'")]
    assert CountryCode().clean("de", "x") == ("DE", [])
    assert reasons(CountryCode(), "XX")


def test_cas_numbers_are_checked_with_their_check_digit():
    assert cas_number_is_valid("7439-93-2")  # lithium
    assert cas_number_is_valid("21324-40-3")  # LiPF6
    assert cas_number_is_valid("7732-18-5")  # water
    assert not cas_number_is_valid("7732-18-4")
    assert reasons(CasNumber(), "7732-18-4") == [("x", "CAS Registry Number 7732-18-4 has a wrong check digit")]
    assert reasons(CasNumber(), "lithium")


def test_structured_values_report_dotted_paths():
    kind = BY_KEY["hazardous_substances"].kind
    errors = reasons(kind, [
        {"name": "LiPF6", "cas_number": "21324-40-3", "concentration_pct": 1.6, "location": "electrolyte"},
        {"name": "", "cas_number": "21324-40-4", "concentration_pct": 120, "colour": "red",
         "location": "electrolyte"},
        {"cas_number": "7439-93-2", "location": "anode"},
    ], "hazardous_substances")
    fields = {field for field, _ in errors}
    assert fields == {
        "hazardous_substances.1.name",
        "hazardous_substances.1.cas_number",
        "hazardous_substances.1.concentration_pct",
        "hazardous_substances.1.colour",
        "hazardous_substances.2.name",
        "hazardous_substances.2.concentration_pct",
    }


def test_object_and_list_shapes():
    kind = Object({"a": Field(Text()), "b": Field(Number(0, 1), required=False)})
    assert kind.clean({"a": "x"}, "o") == ({"a": "x"}, [])
    assert reasons(kind, "x", "o") == [("o", "must be an object with fields a, b")]
    assert reasons(ListOf(Text(), min_items=1), []) == [("x", "must have at least 1 entry")]
    assert reasons(ListOf(Text()), "x") == [("x", "must be a list, got the text 'x'")]
    documents = BY_KEY["dismantling_documents"].kind
    assert not reasons(documents, [{"title": "Manual", "url": "https://x.example/m.pdf", "mime": "application/pdf"}])
    assert reasons(documents, [{"title": "Manual", "url": "https://x.example/m.pdf"}]) == [
        ("x.0.mime", "is required")
    ]


# --- robustness: any JSON is either accepted or refused with reasons, never a crash ------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize("attribute", ATTRIBUTES, ids=lambda a: f"{a.number}-{a.key}")
@settings(max_examples=30, deadline=None)  # 93 attributes: keep the whole run to seconds
@given(value=JSON_VALUES)
def test_any_json_value_is_cleaned_or_refused_with_reasons(attribute, value):
    cleaned, errors = attribute.kind.clean(value, attribute.key)
    if errors:
        assert cleaned is None
        assert all(e.field.startswith(attribute.key) and e.reason for e in errors)
    else:
        again, errors_again = attribute.kind.clean(cleaned, attribute.key)
        assert (again, errors_again) == (cleaned, []), "cleaning is idempotent"


@given(item=st.dictionaries(
    st.sampled_from(["identifier", "gtin", "serial", "batch", "manufacturing_date", "extinguishing_agent",
                     "state_of_charge_pct", "rated_capacity_ah", "status", "colour"]),
    JSON_VALUES, max_size=6))
def test_any_registration_row_is_accepted_or_refused_with_reasons(item):
    from passport.models import BatteryModel
    from passport.services.batteries import _row_clean

    model = BatteryModel(category=Category.STATIONARY, data={"rated_capacity_ah": 100})
    row, errors = _row_clean(item, model)
    assert (row is None) == bool(errors)
    assert all(e.field and e.reason for e in errors)
