"""The analysis on histories built by hand, where every expected figure is computed here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bms_core import Analyzer, analyze
from bms_core.columns import format_time
from bms_core.ocv import OcvCurve

T0 = 1_704_067_200.0  # 2024-01-01T00:00:00Z
CELLS = 4


def history(
    current: np.ndarray,
    cell_v: np.ndarray | float = 3.30,
    *,
    dt: float = 10.0,
    times: np.ndarray | None = None,
    temperature: np.ndarray | float = 25.0,
) -> dict[str, np.ndarray]:
    """A 4-cell history; ``cell_v`` is one value, one row per sample or (samples, cells)."""
    n = current.size
    t = T0 + dt * np.arange(n) if times is None else times
    volts = np.broadcast_to(
        np.asarray(cell_v, dtype=float).reshape(-1, 1) if np.ndim(cell_v) == 1 else cell_v,
        (n, CELLS),
    )
    columns = {
        "timestamp": t,
        "current_a": current.astype(float),
        "voltage_v": volts.sum(axis=1),
        "temperature_c": np.broadcast_to(np.asarray(temperature, dtype=float), (n,)).copy(),
    }
    for k in range(CELLS):
        columns[f"cell_{k + 1}_v"] = np.ascontiguousarray(volts[:, k])
    return columns


def test_constant_current_discharge_matches_its_integral() -> None:
    # 50 A for exactly 2 h sampled every 10 s: 100 Ah, and 100 Ah * 13.2 V of energy.
    n = 721
    report = analyze(history(np.full(n, -50.0)), rated_capacity_ah=100)
    assert math.isclose(report["discharge_throughput_ah"], 100.0, rel_tol=1e-12)
    assert report["charge_throughput_ah"] == 0.0
    assert math.isclose(report["energy_discharged_kwh"], 100.0 * 4 * 3.30 / 1000, rel_tol=1e-12)
    assert math.isclose(report["equivalent_full_cycles"], 1.0, rel_tol=1e-12)
    assert report["missing_s"] == 0.0
    assert report["samples"] == n
    assert report["start"] == "2024-01-01T00:00:00Z"
    assert report["end"] == "2024-01-01T02:00:00Z"


def test_trapezoid_splits_a_sign_change_at_the_zero_crossing() -> None:
    # One interval from +30 A to -10 A over 10 s: the line crosses zero after 7.5 s.
    report = analyze(history(np.array([30.0, -10.0])), rated_capacity_ah=100)
    assert math.isclose(report["charge_throughput_ah"], 0.5 * 30 * 7.5 / 3600, rel_tol=1e-12)
    assert math.isclose(report["discharge_throughput_ah"], 0.5 * 10 * 2.5 / 3600, rel_tol=1e-12)


def test_gaps_are_not_integrated_and_count_as_missing() -> None:
    # 10 s samples with a 20 min hole (a gap) and a 4 min hole (below the 5 min limit).
    t = np.concatenate(
        (np.arange(0, 600, 10), np.arange(1800, 2400, 10), np.arange(2640, 3000, 10))
    )
    report = analyze(history(np.full(t.size, -36.0), times=T0 + t), rated_capacity_ah=100)
    covered_s = (600 - 10) + (2400 - 10 - 1800) + (3000 - 10 - 2640) + (2640 - 2390)
    assert math.isclose(report["discharge_throughput_ah"], 36.0 * covered_s / 3600, rel_tol=1e-12)
    assert report["missing_s"] == 1800 - 590
    assert report["gaps"] == 1


def test_an_excursion_below_the_limit_counts_once() -> None:
    rng = np.random.default_rng(1)
    volts = np.full((600, CELLS), 3.2)
    # Cell 3 sags below 2.5 V for 200 samples, its noise crossing the limit many times.
    volts[200:400, 2] = 2.5 + rng.uniform(-0.04, 0.04, 200)
    volts[250:350, 2] = 2.3
    report = analyze(history(np.full(600, -5.0), volts), rated_capacity_ah=100)
    assert report["deep_discharge_events"] == 1
    event = report["events"]["deep_discharge"][0]
    assert event["cell"] == 3
    assert event["extreme_v"] == 2.3
    first_below = 200 + int(np.argmax(volts[200:, 2] < 2.5))
    assert event["start"] == format_time(T0 + 10.0 * first_below)
    assert report["overvoltage_events"] == 0


def test_separate_excursions_count_separately_and_overvoltage_too() -> None:
    volts = np.full((500, CELLS), 3.3)
    volts[100:120, 0] = 2.4
    volts[300:320, 0] = 2.45  # recovered above 2.6 V in between: a second event
    volts[400:410, 1] = 3.70
    volts[410:420, 1] = 3.62  # still within the 0.1 V hysteresis: the same event
    volts[420:430, 1] = 3.68
    report = analyze(history(np.zeros(500), volts), rated_capacity_ah=100)
    assert report["deep_discharge_events"] == 2
    assert report["overvoltage_events"] == 1
    assert report["events"]["overvoltage"][0]["cell"] == 2


def test_pack_voltage_per_cell_without_cell_columns() -> None:
    columns = history(np.zeros(100))
    columns = {k: v for k, v in columns.items() if not k.startswith("cell_")}
    columns["voltage_v"] = np.full(100, 16 * 3.3)
    columns["voltage_v"][40:50] = 16 * 2.4
    with pytest.raises(ValueError, match="series_cells"):
        analyze(columns, rated_capacity_ah=100)
    report = analyze(columns, rated_capacity_ah=100, series_cells=16)
    assert report["deep_discharge_events"] == 1
    assert report["events"]["deep_discharge"][0]["cell"] is None


def test_time_in_extreme_temperatures() -> None:
    n = 100
    temperature = np.full(n, 25.0)
    temperature[10:40] = 50.0  # 30 samples hot
    temperature[60:70] = -5.0  # 10 samples cold
    current = np.zeros(n)
    current[0:25] = 20.0  # charging during the first 15 hot samples
    current[60:65] = 20.0  # and the first 5 cold ones
    current[65:70] = 0.5  # inside the 1 A dead band: not charging
    report = analyze(history(current, temperature=temperature), rated_capacity_ah=100)
    # Left-Riemann: the interval after a sample carries that sample's state.
    assert math.isclose(report["time_above_high_temp_min"], 30 * 10 / 60)
    assert math.isclose(report["time_charging_above_high_temp_min"], 15 * 10 / 60)
    assert math.isclose(report["time_below_low_temp_min"], 10 * 10 / 60)
    assert math.isclose(report["time_charging_below_low_temp_min"], 5 * 10 / 60)
    assert report["temperature_max_c"] == 50.0
    assert report["temperature_min_c"] == -5.0
    kinds = {a["kind"] for a in report["alerts"]}
    assert {"charging_in_cold", "charging_in_heat"} <= kinds


def test_capacity_is_null_with_a_reason_without_anchors() -> None:
    # Partial cycles on the flat of the curve: nothing tells the SOC.
    current = np.tile(np.concatenate((np.full(360, -30.0), np.full(360, 30.0))), 5)
    report = analyze(history(current, 3.30), rated_capacity_ah=100)
    assert report["capacity_ah"] is None
    assert report["capacity_retention_pct"] is None
    assert "no anchor" in report["capacity_reason"]
    assert report["soc_pct"] is None
    assert report["soc_source"]["kind"] == "unknown"


def test_capacity_from_a_full_charge_and_a_rested_knee() -> None:
    taper = np.linspace(10.0, 2.0, 30)  # CV tail: the anchor is the first sample under 5 A
    rest_top = np.zeros(60)
    discharge = np.full(648, -50.0)  # 1.8 h at 50 A
    rest_bottom = np.zeros(400)  # 66 min rest, longer than the 30 min needed
    current = np.concatenate((taper, rest_top, discharge, rest_bottom))
    volts = np.concatenate(
        (np.full(30, 3.50), np.full(60, 3.40), np.full(648, 3.28), np.full(400, 3.10))
    )
    columns = history(current, volts)
    report = analyze(columns, rated_capacity_ah=100)

    anchor = int(np.argmax(taper < 5.0))
    end = current.size - 1
    amps = current[anchor : end + 1]
    counted_ah = float(np.sum(0.5 * (amps[1:] + amps[:-1]) * 10.0) / 3600.0)
    rested_soc = OcvCurve.from_table().soc_from_voltage(3.10)
    assert 3.0 < rested_soc < 4.0
    expected = -counted_ah / ((100.0 - rested_soc) / 100.0)
    assert math.isclose(report["capacity_ah"], expected, rel_tol=1e-9)
    assert report["capacity_detail"]["pairs_used"] == 1
    assert report["capacity_detail"]["pairs"][0]["kinds"] == "full->rest_low"
    # The history ends in that rest, so the SOC is read from it.
    assert report["soc_source"]["kind"] == "rest_low"
    assert math.isclose(report["soc_pct"], rested_soc)


def test_bms_soc_is_only_an_initial_guess_and_says_so() -> None:
    columns = history(np.full(361, -20.0))
    columns["soc_pct"] = np.full(361, 80.0)  # a BMS that never moves is not believed
    report = analyze(columns, rated_capacity_ah=100)
    assert report["soc_source"]["kind"] == "bms_initial_guess"
    assert math.isclose(report["soc_pct"], 80.0 - 20.0)  # 20 Ah counted out of 100 Ah
    assert report["bms_soc_pct"] == 80.0
    ignored = analyze(columns, rated_capacity_ah=100, use_bms_soc_as_initial_guess=False)
    assert ignored["soc_pct"] is None


def test_resistance_from_current_steps() -> None:
    r_cells = np.array([0.50, 0.55, 0.60, 0.80]) / 1000.0
    blocks = []
    for level in (-40.0, 0.0, -60.0, 0.0, 30.0, 0.0):  # steps of 40-60 A, steady around them
        blocks.append(np.full(20, level))
    current = np.concatenate(blocks)
    volts = 3.30 + current[:, None] * r_cells[None, :]
    report = analyze(history(current, volts), rated_capacity_ah=100)
    resistance = report["resistance_mohm"]
    assert resistance["steps_used"] == 5
    np.testing.assert_allclose(resistance["cells"], 1000 * r_cells, rtol=1e-9)
    assert math.isclose(resistance["pack"], 1000 * r_cells.sum(), rel_tol=1e-9)


def test_lowest_cell_shares_ties() -> None:
    volts = np.full((100, CELLS), 3.300)
    volts[:30, 3] = 3.290  # cell 4 alone lowest for 30 samples, all four tied for 70
    # One sample per 30 s: each is the first of its 30-second bucket, so every one counts.
    report = analyze(history(np.zeros(100), volts, dt=30.0), rated_capacity_ah=100)
    shares = report["lowest_cell_share"]
    assert report["lowest_cell"] == 4
    assert math.isclose(shares[3], (30 + 70 / 4) / 100)
    assert math.isclose(shares[0], (70 / 4) / 100)
    assert report["cell_spread_mv"]["max"] == pytest.approx(10.0)


def test_batches_must_follow_each_other_and_keep_their_columns() -> None:
    columns = history(np.zeros(20))
    analyzer = Analyzer(rated_capacity_ah=100).feed(columns)
    with pytest.raises(ValueError, match="column 'timestamp'"):
        analyzer.feed(columns)
    later = {k: v for k, v in history(np.zeros(5), times=T0 + 1000 + np.arange(5)).items()}
    del later["temperature_c"]
    with pytest.raises(ValueError, match="column 'temperature_c'"):
        analyzer.feed(later)


def test_report_and_state_are_plain_json() -> None:
    analyzer = Analyzer(rated_capacity_ah=100).feed(history(np.full(50, -10.0)))
    report = analyzer.report()
    assert json.loads(json.dumps(report, allow_nan=False)) == report
    state = json.loads(json.dumps(analyzer.to_state(), allow_nan=False))
    assert Analyzer.from_state(state).report() == report


def test_reported_cell_extremes_stand_in_for_cell_columns() -> None:
    # What a collector on the inverter bus has: pack values plus min/max cell (some rows empty).
    n = 200
    columns = {
        "timestamp": T0 + 10.0 * np.arange(n),
        "current_a": np.full(n, -5.0),
        "voltage_v": np.full(n, 16 * 3.25),
        "min_cell_v": np.full(n, 3.24),
        "max_cell_v": np.full(n, 3.26),
        "min_cell_temp_c": np.full(n, -3.0),
        "max_cell_temp_c": np.full(n, 20.0),
    }
    columns["min_cell_v"][50:80] = 2.4  # one cell dips although the pack average does not
    columns["min_cell_v"][100:110] = np.nan  # not reported: pack / series_cells stands in
    report = analyze(columns, rated_capacity_ah=100, series_cells=16)
    assert report["deep_discharge_events"] == 1
    assert report["temperature_min_c"] == -3.0
    assert math.isclose(report["time_below_low_temp_min"], (n - 1) * 10 / 60)
