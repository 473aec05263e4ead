"""Small robust statistics used by the estimators and the alerts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

# Scales a median absolute deviation to a standard deviation for normal data.
MAD_TO_SIGMA = 1.4826


def weighted_median(values: Sequence[float], weights: Sequence[float]) -> float:
    """The value at which half the total weight lies on each side (lower one on a tie)."""
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cumulative = np.cumsum(w)
    return float(v[np.searchsorted(cumulative, 0.5 * cumulative[-1])])


def robust_z(
    values: npt.ArrayLike, scale_floor: float
) -> tuple[npt.NDArray[np.float64], float, float]:
    """(z per value, median, scale): distance from the median in robust standard deviations.

    The scale is the MAD-based sigma but never below ``scale_floor``, so a pack of nearly
    identical cells does not turn a negligible difference into a large z.
    """
    x = np.asarray(values, dtype=np.float64)
    median = float(np.median(x))
    scale = max(MAD_TO_SIGMA * float(np.median(np.abs(x - median))), scale_floor)
    return (x - median) / scale, median, scale


def least_squares_slope(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[float, float]:
    """(slope, value at mean x) of the least-squares line through the points."""
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    x_mean, y_mean = xs.mean(), ys.mean()
    spread = float(np.sum((xs - x_mean) ** 2))
    if spread == 0.0:
        return 0.0, float(y_mean)
    return float(np.sum((xs - x_mean) * (ys - y_mean)) / spread), float(y_mean)


def histogram_percentile(counts: dict[int, int], bin_width: float, fraction: float) -> float:
    """The value below which ``fraction`` of the counted samples lie (bin upper edge)."""
    bins = np.array(sorted(counts), dtype=np.int64)
    cumulative = np.cumsum([counts[b] for b in bins.tolist()])
    position = int(np.searchsorted(cumulative, fraction * cumulative[-1]))
    return float((bins[min(position, bins.size - 1)] + 1) * bin_width)


def theil_sen(
    x: npt.ArrayLike, y: npt.ArrayLike, z: float = 1.959964
) -> tuple[float, float, float, float]:
    """(slope, slope low, slope high, intercept): Theil-Sen line with its rank-based interval.

    The slope is the median of the slopes of every pair of points (Theil 1950, Sen 1968); its
    confidence interval takes the order statistics of those slopes at (N -+ z sqrt(Var S)) / 2,
    Var S = n (n - 1) (2 n + 5) / 18 (Kendall's S without ties; Sen, J. Am. Stat. Assoc. 63
    (1968) 1379, eq. 2.6). The intercept is the median of y - slope x.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    i, j = np.triu_indices(xs.size, k=1)
    dx = xs[j] - xs[i]
    ok = dx != 0
    slopes = np.sort((ys[j] - ys[i])[ok] / dx[ok])
    n, m = xs.size, slopes.size
    if m == 0:
        return 0.0, 0.0, 0.0, float(np.median(ys))
    slope = float(np.median(slopes))
    c = z * np.sqrt(n * (n - 1) * (2 * n + 5) / 18.0)
    lower = int(np.clip(np.floor((m - c) / 2.0), 0, m - 1))
    upper = int(np.clip(np.ceil((m + c) / 2.0), 0, m - 1))
    return slope, float(slopes[lower]), float(slopes[upper]), float(np.median(ys - slope * xs))


def isotonic(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The non-decreasing sequence nearest to ``values`` in least squares (pool adjacent
    violators, Barlow et al., *Statistical Inference under Order Restrictions*, 1972)."""
    blocks: list[list[float]] = []  # [mean, count]
    for value in np.asarray(values, dtype=np.float64).tolist():
        blocks.append([value, 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            previous = blocks[-1]
            total = previous[1] + count
            previous[0] = (previous[0] * previous[1] + mean * count) / total
            previous[1] = total
    return np.concatenate([np.full(int(count), mean) for mean, count in blocks])
