"""The GS1 Digital Link resolver: the passport in place by default, the linkset (RFC 9264) on
request, a redirect per link type, and 404 for a link type the battery has none of."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

LINKSET = "application/linkset+json"
GS1 = "https://gs1.org/voc/"


@pytest.fixture
def link(settings, battery) -> str:
    settings.PASSPORT_BASE_URL = "https://passport.example"
    return f"/01/{battery.gtin}/21/{battery.serial}"


@pytest.mark.parametrize("ask", [{"data": {"linkType": "linkset"}}, {"data": {"linkType": "all"}},
                                 {"HTTP_ACCEPT": LINKSET}])
def test_the_linkset_lists_every_link_type_with_its_targets(anonymous, battery, passport, link, ask) -> None:
    response = anonymous.get(link, **ask)
    assert response.status_code == 200
    assert response["Content-Type"] == LINKSET
    (context,) = response.json()["linkset"]
    assert context["anchor"] == f"https://passport.example{link}"
    page = f"https://passport.example/passports/{passport.passport_id}"
    assert {"href": page, "type": "text/html", "title": "Battery passport"} in context[GS1 + "dpp"]
    assert {target["type"] for target in context[GS1 + "dpp"]} == {"text/html", "application/json"}
    assert context[GS1 + "defaultLink"][0]["href"] == page
    for link_type in ("pip", "recyclingInfo", "instructions", "safetyInfo", "sustainabilityInfo",
                      "certificationInfo"):
        assert context[GS1 + link_type], link_type
        for target in context[GS1 + link_type]:
            assert target["href"].startswith("https://passport.example/")


def test_the_default_is_the_passport_itself_with_a_link_to_the_linkset(anonymous, passport, link) -> None:
    response = anonymous.get(link)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert response["Link"] == f'<{link}?linkType=linkset>; rel="linkset"; type="{LINKSET}"'
    as_dpp = anonymous.get(link, {"linkType": "gs1:dpp"}, HTTP_ACCEPT="application/json")
    assert as_dpp.status_code == 200
    assert as_dpp.json()["passport_identifier"] == passport.passport_id


@pytest.mark.parametrize("link_type", ["gs1:recyclingInfo", "https://gs1.org/voc/recyclingInfo"])
def test_a_link_type_redirects_to_its_target_in_the_preferred_media_type(anonymous, passport, link,
                                                                         link_type) -> None:
    page = anonymous.get(link, {"linkType": link_type}, HTTP_ACCEPT="text/html")
    assert page.status_code == 307
    assert page["Location"] == f"https://passport.example/passports/{passport.passport_id}#aspect-Circularity"
    data = anonymous.get(link, {"linkType": link_type}, HTTP_ACCEPT="application/json")
    assert data.status_code == 307
    assert data["Location"] == (f"https://passport.example/api/v1/dpp/{passport.passport_id}"
                                "/elements/collection_and_treatment_info")


def test_the_redirect_target_answers_through_the_readers_rights(anonymous, api_as, users, passport, link) -> None:
    target = anonymous.get(link, {"linkType": "gs1:instructions"}, HTTP_ACCEPT="application/json")["Location"]
    path = target.removeprefix("https://passport.example")
    assert anonymous.get(path).status_code == 403  # dismantling documents: legitimate interest
    assert api_as(users.recycler).get(path).status_code == 200


def test_a_link_type_without_a_link_is_404_naming_the_parameter(anonymous, link) -> None:
    response = anonymous.get(link, {"linkType": "gs1:recipeInfo"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "linkType"
    assert "linkset" in response.json()["errors"][0]["reason"]


def test_an_unknown_battery_has_no_linkset(anonymous, battery) -> None:
    response = anonymous.get(f"/01/{battery.gtin}/21/NOPE", HTTP_ACCEPT=LINKSET)
    assert response.status_code == 404
    assert "not found" in response.json()["errors"][0]["reason"]


def test_the_linkset_counts_against_the_anonymous_budget(settings, anonymous, link) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "1/minute",
                                                                                     "user": "1/minute"}}
    assert anonymous.get(link, HTTP_ACCEPT=LINKSET).status_code == 200
    assert anonymous.get(link, HTTP_ACCEPT=LINKSET).status_code == 429


def test_every_battery_has_a_link_of_each_declared_type(anonymous, link) -> None:
    from passport.resolver import GS1_VOCABULARY, LINK_TYPES

    (context,) = anonymous.get(link, HTTP_ACCEPT=LINKSET).json()["linkset"]
    assert [key.removeprefix(GS1_VOCABULARY) for key in context if key != "anchor"] == list(LINK_TYPES)


def test_the_resolver_describes_itself_at_the_well_known_address(anonymous, settings) -> None:
    settings.PASSPORT_BASE_URL = "https://passport.example"
    description = anonymous.get("/.well-known/gs1resolver").json()
    assert description["resolverRoot"] == "https://passport.example"
    assert description["supportedPrimaryKeys"] == ["01"]
    assert "gs1:recyclingInfo" in description["linkTypes"]
