"""Reading passports: by battery identifier, passport identifier and GS1 Digital Link; the same
URL answers HTML or JSON; what each reader sees; and the access log of restricted reads."""

from __future__ import annotations

import pytest

from passport.attributes import ATTRIBUTES, Tier
from passport.models import AccessLog

pytestmark = pytest.mark.django_db

JSON = "application/json"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

KEYS_OF = {tier: {a.key for a in ATTRIBUTES if a.tier is tier} for tier in Tier}


def document(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    return response.json()["document"]


def tiers_present(doc: dict) -> set[Tier]:
    return {tier for tier, keys in KEYS_OF.items() if keys & set(doc)}


# --- addresses and negotiation -----------------------------------------------------------------


def test_the_three_addresses_of_a_battery_give_the_same_passport(anonymous, battery, passport) -> None:
    urls = [
        f"/api/v1/batteries/{battery.identifier}/",
        f"/api/v1/passports/{passport.passport_id}/",
        f"/01/{battery.gtin}/21/{battery.serial}",
        f"/01/{battery.gtin}/10/{battery.batch}/21/{battery.serial}",
        f"/passports/{passport.passport_id}",
        f"/batteries/{battery.identifier}",
    ]
    for url in urls:
        body = anonymous.get(url, HTTP_ACCEPT=JSON).json()
        assert body["passport_identifier"] == passport.passport_id, url
        assert body["battery_identifier"] == battery.identifier


def test_browsers_get_the_page_and_programs_get_json_at_the_same_url(anonymous, battery, passport) -> None:
    for url in (f"/api/v1/batteries/{battery.identifier}/", f"/01/{battery.gtin}/21/{battery.serial}",
                f"/passports/{passport.passport_id}"):
        page = anonymous.get(url, HTTP_ACCEPT=BROWSER)
        assert page.status_code == 200
        assert page["Content-Type"].startswith("text/html")
        assert b"HomeRack 5.12 (48 V 100 Ah)" in page.content
        data = anonymous.get(url, HTTP_ACCEPT=JSON)
        assert data["Content-Type"] == JSON
        assert data.json()["document"]["model_name"] == "HomeRack 5.12 (48 V 100 Ah)"
        for response in (page, data):
            assert {"Accept", "Authorization", "Cookie"} <= {v.strip() for v in response["Vary"].split(",")}


def test_without_a_preference_the_api_answers_json_and_the_pages_html(anonymous, battery, passport) -> None:
    assert anonymous.get(f"/api/v1/passports/{passport.passport_id}/", HTTP_ACCEPT="*/*")["Content-Type"] == JSON
    assert anonymous.get(f"/passports/{passport.passport_id}")["Content-Type"].startswith("text/html")
    assert anonymous.get(f"/01/{battery.gtin}/21/{battery.serial}")["Content-Type"].startswith("text/html")


def test_accept_quality_values_are_respected(anonymous, passport) -> None:
    url = f"/passports/{passport.passport_id}"
    prefers_json = anonymous.get(url, HTTP_ACCEPT="text/html;q=0.5, application/json")
    assert prefers_json["Content-Type"] == JSON
    prefers_html = anonymous.get(url, HTTP_ACCEPT="application/json;q=0.2, text/html")
    assert prefers_html["Content-Type"].startswith("text/html")


def test_format_parameter_overrides_accept(anonymous, passport) -> None:
    response = anonymous.get(f"/passports/{passport.passport_id}?format=json", HTTP_ACCEPT=BROWSER)
    assert response["Content-Type"] == JSON


def test_an_unservable_accept_header_is_406(anonymous, passport) -> None:
    response = anonymous.get(f"/api/v1/passports/{passport.passport_id}/", HTTP_ACCEPT="image/png")
    assert response.status_code == 406
    assert response.json()["errors"][0]["reason"] == "None of the accepted media types can be produced here."


def test_identifiers_are_found_in_any_accepted_spelling(anonymous, api_as, users, stationary_model) -> None:
    registered = api_as(users.manufacturer).post(
        "/api/v1/batteries/",
        {"model": stationary_model.pk, "item": {"identifier": "UN.VOLTARO.48V/000123", "manufacturing_date": "2026-03-02"}},
        format="json",
    ).json()
    for spelling in ("UN.VOLTARO.48V/000123", "un.voltaro.48v/000123", "UN.VOLTARO.48V%2F000123"):
        response = anonymous.get(f"/api/v1/batteries/{spelling}/", HTTP_ACCEPT=JSON)
        assert response.status_code == 200, spelling
        assert response.json()["passport_identifier"] == registered["passport_identifier"]


def test_a_gtin_8_12_or_13_digital_link_resolves_like_its_gtin_14(anonymous, battery) -> None:
    gtin13 = battery.gtin[1:]  # the demo GTIN-14 has indicator 0
    response = anonymous.get(f"/01/{gtin13}/21/{battery.serial}", HTTP_ACCEPT=JSON)
    assert response.json()["battery_identifier"] == battery.identifier


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/batteries/(01)00426123456003(21)NOPE/",
        "/api/v1/passports/urn:uuid:00000000-0000-4000-8000-000000000000/",
        "/01/00426123456003/21/NOPE",
        "/01/00426123456004/21/VT260300001",  # wrong check digit: no such key, no such battery
        "/01/00426123456003/10/OTHERLOT/21/VT260300001",  # the lot does not match the battery
        "/batteries/NO.SUCH.BATTERY",
    ],
)
def test_what_does_not_exist_is_404_in_json_and_html(anonymous, battery, url) -> None:
    data = anonymous.get(url, HTTP_ACCEPT=JSON)
    assert data.status_code == 404
    assert data.json()["errors"][0]["field"] is None
    assert "not found" in data.json()["errors"][0]["reason"]
    page = anonymous.get(url, HTTP_ACCEPT=BROWSER)
    assert page.status_code == 404
    assert b"<h1>Not found</h1>" in page.content


