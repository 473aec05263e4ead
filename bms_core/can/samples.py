"""Samples in the analytics column format: column name -> numpy array, one row per broadcast cycle."""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np

BASE_COLUMNS: tuple[str, ...] = ("timestamp", "current_a", "voltage_v", "temperature_c", "soc_pct")
CELL_COLUMNS: tuple[str, ...] = ("min_cell_v", "max_cell_v", "min_cell_temp_c", "max_cell_temp_c")

NAN = math.nan
MAX_ERRORS_KEPT = 20


@dataclass(frozen=True)
class Sample:
    """One battery broadcast cycle. Voltage and current are always valid; the other fields are
    NaN where the battery gave no valid (or no fresh enough) value."""

    timestamp: float
    current_a: float
    voltage_v: float
    temperature_c: float
    soc_pct: float
    min_cell_v: float = NAN
    max_cell_v: float = NAN
    min_cell_temp_c: float = NAN
    max_cell_temp_c: float = NAN


@dataclass
class ReaderStats:
    """What the reader saw, so a bad capture is reported instead of silently thinned out."""

    frames: int = 0
    decoded: int = 0
    ignored: int = 0
    malformed: int = 0
    cycles_without_measurement: int = 0
    # Cycles whose 0x356 had no valid voltage or current: the analytics cannot use such a row.
    invalid_measurements: int = 0
    # Cycles stamped at or before the previous sample (merged or re-ordered logs).
    out_of_order: int = 0
    samples: int = 0
    errors: list[str] = field(default_factory=list)

    def record_error(self, message: str) -> None:
        self.malformed += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)

    def summary(self) -> str:
        return (
            f"{self.frames} frames: {self.decoded} decoded, {self.ignored} ignored "
            f"(other ids / inverter keep-alive), {self.malformed} malformed; "
            f"{self.samples} samples; cycles dropped: {self.cycles_without_measurement} without "
            f"0x356, {self.invalid_measurements} without valid voltage and current, "
            f"{self.out_of_order} out of order"
        )


class SampleTable(dict[str, np.ndarray]):
    """Column name -> float64 array (the analytics format), plus the reader's `stats`."""

    def __init__(self, columns: dict[str, np.ndarray], stats: ReaderStats) -> None:
        super().__init__(columns)
        self.stats = stats

    @property
    def row_count(self) -> int:
        return len(self["timestamp"]) if "timestamp" in self else 0


def to_table(samples: Sequence[Sample], stats: ReaderStats, *, include_cells: bool) -> SampleTable:
    names = BASE_COLUMNS + (CELL_COLUMNS if include_cells else ())
    columns = {
        name: np.fromiter(
            (getattr(sample, name) for sample in samples), dtype=np.float64, count=len(samples)
        )
        for name in names
    }
    stats.samples = len(samples)
    return SampleTable(columns, stats)


def write_csv(table: dict[str, np.ndarray], out: TextIO) -> None:
    """Header of column names, one row per sample; an empty field where the value is NaN."""
    names = list(table)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in zip(*(table[name] for name in names), strict=True):
        writer.writerow(_format(name, value) for name, value in zip(names, row, strict=True))


def _format(name: str, value: float) -> str:
    if math.isnan(value):
        return ""
    if name == "timestamp":
        return f"{value:.6f}"
    return repr(round(float(value), 6))
