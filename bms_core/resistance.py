"""Internal resistance from current steps, per cell and for the pack, with its trend.

A step is a change of current of at least ``step_min_a`` between two samples no more than
``step_max_dt_s`` apart, with the current steady (within ``step_steady_a``) over the sample
before and the sample after, so a ramp is not mistaken for a step. Over so short a window the
open-circuit voltage barely moves, and R = dV / dI (pack voltage for the pack, each cell's
voltage for the cells). It is the short-pulse DC resistance at the sampling interval: ohmic
plus the fast part of polarisation.

Each UTC day with at least ``min_steps_per_day`` steps gives a daily median and the median
temperature at its steps. The reported value is the median of the last seven such days (with
their median temperature, since resistance depends strongly on it). The trend is a
least-squares fit of ln R against time and, when the days span at least a few kelvin, 1/T as
well (the Arrhenius form, with its slope fitted from the data rather than assumed): the time
coefficient is then the drift at constant temperature. Comparing each cell with the median
cell of the same day cancels what all cells share (temperature, SOC, current); that ratio
drives the alerts. ``resistance_temp_band_c`` can restrict the steps to a temperature band.

Units: milliohm; temperatures in degC (kelvin inside the Arrhenius fit). Source: the
current-step (pulse) DC resistance of IEC 61960-3 sec. 7.8 / IEC 62620 sec. 6.6 (R = dV/dI
at a step, read at a fixed short time) and the HPPC test of the FreedomCAR Battery Test
Manual (INL/EXT-07-12536, 2008), applied to the steps a home battery makes anyway; the
Arrhenius temperature dependence after Waag et al., J. Power Sources 242 (2013) 548. The
value at 25 degC is in :mod:`bms_core.performance`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.block import Block
from bms_core.options import AnalysisOptions
from bms_core.stats import least_squares_slope

SECONDS_PER_DAY = 86400.0
MAX_DAYS = 800
RECENT_DAYS = 7
MIN_TREND_DAYS = 3
# Below this spread of daily temperatures the 1/T term cannot be told apart from noise.
MIN_TEMPERATURE_SPAN_K = 3.0
MIN_DAYS_WITH_TEMPERATURE = 5
KELVIN = 273.15


@dataclass
class DailyResistance:
    day: int
    steps: int
    pack_mohm: float
    cells_mohm: list[float]
    temp_c: float | None


def drift_per_30_days(
    days: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    temps: npt.NDArray[np.float64] | None,
) -> tuple[float, bool] | None:
    """Relative change per 30 days at constant temperature, and whether T was accounted for."""
    ok = values > 0
    if temps is not None:
        ok &= np.isfinite(temps)
    if ok.sum() < MIN_TREND_DAYS:
        return None
    x, y = days[ok], np.log(values[ok])
    use_temperature = (
        temps is not None
        and ok.sum() >= MIN_DAYS_WITH_TEMPERATURE
        and float(np.ptp(temps[ok])) >= MIN_TEMPERATURE_SPAN_K
    )
    if use_temperature:
        assert temps is not None
        inverse_t = 1.0 / (temps[ok] + KELVIN)
        design = np.column_stack((np.ones_like(x), x - x.mean(), inverse_t - inverse_t.mean()))
        coefficients = np.linalg.lstsq(design, y, rcond=None)[0]
        slope = float(coefficients[1])
    else:
        slope = least_squares_slope(x, y)[0]
    return math.expm1(30.0 * slope), use_temperature


# A fitted activation temperature B (K) outside this range is noise, not Arrhenius.
PLAUSIBLE_B_K = (500.0, 8000.0)


def arrhenius_b(days: list[DailyResistance]) -> float | None:
    """B (K) of R = R0 exp(B / T) fitted with a time trend, or None without the evidence.

    The same least-squares fit as :func:`drift_per_30_days` (ln R against time and 1/T); the
    1/T coefficient is B. Needs enough days spanning at least a few kelvin.
    """
    rows = [d for d in days if d.temp_c is not None and d.pack_mohm > 0]
    if len(rows) < MIN_DAYS_WITH_TEMPERATURE:
        return None
    temps = np.array([d.temp_c for d in rows], dtype=np.float64)
    if float(np.ptp(temps)) < MIN_TEMPERATURE_SPAN_K:
        return None
    x = np.array([d.day for d in rows], dtype=np.float64)
    y = np.log([d.pack_mohm for d in rows])
    inverse_t = 1.0 / (temps + KELVIN)
    design = np.column_stack((np.ones_like(x), x - x.mean(), inverse_t - inverse_t.mean()))
    b_k = float(np.linalg.lstsq(design, y, rcond=None)[0][2])
    return b_k if PLAUSIBLE_B_K[0] <= b_k <= PLAUSIBLE_B_K[1] else None


def _relative_to_median(cells: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each day's cell values over that day's median cell; days without a positive median
    (no voltage response at all) are left out."""
    cells = cells[np.isfinite(cells).all(axis=1)]
    median = np.median(cells, axis=1, keepdims=True)
    usable = median[:, 0] > 0
    return cells[usable] / median[usable]


