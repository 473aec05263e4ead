"""State of charge: coulomb counting from the latest anchor.

SOC(t) = SOC at the latest anchor + 100 * (counted Ah since then - offset * hours since then)
/ capacity, with the capacity estimate and offset known at that anchor (rated capacity and
no offset before there are any). The BMS's own ``soc_pct`` is never taken as truth: at most
its first value starts the count before the first anchor, and the report says so.

Units: SOC in % of the capacity in use, charge in Ah, time in h. Source: coulomb counting
with OCV-based resets (Plett, *Battery Management Systems* vol. 1, 2015, sec. 1.9 and 2.2;
Ng et al., Appl. Energy 86 (2009) 1506), the reset points being the anchors of
:mod:`bms_core.anchors`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.anchors import Anchor
from bms_core.block import Block

# Where to start counting when nothing is known: only the SOC *swings* matter then (rainflow
# depths), and the report gives no SOC until an anchor or an initial guess exists.
UNKNOWN_START_PCT = 50.0


@dataclass(frozen=True)
class SocBase:
    time_s: float
    ah: float
    soc_pct: float
    capacity_ah: float
    offset_a: float
    source: str  # anchor kind, "bms_initial_guess" or "unknown"
    gaps: int


@dataclass
class SocTracker:
    base: SocBase | None = None
    last_soc_pct: float | None = None
    last_time_s: float | None = None
    last_gaps: int = 0

    def start(self, block: Block, counter_ah: float, rated_ah: float, use_bms: bool) -> None:
        """Set the starting point at the very first sample."""
        if self.base is not None:
            return
        soc, source = UNKNOWN_START_PCT, "unknown"
        if use_bms and block.bms_soc_pct is not None and np.isfinite(block.bms_soc_pct[0]):
            soc, source = float(block.bms_soc_pct[0]), "bms_initial_guess"
        self.base = SocBase(float(block.time_s[0]), counter_ah, soc, rated_ah, 0.0, source, 0)

    @staticmethod
    def base_at(anchor: Anchor, capacity_ah: float, offset_a: float) -> SocBase:
        return SocBase(
            anchor.time_s,
            anchor.ah,
            anchor.soc_pct,
            capacity_ah,
            offset_a,
            anchor.kind,
            anchor.gaps,
        )

    def trace(
        self,
        block: Block,
        counter_ah: npt.NDArray[np.float64],
        gaps: npt.NDArray[np.int64],
        rebases: list[tuple[int, SocBase]],
    ) -> npt.NDArray[np.float64]:
        """SOC at every sample; ``rebases`` are (first sample index, new base) in order."""
        assert self.base is not None
        bases = [self.base]
        first_index = [0]
        for index, base in rebases:
            if index <= 0:
                bases[-1] = base
            else:
                bases.append(base)
                first_index.append(index)
        if len(bases) == 1:
            b = bases[0]
            soc = (
                b.soc_pct
                + 100.0
                * (counter_ah - b.ah - b.offset_a * (block.time_s - b.time_s) / 3600.0)
                / b.capacity_ah
            )
        else:
            segment = np.repeat(np.arange(len(bases)), np.diff([*first_index, block.n]))

            def column(name: str) -> npt.NDArray[np.float64]:
                return np.array([getattr(b, name) for b in bases])[segment]

            soc = column("soc_pct") + 100.0 * (
                counter_ah
                - column("ah")
                - column("offset_a") * (block.time_s - column("time_s")) / 3600.0
            ) / column("capacity_ah")
        self.base = bases[-1]
        self.last_soc_pct = float(soc[-1])
        self.last_time_s = float(block.time_s[-1])
        self.last_gaps = int(gaps[-1])
        return soc

    def to_state(self) -> dict[str, Any]:
        return {
            "base": None if self.base is None else asdict(self.base),
            "last_soc_pct": self.last_soc_pct,
            "last_time_s": self.last_time_s,
            "last_gaps": self.last_gaps,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> SocTracker:
        base = state["base"]
        return cls(
            base=None if base is None else SocBase(**base),
            last_soc_pct=state["last_soc_pct"],
            last_time_s=state["last_time_s"],
            last_gaps=state["last_gaps"],
        )
