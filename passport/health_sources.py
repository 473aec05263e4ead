"""What the passport reads of a battery's measured health beyond its own attributes, declared
here and supplied by another app: passport never imports telemetry (telemetry imports passport).

Today that is the cell voltage spread over time, drawn on the owner's page and in the PDF report
(issue #9). The telemetry app keeps it (one daily rollup per battery and day) and registers a
`CellSpreadSource` from its AppConfig.ready(); a build without telemetry registers nothing, and
the charts are simply absent.

Who may see it: the spread is use data of the individual battery (Annex XIII point 4), so it is
shown exactly where the passport's other point-4 values (state of health, cycles) are: to readers
whose tiers include Tier.INDIVIDUAL. `battery_cell_spread` is the one place that checks it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Protocol

from passport.attributes import Tier

# (UTC day, highest spread between the highest and the lowest cell voltage that day, in mV)
CellSpreadPoint = tuple[dt.date, float]


class CellSpreadSource(Protocol):
    def cell_spread_series(self, *, battery_id: int, until: dt.date) -> list[CellSpreadPoint]:
        """The battery's daily cell voltage spread for the days up to and including `until`,
        oldest first; days without cell voltages are left out."""
        ...


_cell_spread_source: CellSpreadSource | None = None


def cell_spread_source_register(source: CellSpreadSource | None) -> CellSpreadSource | None:
    """Install the source (None removes it); returns the one it replaces."""
    global _cell_spread_source
    previous, _cell_spread_source = _cell_spread_source, source
    return previous


def battery_cell_spread(*, battery_id: int, tiers: frozenset[Tier], until: dt.date) -> list[CellSpreadPoint]:
    """The series a reader with `tiers` may see: [] without point-4 rights or without a source."""
    if Tier.INDIVIDUAL not in tiers or _cell_spread_source is None:
        return []
    return _cell_spread_source.cell_spread_series(battery_id=battery_id, until=until)


def cell_spread_fingerprint(series: list[CellSpreadPoint]) -> str:
    """A short digest of a series: part of a cached report's key, so a report is drawn anew when
    the data behind its chart changes (a late day's rollup is recomputed without any new
    passport version)."""
    if not series:
        return "-"
    text = ";".join(f"{day.isoformat()}={spread_mv!r}" for day, spread_mv in series)
    return hashlib.sha256(text.encode()).hexdigest()[:12]