def _nanmedian_columns(values: npt.NDArray[np.float64]) -> list[float]:
    """Median of each column over its finite values (NaN where a column has none)."""
    return [_median_or_nan(values[:, k].tolist()) for k in range(values.shape[1])]


def _nan_if_none(value: float | None) -> float:
    """JSON stores NaN (a missing reading) as null."""
    return math.nan if value is None else float(value)


def _median_or_nan(values: list[float]) -> float:
    finite = np.asarray(values)[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else math.nan


@dataclass
class ResistanceTracker:
    options: AnalysisOptions
    day: int | None = None
    pack_steps: list[float] = field(default_factory=list)
    cell_steps: list[list[float]] = field(default_factory=list)
    temp_steps: list[float] = field(default_factory=list)
    days: list[DailyResistance] = field(default_factory=list)
    steps_found: int = 0
    steps_used: int = 0

    def update(self, block: Block) -> None:
        o = self.options
        m = len(block.carried)
        t = block.extended(block.time_s, "time_s")
        current = block.extended(block.current_a, "current_a")
        d_current = np.diff(current)
        # Step at extended index e: between e-1 and e, with e-2 -> e-1 and e -> e+1 steady.
        # Samples evaluated by an earlier batch are skipped; the last one waits for its
        # successor. Large changes are rare, so they are found first and checked further.
        e = np.flatnonzero(np.abs(d_current) >= o.step_min) + 1
        e = e[(e >= max(2, m - 1)) & (e < t.size - 1)]
        if e.size == 0:
            return
        d_time = np.diff(t)
        short = o.step_max_dt_s
        is_step = (
            (d_time[e - 1] <= short)
            & (np.abs(d_current[e - 2]) <= o.step_steady)
            & (d_time[e - 2] <= short)
            & (np.abs(d_current[e]) <= o.step_steady)
            & (d_time[e] <= short)
        )
        steps = e[is_step]
        if steps.size == 0:
            return
        self.steps_found += int(steps.size)
        temps = np.full(steps.size, np.nan)
        if block.temp_hi is not None and block.temp_lo is not None:
            temp_hi = block.values_at(block.temp_hi, "temp_hi", steps)
            temp_lo = block.values_at(block.temp_lo, "temp_lo", steps)
            temps = 0.5 * (temp_hi + temp_lo)
            if o.resistance_temp_band_c is not None:
                low, high = o.resistance_temp_band_c
                keep = (temp_lo >= low) & (temp_hi <= high)
                steps, temps = steps[keep], temps[keep]
        if steps.size == 0:
            return
        self.steps_used += int(steps.size)
        d_i = d_current[steps - 1]
        after = block.values_at(block.voltage_v, "voltage_v", steps)
        before = block.values_at(block.voltage_v, "voltage_v", steps - 1)
        pack = 1000.0 * (after - before) / d_i
        if block.cells:
            delta_v = block.cell_voltages_at(steps) - block.cell_voltages_at(steps - 1)
            cells = 1000.0 * delta_v / d_i[:, None]
        else:
            cells = np.empty((steps.size, 0))
        days = np.floor(t[steps] / SECONDS_PER_DAY).astype(np.int64)
        for k in range(steps.size):
            self._add(int(days[k]), float(pack[k]), cells[k].tolist(), float(temps[k]))

    def _add(self, day: int, pack: float, cells: list[float], temp: float) -> None:
        if self.day != day:
            self._commit()
            self.day = day
            self.pack_steps = []
            self.cell_steps = [[] for _ in cells]
            self.temp_steps = []
        self.pack_steps.append(pack)
        self.temp_steps.append(temp)
        for column, value in zip(self.cell_steps, cells, strict=True):
            column.append(value)

    def _commit(self) -> None:
        record = self._pending()
        if record is not None:
            self.days.append(record)
            del self.days[:-MAX_DAYS]

    def _pending(self) -> DailyResistance | None:
        if self.day is None or len(self.pack_steps) < self.options.min_steps_per_day:
            return None
        temps = np.asarray(self.temp_steps)
        finite = temps[np.isfinite(temps)]
        return DailyResistance(
            day=self.day,
            steps=len(self.pack_steps),
            pack_mohm=float(np.median(self.pack_steps)),
            # A cell reading missing at a step leaves that step out for that cell only.
            cells_mohm=[_median_or_nan(c) for c in self.cell_steps],
            temp_c=float(np.median(finite)) if finite.size else None,
        )

    def all_days(self) -> list[DailyResistance]:
        pending = self._pending()
        return self.days + ([pending] if pending is not None else [])

    def report(self) -> dict[str, Any]:
        days = self.all_days()
        out: dict[str, Any] = {
            "pack": None,
            "cells": [],
            "temperature_c": None,
            "pack_trend_pct_per_month": None,
            "pack_trend_mohm_per_30d": None,
            "cells_trend_pct_per_month": [],
            "cells_trend_mohm_per_30d": [],
            "trend_temperature_adjusted": None,
            "cells_relative_to_median": [],
            "steps_found": self.steps_found,
            "steps_used": self.steps_used,
            "days_with_estimate": len(days),
            "temperature_band_c": None
            if self.options.resistance_temp_band_c is None
            else list(self.options.resistance_temp_band_c),
        }
        if not days:
            return out
        recent = [d for d in days if d.day > days[-1].day - RECENT_DAYS]
        out["pack"] = float(np.median([d.pack_mohm for d in recent]))
        recent_temps = [d.temp_c for d in recent if d.temp_c is not None]
        out["temperature_c"] = float(np.median(recent_temps)) if recent_temps else None
        cells = np.array([d.cells_mohm for d in recent])
        if cells.size:
            out["cells"] = _nanmedian_columns(cells)
            ratio = _relative_to_median(cells)
            if ratio.size:
                out["cells_relative_to_median"] = np.median(ratio, axis=0).tolist()
        x = np.array([d.day for d in days], dtype=np.float64)
        temps = np.array([np.nan if d.temp_c is None else d.temp_c for d in days])
        temps_or_none = None if np.isnan(temps).all() else temps
        pack_drift = drift_per_30_days(x, np.array([d.pack_mohm for d in days]), temps_or_none)
        if pack_drift is not None:
            out["pack_trend_pct_per_month"] = 100.0 * pack_drift[0]
            out["pack_trend_mohm_per_30d"] = pack_drift[0] * out["pack"]
            out["trend_temperature_adjusted"] = pack_drift[1]
        if cells.size:
            all_cells = np.array([d.cells_mohm for d in days])
            for k in range(all_cells.shape[1]):
                drift = drift_per_30_days(x, all_cells[:, k], temps_or_none)
                out["cells_trend_pct_per_month"].append(None if drift is None else 100.0 * drift[0])
                out["cells_trend_mohm_per_30d"].append(
                    None if drift is None else drift[0] * out["cells"][k]
                )
        return out

    def relative_slopes(self, window_days: float) -> tuple[list[float], list[float]] | None:
        """Per cell: slope (% per 30 days) and latest level of R / median cell R, over a window."""
        days = [d for d in self.all_days() if d.cells_mohm]
        if len(days) < MIN_TREND_DAYS:
            return None
        days = [d for d in days if d.day > days[-1].day - window_days]
        if len(days) < MIN_TREND_DAYS:
            return None
        # A day with a cell missing every step has no ratio for that cell: left out.
        days = [d for d in days if np.isfinite(d.cells_mohm).all() and np.median(d.cells_mohm) > 0]
        if len(days) < MIN_TREND_DAYS:
            return None
        x = np.array([d.day for d in days], dtype=np.float64)
        ratio = _relative_to_median(np.array([d.cells_mohm for d in days]))
        slopes = [
            100.0 * 30.0 * least_squares_slope(x, ratio[:, k])[0] for k in range(ratio.shape[1])
        ]
        recent = ratio[x > x[-1] - RECENT_DAYS]
        return slopes, np.median(recent, axis=0).tolist()

    def to_state(self) -> dict[str, Any]:
        return {
            "day": self.day,
            "pack_steps": list(self.pack_steps),
            "cell_steps": [list(c) for c in self.cell_steps],
            "temp_steps": [None if math.isnan(v) else v for v in self.temp_steps],
            "days": [vars(d).copy() for d in self.days],
            "steps_found": self.steps_found,
            "steps_used": self.steps_used,
        }

    @classmethod
    def from_state(cls, options: AnalysisOptions, state: dict[str, Any]) -> ResistanceTracker:
        return cls(
            options=options,
            day=state["day"],
            pack_steps=list(state["pack_steps"]),
            cell_steps=[[_nan_if_none(v) for v in c] for c in state["cell_steps"]],
            temp_steps=[_nan_if_none(v) for v in state["temp_steps"]],
            days=[
                DailyResistance(**{**d, "cells_mohm": [_nan_if_none(v) for v in d["cells_mohm"]]})
                for d in state["days"]
            ],
            steps_found=state["steps_found"],
            steps_used=state["steps_used"],
        )
