"""The small vectorised pieces against plain Python loops that state what they mean."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_core.integrate import positive_time, split_totals, split_trapezoid
from bms_core.latch import latch
from bms_core.stats import histogram_percentile, weighted_median

flags = st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(flags, st.booleans())
def test_latch_is_a_set_reset_state_machine(events: list[tuple[bool, bool]], initial: bool) -> None:
    state, expected = initial, []
    for set_now, reset_now in events:
        if set_now:
            state = True
        elif reset_now:
            state = False
        expected.append(state)
    set_when = np.array([e[0] for e in events])
    reset_when = np.array([e[1] for e in events])
    assert latch(set_when, reset_when, initial).tolist() == expected


currents = st.lists(
    st.one_of(st.just(0.0), st.floats(-100, 100, allow_nan=False)), min_size=2, max_size=50
)


@settings(max_examples=300, deadline=None)
@given(currents)
def test_split_totals_equal_per_interval_trapezoids(values: list[float]) -> None:
    x = np.array(values)
    a, b = x[:-1], x[1:]
    width = np.linspace(0.5, 2.0, a.size)
    positive, negative = split_trapezoid(a, b, width)
    above, below = positive_time(a, b, width)
    totals = split_totals(a, b, width)
    expected = (positive.sum(), negative.sum(), above.sum(), below.sum())
    for got, want in zip(totals, expected, strict=True):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
    # The signed parts add up to the plain trapezoid, and the times to the widths spent off zero.
    assert math.isclose(totals[0] + totals[1], float(np.sum(0.5 * (a + b) * width)), abs_tol=1e-9)
    assert totals[2] + totals[3] <= width.sum() + 1e-9


def test_weighted_median_and_histogram_percentile() -> None:
    assert weighted_median([1.0, 2.0, 10.0], [1.0, 1.0, 1.0]) == 2.0
    assert weighted_median([1.0, 2.0, 10.0], [1.0, 1.0, 5.0]) == 10.0
    counts = {0: 90, 5: 5, 20: 5}  # 0.1-wide bins
    assert histogram_percentile(counts, 0.1, 0.95) == pytest.approx(0.6)  # bin 5's upper edge
    assert histogram_percentile(counts, 0.1, 0.5) == pytest.approx(0.1)
