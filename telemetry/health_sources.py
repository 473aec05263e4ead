"""telemetry's side of passport.health_sources: the measured health data the passport's pages
and PDF report draw, read from the daily rollups (kept after the raw samples are dropped).
Registered by TelemetryConfig.ready(); the reader's rights are checked on the passport side."""

from __future__ import annotations

import datetime as dt

from passport.health_sources import CellSpreadPoint
from telemetry.models import DailyRollup


class RollupCellSpreadSource:
    """The day's highest spread between the highest and the lowest cell voltage (the rollup's
    `cell_spread_max_mv`): the worst imbalance of the day, which is what a spread chart should
    show growing when a cell drifts."""

    def cell_spread_series(self, *, battery_id: int, until: dt.date) -> list[CellSpreadPoint]:
        rows = (
            DailyRollup.objects.filter(battery_id=battery_id, day__lte=until, cell_spread_max_mv__isnull=False)
            .order_by("day")
            .values_list("day", "cell_spread_max_mv")
        )
        return [(day, round(spread_mv, 1)) for day, spread_mv in rows if spread_mv is not None]
