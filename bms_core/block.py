"""One batch of samples in working form, plus the samples carried over from the batch before.

Everything the analysis derives per sample (lowest and highest cell voltage, extreme
temperatures) is computed once here. Interval quantities (between sample k-1 and k) need the
previous sample, and current-step detection needs three, so the last three samples of each
batch are carried into the next one: that is what makes a history fed in pieces give the same
result as one pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.columns import MAX_CELL_TEMP, MAX_CELL_V, MIN_CELL_TEMP, MIN_CELL_V, History

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

CARRIED_SAMPLES = 3


@dataclass(frozen=True)
class Sample:
    """One sample's working values, as carried between batches."""

    time_s: float
    current_a: float
    voltage_v: float
    v_lo: float
    v_hi: float
    temp_hi: float | None
    temp_lo: float | None
    cells: tuple[float, ...]

    def to_state(self) -> dict[str, Any]:
        # A temperature can be NaN (every sensor missing in that row); JSON has no NaN.
        def temp(value: float | None) -> float | str | None:
            return "nan" if value is not None and math.isnan(value) else value

        return {
            "t": self.time_s,
            "i": self.current_a,
            "v": self.voltage_v,
            "v_lo": self.v_lo,
            "v_hi": self.v_hi,
            "temp_hi": temp(self.temp_hi),
            "temp_lo": temp(self.temp_lo),
            "cells": list(self.cells),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Sample:
        def temp(value: float | str | None) -> float | None:
            return None if value is None else float(value)

        return cls(
            time_s=state["t"],
            current_a=state["i"],
            voltage_v=state["v"],
            v_lo=state["v_lo"],
            v_hi=state["v_hi"],
            temp_hi=temp(state["temp_hi"]),
            temp_lo=temp(state["temp_lo"]),
            # A missing cell reading is NaN, which JSON stores as null.
            cells=tuple(np.nan if v is None else float(v) for v in state["cells"]),
        )


def across(ufunc: np.ufunc, columns: list[npt.NDArray[np.floating]]) -> FloatArray:
    """``ufunc`` folded across columns, sample by sample, in float64.

    A loop of in-place element-wise calls: ``ufunc.reduce`` on a list would first copy every
    column into one two-dimensional array.
    """
    # Minimum and maximum are exact in any float type, so fold in the columns' own type
    # (float32 histories fold twice as fast) and widen once at the end.
    out = columns[0].astype(np.result_type(*columns), copy=True)
    for column in columns[1:]:
        ufunc(out, column, out=out)
    return out.astype(np.float64, copy=False)


@dataclass(frozen=True)
class Block:
    """A batch ready for the analysis; ``carried`` are up to three earlier samples, oldest first."""

    time_s: FloatArray
    dt_s: FloatArray  # time since the previous sample; NaN for the very first sample
    integrated: BoolArray  # interval from the previous sample is no longer than the gap limit
    gap: BoolArray  # interval from the previous sample is a gap (not integrated)
    current_a: FloatArray
    voltage_v: FloatArray
    v_lo: FloatArray  # lowest cell voltage (pack / series_cells without cell columns)
    v_hi: FloatArray
    temp_hi: FloatArray | None  # hottest of temperature_c and cell temperatures
    temp_lo: FloatArray | None
    cell_temp_hi: FloatArray | None  # hottest / coldest cell sensor only
    cell_temp_lo: FloatArray | None
    cells: tuple[npt.NDArray[np.floating], ...]
    cell_temps: tuple[npt.NDArray[np.floating], ...]
    bms_soc_pct: npt.NDArray[np.floating] | None
    carried: tuple[Sample, ...]

    @property
    def n(self) -> int:
        return int(self.time_s.size)

    @property
    def prev(self) -> Sample | None:
        return self.carried[-1] if self.carried else None

    def shifted(self, values: FloatArray, attribute: str) -> FloatArray:
        """``values`` one sample later: element k is the value at sample k-1.

        Element 0 comes from the carried sample's ``attribute``; with nothing carried it
        repeats ``values[0]`` (the first interval ever has zero width anyway).
        """
        out = np.empty_like(values)
        out[1:] = values[:-1]
        prev = self.prev
        first = getattr(prev, attribute) if prev is not None else None
        out[0] = values[0] if first is None else first
        return out

    def extended(self, values: FloatArray, attribute: str) -> FloatArray:
        """Carried samples' values followed by this batch's (``len(carried) + n`` long)."""
        head = np.array([getattr(s, attribute) for s in self.carried], dtype=np.float64)
        return np.concatenate((head, values))

    def values_at(
        self, values: FloatArray, attribute: str, extended_index: npt.NDArray[np.int64]
    ) -> FloatArray:
        """``extended(values, attribute)[extended_index]`` without building the whole array."""
        m = len(self.carried)
        out = np.empty(extended_index.size, dtype=np.float64)
        carried = extended_index < m
        out[~carried] = values[extended_index[~carried] - m]
        for row in np.flatnonzero(carried).tolist():
            value = getattr(self.carried[int(extended_index[row])], attribute)
            out[row] = np.nan if value is None else value
        return out

    def cell_voltages_at(self, extended_index: npt.NDArray[np.int64]) -> FloatArray:
        """Cell voltages (rows: samples, columns: cells) at indices into ``extended``."""
        m = len(self.carried)
        out = np.empty((extended_index.size, len(self.cells)), dtype=np.float64)
        for row, e in enumerate(extended_index.tolist()):
            if e < m:
                out[row] = self.carried[e].cells
            else:
                out[row] = [float(c[e - m]) for c in self.cells]
        return out

    def extreme_cell(self, k: int, *, lowest: bool) -> int | None:
        """1-based cell with the lowest (highest) voltage at sample k; None without cells."""
        if not self.cells:
            return None
        values = np.array([float(c[k]) for c in self.cells])
        if np.isnan(values).all():
            return None
        return 1 + int(np.nanargmin(values) if lowest else np.nanargmax(values))

    def last_samples(self) -> tuple[Sample, ...]:
        """The samples to carry into the next batch."""
        keep = list(self.carried)
        n = self.n
        for k in range(max(0, n - CARRIED_SAMPLES), n):
            keep.append(
                Sample(
                    time_s=float(self.time_s[k]),
                    current_a=float(self.current_a[k]),
                    voltage_v=float(self.voltage_v[k]),
                    v_lo=float(self.v_lo[k]),
                    v_hi=float(self.v_hi[k]),
                    temp_hi=None if self.temp_hi is None else float(self.temp_hi[k]),
                    temp_lo=None if self.temp_lo is None else float(self.temp_lo[k]),
                    cells=tuple(float(c[k]) for c in self.cells),
                )
            )
        return tuple(keep[-CARRIED_SAMPLES:])


def _reported_or(reported: npt.NDArray[np.floating] | None, fallback: FloatArray) -> FloatArray:
    """A reported extreme where there is one, the pack-derived value elsewhere."""
    if reported is None:
        return fallback
    values = reported.astype(np.float64)
    return np.where(np.isfinite(values), values, fallback)


def make_block(
    history: History,
    carried: tuple[Sample, ...],
    *,
    series_cells: int,
    gap_limit_s: float,
) -> Block:
    t = history.time_s
    dt = np.empty_like(t)
    dt[1:] = np.diff(t)
    dt[0] = t[0] - carried[-1].time_s if carried else np.nan
    integrated = dt <= gap_limit_s  # NaN (no previous sample) compares False
    gap = dt > gap_limit_s
    current = history.current_a.astype(np.float64, copy=False)
    voltage = history.voltage_v.astype(np.float64, copy=False)
    if history.cell_v:
        # fmin/fmax skip a missing cell reading (NaN); a row missing every cell stays NaN.
        cells = list(history.cell_v)
        v_lo = across(np.fmin, cells)
        v_hi = across(np.fmax, cells)
    else:
        per_cell = voltage / series_cells
        v_lo = _reported_or(history.extremes.get(MIN_CELL_V), per_cell)
        v_hi = _reported_or(history.extremes.get(MAX_CELL_V), per_cell)
    cell_temp_hi = cell_temp_lo = None
    if history.cell_temp_c:
        cell_temp_hi = across(np.fmax, list(history.cell_temp_c))
        cell_temp_lo = across(np.fmin, list(history.cell_temp_c))
    temp_hi, temp_lo = cell_temp_hi, cell_temp_lo
    others = [
        history.temperature_c,
        history.extremes.get(MIN_CELL_TEMP),
        history.extremes.get(MAX_CELL_TEMP),
    ]
    for reading in others:
        if reading is not None:
            values = reading.astype(np.float64)
            temp_hi = values if temp_hi is None else np.fmax(temp_hi, values)
            temp_lo = values if temp_lo is None else np.fmin(temp_lo, values)
    return Block(
        time_s=t,
        dt_s=dt,
        integrated=integrated,
        gap=gap,
        current_a=current,
        voltage_v=voltage,
        v_lo=v_lo,
        v_hi=v_hi,
        temp_hi=temp_hi,
        temp_lo=temp_lo,
        cell_temp_hi=cell_temp_hi,
        cell_temp_lo=cell_temp_lo,
        cells=history.cell_v,
        cell_temps=history.cell_temp_c,
        bms_soc_pct=history.bms_soc_pct,
        carried=carried,
    )
