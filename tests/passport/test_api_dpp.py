"""The EN 18222-shaped endpoints: read by passport id, by product id, by product id and date;
update with versioning; single data elements by path; versions; chain verification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from passport.models import AccessLog, Battery, Passport, Version

pytestmark = pytest.mark.django_db


def versions_of(passport: Passport) -> int:
    return Version.objects.filter(passport=passport).count()


def test_read_by_passport_id_and_by_product_id(anonymous, battery, passport) -> None:
    by_id = anonymous.get(f"/api/v1/dpp/{passport.passport_id}")
    by_product = anonymous.get(f"/api/v1/dpp/product/{battery.identifier}")
    assert by_id.status_code == by_product.status_code == 200
    assert by_id.json()["document"] == by_product.json()["document"]
    assert by_id.json()["at"] is None


def test_update_records_a_version_and_answers_with_the_new_document(api_as, users, battery, passport) -> None:
    response = api_as(users.manufacturer).patch(
        f"/api/v1/dpp/{passport.passport_id}",
        {"data": {"state_of_charge_pct": 81.5, "full_cycles_count": 12}, "reason": "BMS telemetry"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    document = response.json()["document"]
    assert (document["state_of_charge_pct"], document["full_cycles_count"]) == (81.5, 12)
    assert document["passport_version"] == 2
    latest = Version.objects.filter(passport=passport).order_by("-seq").first()
    assert latest.reason == "BMS telemetry"
    assert latest.changes["state_of_charge_pct"] == {"old": None, "new": 81.5}


def test_the_battery_url_updates_the_same_way(api_as, users, battery, passport) -> None:
    response = api_as(users.manufacturer).patch(
        f"/api/v1/batteries/{battery.identifier}/",
        {"data": {"put_into_service_on": "2026-04-01"}, "reason": "commissioned"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["document"]["put_into_service_on"] == "2026-04-01"
    assert versions_of(passport) == 2


def test_a_rejected_update_changes_nothing(api_as, users, complete_battery, passport) -> None:
    before_data = Battery.objects.get(pk=complete_battery.pk).data
    before_versions = versions_of(passport)
    response = api_as(users.manufacturer).patch(
        f"/api/v1/dpp/{passport.passport_id}",
        {"data": {"state_of_charge_pct": 50, "remaining_capacity_ah": -1, "deep_discharge_events_count": 2.5},
         "reason": "bad telemetry"},
        format="json",
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"remaining_capacity_ah", "deep_discharge_events_count"}
    assert Battery.objects.get(pk=complete_battery.pk).data == before_data
    assert versions_of(passport) == before_versions


def test_identity_cannot_be_changed_by_an_update(api_as, users, battery, passport) -> None:
    response = api_as(users.manufacturer).patch(
        f"/api/v1/dpp/{passport.passport_id}", {"data": {"serial": "OTHER"}, "reason": "typo"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "serial"


def test_only_the_responsible_operator_updates(api_as, users, passport) -> None:
    for user in (users.other_manufacturer, users.owner, users.authority):
        response = api_as(user).patch(
            f"/api/v1/dpp/{passport.passport_id}", {"data": {"state_of_charge_pct": 1}, "reason": "x"}, format="json"
        )
        assert response.status_code == 403, user
    assert versions_of(passport) == 1


def test_updating_a_missing_passport_is_404(api_as, users) -> None:
    response = api_as(users.manufacturer).patch(
        "/api/v1/dpp/urn:uuid:00000000-0000-4000-8000-000000000000", {"data": {}, "reason": "x"}, format="json"
    )
    assert response.status_code == 404


def test_a_superseded_passport_cannot_be_updated(api_as, api_hand_over, users, organisations, battery, passport) -> None:
    api_hand_over(users.manufacturer, users.repurposer, battery.identifier,
                  {"status": "repurposed", "operator": organisations.repurposer.pk, "reason": "second life"})
    response = api_as(users.repurposer).patch(
        f"/api/v1/dpp/{passport.passport_id}", {"data": {"state_of_charge_pct": 5}, "reason": "x"}, format="json"
    )
    assert response.status_code == 409
    assert "superseded" in response.json()["errors"][0]["reason"]


# --- by product and date -----------------------------------------------------------------------


def test_the_passport_as_it_was_at_a_date(api_as, anonymous, users, battery, passport, at_time) -> None:
    now = timezone.now()
    with at_time(now + dt.timedelta(days=2)):
        api_as(users.manufacturer).patch(
            f"/api/v1/dpp/{passport.passport_id}",
            {"data": {"put_into_service_on": "2026-04-01"}, "reason": "commissioned"},
            format="json",
        )
    client = api_as(users.manufacturer)
    url = f"/api/v1/dpp/product/{battery.identifier}/at/"

    day_after = client.get(url + (now + dt.timedelta(days=1)).date().isoformat()).json()
    assert day_after["document"]["put_into_service_on"] is None
    assert day_after["document"]["passport_version"] == 1
    assert day_after["at"].startswith((now + dt.timedelta(days=1)).date().isoformat() + "T23:59:59")

    three_days_later = (now + dt.timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    later = client.get(url + three_days_later).json()
    assert later["document"]["put_into_service_on"] == "2026-04-01"
    assert later["document"]["passport_version"] == 2

    # Read at a date, the document still goes through the reader's access rights.
    assert "put_into_service_on" not in anonymous.get(url + three_days_later).json()["document"]


def test_a_repurposed_battery_answers_with_the_passport_it_had_then(api_as, api_hand_over, users, organisations, battery,
                                                                   passport, at_time) -> None:
    now = timezone.now()
    with at_time(now + dt.timedelta(days=5)):
        new_passport_id = api_hand_over(
            users.manufacturer, users.repurposer, battery.identifier,
            {"status": "repurposed", "operator": organisations.repurposer.pk, "reason": "second life"},
        ).json()["passport"]["passport_identifier"]
    url = f"/api/v1/dpp/product/{battery.identifier}/at/"
    before = api_as(users.repurposer).get(url + (now + dt.timedelta(days=1)).date().isoformat()).json()
    after = api_as(users.repurposer).get(url + (now + dt.timedelta(days=6)).date().isoformat()).json()
    assert before["passport_identifier"] == passport.passport_id
    assert after["passport_identifier"] == new_passport_id


def test_before_the_battery_existed_is_404_and_a_malformed_date_400(anonymous, battery) -> None:
    url = f"/api/v1/dpp/product/{battery.identifier}/at/"
    assert anonymous.get(url + "2020-01-01").status_code == 404
    malformed = anonymous.get(url + "yesterday")
    assert malformed.status_code == 400
    assert malformed.json()["errors"] == [
        {"field": "at", "reason": "must be an ISO 8601 date or date-time, got 'yesterday'"}
    ]


# --- single elements ---------------------------------------------------------------------------


def test_a_public_element_by_path(anonymous, passport) -> None:
    response = anonymous.get(f"/api/v1/dpp/{passport.passport_id}/elements/rated_capacity_ah")
    assert response.json() == {"passport_identifier": passport.passport_id, "path": "rated_capacity_ah", "value": 100}
    nested = anonymous.get(f"/api/v1/dpp/{passport.passport_id}/elements/hazardous_substances/0/cas_number")
    assert nested.json()["value"] == "21324-40-3"
    dotted = anonymous.get(f"/api/v1/dpp/{passport.passport_id}/elements/original_power_capability_w.at_soc_80_pct")
    assert dotted.json()["value"] == 5120


@pytest.mark.parametrize(
    "path", ["dismantling_documents", "test_reports", "state_of_charge_pct", "dismantling_documents/0/url"]
)
def test_an_element_the_caller_may_not_read_is_403(anonymous, complete_battery, passport, path) -> None:
    response = anonymous.get(f"/api/v1/dpp/{passport.passport_id}/elements/{path}")
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] is None


@pytest.mark.parametrize(
    "path", ["no_such_attribute", "hazardous_substances/9/cas_number", "rated_capacity_ah/unit", "state_of_charge_pct"]
)
def test_an_element_that_does_not_exist_is_404(api_as, users, passport, path) -> None:
    # The operator may read everything, so 404 can only mean absent (no SoC before telemetry).
    response = api_as(users.manufacturer).get(f"/api/v1/dpp/{passport.passport_id}/elements/{path}")
    assert response.status_code == 404


def test_elements_of_a_missing_passport_are_404(anonymous) -> None:
    response = anonymous.get("/api/v1/dpp/urn:uuid:00000000-0000-4000-8000-000000000000/elements/rated_capacity_ah")
    assert response.status_code == 404


def test_an_authority_reading_a_restricted_element_is_logged(api_as, users, passport) -> None:
    response = api_as(users.authority).get(f"/api/v1/dpp/{passport.passport_id}/elements/test_reports/0/title")
    assert response.json()["value"] == "IEC 62619:2022 safety test report"
    log = AccessLog.objects.get()
    assert (log.user, log.attribute_keys, log.view) == (users.authority, ["test_reports"], "authority")


# --- versions and verification -----------------------------------------------------------------


def test_versions_name_only_what_the_reader_may_see(anonymous, api_as, users, complete_battery, passport) -> None:
    public = anonymous.get(f"/api/v1/dpp/{passport.passport_id}/versions").json()
    full = api_as(users.manufacturer).get(f"/api/v1/passports/{passport.passport_id}/versions/").json()

    # Commissioning data is point 4: the public is not told of that version at all.
    assert [v["seq"] for v in public["versions"]] == [1]
    assert [v["seq"] for v in full["versions"]] == [1, 2]
    assert "state_of_charge_pct" in full["versions"][1]["changed_keys"]
    assert public["versions"][0]["reason"] is None
    assert full["versions"][1]["reason"] == "commissioned and first telemetry"
    assert full["versions"][1]["prev_hash"] == full["versions"][0]["hash"]


def test_verify_reports_an_intact_chain(anonymous, complete_battery, passport) -> None:
    body = anonymous.get(f"/api/v1/passports/{passport.passport_id}/verify").json()
    assert body["ok"] is True
    assert [(c["subject"], c["versions"], c["ok"]) for c in body["chains"]] == [
        (f"passport:{passport.passport_id}", 2, True),
        (f"battery-model:{complete_battery.model_id}", 1, True),
    ]


def test_verify_names_the_first_broken_link(anonymous, complete_battery, passport) -> None:
    # An edit behind the services' back: the stored data no longer matches the latest version.
    tampered = {**complete_battery.data, "full_cycles_count": 1}
    Battery.objects.filter(pk=complete_battery.pk).update(data=tampered)

    body = anonymous.get(f"/api/v1/passports/{passport.passport_id}/verify").json()

    assert body["ok"] is False
    chain = body["chains"][0]
    assert (chain["ok"], chain["broken_seq"]) == (False, 2)
    assert "full_cycles_count" in chain["reason"]


def test_verify_and_versions_of_a_missing_passport_are_404(anonymous) -> None:
    missing = "urn:uuid:00000000-0000-4000-8000-000000000000"
    assert anonymous.get(f"/api/v1/passports/{missing}/verify").status_code == 404
    assert anonymous.get(f"/api/v1/passports/{missing}/versions/").status_code == 404
