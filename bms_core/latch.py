"""Per-sample state machines without Python loops over samples.

A latch is set by one condition and reset by another; in between it keeps its value. Its
value at every sample is the most recent set/reset at or before that sample, which a running
maximum over "index of the last event" finds in one vectorised pass. The value before the
first event comes from the previous batch, which is what makes batches chain exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]


def last_true_index(mask: BoolArray) -> npt.NDArray[np.int64]:
    """For each sample, the index of the latest True at or before it, or -1."""
    index = np.where(mask, np.arange(mask.size), -1)
    np.maximum.accumulate(index, out=index)
    return index


def latch(set_when: BoolArray, reset_when: BoolArray, initial: bool) -> BoolArray:
    """Latch state per sample; a sample that both sets and resets counts as a set."""
    # Most batches only ever push one way (no excursion at all, no full charge): then the
    # state is constant up to the first event that can change it, and constant after.
    if not set_when.any():
        return _until_first(reset_when, initial, False) if initial else np.zeros_like(set_when)
    if not reset_when.any():
        return _until_first(set_when, initial, True) if not initial else np.ones_like(set_when)
    last = last_true_index(set_when | reset_when)
    return np.where(last >= 0, set_when[np.maximum(last, 0)], initial)


def _until_first(events: BoolArray, before: bool, after: bool) -> BoolArray:
    out = np.full(events.size, after)
    if events.any():
        out[: int(np.argmax(events))] = before
    else:
        out[:] = before
    return out


def previous(state: BoolArray, before_first: bool) -> BoolArray:
    """The state one sample earlier (``before_first`` for the first sample)."""
    out = np.empty_like(state)
    if state.size:
        out[0] = before_first
        out[1:] = state[:-1]
    return out


def onsets(state: BoolArray, before_first: bool) -> npt.NDArray[np.int64]:
    """Indices where the state turns True."""
    return np.flatnonzero(state & ~previous(state, before_first))
