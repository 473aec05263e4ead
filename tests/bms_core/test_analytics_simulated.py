"""The analysis against the simulator's ground truth.

The simulated cell has its own OCV curve (not the analysis's generic table), a current-sensor
offset, sensor noise, gaps, a weakening cell and a pack that fades during the month, so the
estimates are checked against what actually happened, not against the analysis's own model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from bms_core import analyze
from bms_core.columns import parse_timestamps
from bms_core.simulate import resistance_temperature_factor, simulate_history

CELL_ALERTS_ABOUT_HEALTH = {
    "resistance_rising",
    "resistance_high",
    "low_under_load",
    "drifting_low_under_load",
    "hot_cell",
}


def _run(**kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    columns, truth = simulate_history(**kwargs)
    return analyze(columns, rated_capacity_ah=truth["settings"]["rated_capacity_ah"]), truth


def _true_capacity_at(truth: dict[str, Any], when: str) -> float:
    """The pack's true capacity at an ISO time (the daily truth, interpolated)."""
    start = parse_timestamps([truth["settings"]["start"]])[0]
    days = (parse_timestamps([when])[0] - start) / 86400.0
    daily = truth["capacity_ah_daily"]
    return float(np.interp(days, np.arange(len(daily)), daily))


@pytest.fixture(scope="module")
def winter() -> tuple[dict[str, Any], dict[str, Any]]:
    return _run(days=30, seed=0)


@pytest.fixture(scope="module")
def autumn() -> tuple[dict[str, Any], dict[str, Any]]:
    return _run(days=30, seed=2, start="2024-10-10T00:00:00Z")


@pytest.mark.parametrize("season", ["winter", "autumn"])
def test_capacity_within_two_percent(season: str, request: pytest.FixtureRequest) -> None:
    report, truth = request.getfixturevalue(season)
    assert report["capacity_ah"] is not None, report["capacity_reason"]
    true_capacity = _true_capacity_at(truth, report["capacity_as_of"])
    assert report["capacity_ah"] == pytest.approx(true_capacity, rel=0.02)
    assert report["capacity_retention_pct"] == pytest.approx(
        100 * report["capacity_ah"] / truth["settings"]["rated_capacity_ah"]
    )


def test_current_offset_is_found(winter: tuple[dict[str, Any], dict[str, Any]]) -> None:
    report, truth = winter
    assert report["current_offset_a"] == pytest.approx(truth["current_offset_a"], abs=0.02)


def test_throughput_and_energy(winter: tuple[dict[str, Any], dict[str, Any]]) -> None:
    report, truth = winter
    sampled = truth["throughput"]
    assert report["charge_throughput_ah"] == pytest.approx(sampled["sampled_charge_ah"], rel=0.01)
    assert report["discharge_throughput_ah"] == pytest.approx(
        sampled["sampled_discharge_ah"], rel=0.01
    )
    assert report["energy_charged_kwh"] == pytest.approx(
        sampled["sampled_energy_charged_kwh"], rel=0.01
    )
    assert report["energy_discharged_kwh"] == pytest.approx(
        sampled["sampled_energy_discharged_kwh"], rel=0.01
    )
    assert report["equivalent_full_cycles"] == pytest.approx(
        report["discharge_throughput_ah"] / truth["settings"]["rated_capacity_ah"]
    )
    assert report["missing_s"] == pytest.approx(truth["missing_s"])
    assert report["missing_s"] > 0  # the simulation cut gaps out


def test_harmful_events(winter: tuple[dict[str, Any], dict[str, Any]]) -> None:
    report, truth = winter
    assert report["deep_discharge_events"] == truth["events"]["deep_discharge"]
    assert report["overvoltage_events"] == truth["events"]["overvoltage"]
    assert truth["events"]["overvoltage"] > 0
    minutes = truth["time_below_low_temp_min"]
    assert minutes > 0  # a January with cold snaps
    assert report["time_below_low_temp_min"] == pytest.approx(minutes, rel=0.03)
    assert report["time_charging_below_low_temp_min"] == pytest.approx(
        truth["time_charging_below_low_temp_min"], rel=0.03
    )


def test_the_weak_cell_and_only_it_is_flagged(
    winter: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    report, truth = winter
    weak = truth["weak_cell"]
    cell_alerts = [a for a in report["alerts"] if a["cell"] is not None]
    assert {a["kind"] for a in cell_alerts} >= {"resistance_rising", "drifting_low_under_load"}
    assert {a["cell"] for a in cell_alerts} == {weak}
    assert report["lowest_cell"] == weak
    for alert in report["alerts"]:
        assert set(alert) == {"kind", "cell", "severity", "message", "evidence"}


def test_a_healthy_pack_raises_no_cell_alert() -> None:
    report, truth = _run(days=30, seed=5, weak_cell=None, harmful_events=False)
    assert truth["weak_cell"] is None
    assert [a for a in report["alerts"] if a["cell"] is not None] == []
    assert report["deep_discharge_events"] == report["overvoltage_events"] == 0


def test_soc_at_the_end(autumn: tuple[dict[str, Any], dict[str, Any]]) -> None:
    report, truth = autumn
    assert report["soc_pct"] is not None, report["soc_source"]
    assert report["soc_pct"] == pytest.approx(truth["soc_pct_end"], abs=2.0)
    assert report["soc_source"]["kind"] in {"full", "rest_low", "rest_high", "cutoff"}


def test_resistance_matches_the_simulated_cells(
    winter: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    report, truth = winter
    resistance = report["resistance_mohm"]
    factor = float(resistance_temperature_factor(resistance["temperature_c"]))
    true_cells = np.array(truth["resistance_mohm_25c"]["cells"]) * factor
    healthy = [k for k in range(truth["settings"]["cells"]) if k + 1 != truth["weak_cell"]]
    # Ohmic resistance plus the part of the 40 s polarisation seen within one 10 s sample.
    ratio = np.array(resistance["cells"])[healthy] / true_cells[healthy]
    assert np.median(ratio) == pytest.approx(1.0, abs=0.15)
    trends = resistance["cells_trend_pct_per_month"]
    assert int(np.argmax(trends)) + 1 == truth["weak_cell"]
    assert math.isfinite(resistance["pack"]) and resistance["pack"] > 0


def test_cycle_histogram_counts_daily_cycles(winter: tuple[dict[str, Any], dict[str, Any]]) -> None:
    report, _ = winter
    histogram = report["cycle_depth_histogram"]
    assert histogram["bin_edges_pct"] == [10.0 * k for k in range(11)]
    deep = sum(histogram["cycles"][5:])
    assert 15 <= deep <= 45  # about one deep cycle per day of the month
