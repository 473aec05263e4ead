"""Checks that the data fit the analysis's assumptions, made before a batch is analysed.

A wrong assumption does not make a history unreadable, only silently wrong: a current logged
with discharge positive turns every charge into a discharge (anchors, throughput, time
charging in the cold all go wrong together), and an NMC pack read with LFP voltages sits at
"100 %" and "overvoltage" all day. Both show in the data themselves, so both are checked here
and refused with an error that says which option fixes it.

Current sign. The pack's terminal voltage follows the current through its internal
resistance: V = OCV + R I with I positive when charging, so at a step of current the voltage
moves the same way as the current (dV/dI = R > 0; over one sampling interval the OCV barely
moves). Every pair of consecutive samples no more than ``step_max_dt_s`` apart whose current
differs by at least ``step_min_a`` (C/5) votes with the sign of dV * dI. When at least
:data:`SIGN_MIN_STEPS` such steps have been seen and at least :data:`SIGN_REVERSED_SHARE` of
them say the voltage fell as the current rose, the sign is reversed. The votes accumulate over
batches, and a batch that would tip them is refused before anything of it is analysed. This
is the textbook pulse-resistance relation (e.g. Plett, *Battery Management Systems* vol. 1,
2015, ch. 2, the R0 term of the equivalent-circuit model).

Chemistry. The rested cell voltage of LFP/graphite never exceeds about 3.5 V (the top of its
OCV curve), while NMC/graphite rests above 3.6 V from about 15 % SOC up. Rested samples
accumulate over batches. An LFP pack is refused once more than
:data:`CHEMISTRY_REFUSE_SHARE` of at least :data:`CHEMISTRY_MIN_REST_SAMPLES` rested samples
have even the lowest cell above :data:`LFP_REST_CEILING_V` (no LFP cell can rest there); an
NMC pack once :data:`NMC_MIN_REST_SAMPLES` rested samples never had the highest cell above
:data:`NMC_REST_CEILING_OF_LFP_V` (an NMC pack that was never more than nearly empty at
rest is far more likely an LFP pack).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.columns import CURRENT, History

SIGN_MIN_STEPS = 20
SIGN_REVERSED_SHARE = 0.8
LFP_REST_CEILING_V = 3.65
CHEMISTRY_MIN_REST_SAMPLES = 100
CHEMISTRY_REFUSE_SHARE = 0.02
# An NMC pack rests above this (about 15 % SOC) whenever it is more than nearly empty.
NMC_REST_CEILING_OF_LFP_V = 3.6
NMC_MIN_REST_SAMPLES = 5000


@dataclass
class SignEvidence:
    """Votes of current steps on the current's sign convention, over everything fed."""

    consistent: int = 0
    reversed: int = 0

    def votes(
        self,
        history: History,
        step_min_a: float,
        step_max_dt_s: float,
        previous: tuple[float, float, float] | None = None,
    ) -> tuple[int, int]:
        """(consistent, reversed) votes of one batch's steps; nothing is stored.

        ``previous`` is the (time, current, voltage) of the sample before the batch, so the
        step across a batch boundary votes as it would in one pass.
        """
        time_s = history.time_s
        current = history.current_a.astype(np.float64, copy=False)
        voltage = history.voltage_v.astype(np.float64, copy=False)
        if previous is not None:
            time_s = np.concatenate(([previous[0]], time_s))
            current = np.concatenate(([previous[1]], current))
            voltage = np.concatenate(([previous[2]], voltage))
        if current.size < 2:
            return 0, 0
        d_current = np.diff(current)
        steps = np.flatnonzero(np.abs(d_current) >= step_min_a)
        if steps.size == 0:
            return 0, 0
        steps = steps[np.diff(time_s)[steps] <= step_max_dt_s]
        d_voltage = voltage[steps + 1] - voltage[steps]
        response = d_voltage * d_current[steps]
        return int((response > 0).sum()), int((response < 0).sum())

    def check(
        self,
        history: History,
        step_min_a: float,
        step_max_dt_s: float,
        previous: tuple[float, float, float] | None = None,
    ) -> None:
        """Add a batch's votes, or refuse the batch if the sign is then clearly reversed."""
        consistent, reversed_ = self.votes(history, step_min_a, step_max_dt_s, previous)
        total_consistent = self.consistent + consistent
        total_reversed = self.reversed + reversed_
        total = total_consistent + total_reversed
        if total >= SIGN_MIN_STEPS and total_reversed >= SIGN_REVERSED_SHARE * total:
            raise ValueError(
                f"column '{CURRENT}': the current's sign looks reversed: at {total_reversed} of "
                f"{total} current steps the pack voltage fell while current_a rose (with "
                "positive = charging it rises, through the internal resistance). If the logger "
                "counts discharge as positive, pass current_sign=-1"
            )
        self.consistent, self.reversed = total_consistent, total_reversed

    def report(self) -> dict[str, Any]:
        total = self.consistent + self.reversed
        return {
            "steps_checked": total,
            "consistent_share": self.consistent / total if total else None,
            "verified": total >= SIGN_MIN_STEPS and self.consistent >= SIGN_REVERSED_SHARE * total,
        }

    def to_state(self) -> dict[str, int]:
        return {"consistent": self.consistent, "reversed": self.reversed}

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> SignEvidence:
        return cls() if state is None else cls(**state)


