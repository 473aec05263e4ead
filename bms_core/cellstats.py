"""Cell-level statistics: voltage and temperature spread, which cell is lowest, and each
cell's daily behaviour relative to the mean of its peers.

The spread (max - min over the cells of one sample) is summarised by its mean, 95th
percentile and maximum over samples (each sample counts once, whatever the interval). The
percentile comes from a histogram with 0.1 mV (0.1 degC) bins, so it is exact to that
resolution however the history is batched.

"Most often lowest" counts, per sample, which cell has the lowest voltage; when several cells
share the lowest reading (common with millivolt resolution at rest) each gets an equal share,
so ties do not all go to cell 1.

Which cell is lowest and the daily deviations below are evaluated on one sample per 30-second
bucket of time (the first sample in each), so they weigh time rather than samples (a 1 Hz and
a 10 s history of the same battery give the same statistics) and a 1 Hz year stays cheap.

Per UTC day and per cell the mean deviation from the mean cell is kept under discharge load
(current below ``-load_current_a``), at rest and for temperature. A cell that sags under load
more than at rest, or increasingly so, is weaker than its peers (higher resistance or less
capacity); what all cells share (temperature, SOC, current) cancels.

Units: mV, degC. Source: cell-to-cell comparison against the pack median as in Dubarry et
al., J. Power Sources 196 (2011) 10336; robust spread (median absolute deviation x 1.4826)
after Rousseeuw and Croux, J. Am. Stat. Assoc. 88 (1993) 1273, used by :mod:`bms_core.alerts`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.block import Block
from bms_core.stats import histogram_percentile

SECONDS_PER_DAY = 86400.0
SPREAD_BIN_MV = 0.1
TEMP_SPREAD_BIN_C = 0.1
MAX_DAYS = 800
THINNING_S = 30.0


def _one_per_bucket(block: Block) -> npt.NDArray[np.int64]:
    """Indices of the first sample in each 30-second bucket of time."""
    bucket = np.floor(block.time_s / THINNING_S)
    previous = block.prev
    before = math.floor(previous.time_s / THINNING_S) if previous is not None else -math.inf
    changed = np.empty(bucket.size, dtype=bool)
    changed[0] = bucket[0] != before
    changed[1:] = bucket[1:] != bucket[:-1]
    return np.flatnonzero(changed)


def _deviations(
    columns: tuple[npt.NDArray[np.floating], ...], picked: npt.NDArray[np.int64], scale: float
) -> npt.NDArray[np.float64] | None:
    """Rows: the columns minus their mean at each picked sample, times ``scale``."""
    if not columns:
        return None
    values = np.stack([c[picked] for c in columns]).astype(np.float64)
    return scale * (values - values.mean(axis=0))


@dataclass
class SpreadHistogram:
    bin_width: float
    counts: dict[int, int] = field(default_factory=dict)
    total: float = 0.0
    samples: int = 0
    maximum: float | None = None

    def add(self, values: npt.NDArray[np.float64]) -> None:
        if not np.isfinite(values.sum()):
            values = values[np.isfinite(values)]
        if values.size == 0:
            return
        bins = np.floor(values * (1.0 / self.bin_width)).astype(np.int64)
        low = int(bins.min())
        counts = np.bincount(bins - low)
        for offset in np.flatnonzero(counts).tolist():
            b = low + offset
            self.counts[b] = self.counts.get(b, 0) + int(counts[offset])
        self.total += float(values.sum())
        self.samples += int(values.size)
        top = float(values.max())
        self.maximum = top if self.maximum is None else max(self.maximum, top)

    def summary(self) -> dict[str, float] | None:
        if not self.samples:
            return None
        maximum = self.maximum if self.maximum is not None else 0.0
        return {
            "mean": self.total / self.samples,
            # The bin's upper edge, but never above the largest value seen.
            "p95": min(histogram_percentile(self.counts, self.bin_width, 0.95), maximum),
            "max": maximum,
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "bin_width": self.bin_width,
            "counts": [[b, c] for b, c in sorted(self.counts.items())],
            "total": self.total,
            "samples": self.samples,
            "maximum": self.maximum,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SpreadHistogram:
        return cls(
            bin_width=state["bin_width"],
            counts={int(b): int(c) for b, c in state["counts"]},
            total=state["total"],
            samples=state["samples"],
            maximum=state["maximum"],
        )


@dataclass
class DailyCells:
    """Sums for one UTC day, per cell; means are sum / samples."""

    day: int
    load_samples: int
    load_dev_mv: list[float]
    rest_samples: int
    rest_dev_mv: list[float]
    temp_samples: int
    temp_dev_c: list[float]

    def means(self) -> dict[str, list[float] | None]:
        def mean(total: list[float], n: int) -> list[float] | None:
            return [v / n for v in total] if n else None

        return {
            "load_dev_mv": mean(self.load_dev_mv, self.load_samples),
            "rest_dev_mv": mean(self.rest_dev_mv, self.rest_samples),
            "temp_dev_c": mean(self.temp_dev_c, self.temp_samples),
        }


@dataclass
class CellStats:
    load_current_a: float
    rest_current_a: float
    voltage_spread: SpreadHistogram = field(default_factory=lambda: SpreadHistogram(SPREAD_BIN_MV))
    temp_spread: SpreadHistogram = field(default_factory=lambda: SpreadHistogram(TEMP_SPREAD_BIN_C))
    lowest_share: list[float] = field(default_factory=list)
    days: list[DailyCells] = field(default_factory=list)

    def update(self, block: Block) -> None:
        if block.cells:
            self.voltage_spread.add(1000.0 * (block.v_hi - block.v_lo))
        if len(block.cell_temps) > 1 and block.cell_temp_hi is not None:
            assert block.cell_temp_lo is not None
            self.temp_spread.add(block.cell_temp_hi - block.cell_temp_lo)
        if block.cells or block.cell_temps:
            picked = _one_per_bucket(block)
            if block.cells:
                self._lowest(block, picked)
            self._daily(block, picked)

    def _lowest(self, block: Block, picked: npt.NDArray[np.int64]) -> None:
        if not self.lowest_share:
            self.lowest_share = [0.0] * len(block.cells)
        # Cells as rows: reductions across cells are then whole-row operations (fast).
        volts = np.stack([c[picked] for c in block.cells])
        complete = np.isfinite(volts.sum(axis=0))  # samples with every cell read
        if not complete.all():
            volts = volts[:, complete]
        is_lowest = volts == volts.min(axis=0)
        share = is_lowest / is_lowest.sum(axis=0)
        for k, value in enumerate(share.sum(axis=1).tolist()):
            self.lowest_share[k] += value

    def _daily(self, block: Block, picked: npt.NDArray[np.int64]) -> None:
        if picked.size == 0:
            return
        time_s = block.time_s[picked]
        day = np.floor(time_s / SECONDS_PER_DAY).astype(np.int64)
        bounds = [0, *(np.flatnonzero(np.diff(day)) + 1).tolist(), picked.size]
        current = block.current_a[picked]
        # Deviation of each cell from the mean cell: one row per cell, one column per sample.
        # A sample with a missing reading has no mean cell and is left out of these sums.
        volts = _deviations(block.cells, picked, 1000.0)
        temps = _deviations(block.cell_temps, picked, 1.0)
        temp_ok = np.isfinite(temps.sum(axis=0)) if temps is not None else None
        volts_ok = np.isfinite(volts.sum(axis=0)) if volts is not None else True
        masks = (
            ("load_dev_mv", "load_samples", (current < -self.load_current_a) & volts_ok),
            ("rest_dev_mv", "rest_samples", (np.abs(current) <= self.rest_current_a) & volts_ok),
        )
        n_cells, n_temps = len(block.cells), len(block.cell_temps)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            record = self._day_record(int(day[a]), n_cells, n_temps)
            if volts is not None:
                for attr, count, mask in masks:
                    inside = volts[:, a:b][:, mask[a:b]]
                    if inside.shape[1]:
                        sums = getattr(record, attr)
                        for k, value in enumerate(inside.sum(axis=1).tolist()):
                            sums[k] += value
                        setattr(record, count, getattr(record, count) + inside.shape[1])
            if temps is not None and temp_ok is not None:
                inside = temps[:, a:b][:, temp_ok[a:b]]
                if inside.shape[1]:
                    for k, value in enumerate(inside.sum(axis=1).tolist()):
                        record.temp_dev_c[k] += value
                    record.temp_samples += inside.shape[1]

    def _day_record(self, day: int, n_cells: int, n_temps: int) -> DailyCells:
        if self.days and self.days[-1].day == day:
            return self.days[-1]
        record = DailyCells(day, 0, [0.0] * n_cells, 0, [0.0] * n_cells, 0, [0.0] * n_temps)
        self.days.append(record)
        del self.days[:-MAX_DAYS]
        return record

    def report(self) -> dict[str, Any]:
        shares = self.lowest_share
        total = sum(shares)
        return {
            "voltage_spread_mv": self.voltage_spread.summary(),
            "temperature_spread_c": self.temp_spread.summary(),
            "lowest_cell": 1 + int(np.argmax(shares)) if total else None,
            "lowest_cell_share": [s / total for s in shares] if total else [],
        }

    def to_state(self) -> dict[str, Any]:
        return {
            "voltage_spread": self.voltage_spread.to_state(),
            "temp_spread": self.temp_spread.to_state(),
            "lowest_share": list(self.lowest_share),
            "days": [vars(d).copy() for d in self.days],
        }

    @classmethod
    def from_state(
        cls, load_current_a: float, rest_current_a: float, state: dict[str, Any]
    ) -> CellStats:
        return cls(
            load_current_a=load_current_a,
            rest_current_a=rest_current_a,
            voltage_spread=SpreadHistogram.from_state(state["voltage_spread"]),
            temp_spread=SpreadHistogram.from_state(state["temp_spread"]),
            lowest_share=list(state["lowest_share"]),
            days=[
                DailyCells(
                    **{
                        **d,
                        "load_dev_mv": list(d["load_dev_mv"]),
                        "rest_dev_mv": list(d["rest_dev_mv"]),
                        "temp_dev_c": list(d["temp_dev_c"]),
                    }
                )
                for d in state["days"]
            ],
        )
