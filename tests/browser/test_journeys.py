"""The journeys of issue #10, each as a person takes it in a real browser: scan link -> public
page; recycler sign-in -> end-of-life page; owner -> dashboard -> PDF download; manufacturer ->
bulk upload with an error row -> fix -> label sheet; regulator -> search -> export."""

from __future__ import annotations

import re
from typing import Any

import pytest

from passport.models import Battery
from passport.services import access_grant_create, battery_claim, battery_update
from passport.services.health import HEALTH_REASON
from tests.browser.conftest import assert_fits_the_width, screenshot, sign_in
from tests.conftest import MODEL_GTIN

pytestmark = pytest.mark.django_db(transaction=True)

DISMANTLING_MANUAL = "https://voltaro.example/passport/homerack/dismantling-manual.pdf"


@pytest.fixture
def owned(complete_battery: Battery, registered: Any, users: Any) -> Battery:
    return battery_claim(user=users.owner, identifier=complete_battery.identifier, claim_code=registered.claim_code)


def test_a_scanned_qr_code_opens_the_public_passport(page, complete_battery, passport):
    battery = complete_battery
    response = page.goto(f"/01/{battery.gtin}/21/{battery.serial}")
    assert response.status == 200
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "HomeRack 5.12 (48 V 100 Ah)"
    body = page.locator("main").inner_text()
    assert passport.passport_id in body and battery.identifier in body
    # Public view only: no state of health, no dismantling manual, and it says what is hidden.
    assert "State of charge" not in body and DISMANTLING_MANUAL not in page.content()
    assert "Some information is not shown to you" in body
    screenshot(page, "1-public-passport", phone=True)
    assert_fits_the_width(page)


def test_a_recycler_signs_in_and_finds_the_end_of_life_information(page, users, organisations, owned):
    sign_in(page, "recycler")
    page.get_by_role("link", name="Repair & recycling").click()
    page.get_by_label("Battery identifier, passport identifier or Digital Link").fill(owned.identifier)
    page.get_by_role("button", name="Show information").click()
    table = page.get_by_role("table", name="Dismantling and end-of-life information")
    assert "Safety measures" in table.inner_text() and "Hazardous substances" in table.inner_text()
    assert page.locator(f'a[href="{DISMANTLING_MANUAL}"]').count() == 1
    assert "its owner can let your organisation read it" in page.locator("main").inner_text()
    # The owner lets the recycler in: the state of health appears on the next look-up.
    access_grant_create(user=users.owner, battery=owned, organisation=organisations.recycler)
    page.reload()
    health = page.get_by_role("table", name=re.compile("State of health and history"))
    assert "97.5" in health.inner_text()
    screenshot(page, "2-recycler-end-of-life", phone=True)


def test_an_owner_opens_the_dashboard_and_downloads_the_passport_pdf(page, owned, tasks_in_process):
    # A second analysis: health over time has two points, so the charts draw lines.
    battery_update(user=None, battery=owned, reason=HEALTH_REASON,
                   data={"state_of_certified_energy_pct": 96.2, "remaining_capacity_ah": 96.2, "full_cycles_count": 190})
    sign_in(page, "owner")
    page.get_by_role("link", name="My batteries").click()
    page.get_by_role("link", name="Dashboard").click()
    assert page.get_by_role("heading", level=1).inner_text() == "HomeRack 5.12 (48 V 100 Ah)"
    now = page.locator("dl.figures").inner_text()
    assert "State of charge" in now and "64" in now
    assert page.get_by_role("table", name=re.compile("as each version of the passport recorded them")).count() == 1
    assert page.locator("figure.chart svg").count() == 2
    screenshot(page, "3-owner-dashboard", phone=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Passport (PDF)").click()
    pdf = download_info.value
    with open(pdf.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"


def csv_bytes(*rows: str) -> bytes:
    return ("gtin,serial,batch,manufacturing_date,state_of_charge_pct\n" + "\n".join(rows) + "\n").encode()


def test_a_manufacturer_uploads_batteries_fixes_the_bad_row_and_prints_labels(page, users, stationary_model):
    sign_in(page, "maker")
    page.get_by_role("link", name="Manufacturer").click()
    page.get_by_role("link", name="Register batteries from a CSV file").click()
    page.get_by_label("Battery model").select_option(label=stationary_model.name)
    good = [f"{MODEL_GTIN},WEB0001,L1,2026-02-01,50", f"{MODEL_GTIN},WEB0003,L1,2026-02-03,"]
    bad = f"{MODEL_GTIN},WEB0002,L1,2026-02-30,101"
    page.get_by_label("CSV file").set_input_files(
        {"name": "day.csv", "mimeType": "text/csv", "buffer": csv_bytes(good[0], bad, good[1])}
    )
    page.get_by_role("button", name="Register the batteries").click()
    summary = page.get_by_role("alert")
    assert "Nothing was registered" in summary.inner_text()
    rows = summary.locator("tbody tr").all_inner_texts()
    assert any(row.startswith("3\tmanufacturing_date") for row in rows), rows
    assert any(row.startswith("3\tstate_of_charge_pct") for row in rows), rows
    assert Battery.objects.count() == 0
    screenshot(page, "4a-manufacturer-upload-errors", phone=True)

    fixed = f"{MODEL_GTIN},WEB0002,L1,2026-02-28,100"
    page.get_by_label("Battery model").select_option(label=stationary_model.name)
    page.get_by_label("CSV file").set_input_files(
        {"name": "day.csv", "mimeType": "text/csv", "buffer": csv_bytes(good[0], fixed, good[1])}
    )
    page.get_by_role("button", name="Register the batteries").click()
    assert "3 batteries of HomeRack 5.12 (48 V 100 Ah) registered" in page.get_by_role("heading", level=1).inner_text()
    assert Battery.objects.count() == 3
    screenshot(page, "4b-manufacturer-registered", phone=True)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Label sheet (PDF)").click()
    labels = download_info.value
    assert labels.suggested_filename == "battery-labels.pdf"
    with open(labels.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"


def test_a_regulator_searches_the_register_and_exports_it(page, users, register_battery):
    wanted, other = register_battery(), register_battery()
    sign_in(page, "inspector")
    page.get_by_role("link", name="Regulator").click()
    page.get_by_label("Serial number").fill(wanted.battery.serial)
    page.get_by_label("Chemistry").select_option("LFP")
    page.get_by_role("button", name="Search").click()
    assert "1 battery found." in page.locator("main").inner_text()
    table = page.locator("table.register")
    headings = table.locator("thead th").all_inner_texts()
    assert headings[:3] == ["Battery identifier", "Model", "Manufacturer"]
    assert wanted.battery.identifier in table.inner_text() and other.battery.identifier not in table.inner_text()
    assert_fits_the_width(page)
    screenshot(page, "5-regulator-search", phone=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    export = download_info.value
    with open(export.path(), encoding="utf-8") as file:
        lines = file.read().splitlines()
    assert lines[0].startswith("battery_identifier,") and len(lines) == 2
    assert wanted.battery.identifier in lines[1]


def test_an_unknown_search_parameter_is_refused_in_the_browser_too(page, users):
    sign_in(page, "inspector")
    response = page.goto("/regulator/?chemestry=LFP")
    assert response.status == 400
    assert "chemestry: is not a filter of the register" in page.get_by_role("alert").inner_text()