@dataclass
class ChemistryEvidence:
    """Rested samples seen, and how many of them contradict the declared chemistry."""

    rested: int = 0
    contradicting: int = 0
    extreme_v: float | None = None  # the highest rested lowest cell (LFP) / lowest highest (NMC)

    def check(
        self,
        chemistry: str,
        v_lo: npt.NDArray[np.float64],
        v_hi: npt.NDArray[np.float64],
        rest: npt.NDArray[np.bool_],
    ) -> None:
        """Add a batch's rested samples, or refuse it if they then contradict the chemistry."""
        if not rest.any():
            return
        if chemistry == "LFP":
            values = v_lo[rest]
            values = values[np.isfinite(values)]
            contradicting = int((values > LFP_REST_CEILING_V).sum())
            extreme = float(values.max()) if values.size else None
            pick = max
        else:
            values = v_hi[rest]
            values = values[np.isfinite(values)]
            contradicting = int((values < NMC_REST_CEILING_OF_LFP_V).sum())
            extreme = float(values.max()) if values.size else None
            pick = max
        rested = self.rested + int(values.size)
        total_contradicting = self.contradicting + contradicting
        if extreme is not None:
            extreme = extreme if self.extreme_v is None else pick(self.extreme_v, extreme)
        if rested >= CHEMISTRY_MIN_REST_SAMPLES:
            if chemistry == "LFP" and total_contradicting > CHEMISTRY_REFUSE_SHARE * rested:
                raise ValueError(
                    f"chemistry: the history does not look like LFP: at {total_contradicting} "
                    f"of {rested} rested samples even the lowest cell is above "
                    f"{LFP_REST_CEILING_V:g} V (up to {extreme:.3f} V), where no LFP cell "
                    "rests. Pass the pack's chemistry, e.g. chemistry='NMC'"
                )
            if (
                chemistry == "NMC"
                and rested >= NMC_MIN_REST_SAMPLES
                and total_contradicting == rested
            ):
                raise ValueError(
                    f"chemistry: the history does not look like NMC: in {rested} rested "
                    f"samples the highest cell never rose above {NMC_REST_CEILING_OF_LFP_V:g} V "
                    f"(at most {extreme:.3f} V): an NMC pack rests there only below about 15 % "
                    "SOC, an LFP pack always. Pass the pack's chemistry, e.g. chemistry='LFP'"
                )
        self.rested, self.contradicting, self.extreme_v = rested, total_contradicting, extreme

    def to_state(self) -> dict[str, Any]:
        return {
            "rested": self.rested,
            "contradicting": self.contradicting,
            "extreme_v": self.extreme_v,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> ChemistryEvidence:
        return cls() if state is None else cls(**state)
