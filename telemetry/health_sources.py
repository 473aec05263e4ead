"""telemetry's side of passport.health_sources: the measured health data the passport's pages
and PDF report draw. Registered by TelemetryConfig.ready()."""

from __future__ import annotations

import datetime as dt
from typing import Any

from passport.health_sources import CellSpreadPoint, TelemetryView
from passport.models import Battery
from telemetry.health_selectors import battery_alert_list, battery_snapshot_list
from telemetry.models import DailyRollup
from telemetry.selectors import sample_columns

RECENT_ALERTS = 20
# Cell voltages are shown from samples at most this old before the latest analysed sample.
CELL_WINDOW = dt.timedelta(minutes=10)


class TelemetryHealthSource:
    """The cell spread from the daily rollups (kept after the raw samples are dropped); the
    owner's panel from the alerts, snapshots and latest samples."""

    def battery_telemetry(self, *, user: Any, battery: Battery) -> TelemetryView:
        alerts = list(battery_alert_list(user=user, battery=battery)[:RECENT_ALERTS])
        latest = battery_snapshot_list(user=user, battery=battery).first()
        return TelemetryView(alerts=alerts, latest=latest, cell_voltages_v=_cell_voltages(battery, latest))

    def cell_spread_series(self, *, battery_id: int, until: dt.date) -> list[CellSpreadPoint]:
        """The day's highest spread between the highest and the lowest cell voltage (the
        rollup's `cell_spread_max_mv`): the worst imbalance of the day, which is what a spread
        chart should show growing when a cell drifts."""
        rows = (
            DailyRollup.objects.filter(battery_id=battery_id, day__lte=until, cell_spread_max_mv__isnull=False)
            .order_by("day")
            .values_list("day", "cell_spread_max_mv")
        )
        return [(day, round(spread_mv, 1)) for day, spread_mv in rows if spread_mv is not None]


def _cell_voltages(battery: Battery, latest: Any) -> list[float]:
    """The cells of the latest sample that carried them, where the collector sends cells."""
    if latest is None or latest.data_end is None:
        return []
    columns = sample_columns(battery_id=battery.pk, after=latest.data_end - CELL_WINDOW, until=latest.data_end)
    cells = sorted((name for name in columns if name.startswith("cell_") and name.endswith("_v")),
                   key=lambda name: int(name[5:-2]))
    if not cells or not len(columns[cells[0]]):
        return []
    return [round(float(columns[name][-1]), 3) for name in cells]
