"""Rainflow cycle counting (ASTM E1049-85, section 5.4.4), vectorised with numpy.

The counting is done in two vectorised stages:

1. Turning points: consecutive equal values are merged and a point is a reversal when the
   slope changes sign on either side of it. As in the ``rainflow`` package, the first and
   the last point of the series are always kept (the last only for series of 3+ points).
2. Cycle extraction by repeated passes over the reversal sequence. A range ``Y`` between
   two neighbouring reversals is a closed (full) cycle when it is strictly smaller than the
   range before it and not larger than the range after it. Every such range in the
   sequence is removed at once in a pass (two qualifying ranges can never be adjacent, so a
   pass never removes a point twice), and passes repeat until none qualifies. What is left
   (the residue) converges, then diverges; each of its ranges is a half cycle.

Why that gives the same cycles as the sequential ASTM stack: removing a closed cycle never
shrinks a neighbouring range, so a range that qualifies stays qualifying until removed and
the order of removals does not change the outcome; the ASTM stack is one such order (its
"count Y as a half cycle and drop the starting point" step corresponds to a range that is
not smaller than the range before it, which never qualifies here). The argument needs
range comparisons that agree with exact arithmetic. A floating point difference can only
disagree when two different ranges that share an end round to the same value; when a pass
sees such a tie it hands the whole series to a sequential port of the ASTM stack, so the
result stays exact. A pass that removes little (a long chain of nested cycles) also hands
the rest to the sequential routine, which is linear, to avoid quadratic behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# Passes are cheap per point but have a fixed numpy overhead; below this many points the
# sequential routine is faster, and a pass removing fewer than this share of the points is a
# sign of long nested chains, where passes would become quadratic.
_SEQUENTIAL_BELOW_POINTS = 512
_MIN_PASS_REMOVAL_SHARE = 0.02


class Cycles(NamedTuple):
    """Cycles as parallel arrays, ordered by start index."""

    range: FloatArray
    mean: FloatArray
    # 1.0 for a full cycle, 0.5 for a half cycle. The name (the rainflow package's) shadows
    # tuple.count, which mypy reports; the public name stays.
    count: FloatArray  # type: ignore[assignment]
    i_start: IntArray
    i_end: IntArray

    def as_tuples(self) -> list[tuple[float, float, float, int, int]]:
        """The cycles as ``(range, mean, count, i_start, i_end)`` tuples, like ``rainflow``."""
        return list(
            zip(
                self.range.tolist(),
                self.mean.tolist(),
                self.count.tolist(),
                self.i_start.tolist(),
                self.i_end.tolist(),
                strict=True,
            )
        )


class _RoundingTie(Exception):
    """Two different ranges sharing an end rounded to the same float: order may matter."""


def turning_points(
    series: npt.ArrayLike, *, keep_last: bool = True, exact_signs: bool = False
) -> tuple[IntArray, FloatArray]:
    """Indices and values of the reversal points of ``series``.

    The first point is always a reversal; the last one too when ``keep_last`` (the
    ``rainflow`` package drops it for a two-point series, see :func:`reversals`). For a run of
    equal values the index of its last sample is reported, as the ``rainflow`` package does.
    ``exact_signs`` compares the signs of the slopes instead of their product: the product
    (the package's rule) underflows for tiny slopes, which makes a reversal depend on points
    further away, and an incremental count cut between them would then differ.
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    n = x.size
    if n == 0:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    if n == 1:
        return np.zeros(1, np.int64), x.copy()
    changes = np.flatnonzero(x[1:] != x[:-1])  # run k+1 starts at changes[k] + 1
    if changes.size == n - 1:  # no repeated values: skip the merging copies
        run_values = x
        run_last_index = None
    else:
        run_values = np.concatenate((x[:1], x[changes + 1]))
        run_last_index = np.concatenate((changes, [n - 1]))
    slope = np.diff(run_values)
    # Multiplying the slopes (rather than comparing signs) reproduces the reference
    # implementation even where the product underflows to zero or overflows to infinity.
    if exact_signs:
        signs = np.sign(slope)
        interior = np.flatnonzero(signs[:-1] * signs[1:] < 0) + 1
    else:
        with np.errstate(over="ignore", under="ignore"):
            interior = np.flatnonzero(slope[:-1] * slope[1:] < 0) + 1
    interior_index = interior if run_last_index is None else run_last_index[interior]
    indices = [np.zeros(1, np.int64), interior_index.astype(np.int64, copy=False)]
    values = [x[:1], run_values[interior]]
    if keep_last:
        indices.append(np.array([n - 1], np.int64))
        values.append(x[-1:])
    return np.concatenate(indices), np.concatenate(values)


def reversals(series: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    """Reversal points exactly as ``rainflow.reversals`` yields them (indices, values).

    That is: nothing for fewer than two points, only the first point for two.
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    if x.size < 2:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    return turning_points(x, keep_last=x.size >= 3)


def _sequential_reduce(
    values: FloatArray, positions: IntArray, *, check_ties: bool
) -> tuple[list[int], list[int], list[int]]:
    """ASTM stack over reversal points; returns (full starts, full ends, residue) positions.

    Works on any reversal sequence, including one already partly reduced by passes (then
    ``check_ties`` guards the equivalence argument, as in the passes). The residue is the
    points dropped as half-cycle starts followed by what is left on the stack.
    """
    vals = values.tolist()
    pos = positions.tolist()
    stack_v: list[float] = []
    stack_p: list[int] = []
    base = 0  # stack bottom; points below it were dropped as half-cycle starts
    starts: list[int] = []
    ends: list[int] = []
    for v, p in zip(vals, pos, strict=True):
        stack_v.append(v)
        stack_p.append(p)
        while len(stack_v) - base >= 3:
            newer = abs(stack_v[-1] - stack_v[-2])
            older = abs(stack_v[-2] - stack_v[-3])
            if check_ties and newer == older and stack_v[-1] != stack_v[-3]:
                raise _RoundingTie
            if newer < older:
                break
            if len(stack_v) - base == 3:
                base += 1
            else:
                starts.append(stack_p[-3])
                ends.append(stack_p[-2])
                del stack_v[-3:-1]
                del stack_p[-3:-1]
    return starts, ends, stack_p


def _pass_reduce(
    values: FloatArray, positions: IntArray
) -> tuple[list[IntArray], list[IntArray], IntArray]:
    """Remove closed cycles pass by pass; raises _RoundingTie when order could matter."""
    v, p = values, positions
    starts: list[IntArray] = []
    ends: list[IntArray] = []
    while v.size >= 4:
        if v.size < _SEQUENTIAL_BELOW_POINTS:
            break
        ranges = np.abs(np.diff(v))
        equal_neighbours = np.flatnonzero(ranges[1:] == ranges[:-1])
        if equal_neighbours.size and np.any(v[equal_neighbours] != v[equal_neighbours + 2]):
            raise _RoundingTie
        inner = ranges[1:-1]
        closed = np.flatnonzero((inner < ranges[:-2]) & (inner <= ranges[2:])) + 1
        if closed.size == 0:
            return starts, ends, p
        starts.append(p[closed])
        ends.append(p[closed + 1])
        keep = np.ones(v.size, dtype=bool)
        keep[closed] = False
        keep[closed + 1] = False
        removed_share = 2 * closed.size / v.size
        v = v[keep]
        p = p[keep]
        if removed_share < _MIN_PASS_REMOVAL_SHARE:
            break
    seq_starts, seq_ends, residue = _sequential_reduce(v, p, check_ties=True)
    starts.append(np.asarray(seq_starts, dtype=np.int64))
    ends.append(np.asarray(seq_ends, dtype=np.int64))
    return starts, ends, np.asarray(residue, dtype=np.int64)


def reduce_reversals(values: FloatArray) -> tuple[IntArray, IntArray, IntArray]:
    """Closed cycles and residue of a reversal sequence, as positions into ``values``.

    Returns ``(full_start, full_end, residue)``: full cycle ``j`` runs from
    ``values[full_start[j]]`` to ``values[full_end[j]]``; ``residue`` lists, in order, the
    points left over, whose consecutive ranges are the half cycles.
    """
    positions = np.arange(values.size, dtype=np.int64)
    try:
        starts, ends, residue = _pass_reduce(values, positions)
        if not starts:
            return np.empty(0, np.int64), np.empty(0, np.int64), residue
        return np.concatenate(starts), np.concatenate(ends), residue
    except _RoundingTie:
        seq_starts, seq_ends, seq_residue = _sequential_reduce(values, positions, check_ties=False)
        return (
            np.asarray(seq_starts, dtype=np.int64),
            np.asarray(seq_ends, dtype=np.int64),
            np.asarray(seq_residue, dtype=np.int64),
        )


def extract_cycles(series: npt.ArrayLike) -> Cycles:
    """All full and half cycles of ``series``, the same ones ``rainflow.extract_cycles`` yields.

    Ranges are ``abs(x1 - x2)`` and means ``0.5 * (x1 + x2)`` of the two reversal points, as in
    the reference; the order differs (here: by start index).
    """
    indices, values = reversals(series)
    full_start, full_end, residue = reduce_reversals(values)
    half_start, half_end = residue[:-1], residue[1:]
    start = np.concatenate((full_start, half_start))
    end = np.concatenate((full_end, half_end))
    count = np.concatenate((np.ones(full_start.size), np.full(half_start.size, 0.5)))
    # Every reversal starts at most one cycle, so ordering by start needs no sort.
    slot = np.full(values.size, -1, dtype=np.int64)
    slot[start] = np.arange(start.size)
    order = slot[slot >= 0]
    start, end, count = start[order], end[order], count[order]
    x1, x2 = values[start], values[end]
    return Cycles(
        range=np.abs(x1 - x2),
        mean=0.5 * (x1 + x2),
        count=count,
        i_start=indices[start],
        i_end=indices[end],
    )


@dataclass
class DepthHistogram:
    """Cycle counts by depth in equal bins; depths at or above the top edge go to the last bin."""

    bin_width: float = 10.0
    n_bins: int = 10
    min_depth: float = 0.0
    full: list[int] = field(default_factory=list)
    below_min_depth: int = 0

    def __post_init__(self) -> None:
        if not self.full:
            self.full = [0] * self.n_bins

    def bin_counts(self, depths: FloatArray) -> tuple[npt.NDArray[np.int64], int]:
        """Counts per bin of ``depths`` and how many were below the minimum depth."""
        counted = depths[depths >= self.min_depth]
        bins = np.minimum((counted // self.bin_width).astype(np.int64), self.n_bins - 1)
        return np.bincount(bins, minlength=self.n_bins), int(depths.size - counted.size)

    def add_full(self, depths: FloatArray) -> None:
        counts, below = self.bin_counts(depths)
        self.full = [a + int(b) for a, b in zip(self.full, counts, strict=True)]
        self.below_min_depth += below


class RainflowCounter:
    """Incremental rainflow counting: feed a series in pieces, get the one-pass result.

    Full cycles are binned as soon as they close; the residue (converging then diverging
    reversals, plus the latest point, which may still turn out not to be a reversal) is kept
    and becomes the half cycles when asked for. Feeding ``a`` then ``b`` gives the same cycles
    as feeding ``a + b``, because the residue plus new points reduces to the same normal form.
    """

    def __init__(
        self, *, bin_width: float = 10.0, n_bins: int = 10, min_depth: float = 0.0
    ) -> None:
        self.histogram = DepthHistogram(bin_width=bin_width, n_bins=n_bins, min_depth=min_depth)
        self.residue: list[float] = []

    def add(self, values: npt.ArrayLike) -> None:
        new = np.asarray(values, dtype=np.float64).ravel()
        if new.size == 0:
            return
        series = np.concatenate((np.asarray(self.residue, dtype=np.float64), new))
        _, points = turning_points(series, keep_last=True, exact_signs=True)
        full_start, full_end, residue = reduce_reversals(points)
        self.histogram.add_full(np.abs(points[full_start] - points[full_end]))
        self.residue = points[residue].tolist()

    def half_cycle_depths(self) -> FloatArray:
        res = np.asarray(self.residue, dtype=np.float64)
        return np.abs(np.diff(res))

    def to_state(self) -> dict[str, Any]:
        h = self.histogram
        return {
            "bin_width": h.bin_width,
            "n_bins": h.n_bins,
            "min_depth": h.min_depth,
            "full": list(h.full),
            "below_min_depth": h.below_min_depth,
            "residue": list(self.residue),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> RainflowCounter:
        counter = cls(
            bin_width=state["bin_width"], n_bins=state["n_bins"], min_depth=state["min_depth"]
        )
        counter.histogram.full = [int(c) for c in state["full"]]
        counter.histogram.below_min_depth = int(state["below_min_depth"])
        counter.residue = [float(v) for v in state["residue"]]
        return counter
