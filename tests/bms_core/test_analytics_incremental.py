"""Feeding a history in batches of any size, with the state persisted as JSON between some of
them, gives the one-pass report: counts exactly, floating point sums to rounding."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bms_core import Analyzer, analyze
from bms_core.columns import parse_timestamps
from bms_core.simulate import simulate_history

RATED_AH = 100.0


@pytest.fixture(scope="module")
def week() -> dict[str, np.ndarray]:
    """Six winter days with every kind of anchor, a deep discharge, overshoots and gaps."""
    columns, _ = simulate_history(days=16, seed=0)
    t = columns["timestamp"]
    first, last, hole_start, hole_end = parse_timestamps(
        [
            "2024-01-10T00:00:00Z",
            "2024-01-16T00:00:00Z",
            "2024-01-12T10:00:00Z",
            "2024-01-12T10:40:00Z",
        ]
    )
    keep = (t >= first) & (t < last) & ~((t >= hole_start) & (t < hole_end))
    return {name: values[keep] for name, values in columns.items()}


@pytest.fixture(scope="module")
def one_pass(week: dict[str, np.ndarray]) -> dict[str, Any]:
    report = analyze(week, rated_capacity_ah=RATED_AH)
    # The stretch must exercise what batching could break.
    anchors = report["anchors"]
    assert anchors["full"] and anchors["rest_low"] and anchors["rest_high"] and anchors["cutoff"]
    assert report["deep_discharge_events"] and report["overvoltage_events"] and report["gaps"]
    assert report["capacity_interval_ah"] is not None and report["resistance_mohm"]["steps_used"]
    return report


def mismatches(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [m for k in a for m in mismatches(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} != {len(b)} items"]
        return [
            m
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for m in mismatches(x, y, f"{path}[{i}]")
        ]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} != {b}"]
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} != {b!r}"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.floats(0.0, 1.0), max_size=40),
    tiny=st.booleans(),
    persist_every=st.integers(1, 8),
)
def test_batches_give_the_one_pass_report(
    week: dict[str, np.ndarray],
    one_pass: dict[str, Any],
    cuts: list[float],
    tiny: bool,
    persist_every: int,
) -> None:
    n = week["timestamp"].size
    bounds = {int(c * n) for c in cuts}
    if tiny:  # a run of one- and two-sample batches somewhere in the middle
        start = int(cuts[0] * n) if cuts else n // 2
        bounds |= set(range(start, min(n, start + 60), 2))
    edges = [0, *sorted(b for b in bounds if 0 < b < n), n]
    analyzer = Analyzer(rated_capacity_ah=RATED_AH)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        analyzer.feed({name: values[a:b] for name, values in week.items()})
        if k % persist_every == 0:
            analyzer = Analyzer.from_state(json.loads(json.dumps(analyzer.to_state())))
    assert mismatches(one_pass, analyzer.report()) == []


def test_float32_input_gives_the_same_events_and_close_totals(
    week: dict[str, np.ndarray], one_pass: dict[str, Any]
) -> None:
    narrow = {k: (v if k == "timestamp" else v.astype(np.float32)) for k, v in week.items()}
    report = analyze(narrow, rated_capacity_ah=RATED_AH)
    assert report["deep_discharge_events"] == one_pass["deep_discharge_events"]
    assert report["overvoltage_events"] == one_pass["overvoltage_events"]
    assert report["charge_throughput_ah"] == pytest.approx(
        one_pass["charge_throughput_ah"], rel=1e-4
    )
    assert report["capacity_interval_ah"] == pytest.approx(
        one_pass["capacity_interval_ah"], rel=1e-3
    )
