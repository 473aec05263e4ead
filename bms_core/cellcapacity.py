"""Each cell's capacity relative to its peers, from rests low on the OCV curve.

Method. The pack is top-balanced: at a full charge the BMS brings every cell to 100 %, and in
series every cell then carries the same ampere-hours. At a rest on the low knee (a
``rest_low`` anchor) each cell's rested voltage gives its SOC, so the depth each cell was
discharged to, 100 % - SOC, is inversely proportional to its capacity: relative capacity of
cell k = median depth / depth of cell k. The SOC is read on the pack's own learned curve
where it covers the voltage (see :mod:`bms_core.capacity`), else on the OCV table: a table
error common to cells of one type cancels in the ratio. Only rests with the median cell
discharged at least :data:`MIN_DEPTH_PCT` count, where a 1 % capacity difference is 0.8 %
SOC, several millivolts on the knee.

Each cell's value is the median of its last :data:`RECENT` readings. A cell weak in capacity
(not only in resistance) is the one that sits lowest at every such rest; the alert
``capacity_low`` names it when its relative capacity is more than ``alert_capacity_low_pct``
below the median cell and a robust outlier (see :mod:`bms_core.alerts`). This is the
"cell capacity from rested voltages after top balancing" method of Dubarry et al.,
J. Power Sources 196 (2011) 10336 (cell-to-cell variations), in its simplest form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bms_core.anchors import Anchor
from bms_core.ocv import OcvCurve

MIN_DEPTH_PCT = 70.0
MAX_READINGS = 60
RECENT = 10
MIN_READINGS = 3


@dataclass
class CellCapacity:
    readings: list[tuple[float, list[float]]] = field(default_factory=list)  # time, ratios

    def add(
        self,
        anchor: Anchor,
        table: OcvCurve,
        learned: tuple[np.ndarray, np.ndarray, float] | None,
    ) -> None:
        """Take a rest on the low knee (with every cell's voltage) as a reading."""
        if anchor.kind != "rest_low" or len(anchor.cells_v) < 2:
            return
        volts = np.asarray(anchor.cells_v, dtype=np.float64)
        if not np.isfinite(volts).all():
            return
        soc = np.interp(volts, table.volts, table.soc_pct)
        if learned is not None:
            learned_v, learned_soc, _ = learned
            on_curve = (volts >= learned_v[0]) & (volts <= learned_v[-1])
            soc = np.where(on_curve, np.interp(volts, learned_v, learned_soc), soc)
        depth = 100.0 - soc
        median_depth = float(np.median(depth))
        if median_depth < MIN_DEPTH_PCT or (depth <= 0).any():
            return
        self.readings.append((anchor.time_s, (median_depth / depth).tolist()))
        del self.readings[:-MAX_READINGS]

    def relative(self) -> list[float] | None:
        """Each cell's capacity over the median cell's, recent readings; None before enough."""
        if len(self.readings) < MIN_READINGS:
            return None
        recent = np.array([r[1] for r in self.readings[-RECENT:]])
        return np.median(recent, axis=0).tolist()

    def report(self) -> dict[str, Any]:
        return {
            "relative_to_median": self.relative(),
            "readings": len(self.readings),
            "min_depth_pct": MIN_DEPTH_PCT,
        }

    def to_state(self) -> dict[str, Any]:
        return {"readings": [[t, list(r)] for t, r in self.readings]}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> CellCapacity:
        if state is None:
            return cls()
        return cls(readings=[(float(t), [float(v) for v in r]) for t, r in state["readings"]])
