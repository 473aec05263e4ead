"""Reads of the health pipeline's records: alerts and snapshots of one battery, for those who
may read its point 4 data (see telemetry.services.alerts.alerts_readable_by)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from passport.errors import NotFound, NotPermitted
from passport.models import Battery
from telemetry.models import Alert, AlertStatus, HealthSnapshot
from telemetry.services.alerts import alerts_readable_by


def require_health_reader(*, user: Any, battery: Battery) -> None:
    if not alerts_readable_by(user=user, battery=battery):
        raise NotPermitted(
            "only the battery's owner, its responsible operator and organisations the owner "
            "granted access read its health data and alerts"
        )


def battery_alert_list(*, user: Any, battery: Battery, status: str | None = None) -> QuerySet[Alert]:
    """The battery's alerts, newest first; `status` one of AlertStatus."""
    require_health_reader(user=user, battery=battery)
    alerts = Alert.objects.filter(battery=battery).select_related(
        "acknowledged_by", "resolved_by", "device"
    )
    if status:
        alerts = alerts.filter(status=AlertStatus(status))
    return alerts.order_by("-raised_at", "-id")


def battery_alert_get(*, user: Any, battery: Battery, alert_id: int) -> Alert:
    require_health_reader(user=user, battery=battery)
    alert = Alert.objects.filter(battery=battery, pk=alert_id).select_related("battery").first()
    if alert is None:
        raise NotFound(f"alert {alert_id} of battery {battery.identifier}")
    return alert


def battery_snapshot_list(*, user: Any, battery: Battery) -> QuerySet[HealthSnapshot]:
    """The battery's health history, newest first."""
    require_health_reader(user=user, battery=battery)
    return HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id")


def battery_snapshot_latest(*, battery: Battery) -> HealthSnapshot | None:
    """The latest snapshot, without an access check (for commands run by the operator of the
    service)."""
    return HealthSnapshot.objects.filter(battery=battery).order_by("-created_at", "-id").first()


def battery_health_get(*, user: Any, battery: Battery) -> HealthSnapshot:
    require_health_reader(user=user, battery=battery)
    snapshot = battery_snapshot_latest(battery=battery)
    if snapshot is None:
        raise NotFound(f"health data of battery {battery.identifier} (no analysis yet)")
    return snapshot
