"""Harmful voltage events: excursions of the lowest (highest) cell beyond a limit.

An excursion starts when the voltage crosses the limit and ends only once it has come back
by the hysteresis margin, so a voltage hovering at the limit (noise, a load switching on and
off) is one event, not many. Without cell columns the caller passes pack voltage divided by
the number of series cells.

Units: volts per cell. Source: Regulation (EU) 2023/1542 Annex VII point 4 ("number of deep
discharge events", "overcharge events"), with the cell maker's voltage window as the limits
(per chemistry, :mod:`bms_core.options`); the hysteresis is the usual Schmitt-trigger rule
of BMS protection (release a fixed margin inside the limit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from bms_core.block import Block
from bms_core.latch import latch, onsets, previous

MAX_LISTED_EVENTS = 100


@dataclass
class ExcursionCounter:
    limit_v: float
    hysteresis_v: float
    below: bool  # True: deep discharge (below the limit); False: overvoltage (above)
    active: bool = False
    count: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)

    def update(self, block: Block, volts: npt.NDArray[np.float64]) -> None:
        if self.below:
            enter, leave = volts < self.limit_v, volts > self.limit_v + self.hysteresis_v
        else:
            enter, leave = volts > self.limit_v, volts < self.limit_v - self.hysteresis_v
        state = latch(enter, leave, self.active)
        before = previous(state, self.active)
        starts = onsets(state, self.active)
        ends = np.flatnonzero(~state & before)  # first sample back inside the limits
        self._record(block, volts, state, starts, ends)
        self.count += int(starts.size)
        self.active = bool(state[-1])

    def _record(
        self,
        block: Block,
        volts: npt.NDArray[np.float64],
        state: npt.NDArray[np.bool_],
        starts: npt.NDArray[np.int64],
        ends: npt.NDArray[np.int64],
    ) -> None:
        # Pieces of excursions inside this batch; the first may continue an ongoing event.
        pieces: list[tuple[int, bool]] = [(int(k), True) for k in starts]
        if self.active:
            if state[0]:
                pieces.insert(0, (0, False))
            else:
                self.events[-1]["end"] = float(block.time_s[0])
        for first, is_new in pieces:
            later_ends = ends[ends > first]
            stop = int(later_ends[0]) if later_ends.size else block.n
            window = volts[first:stop]
            k = first + int(np.argmin(window) if self.below else np.argmax(window))
            extreme = float(volts[k])
            if is_new:
                self.events.append(
                    {
                        "start": float(block.time_s[first]),
                        "end": None,
                        "extreme_v": extreme,
                        "cell": None,
                    }
                )
            event = self.events[-1]
            worse = extreme < event["extreme_v"] if self.below else extreme > event["extreme_v"]
            if is_new or worse:
                event["extreme_v"] = extreme
                event["cell"] = block.extreme_cell(k, lowest=self.below)
            if stop < block.n:
                event["end"] = float(block.time_s[stop])
        del self.events[:-MAX_LISTED_EVENTS]

    def to_state(self) -> dict[str, Any]:
        return {
            "limit_v": self.limit_v,
            "hysteresis_v": self.hysteresis_v,
            "below": self.below,
            "active": self.active,
            "count": self.count,
            "events": [dict(e) for e in self.events],
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> ExcursionCounter:
        return cls(**{**state, "events": [dict(e) for e in state["events"]]})
