"""Registering batteries: one at a time and in bulk (all or nothing, every bad row reported)."""

from __future__ import annotations

import time

import pytest

from passport.models import Battery, Passport, Version
from tests.conftest import MODEL_GTIN

pytestmark = pytest.mark.django_db

BATTERIES = "/api/v1/batteries/"
BULK = "/api/v1/batteries/bulk/"


def item(serial_number: str, **overrides) -> dict:
    return {"gtin": MODEL_GTIN, "serial": serial_number, "batch": "L2603B", "manufacturing_date": "2026-03-10",
            **overrides}


def stored_counts() -> tuple[int, int, int]:
    return Battery.objects.count(), Passport.objects.count(), Version.objects.filter(passport__isnull=False).count()


def test_registering_one_battery_returns_its_identifiers_and_claim_code_once(api_as, users, stationary_model) -> None:
    response = api_as(users.manufacturer).post(
        BATTERIES, {"model": stationary_model.pk, "item": item("A0001")}, format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["identifier"] == f"(01){MODEL_GTIN}(21)A0001"
    assert body["passport_identifier"].startswith("urn:uuid:")
    assert body["url"] == f"/passports/{body['passport_identifier']}"
    assert len(body["claim_code"].replace("-", "")) == 28
    battery = Battery.objects.get(identifier=body["identifier"])
    assert battery.claim_code_hash and body["claim_code"] not in battery.claim_code_hash
    # The new passport is readable at once, by its page URL.
    assert api_as(users.manufacturer).get(body["url"], HTTP_ACCEPT="application/json").status_code == 200


def test_an_iso_15459_identifier_without_gtin_is_accepted(api_as, users, stationary_model) -> None:
    response = api_as(users.manufacturer).post(
        BATTERIES,
        {"model": stationary_model.pk, "item": {"identifier": "un.voltaro.48v/000123", "manufacturing_date": "2026-03-10"}},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["identifier"] == "UN.VOLTARO.48V/000123"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"gtin": "04261234560016"}, "gtin"),  # check digit should be 2
        ({"serial": "has space"}, "serial"),
        ({"manufacturing_date": "2026-13-01"}, "manufacturing_date"),
        ({"manufacturing_date": "2999-01-01"}, "manufacturing_date"),
        ({"state_of_charge_pct": 101}, "state_of_charge_pct"),
        ({"full_cycles_count": -3}, "full_cycles_count"),
        ({"rated_capacity_ah": 100}, "rated_capacity_ah"),  # a model attribute, not per battery
        ({"status": "waste"}, "status"),  # only through a status change
    ],
)
def test_invalid_items_are_400_with_the_field_and_store_nothing(api_as, users, stationary_model, overrides, field) -> None:
    before = stored_counts()
    response = api_as(users.manufacturer).post(
        BATTERIES, {"model": stationary_model.pk, "item": item("A0002", **overrides)}, format="json"
    )
    assert response.status_code == 400
    assert field in [error["field"] for error in response.json()["errors"]]
    assert stored_counts() == before


