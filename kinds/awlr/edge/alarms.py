"""Alarms a disaster office can act on: Siaga with hysteresis, and the rate of rise.

Raw `classify_siaga` answers "which band is this one reading in"; an alarm must also not flap
when the river hovers at a bound, and must not fire on one false echo. Both alarms here only
learn from readings the caller marks good (normally: QC aggregate == GOOD); other readings
neither raise nor clear, they hold the state.

Each alarm comes twice: a vectorised function over a whole series (for replay, tests and
back-filling) and a small tracker fed one reading at a time (for the gateway), which must give
the same answers on the same series; the tests hold them to that. The rate of rise lives in
`kinds.awlr.edge.rise` and is re-exported here, so callers import both alarms from one place.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinds.awlr.edge.rise import _levels_and_mask, rate_of_rise, rise_warning
from kinds.awlr.siaga import classify_siaga
from kinds.awlr.edge.trackers import Bounds, RateOfRiseTracker, SiagaTracker, check_siaga_args, cleared

__all__ = ["RateOfRiseTracker", "SiagaTracker", "rate_of_rise", "rise_warning", "siaga_with_hysteresis"]


# --- Siaga with hysteresis --------------------------------------------------------------------


def siaga_with_hysteresis(
    levels_cm: ArrayLike,
    good: ArrayLike,
    bounds: Bounds,
    raise_after: int,
    clear_margin_cm: float,
    initial: int = 4,
) -> NDArray[np.int8]:
    """The alarm level (1..4) in force after each reading.

    Rules, applied at each good reading to the last `raise_after` good readings:
    - raise: if all of them are at or above the bound of a worse level, go to the worst such
      level (it may skip a level when the river jumps, e.g. 79 -> 210 goes straight to Awas);
    - clear: if all of them are below (bound - `clear_margin_cm`) of the current level, step
      back toward 4, to the least severe level all of them support with that margin;
    - otherwise hold. Until `raise_after` good readings were seen the level is `initial`.
    A reading is good when `good` is true and its level is finite; non-good readings are
    skipped, neither counting toward nor breaking a run: QC flags that come and go during a real
    flood must not postpone the alarm, and an isolated spike, flagged or not, cannot fill a run
    of `raise_after` >= 2 on its own. The margin keeps a level hovering at a bound from flapping:
    it raises once and stays until the river has clearly gone down.
    """
    x, g = _levels_and_mask(levels_cm, good)
    n = check_siaga_args(bounds, raise_after, clear_margin_cm, initial)
    usable = g & np.isfinite(x)
    idx = np.flatnonzero(usable)
    out = np.full(x.shape, initial, dtype=np.int8)
    if idx.size < n:
        return out
    good_levels = x[idx]
    windows_raise = np.lib.stride_tricks.sliding_window_view(classify_siaga(good_levels, bounds), n)
    windows_clear = np.lib.stride_tricks.sliding_window_view(classify_siaga(good_levels, cleared(bounds, clear_margin_cm)), n)
    # Per reading: the state may not stay above `most` (raise) nor below `least` (clear).
    most = np.full(x.shape, 4, dtype=np.int8)
    least = np.full(x.shape, 1, dtype=np.int8)
    most[idx[n - 1 :]] = windows_raise.max(axis=1)
    least[idx[n - 1 :]] = windows_clear.min(axis=1)
    # state[k] = clip(state[k-1], least[k], most[k]). Clipping commutes with thresholding, so for
    # each v, "state >= v" is a set/reset latch: set where least >= v, reset where most < v.
    pos = np.arange(x.size)
    state = np.ones(x.shape, dtype=np.int8)
    for v in (2, 3, 4):
        latched = (least >= v) | (most < v)
        last = np.maximum.accumulate(np.where(latched, pos, -1))
        state += np.where(last >= 0, least[np.maximum(last, 0)] >= v, initial >= v).astype(np.int8)
    return state


