"""Rate of rise: how fast the river climbs, an alarm before any Siaga threshold is reached.

As in `gateway.alarms`, twice: vectorised functions over a whole series (replay, tests) and a
tracker fed one reading at a time (the gateway), held to the same answers by the tests.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gateway.trackers import RateOfRiseTracker, check_rate_alarm_args, check_rise_args

__all__ = ["RateOfRiseTracker", "rate_of_rise", "rate_of_rise_alarm"]

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


def rate_of_rise_alarm(
    rates_cm_per_h: ArrayLike, threshold_cm_per_h: float, clear_margin_cm_per_h: float, initial: bool = False
) -> NDArray[np.bool_]:
    """Whether the rate-of-rise alarm is on after each rate.

    On at a rate >= threshold; off once the rate is below (threshold - margin), so a rate
    wobbling around the threshold does not flap; a NaN rate (too little good data) holds.
    """
    r = np.asarray(rates_cm_per_h, dtype=float)
    if r.ndim != 1:
        raise ValueError(f"rates must be 1-D, got shape {r.shape}")
    check_rate_alarm_args(threshold_cm_per_h, clear_margin_cm_per_h)
    with np.errstate(invalid="ignore"):
        on = r >= threshold_cm_per_h
        off = r < threshold_cm_per_h - clear_margin_cm_per_h
    last = np.maximum.accumulate(np.where(on | off, np.arange(r.size), -1))
    return np.where(last >= 0, on[np.maximum(last, 0)], initial)


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