def test_a_duplicate_identifier_is_409(api_as, users, stationary_model, battery) -> None:
    before = stored_counts()
    response = api_as(users.manufacturer).post(
        BATTERIES, {"model": stationary_model.pk, "item": item(battery.serial)}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["errors"] == [
        {"field": "identifier", "reason": f"{battery.identifier} is already registered"}
    ]
    assert stored_counts() == before


def test_envelope_errors_are_400(api_as, users, stationary_model) -> None:
    client = api_as(users.manufacturer)
    missing = client.post(BATTERIES, {"item": item("A1")}, format="json")
    assert missing.status_code == 400
    assert [e["field"] for e in missing.json()["errors"]] == ["model"]
    unknown_model = client.post(BATTERIES, {"model": 999, "item": item("A1")}, format="json")
    assert unknown_model.status_code == 400
    assert [e["field"] for e in unknown_model.json()["errors"]] == ["model"]
    not_an_object = client.post(BATTERIES, {"model": stationary_model.pk, "item": ["A1"]}, format="json")
    assert not_an_object.status_code == 400
    assert [e["field"] for e in not_an_object.json()["errors"]] == ["item"]


def test_another_manufacturer_cannot_register_batteries_of_our_model(api_as, users, stationary_model) -> None:
    response = api_as(users.other_manufacturer).post(
        BATTERIES, {"model": stationary_model.pk, "item": item("A3")}, format="json"
    )
    assert response.status_code == 403
    assert Battery.objects.count() == 0


def test_ten_thousand_batteries_in_one_request(api_as, users, stationary_model) -> None:
    items = [item(f"B{number:07d}") for number in range(10_000)]
    started = time.perf_counter()
    response = api_as(users.manufacturer).post(
        BULK, {"model": stationary_model.pk, "items": items}, format="json"
    )
    elapsed = time.perf_counter() - started

    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert body["created"] == 10_000
    assert len({row["claim_code"] for row in body["batteries"]}) == 10_000
    assert body["batteries"][42]["identifier"] == f"(01){MODEL_GTIN}(21)B0000042"
    assert body["batteries"][42]["url"] == f"/passports/{body['batteries'][42]['passport_identifier']}"
    assert stored_counts() == (10_000, 10_000, 10_000)
    print(f"\n10,000 batteries through the API in {elapsed:.2f} s")


def test_a_bulk_upload_with_bad_rows_stores_nothing_and_reports_every_row(api_as, users, stationary_model, battery) -> None:
    items = [item(f"C{number:04d}") for number in range(10)]
    items[1]["gtin"] = "04261234560016"  # wrong check digit
    items[4]["state_of_charge_pct"] = 140  # outside 0-100 %
    items[5] = item("C0002")  # repeats row 2
    items[7] = item(battery.serial)  # already registered
    del items[8]["manufacturing_date"]
    before = stored_counts()

    response = api_as(users.manufacturer).post(BULK, {"model": stationary_model.pk, "items": items}, format="json")

    assert response.status_code == 400
    problems = [(e["index"], e["field"]) for e in response.json()["errors"]]
    assert problems == [
        (1, "gtin"),
        (4, "state_of_charge_pct"),
        (5, "identifier"),
        (7, "identifier"),
        (8, "manufacturing_date"),
    ]
    assert all(e["reason"] for e in response.json()["errors"])
    assert "first at row 2" in response.json()["errors"][2]["reason"]
    assert stored_counts() == before


def test_bulk_envelope_errors(api_as, users, stationary_model) -> None:
    client = api_as(users.manufacturer)
    for payload, field in (
        ({"model": stationary_model.pk, "items": []}, "items"),
        ({"model": stationary_model.pk, "items": {"a": 1}}, "items"),
        ({"model": stationary_model.pk}, "items"),
        ({"items": [item("D1")]}, "model"),
    ):
        response = client.post(BULK, payload, format="json")
        assert response.status_code == 400, payload
        assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_row_that_is_not_an_object_is_reported_with_its_index(api_as, users, stationary_model) -> None:
    response = api_as(users.manufacturer).post(
        BULK, {"model": stationary_model.pk, "items": [item("E1"), "E2"]}, format="json"
    )
    assert response.status_code == 400
    assert [(e["index"], e["field"]) for e in response.json()["errors"]] == [(1, "item")]


def test_bulk_registration_is_for_the_models_manufacturer_only(api_as, users, stationary_model) -> None:
    response = api_as(users.other_manufacturer).post(
        BULK, {"model": stationary_model.pk, "items": [item("F1")]}, format="json"
    )
    assert response.status_code == 403
    assert Battery.objects.count() == 0


def test_only_the_bulk_endpoint_accepts_large_bodies(settings, api_as, users, stationary_model) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    client = api_as(users.manufacturer)
    padded = item("G1", accident_information=[{"occurred_on": "2026-03-11", "description": "x" * 1_900}])

    too_big = client.post(BATTERIES, {"model": stationary_model.pk, "item": padded}, format="json")
    assert too_big.status_code == 413
    assert too_big.json()["errors"][0]["reason"] == "The request body is larger than 2000 bytes."

    bulk = client.post(BULK, {"model": stationary_model.pk, "items": [item(f"G{n}") for n in range(2, 40)]}, format="json")
    assert bulk.status_code == 201
    assert bulk.json()["created"] == 38
