"""bms_core.plausibility: values no sensor can report are named with column, row and range."""

from __future__ import annotations

import numpy as np
import pytest

import bms_core
from bms_core.plausibility import first_implausible


def history(**overrides):
    n = 5
    columns = {
        "timestamp": 1.7e9 + np.arange(n),
        "current_a": np.full(n, -10.0),
        "voltage_v": np.full(n, 51.2),
        "temperature_c": np.full(n, 25.0),
        "soc_pct": np.full(n, 50.0),
        "cell_1_v": np.full(n, 3.3),
        "cell_2_v": np.full(n, 3.3),
        "max_cell_temp_c": np.full(n, 26.0),
    }
    for name, (row, value) in overrides.items():
        columns[name] = columns[name].copy()
        columns[name][row] = value
    return bms_core.validate(columns)


def test_a_real_history_passes_and_an_empty_optional_value_is_no_value() -> None:
    assert first_implausible(history()) is None
    assert first_implausible(history(temperature_c=(2, np.nan))) is None


@pytest.mark.parametrize(
    ("column", "row", "value", "range_text"),
    [
        ("current_a", 1, 12_000.0, "-10000 .. 10000 A"),
        ("voltage_v", 4, -1.0, "0 .. 1500 V"),
        ("temperature_c", 0, 180.0, "-60 .. 150 °C"),
        ("soc_pct", 3, 100.5, "0 .. 100 %"),
        ("cell_2_v", 2, 5.2, "0 .. 5 V"),
        ("max_cell_temp_c", 1, -70.0, "-60 .. 150 °C"),
    ],
)
def test_the_first_impossible_value_is_named(column, row, value, range_text) -> None:
    found = first_implausible(history(**{column: (row, value)}))
    assert (found.column, found.row) == (column, row)
    assert range_text in found.reason


def test_an_infinity_is_refused_before_ranges_are_checked() -> None:
    with pytest.raises(ValueError, match="column 'max_cell_temp_c': infinite value at row 1"):
        history(max_cell_temp_c=(1, np.inf))
