"""The passport page: what each viewer sees, grouped by aspect with units, status and lifecycle
links, the version history, and the QR code."""

from __future__ import annotations

import re

import pytest
import segno

pytestmark = pytest.mark.django_db

# One value of each Annex XIII point from the fixture data (tests/conftest.py, passport/demo.py).
POINT_1 = "IEC 62620:2014 cycle life test"  # cycle-life reference test
POINT_2 = "VT-BMS-16S-200"  # part number of the BMS board
POINT_3 = "IEC 62619:2022 safety test report"  # test report
POINT_4 = "Water ingress after flooding"  # information on accidents


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def test_the_anonymous_page_shows_point_1_and_nothing_else(client, complete_battery, passport) -> None:
    html = page(client, f"/passports/{passport.passport_id}")
    assert POINT_1 in html
    for hidden in (POINT_2, POINT_3, POINT_4):
        assert hidden not in html
    assert "Battery status" not in html  # the status is point 4
    assert "point 2 (legitimate interest and authorities)" in html
    assert 'href="/login/?next=' in html


def test_the_page_groups_attributes_by_aspect_with_units_and_points(client, complete_battery, passport) -> None:
    html = page(client, f"/passports/{passport.passport_id}")
    for heading in ("General product information", "Carbon footprint", "Circularity and end of life",
                    "Performance and durability", "Material composition", "Labels and conformity"):
        assert f">{heading}</h2>" in html
    row = re.search(r'<tr id="attr-rated_capacity_ah">(.*?)</tr>', html, re.S).group(1)
    assert "Rated capacity" in row and ">100<" in row and ">Ah<" in row and ">1<" in row
    carbon = re.search(r'<tr id="attr-carbon_footprint_kg_co2e_per_kwh">(.*?)</tr>', html, re.S).group(1)
    assert "kgCO2e/kWh" in carbon


def test_the_owner_page_shows_point_4(client, users, owned_battery, complete_battery, passport) -> None:
    client.force_login(users.owner)
    html = page(client, f"/passports/{passport.passport_id}")
    assert POINT_4 in html
    assert POINT_2 in html  # persons with a legitimate interest read point 2 too
    assert POINT_3 not in html
    assert '<span class="badge status-original">original</span>' in html
    row = re.search(r'<tr id="attr-state_of_charge_pct">(.*?)</tr>', html, re.S).group(1)
    assert ">64<" in row and ">%<" in row and ">4<" in row


def test_the_authority_page_shows_points_1_to_3_not_4(client, users, complete_battery, passport) -> None:
    client.force_login(users.authority)
    html = page(client, f"/passports/{passport.passport_id}")
    assert POINT_2 in html and POINT_3 in html
    assert POINT_4 not in html


def test_the_operator_page_shows_everything_with_reasons_in_the_history(client, users, complete_battery, passport) -> None:
    client.force_login(users.manufacturer)
    html = page(client, f"/batteries/{complete_battery.identifier}")
    for value in (POINT_1, POINT_2, POINT_3, POINT_4):
        assert value in html
    assert "commissioned and first telemetry" in html
    assert "2 versions recorded" in html


def test_the_public_history_does_not_name_hidden_changes_or_reasons(client, complete_battery, passport) -> None:
    html = page(client, f"/passports/{passport.passport_id}")
    # Version 2 changed only point-4 data: the public is not told it happened, nor when.
    assert "1 version recorded" in html
    assert "commissioned and first telemetry" not in html


def test_the_qr_code_encodes_the_public_address_from_settings(settings, client, battery, passport) -> None:
    settings.PASSPORT_BASE_URL = "https://passport.example"
    html = page(client, f"/passports/{passport.passport_id}")
    target = f"https://passport.example/01/{battery.gtin}/21/{battery.serial}"
    assert f'<a href="{target}">{target}</a>' in html
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "<script" not in svg
    # The SVG is the QR code of exactly that address.
    expected = segno.make(target, error="m").svg_inline(
        scale=4, title="QR code of this battery's passport address", omitsize=True
    )
    assert svg == expected


def test_lifecycle_links_between_old_and_new_passports(client, api_hand_over, users, organisations, register_battery) -> None:
    first, second = register_battery(), register_battery()
    new_passport = api_hand_over(
        users.manufacturer, users.repurposer, first.battery.identifier,
        {"status": "repurposed", "operator": organisations.repurposer.pk,
         "predecessors": [second.battery.identifier], "reason": "second life"},
    ).json()["passport"]["passport_identifier"]

    new_html = page(client, f"/passports/{new_passport}")
    assert "Made from the batteries of these passports" in new_html
    for old in (first.passport.passport_id, second.passport.passport_id):
        assert f'<a href="/passports/{old}">{old}</a>' in new_html

    old_html = page(client, f"/passports/{second.passport.passport_id}")
    assert '<span class="badge state-superseded">superseded</span>' in old_html
    assert f'<a href="/passports/{new_passport}">{new_passport}</a>' in old_html


def test_a_ceased_passport_is_marked_and_still_shown(client, api_as, api_hand_over, users, organisations, battery,
                                                    passport) -> None:
    api_hand_over(users.manufacturer, users.recycler, battery.identifier,
                  {"status": "waste", "operator": organisations.recycler.pk, "reason": "x"})
    api_as(users.recycler).post(f"/api/v1/batteries/{battery.identifier}/status/", {"status": "recycled", "reason": "x"}, format="json")
    html = page(client, f"/01/{battery.gtin}/21/{battery.serial}")
    assert '<span class="badge state-ceased">ceased</span>' in html
    assert "the battery was recycled" in html


def test_the_page_links_to_its_json_and_history(client, passport) -> None:
    html = page(client, f"/passports/{passport.passport_id}")
    assert 'href="?format=json"' in html
    assert f'href="/api/v1/passports/{passport.passport_id}/verify"' in html


def test_the_page_as_it_was_at_a_date(client, users, battery, passport) -> None:
    client.force_login(users.manufacturer)
    response = client.get(f"/api/v1/dpp/product/{battery.identifier}/at/2099-01-01", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "as it was on 2099-01-01 23:59 UTC" in response.content.decode()
