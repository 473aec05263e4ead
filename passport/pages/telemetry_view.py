"""What the pages show of a battery's telemetry (alerts, the latest analysis, cell voltages),
where this build has the telemetry app; None where it has not, and the pages say so."""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass
from typing import Any

from django.apps import apps

from passport.models import Battery

RECENT_ALERTS = 20
# Cell voltages are shown from samples at most this old before the latest analysed sample.
CELL_WINDOW = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class TelemetryView:
    alerts: list[Any]
    latest: Any  # the latest HealthSnapshot, or None before the first analysis
    cell_voltages_v: list[float]


def battery_telemetry(*, user: Any, battery: Battery) -> TelemetryView | None:
    if not apps.is_installed("telemetry"):
        return None
    health = importlib.import_module("telemetry.health_selectors")
    alerts = list(health.battery_alert_list(user=user, battery=battery)[:RECENT_ALERTS])
    snapshots = health.battery_snapshot_list(user=user, battery=battery)
    latest = snapshots.first()
    return TelemetryView(alerts=alerts, latest=latest, cell_voltages_v=_cell_voltages(battery, latest))


def _cell_voltages(battery: Battery, latest: Any) -> list[float]:
    """The cells of the latest sample that carried them, where the collector sends cells."""
    if latest is None or latest.data_end is None:
        return []
    selectors = importlib.import_module("telemetry.selectors")
    columns = selectors.sample_columns(battery_id=battery.pk, after=latest.data_end - CELL_WINDOW,
                                       until=latest.data_end)
    cells = sorted((name for name in columns if name.startswith("cell_") and name.endswith("_v")),
                   key=lambda name: int(name[5:-2]))
    if not cells or not len(columns[cells[0]]):
        return []
    return [round(float(columns[name][-1]), 3) for name in cells]
