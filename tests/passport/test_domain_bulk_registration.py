"""Bulk registration: ten thousand per call, all or nothing, every bad row reported."""

from __future__ import annotations

import pytest

from passport.demo import demo_gtin
from passport.errors import NotPermitted, ValidationFailed
from passport.models import Battery, Passport, Version
from passport.services import battery_register_bulk, passport_document, version_chain_verify

GTIN = demo_gtin("001")


def items(count: int, *, prefix: str = "B") -> list[dict]:
    return [
        {"gtin": GTIN, "serial": f"{prefix}{n:06d}", "batch": "L2603A", "manufacturing_date": "2026-03-02"}
        for n in range(count)
    ]


def table_counts() -> tuple[int, int, int]:
    return Battery.objects.count(), Passport.objects.count(), Version.objects.filter(passport__isnull=False).count()


def test_ten_thousand_batteries_in_one_call(stationary_model, users):
    registered = battery_register_bulk(user=users.manufacturer, model=stationary_model, items=items(10_000))
    assert len(registered) == 10_000
    assert table_counts() == (10_000, 10_000, 10_000)
    assert len({r.claim_code for r in registered}) == 10_000
    assert len({r.passport.passport_id for r in registered}) == 10_000
    sample = registered[4_321]
    assert sample.battery.pk and sample.passport.battery_id == sample.battery.pk
    assert Battery.objects.get(pk=sample.battery.pk).identifier == f"(01){GTIN}(21)B004321"
    document = passport_document(passport=sample.passport)
    assert document["battery_identifier"] == f"(01){GTIN}(21)B004321"
    assert document["rated_capacity_ah"] == 100
    assert all(report.ok for report in version_chain_verify())


def test_every_bad_row_is_reported_and_nothing_is_stored(stationary_model, users, register_battery):
    existing = register_battery(serial="B000007")
    before = table_counts()
    rows = items(12)
    rows[1]["gtin"] = "04260000000000"  # wrong check digit
    rows[3]["manufacturing_date"] = "2026-02-31"
    rows[4]["serial"] = rows[2]["serial"]  # repeated within the request
    rows[5]["battery_mass_kg"] = 40  # model-level attribute in an item
    rows[6]["state_of_charge_pct"] = -5
    # rows[7] repeats the identifier registered before
    rows[9] = "not an object"
    del rows[10]["manufacturing_date"]
    rows[11]["temperature_information"] = [{
        "period_start": "2026-03-03T00:00:00Z", "period_end": "2026-03-02T00:00:00Z",
        "min_c": 30, "max_c": 20,
    }]

    with pytest.raises(ValidationFailed) as caught:
        battery_register_bulk(user=users.manufacturer, model=stationary_model, items=rows)

    reported = [(e.index, e.field) for e in caught.value.errors]
    assert reported == [
        (1, "gtin"),
        (3, "manufacturing_date"),
        (4, "identifier"),
        (5, "battery_mass_kg"),
        (6, "state_of_charge_pct"),
        (7, "identifier"),
        (9, "item"),
        (10, "manufacturing_date"),
        (11, "temperature_information.0.min_c"),
        (11, "temperature_information.0.period_end"),
    ]
    by_index = {e.index: e.reason for e in caught.value.errors}
    assert by_index[4] == f"(01){GTIN}(21)B000002 appears twice in this request (first at row 2)"
    assert by_index[7] == f"(01){GTIN}(21)B000007 is already registered"
    assert caught.value.as_dict()["errors"][0] == {
        "index": 1, "field": "gtin",
        "reason": "GTIN 04260000000000 has check digit 0, but its digits give 4",
    }
    assert table_counts() == before
    assert Battery.objects.get().pk == existing.battery.pk


def test_a_failure_while_writing_rolls_everything_back(stationary_model, users, monkeypatch):
    from passport.services import batteries

    def broken_insert(model, objects):
        if model is Version:
            raise RuntimeError("disk full")
        return original(model, objects)

    original = batteries.rows_insert
    monkeypatch.setattr(batteries, "rows_insert", broken_insert)
    with pytest.raises(RuntimeError):
        battery_register_bulk(user=users.manufacturer, model=stationary_model, items=items(50))
    assert table_counts() == (0, 0, 0)


def test_the_request_must_be_a_non_empty_list_within_the_limit(stationary_model, users, settings):
    for bad in ([], None, {"gtin": GTIN}):
        with pytest.raises(ValidationFailed) as caught:
            battery_register_bulk(user=users.manufacturer, model=stationary_model, items=bad)
        assert caught.value.errors[0].field == "items"
    settings.PASSPORT_BULK_MAX_ITEMS = 10
    with pytest.raises(ValidationFailed) as caught:
        battery_register_bulk(user=users.manufacturer, model=stationary_model, items=items(11))
    assert caught.value.errors[0].reason == "at most 10 batteries per request, got 11"


def test_only_the_manufacturer_registers_in_bulk(stationary_model, users):
    with pytest.raises(NotPermitted):
        battery_register_bulk(user=users.other_manufacturer, model=stationary_model, items=items(3))
    assert table_counts() == (0, 0, 0)


def test_a_registration_racing_ours_is_reported_as_row_errors(stationary_model, users, register_battery, monkeypatch):
    """Another request stores an identifier between our duplicate check and our insert: the
    database's unique constraint stops it, and the rows are reported like any duplicate."""
    from passport.services import batteries

    rows = items(5)
    register_battery(serial=rows[3]["serial"])
    real_lookup = batteries._existing_identifiers
    calls = []

    def lookup_missing_the_race(identifiers):
        calls.append(1)
        return set() if len(calls) == 1 else real_lookup(identifiers)

    monkeypatch.setattr(batteries, "_existing_identifiers", lookup_missing_the_race)
    with pytest.raises(ValidationFailed) as caught:
        battery_register_bulk(user=users.manufacturer, model=stationary_model, items=rows)
    assert [(e.index, e.field) for e in caught.value.errors] == [(3, "identifier")]
    assert table_counts() == (1, 1, 1)
