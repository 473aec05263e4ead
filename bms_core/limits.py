"""Inverter charge limits (CVL / CCL / DCL) for an LFP pack, from cell voltages and temperatures.

Each current limit is the configured maximum times the most restrictive of its derating factors:
charge by the highest cell voltage (near full) and by temperature (cold and heat), discharge by the
lowest cell voltage (near empty) and by temperature. The factors come from breakpoint tables
interpolated with numpy.interp. `ChargeLimiter` adds hysteresis: a limit drops at once, but rises
only to what it would be if the driving quantities were worse by a margin, so a cell voltage
jittering around a breakpoint cannot make the limit oscillate; an optional rise rate smooths the
recovery further. `limits_to_signals` turns the result into the 0x351 / 0x35C signals of the
Pylontech CAN protocol.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from numbers import Real
from typing import TypeGuard

import numpy as np

# The wire resolution of 0x351: limits are rounded towards the safe side before sending.
WIRE_STEP_V = 0.1
WIRE_STEP_A = 0.1


@dataclass(frozen=True)
class BreakpointTable:
    """Piecewise-linear y(x) through (x, y) breakpoints, x strictly increasing.

    Outside the breakpoints the value is `below` / `above` when given (a hard cut, e.g. no
    charging below 0 °C), else the end value is held.
    """

    x: tuple[float, ...]
    y: tuple[float, ...]
    below: float | None = None
    above: float | None = None

    def __post_init__(self) -> None:
        xs = tuple(float(value) for value in self.x)
        ys = tuple(float(value) for value in self.y)
        if not xs or len(xs) != len(ys):
            raise ValueError(
                f"needs as many x as y breakpoints, at least one (got {len(xs)} x, {len(ys)} y)"
            )
        if not all(math.isfinite(value) for value in xs + ys):
            raise ValueError("breakpoints must be finite numbers")
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise ValueError(f"x breakpoints must be strictly increasing, got {xs}")
        for name in ("below", "above"):
            value = getattr(self, name)
            if value is not None and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number or None")
        object.__setattr__(self, "x", xs)
        object.__setattr__(self, "y", ys)

    def __call__(self, value: float) -> float:
        if self.below is not None and value < self.x[0]:
            return float(self.below)
        if self.above is not None and value > self.x[-1]:
            return float(self.above)
        return float(np.interp(value, self.x, self.y))

    def lowest_near(self, center: float, margin: float) -> float:
        """The lowest value over [center - margin, center + margin].

        A piecewise-linear function takes its minimum over an interval at an end or a breakpoint.
        """
        low, high = center - margin, center + margin
        inside = (y for x, y in zip(self.x, self.y, strict=True) if low < x < high)
        return min(self(low), self(high), *inside)

    def values(self) -> tuple[float, ...]:
        outside = tuple(value for value in (self.below, self.above) if value is not None)
        return self.y + outside


def _is_non_increasing(table: BreakpointTable) -> bool:
    return (
        all(b <= a for a, b in zip(table.y, table.y[1:], strict=False))
        and (table.above is None or table.above <= table.y[-1])
        and (table.below is None or table.below >= table.y[0])
    )


def _is_non_decreasing(table: BreakpointTable) -> bool:
    return (
        all(b >= a for a, b in zip(table.y, table.y[1:], strict=False))
        and (table.above is None or table.above >= table.y[-1])
        and (table.below is None or table.below <= table.y[0])
    )


def _lfp_cvl_per_cell() -> BreakpointTable:
    # 3.55 V/cell normally; lowered towards 3.45 V/cell when the highest cell runs ahead of the
    # others (imbalance), so the pack voltage no longer pushes that cell over 3.65 V.
    return BreakpointTable(x=(3.55, 3.65), y=(3.55, 3.45))


def _lfp_charge_by_highest_cell() -> BreakpointTable:
    # Full current up to 3.40 V, down to a 5 % trickle at 3.55 V (top balancing), none at 3.65 V.
    return BreakpointTable(x=(3.40, 3.55, 3.65), y=(1.0, 0.05, 0.0))


def _lfp_discharge_by_lowest_cell() -> BreakpointTable:
    # LFP's curve falls off a cliff below ~3.0 V: derate from 3.05 V to nothing at 2.90 V.
    return BreakpointTable(x=(2.90, 3.05), y=(0.0, 1.0))


def _lfp_charge_by_temperature() -> BreakpointTable:
    # No charging below 0 °C (lithium plating), 20 % from 0 to 10 °C, full 15-45 °C, none at 55 °C.
    return BreakpointTable(
        x=(0.0, 10.0, 15.0, 45.0, 55.0), y=(0.2, 0.2, 1.0, 1.0, 0.0), below=0.0, above=0.0
    )


def _lfp_discharge_by_temperature() -> BreakpointTable:
    # Discharge allowed -20..60 °C, derated in the cold (higher resistance) and the heat.
    return BreakpointTable(
        x=(-20.0, -10.0, 0.0, 50.0, 60.0), y=(0.2, 0.5, 1.0, 1.0, 0.2), below=0.0, above=0.0
    )


FACTOR_TABLE_FIELDS: tuple[str, ...] = (
    "charge_factor_by_highest_cell_v",
    "discharge_factor_by_lowest_cell_v",
    "charge_factor_by_temperature_c",
    "discharge_factor_by_temperature_c",
)
TABLE_FIELDS: tuple[str, ...] = ("cvl_per_cell_by_highest_cell_v", *FACTOR_TABLE_FIELDS)


@dataclass(frozen=True)
class LimitsConfig:
    """Pack maxima and derating tables; defaults are for a 16s LFP pack."""

    max_charge_current_a: float
    max_discharge_current_a: float
    cells_in_series: int = 16
    cvl_per_cell_by_highest_cell_v: BreakpointTable = field(default_factory=_lfp_cvl_per_cell)
    charge_factor_by_highest_cell_v: BreakpointTable = field(
        default_factory=_lfp_charge_by_highest_cell
    )
    discharge_factor_by_lowest_cell_v: BreakpointTable = field(
        default_factory=_lfp_discharge_by_lowest_cell
    )
    charge_factor_by_temperature_c: BreakpointTable = field(
        default_factory=_lfp_charge_by_temperature
    )
    discharge_factor_by_temperature_c: BreakpointTable = field(
        default_factory=_lfp_discharge_by_temperature
    )
    dvl_per_cell_v: float = 2.80
    # A lowered limit rises again only once the driving quantity has moved back this far.
    cell_voltage_hysteresis_v: float = 0.02
    temperature_hysteresis_c: float = 2.0
    # Optional cap on how fast CCL / DCL may rise (A per second); None = no cap.
    current_rise_a_per_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_charge_current_a", "max_discharge_current_a", "dvl_per_cell_v"):
            _require(name, _positive(getattr(self, name)), "must be a positive number")
        _require(
            "cells_in_series",
            isinstance(self.cells_in_series, int) and self.cells_in_series >= 1,
            "must be a whole number of at least 1",
        )
        for name in ("cell_voltage_hysteresis_v", "temperature_hysteresis_c"):
            value = getattr(self, name)
            _require(
                name,
                _number(value) and math.isfinite(value) and value >= 0,
                "must be zero or positive",
            )
        _require(
            "current_rise_a_per_s",
            self.current_rise_a_per_s is None or _positive(self.current_rise_a_per_s),
            "must be a positive number or None",
        )
        for name in TABLE_FIELDS:
            _require(
                name, isinstance(getattr(self, name), BreakpointTable), "must be a BreakpointTable"
            )
        for name in FACTOR_TABLE_FIELDS:
            values = getattr(self, name).values()
            _require(name, all(0.0 <= value <= 1.0 for value in values), "factors must lie in 0..1")
        _require(
            "cvl_per_cell_by_highest_cell_v",
            all(value > 0 for value in self.cvl_per_cell_by_highest_cell_v.values()),
            "per-cell voltages must be positive",
        )
        # Monotone tables guarantee that a fuller (emptier) pack never gets a higher charge
        # (discharge) limit, whatever the configuration.
        _require(
            "cvl_per_cell_by_highest_cell_v",
            _is_non_increasing(self.cvl_per_cell_by_highest_cell_v),
            "must not rise with the highest cell voltage",
        )
        _require(
            "charge_factor_by_highest_cell_v",
            _is_non_increasing(self.charge_factor_by_highest_cell_v),
            "must not rise with the highest cell voltage",
        )
        _require(
            "discharge_factor_by_lowest_cell_v",
            _is_non_decreasing(self.discharge_factor_by_lowest_cell_v),
            "must not fall as the lowest cell voltage rises",
        )


def _number(value: object) -> TypeGuard[float]:
    # Narrowed to float, the type checkers' stand-in for a real number (PEP 484's numeric
    # tower): typeshed's numbers.Real declares no `>`/`>=` against an int, though every Real
    # compares with numbers.
    return isinstance(value, Real) and not isinstance(value, bool)


def _positive(value: object) -> bool:
    return _number(value) and math.isfinite(value) and value > 0


def _require(name: str, ok: bool, reason: str) -> None:
    if not ok:
        raise ValueError(f"LimitsConfig.{name} {reason}")


@dataclass(frozen=True)
class CellReadings:
    """The extremes the limits depend on."""

    min_cell_v: float
    max_cell_v: float
    min_temp_c: float
    max_temp_c: float


def cell_readings(
    cell_voltages: Iterable[float], cell_temperatures_c: Iterable[float]
) -> CellReadings:
    """Extremes of the cell readings; ValueError for empty or non-finite readings (a failed sensor
    must not be mistaken for a safe value)."""
    voltages = _finite_array("cell_voltages", cell_voltages)
    temperatures = _finite_array("cell_temperatures_c", cell_temperatures_c)
    return CellReadings(
        min_cell_v=float(voltages.min()),
        max_cell_v=float(voltages.max()),
        min_temp_c=float(temperatures.min()),
        max_temp_c=float(temperatures.max()),
    )


def _finite_array(name: str, values: Iterable[float]) -> np.ndarray:
    array = np.asarray(
        list(values) if not isinstance(values, np.ndarray) else values, dtype=np.float64
    )
    if array.size == 0:
        raise ValueError(f"{name} is empty")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite readings")
    return array.ravel()


@dataclass(frozen=True)
class Limits:
    cvl_v: float
    ccl_a: float
    dcl_a: float
    dvl_v: float
    charge_enable: bool
    discharge_enable: bool
    # What holds each current limit below its maximum: "none", "cell_voltage", "temperature",
    # "hysteresis" (waiting for the margin) or "rise_rate".
    charge_limited_by: str = "none"
    discharge_limited_by: str = "none"


@dataclass(frozen=True)
class _Evaluation:
    cvl_v: float
    ccl_a: float
    dcl_a: float
    charge_driver: str
    discharge_driver: str


def _most_restrictive(factors: dict[str, float]) -> tuple[float, str]:
    driver = min(factors, key=factors.__getitem__)
    factor = factors[driver]
    return factor, driver if factor < 1.0 else "none"


def _evaluate(
    config: LimitsConfig,
    readings: CellReadings,
    *,
    voltage_margin: float,
    temperature_margin: float,
) -> _Evaluation:
    """Limits as if each driving quantity sat at its worst within +/- its margin (0 = as read)."""
    charge_by_temp = config.charge_factor_by_temperature_c
    discharge_by_temp = config.discharge_factor_by_temperature_c
    charge_factor, charge_driver = _most_restrictive(
        {
            "cell_voltage": config.charge_factor_by_highest_cell_v.lowest_near(
                readings.max_cell_v, voltage_margin
            ),
            "temperature": min(
                charge_by_temp.lowest_near(readings.min_temp_c, temperature_margin),
                charge_by_temp.lowest_near(readings.max_temp_c, temperature_margin),
            ),
        }
    )
    discharge_factor, discharge_driver = _most_restrictive(
        {
            "cell_voltage": config.discharge_factor_by_lowest_cell_v.lowest_near(
                readings.min_cell_v, voltage_margin
            ),
            "temperature": min(
                discharge_by_temp.lowest_near(readings.min_temp_c, temperature_margin),
                discharge_by_temp.lowest_near(readings.max_temp_c, temperature_margin),
            ),
        }
    )
    cvl_per_cell = config.cvl_per_cell_by_highest_cell_v.lowest_near(
        readings.max_cell_v, voltage_margin
    )
    return _Evaluation(
        cvl_v=config.cells_in_series * cvl_per_cell,
        ccl_a=config.max_charge_current_a * charge_factor,
        dcl_a=config.max_discharge_current_a * discharge_factor,
        charge_driver=charge_driver,
        discharge_driver=discharge_driver,
    )


def compute_limits(config: LimitsConfig, readings: CellReadings) -> Limits:
    """The limits for these readings alone, without hysteresis."""
    target = _evaluate(config, readings, voltage_margin=0.0, temperature_margin=0.0)
    return Limits(
        cvl_v=target.cvl_v,
        ccl_a=target.ccl_a,
        dcl_a=target.dcl_a,
        dvl_v=config.cells_in_series * config.dvl_per_cell_v,
        charge_enable=target.ccl_a > 0,
        discharge_enable=target.dcl_a > 0,
        charge_limited_by=target.charge_driver,
        discharge_limited_by=target.discharge_driver,
    )


def _settle(previous: float | None, target: float, release: float) -> tuple[float, bool]:
    """A limit drops at once; it rises no further than the release value. (value, held back?)"""
    if previous is None or target <= previous:
        return target, False
    risen = max(previous, release)
    return risen, risen < target


class ChargeLimiter:
    """Stateful limits with hysteresis (and an optional rise rate) so they do not oscillate."""

    def __init__(self, config: LimitsConfig) -> None:
        self.config = config
        self._last: Limits | None = None
        self._last_time_s: float | None = None

    @property
    def last(self) -> Limits | None:
        return self._last

    def reset(self) -> None:
        self._last = None
        self._last_time_s = None

    def update(
        self,
        cell_voltages: Iterable[float],
        cell_temperatures_c: Iterable[float],
        *,
        timestamp_s: float | None = None,
    ) -> Limits:
        """New limits from the latest cell readings. `timestamp_s` (seconds, any monotonic clock)
        is only needed for the rise-rate cap; without it the process's monotonic clock is used."""
        config = self.config
        readings = cell_readings(cell_voltages, cell_temperatures_c)
        now = timestamp_s if timestamp_s is not None else time.monotonic()
        target = _evaluate(config, readings, voltage_margin=0.0, temperature_margin=0.0)
        release = _evaluate(
            config,
            readings,
            voltage_margin=config.cell_voltage_hysteresis_v,
            temperature_margin=config.temperature_hysteresis_c,
        )
        last = self._last
        cvl, _ = _settle(None if last is None else last.cvl_v, target.cvl_v, release.cvl_v)
        ccl, ccl_held = _settle(None if last is None else last.ccl_a, target.ccl_a, release.ccl_a)
        dcl, dcl_held = _settle(None if last is None else last.dcl_a, target.dcl_a, release.dcl_a)
        charge_by = "hysteresis" if ccl_held else target.charge_driver
        discharge_by = "hysteresis" if dcl_held else target.discharge_driver

        rate = config.current_rise_a_per_s
        if rate is not None and last is not None and self._last_time_s is not None:
            allowed_rise = rate * max(0.0, now - self._last_time_s)
            if ccl > last.ccl_a + allowed_rise:
                ccl, charge_by = last.ccl_a + allowed_rise, "rise_rate"
            if dcl > last.dcl_a + allowed_rise:
                dcl, discharge_by = last.dcl_a + allowed_rise, "rise_rate"

        limits = Limits(
            cvl_v=cvl,
            ccl_a=ccl,
            dcl_a=dcl,
            dvl_v=config.cells_in_series * config.dvl_per_cell_v,
            charge_enable=ccl > 0,
            discharge_enable=dcl > 0,
            charge_limited_by=charge_by,
            discharge_limited_by=discharge_by,
        )
        self._last, self._last_time_s = limits, now
        return limits


