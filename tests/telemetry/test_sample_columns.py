"""Samples go in through storage and come back out in bms_core's column format."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

import bms_core
from telemetry.selectors import sample_columns
from telemetry.services.storage import SampleRows, samples_store, unix_s_to_microseconds

START_S = datetime(2026, 3, 10, tzinfo=UTC).timestamp()


def rows_of(battery_id: int, time_s, *, cells: int = 0, temperature: bool = True) -> SampleRows:
    time_s = np.asarray(time_s, dtype=np.float64)
    n = time_s.size
    scalars = {"current_a": np.linspace(-20, 20, n), "voltage_v": np.full(n, 52.0)}
    if temperature:
        scalars["temperature_c"] = np.full(n, 21.5)
    return SampleRows(
        battery_id=battery_id,
        time_us=unix_s_to_microseconds(time_s),
        scalars=scalars,
        cell_v=np.full((n, cells), 3.25) if cells else None,
    )


def test_round_trip_in_bms_core_format(battery) -> None:
    time_s = START_S + np.arange(100) * 10.0 + 0.25
    assert samples_store(rows_of(battery.id, time_s, cells=16)) == 100

    columns = sample_columns(battery_id=battery.id)

    np.testing.assert_allclose(columns["timestamp"], time_s)
    np.testing.assert_allclose(columns["current_a"], np.linspace(-20, 20, 100))
    assert columns["temperature_c"][0] == 21.5
    assert "soc_pct" not in columns
    assert [k for k in columns if k.startswith("cell_")] == [f"cell_{k}_v" for k in range(1, 17)]
    assert columns["cell_16_v"].dtype == np.float32
    assert len(bms_core.validate(columns)) == 100


def test_after_is_exclusive_until_inclusive_and_duplicates_are_skipped(battery) -> None:
    time_s = START_S + np.arange(10) * 60.0
    samples_store(rows_of(battery.id, time_s))
    # Overlaps the first batch by five samples: only the five new ones are inserted.
    assert samples_store(rows_of(battery.id, START_S + np.arange(5, 15) * 60.0)) == 5

    def at(i: int) -> datetime:
        return datetime.fromtimestamp(START_S + i * 60.0, tz=UTC)

    window = sample_columns(battery_id=battery.id, after=at(2), until=at(6))
    np.testing.assert_allclose(window["timestamp"], START_S + np.arange(3, 7) * 60.0)
    assert sample_columns(battery_id=battery.id)["timestamp"].size == 15


def test_cells_mixed_with_rows_without_cells_leave_only_extremes(battery) -> None:
    samples_store(rows_of(battery.id, START_S + np.arange(3), cells=16))
    samples_store(rows_of(battery.id, START_S + 10 + np.arange(3), cells=0))
    columns = sample_columns(battery_id=battery.id)
    assert columns["timestamp"].size == 6
    assert not any(name.startswith("cell_") for name in columns)


def test_other_battery_and_empty_range(battery, register_battery) -> None:
    other = register_battery().battery
    samples_store(rows_of(other.id, START_S + np.arange(3)))
    empty = sample_columns(battery_id=battery.id)
    assert set(empty) == {"timestamp", "current_a", "voltage_v"}
    assert empty["timestamp"].size == 0
