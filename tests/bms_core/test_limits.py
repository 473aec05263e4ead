"""Charge limits: derating points checked by hand against the default LFP tables, monotonicity,
hysteresis against a jittering cell voltage, cold blocking, config validation, and the 0x351 /
0x35C signals."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_core.can import decode_message, encode_frames, encode_message
from bms_core.limits import (
    BreakpointTable,
    CellReadings,
    ChargeLimiter,
    Limits,
    LimitsConfig,
    cell_readings,
    compute_limits,
    limits_to_signals,
)

CONFIG = LimitsConfig(max_charge_current_a=100.0, max_discharge_current_a=100.0)
ROOM = 25.0


def limits_at(
    *,
    min_cell_v: float = 3.30,
    max_cell_v: float = 3.30,
    min_temp_c: float = ROOM,
    max_temp_c: float = ROOM,
    config: LimitsConfig = CONFIG,
) -> Limits:
    return compute_limits(config, CellReadings(min_cell_v, max_cell_v, min_temp_c, max_temp_c))


def cells(max_cell_v: float, min_cell_v: float = 3.30) -> list[float]:
    return [min_cell_v] + [3.30] * 14 + [max_cell_v]


# -- derating points, by hand from the default tables --------------------------------------------


@pytest.mark.parametrize(
    ("max_cell_v", "ccl_a", "cvl_v"),
    [
        (3.30, 100.0, 56.8),  # 16 x 3.55 V
        (3.40, 100.0, 56.8),  # derating starts
        (3.475, 52.5, 56.8),  # halfway 3.40 -> 3.55: 1 - 0.95 / 2
        (3.55, 5.0, 56.8),  # the trickle
        (3.60, 2.5, 56.0),  # 16 x 3.50 V: CVL pulled down for the runaway cell
        (3.65, 0.0, 55.2),  # 16 x 3.45 V
        (3.70, 0.0, 55.2),
    ],
)
def test_charge_derates_near_full(max_cell_v: float, ccl_a: float, cvl_v: float) -> None:
    limits = limits_at(max_cell_v=max_cell_v)
    assert limits.ccl_a == pytest.approx(ccl_a, abs=1e-9)
    assert limits.cvl_v == pytest.approx(cvl_v, abs=1e-9)
    assert limits.charge_enable is (ccl_a > 0)
    assert limits.dcl_a == 100.0
    assert limits.charge_limited_by == ("none" if ccl_a == 100.0 else "cell_voltage")


@pytest.mark.parametrize(
    ("min_cell_v", "dcl_a"),
    [(3.30, 100.0), (3.05, 100.0), (2.975, 50.0), (2.93, 20.0), (2.90, 0.0), (2.50, 0.0)],
)
def test_discharge_derates_near_empty(min_cell_v: float, dcl_a: float) -> None:
    limits = limits_at(min_cell_v=min_cell_v)
    assert limits.dcl_a == pytest.approx(dcl_a, abs=1e-9)
    assert limits.discharge_enable is (dcl_a > 0)
    assert limits.ccl_a == 100.0


@pytest.mark.parametrize(
    ("temperature_c", "ccl_a", "dcl_a"),
    [
        (-25.0, 0.0, 0.0),  # too cold for anything
        (-20.0, 0.0, 20.0),
        (-15.0, 0.0, 35.0),  # halfway -20 -> -10: 0.2 -> 0.5
        (-0.1, 0.0, 99.5),  # no charging below 0 °C
        (0.0, 20.0, 100.0),  # reduced charging 0-10 °C
        (5.0, 20.0, 100.0),
        (12.5, 60.0, 100.0),  # halfway 10 -> 15: 0.2 -> 1.0
        (30.0, 100.0, 100.0),
        (50.0, 50.0, 100.0),  # halfway 45 -> 55: 1.0 -> 0.0
        (55.0, 0.0, 60.0),  # halfway 50 -> 60: 1.0 -> 0.2
        (60.0, 0.0, 20.0),
        (60.1, 0.0, 0.0),  # too hot for anything
    ],
)
def test_temperature_derating(temperature_c: float, ccl_a: float, dcl_a: float) -> None:
    limits = limits_at(min_temp_c=temperature_c, max_temp_c=temperature_c)
    assert limits.ccl_a == pytest.approx(ccl_a, abs=1e-9)
    assert limits.dcl_a == pytest.approx(dcl_a, abs=1e-9)


def test_cold_blocks_charging_but_not_discharging() -> None:
    limits = limits_at(min_temp_c=-2.0, max_temp_c=8.0)
    assert limits.ccl_a == 0.0
    assert limits.charge_enable is False
    assert limits.charge_limited_by == "temperature"
    assert limits.discharge_enable is True
    signals = limits_to_signals(limits)
    assert signals["charge_enable"] is False and signals["charge_current_limit_a"] == 0.0


def test_the_coldest_and_the_hottest_cell_both_count() -> None:
    assert limits_at(min_temp_c=5.0, max_temp_c=30.0).ccl_a == pytest.approx(20.0)
    assert limits_at(min_temp_c=30.0, max_temp_c=50.0).ccl_a == pytest.approx(50.0)


def test_the_most_restrictive_driver_wins() -> None:
    # Full-ish (factor 0.525) and cool (factor 0.2): temperature wins.
    limits = limits_at(max_cell_v=3.475, min_temp_c=5.0)
    assert limits.ccl_a == pytest.approx(20.0)
    assert limits.charge_limited_by == "temperature"


def test_dvl_is_the_configured_per_cell_voltage() -> None:
    assert limits_at().dvl_v == pytest.approx(16 * 2.80)


def test_cell_readings_are_summarised_and_checked() -> None:
    readings = cell_readings([3.31, 3.29, 3.35], np.array([[20.0, 22.0], [18.0, 25.0]]))
    assert readings == CellReadings(3.29, 3.35, 18.0, 25.0)
    with pytest.raises(ValueError, match="cell_voltages is empty"):
        cell_readings([], [20.0])
    with pytest.raises(ValueError, match="cell_temperatures_c contains NaN"):
        cell_readings([3.3], [20.0, math.nan])


# -- monotonicity ---------------------------------------------------------------------------------

voltages = st.floats(min_value=2.5, max_value=3.8)
temperatures = st.floats(min_value=-30.0, max_value=70.0)


@settings(max_examples=300, deadline=None)
@given(voltages, voltages, temperatures, temperatures)
def test_a_higher_max_cell_voltage_never_raises_ccl(
    v1: float, v2: float, t1: float, t2: float
) -> None:
    low, high = sorted((v1, v2))
    cold, hot = sorted((t1, t2))
    at_low = limits_at(max_cell_v=low, min_temp_c=cold, max_temp_c=hot)
    at_high = limits_at(max_cell_v=high, min_temp_c=cold, max_temp_c=hot)
    assert at_high.ccl_a <= at_low.ccl_a
    assert at_high.cvl_v <= at_low.cvl_v


@settings(max_examples=300, deadline=None)
@given(voltages, voltages, temperatures)
def test_a_lower_min_cell_voltage_never_raises_dcl(v1: float, v2: float, t: float) -> None:
    low, high = sorted((v1, v2))
    assert (
        limits_at(min_cell_v=low, min_temp_c=t, max_temp_c=t).dcl_a
        <= limits_at(min_cell_v=high, min_temp_c=t, max_temp_c=t).dcl_a
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(voltages, st.floats(min_value=0.0, max_value=0.3)), min_size=1, max_size=40)
)
def test_with_hysteresis_a_pointwise_fuller_pack_never_gets_more_charge_current(
    steps: list[tuple[float, float]],
) -> None:
    lower, higher = ChargeLimiter(CONFIG), ChargeLimiter(CONFIG)
    for index, (voltage, extra) in enumerate(steps):
        a = lower.update(cells(voltage), [ROOM], timestamp_s=index)
        b = higher.update(cells(voltage + extra), [ROOM], timestamp_s=index)
        assert b.ccl_a <= a.ccl_a + 1e-9


# -- hysteresis -----------------------------------------------------------------------------------


def changes(values: list[float]) -> int:
    return sum(1 for a, b in zip(values, values[1:], strict=False) if not math.isclose(a, b))


def test_hysteresis_stops_ccl_oscillating_when_the_top_cell_jitters() -> None:
    rng = np.random.default_rng(7)
    # +/- 8 mV of measurement noise around 3.47 V, inside the 20 mV margin.
    jitter = 3.47 + rng.uniform(-0.008, 0.008, size=600)
    limiter = ChargeLimiter(CONFIG)
    held = [limiter.update(cells(v), [ROOM], timestamp_s=i).ccl_a for i, v in enumerate(jitter)]
    raw = [limits_at(max_cell_v=v).ccl_a for v in jitter]

    assert changes(raw) > 500  # without hysteresis the limit follows every wobble
    # With it, the limit only steps down when a new highest reading appears (a handful of
    # records in 600 draws) and never climbs back while the jitter lasts.
    assert changes(held) <= 12
    assert all(b <= a for a, b in zip(held, held[1:], strict=False))
    assert held[-1] == pytest.approx(limits_at(max_cell_v=float(jitter.max())).ccl_a)


def test_a_lowered_ccl_rises_once_the_voltage_has_moved_back_by_the_margin() -> None:
    limiter = ChargeLimiter(CONFIG)
    low = limiter.update(cells(3.50), [ROOM]).ccl_a  # factor 1 - 0.95 * 2/3
    assert low == pytest.approx(36.666, abs=1e-3)
    # 15 mV back: inside the 20 mV margin, the limit stays.
    held = limiter.update(cells(3.485), [ROOM])
    assert held.ccl_a == pytest.approx(low)
    assert held.charge_limited_by == "hysteresis"
    # 40 mV back: it rises, to what 3.46 + 0.02 V would allow.
    risen = limiter.update(cells(3.46), [ROOM]).ccl_a
    assert risen == pytest.approx(limits_at(max_cell_v=3.48).ccl_a)
    assert risen > low
    # Well below the derating: back to the maximum.
    assert limiter.update(cells(3.30), [ROOM]).ccl_a == 100.0


def test_a_limit_drops_at_once() -> None:
    limiter = ChargeLimiter(CONFIG)
    limiter.update(cells(3.30), [ROOM])
    assert limiter.update(cells(3.55), [ROOM]).ccl_a == pytest.approx(5.0)


def test_charging_stays_blocked_while_the_temperature_hovers_around_zero() -> None:
    limiter = ChargeLimiter(CONFIG)
    hovering = [-0.5, 0.4, -0.2, 0.9, 0.1, 1.5, -0.3, 1.0]
    enables = [limiter.update(cells(3.3), [t]).charge_enable for t in hovering]
    assert enables == [False] * len(hovering)
    # Two degrees clear of the cut: charging resumes at the 0-10 °C rate.
    warm = limiter.update(cells(3.3), [2.5])
    assert warm.charge_enable is True
    assert warm.ccl_a == pytest.approx(20.0)


def test_dcl_hysteresis_near_empty() -> None:
    limiter = ChargeLimiter(CONFIG)
    dropped = limiter.update(cells(3.30, min_cell_v=2.95), [ROOM]).dcl_a
    assert dropped == pytest.approx(100 / 3)
    assert limiter.update(cells(3.30, min_cell_v=2.965), [ROOM]).dcl_a == pytest.approx(dropped)
    assert limiter.update(cells(3.30, min_cell_v=3.20), [ROOM]).dcl_a == 100.0


def test_rise_rate_caps_the_recovery() -> None:
    config = dataclasses.replace(CONFIG, current_rise_a_per_s=2.0)
    limiter = ChargeLimiter(config)
    assert limiter.update(cells(3.55), [ROOM], timestamp_s=0.0).ccl_a == pytest.approx(5.0)
    recovering = [limiter.update(cells(3.30), [ROOM], timestamp_s=float(t)) for t in range(1, 6)]
    assert [round(limits.ccl_a, 6) for limits in recovering] == [7.0, 9.0, 11.0, 13.0, 15.0]
    assert recovering[-1].charge_limited_by == "rise_rate"
    # Drops are never rate limited.
    assert limiter.update(cells(3.65), [ROOM], timestamp_s=6.0).ccl_a == 0.0


def test_reset_forgets_the_history() -> None:
    limiter = ChargeLimiter(CONFIG)
    limiter.update(cells(3.55), [ROOM])
    limiter.reset()
    assert limiter.last is None
    assert limiter.update(cells(3.30), [ROOM]).ccl_a == 100.0


# -- tables ---------------------------------------------------------------------------------------


def test_breakpoint_table_interpolates_and_cuts() -> None:
    table = BreakpointTable(x=(0.0, 10.0), y=(0.2, 1.0), below=0.0)
    assert table(5.0) == pytest.approx(0.6)
    assert table(-0.01) == 0.0
    assert table(20.0) == 1.0  # end value held
    assert table.lowest_near(5.0, 1.0) == pytest.approx(0.52)
    assert table.lowest_near(0.5, 1.0) == 0.0  # the window reaches below the cut


def test_lowest_near_finds_an_interior_dip() -> None:
    table = BreakpointTable(x=(0.0, 1.0, 2.0), y=(1.0, 0.1, 1.0))
    assert table.lowest_near(1.0, 0.5) == pytest.approx(0.1)
    assert table.lowest_near(1.0, 0.0) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        ((), (), "at least one"),
        ((1.0, 2.0), (1.0,), "as many x as y"),
        ((2.0, 1.0), (1.0, 1.0), "strictly increasing"),
        ((1.0, 1.0), (1.0, 1.0), "strictly increasing"),
        ((1.0, math.nan), (1.0, 1.0), "finite"),
    ],
)
def test_bad_tables_are_refused(x: tuple, y: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BreakpointTable(x=x, y=y)


@pytest.mark.parametrize(
    ("changes_", "field", "reason"),
    [
        ({"max_charge_current_a": 0}, "max_charge_current_a", "positive"),
        ({"max_discharge_current_a": -5}, "max_discharge_current_a", "positive"),
        ({"max_charge_current_a": math.inf}, "max_charge_current_a", "positive"),
        ({"cells_in_series": 0}, "cells_in_series", "at least 1"),
        ({"cells_in_series": 15.5}, "cells_in_series", "whole number"),
        ({"cell_voltage_hysteresis_v": -0.01}, "cell_voltage_hysteresis_v", "zero or positive"),
        ({"temperature_hysteresis_c": math.nan}, "temperature_hysteresis_c", "zero or positive"),
        ({"current_rise_a_per_s": 0}, "current_rise_a_per_s", "positive"),
        ({"dvl_per_cell_v": 0}, "dvl_per_cell_v", "positive"),
        (
            {"charge_factor_by_highest_cell_v": BreakpointTable(x=(3.4, 3.5), y=(0.5, 1.0))},
            "charge_factor_by_highest_cell_v",
            "must not rise",
        ),
        (
            {"discharge_factor_by_lowest_cell_v": BreakpointTable(x=(2.9, 3.0), y=(1.0, 0.0))},
            "discharge_factor_by_lowest_cell_v",
            "must not fall",
        ),
        (
            {"charge_factor_by_temperature_c": BreakpointTable(x=(0.0, 10.0), y=(0.0, 1.5))},
            "charge_factor_by_temperature_c",
            "0..1",
        ),
        (
            {"cvl_per_cell_by_highest_cell_v": BreakpointTable(x=(3.5,), y=(0.0,))},
            "cvl_per_cell_by_highest_cell_v",
            "positive",
        ),
        (
            {"discharge_factor_by_temperature_c": ((0.0, 1.0), (1.0, 1.0))},
            "discharge_factor_by_temperature_c",
            "BreakpointTable",
        ),
    ],
)
def test_config_validation_names_the_field(changes_: dict, field: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        dataclasses.replace(CONFIG, **changes_)
    assert f"LimitsConfig.{field}" in str(raised.value)


def test_maxima_have_no_default() -> None:
    with pytest.raises(TypeError):
        LimitsConfig()  # type: ignore[call-arg]


# -- into the CAN frames --------------------------------------------------------------------------


def test_limits_encode_into_0x351_and_0x35c() -> None:
    limits = limits_at(max_cell_v=3.475, min_cell_v=2.975)
    frames = encode_frames(limits_to_signals(limits, full_charge_request=True))
    assert [msg.arbitration_id for msg in frames] == [0x351, 0x35C]
    decoded = {**decode_message(frames[0]), **decode_message(frames[1])}  # type: ignore[dict-item]
    assert decoded["charge_voltage_limit_v"] == 56.8
    # 52.5 A exactly; float noise (52.4999...) must not cost a 0.1 A step.
    assert decoded["charge_current_limit_a"] == 52.5
    assert decoded["discharge_current_limit_a"] == 50.0
    assert decoded["discharge_voltage_limit_v"] == 44.8
    assert decoded["charge_enable"] is True and decoded["discharge_enable"] is True
    assert decoded["full_charge_request"] is True and decoded["force_charge_1"] is False
    assert bytes(frames[0].data[:2]) == bytes([0x38, 0x02])


def test_signals_round_towards_the_safe_side() -> None:
    limits = Limits(
        cvl_v=56.87,
        ccl_a=0.04,
        dcl_a=10.99,
        dvl_v=44.81,
        charge_enable=True,
        discharge_enable=True,
    )
    signals = limits_to_signals(limits)
    assert signals["charge_voltage_limit_v"] == 56.8
    assert signals["charge_current_limit_a"] == 0.0
    assert signals["charge_enable"] is False  # no enable with a limit that rounds to nothing
    assert signals["discharge_current_limit_a"] == 10.9
    assert signals["discharge_voltage_limit_v"] == 44.9
    encode_message(0x351, {k: signals[k] for k in list(signals)[:4]})