def _floor_to(value: float, step: float) -> float:
    # The small epsilon keeps 56.8 / 0.1 = 567.999... from flooring to 56.7.
    return round(math.floor(value / step + 1e-9) * step, 10)


def _ceil_to(value: float, step: float) -> float:
    return round(math.ceil(value / step - 1e-9) * step, 10)


def limits_to_signals(
    limits: Limits,
    *,
    force_charge_1: bool = False,
    force_charge_2: bool = False,
    full_charge_request: bool = False,
) -> dict[str, object]:
    """The 0x351 and 0x35C signals for `bms_core.can.encode_frames` / `encode_message`.

    Values are rounded to the 0.1 V / 0.1 A wire resolution towards the safe side: charge voltage
    and currents down, discharge voltage limit up. An enable flag is sent only with a limit that
    is still above zero after rounding.
    """
    cvl = _floor_to(limits.cvl_v, WIRE_STEP_V)
    ccl = _floor_to(limits.ccl_a, WIRE_STEP_A)
    dcl = _floor_to(limits.dcl_a, WIRE_STEP_A)
    return {
        "charge_voltage_limit_v": cvl,
        "charge_current_limit_a": ccl,
        "discharge_current_limit_a": dcl,
        "discharge_voltage_limit_v": _ceil_to(limits.dvl_v, WIRE_STEP_V),
        "charge_enable": limits.charge_enable and ccl > 0,
        "discharge_enable": limits.discharge_enable and dcl > 0,
        "force_charge_1": force_charge_1,
        "force_charge_2": force_charge_2,
        "full_charge_request": full_charge_request,
    }
