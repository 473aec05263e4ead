"""Early warnings from the analysis, each naming only the cells it is about.

Cell alerts compare a cell with its peers using robust statistics: the median of the pack and
the median absolute deviation (MAD) as spread, never below a floor, so a healthy pack with
ordinary cell-to-cell scatter raises none. A cell is flagged only when it is both far from
its peers in those robust units (``alert_robust_z``) and materially so in physical units (the
``alert_*`` thresholds of :class:`bms_core.options.AnalysisOptions`). Every alert's evidence
names what was measured and the thresholds it was compared against.

Source: robust z-scores (median and MAD x 1.4826; Rousseeuw and Croux, J. Am. Stat. Assoc. 88
(1993) 1273; Iglewicz and Hoaglin's outlier rule, 1993, with 4 instead of 3.5 sigma to keep a
year of daily evaluations on a healthy pack silent).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bms_core.cellcapacity import CellCapacity
from bms_core.cellstats import CellStats
from bms_core.options import AnalysisOptions
from bms_core.resistance import ResistanceTracker
from bms_core.stats import least_squares_slope, robust_z

RECENT_DAYS = 7
MIN_DAYS = 3
# Spread floors (robust sigma never below these): the scatter a healthy pack shows anyway.
RESISTANCE_SLOPE_FLOOR_PCT = 1.0
RESISTANCE_RATIO_FLOOR = 0.03
LOAD_DEVIATION_FLOOR_MV = 2.0
DRIFT_FLOOR_MV_30D = 1.0
TEMPERATURE_FLOOR_C = 0.5
# Cell-to-cell capacity scatter of a healthy pack (one sigma, relative): about 1 % for cells of
# one production lot (Baumhoefer et al., J. Power Sources 247 (2014) 332; Rumpf et al.,
# J. Energy Storage 14 (2017) 224 found 0.5-1.5 %).
CAPACITY_RATIO_FLOOR = 0.01


def _alert(
    kind: str, cell: int | None, severity: str, message: str, evidence: dict[str, Any]
) -> dict[str, Any]:
    return {
        "kind": kind,
        "cell": cell,
        "severity": severity,
        "message": message,
        "evidence": evidence,
    }


def capacity_cell_alerts(tracker: CellCapacity, o: AnalysisOptions) -> list[dict[str, Any]]:
    """Cells with clearly less capacity than their peers (rests low on the curve)."""
    relative = tracker.relative()
    if relative is None:
        return []
    z, median, scale = robust_z(relative, CAPACITY_RATIO_FLOOR)
    limit = 1.0 - o.alert_capacity_low_pct / 100.0
    alerts = []
    for k, ratio in enumerate(relative):
        if z[k] < -o.alert_robust_z and ratio / median < limit:
            alerts.append(
                _alert(
                    "capacity_low",
                    k + 1,
                    "critical" if ratio / median < 0.85 else "warning",
                    f"cell {k + 1} has {100 * (1 - ratio / median):.1f} % less capacity than the "
                    "median cell (it empties first and limits the pack)",
                    {
                        "capacity_relative_to_median": ratio,
                        "peer_median": median,
                        "robust_sigma": scale,
                        "robust_z": float(z[k]),
                        "readings": len(tracker.readings),
                        "threshold": {
                            "relative_below": limit,
                            "robust_z_below": -o.alert_robust_z,
                        },
                    },
                )
            )
    return alerts


def resistance_alerts(tracker: ResistanceTracker, o: AnalysisOptions) -> list[dict[str, Any]]:
    relative = tracker.relative_slopes(o.alert_window_days)
    if relative is None:
        return []
    slopes, levels = relative
    alerts = []
    z_slope, median_slope, scale_slope = robust_z(slopes, RESISTANCE_SLOPE_FLOOR_PCT)
    z_level, median_level, scale_level = robust_z(levels, RESISTANCE_RATIO_FLOOR)
    for k in range(len(slopes)):
        excess = slopes[k] - median_slope
        if z_slope[k] > o.alert_robust_z and excess > o.alert_resistance_slope_pct_30d:
            alerts.append(
                _alert(
                    "resistance_rising",
                    k + 1,
                    "warning",
                    f"cell {k + 1} resistance is rising {excess:.1f} % per 30 days faster than "
                    "its peers",
                    {
                        "slope_pct_per_30d": slopes[k],
                        "peer_median_slope_pct_per_30d": median_slope,
                        "robust_sigma_pct_per_30d": scale_slope,
                        "robust_z": float(z_slope[k]),
                        "threshold": {
                            "excess_pct_per_30d_above": o.alert_resistance_slope_pct_30d,
                            "robust_z_above": o.alert_robust_z,
                        },
                    },
                )
            )
        if z_level[k] > o.alert_robust_z and levels[k] >= o.alert_resistance_ratio:
            alerts.append(
                _alert(
                    "resistance_high",
                    k + 1,
                    "critical" if levels[k] >= 1.5 else "warning",
                    f"cell {k + 1} resistance is {100 * (levels[k] - 1):.0f} % above the median cell",
                    {
                        "ratio_to_median_cell": levels[k],
                        "peer_median_ratio": median_level,
                        "robust_sigma": scale_level,
                        "robust_z": float(z_level[k]),
                        "threshold": {
                            "ratio_at_least": o.alert_resistance_ratio,
                            "robust_z_above": o.alert_robust_z,
                        },
                    },
                )
            )
    return alerts


def _daily_series(
    stats: CellStats, key: str, window_days: float
) -> tuple[np.ndarray, np.ndarray] | None:
    rows = [(d.day, d.means()[key]) for d in stats.days]
    rows = [(day, values) for day, values in rows if values is not None]
    if len(rows) < MIN_DAYS:
        return None
    last = rows[-1][0]
    rows = [(day, values) for day, values in rows if day > last - window_days]
    if len(rows) < MIN_DAYS:
        return None
    return np.array([r[0] for r in rows], dtype=np.float64), np.array([r[1] for r in rows])


def load_alerts(stats: CellStats, o: AnalysisOptions) -> list[dict[str, Any]]:
    """Cells that sag under discharge load more than their peers, or increasingly so."""
    series = _daily_series(stats, "load_dev_mv", o.alert_window_days)
    if series is None:
        return []
    days, load_dev = series
    alerts = []
    recent = days > days[-1] - RECENT_DAYS
    level = np.median(load_dev[recent], axis=0)
    z_level, median_level, scale_level = robust_z(level, LOAD_DEVIATION_FLOOR_MV)
    slopes = np.array(
        [30.0 * least_squares_slope(days, load_dev[:, k])[0] for k in range(load_dev.shape[1])]
    )
    z_slope, median_slope, scale_slope = robust_z(slopes, DRIFT_FLOOR_MV_30D)
    for k in range(level.size):
        below = level[k] - median_level
        if z_level[k] < -o.alert_robust_z and below < -o.alert_low_under_load_mv:
            alerts.append(
                _alert(
                    "low_under_load",
                    k + 1,
                    "warning",
                    f"cell {k + 1} sits {-below:.0f} mV below its peers under discharge load",
                    {
                        "deviation_mv": float(level[k]),
                        "peer_median_deviation_mv": median_level,
                        "robust_sigma_mv": scale_level,
                        "robust_z": float(z_level[k]),
                        "threshold": {
                            "below_peers_mv_more_than": o.alert_low_under_load_mv,
                            "robust_z_below": -o.alert_robust_z,
                        },
                    },
                )
            )
        drift = slopes[k] - median_slope
        if z_slope[k] < -o.alert_robust_z and drift < -o.alert_drift_mv_30d:
            alerts.append(
                _alert(
                    "drifting_low_under_load",
                    k + 1,
                    "warning",
                    f"cell {k + 1} is drifting low under load: {-drift:.1f} mV per 30 days "
                    "relative to its peers",
                    {
                        "slope_mv_per_30d": float(slopes[k]),
                        "peer_median_slope_mv_per_30d": median_slope,
                        "robust_sigma_mv_per_30d": scale_slope,
                        "robust_z": float(z_slope[k]),
                        "threshold": {
                            "drift_mv_per_30d_more_than": o.alert_drift_mv_30d,
                            "robust_z_below": -o.alert_robust_z,
                        },
                    },
                )
            )
    return alerts


def temperature_alerts(stats: CellStats, o: AnalysisOptions) -> list[dict[str, Any]]:
    alerts = []
    spread = stats.temp_spread.summary()
    if spread is not None and spread["p95"] > o.alert_temp_spread_c:
        alerts.append(
            _alert(
                "temperature_spread",
                None,
                "warning",
                f"cell temperatures spread by {spread['p95']:.1f} degC (95th percentile)",
                {"spread_c": spread},
            )
        )
    series = _daily_series(stats, "temp_dev_c", RECENT_DAYS)
    if series is not None:
        _, temp_dev = series
        level = np.median(temp_dev, axis=0)
        z, median, scale = robust_z(level, TEMPERATURE_FLOOR_C)
        for k in range(level.size):
            if z[k] > o.alert_robust_z and level[k] - median > o.alert_hot_cell_c:
                alerts.append(
                    _alert(
                        "hot_cell",
                        k + 1,
                        "warning",
                        f"cell {k + 1} runs {level[k] - median:.1f} degC warmer than its peers",
                        {
                            "deviation_c": float(level[k]),
                            "peer_median_deviation_c": median,
                            "robust_sigma_c": scale,
                            "robust_z": float(z[k]),
                            "threshold": {
                                "warmer_c_than": o.alert_hot_cell_c,
                                "robust_z_above": o.alert_robust_z,
                            },
                        },
                    )
                )
    return alerts


def event_alerts(report: dict[str, Any], o: AnalysisOptions) -> list[dict[str, Any]]:
    alerts = []
    for kind, key, events_key, limit, word in (
        ("deep_discharge", "deep_discharge_events", "deep_discharge", o.min_cell_v, "below"),
        ("overvoltage", "overvoltage_events", "overvoltage", o.max_cell_v, "above"),
    ):
        count = report[key]
        if not count:
            continue
        events = report["events"][events_key]
        cells = {e["cell"] for e in events}
        cell = cells.pop() if len(cells) == 1 else None
        who = f"cell {cell}" if cell is not None else "the pack"
        alerts.append(
            _alert(
                kind,
                cell,
                "critical" if kind == "deep_discharge" else "warning",
                f"{count} excursion(s) of {who} {word} {limit:g} V per cell",
                {"events": count, "latest": events[-1] if events else None},
            )
        )
    for kind, key, word, limit in (
        ("charging_in_cold", "time_charging_below_low_temp_min", "below", o.low_temp_c),
        ("charging_in_heat", "time_charging_above_high_temp_min", "above", o.high_temp_c),
    ):
        minutes = report[key]
        if minutes:
            alerts.append(
                _alert(
                    kind,
                    None,
                    "warning",
                    f"{minutes:.0f} min of charging with a cell {word} {limit:g} degC",
                    {"minutes": minutes},
                )
            )
    return alerts


def capacity_alerts(report: dict[str, Any]) -> list[dict[str, Any]]:
    retention = report["capacity_retention_pct"]
    if retention is None or retention >= 80.0:
        return []
    return [
        _alert(
            "capacity_fade",
            None,
            "warning",
            f"capacity is {retention:.0f} % of rated",
            {"capacity_ah": report["capacity_ah"], "capacity_retention_pct": retention},
        )
    ]
