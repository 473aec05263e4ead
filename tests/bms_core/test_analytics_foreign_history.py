"""The capacity estimate on a history that owes nothing to bms_core's simulator.

A 15s pack of 280 Ah cells (the weakest has 262 Ah) with an OCV curve of another LFP shape,
5 s sampling, a 0.25 A current-sensor offset and a cycling pattern of its own: CC-CV charges,
partial discharges that stay on the flat of the curve, and now and then a discharge down to
the cut-off or to a rest low on the curve. Built here in a few lines so that an estimator
tuned to one simulator would show it.
"""

from __future__ import annotations

import numpy as np
import pytest

from bms_core import analyze

CELLS = 15
RATED_AH = 280.0
CAPACITIES = np.array([270.0, 268.5, 271.0, 266.0, 262.0, 269.0, 270.5, 267.0] + [269.5] * 7)
R_CELL = 0.00025
OFFSET_A = 0.25
DT = 5.0
# Another LFP cell's rested voltage (SOC fraction, V).
OCV_SOC = np.array(
    [0, 0.01, 0.03, 0.06, 0.10, 0.15, 0.30, 0.50, 0.70, 0.90, 0.95, 0.98, 0.995, 1.0]
)
OCV_V = np.array(
    [2.75, 2.98, 3.12, 3.19, 3.225, 3.255, 3.285, 3.300, 3.318, 3.332, 3.345, 3.37, 3.42, 3.50]
)


def ocv(soc: np.ndarray | float) -> np.ndarray:
    return np.interp(soc, OCV_SOC, OCV_V)


def foreign_history(seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    q_min, q_max = CAPACITIES.min(), CAPACITIES.max()
    deficit = 40.0  # Ah below full, the same for every cell (top-balanced)
    currents: list[float] = []
    deficits: list[float] = []
    plan = ["charge", "rest", "flat", "rest", "charge", "rest", "cutoff", "rest", "charge", "rest"]
    plan += [
        "low",
        "longrest",
        "charge",
        "rest",
        "flat",
        "rest",
        "charge",
        "rest",
        "cutoff",
        "rest",
    ]
    for phase in plan:
        steps = 0
        while True:
            if phase == "charge":
                v_hi = float(ocv(1 - deficit / q_max)) + 56.0 * R_CELL
                # CV: once the charge voltage is reached, the current follows the deficit down.
                current = 56.0 if v_hi < 3.50 and deficit > 2.0 else min(56.0, 30.0 * deficit)
                if current < 0.02 * RATED_AH:
                    deficit = 0.0  # the BMS balances every cell to full
                    break
            elif phase in ("rest", "longrest"):
                current = 0.0
                if steps * DT >= (7200.0 if phase == "rest" else 4 * 3600.0):
                    break
            else:
                current = -70.0 if phase != "cutoff" else -40.0
                v_lo = float(ocv(1 - deficit / q_min)) + current * R_CELL
                stop = {
                    "flat": deficit >= 0.55 * q_min,
                    "low": deficit >= 0.92 * q_min,
                    "cutoff": v_lo <= 2.85,
                }[phase]
                if stop:
                    break
            currents.append(current)
            deficits.append(deficit)
            deficit -= current * DT / 3600.0
            steps += 1
    current = np.array(currents)
    soc = 1.0 - np.array(deficits)[:, None] / CAPACITIES[None, :]
    cell_v = ocv(soc) + current[:, None] * R_CELL + 0.002 * rng.standard_normal(soc.shape)
    n = current.size
    columns = {
        "timestamp": 1_717_200_000.0 + DT * np.arange(n),
        "current_a": current + OFFSET_A + 0.3 * rng.standard_normal(n),
        "voltage_v": cell_v.sum(axis=1) + current * 0.001,
        "temperature_c": 22.0 + rng.standard_normal(n),
    }
    for k in range(CELLS):
        columns[f"cell_{k + 1}_v"] = np.round(cell_v[:, k], 3)
    return columns


@pytest.mark.parametrize("seed", [0, 1])
def test_capacity_of_a_foreign_pack_within_two_percent(seed: int) -> None:
    report = analyze(foreign_history(seed), rated_capacity_ah=RATED_AH)
    assert report["capacity_ah"] is not None, report["capacity_reason"]
    assert report["capacity_ah"] == pytest.approx(CAPACITIES.min(), rel=0.02)
    kinds = {p["kinds"] for p in report["capacity_detail"]["pairs"]}
    assert any("full" in k for k in kinds)
    assert report["current_offset_a"] == pytest.approx(OFFSET_A, abs=0.1)
    assert report["lowest_cell"] == int(np.argmin(CAPACITIES)) + 1


def test_the_foreign_pack_without_cell_columns_still_gets_a_bounded_answer() -> None:
    # Pack voltage only: the knees are judged on the average cell, which hides the weakest
    # one, so the estimate may sit between the weakest and the average cell - never a guess.
    columns = {k: v for k, v in foreign_history(0).items() if not k.startswith("cell_")}
    report = analyze(columns, rated_capacity_ah=RATED_AH, series_cells=CELLS)
    if report["capacity_ah"] is None:
        assert report["capacity_reason"]
    else:
        assert CAPACITIES.min() * 0.98 <= report["capacity_ah"] <= CAPACITIES.mean() * 1.02
