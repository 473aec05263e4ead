"""Small factories for the health pipeline's tests: simulated BMS histories stored as raw samples."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import numpy as np

from bms_core.simulate import simulate_history
from telemetry.services.storage import (
    SCALAR_COLUMNS,
    SampleRows,
    samples_store,
    unix_s_to_microseconds,
)

# After the fixtures' manufacturing date (2026-03-02).
HISTORY_START = "2026-04-06T00:00:00Z"
HISTORY_START_S = datetime(2026, 4, 6, tzinfo=UTC).timestamp()


@functools.cache
def simulated(days: int = 6, seed: int = 3, sample_s: float = 30.0) -> dict[str, np.ndarray]:
    """A 16s 100 Ah LFP pack's history (cached: tests only read it)."""
    columns, _truth = simulate_history(
        days, seed, sample_s=sample_s, capacity_ah=100.0, start=HISTORY_START
    )
    return columns


def part(columns: dict[str, np.ndarray], start: int, stop: int | None = None) -> dict[str, np.ndarray]:
    return {name: values[start:stop] for name, values in columns.items()}


def sample_rows(battery_id: int, columns: dict[str, np.ndarray]) -> SampleRows:
    cells_v = sorted((k for k in columns if k.startswith("cell_") and k.endswith("_v")),
                     key=lambda k: int(k.split("_")[1]))
    cells_t = sorted((k for k in columns if k.startswith("cell_") and k.endswith("_temp_c")),
                     key=lambda k: int(k.split("_")[1]))
    return SampleRows(
        battery_id=battery_id,
        time_us=unix_s_to_microseconds(np.asarray(columns["timestamp"], dtype=np.float64)),
        scalars={name: np.asarray(columns[name], dtype=np.float64)
                 for name in SCALAR_COLUMNS if name in columns},
        cell_v=np.column_stack([columns[k] for k in cells_v]) if cells_v else None,
        cell_temp_c=np.column_stack([columns[k] for k in cells_t]) if cells_t else None,
    )


def store(battery_id: int, columns: dict[str, np.ndarray]) -> int:
    return samples_store(sample_rows(battery_id, columns))
