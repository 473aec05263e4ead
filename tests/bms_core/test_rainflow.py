"""The vectorised rainflow counter against the reference ``rainflow`` package and ASTM E1049."""

from collections import Counter

import numpy as np
import rainflow as reference
from hypothesis import given, settings
from hypothesis import strategies as st

from bms_core.rainflow import RainflowCounter, extract_cycles, reversals

# Small integers make plateaus and exactly equal ranges common (the tie rules matter);
# general floats exercise rounding; two-decimal values look like SOC traces.
small_ints = st.lists(st.integers(-4, 4).map(float), max_size=80)
general_floats = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False), max_size=80
)
two_decimals = st.lists(st.integers(0, 10000).map(lambda i: i / 100), max_size=80)
any_series = st.one_of(small_ints, general_floats, two_decimals)


def _reference_cycles(series: list[float]) -> list[tuple[float, float, float, int, int]]:
    return sorted(reference.extract_cycles(series))


@settings(max_examples=400, deadline=None)
@given(any_series)
def test_cycles_equal_the_reference_package(series: list[float]) -> None:
    assert sorted(extract_cycles(series).as_tuples()) == _reference_cycles(series)


@settings(max_examples=200, deadline=None)
@given(any_series)
def test_reversals_equal_the_reference_package(series: list[float]) -> None:
    indices, values = reversals(series)
    assert list(zip(indices.tolist(), values.tolist(), strict=True)) == list(
        reference.reversals(series)
    )


def test_long_random_walk_equals_the_reference_package() -> None:
    # Long enough that the vectorised passes (not only the sequential finish) do the work.
    series = np.cumsum(np.random.default_rng(7).normal(size=20_000))
    assert sorted(extract_cycles(series).as_tuples()) == _reference_cycles(series.tolist())


def test_nested_chain_equals_the_reference_package() -> None:
    # Converging oscillation closed by one large swing: each pass can only close the
    # innermost cycle, the case that hands over to the sequential routine.
    k = np.arange(3000)
    series = np.concatenate(((-1.0) ** k * (3000 - k), [10_000.0, -10_000.0]))
    assert sorted(extract_cycles(series).as_tuples()) == _reference_cycles(series.tolist())


def test_astm_e1049_textbook_example() -> None:
    # ASTM E1049-85 (2011), Fig. 6 / Table 4: rainflow counting of this load history gives
    # range 3: 0.5, 4: 1.5, 6: 0.5, 8: 1.0, 9: 0.5 cycles.
    cycles = extract_cycles([-2, 1, -3, 5, -1, 3, -4, 4, -2])
    counts: Counter[float] = Counter()
    for rng, count in zip(cycles.range.tolist(), cycles.count.tolist(), strict=True):
        counts[rng] += count
    assert dict(counts) == {3.0: 0.5, 4.0: 1.5, 6.0: 0.5, 8.0: 1.0, 9.0: 0.5}


@settings(max_examples=200, deadline=None)
@given(any_series, st.lists(st.integers(0, 80), max_size=6))
def test_incremental_counter_equals_one_pass(series: list[float], cuts: list[int]) -> None:
    whole = RainflowCounter(bin_width=1.0, n_bins=50)
    whole.add(series)
    pieces = RainflowCounter(bin_width=1.0, n_bins=50)
    bounds = [0, *sorted(c for c in cuts if c <= len(series)), len(series)]
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        pieces.add(series[a:b])
    # Via a serialised state, as the service persists it between batches.
    pieces = RainflowCounter.from_state(pieces.to_state())
    assert pieces.histogram.full == whole.histogram.full
    assert pieces.residue == whole.residue


def test_incremental_counter_counts_what_the_reference_counts() -> None:
    series = np.cumsum(np.random.default_rng(3).normal(size=5000))
    counter = RainflowCounter(bin_width=2.0, n_bins=40)
    for piece in np.array_split(series, 7):
        counter.add(piece)
    full_depths = [r for r, _, c, _, _ in reference.extract_cycles(series.tolist()) if c == 1.0]
    expected = np.bincount(np.minimum((np.array(full_depths) // 2.0).astype(int), 39), minlength=40)
    assert counter.histogram.full == expected.tolist()
    half_depths = sorted(
        r for r, _, c, _, _ in reference.extract_cycles(series.tolist()) if c == 0.5
    )
    assert sorted(counter.half_cycle_depths().tolist()) == half_depths
