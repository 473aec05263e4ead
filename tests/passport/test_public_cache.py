"""Anonymous passport reads come from stored bytes with an ETag: a conditional read gets 304, a
write shows on the next read, and nothing read with credentials is ever stored or served to
another reader."""

from __future__ import annotations

import pytest

from passport.services import battery_update

pytestmark = pytest.mark.django_db

JSON = "application/json"


def api_url(passport) -> str:
    return f"/api/v1/passports/{passport.passport_id}/"


def page_url(passport) -> str:
    return f"/passports/{passport.passport_id}"


def test_an_anonymous_read_has_an_etag_and_a_conditional_read_gets_304(client, complete_battery, passport):
    first = client.get(api_url(passport), HTTP_ACCEPT=JSON)
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and first["Cache-Control"] == "public, no-cache"
    assert "Cookie" in first["Vary"] and "Accept" in first["Vary"]
    again = client.get(api_url(passport), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == etag
    stored = client.get(api_url(passport), HTTP_ACCEPT=JSON)
    assert stored.status_code == 200 and stored.content == first.content and stored["ETag"] == etag


def test_an_anonymous_read_from_stored_bytes_takes_one_query(client, complete_battery, passport,
                                                             django_assert_num_queries):
    for url, accept in ((api_url(passport), JSON), (page_url(passport), "text/html")):
        first = client.get(url, HTTP_ACCEPT=accept)
        with django_assert_num_queries(1):
            again = client.get(url, HTTP_ACCEPT=accept)
        assert again.content == first.content
        with django_assert_num_queries(1):
            assert client.get(url, HTTP_ACCEPT=accept, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_json_and_html_of_one_passport_have_different_etags(client, passport):
    as_json = client.get(page_url(passport), HTTP_ACCEPT=JSON)
    as_html = client.get(page_url(passport), HTTP_ACCEPT="text/html")
    assert as_json["Content-Type"] == JSON and as_html["Content-Type"].startswith("text/html")
    assert as_json["ETag"] != as_html["ETag"]
    assert client.get(page_url(passport), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=as_html["ETag"]).status_code == 200


def test_a_write_shows_on_the_next_read(client, complete_battery, passport, users):
    before = client.get(api_url(passport), HTTP_ACCEPT=JSON)
    page_before = client.get(page_url(passport))
    battery_update(user=users.manufacturer, battery=complete_battery, reason="new leaflet",
                   data={"extinguishing_agent": ["Sand of the Seventeenth"]})
    after = client.get(api_url(passport), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after.json()["document"]["extinguishing_agent"] == ["Sand of the Seventeenth"]
    page_after = client.get(page_url(passport), HTTP_IF_NONE_MATCH=page_before["ETag"])
    assert page_after.status_code == 200 and page_after["ETag"] != page_before["ETag"]
    assert b"Sand of the Seventeenth" in page_after.content and b"Seventeenth" not in page_before.content


def test_a_signed_in_read_is_neither_served_from_nor_stored_in_the_public_cache(
    client, browser_as, complete_battery, passport, users
):
    public = client.get(api_url(passport), HTTP_ACCEPT=JSON)
    assert "state_of_charge_pct" not in public.json()["document"]
    operator = browser_as(users.manufacturer)
    full = operator.get(api_url(passport), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=public["ETag"])
    assert full.status_code == 200 and "ETag" not in full
    assert full.json()["view"] == "full" and "state_of_charge_pct" in full.json()["document"]
    operator.logout()
    again = client.get(api_url(passport), HTTP_ACCEPT=JSON)
    assert again.json()["view"] == "public" and "state_of_charge_pct" not in again.json()["document"]


def test_a_token_read_is_not_served_from_the_public_cache(client, api_as, complete_battery, passport, users):
    public = client.get(api_url(passport), HTTP_ACCEPT=JSON)
    program = api_as(users.manufacturer)
    full = program.get(api_url(passport), HTTP_ACCEPT=JSON, HTTP_IF_NONE_MATCH=public["ETag"])
    assert full.status_code == 200 and full.json()["view"] == "full"


def test_a_signed_in_first_read_stores_nothing_for_the_public(client, browser_as, complete_battery, passport, users):
    operator = browser_as(users.manufacturer)
    assert operator.get(page_url(passport)).status_code == 200
    operator.logout()
    public = client.get(page_url(passport))
    assert b"State of charge" not in public.content


def test_reads_with_a_query_string_go_the_long_way(client, passport):
    response = client.get(api_url(passport), {"view": "public"}, HTTP_ACCEPT=JSON)
    assert response.status_code == 200 and "ETag" not in response


def test_an_unknown_passport_is_still_a_404(client, passport):
    response = client.get("/api/v1/passports/urn:uuid:nothing/", HTTP_ACCEPT=JSON)
    assert response.status_code == 404 and "ETag" not in response


def test_stored_reads_count_against_the_anonymous_throttle(client, passport, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "100/minute"}}
    statuses = [client.get(api_url(passport), HTTP_ACCEPT=JSON).status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


def test_the_digital_link_keeps_its_link_header_and_its_linkset_from_stored_bytes(client, battery):
    url = f"/01/{battery.gtin}/21/{battery.serial}"
    first = client.get(url)
    stored = client.get(url)
    assert stored.content == first.content and stored["ETag"] == first["ETag"]
    assert stored["Link"] == first["Link"] and 'rel="linkset"' in stored["Link"]
    linkset = client.get(url, HTTP_ACCEPT="application/linkset+json")
    assert linkset["Content-Type"] == "application/linkset+json" and "ETag" not in linkset
    assert "linkset" in linkset.json()
