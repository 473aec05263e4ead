"""Charge and energy throughput, coverage, and time spent at extreme temperatures.

Throughput is integrated with the trapezoidal rule (see :mod:`bms_core.integrate`), with the
current inside the dead band counted as zero so that sensor noise at rest is not throughput.
An interval longer than the gap limit is not integrated; its length is added to
``missing_s``. Time at temperature uses the left-Riemann rule: an interval counts with the
state of the sample that starts it (the hottest/coldest reading and whether the current is
above the dead band, i.e. charging).

The same pass keeps a net coulomb counter (all current, no dead band) that the SOC and
capacity estimates read. It is a running sum in sample order with the previous batch's value
carried in, so it is bit-for-bit the same however the history is cut into batches.

Units: Ah, Wh, seconds. Source: Regulation (EU) 2023/1542 Annex VII point 4 (energy and
capacity throughput, time in extreme temperatures); the trapezoidal rule with the exact
zero-crossing split (:mod:`bms_core.integrate`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.block import Block
from bms_core.integrate import positive_time, split_totals, split_trapezoid

SECONDS_PER_HOUR = 3600.0


@dataclass
class Throughput:
    dead_band_a: float
    high_temp_c: float
    low_temp_c: float
    charge_ah: float = 0.0
    discharge_ah: float = 0.0
    charge_wh: float = 0.0
    discharge_wh: float = 0.0
    covered_s: float = 0.0
    missing_s: float = 0.0
    gaps: int = 0
    above_high_s: float = 0.0
    below_low_s: float = 0.0
    charging_above_high_s: float = 0.0
    charging_below_low_s: float = 0.0
    temp_max_c: float | None = None
    temp_min_c: float | None = None
    net_ah: float = 0.0  # coulomb counter at the latest sample
    # Hours spent charging / discharging: what an offset correction scales.
    charging_h: float = 0.0
    discharging_h: float = 0.0

    def update(self, block: Block) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
        """Integrate a batch; returns the coulomb counter and the running gap count per sample."""
        width_s = np.where(block.integrated, block.dt_s, 0.0)
        width_h = width_s / SECONDS_PER_HOUR
        current = block.current_a
        current_start = block.shifted(current, "current_a")
        counted = np.where(np.abs(current) < self.dead_band_a, 0.0, current)
        counted_start = np.where(np.abs(current_start) < self.dead_band_a, 0.0, current_start)
        charge, discharge, charging_h, discharging_h = split_totals(counted_start, counted, width_h)
        self.charge_ah += charge
        self.discharge_ah -= discharge
        self.charging_h += charging_h
        self.discharging_h += discharging_h
        power = block.voltage_v * counted
        power_start = block.shifted(block.voltage_v, "voltage_v") * counted_start
        charge_wh, discharge_wh, _, _ = split_totals(power_start, power, width_h)
        self.charge_wh += charge_wh
        self.discharge_wh -= discharge_wh

        self.covered_s += float(width_s.sum())
        self.missing_s += float(block.dt_s[block.gap].sum())
        self.gaps += int(block.gap.sum())
        self._temperature_time(block, width_s, counted_start > 0.0)

        increments = np.empty(block.n + 1)
        increments[0] = self.net_ah
        increments[1:] = 0.5 * (current_start + current) * width_h
        counter = np.cumsum(increments)[1:]
        self.net_ah = float(counter[-1])
        gap_count = np.cumsum(block.gap, dtype=np.int64)
        return counter, gap_count

    def _temperature_time(
        self, block: Block, width_s: npt.NDArray[np.float64], charging: npt.NDArray[np.bool_]
    ) -> None:
        if block.temp_hi is None or block.temp_lo is None:
            return
        with np.errstate(invalid="ignore"):
            hot = block.shifted(block.temp_hi, "temp_hi") > self.high_temp_c
            cold = block.shifted(block.temp_lo, "temp_lo") < self.low_temp_c
        if hot.any():
            self.above_high_s += float(width_s[hot].sum())
            self.charging_above_high_s += float(width_s[hot & charging].sum())
        if cold.any():
            self.below_low_s += float(width_s[cold].sum())
            self.charging_below_low_s += float(width_s[cold & charging].sum())
        high = float(np.fmax.reduce(block.temp_hi))  # NaN only if every reading is missing
        if not math.isnan(high):
            self.temp_max_c = high if self.temp_max_c is None else max(self.temp_max_c, high)
        low = float(np.fmin.reduce(block.temp_lo))
        if not math.isnan(low):
            self.temp_min_c = low if self.temp_min_c is None else min(self.temp_min_c, low)

    TOTALS = (
        "charge_ah",
        "discharge_ah",
        "charge_wh",
        "discharge_wh",
        "charging_h",
        "discharging_h",
    )

    def totals(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.TOTALS}

    def totals_at(
        self, block: Block, indices: list[int], before: dict[str, float]
    ) -> list[dict[str, float]]:
        """The running totals at samples of a block, given the totals before it.

        The same integration as :meth:`update`, interval by interval (only for the few blocks
        that need it: those with a full charge in them).
        """
        width_h = np.where(block.integrated, block.dt_s, 0.0) / SECONDS_PER_HOUR
        current = block.current_a
        current_start = block.shifted(current, "current_a")
        counted = np.where(np.abs(current) < self.dead_band_a, 0.0, current)
        counted_start = np.where(np.abs(current_start) < self.dead_band_a, 0.0, current_start)
        charge, discharge = split_trapezoid(counted_start, counted, width_h)
        power = block.voltage_v * counted
        power_start = block.shifted(block.voltage_v, "voltage_v") * counted_start
        charge_wh, discharge_wh = split_trapezoid(power_start, power, width_h)
        charging_h, discharging_h = positive_time(counted_start, counted, width_h)
        running = {
            "charge_ah": np.cumsum(charge),
            "discharge_ah": -np.cumsum(discharge),
            "charge_wh": np.cumsum(charge_wh),
            "discharge_wh": -np.cumsum(discharge_wh),
            "charging_h": np.cumsum(charging_h),
            "discharging_h": np.cumsum(discharging_h),
        }
        return [
            {name: before[name] + float(running[name][k]) for name in self.TOTALS} for k in indices
        ]

    def corrected(self, offset_a: float) -> dict[str, float]:
        """Totals with a current-sensor offset removed from every counted (charging or
        discharging) moment: the sensor read ``offset_a`` more than flowed. Energy is
        corrected in proportion to its charge (the offset is a small fraction of the current,
        so the voltage it flowed at is the mean voltage of that direction)."""
        charge = self.charge_ah - offset_a * self.charging_h
        discharge = self.discharge_ah + offset_a * self.discharging_h

        def scaled(energy: float, corrected: float, measured: float) -> float:
            return energy * corrected / measured if measured else energy

        return {
            "charge_ah": charge,
            "discharge_ah": discharge,
            "charge_wh": scaled(self.charge_wh, charge, self.charge_ah),
            "discharge_wh": scaled(self.discharge_wh, discharge, self.discharge_ah),
        }

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Throughput:
        return cls(**state)
