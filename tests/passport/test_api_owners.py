"""Owners: claiming a battery with its one-time code, then letting an organisation read its
individual data (Annex XIII point 4)."""

from __future__ import annotations

import pytest

from passport.models import AccessGrant, Battery

pytestmark = pytest.mark.django_db

CLAIMS = "/api/v1/claims/"
REFUSED = "the identifier or the claim code is not valid, or the code was already used"


def test_the_buyer_claims_the_battery_and_then_reads_its_point_4_data(api_as, users, registered) -> None:
    owner = api_as(users.owner)
    passport_url = f"/api/v1/passports/{registered.passport.passport_id}/"
    assert "status" not in owner.get(passport_url).json()["document"]

    response = owner.post(
        CLAIMS, {"identifier": registered.battery.identifier, "claim_code": registered.claim_code}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {
        "battery_identifier": registered.battery.identifier,
        "url": f"/batteries/{registered.battery.identifier}",
    }
    assert Battery.objects.get(pk=registered.battery.pk).owner == users.owner
    assert owner.get(passport_url).json()["document"]["status"] == "original"


def test_the_code_is_accepted_as_typed_from_the_label(api_as, users, registered) -> None:
    typed = registered.claim_code.lower().replace("-", " ")
    response = api_as(users.owner).post(
        CLAIMS, {"identifier": registered.battery.identifier, "claim_code": typed}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("wrong", ["identifier", "code"])
def test_a_wrong_identifier_or_code_is_403_and_says_the_same(api_as, users, registered, wrong) -> None:
    payload = {"identifier": registered.battery.identifier, "claim_code": registered.claim_code}
    payload["identifier" if wrong == "identifier" else "claim_code"] = "(01)00426123456003(21)NOPE" if wrong == "identifier" else "AAAA-BBBB"
    response = api_as(users.owner).post(CLAIMS, payload, format="json")
    assert response.status_code == 403
    assert response.json() == {"errors": [{"field": None, "reason": REFUSED}]}
    assert Battery.objects.get(pk=registered.battery.pk).owner is None


def test_a_code_works_once(api_as, users, registered) -> None:
    payload = {"identifier": registered.battery.identifier, "claim_code": registered.claim_code}
    assert api_as(users.owner).post(CLAIMS, payload, format="json").status_code == 200
    again = api_as(users.stranger).post(CLAIMS, payload, format="json")
    assert again.status_code == 403
    assert Battery.objects.get(pk=registered.battery.pk).owner == users.owner


def test_a_claim_needs_both_fields(api_as, users) -> None:
    response = api_as(users.owner).post(CLAIMS, {"identifier": "X"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "claim_code", "reason": "This field is required."}]


def grants_url(battery: Battery) -> str:
    return f"/api/v1/batteries/{battery.identifier}/grants/"


def test_the_owner_lets_a_repairer_read_the_battery_data_and_withdraws_it(api_as, users, organisations, owned_battery, passport) -> None:
    repairer = api_as(users.repairer)
    passport_url = f"/api/v1/passports/{passport.passport_id}/"
    assert "status" not in repairer.get(passport_url).json()["document"]

    granted = api_as(users.owner).post(grants_url(owned_battery), {"organisation": organisations.repairer.pk}, format="json")

    assert granted.status_code == 201
    body = granted.json()
    assert body["battery_identifier"] == owned_battery.identifier
    assert body["organisation"] == {"id": organisations.repairer.pk, "name": organisations.repairer.name, "kind": "repairer"}
    assert repairer.get(passport_url).json()["document"]["status"] == "original"

    revoked = api_as(users.owner).delete(f"{grants_url(owned_battery)}{organisations.repairer.pk}/")
    assert revoked.status_code == 204
    assert "status" not in repairer.get(passport_url).json()["document"]
    assert AccessGrant.objects.count() == 0


def test_only_the_owner_grants_access(api_as, users, organisations, owned_battery) -> None:
    for user in (users.stranger, users.manufacturer, users.repairer):
        response = api_as(user).post(grants_url(owned_battery), {"organisation": organisations.repairer.pk}, format="json")
        assert response.status_code == 403
    assert api_as(users.stranger).delete(f"{grants_url(owned_battery)}{organisations.repairer.pk}/").status_code == 403
    assert AccessGrant.objects.count() == 0


def test_authorities_cannot_be_granted_point_4_data(api_as, users, organisations, owned_battery) -> None:
    response = api_as(users.owner).post(grants_url(owned_battery), {"organisation": organisations.authority.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "organisation"


def test_grant_references_must_exist(api_as, users, owned_battery) -> None:
    owner = api_as(users.owner)
    unknown_org = owner.post(grants_url(owned_battery), {"organisation": 999}, format="json")
    assert unknown_org.status_code == 400
    assert unknown_org.json()["errors"][0]["field"] == "organisation"
    assert owner.post("/api/v1/batteries/NO.SUCH/grants/", {"organisation": 1}, format="json").status_code == 404
    assert owner.delete(f"{grants_url(owned_battery)}999/").status_code == 404


def test_organisations_can_be_listed_to_find_whom_to_grant(api_as, users, organisations) -> None:
    response = api_as(users.owner).get("/api/v1/organisations/?kind=repairer")
    assert response.status_code == 200
    assert [o["name"] for o in response.json()["results"]] == [organisations.repairer.name]
    named = api_as(users.owner).get("/api/v1/organisations/?q=recell").json()["results"]
    assert [o["id"] for o in named] == [organisations.recycler.pk]
    assert api_as(users.owner).get("/api/v1/organisations/?kind=bakery").status_code == 400
