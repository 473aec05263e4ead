"""Cell alerts: silence on a healthy pack with ordinary manufacturing spread, a cell weak only in
capacity found, two weak cells both found, evidence that states measurement and threshold."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from bms_core import analyze
from bms_core.simulate import simulate_history

CELLS = 15
# Ordinary manufacturing spread: +-1.5 % capacity and +-10 % resistance at two sigma.
SPREAD = {"capacity_spread": 0.0075, "resistance_spread": 0.05}


def run(**kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    columns, truth = simulate_history(cells=CELLS, harmful_events=False, **SPREAD, **kwargs)
    return analyze(columns, rated_capacity_ah=100), truth


def cell_alerts(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for a in report["alerts"] if a["cell"] is not None]


def test_a_healthy_pack_with_ordinary_spread_raises_no_cell_alert_over_a_year() -> None:
    report, truth = run(days=365, seed=7, weak_cell=None, sample_s=30.0)
    assert truth["weak_cells"] == []
    spread = np.ptp(truth["capacity_ah"]["cells"]) / np.mean(truth["capacity_ah"]["cells"])
    assert spread > 0.015  # the spread is really there
    assert cell_alerts(report) == []
    assert report["cell_capacity"]["relative_to_median"] is not None


def test_a_cell_weak_in_capacity_only_is_found() -> None:
    report, truth = run(days=30, seed=1, weak_cell=4, weak_resistance_rise=0.0)
    alerts = [a for a in cell_alerts(report) if a["kind"] == "capacity_low"]
    assert [a["cell"] for a in alerts] == [4]
    evidence = alerts[0]["evidence"]
    true_cells = np.asarray(truth["capacity_ah"]["cells"])
    true_ratio = true_cells[3] / np.median(true_cells)
    assert evidence["capacity_relative_to_median"] / evidence["peer_median"] == pytest.approx(
        true_ratio, abs=0.02
    )
    assert evidence["threshold"] == {"relative_below": 0.95, "robust_z_below": -4.0}
    assert {a["cell"] for a in cell_alerts(report)} == {4}


def test_two_weak_cells_are_both_found() -> None:
    report, truth = run(days=30, seed=1, weak_cell=(4, 11))
    assert truth["weak_cells"] == [4, 11]
    by_kind: dict[str, set[int]] = {}
    for alert in cell_alerts(report):
        by_kind.setdefault(alert["kind"], set()).add(alert["cell"])
        assert "threshold" in alert["evidence"]
    assert by_kind["capacity_low"] == {4, 11}
    assert by_kind["resistance_high"] == {4, 11}
    assert set().union(*by_kind.values()) == {4, 11}
