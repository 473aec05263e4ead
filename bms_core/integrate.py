"""Trapezoidal integration of a sampled signal, split into its positive and negative parts.

Between two samples the signal is taken as a straight line. When it changes sign inside the
interval, the line's zero crossing splits the area, so the charge and discharge totals are
each exact for piecewise-linear signals (and for constant ones, such as a constant-current
discharge, trivially so).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def split_trapezoid(
    start: FloatArray, end: FloatArray, width: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Positive and negative (<= 0) areas of each interval from ``start`` to ``end``."""
    pos_a, pos_b = np.maximum(start, 0.0), np.maximum(end, 0.0)
    neg_a, neg_b = np.minimum(start, 0.0), np.minimum(end, 0.0)
    crossing = (start >= 0.0) != (end >= 0.0)
    positive = 0.5 * (pos_a + pos_b)
    negative = 0.5 * (neg_a + neg_b)
    if crossing.any():
        # A line from a to b (opposite signs) spends |a| / |a - b| of the interval on a's side:
        # the triangle there has area a^2 / (2 |a - b|) per unit width.
        a, b = start[crossing], end[crossing]
        span = 2.0 * np.abs(a - b)
        positive[crossing] = (pos_a[crossing] ** 2 + pos_b[crossing] ** 2) / span
        negative[crossing] = -(neg_a[crossing] ** 2 + neg_b[crossing] ** 2) / span
    return positive * width, negative * width


def positive_time(
    start: FloatArray, end: FloatArray, width: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Time each interval's straight line spends above and below zero."""
    crossing = (start >= 0.0) != (end >= 0.0)
    above = np.where(start + end > 0.0, width, 0.0)
    below = np.where(start + end < 0.0, width, 0.0)
    if crossing.any():
        a, b, w = start[crossing], end[crossing], width[crossing]
        share_above = (np.maximum(a, 0.0) + np.maximum(b, 0.0)) / np.abs(a - b)
        above[crossing] = w * share_above
        below[crossing] = w * (1.0 - share_above)
    return above, below


def split_totals(
    start: FloatArray, end: FloatArray, width: FloatArray
) -> tuple[float, float, float, float]:
    """Sums of :func:`split_trapezoid` and :func:`positive_time` without per-interval arrays.

    Returns (positive area, negative area, time above zero, time below zero). Intervals that
    cross zero are rare, so everything is first summed as if none did, then those few are
    replaced by their exact split.
    """
    mid = start + end
    area = 0.5 * mid * width
    above = mid > 0.0
    positive = float(np.maximum(area, 0.0).sum())
    negative = float(area.sum()) - positive
    time_above = float(width[above].sum())
    time_below = float(width[mid < 0.0].sum())
    crossing = np.flatnonzero((start >= 0.0) != (end >= 0.0))
    if crossing.size:
        a, b, w = start[crossing], end[crossing], width[crossing]
        pos, neg = split_trapezoid(a, b, w)
        t_above, t_below = positive_time(a, b, w)
        as_if = area[crossing]
        positive += float(pos.sum()) - float(np.maximum(as_if, 0.0).sum())
        negative += float(neg.sum()) - float(np.minimum(as_if, 0.0).sum())
        time_above += float(t_above.sum()) - float(w[above[crossing]].sum())
        time_below += float(t_below.sum()) - float(w[mid[crossing] < 0.0].sum())
    return positive, negative, time_above, time_below
