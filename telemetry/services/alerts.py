"""Alerts about a battery: bms_core's cell alerts and devices that stopped sending.

One cause, one alert. A cause is what an alert is about (`resistance_high:cell-3`,
`no_data:device-5`). While an alert for a cause is open or acknowledged, seeing the cause again
updates it (severity, message, evidence, last seen) instead of raising another; a database
constraint holds this even for two concurrent runs. When runs have not seen the cause for
`TELEMETRY_ALERT_CLEAR_AFTER_HOURS` (a day by default), the system resolves the alert
(`resolved_by` None): a cause near its threshold that comes and goes between runs stays one alert. A person may resolve an alert whose cause is
still there: it is not raised again until the cause has gone and come back (`cleared_at`), so a
resolved warning does not reappear at the next run.

Who: the battery's owner, its responsible operator and the organisations the owner granted
access see its alerts (they read its point 4 data); the owner and the operator acknowledge and
resolve them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from passport.access import access_tiers, organisation_of
from passport.attributes import Tier
from passport.errors import NotPermitted, TransitionRefused
from passport.models import Battery
from telemetry.models import Alert, AlertStatus, Device, DeviceBinding

NO_DATA_KIND = "no_data"
SYSTEM_RESOLUTION = "the cause is no longer seen"


def alert_cause(kind: str, *, cell: int | None = None, device_id: int | None = None) -> str:
    if device_id is not None:
        return f"{kind}:device-{device_id}"
    return f"{kind}:cell-{cell}" if cell is not None else f"{kind}:pack"


# --- who -------------------------------------------------------------------------------------


def alerts_readable_by(*, user: Any, battery: Battery) -> bool:
    """Those who read the battery's point 4 data (owner, operator, grantees, staff)."""
    return Tier.INDIVIDUAL in access_tiers(user=user, battery=battery)