# --- who sees what -----------------------------------------------------------------------------


def test_the_public_sees_point_1_only(anonymous, complete_battery, passport) -> None:
    doc = document(anonymous.get(f"/api/v1/passports/{passport.passport_id}/", HTTP_ACCEPT=JSON))
    assert tiers_present(doc) == {Tier.PUBLIC}
    assert doc["rated_capacity_ah"] == 100
    assert anonymous.get(f"/api/v1/passports/{passport.passport_id}/").json()["view"] == "public"


def test_the_owner_sees_point_4_of_their_battery(api_as, users, owned_battery, passport) -> None:
    response = api_as(users.owner).get(f"/api/v1/passports/{passport.passport_id}/")
    doc = document(response)
    assert tiers_present(doc) == {Tier.PUBLIC, Tier.RESTRICTED, Tier.INDIVIDUAL}
    assert doc["status"] == "original"
    assert response.json()["view"] == "legitimate"


def test_authorities_see_points_1_to_3_but_never_point_4(api_as, users, complete_battery, passport) -> None:
    doc = document(api_as(users.authority).get(f"/api/v1/passports/{passport.passport_id}/"))
    assert tiers_present(doc) == {Tier.PUBLIC, Tier.RESTRICTED, Tier.AUTHORITIES}
    assert "state_of_charge_pct" not in doc and "status" not in doc


def test_a_repairer_without_a_grant_sees_point_2_but_not_point_4(api_as, users, complete_battery, passport) -> None:
    doc = document(api_as(users.repairer).get(f"/api/v1/passports/{passport.passport_id}/"))
    assert tiers_present(doc) == {Tier.PUBLIC, Tier.RESTRICTED}


def test_the_responsible_operator_sees_everything(api_as, users, complete_battery, passport) -> None:
    response = api_as(users.manufacturer).get(f"/api/v1/passports/{passport.passport_id}/")
    assert tiers_present(document(response)) == set(Tier)
    assert response.json()["view"] == "full"


def test_a_lower_view_can_be_asked_for_but_never_a_higher_one(anonymous, api_as, users, passport) -> None:
    lower = api_as(users.authority).get(f"/api/v1/passports/{passport.passport_id}/?view=public")
    assert tiers_present(document(lower)) == {Tier.PUBLIC}
    assert lower.json()["view"] == "public"

    higher = anonymous.get(f"/api/v1/passports/{passport.passport_id}/?view=authority")
    assert higher.status_code == 403
    unknown = anonymous.get(f"/api/v1/passports/{passport.passport_id}/?view=everything")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "view"


def test_the_links_lead_to_the_page_the_versions_and_the_qr_target(settings, anonymous, battery, passport) -> None:
    settings.PASSPORT_BASE_URL = "https://passport.example"
    links = anonymous.get(f"/api/v1/passports/{passport.passport_id}/").json()["links"]
    assert links == {
        "page": f"/passports/{passport.passport_id}",
        "battery": f"/batteries/{battery.identifier}",
        "qr": f"https://passport.example/01/{battery.gtin}/21/{battery.serial}",
        "versions": f"/api/v1/passports/{passport.passport_id}/versions/",
        "verify": f"/api/v1/passports/{passport.passport_id}/verify",
    }


# --- access log --------------------------------------------------------------------------------


def test_an_authority_read_of_restricted_data_is_logged(api_as, users, organisations, battery, passport) -> None:
    api_as(users.authority).get(f"/api/v1/batteries/{battery.identifier}/")

    log = AccessLog.objects.get()
    assert (log.user, log.organisation, log.battery, log.passport) == (
        users.authority, organisations.authority, battery, passport
    )
    assert log.view == "authority"
    assert "test_reports" in log.attribute_keys and "dismantling_documents" in log.attribute_keys
    assert "rated_capacity_ah" not in log.attribute_keys  # public data is not restricted
    assert log.endpoint == f"GET /api/v1/batteries/{battery.identifier}/"


def test_a_legitimate_interest_read_is_logged_also_through_the_page(client, users, passport) -> None:
    client.force_login(users.recycler)
    client.get(f"/passports/{passport.passport_id}")
    log = AccessLog.objects.get()
    assert log.user == users.recycler and log.view == "legitimate"
    assert log.endpoint == f"GET /passports/{passport.passport_id}"


def test_public_and_operator_reads_are_not_logged(anonymous, api_as, users, passport) -> None:
    anonymous.get(f"/api/v1/passports/{passport.passport_id}/")
    api_as(users.manufacturer).get(f"/api/v1/passports/{passport.passport_id}/")
    api_as(users.authority).get(f"/api/v1/passports/{passport.passport_id}/?view=public")
    assert AccessLog.objects.count() == 0
