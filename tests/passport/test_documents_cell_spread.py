"""The cell voltage spread chart (issue #9): passport declares what it reads
(passport.health_sources), telemetry supplies it from its daily rollups; the PDF report and the
owner's page draw it for readers who may see point-4 use data, and nobody else."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from passport import health_sources
from passport.attributes import Tier
from passport.documents.pdf import pdf_job
from passport.services import battery_claim, battery_update, passport_read
from telemetry.health_sources import TelemetryHealthSource
from telemetry.models import DailyRollup

SPREAD_TITLE = "Cell voltage spread"
# A PDF request enqueues its rendering with transaction.on_commit: these tests commit.
pdf_db = pytest.mark.django_db(transaction=True)


def pdf_text(body: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True).stdout.decode()


def rollup_add(battery, day: dt.date, spread_max_mv: float | None) -> DailyRollup:
    """One day's rollup as telemetry.services.rollups writes it (only the spread matters here)."""
    return DailyRollup.objects.create(
        battery=battery, day=day, samples=2880, covered_s=86_400.0, coverage_pct=100.0,
        voltage_min_v=50.0, voltage_max_v=55.0, voltage_mean_v=52.0,
        current_min_a=-40.0, current_max_a=30.0, current_mean_a=0.1,
        charge_ah=60.0, discharge_ah=58.0, charge_kwh=3.1, discharge_kwh=3.0,
        cell_spread_max_mv=spread_max_mv,
        cell_spread_mean_mv=None if spread_max_mv is None else spread_max_mv / 2,
        updated_at=timezone.now(),
    )


def export_pdf(client, passport):
    response = client.get(f"/api/v1/passports/{passport.passport_id}/export?format=pdf")
    assert response.status_code == 200, response.content[:300]
    return pdf_text(response.content)


@pytest.mark.django_db
def test_telemetry_registers_the_rollup_source_and_passport_gates_it_by_tier(battery):
    assert isinstance(health_sources._source, TelemetryHealthSource)
    rollup_add(battery, dt.date(2026, 5, 3), 31.0)
    rollup_add(battery, dt.date(2026, 5, 1), 12.34)
    rollup_add(battery, dt.date(2026, 5, 2), None)  # a day without cell voltages
    rollup_add(battery, dt.date(2026, 5, 9), 55.0)  # after `until`
    individual = frozenset({Tier.PUBLIC, Tier.RESTRICTED, Tier.INDIVIDUAL})
    series = health_sources.battery_cell_spread(battery_id=battery.pk, tiers=individual, until=dt.date(2026, 5, 8))
    assert series == [(dt.date(2026, 5, 1), 12.3), (dt.date(2026, 5, 3), 31.0)]
    for without_use_data in (frozenset({Tier.PUBLIC}), frozenset({Tier.PUBLIC, Tier.RESTRICTED, Tier.AUTHORITIES})):
        assert health_sources.battery_cell_spread(battery_id=battery.pk, tiers=without_use_data,
                                                  until=dt.date(2026, 5, 8)) == []
    # A build without telemetry registers nothing: no chart, no error.
    previous = health_sources.measured_health_source_register(None)
    try:
        assert health_sources.battery_cell_spread(battery_id=battery.pk, tiers=individual,
                                                  until=dt.date(2026, 5, 8)) == []
    finally:
        health_sources.measured_health_source_register(previous)


@pdf_db
@pytest.mark.usefixtures("tasks_in_process")
def test_the_pdf_draws_the_spread_for_readers_of_use_data_only(complete_battery, passport, anonymous, api_as, users):
    today = timezone.now().date()
    for back, spread in ((3, 18.0), (2, 21.5), (1, 24.0)):
        rollup_add(complete_battery, today - dt.timedelta(days=back), spread)
    maker = export_pdf(api_as(users.manufacturer), passport)
    assert SPREAD_TITLE in maker and "24 mV" in maker
    for reader in (anonymous, api_as(users.authority)):
        text = export_pdf(reader, passport)
        # (not a bare "mV": the random signing key id printed in the footer may hold it)
        assert SPREAD_TITLE not in text and "24 mV" not in text


@pdf_db
@pytest.mark.usefixtures("tasks_in_process")
def test_a_battery_without_telemetry_has_no_spread_chart(complete_battery, passport, api_as, users):
    battery_update(user=users.manufacturer, battery=complete_battery, reason="telemetry",
                   data={"remaining_capacity_ah": 97.0, "full_cycles_count": 130})
    text = export_pdf(api_as(users.manufacturer), passport)
    assert "Capacity retention" in text and SPREAD_TITLE not in text


@pdf_db
@pytest.mark.usefixtures("tasks_in_process")
def test_a_changed_rollup_renders_the_report_anew_without_a_new_passport_version(complete_battery, passport,
                                                                                   api_as, users):
    client = api_as(users.manufacturer)
    today = timezone.now().date()
    rollup_add(complete_battery, today - dt.timedelta(days=2), 18.0)
    late = rollup_add(complete_battery, today - dt.timedelta(days=1), 24.0)
    versions = passport.versions.count()
    assert "24 mV" in export_pdf(client, passport)
    # The nightly sweep recomputes a day whose late samples arrived: no passport version.
    late.cell_spread_max_mv = 61.0
    late.save()
    assert passport.versions.count() == versions
    again = export_pdf(client, passport)
    assert "61 mV" in again and "24 mV" not in again
    reading = passport_read(user=users.manufacturer, passport=passport, endpoint="test")
    assert pdf_job(passport=passport, document=reading.document, tiers=reading.tiers).health_data != "-"


@pytest.mark.django_db
def test_the_owners_page_draws_the_spread_and_the_pdf_link(registered, users, client):
    battery = battery_claim(user=users.owner, identifier=registered.battery.identifier,
                            claim_code=registered.claim_code)
    client.force_login(users.owner)
    page = client.get(reverse("battery-dashboard", kwargs={"identifier": battery.identifier}))
    assert page.status_code == 200 and SPREAD_TITLE not in page.content.decode()
    today = timezone.now().date()
    for back, spread in ((3, 18.0), (2, 21.5), (1, 24.0)):
        rollup_add(battery, today - dt.timedelta(days=back), spread)
    page = client.get(reverse("battery-dashboard", kwargs={"identifier": battery.identifier}))
    assert SPREAD_TITLE in page.content.decode()
