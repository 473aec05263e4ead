"""Capacity from the field history: ampere-hours between anchors of known SOC.

Between two anchors, the charge counted (corrected for the current-sensor offset) divided by
the SOC difference is the capacity of the cell that decided the anchors: the highest cell at a
full charge and the lowest one at the bottom, i.e. the cell that limits the pack. Only pairs
far enough apart in SOC (``capacity_min_delta_soc_pct``), close enough in time
(``capacity_max_pair_h``: an offset error grows with time) and without a gap between them are
used. Each new anchor is paired with the one earlier anchor that gives the most precise
estimate, and the estimate is the weighted median of the most recent pairs, each weighted by
its inverse variance (the SOC errors of both anchors and the offset's contribution).

Current-sensor offset: between two full charges the net charge must be zero, so the net
ampere-hours counted between them divided by the hours between them is the apparent offset
(sensor offset plus self-discharge and coulombic loss). Every pair is corrected with the
time-weighted median of the recent closures; without any closure, no correction is made and a
larger offset uncertainty is assumed (pairs spanning many hours then weigh less).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from bms_core.anchors import Anchor
from bms_core.options import AnalysisOptions
from bms_core.stats import weighted_median

MAX_ANCHORS = 200
MAX_PAIRS = 200
MAX_CLOSURES = 30
RECENT_CLOSURES = 10
# Offset uncertainty as a fraction of 1 C: after closures (they agree to a few 0.01 % C in
# practice) and without them (a typical hall sensor's offset spec).
OFFSET_SIGMA_C_MEASURED = 0.0005
OFFSET_SIGMA_C_ASSUMED = 0.002
# A pair implying a capacity outside this range of the rated one is a mis-detected anchor,
# not a battery: no LFP pack gains half its rating, and below a fifth it is not in service.
PLAUSIBLE_CAPACITY = (0.2, 1.5)


@dataclass(frozen=True)
class Pair:
    time_s: float  # the later anchor
    delta_ah: float  # counter at the later anchor minus at the earlier one
    span_h: float
    delta_soc_pct: float
    sigma_soc_pct: float  # combined one-sigma SOC error of the two anchors
    kinds: str  # e.g. "full->rest_low"

    def capacity(self, offset_a: float) -> float:
        return (self.delta_ah - offset_a * self.span_h) / (self.delta_soc_pct / 100.0)

    def relative_sigma(self, offset_sigma_a: float, rated_ah: float) -> float:
        soc_part = self.sigma_soc_pct / abs(self.delta_soc_pct)
        offset_part = offset_sigma_a * self.span_h / (abs(self.delta_soc_pct) / 100.0 * rated_ah)
        return float(np.hypot(soc_part, offset_part))


@dataclass(frozen=True)
class Closure:
    time_s: float
    rate_a: float
    span_h: float


@dataclass
class CapacityEstimator:
    options: AnalysisOptions
    anchors: list[Anchor] = field(default_factory=list)
    pairs: list[Pair] = field(default_factory=list)
    closures: list[Closure] = field(default_factory=list)

    def add(self, anchor: Anchor) -> None:
        if anchor.kind == "full":
            self._close(anchor)
        pair = self._best_pair(anchor)
        if pair is not None:
            self.pairs.append(pair)
            del self.pairs[:-MAX_PAIRS]
        self.anchors.append(anchor)
        del self.anchors[:-MAX_ANCHORS]

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

    def _best_pair(self, anchor: Anchor) -> Pair | None:
        o = self.options
        offset_sigma = self._offset_sigma()
        best: tuple[float, Pair] | None = None
        for earlier in reversed(self.anchors):
            span_h = (anchor.time_s - earlier.time_s) / 3600.0
            if span_h > o.capacity_max_pair_h:
                break
            delta_soc = anchor.soc_pct - earlier.soc_pct
            if earlier.gaps != anchor.gaps or abs(delta_soc) < o.capacity_min_delta_soc_pct:
                continue
            pair = Pair(
                time_s=anchor.time_s,
                delta_ah=anchor.ah - earlier.ah,
                span_h=span_h,
                delta_soc_pct=delta_soc,
                sigma_soc_pct=float(np.hypot(anchor.sigma_pct, earlier.sigma_pct)),
                kinds=f"{earlier.kind}->{anchor.kind}",
            )
            sigma = pair.relative_sigma(offset_sigma, o.rated_capacity_ah)
            if best is None or sigma < best[0]:
                best = (sigma, pair)
        return None if best is None else best[1]

    def estimate(self) -> dict[str, Any]:
        """Capacity (Ah) from the recent pairs, or None with the reason."""
        o = self.options
        offset, n_closures = self.offset()
        offset_a = 0.0 if offset is None else offset
        offset_sigma = self._offset_sigma()
        low, high = (f * o.rated_capacity_ah for f in PLAUSIBLE_CAPACITY)
        recent = self.pairs[-o.capacity_recent_pairs :]
        values, weights, used = [], [], []
        for pair in recent:
            capacity = pair.capacity(offset_a)
            if low <= capacity <= high:
                values.append(capacity)
                weights.append(pair.relative_sigma(offset_sigma, o.rated_capacity_ah) ** -2)
                used.append(pair)
        detail: dict[str, Any] = {
            "anchors": len(self.anchors),
            "pairs_total": len(self.pairs),
            "pairs_used": len(used),
            "pairs_implausible": len(recent) - len(used),
            "current_offset_a": offset,
            "offset_closures": n_closures,
        }
        if not values:
            return {"capacity_ah": None, "reason": self._reason(len(recent)), **detail}
        capacity = weighted_median(values, weights)
        spread = weighted_median(np.abs(np.asarray(values) - capacity).tolist(), weights)
        return {
            "capacity_ah": capacity,
            "reason": None,
            **detail,
            "as_of_s": used[-1].time_s,
            "spread_ah": spread,
            "pairs": [
                {
                    "time_s": p.time_s,
                    "kinds": p.kinds,
                    "delta_soc_pct": p.delta_soc_pct,
                    "span_h": p.span_h,
                    "capacity_ah": v,
                    "weight": w / sum(weights),
                }
                for p, v, w in zip(used, values, weights, strict=True)
            ],
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
            "without a data gap in between"
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "anchors": [a.to_state() for a in self.anchors],
            "pairs": [asdict(p) for p in self.pairs],
            "closures": [asdict(c) for c in self.closures],
        }

    @classmethod
    def from_state(cls, options: AnalysisOptions, state: dict[str, Any]) -> CapacityEstimator:
        return cls(
            options=options,
            anchors=[Anchor.from_state(a) for a in state["anchors"]],
            pairs=[Pair(**p) for p in state["pairs"]],
            closures=[Closure(**c) for c in state["closures"]],
        )
