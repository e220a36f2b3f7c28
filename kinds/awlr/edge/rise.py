"""Rate of rise: how fast the river climbs, a warning before a Siaga threshold is reached.

As in `kinds.awlr.edge.alarms`, twice: vectorised functions over a whole series (replays, tests) and a
tracker fed one reading at a time (`kinds.awlr.edge.rise_tracker`, the gateway), held to the same
answers by tests/gateway/test_rise_warning.py. Why two windows, and why a second reading
confirms, is in `kinds.awlr.edge.rise_tracker`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinds.awlr.edge.rise_tracker import RateOfRiseTracker, check_rise_args, check_warning_args

__all__ = ["RateOfRiseTracker", "rate_of_rise", "rise_warning"]

_ROWS_PER_CHUNK_CELLS = 1 << 20  # cells of the (reading x window) matrix handled at once


def rate_of_rise(
    times_s: ArrayLike,
    levels_cm: ArrayLike,
    good: ArrayLike,
    window_s: float,
    *,
    min_points: int = 3,
    min_span_s: float | None = None,
) -> NDArray[np.float64]:
    """Per reading, how fast the river rose (cm/h) over the trailing window, from good readings.

    The slope is the least-squares fit through the good readings with t in [t_i - window_s, t_i],
    not the difference of the window's end points: with a reading a minute, noise of 1 cm moves
    an endpoint difference over 30 min by ~3 cm/h, the fit by ~1 cm/h, and one unflagged odd
    reading at either end moves the fit by a fraction of what it moves the difference. Both are
    the mean rise over the window for a steady rise, and the fit copes with irregular spacing
    and gaps. NaN when fewer than `min_points` good readings are in the window, or when they
    span less than `min_span_s` (default half the window): two readings a minute apart are not
    a rate, and after a dropout the alarm should wait for data rather than guess.
    """
    t, x, g = _rise_series(times_s, levels_cm, good)
    min_span = check_rise_args(window_s, min_points, min_span_s)
    usable = g & np.isfinite(x)
    out = np.full(t.shape, np.nan)
    if t.size == 0:
        return out
    first = np.searchsorted(t, t - window_s, side="left")
    width = int((np.arange(t.size) - first).max()) + 1
    rows_per_chunk = max(1, _ROWS_PER_CHUNK_CELLS // width)
    for start in range(0, t.size, rows_per_chunk):
        rows = np.arange(start, min(start + rows_per_chunk, t.size))
        cols = first[rows, None] + np.arange(width)[None, :]
        inside = cols <= rows[:, None]
        cols = np.minimum(cols, rows[:, None])
        w = inside & usable[cols]
        # Times relative to the window's end: exact for epoch seconds, and well conditioned.
        u = np.where(w, t[cols] - t[rows, None], 0.0)
        y = np.where(w, x[cols], 0.0)
        out[rows] = _fitted_slopes(u, y, w, min_points, min_span) * 3600.0
    return out


def rise_warning(
    times_s: ArrayLike,
    levels_cm: ArrayLike,
    good: ArrayLike,
    window_s: float,
    threshold_cm_per_h: float,
    *,
    clear_margin_cm_per_h: float = 10.0,
    short_window_s: float = 600.0,
    short_threshold_cm_per_h: float = 100.0,
    confirm: int = 2,
    min_points: int = 3,
) -> NDArray[np.bool_]:
    """Whether the rate-of-rise warning is on after each reading (`RateOfRiseTracker` over a
    series whose QC verdicts are final).

    A good reading calls for the warning to start when the slope over `window_s` reaches
    `threshold_cm_per_h` or the one over `short_window_s` reaches `short_threshold_cm_per_h`,
    and for it to end when every slope known is below its threshold less the margin; the
    change happens at the `confirm`-th good reading in a row calling for it. Readings not good
    neither count nor break a run.
    """
    t, x, g = _rise_series(times_s, levels_cm, good)
    check_rise_args(window_s, min_points, None)
    check_rise_args(short_window_s, min_points, None)
    n = check_warning_args(threshold_cm_per_h, short_threshold_cm_per_h, clear_margin_cm_per_h, confirm)
    if not short_window_s < window_s:
        raise ValueError(f"short_window_s ({short_window_s!r}) must be shorter than window_s ({window_s!r})")
    long = rate_of_rise(t, x, g, window_s, min_points=min_points)
    short = rate_of_rise(t, x, g, short_window_s, min_points=min_points)
    margin = clear_margin_cm_per_h
    with np.errstate(invalid="ignore"):
        on = (long >= threshold_cm_per_h) | (short >= short_threshold_cm_per_h)
        known = np.isfinite(long) | np.isfinite(short)
        off = known & ~(long >= threshold_cm_per_h - margin) & ~(short >= short_threshold_cm_per_h - margin)
    idx = np.flatnonzero(g & np.isfinite(x))
    # Per good reading: 1 calls to start, -1 to end, 0 neither. Only one can apply at a time, so
    # the state is a latch set (reset) at the n-th reading of a run of 1s (-1s).
    label = np.where(on[idx], 1, np.where(off[idx], -1, 0))
    run = _run_lengths(label)
    event = np.where((label != 0) & (run >= n), label, 0)
    state = np.zeros(t.shape, dtype=np.int8)
    state[idx] = event
    pos = np.arange(t.size)
    last = np.maximum.accumulate(np.where(state != 0, pos, -1))
    return np.where(last >= 0, state[np.maximum(last, 0)] > 0, False)


def _run_lengths(values: NDArray[np.int_]) -> NDArray[np.int_]:
    """For each position, how many equal values end there in a row (1 for a change)."""
    if values.size == 0:
        return np.zeros(0, dtype=int)
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    pos = np.arange(values.size)
    return pos - starts[np.searchsorted(starts, pos, side="right") - 1] + 1


def _fitted_slopes(
    u: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.bool_], min_points: int, min_span_s: float
) -> NDArray[np.float64]:
    """Least-squares slope per row over the cells where `w` (per second); NaN where too thin."""
    count = w.sum(axis=1)
    safe = np.maximum(count, 1)
    u_mean = np.where(w, u, 0.0).sum(axis=1) / safe
    y_mean = np.where(w, y, 0.0).sum(axis=1) / safe
    du = np.where(w, u - u_mean[:, None], 0.0)
    dy = np.where(w, y - y_mean[:, None], 0.0)
    sxx = (du * du).sum(axis=1)
    sxy = (du * dy).sum(axis=1)
    span = np.where(w, u, -np.inf).max(axis=1) - np.where(w, u, np.inf).min(axis=1)
    enough = (count >= min_points) & (span >= min_span_s) & (sxx > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(enough, sxy / np.where(enough, sxx, 1.0), np.nan)


def _levels_and_mask(levels_cm: ArrayLike, good: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    x = np.asarray(levels_cm, dtype=float)
    g = np.asarray(good)
    if x.ndim != 1 or g.shape != x.shape:
        raise ValueError(f"levels and good must be 1-D of equal length, got {x.shape} and {g.shape}")
    if g.dtype != np.bool_:
        raise ValueError(f"good must be a boolean mask, got dtype {g.dtype}")
    return x, g


def _rise_series(
    times_s: ArrayLike, levels_cm: ArrayLike, good: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    x, g = _levels_and_mask(levels_cm, good)
    t = np.asarray(times_s, dtype=float)
    if t.shape != x.shape:
        raise ValueError(f"times and levels must be 1-D of equal length, got {t.shape} and {x.shape}")
    if not np.isfinite(t).all() or (t.size > 1 and not (np.diff(t) > 0).all()):
        raise ValueError("times must be finite and strictly increasing")
    return t, x, g
