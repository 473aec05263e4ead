"""Anchors: moments where the voltage says what the SOC is, independently of coulomb counting.

Three kinds, from most to least reliable:

- ``full``: the charge voltage is reached (highest cell at or above ``full_cell_v``) while the
  charging current has tapered below the tail current. That is the end of a CV charge: 100 %.
  After one, the next needs the highest cell to have dropped below ``full_rearm_cell_v`` first,
  so one long CV phase is one anchor.
- ``cutoff``: the lowest cell falls to ``empty_cell_v`` while discharging at a light load. At
  the bottom of the LFP curve the voltage is so steep that the load's IR drop moves the SOC
  reading by well under 1 %.
- ``rest_low`` / ``rest_high``: after ``rest_min_s`` under the rest current, the rested voltage
  on a knee of the OCV curve (lowest cell below the low knee, or highest cell above the high
  knee) gives the SOC through the OCV table. On the flat middle it does not, and no anchor is
  made. The rest is read at its last sample, when it is most relaxed.

Each anchor carries a one-sigma SOC uncertainty from the slope of the OCV curve at its voltage
(see :meth:`bms_core.ocv.OcvCurve.soc_sigma`); the capacity estimate weights pairs with it.
The voltage uncertainty behind it depends on where the curve comes from. A generic table
stands for many products: real LFP cells lie 10-30 mV off it around 10 % SOC and up to
170 mV off at the very bottom (compare the OCV curves of LFP cells from different makers in
Prada et al., J. Electrochem. Soc. 160 (2013) A616 and Dubarry et al., J. Power Sources 196
(2011) 10328), so a reading on a generic table gets the larger sigma; a maker's curve passed
as ``ocv_table`` or the curve the pack taught itself (see :mod:`bms_core.capacity`) the
smaller one. The full anchor needs no table at all: it is the end of a CV charge.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.block import Block
from bms_core.latch import last_true_index, latch, previous
from bms_core.ocv import OcvCurve
from bms_core.options import AnalysisOptions

# One-sigma SOC error of a full-charge anchor: the cell is within a fraction of a percent of
# full when the current has tapered to C/20 at the charge voltage.
FULL_SIGMA_PCT = 0.5
# Voltage uncertainty of a rested reading against the pack's own curve (a maker's table):
# hysteresis and incomplete relaxation. The top knee relaxes slowest.
REST_LOW_SIGMA_V, REST_LOW_FLOOR_PCT = 0.015, 0.3
REST_HIGH_SIGMA_V, REST_HIGH_FLOOR_PCT = 0.030, 0.5
# Under load the voltage also carries polarisation, and the table's very bottom is the part
# that differs most between cell types. The floor: the LFP knee falls from 3.0 V to 2.5 V
# within about 1 % SOC, so a light-load cut-off sits within +-1 % (95 %) of empty.
CUTOFF_SIGMA_V, CUTOFF_FLOOR_PCT = 0.050, 0.5
# Against a generic table, add the spread of real cells around it (one sigma).
GENERIC_TABLE_SIGMA_V = {"rest_low": 0.030, "rest_high": 0.030, "cutoff": 0.090}


@dataclass(frozen=True)
class Anchor:
    time_s: float
    ah: float  # coulomb counter at the anchor
    soc_pct: float
    sigma_pct: float
    kind: str
    cell: int | None  # 1-based cell whose voltage decided it; None without cell columns
    volts: float
    gaps: int  # gaps seen up to this sample; a pair across a gap is not used
    index: int = -1  # sample in the batch from which it applies (-1: before the batch)
    temp_c: float | None = None  # mean of the hottest and coldest reading at the anchor
    soc_source: str = "table"  # "charge" (full), "table" (OCV table) or "learned" (own curve)
    # Every cell's rested voltage (rest anchors only; not kept in the state).
    cells_v: tuple[float, ...] = ()

    def to_state(self) -> dict[str, Any]:
        out = asdict(self)
        del out["index"], out["cells_v"]
        return out

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Anchor:
        return cls(**state)


@dataclass
class RestPoint:
    """The latest sample of a rest that is still going on at the end of a batch."""

    time_s: float
    ah: float
    v_lo: float
    v_hi: float
    lo_cell: int | None
    hi_cell: int | None
    gaps: int
    temp_c: float | None = None
    cells_v: tuple[float, ...] = ()


@dataclass
class AnchorDetector:
    options: AnalysisOptions
    full_armed: bool = True
    cutoff_armed: bool = True
    in_rest: bool = False
    rest_start_s: float | None = None
    rest_last: RestPoint | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: {
            "full": 0,
            "cutoff": 0,
            "rest_low": 0,
            "rest_high": 0,
            "rest_flat": 0,
        }
    )

    def __post_init__(self) -> None:
        self._ocv: OcvCurve = self.options.ocv()
        self._generic = self.options.ocv_table_is_generic

    @property
    def ocv(self) -> OcvCurve:
        """The OCV table the anchors are read on."""
        return self._ocv

    def _sigma_v(self, kind: str, own_curve_sigma_v: float) -> float:
        if not self._generic:
            return own_curve_sigma_v
        return float(np.hypot(own_curve_sigma_v, GENERIC_TABLE_SIGMA_V[kind]))

    def detect(
        self, block: Block, counter_ah: npt.NDArray[np.float64], gaps: npt.NDArray[np.int64]
    ) -> list[Anchor]:
        """Anchors in this batch in time order; ``gaps`` is the global gap count per sample."""
        found = self._rests(block, counter_ah, gaps)
        found += self._full_charges(block, counter_ah, gaps)
        found += self._cutoffs(block, counter_ah, gaps)
        found.sort(key=lambda a: a.index)
        for anchor in found:
            self.counts[anchor.kind] += 1
        return found

    def provisional(self) -> Anchor | None:
        """The anchor the ongoing rest would give if it ended now (for a report)."""
        if not self.in_rest or self.rest_last is None or self.rest_start_s is None:
            return None
        if self.rest_last.time_s - self.rest_start_s < self.options.rest_min_s:
            return None
        return self._rest_anchor(self.rest_last, index=-1)

    def _full_charges(
        self, block: Block, counter_ah: npt.NDArray[np.float64], gaps: npt.NDArray[np.int64]
    ) -> list[Anchor]:
        o = self.options
        current = block.current_a
        full = (current > 0.0) & (current < o.tail_current) & (block.v_hi >= o.full_cell_v)
        armed = latch(block.v_hi < o.full_rearm_cell_v, full, self.full_armed)
        hits = np.flatnonzero(full & previous(armed, self.full_armed))
        self.full_armed = bool(armed[-1])
        return [
            Anchor(
                time_s=float(block.time_s[k]),
                ah=float(counter_ah[k]),
                soc_pct=100.0,
                sigma_pct=FULL_SIGMA_PCT,
                kind="full",
                cell=block.extreme_cell(k, lowest=False),
                volts=float(block.v_hi[k]),
                gaps=int(gaps[k]),
                index=int(k),
                temp_c=_temperature_at(block, k),
                soc_source="charge",
            )
            for k in hits.tolist()
        ]

    def _cutoffs(
        self, block: Block, counter_ah: npt.NDArray[np.float64], gaps: npt.NDArray[np.int64]
    ) -> list[Anchor]:
        o = self.options
        current = block.current_a
        empty = (current < 0.0) & (-current <= o.light_load) & (block.v_lo <= o.empty_cell_v)
        armed = latch(block.v_lo > self._ocv.low_knee_v, empty, self.cutoff_armed)
        hits = np.flatnonzero(empty & previous(armed, self.cutoff_armed))
        self.cutoff_armed = bool(armed[-1])
        anchors = []
        for k in hits.tolist():
            volts = float(block.v_lo[k])
            anchors.append(
                Anchor(
                    time_s=float(block.time_s[k]),
                    ah=float(counter_ah[k]),
                    soc_pct=self._ocv.soc_from_voltage(volts),
                    sigma_pct=self._ocv.soc_sigma(
                        volts, self._sigma_v("cutoff", CUTOFF_SIGMA_V), CUTOFF_FLOOR_PCT
                    ),
                    kind="cutoff",
                    cell=block.extreme_cell(k, lowest=True),
                    volts=volts,
                    gaps=int(gaps[k]),
                    index=int(k),
                    temp_c=_temperature_at(block, k),
                )
            )
        return anchors

    def _rests(
        self, block: Block, counter_ah: npt.NDArray[np.float64], gaps: npt.NDArray[np.int64]
    ) -> list[Anchor]:
        o = self.options
        t = block.time_s
        rest = np.abs(block.current_a) <= o.rest_current
        continues = rest & previous(rest, self.in_rest) & ~block.gap
        starts = rest & ~continues
        first = last_true_index(starts)
        carried_start = np.nan if self.rest_start_s is None else self.rest_start_s
        start_s = np.where(first >= 0, t[np.maximum(first, 0)], carried_start)

        anchors: list[Anchor] = []
        if self.in_rest and not continues[0] and self.rest_last is not None:
            anchors += self._finish_rest(self.rest_last, self.rest_start_s, index=-1)
        ends = np.flatnonzero(rest[:-1] & ~continues[1:])
        long_enough = ends[t[ends] - start_s[ends] >= o.rest_min_s]
        for k in long_enough.tolist():
            anchors += self._finish_rest(
                self._rest_point(block, counter_ah, gaps, k), None, index=k
            )

        self.in_rest = bool(rest[-1])
        if self.in_rest:
            self.rest_start_s = float(start_s[-1])
            self.rest_last = self._rest_point(block, counter_ah, gaps, block.n - 1)
        else:
            self.rest_start_s = None
            self.rest_last = None
        return anchors

    def _finish_rest(self, point: RestPoint, start_s: float | None, index: int) -> list[Anchor]:
        if start_s is not None and point.time_s - start_s < self.options.rest_min_s:
            return []
        anchor = self._rest_anchor(point, index)
        if anchor is None:
            self.counts["rest_flat"] += 1
            return []
        return [anchor]

    def _rest_anchor(self, point: RestPoint, index: int) -> Anchor | None:
        ocv = self._ocv
        if point.v_lo <= ocv.low_knee_v:
            kind, volts, cell = "rest_low", point.v_lo, point.lo_cell
            sigma = ocv.soc_sigma(
                volts, self._sigma_v("rest_low", REST_LOW_SIGMA_V), REST_LOW_FLOOR_PCT
            )
        elif point.v_hi >= ocv.high_knee_v:
            kind, volts, cell = "rest_high", point.v_hi, point.hi_cell
            sigma = ocv.soc_sigma(
                volts, self._sigma_v("rest_high", REST_HIGH_SIGMA_V), REST_HIGH_FLOOR_PCT
            )
        else:
            return None
        return Anchor(
            time_s=point.time_s,
            ah=point.ah,
            soc_pct=ocv.soc_from_voltage(volts),
            sigma_pct=sigma,
            kind=kind,
            cell=cell,
            volts=volts,
            gaps=point.gaps,
            index=index,
            temp_c=point.temp_c,
            cells_v=point.cells_v,
        )

    @staticmethod
    def _rest_point(
        block: Block, counter_ah: npt.NDArray[np.float64], gaps: npt.NDArray[np.int64], k: int
    ) -> RestPoint:
        return RestPoint(
            time_s=float(block.time_s[k]),
            ah=float(counter_ah[k]),
            v_lo=float(block.v_lo[k]),
            v_hi=float(block.v_hi[k]),
            lo_cell=block.extreme_cell(k, lowest=True),
            hi_cell=block.extreme_cell(k, lowest=False),
            gaps=int(gaps[k]),
            temp_c=_temperature_at(block, k),
            cells_v=tuple(float(c[k]) for c in block.cells),
        )

    def to_state(self) -> dict[str, Any]:
        return {
            "full_armed": self.full_armed,
            "cutoff_armed": self.cutoff_armed,
            "in_rest": self.in_rest,
            "rest_start_s": self.rest_start_s,
            "rest_last": None if self.rest_last is None else asdict(self.rest_last),
            "counts": dict(self.counts),
        }

    @classmethod
    def from_state(cls, options: AnalysisOptions, state: dict[str, Any]) -> AnchorDetector:
        rest_last = state["rest_last"]
        return cls(
            options=options,
            full_armed=state["full_armed"],
            cutoff_armed=state["cutoff_armed"],
            in_rest=state["in_rest"],
            rest_start_s=state["rest_start_s"],
            rest_last=None
            if rest_last is None
            else RestPoint(
                **{
                    **rest_last,
                    "cells_v": tuple(
                        math.nan if v is None else float(v) for v in rest_last.get("cells_v", ())
                    ),
                }
            ),
            counts=dict(state["counts"]),
        )


def _temperature_at(block: Block, k: int) -> float | None:
    """Mean of the hottest and coldest reading at sample k (None without any reading)."""
    if block.temp_hi is None or block.temp_lo is None:
        return None
    value = 0.5 * (float(block.temp_hi[k]) + float(block.temp_lo[k]))
    return value if np.isfinite(value) else None
