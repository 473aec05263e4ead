"""What the passport reads of a battery's measured health beyond its own attributes, declared
here and supplied by another app: passport never imports telemetry (telemetry imports passport).

That is the cell voltage spread over time, drawn on the owner's page and in the PDF report, and
the owner's page's telemetry panel (alerts, the latest analysis, the latest cell voltages). The
telemetry app keeps them and registers a `MeasuredHealthSource` from its AppConfig.ready(); a
build without telemetry registers nothing, and the charts and the panel are simply absent.

Who may see it: the spread is use data of the individual battery (Annex XIII point 4), so it is
shown exactly where the passport's other point-4 values (state of health, cycles) are: to readers
whose tiers include Tier.INDIVIDUAL. `battery_cell_spread` is the one place that checks it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from passport.attributes import Tier
from passport.models import Battery

# (UTC day, highest spread between the highest and the lowest cell voltage that day, in mV)
CellSpreadPoint = tuple[dt.date, float]


@dataclass(frozen=True)
class TelemetryView:
    """The owner's page's telemetry panel."""

    alerts: list[Any]
    latest: Any  # the latest health snapshot, or None before the first analysis
    cell_voltages_v: list[float]


class MeasuredHealthSource(Protocol):
    def cell_spread_series(self, *, battery_id: int, until: dt.date) -> list[CellSpreadPoint]:
        """The battery's daily cell voltage spread for the days up to and including `until`,
        oldest first; days without cell voltages are left out."""
        ...

    def battery_telemetry(self, *, user: Any, battery: Battery) -> TelemetryView:
        """The panel for `user`, who may read the battery's point-4 data (the source checks it
        and raises NotPermitted otherwise)."""
        ...


_source: MeasuredHealthSource | None = None


def measured_health_source_register(
    source: MeasuredHealthSource | None,
) -> MeasuredHealthSource | None:
    """Install the source (None removes it); returns the one it replaces."""
    global _source
    previous, _source = _source, source
    return previous


def battery_telemetry(*, user: Any, battery: Battery) -> TelemetryView | None:
    """The owner's page's telemetry panel; None where this build has no telemetry."""
    if _source is None:
        return None
    return _source.battery_telemetry(user=user, battery=battery)


def battery_cell_spread(*, battery_id: int, tiers: frozenset[Tier], until: dt.date) -> list[CellSpreadPoint]:
    """The series a reader with `tiers` may see: [] without point-4 rights or without a source."""
    if Tier.INDIVIDUAL not in tiers or _source is None:
        return []
    return _source.cell_spread_series(battery_id=battery_id, until=until)


def cell_spread_fingerprint(series: list[CellSpreadPoint]) -> str:
    """A short digest of a series: part of a cached report's key, so a report is drawn anew when
    the data behind its chart changes (a late day's rollup is recomputed without any new
    passport version)."""
    if not series:
        return "-"
    text = ";".join(f"{day.isoformat()}={spread_mv!r}" for day, spread_mv in series)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