def _require_manager(user: Any, battery: Battery, action: str) -> None:
    """The owner and the responsible operator's members (and staff) handle alerts."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotPermitted(f"sign in to {action} alerts of this battery")
    if user.is_staff or battery.owner_id == user.pk:
        return
    organisation = organisation_of(user)
    if organisation is not None and organisation.pk == battery.responsible_operator_id:
        return
    raise NotPermitted(f"only the battery's owner or its responsible operator may {action} its alerts")


# --- raised by the system --------------------------------------------------------------------


def _raise_or_update(
    *, battery: Battery, cause: str, kind: str, cell: int | None, severity: str, message: str,
    evidence: dict, now: datetime, device: Device | None = None,
) -> Alert | None:
    """The unresolved alert of this cause, updated; or a new one unless a person resolved it
    while the cause was still present."""
    latest = Alert.objects.filter(battery=battery, cause=cause).order_by("-raised_at", "-id").first()
    if latest is not None and (latest.status != AlertStatus.RESOLVED or latest.cleared_at is None):
        latest.severity, latest.message, latest.evidence = severity, message, evidence
        latest.last_seen_at = now
        latest.save(update_fields=["severity", "message", "evidence", "last_seen_at"])
        return latest
    try:
        with transaction.atomic():
            return Alert.objects.create(
                battery=battery, device=device, cause=cause, kind=kind, cell=cell,
                severity=severity, message=message, evidence=evidence,
                raised_at=now, last_seen_at=now,
            )
    except IntegrityError:
        # Another run raised it a moment ago: one alert per cause.
        return Alert.objects.filter(battery=battery, cause=cause).exclude(
            status=AlertStatus.RESOLVED
        ).first()


def _clear_absent(
    alerts: QuerySet[Alert], seen: Iterable[str], now: datetime, hold: timedelta = timedelta(0)
) -> None:
    """Resolve (or mark cleared) the alerts whose cause is not in `seen` and was last seen at
    least `hold` ago."""
    absent = alerts.exclude(cause__in=list(seen)).filter(
        cleared_at__isnull=True, last_seen_at__lte=now - hold
    )
    absent.filter(status=AlertStatus.RESOLVED).update(cleared_at=now)
    absent.exclude(status=AlertStatus.RESOLVED).update(
        cleared_at=now, status=AlertStatus.RESOLVED, resolved_at=now, resolved_by=None,
        resolution=SYSTEM_RESOLUTION,
    )


def battery_alerts_sync(*, battery: Battery, alerts: list[dict[str, Any]], now: datetime) -> None:
    """Make the battery's analysis alerts match a bms_core report's `alerts` list."""
    seen = []
    for item in alerts:
        cause = alert_cause(item["kind"], cell=item.get("cell"))
        seen.append(cause)
        _raise_or_update(
            battery=battery, cause=cause, kind=item["kind"], cell=item.get("cell"),
            severity=item.get("severity", "warning"), message=item.get("message", ""),
            evidence=item.get("evidence") or {}, now=now,
        )
    analysis_alerts = Alert.objects.filter(battery=battery).exclude(kind=NO_DATA_KIND)
    _clear_absent(
        analysis_alerts, seen, now, hold=timedelta(hours=settings.TELEMETRY_ALERT_CLEAR_AFTER_HOURS)
    )


def devices_check_silence(*, now: datetime | None = None) -> int:
    """Raise a "no data" alert on every battery of a device that sent nothing for
    TELEMETRY_NO_DATA_ALERT_HOURS (never, counting from its binding), and clear it once the
    device sends again. Returns how many alerts are open for silent devices."""
    now = now or timezone.now()
    hours = settings.TELEMETRY_NO_DATA_ALERT_HOURS
    limit = now - timedelta(hours=hours)
    raised = 0
    devices = Device.objects.filter(revoked_at__isnull=True).prefetch_related("bindings__battery")
    for device in devices:
        cause = alert_cause(NO_DATA_KIND, device_id=device.pk)
        for binding in device.bindings.all():
            heard = device.last_seen_at or binding.created_at
            alerts = Alert.objects.filter(battery=binding.battery, cause=cause)
            if heard < limit:
                _raise_or_update(
                    battery=binding.battery, cause=cause, kind=NO_DATA_KIND, cell=None,
                    severity="warning", device=device, now=now,
                    message=f"device {device.name!r} has sent no data for {hours:g} hours",
                    evidence={"last_seen_at": heard.isoformat(), "limit_hours": hours},
                )
                raised += 1
            else:
                _clear_absent(alerts, [], now)
    # Alerts of devices since revoked, deleted or unbound from the battery are no longer
    # anyone's to act on.
    still_bound = DeviceBinding.objects.filter(
        device_id=OuterRef("device_id"), battery_id=OuterRef("battery_id")
    )
    stale = Alert.objects.filter(kind=NO_DATA_KIND, cleared_at__isnull=True).filter(
        Q(device__isnull=True) | Q(device__revoked_at__isnull=False) | ~Exists(still_bound)
    )
    _clear_absent(stale, [], now)
    return raised


# --- handled by people -----------------------------------------------------------------------


def alert_acknowledge(*, user: Any, alert: Alert) -> Alert:
    """Someone has seen it and is on it: open -> acknowledged."""
    _require_manager(user, alert.battery, "acknowledge")
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != AlertStatus.OPEN:
            raise TransitionRefused(f"the alert is {locked.status}; only an open alert can be acknowledged")
        locked.status = AlertStatus.ACKNOWLEDGED
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = user
        locked.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
    return locked


def alert_resolve(*, user: Any, alert: Alert, resolution: str = "") -> Alert:
    """Done with it: open or acknowledged -> resolved, with who, when and (optionally) how."""
    _require_manager(user, alert.battery, "resolve")
    with transaction.atomic():
        locked = Alert.objects.select_for_update().get(pk=alert.pk)
        if locked.status == AlertStatus.RESOLVED:
            raise TransitionRefused("the alert is already resolved")
        locked.status = AlertStatus.RESOLVED
        locked.resolved_at = timezone.now()
        locked.resolved_by = user
        locked.resolution = resolution.strip()[:2000]
        locked.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    return locked
