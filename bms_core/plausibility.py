"""Physical plausibility of a validated history: values no battery sensor can report.

Method. Every value of a column is compared with a closed interval that bounds what a real
pack and its sensors can produce, whatever the chemistry; a value outside it is a broken
sensor, a unit error (mV sent as V, tenths of a degree sent as degrees) or a decoding error,
never a reading. The bounds are deliberately wide, so that they refuse only the impossible and
never an unusual but real measurement; battery-specific limits (the model's voltage window,
its temperature range) are the analysis's business (`bms_core.alerts`, `bms_core.limits`).

Bounds and their reasons:

- cell voltage 0 .. 5 V: no lithium-ion or sodium-ion cell reaches 5 V (LFP charges to 3.65 V,
  NMC to 4.2-4.4 V; electrolytes decompose well below 5 V); a negative cell voltage is a
  reversed cell, which a BMS reports as 0 V or as an error, not as a value.
- pack voltage 0 .. 1,500 V: the low-voltage directive's DC ceiling, above which no battery
  in the Battery Regulation's categories is built (EV packs reach 800-1,000 V).
- current ±10,000 A: above the largest pack currents reported (large stationary racks,
  EV fast charge under 1,000 A) by an order of magnitude, yet far below what a unit error of
  a factor of 1,000 (mA sent as A) produces at normal currents.
- temperatures -60 .. 150 °C: the rated range of the NTC thermistors and IC sensors used in
  BMSs (typically -55 .. 125/150 °C); a cell beyond it has already failed.
- state of charge 0 .. 100 %: by definition.

Non-finite values: NaN (an empty field) is allowed where bms_core allows it (optional columns),
±Inf never.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bms_core.columns import (
    BMS_SOC,
    CURRENT,
    EXTREME_COLUMNS,
    MAX_CELL_TEMP,
    MAX_CELL_V,
    MIN_CELL_TEMP,
    MIN_CELL_V,
    TEMPERATURE,
    VOLTAGE,
    History,
    cell_temperature_column,
    cell_voltage_column,
)

CELL_VOLTAGE_RANGE_V = (0.0, 5.0)
PACK_VOLTAGE_RANGE_V = (0.0, 1500.0)
CURRENT_RANGE_A = (-10_000.0, 10_000.0)
TEMPERATURE_RANGE_C = (-60.0, 150.0)
SOC_RANGE_PCT = (0.0, 100.0)

_EXTREME_RANGES = {
    MIN_CELL_V: CELL_VOLTAGE_RANGE_V,
    MAX_CELL_V: CELL_VOLTAGE_RANGE_V,
    MIN_CELL_TEMP: TEMPERATURE_RANGE_C,
    MAX_CELL_TEMP: TEMPERATURE_RANGE_C,
}
_UNITS = {
    CELL_VOLTAGE_RANGE_V: "V",
    PACK_VOLTAGE_RANGE_V: "V",
    CURRENT_RANGE_A: "A",
    TEMPERATURE_RANGE_C: "°C",
    SOC_RANGE_PCT: "%",
}


@dataclass(frozen=True)
class Implausible:
    """The first impossible value of a history: its column, its row and why."""

    column: str
    row: int
    reason: str


def _ranged_columns(
    history: History,
) -> Iterator[tuple[str, npt.NDArray[np.floating], tuple[float, float]]]:
    yield CURRENT, history.current_a, CURRENT_RANGE_A
    yield VOLTAGE, history.voltage_v, PACK_VOLTAGE_RANGE_V
    if history.temperature_c is not None:
        yield TEMPERATURE, history.temperature_c, TEMPERATURE_RANGE_C
    if history.bms_soc_pct is not None:
        yield BMS_SOC, history.bms_soc_pct, SOC_RANGE_PCT
    for k, values in enumerate(history.cell_v, start=1):
        yield cell_voltage_column(k), values, CELL_VOLTAGE_RANGE_V
    for k, values in enumerate(history.cell_temp_c, start=1):
        yield cell_temperature_column(k), values, TEMPERATURE_RANGE_C
    for name in EXTREME_COLUMNS:
        if name in history.extremes:
            yield name, history.extremes[name], _EXTREME_RANGES[name]


def first_implausible(history: History) -> Implausible | None:
    """The first value outside its physical range (columns in history order), or None.

    NaN passes (bms_core.validate has already refused it where a value is required).
    """
    for column, values, (low, high) in _ranged_columns(history):
        with np.errstate(invalid="ignore"):
            bad = (values < low) | (values > high)  # False for NaN, True for ±Inf
        if bad.any():
            row = int(np.argmax(bad))
            unit = _UNITS[(low, high)]
            return Implausible(
                column=column,
                row=row,
                reason=(
                    f"{float(values[row]):g} {unit} is outside the physical range "
                    f"{low:g} .. {high:g} {unit}"
                ),
            )
    return None
