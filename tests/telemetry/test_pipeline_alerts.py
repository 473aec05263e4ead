"""Alerts and health data of a battery: who may see and handle them (attackers first), and the
alert lifecycle (open -> acknowledged -> resolved, one alert per cause)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from passport.services import access_grant_create
from telemetry.models import Alert, AlertStatus
from telemetry.services.alerts import battery_alerts_sync, devices_check_silence
from telemetry.services.devices import device_create, device_unbind
from telemetry.services.processing import battery_process
from tests.telemetry.pipeline_support import simulated, store

pytestmark = pytest.mark.django_db

WEAK_CELL = {
    "kind": "resistance_high", "cell": 3, "severity": "warning",
    "message": "cell 3's resistance is 1.3 x the median cell",
    "evidence": {"ratio": 1.3},
}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def alerts_url(battery, suffix: str = "") -> str:
    return f"/api/v1/telemetry/batteries/{battery.identifier}/alerts/{suffix}"


@pytest.fixture
def alerted(owned_battery):
    battery_alerts_sync(battery=owned_battery, alerts=[WEAK_CELL], now=timezone.now())
    return owned_battery


# --- attackers first --------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other_manufacturer", "stranger", "authority", "repairer"])
def test_others_may_not_read_a_batterys_alerts_or_health(alerted, users, who) -> None:
    # The repairer has a legitimate interest in general but no grant for this battery; an
    # authority does not read point 4 data at all.
    client = client_for(getattr(users, who))
    for url in (alerts_url(alerted), f"/api/v1/telemetry/batteries/{alerted.identifier}/health/",
                f"/api/v1/telemetry/batteries/{alerted.identifier}/health/history/"):
        response = client.get(url)
        assert response.status_code == 403, (who, url)
        assert response.json()["errors"][0]["reason"]


def test_anonymous_callers_are_asked_to_sign_in(alerted) -> None:
    assert client_for().get(alerts_url(alerted)).status_code == 401
    alert = Alert.objects.get(battery=alerted)
    assert client_for().post(alerts_url(alerted, f"{alert.pk}/resolve/")).status_code == 401
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


@pytest.mark.parametrize("who", ["other_manufacturer", "stranger", "authority", "repairer"])
def test_others_may_not_acknowledge_or_resolve(alerted, users, organisations, who) -> None:
    alert = Alert.objects.get(battery=alerted)
    client = client_for(getattr(users, who))
    assert client.post(alerts_url(alerted, f"{alert.pk}/acknowledge/")).status_code == 403
    assert client.post(alerts_url(alerted, f"{alert.pk}/resolve/")).status_code == 403
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


def test_a_grantee_reads_but_does_not_handle_alerts(alerted, users, organisations) -> None:
    access_grant_create(user=users.owner, battery=alerted, organisation=organisations.repairer)
    client = client_for(users.repairer)
    listed = client.get(alerts_url(alerted))
    assert listed.status_code == 200 and listed.json()["count"] == 1
    alert = Alert.objects.get(battery=alerted)
    assert client.post(alerts_url(alerted, f"{alert.pk}/acknowledge/")).status_code == 403


def test_an_alert_of_another_battery_is_not_found_through_this_one(alerted, register_battery, users) -> None:
    other = register_battery().battery
    battery_alerts_sync(battery=other, alerts=[WEAK_CELL], now=timezone.now())
    foreign = Alert.objects.get(battery=other)
    # The owner of `alerted` names the other battery's alert through their own battery.
    response = client_for(users.owner).post(alerts_url(alerted, f"{foreign.pk}/resolve/"))
    assert response.status_code == 404
    assert Alert.objects.get(pk=foreign.pk).status == AlertStatus.OPEN


def test_unknown_battery_and_bad_filter_are_clear_errors(alerted, users) -> None:
    client = client_for(users.owner)
    assert client.get("/api/v1/telemetry/batteries/(01)04261234560012(21)NOPE/alerts/").status_code == 404
    response = client.get(alerts_url(alerted) + "?status=burning")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "status"


# --- lifecycle --------------------------------------------------------------------------------


def test_owner_acknowledges_then_operator_resolves_with_who_and_when(alerted, users) -> None:
    alert = Alert.objects.get(battery=alerted)
    acknowledged = client_for(users.owner).post(alerts_url(alerted, f"{alert.pk}/acknowledge/"))
    assert acknowledged.status_code == 200
    assert acknowledged.json()["status"] == "acknowledged"
    assert acknowledged.json()["acknowledged_by"] == "owner"
    again = client_for(users.owner).post(alerts_url(alerted, f"{alert.pk}/acknowledge/"))
    assert again.status_code == 409
    resolved = client_for(users.manufacturer).post(
        alerts_url(alerted, f"{alert.pk}/resolve/"), {"resolution": "cell module replaced"}, format="json"
    )
    body = resolved.json()
    assert resolved.status_code == 200 and body["status"] == "resolved"
    assert body["resolved_by"] == "maker" and body["resolution"] == "cell module replaced"
    assert body["resolved_at"] is not None


def test_the_same_cause_is_not_raised_twice(alerted) -> None:
    for _ in range(3):
        battery_alerts_sync(battery=alerted, alerts=[{**WEAK_CELL, "severity": "critical"}],
                            now=timezone.now())
    [alert] = Alert.objects.filter(battery=alerted)
    assert alert.severity == "critical"
    # The database holds it too, whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        Alert.objects.create(battery=alerted, cause=alert.cause, kind="resistance_high", severity="warning",
                             message="again", raised_at=timezone.now(), last_seen_at=timezone.now())


def test_a_resolved_alert_stays_resolved_while_its_cause_lasts_and_returns_after_it_went(
    alerted, users
) -> None:
    alert = Alert.objects.get(battery=alerted)
    client_for(users.owner).post(alerts_url(alerted, f"{alert.pk}/resolve/"))
    battery_alerts_sync(battery=alerted, alerts=[WEAK_CELL], now=timezone.now())
    assert Alert.objects.filter(battery=alerted).count() == 1
    gone = timezone.now() + dt.timedelta(hours=settings.TELEMETRY_ALERT_CLEAR_AFTER_HOURS, minutes=1)
    battery_alerts_sync(battery=alerted, alerts=[], now=gone)
    battery_alerts_sync(battery=alerted, alerts=[WEAK_CELL], now=gone + dt.timedelta(minutes=5))
    assert list(Alert.objects.filter(battery=alerted).values_list("status", flat=True)) == [
        AlertStatus.OPEN, AlertStatus.RESOLVED,
    ]


def test_a_cause_that_comes_and_goes_between_runs_stays_one_open_alert(alerted) -> None:
    now = timezone.now()
    for minutes in (5, 10, 15, 20):
        cell = [WEAK_CELL] if minutes % 10 == 0 else []
        battery_alerts_sync(battery=alerted, alerts=cell, now=now + dt.timedelta(minutes=minutes))
    [alert] = Alert.objects.filter(battery=alerted)
    assert alert.status == AlertStatus.OPEN and alert.cleared_at is None


def test_the_system_resolves_an_alert_whose_cause_went_away(alerted) -> None:
    later = timezone.now() + dt.timedelta(hours=settings.TELEMETRY_ALERT_CLEAR_AFTER_HOURS, minutes=1)
    battery_alerts_sync(battery=alerted, alerts=[], now=later)
    alert = Alert.objects.get(battery=alerted)
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by is None
    assert alert.cleared_at is not None


def test_a_silent_device_raises_one_no_data_alert_per_battery_and_clears_when_heard(
    owned_battery, users, settings
) -> None:
    settings.TELEMETRY_NO_DATA_ALERT_HOURS = 6
    device, _key = device_create(user=users.owner, name="pi-garage", batteries=[owned_battery])
    now = timezone.now()
    assert devices_check_silence(now=now) == 0
    later = now + dt.timedelta(hours=7)
    devices_check_silence(now=later)
    devices_check_silence(now=later + dt.timedelta(minutes=15))
    [alert] = Alert.objects.filter(battery=owned_battery, kind="no_data")
    assert alert.status == AlertStatus.OPEN and alert.device == device
    device.last_seen_at = later + dt.timedelta(minutes=20)
    device.save(update_fields=["last_seen_at"])
    devices_check_silence(now=later + dt.timedelta(minutes=30))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by is None


def test_a_no_data_alert_ends_when_the_device_is_unbound_from_the_battery(owned_battery, users) -> None:
    device, _key = device_create(user=users.owner, name="pi-garage", batteries=[owned_battery])
    later = timezone.now() + dt.timedelta(hours=7)
    devices_check_silence(now=later)
    device_unbind(user=users.owner, device=device, battery=owned_battery)
    devices_check_silence(now=later + dt.timedelta(minutes=15))
    [alert] = Alert.objects.filter(battery=owned_battery, kind="no_data")
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by is None


# --- health reads -----------------------------------------------------------------------------


def test_owner_reads_the_latest_snapshot_and_the_history(owned_battery, users) -> None:
    client = client_for(users.owner)
    assert client.get(f"/api/v1/telemetry/batteries/{owned_battery.identifier}/health/").status_code == 404
    history = simulated()
    store(owned_battery.id, {k: v[:3000] for k, v in history.items()})
    battery_process(battery_id=owned_battery.id)
    store(owned_battery.id, {k: v[3000:] for k, v in history.items()})
    battery_process(battery_id=owned_battery.id)

    latest = client.get(f"/api/v1/telemetry/batteries/{owned_battery.identifier}/health/").json()
    assert latest["samples"] == len(history["timestamp"])
    assert latest["report"]["equivalent_full_cycles"] > 0
    assert "remaining_capacity_ah" in latest["passport_values"] or "remaining_capacity_ah" in latest["missing"]
    entries = client.get(f"/api/v1/telemetry/batteries/{owned_battery.identifier}/health/history/").json()
    assert entries["count"] == 2
    assert entries["results"][0]["figures"]["samples"] == len(history["timestamp"])


def test_staff_see_analyses_snapshots_and_alerts_in_the_admin(alerted, users, client) -> None:
    store(alerted.id, {k: v[:500] for k, v in simulated().items()})
    result = battery_process(battery_id=alerted.id)
    client.force_login(users.staff)
    for name, pk in (("batteryanalysis", alerted.telemetry_analysis.pk),
                     ("healthsnapshot", result.snapshot_id),
                     ("alert", Alert.objects.filter(battery=alerted).first().pk)):
        assert client.get(f"/admin/telemetry/{name}/").status_code == 200, name
        assert client.get(f"/admin/telemetry/{name}/{pk}/change/").status_code == 200, name


def test_the_owners_dashboard_shows_the_alerts_and_the_latest_cell_voltages(
    client, alerted, users
) -> None:
    """The panel the passport page draws through passport.health_sources, from telemetry."""
    history = simulated()
    store(alerted.id, history)
    battery_process(battery_id=alerted.id)
    client.force_login(users.owner)
    html = client.get(f"/my/batteries/{alerted.identifier}").content.decode()
    assert "resistance is 1.3 x the median cell" in html
    assert "Cell 16" in html and "Cell 17" not in html
    assert f"{round(float(history['cell_1_v'][-1]), 3)} V" in html
