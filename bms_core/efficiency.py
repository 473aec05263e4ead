"""Round-trip energy efficiency and self-discharge from field data (Annex VII point 4).

Both come from the stretches between two consecutive full charges (same state at both ends,
no data gap, at least ``closure_min_h`` apart): at each full anchor the running totals of
charge and discharge (Ah, Wh, hours) are marked, and a closure is the difference of two marks.

Round-trip energy efficiency (#69). Energy out over energy in at the battery's terminals
between two states of equal SOC (IEC 62933-2-1 sec. 6.2.3 defines the round-trip efficiency
of a storage system this way, over a charge-discharge cycle between equal states). Each
closure's energies are corrected for the current-sensor offset (the offset x the hours spent
charging or discharging, at that direction's mean voltage; see :mod:`bms_core.throughput`);
a gain error cancels in the ratio. The efficiency is the ratio of the sums over the last
:data:`RECENT` closures with at least :data:`MIN_ENERGY_SHARE` of the nominal energy moved
(short closures are dominated by rests and the offset), the first value the same over the
first ones, the fade their difference in percentage points. Its interval combines the
closures' scatter (1.4826 MAD / sqrt n) and the offset's uncertainty. It includes the
battery's standby losses over the closure (self-discharge, the BMS's own draw): what the
terminals see, which is what a user gets back.

Self-discharge (#72, % of capacity per month, and its evolution #73). Between two full
charges the net charge counted is, per hour, r = offset + leakage + (1 - coulombic
efficiency) x charge throughput per hour: what goes in and does not come back. The sensor
offset alone is what the sensor reads while nothing flows: the mean current over rested
samples (``rest_current_a``), whose noise averages out over thousands of samples. Fitting r
against the charge throughput per hour over the closures (least squares, intercept =
offset + leakage) separates the coulombic loss; the leakage is the intercept minus the rest
offset, minus the BMS's own draw where it is known (``bms_consumption_a``: a BMS powered
from the pack behind the current sensor discharges it unseen). It is reported in % of the
rated capacity per 30 days, with the fit's 95 % interval, and null with the reason when there
are fewer than :data:`MIN_CLOSURES` closures or the interval is wider than the value
could be (half-width above :data:`MAX_SELF_DISCHARGE_HALF_WIDTH_PCT_MONTH`). The evolution
is the same fit over the first and the last half of the closures. (The method is the
"charge balance" self-discharge measurement of Zimmerman, J. Power Sources 112 (2002) 190,
applied to field closures.)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from bms_core.options import AnalysisOptions

RECENT = 10
FIRST = 10
MAX_CLOSURES = 200
MIN_ENERGY_SHARE = 0.3
MIN_CLOSURES = 4
MAX_SELF_DISCHARGE_HALF_WIDTH_PCT_MONTH = 3.0
HOURS_PER_MONTH = 720.0
Z95 = 1.959964
NOMINAL_CELL_V = {"LFP": 3.2, "NMC": 3.7}
PLAUSIBLE_EFFICIENCY = (0.5, 1.0)


@dataclass(frozen=True)
class Totals:
    """Running totals of the throughput (:mod:`bms_core.throughput`), or their differences."""

    net_ah: float  # the coulomb counter (all current, no dead band)
    charge_ah: float
    discharge_ah: float
    charge_wh: float
    discharge_wh: float
    charging_h: float
    discharging_h: float

    def minus(self, other: Totals) -> dict[str, float]:
        return {f.name: getattr(self, f.name) - getattr(other, f.name) for f in fields(Totals)}


@dataclass(frozen=True)
class Mark:
    """Running totals at a full anchor."""

    time_s: float
    gaps: int
    totals: Totals


@dataclass(frozen=True)
class EnergyClosure(Totals):
    """What flowed between two full charges."""

    time_s: float = 0.0
    span_h: float = 0.0


@dataclass
class EfficiencyTracker:
    last_mark: Mark | None = None
    closures: list[EnergyClosure] = field(default_factory=list)
    first: list[EnergyClosure] = field(default_factory=list)
    rest_current_sum: float = 0.0
    rest_samples: int = 0

    def add_rest_currents(self, currents: np.ndarray) -> None:
        """Measured currents of rested samples (what the sensor reads when nothing flows)."""
        if currents.size:
            self.rest_current_sum += float(currents.sum())
            self.rest_samples += int(currents.size)

    def rest_offset(self) -> float | None:
        return self.rest_current_sum / self.rest_samples if self.rest_samples >= 1000 else None

    def add_mark(self, mark: Mark, closure_min_h: float) -> None:
        previous, self.last_mark = self.last_mark, mark
        if previous is None or previous.gaps != mark.gaps:
            return
        span_h = (mark.time_s - previous.time_s) / 3600.0
        if span_h < closure_min_h:
            return
        closure = EnergyClosure(
            time_s=mark.time_s, span_h=span_h, **mark.totals.minus(previous.totals)
        )
        self.closures.append(closure)
        del self.closures[:-MAX_CLOSURES]

    # Round-trip efficiency

    def _ratio(
        self, closures: list[EnergyClosure], offset_a: float
    ) -> tuple[float, float, list[float]] | None:
        if not closures:
            return None
        e_in = e_out = 0.0
        ratios = []
        for c in closures:
            c_in, c_out = _corrected(c, offset_a)
            e_in += c_in
            e_out += c_out
            ratios.append(c_out / c_in)
        return e_out / e_in, e_in, ratios

    def efficiency(
        self, o: AnalysisOptions, series_cells: int, offset_a: float | None, offset_sigma_a: float
    ) -> dict[str, Any]:
        nominal_wh = o.rated_capacity_ah * series_cells * NOMINAL_CELL_V[o.chemistry]
        useful = [c for c in self.closures if c.discharge_wh >= MIN_ENERGY_SHARE * nominal_wh]
        out: dict[str, Any] = {
            "pct": None,
            "interval_pct": None,
            "first_pct": None,
            "fade_pct_points": None,
            "closures": len(useful),
            "reason": None,
        }
        if len(useful) < 2:
            out["reason"] = (
                "needs at least two stretches between full charges that move at least "
                f"{100 * MIN_ENERGY_SHARE:g} % of the nominal energy, without a data gap"
            )
            return out
        offset = offset_a or 0.0
        recent = useful[-RECENT:]
        now = self._ratio(recent, offset)
        assert now is not None
        ratio, e_in, ratios = now
        scatter = 1.4826 * float(np.median(np.abs(np.asarray(ratios) - np.median(ratios))))
        scatter /= math.sqrt(len(ratios))
        hours = sum(c.charging_h + c.discharging_h for c in recent)
        mean_v = e_in / max(sum(c.charge_ah for c in recent), 1e-9)
        offset_part = (offset_sigma_a if offset_a is not None else 2 * offset_sigma_a) * hours
        offset_part *= mean_v / e_in
        half = Z95 * math.hypot(scatter, offset_part * ratio)
        if not PLAUSIBLE_EFFICIENCY[0] <= ratio <= PLAUSIBLE_EFFICIENCY[1]:
            # More energy out than in (or almost none) between equal states: the closures are
            # not what they seem (a full anchor that was not full, a history pieced together).
            out["reason"] = (
                f"the stretches between full charges give {100 * ratio:.1f} %, which no battery "
                "does: the full charges do not mark equal states in this history"
            )
            return out
        out.update(pct=100.0 * ratio, interval_pct=[100.0 * (ratio - half), 100.0 * (ratio + half)])
        first = useful[:FIRST]
        if len(useful) >= FIRST + RECENT // 2 and first[-1].time_s < recent[0].time_s:
            then = self._ratio(first, offset)
            assert then is not None
            out["first_pct"] = 100.0 * then[0]
            out["fade_pct_points"] = 100.0 * (then[0] - ratio)
        return out

    # Self-discharge

    def self_discharge(self, o: AnalysisOptions) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pct_per_month": None,
            "interval_pct_per_month": None,
            "first_pct_per_month": None,
            "last_pct_per_month": None,
            "rest_offset_a": self.rest_offset(),
            "bms_consumption_a": o.bms_consumption_a,
            "closures": len(self.closures),
            "reason": None,
        }
        offset = self.rest_offset()
        if offset is None:
            out["reason"] = "too few rested samples to measure the sensor's zero (1000 needed)"
            return out
        fit = _leakage_fit(self.closures)
        if fit is None:
            out["reason"] = (
                f"needs at least {MIN_CLOSURES} stretches between full charges (at least "
                f"{o.closure_min_h:g} h apart, no data gap) with different throughput"
            )
            return out
        intercept, sigma = fit
        draw = o.bms_consumption_a or 0.0
        to_pct = 100.0 * HOURS_PER_MONTH / o.rated_capacity_ah
        value = (intercept - offset - draw) * to_pct
        half = Z95 * sigma * to_pct
        out["interval_pct_per_month"] = [value - half, value + half]
        if half > MAX_SELF_DISCHARGE_HALF_WIDTH_PCT_MONTH:
            out["reason"] = (
                f"the 95 % interval is +-{half:.1f} %/month: more stretches between full "
                "charges, or long rests between them, would narrow it"
            )
            return out
        out["pct_per_month"] = value
        n = len(self.closures)
        if n >= 2 * MIN_CLOSURES:
            halves = (self.closures[: n // 2], self.closures[n // 2 :])
            values = [_leakage_fit(h) for h in halves]
            if all(v is not None for v in values):
                first, last = ((v[0] - offset - draw) * to_pct for v in values if v is not None)
                out["first_pct_per_month"], out["last_pct_per_month"] = first, last
        return out

    def to_state(self) -> dict[str, Any]:
        return {
            "last_mark": None if self.last_mark is None else asdict(self.last_mark),
            "closures": [asdict(c) for c in self.closures],
            "rest_current_sum": self.rest_current_sum,
            "rest_samples": self.rest_samples,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> EfficiencyTracker:
        if state is None:
            return cls()
        mark = state["last_mark"]
        return cls(
            last_mark=None
            if mark is None
            else Mark(mark["time_s"], mark["gaps"], Totals(**mark["totals"])),
            closures=[EnergyClosure(**c) for c in state["closures"]],
            rest_current_sum=state["rest_current_sum"],
            rest_samples=state["rest_samples"],
        )


def _corrected(c: EnergyClosure, offset_a: float) -> tuple[float, float]:
    """Energy in and out with the sensor offset removed, at each direction's mean voltage."""
    v_in = c.charge_wh / c.charge_ah if c.charge_ah else 0.0
    v_out = c.discharge_wh / c.discharge_ah if c.discharge_ah else 0.0
    return (
        c.charge_wh - offset_a * c.charging_h * v_in,
        c.discharge_wh + offset_a * c.discharging_h * v_out,
    )


def _leakage_fit(closures: list[EnergyClosure]) -> tuple[float, float] | None:
    """(intercept, its one-sigma) of net Ah per hour against charge Ah per hour."""
    if len(closures) < MIN_CLOSURES:
        return None
    rate = np.array([c.net_ah / c.span_h for c in closures])
    throughput = np.array([c.charge_ah / c.span_h for c in closures])
    weights = np.array([c.span_h for c in closures])
    design = np.column_stack((np.ones_like(throughput), throughput))
    w = np.sqrt(weights)
    coefficients, *_ = np.linalg.lstsq(design * w[:, None], rate * w, rcond=None)
    residual = rate - design @ coefficients
    dof = max(len(closures) - 2, 1)
    variance = float(np.sum(weights * residual**2) / dof)
    try:
        covariance = variance * np.linalg.inv((design * weights[:, None]).T @ design)
    except np.linalg.LinAlgError:
        return None
    return float(coefficients[0]), math.sqrt(max(float(covariance[0, 0]), 0.0))
