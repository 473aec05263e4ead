"""Status changes through the API: re-use, waste, recycling, repurposing and remanufacturing,
with 409 and the reason for illegal transitions."""

from __future__ import annotations

import pytest

from passport.demo import demo_gtin
from passport.models import Battery, Passport, Version

pytestmark = pytest.mark.django_db


def status_url(battery: Battery) -> str:
    return f"/api/v1/batteries/{battery.identifier}/status/"


def stored() -> tuple[int, int, int, list[str]]:
    return (
        Battery.objects.count(),
        Passport.objects.count(),
        Version.objects.count(),
        list(Battery.objects.order_by("pk").values_list("status", flat=True)),
    )


def test_re_use_keeps_the_passport(api_as, users, battery, passport) -> None:
    response = api_as(users.manufacturer).post(
        status_url(battery), {"status": "re-used", "reason": "repaired under warranty"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "re-used"
    assert body["passport"]["passport_identifier"] == passport.passport_id
    assert body["passport"]["state"] == "active"
    assert body["predecessors"] == []


def test_waste_moves_responsibility_and_then_the_recycler_recycles(api_as, api_hand_over, anonymous, users, organisations,
                                                                  battery, passport) -> None:
    waste = api_hand_over(users.manufacturer, users.recycler, battery.identifier,
                          {"status": "waste", "operator": organisations.recycler.pk, "reason": "end of life"})
    assert waste.status_code == 200
    assert waste.json()["to_operator"] == {
        "id": organisations.recycler.pk, "name": organisations.recycler.name, "kind": "recycler"
    }
    # The manufacturer is no longer responsible: the recycler recycles.
    assert api_as(users.manufacturer).post(
        status_url(battery), {"status": "recycled", "reason": "x"}, format="json"
    ).status_code == 403
    recycled = api_as(users.recycler).post(
        status_url(battery), {"status": "recycled", "reason": "hydrometallurgical recycling"}, format="json"
    )
    assert recycled.status_code == 200
    assert recycled.json()["passport"]["state"] == "ceased"

    # Ceased, still readable (Art. 78(e)), and read-only.
    read = anonymous.get(f"/api/v1/passports/{passport.passport_id}/")
    assert read.status_code == 200
    assert read.json()["document"]["state"] == "ceased"
    update = api_as(users.recycler).patch(
        f"/api/v1/batteries/{battery.identifier}/", {"data": {"state_of_charge_pct": 0}, "reason": "x"}, format="json"
    )
    assert update.status_code == 409
    assert "ceased" in update.json()["errors"][0]["reason"]


def test_repurposing_several_batteries_into_a_new_one_links_the_passports(api_hand_over, anonymous, users, organisations,
                                                                         register_battery) -> None:
    first, second = register_battery(), register_battery()
    # The repurposer places the new rack on the market under its own GS1 prefix (8712345).
    new_identifier = f"(01){demo_gtin('901', company_prefix='871234500')}(21)SL0001"
    response = api_hand_over(users.manufacturer, users.repurposer, first.battery.identifier, {
        "status": "repurposed",
        "operator": organisations.repurposer.pk,
        "predecessors": [second.battery.identifier],
        "new_identifier": new_identifier,
        "reason": "modules rebuilt into a second-life rack",
    })
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["passport_battery_identifier"] == new_identifier
    assert body["kind"] == "repurpose" and body["state"] == "accepted"
    assert body["to_operator"]["id"] == organisations.repurposer.pk
    for registered in (first, second):
        registered.battery.refresh_from_db()
        assert registered.battery.status == "repurposed"
        assert registered.battery.responsible_operator == organisations.repurposer

    new_passport = body["passport"]["passport_identifier"]
    old = anonymous.get(f"/api/v1/passports/{first.passport.passport_id}/").json()["document"]
    assert old["state"] == "superseded"
    assert old["successors"] == [new_passport]
    new = anonymous.get(f"/api/v1/batteries/{new_identifier}/").json()["document"]
    assert sorted(new["predecessors"]) == sorted([first.passport.passport_id, second.passport.passport_id])


def test_remanufacturing_in_place_gives_the_battery_a_new_passport(api_hand_over, anonymous, users, organisations,
                                                                  battery, passport) -> None:
    response = api_hand_over(users.manufacturer, users.remanufacturer, battery.identifier,
                             {"status": "remanufactured", "operator": organisations.remanufacturer.pk,
                              "reason": "cells replaced"})
    assert response.status_code == 200
    body = response.json()
    assert body["passport_battery_identifier"] == battery.identifier
    new_passport = body["passport"]["passport_identifier"]
    assert new_passport != passport.passport_id
    document = anonymous.get(f"/api/v1/passports/{new_passport}/").json()["document"]
    assert document["predecessors"] == [passport.passport_id]


@pytest.mark.parametrize(
    ("payload", "reason_part"),
    [
        ({"status": "recycled"}, "only a waste battery can be recycled"),
        ({"status": "original"}, "'original' is only the status of a battery first placed on the market"),
    ],
)
def test_illegal_transitions_are_409_with_the_reason(api_as, users, battery, payload, reason_part) -> None:
    before = stored()
    response = api_as(users.manufacturer).post(status_url(battery), {**payload, "reason": "try"}, format="json")
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["field"] == "status"
    assert reason_part in error["reason"]
    assert stored() == before


def test_nothing_follows_recycling(api_as, api_hand_over, users, organisations, battery) -> None:
    api_hand_over(users.manufacturer, users.recycler, battery.identifier,
                  {"status": "waste", "operator": organisations.recycler.pk, "reason": "x"})
    api_as(users.recycler).post(status_url(battery), {"status": "recycled", "reason": "x"}, format="json")
    before = stored()
    response = api_as(users.recycler).post(
        status_url(battery), {"status": "repurposed", "operator": organisations.repurposer.pk, "reason": "x"},
        format="json",
    )
    assert response.status_code == 409
    assert "recycled" in response.json()["errors"][0]["reason"]
    assert stored() == before


def test_a_missing_operator_or_a_wrong_kind_of_operator_is_400(api_as, users, organisations, battery) -> None:
    before = stored()
    client = api_as(users.manufacturer)
    missing = client.post(status_url(battery), {"status": "waste", "reason": "x"}, format="json")
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "operator"
    wrong_kind = client.post(
        status_url(battery), {"status": "remanufactured", "operator": organisations.recycler.pk, "reason": "x"},
        format="json",
    )
    assert wrong_kind.status_code == 400
    assert wrong_kind.json()["errors"][0]["field"] == "operator"
    assert stored() == before


def test_references_that_do_not_exist_are_field_errors(api_as, users, battery) -> None:
    response = api_as(users.manufacturer).post(
        status_url(battery),
        {"status": "repurposed", "operator": 999, "predecessors": ["(01)00426123456003(21)NOPE", "bad id!"],
         "model": 999, "reason": "x"},
        format="json",
    )
    assert response.status_code == 400
    errors = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert set(errors) == {"operator", "predecessors.0", "predecessors.1", "model"}
    assert errors["predecessors.0"] == "no battery is registered with identifier (01)00426123456003(21)NOPE"


def test_an_unknown_status_or_a_missing_reason_is_400(api_as, users, battery) -> None:
    client = api_as(users.manufacturer)
    unknown = client.post(status_url(battery), {"status": "broken", "reason": "x"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "status"
    no_reason = client.post(status_url(battery), {"status": "re-used"}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"][0]["field"] == "reason"


def test_a_new_identifier_already_registered_is_409(api_as, users, organisations, register_battery) -> None:
    first, second = register_battery(), register_battery()
    before = stored()
    response = api_as(users.manufacturer).post(
        status_url(first.battery),
        {"status": "repurposed", "operator": organisations.repurposer.pk,
         "new_identifier": second.battery.identifier, "reason": "x"},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "new_identifier"
    assert stored() == before


def test_only_the_responsible_operator_changes_the_status(api_as, users, battery) -> None:
    for user in (users.other_manufacturer, users.owner, users.recycler, users.authority):
        response = api_as(user).post(status_url(battery), {"status": "re-used", "reason": "x"}, format="json")
        assert response.status_code == 403, user
    assert Battery.objects.get(pk=battery.pk).status == "original"


def test_status_of_an_unknown_battery_is_404(api_as, users) -> None:
    response = api_as(users.manufacturer).post(
        "/api/v1/batteries/NO.SUCH.BATTERY/status/", {"status": "re-used", "reason": "x"}, format="json"
    )
    assert response.status_code == 404
