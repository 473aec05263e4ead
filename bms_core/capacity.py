"""Capacity from the field history: ampere-hours between anchors of known SOC, with its 95 % interval.

Method. Between two anchors (see :mod:`bms_core.anchors`), the charge counted (corrected for
the current-sensor offset) divided by the SOC difference is the capacity of the cell that
decided the anchors: the highest cell at a full charge and the lowest one at the bottom, i.e.
the cell that limits the pack. Only pairs far enough apart in SOC
(``capacity_min_delta_soc_pct``), close enough in time (``capacity_max_pair_h``) and without a
gap between them are used. Each new anchor is paired with the one earlier anchor that gives
the most precise estimate, and the estimate is the inverse-variance weighted median of the
most recent pairs (robust to one mis-detected anchor). This is the "partial coulomb
counting between OCV anchors" capacity estimate (Plett, *Battery Management Systems* vol. 2,
2015, sec. 4.8; Ng et al., Appl. Energy 86 (2009) 1506), here with the anchors of LFP/NMC
field data.

Current-sensor offset: between two full charges the net charge must be zero, so the net
ampere-hours counted between them divided by the hours between them is the apparent offset
(sensor offset plus self-discharge and coulombic loss). Every pair is corrected with the
time-weighted median of the recent closures.

Uncertainty (the 95 % interval, ``interval()``), relative to the estimate, in quadrature:

- anchor SOC: each anchor's one-sigma SOC error from the slope of the OCV curve at its
  voltage (tiny on the steep knees, large on LFP's plateau, larger on a generic table), over
  the SOC difference of the pair. The table's error is shared by every pair that uses it, so
  it is not divided by the number of pairs: the typical (weighted median) pair sigma is used,
  and the pairs' own scatter when it is larger.
- current offset x integration time: the offset's uncertainty (0.05 % of C after closures,
  0.2 % without) times the pair's hours, over the Ah of the pair. Part of the pair sigma.
- current gain: a gain error scales every ampere-hour and so the capacity by the same factor
  (the anchors are voltages and do not depend on it; the offset from closures is a net charge,
  insensitive to gain). It cannot be seen in coulomb counts, so the declared sensor accuracy
  ``current_accuracy_pct`` (95 %, default 1 %) enters as it is.
- temperature: the equilibrium capacity changes little with temperature (about 0.03 %/K,
  entropic and lithium-inventory effects), counted from 25 degC.

When the interval is wider than +-3 % of the estimate (:data:`MAX_HALF_WIDTH_PCT`), the value
is withheld (``capacity_ah`` null) and the reason says what data would narrow it.

Which capacity. The anchors are equilibrium states (a rest, or the end of a CV charge at the
tail current), so a pair measures the capacity between equilibrium states, at the temperature
of its anchors: the low-rate capacity. A rated capacity is defined by a C/5 discharge at
25 degC to the cut-off (IEC 62620 sec. 6.3.1 for industrial lithium cells), which stops
earlier under load: the rated-basis value removes ``capacity_rate_correction_pct``
(LFP 2 %, NMC 1.5 %, +-1 % at 95 %; the 1-3 % found between C/20 and C/5 capacity tests of LFP
cells, e.g. Omar et al., Appl. Energy 113 (2014) 1575).

Self-calibration. A generic OCV table can be tens of millivolts off a given cell at the low
knee, and every rest-anchored pair then shares its bias. The pack teaches itself instead:
a full charge and a cut-off (neither needs the table) within ``capacity_max_pair_h`` give a
capacity, and every rest anchor between them then has a SOC known by coulomb counting from
the full charge. Those (rested voltage, SOC) points are the pack's own OCV curve on the knees;
later rests read their SOC from it (sigma of the learned points), and earlier anchors are
re-read and their pairs rebuilt. Only the most recent points are used, so the curve follows
ageing. A maker's curve can still be passed as ``ocv_table``.

Trend. Capacity retention over time is the Theil-Sen slope (median of pairwise slopes, robust
to up to 29 % bad points; Sen, J. Am. Stat. Assoc. 63 (1968) 1379) of the pair capacities
against time, with its rank-based 95 % interval, per year and per 100 equivalent full cycles
(at the history's mean cycling rate).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bms_core.anchors import Anchor
from bms_core.options import AnalysisOptions
from bms_core.stats import isotonic, theil_sen, weighted_median

MAX_ANCHORS = 200
MAX_PAIRS = 1000
MAX_CLOSURES = 30
RECENT_CLOSURES = 10
# Offset uncertainty as a fraction of 1 C: after closures (they agree to a few 0.01 % C in
# practice) and without them (a typical hall sensor's offset spec).
OFFSET_SIGMA_C_MEASURED = 0.0005
OFFSET_SIGMA_C_ASSUMED = 0.002
# A pair implying a capacity outside this range of the rated one is a mis-detected anchor,
# not a battery: no LFP pack gains half its rating, and below a fifth it is not in service.
PLAUSIBLE_CAPACITY = (0.2, 1.5)
Z95 = 1.959964
# Above this 95 % half-width (% of the estimate) the capacity is withheld.
MAX_HALF_WIDTH_PCT = 3.0
# Equilibrium capacity change with temperature, % per K away from 25 degC (one sigma).
TEMPERATURE_SIGMA_PCT_PER_K = 0.03
REFERENCE_TEMP_C = 25.0
# 95 % half-width of the rate correction to the rated C/5 definition.
RATE_CORRECTION_HALF_WIDTH_PCT = 1.0
# Self-calibration: learned points kept, the newest used, their sigma floor and the voltage
# margin outside the learned range where they still apply.
MAX_LEARNED = 60
RECENT_LEARNED = 20
LEARNED_FLOOR_PCT = 0.5
LEARNED_MARGIN_V = 0.005
# Trend: pairs precise to this (one sigma, relative) and spanning this many days.
TREND_MAX_SIGMA = 0.015
TREND_MIN_PAIRS = 6
TREND_MIN_DAYS = 14.0
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class Pair:
    time_s: float  # the later anchor
    delta_ah: float  # counter at the later anchor minus at the earlier one
    span_h: float
    delta_soc_pct: float
    sigma_soc_pct: float  # combined one-sigma SOC error of the two anchors
    kinds: str  # e.g. "full->rest_low"
    temp_c: float | None = None  # mean of the two anchors' temperatures
    sources: str = ""  # e.g. "charge->learned": where each anchor's SOC came from

    def capacity(self, offset_a: float) -> float:
        return (self.delta_ah - offset_a * self.span_h) / (self.delta_soc_pct / 100.0)

    def relative_sigma(self, offset_sigma_a: float, rated_ah: float) -> float:
        return float(np.hypot(self.soc_part(), self.offset_part(offset_sigma_a, rated_ah)))

    def soc_part(self) -> float:
        return self.sigma_soc_pct / abs(self.delta_soc_pct)

    def offset_part(self, offset_sigma_a: float, rated_ah: float) -> float:
        return offset_sigma_a * self.span_h / (abs(self.delta_soc_pct) / 100.0 * rated_ah)


@dataclass(frozen=True)
class Closure:
    time_s: float
    rate_a: float
    span_h: float


@dataclass(frozen=True)
class LearnedPoint:
    """A rested voltage whose SOC is known by coulomb counting between table-free anchors."""

    time_s: float
    kind: str  # rest_low / rest_high: which cell's voltage (lowest / highest)
    volts: float
    soc_pct: float
    sigma_pct: float


@dataclass
class CapacityEstimator:
    options: AnalysisOptions
    anchors: list[Anchor] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)
    learned: list[LearnedPoint] = field(default_factory=list)

    def add(self, anchor: Anchor) -> Anchor:
        """Take a new anchor; returns it, re-read on the pack's own curve where one is known."""
        anchor = self._reread(anchor)
        if anchor.kind == "full":
            self._close(anchor)
        pair = self._best_pair(anchor, self.anchors)
        if pair is not None:
            self.pairs.append(pair)
            del self.pairs[:-MAX_PAIRS]
        self.anchors.append(anchor)
        del self.anchors[:-MAX_ANCHORS]
        if anchor.kind in ("full", "cutoff") and self._learn(anchor):
            self._recalibrate()
        return anchor

    # Offset

    def _close(self, anchor: Anchor) -> None:
        previous_full = next((a for a in reversed(self.anchors) if a.kind == "full"), None)
        if previous_full is None or previous_full.gaps != anchor.gaps:
            return
        span_h = (anchor.time_s - previous_full.time_s) / 3600.0
        if span_h < self.options.closure_min_h:
            return
        self.closures.append(
            Closure(
                time_s=anchor.time_s, rate_a=(anchor.ah - previous_full.ah) / span_h, span_h=span_h
            )
        )
        del self.closures[:-MAX_CLOSURES]

    def offset(self) -> tuple[float | None, int]:
        """Apparent current offset (A, added by the sensor) and how many closures support it."""
        recent = self.closures[-RECENT_CLOSURES:]
        if not recent:
            return None, 0
        return weighted_median([c.rate_a for c in recent], [c.span_h for c in recent]), len(recent)

    def _offset_sigma(self) -> float:
        fraction = OFFSET_SIGMA_C_MEASURED if self.closures else OFFSET_SIGMA_C_ASSUMED
        return fraction * self.options.rated_capacity_ah

    # Pairs

    def _best_pair(self, anchor: Anchor, earlier_anchors: list[Anchor]) -> Pair | None:
        o = self.options
        offset_sigma = self._offset_sigma()
        best: tuple[float, Pair] | None = None
        for earlier in reversed(earlier_anchors):
            span_h = (anchor.time_s - earlier.time_s) / 3600.0
            if span_h > o.capacity_max_pair_h:
                break
            delta_soc = anchor.soc_pct - earlier.soc_pct
            if earlier.gaps != anchor.gaps or abs(delta_soc) < o.capacity_min_delta_soc_pct:
                continue
            temps = [t for t in (anchor.temp_c, earlier.temp_c) if t is not None]
            pair = Pair(
                time_s=anchor.time_s,
                delta_ah=anchor.ah - earlier.ah,
                span_h=span_h,
                delta_soc_pct=delta_soc,
                sigma_soc_pct=float(np.hypot(anchor.sigma_pct, earlier.sigma_pct)),
                kinds=f"{earlier.kind}->{anchor.kind}",
                temp_c=sum(temps) / len(temps) if temps else None,
                sources=f"{earlier.soc_source}->{anchor.soc_source}",
            )
            sigma = pair.relative_sigma(offset_sigma, o.rated_capacity_ah)
            if best is None or sigma < best[0]:
                best = (sigma, pair)
        return None if best is None else best[1]

    # Self-calibration

    def _learn(self, anchor: Anchor) -> bool:
        """With a full charge and a cut-off in reach, learn the rests between them."""
        o = self.options
        other_kind = "cutoff" if anchor.kind == "full" else "full"
        partner = None
        for earlier in reversed(self.anchors[:-1]):
            if (anchor.time_s - earlier.time_s) / 3600.0 > o.capacity_max_pair_h:
                break
            if earlier.kind == other_kind and earlier.gaps == anchor.gaps:
                partner = earlier
                break
        if partner is None:
            return False
        offset_a = self.offset()[0] or 0.0
        span_h = (anchor.time_s - partner.time_s) / 3600.0
        delta_soc = anchor.soc_pct - partner.soc_pct
        capacity = (anchor.ah - partner.ah - offset_a * span_h) / (delta_soc / 100.0)
        low, high = (f * o.rated_capacity_ah for f in PLAUSIBLE_CAPACITY)
        if not low <= capacity <= high:
            return False
        sigma = float(np.hypot(anchor.sigma_pct, partner.sigma_pct))
        learned = False
        for rest in self.anchors:
            if not partner.time_s < rest.time_s < anchor.time_s or not rest.kind.startswith("rest"):
                continue
            hours = (rest.time_s - partner.time_s) / 3600.0
            soc = partner.soc_pct + 100.0 * (rest.ah - partner.ah - offset_a * hours) / capacity
            # Nothing rests above a full charge (the BMS balances every cell to it).
            soc = min(soc, 100.0)
            self.learned.append(
                LearnedPoint(rest.time_s, rest.kind, rest.volts, soc, max(sigma, LEARNED_FLOOR_PCT))
            )
            learned = True
        del self.learned[:-MAX_LEARNED]
        return learned

    def learned_curve(self, kind: str) -> tuple[np.ndarray, np.ndarray, float] | None:
        """The learned (volts, SOC) points of one kind, sorted and monotone, and their sigma."""
        points = [p for p in self.learned if p.kind == kind][-RECENT_LEARNED:]
        if not points:
            return None
        volts = np.array([p.volts for p in points])
        soc = np.array([p.soc_pct for p in points])
        order = np.argsort(volts, kind="stable")
        volts, soc = volts[order], isotonic(soc[order])
        return volts, soc, float(np.median([p.sigma_pct for p in points]))

    def _reread(
        self, anchor: Anchor, curves: dict[str, tuple[np.ndarray, np.ndarray, float] | None] | None = None
    ) -> Anchor:
        """A rest anchor's SOC from the learned curve when its voltage lies on it. `curves`
        keeps each kind's curve for a caller re-reading many anchors on unchanged points."""
        if not anchor.kind.startswith("rest"):
            return anchor
        if curves is None:
            curve = self.learned_curve(anchor.kind)
        else:
            if anchor.kind not in curves:
                curves[anchor.kind] = self.learned_curve(anchor.kind)
            curve = curves[anchor.kind]
        if curve is None:
            return anchor
        volts, soc, sigma = curve
        if not volts[0] - LEARNED_MARGIN_V <= anchor.volts <= volts[-1] + LEARNED_MARGIN_V:
            return anchor
        # Between learned points the curve is interpolated; the spread of neighbouring points
        # (noise, hysteresis) adds to the points' own sigma.
        near = np.abs(volts - anchor.volts) <= 2 * LEARNED_MARGIN_V
        scatter = float(np.std(soc[near])) if near.sum() > 1 else 0.0
        return dataclasses.replace(
            anchor,
            soc_pct=float(np.interp(anchor.volts, volts, soc)),
            sigma_pct=float(np.hypot(sigma, scatter)),
            soc_source="learned",
        )

    def _recalibrate(self) -> None:
        """Re-read the stored rest anchors on the learned curve and rebuild their pairs."""
        # One curve per kind for all anchors: the learned points do not change in between, and
        # building a curve (sort, isotonic fit) per anchor dominated a year's analysis.
        curves: dict[str, tuple[np.ndarray, np.ndarray, float] | None] = {}
        reread = [self._reread(a, curves) for a in self.anchors]
        if all(a is b for a, b in zip(reread, self.anchors, strict=True)):
            return
        first = self.anchors[0].time_s if self.anchors else math.inf
        kept = [p for p in self.pairs if p.time_s < first]
        rebuilt = []
        for k, anchor in enumerate(reread):
            pair = self._best_pair(anchor, reread[:k])
            if pair is not None:
                rebuilt.append(pair)
        self.anchors = reread
        self.pairs = (kept + rebuilt)[-MAX_PAIRS:]

    # Estimate

    def estimate(self) -> dict[str, Any]:
        """Capacity (Ah) from the recent pairs with its 95 % interval, or None with the reason.

        ``value_ah`` is the estimate even when its interval is too wide to report it as
        ``capacity_ah``: coulomb counting (SOC) still needs the best value there is.
        """
        o = self.options
        offset, n_closures = self.offset()
        offset_a = 0.0 if offset is None else offset
        offset_sigma = self._offset_sigma()
        low, high = (f * o.rated_capacity_ah for f in PLAUSIBLE_CAPACITY)
        recent = self.pairs[-o.capacity_recent_pairs :]
        values, weights, sigmas, used = [], [], [], []
        for pair in recent:
            capacity = pair.capacity(offset_a)
            if low <= capacity <= high:
                sigma = pair.relative_sigma(offset_sigma, o.rated_capacity_ah)
                values.append(capacity)
                weights.append(sigma**-2)
                sigmas.append(sigma)
                used.append(pair)
        detail: dict[str, Any] = {
            "anchors": len(self.anchors),
            "pairs_total": len(self.pairs),
            "pairs_used": len(used),
            "pairs_implausible": len(recent) - len(used),
            "current_offset_a": offset,
            "offset_closures": n_closures,
            "learned_ocv_points": len(self.learned),
        }
        if not values:
            return {
                "capacity_ah": None,
                "value_ah": None,
                "reason": self._reason(len(recent)),
                **detail,
            }
        capacity = weighted_median(values, weights)
        spread = weighted_median(np.abs(np.asarray(values) - capacity).tolist(), weights)
        uncertainty = self._uncertainty(capacity, used, values, weights, sigmas, spread)
        withheld = uncertainty["half_width_pct"] > MAX_HALF_WIDTH_PCT
        return {
            "capacity_ah": None if withheld else capacity,
            "value_ah": capacity,
            "reason": self._wide_reason(uncertainty, used) if withheld else None,
            **detail,
            "as_of_s": used[-1].time_s,
            "spread_ah": spread,
            "uncertainty": uncertainty,
            "pairs": [
                {
                    "time_s": p.time_s,
                    "kinds": p.kinds,
                    "soc_from": p.sources,
                    "delta_soc_pct": p.delta_soc_pct,
                    "span_h": p.span_h,
                    "temperature_c": p.temp_c,
                    "capacity_ah": v,
                    "sigma_pct": 100.0 * sg,
                    "weight": w / sum(weights),
                }
                for p, v, w, sg in zip(used, values, weights, sigmas, strict=True)
            ],
        }

    def _uncertainty(
        self,
        capacity: float,
        used: list[Pair],
        values: list[float],
        weights: list[float],
        sigmas: list[float],
        spread_ah: float,
    ) -> dict[str, Any]:
        """The 95 % interval and its parts, each in % of the estimate (one sigma)."""
        o = self.options
        offset_sigma = self._offset_sigma()
        rated = o.rated_capacity_ah
        soc_part = weighted_median([p.soc_part() for p in used], weights)
        offset_part = weighted_median([p.offset_part(offset_sigma, rated) for p in used], weights)
        scatter = 1.4826 * spread_ah / capacity if len(used) >= 3 else 0.0
        gain = o.current_accuracy_pct / 100.0 / Z95
        temps = [p.temp_c for p in used if p.temp_c is not None]
        temp_c = float(np.median(temps)) if temps else None
        temperature = (
            TEMPERATURE_SIGMA_PCT_PER_K / 100.0 * abs(temp_c - REFERENCE_TEMP_C)
            if temp_c is not None
            else TEMPERATURE_SIGMA_PCT_PER_K / 100.0 * 10.0
        )
        anchors = max(soc_part, scatter)
        total = math.sqrt(anchors**2 + offset_part**2 + gain**2 + temperature**2)
        half = Z95 * total * capacity
        return {
            "interval_ah": [capacity - half, capacity + half],
            "half_width_pct": 100.0 * Z95 * total,
            "sigma_pct": {
                "anchor_soc": 100.0 * soc_part,
                "pair_scatter": 100.0 * scatter,
                "current_offset_x_time": 100.0 * offset_part,
                "current_gain": 100.0 * gain,
                "temperature": 100.0 * temperature,
            },
            "integration_h_median": float(np.median([p.span_h for p in used])),
            "temperature_c": temp_c,
        }

    def _wide_reason(self, uncertainty: dict[str, Any], used: list[Pair]) -> str:
        parts = uncertainty["sigma_pct"]
        largest = max(parts, key=parts.get)
        half = uncertainty["half_width_pct"]
        advice = {
            "anchor_soc": (
                "the anchors' SOC is uncertain (rests on a flat part of the OCV curve or read "
                "on a generic table): a full charge followed by a discharge to the cut-off "
                f"(lowest cell to {self.options.empty_cell_v:g} V at light load) within "
                f"{self.options.capacity_max_pair_h:g} h would make it knowable - it also "
                "teaches the pack's own OCV curve - or pass the cell maker's curve as ocv_table"
            ),
            "pair_scatter": (
                "the anchor pairs disagree with each other more than their precision: more "
                "full charges and deep discharges would show which ones are right"
            ),
            "current_offset_x_time": (
                "the pairs span many hours, so the current-sensor offset dominates: two full "
                "charges at least a day apart (to measure the offset) or anchors closer in "
                "time would make it knowable"
            ),
            "current_gain": (
                "the declared current-sensor accuracy alone is wider than the limit: a better "
                "sensor (or a calibrated one, declared as current_accuracy_pct) is needed"
            ),
            "temperature": (
                "the anchors were far from 25 degC: anchors at room temperature would make it "
                "knowable"
            ),
        }[largest]
        return (
            f"the 95 % interval is +-{half:.1f} %, wider than +-{MAX_HALF_WIDTH_PCT:g} %: " + advice
        )

    def trend(self, offset_a: float) -> dict[str, Any] | None:
        """Theil-Sen slope of the precise pair capacities against time, with its interval."""
        o = self.options
        offset_sigma = self._offset_sigma()
        low, high = (f * o.rated_capacity_ah for f in PLAUSIBLE_CAPACITY)
        points = [
            (p.time_s / SECONDS_PER_DAY, p.capacity(offset_a))
            for p in self.pairs
            if p.relative_sigma(offset_sigma, o.rated_capacity_ah) <= TREND_MAX_SIGMA
        ]
        points = [(d, c) for d, c in points if low <= c <= high]
        if len(points) < TREND_MIN_PAIRS or points[-1][0] - points[0][0] < TREND_MIN_DAYS:
            return None
        days = np.array([p[0] for p in points])
        values = np.array([p[1] for p in points])
        slope, slope_low, slope_high, intercept = theil_sen(days, values)
        return {
            "pairs": len(points),
            "days": float(days[-1] - days[0]),
            "ah_per_day": slope,
            "ah_per_day_interval": [slope_low, slope_high],
            "capacity_at_last_pair_ah": intercept + slope * float(days[-1]),
        }

    def _reason(self, recent_pairs: int) -> str:
        o = self.options
        if not self.anchors:
            return (
                "no anchor of known SOC: no full charge (charge voltage with tapered current), "
                "no rest on a knee of the OCV curve and no low-voltage cut-off under light load"
            )
        if recent_pairs:
            return "every recent anchor pair implies an implausible capacity (mis-detected anchors)"
        return (
            f"{len(self.anchors)} anchor(s) but no two of them at least "
            f"{o.capacity_min_delta_soc_pct:g} % SOC apart within {o.capacity_max_pair_h:g} h "
            "without a data gap in between: a full charge followed by a discharge to the "
            "cut-off (or to a rest low on the OCV curve) within that time would make it knowable"
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "anchors": [a.to_state() for a in self.anchors],
            "pairs": [asdict(p) for p in self.pairs],
            "closures": [asdict(c) for c in self.closures],
            "learned": [asdict(p) for p in self.learned],
        }

    @classmethod
    def from_state(cls, options: AnalysisOptions, state: dict[str, Any]) -> CapacityEstimator:
        return cls(
            options=options,
            anchors=[Anchor.from_state(a) for a in state["anchors"]],
            pairs=[Pair(**p) for p in state["pairs"]],
            closures=[Closure(**c) for c in state["closures"]],
            learned=[LearnedPoint(**p) for p in state.get("learned", [])],
        )
