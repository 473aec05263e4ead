"""The regulator's page and the API search the register with one filter set: by identifier,
GTIN and serial as well as the listing filters; headings for people; unknown parameters refused
alike by both."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/regulator/batteries/"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def two(register_battery):
    return register_battery(), register_battery()


@pytest.mark.parametrize("how", ["identifier", "digital link", "gtin and serial", "serial", "gtin-13"])
def test_the_page_and_the_api_find_a_battery_by_its_identity(client, api_as, users, two, how):
    wanted, other = (registered.battery for registered in two)
    query = {
        "identifier": {"identifier": wanted.identifier},
        "digital link": {"identifier": f"https://id.example/01/{wanted.gtin}/21/{wanted.serial}"},
        "gtin and serial": {"gtin": wanted.gtin, "serial": wanted.serial},
        "serial": {"serial": wanted.serial},
        "gtin-13": {"gtin": wanted.gtin[1:], "serial": wanted.serial},
    }[how]
    listed = api_as(users.authority).get(REGISTER, query).json()["results"]
    assert [row["battery_identifier"] for row in listed] == [wanted.identifier]
    client.force_login(users.authority)
    html = text(client.get("/regulator/", query))
    assert "1 battery found." in html and wanted.identifier in html and other.identifier not in html


@pytest.mark.parametrize(("query", "field"), [
    ({"chemestry": "LFP"}, "chemestry"),
    ({"status": ["waste", "original"]}, "status"),
    ({"gtin": "12345"}, "gtin"),
    ({"identifier": "(01)x"}, "identifier"),
    ({"model": "-3"}, "model"),
])
def test_the_page_and_the_api_refuse_the_same_parameters(client, api_as, users, two, query, field):
    response = api_as(users.authority).get(REGISTER, query)
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    client.force_login(users.authority)
    page = client.get("/regulator/", query)
    assert page.status_code == 400
    assert "battery found" not in text(page) and "batteries found" not in text(page)
    assert field in text(page)


def test_an_unknown_parameter_is_named_on_the_page(client, users, two):
    client.force_login(users.authority)
    html = text(client.get("/regulator/", {"colour": "red"}))
    assert "<code>colour</code>: is not a filter of the register" in html


def test_the_table_has_headings_for_people_and_links_each_battery_to_its_passport(client, users, two):
    client.force_login(users.authority)
    html = text(client.get("/regulator/"))
    for heading in ("Battery identifier", "Model", "Manufacturer", "Category", "Chemistry", "Manufactured",
                    "Registered", "Passport state"):
        assert f'<th scope="col">{heading}</th>' in html
    assert "model_name" not in html and "registered_at" not in html
    assert "Stationary battery energy storage system" in html
    for registered in two:
        assert f'href="/passports/{registered.passport.passport_id}"' in html


def test_empty_filters_mean_any(client, api_as, users, two):
    params = {"identifier": "", "gtin": "", "chemistry": "", "manufactured_from": ""}
    assert api_as(users.authority).get(REGISTER, params).json()["count"] == 2
    client.force_login(users.authority)
    assert "2 batteries found." in text(client.get("/regulator/", params))


@pytest.mark.parametrize("who", ["manufacturer", "recycler", "owner", "stranger"])
def test_only_authorities_see_the_page(client, users, two, who):
    client.force_login(getattr(users, who))
    response = client.get("/regulator/", {"identifier": two[0].battery.identifier})
    assert response.status_code == 403
    assert two[0].battery.identifier not in text(response)


def test_the_status_is_no_filter_and_the_page_says_why(client, api_as, users, two):
    response = api_as(users.authority).get(REGISTER, {"status": "waste"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"
    assert "individual data" in response.json()["errors"][0]["reason"]
    client.force_login(users.authority)
    page = client.get("/regulator/", {"status": "waste"})
    assert page.status_code == 400 and "<code>status</code>: a battery&#x27;s status is individual data" in text(page)
    assert 'name="status"' not in text(client.get("/regulator/"))
