"""Rate of rise: how fast the river climbs, an alarm before any Siaga threshold is reached.

As in `gateway.alarms`, twice: vectorised functions over a whole series (replay, tests) and a
tracker fed one reading at a time (the gateway), held to the same answers by the tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gateway.columns import LEVEL_STEPS_PER_CM, PackedFloats

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
    min_span = _check_rise_args(window_s, min_points, min_span_s)
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
    _check_rate_alarm_args(threshold_cm_per_h, clear_margin_cm_per_h)
    with np.errstate(invalid="ignore"):
        on = r >= threshold_cm_per_h
        off = r < threshold_cm_per_h - clear_margin_cm_per_h
    last = np.maximum.accumulate(np.where(on | off, np.arange(r.size), -1))
    return np.where(last >= 0, on[np.maximum(last, 0)], initial)


@dataclass(slots=True)  # one per station: no per-instance dict
class RateOfRiseTracker:
    """`rate_of_rise` followed by `rate_of_rise_alarm`, one reading at a time.

    `update` returns True when the alarm starts, False when it ends, None otherwise; the last
    rate is kept in `rate_cm_per_h` (NaN while there is too little good data).
    """

    window_s: float
    threshold_cm_per_h: float
    clear_margin_cm_per_h: float = 10.0
    min_points: int = 3
    min_span_s: float | None = None
    active: bool = False
    rate_cm_per_h: float = field(default=float("nan"), init=False)
    _last_ts: float = field(default=float("-inf"), init=False, repr=False)
    _min_span: float = field(init=False, repr=False, compare=False)
    _window: _TimedPoints = field(init=False, repr=False, compare=False)
    _sums: _RunningFit = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._min_span = _check_rise_args(self.window_s, self.min_points, self.min_span_s)
        _check_rate_alarm_args(self.threshold_cm_per_h, self.clear_margin_cm_per_h)
        self._window = _TimedPoints()
        self._sums = _RunningFit()

    def _slope_per_h(self) -> float:
        """Least squares over the window from running sums: O(1) per reading instead of O(window)."""
        w, sums = self._window, self._sums
        if len(w) < self.min_points or w.last_t() - w.first_t() < self._min_span:
            return math.nan
        if sums.drifted(w.first_t()):
            sums.rebuild(w)
        slope = sums.slope()
        return math.nan if slope is None else slope * 3600.0

    def update(self, ts_s: float, level_cm: float, good: bool) -> bool | None:
        """Feed one reading (strictly after the previous one); True/False when the alarm starts/ends."""
        if not (math.isfinite(ts_s) and ts_s > self._last_ts):
            raise ValueError(f"reading time {ts_s!r} is not after the previous one ({self._last_ts!r})")
        self._last_ts = ts_s
        window, sums = self._window, self._sums
        start = ts_s - self.window_s
        while len(window) and window.first_t() < start:
            sums.remove(*window.pop_first())
        if good and math.isfinite(level_cm):
            t, x = float(ts_s), float(level_cm)
            window.append(t, x)
            sums.add(t, x)
        self.rate_cm_per_h = rate = self._slope_per_h()
        if not self.active and rate >= self.threshold_cm_per_h:
            self.active = True
            return True
        if self.active and rate < self.threshold_cm_per_h - self.clear_margin_cm_per_h:
            self.active = False
            return False
        return None


class _TimedPoints:
    """The (time, level) points of a sliding window, oldest first, as two columns with a
    moving start: 8 bytes a point for whole-second times and levels to a thousandth of a cm
    (`PackedFloats`, exact; 16 otherwise) where a deque of float tuples took ~100, which is
    what a 30-minute window of a device reporting every second would otherwise cost per
    station."""

    __slots__ = ("_t", "_x", "_start")
    # Popped points kept before the columns are shifted down. Small: shifting a window is one
    # memmove, while every point kept costs its bytes per station for as long as it runs.
    _COMPACT_AT = 16

    def __init__(self) -> None:
        self._t = PackedFloats(scale=1)
        self._x = PackedFloats(scale=LEVEL_STEPS_PER_CM)
        self._start = 0

    def __len__(self) -> int:
        return len(self._t) - self._start

    def __iter__(self) -> Iterator[tuple[float, float]]:
        return zip(self._t.tolist(self._start), self._x.tolist(self._start))

    def append(self, t: float, x: float) -> None:
        self._t.append(t)
        self._x.append(x)

    def first_t(self) -> float:
        return self._t[self._start]

    def last_t(self) -> float:
        return self._t[-1]

    def pop_first(self) -> tuple[float, float]:
        i = self._start
        point = (self._t[i], self._x[i])
        self._start = i + 1
        if self._start >= self._COMPACT_AT:
            self._t.drop_first(self._start)
            self._x.drop_first(self._start)
            self._start = 0
        return point


class _RunningFit:
    """Sums for a least-squares line over a sliding window. Times are kept relative to an
    origin near the window, and the sums are rebuilt from the window every so often, so that
    adding and removing points never accumulates rounding error worth a rate alarm."""

    __slots__ = ("origin", "n", "su", "sx", "suu", "sux", "changes")
    REBUILD_EVERY = 10_000

    def __init__(self) -> None:
        self.origin: float | None = None
        self.n = 0
        self.su = self.sx = self.suu = self.sux = 0.0
        self.changes = 0

    def add(self, t: float, x: float) -> None:
        if self.origin is None:
            self.origin = t
        u = t - self.origin
        self.n += 1
        self.su += u
        self.sx += x
        self.suu += u * u
        self.sux += u * x
        self.changes += 1

    def remove(self, t: float, x: float) -> None:
        assert self.origin is not None
        u = t - self.origin
        self.n -= 1
        self.su -= u
        self.sx -= x
        self.suu -= u * u
        self.sux -= u * x
        self.changes += 1

    def drifted(self, first_t: float) -> bool:
        return self.changes >= self.REBUILD_EVERY or self.origin is None or abs(first_t - self.origin) > 86_400.0

    def rebuild(self, window: _TimedPoints) -> None:
        self.__init__()  # type: ignore[misc]
        self.origin = window.first_t()
        for t, x in window:
            self.add(t, x)
        self.changes = 0

    def slope(self) -> float | None:
        n = self.n
        sxx = self.suu - self.su * self.su / n
        if not sxx > 0:
            return None
        return (self.sux - self.su * self.sx / n) / sxx


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


def _check_rise_args(window_s: float, min_points: int, min_span_s: float | None) -> float:
    if not (np.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    if isinstance(min_points, bool) or not isinstance(min_points, (int, np.integer)) or min_points < 2:
        raise ValueError(f"min_points must be an integer >= 2, got {min_points!r}")
    span = window_s / 2 if min_span_s is None else min_span_s
    if not (np.isfinite(span) and 0 <= span <= window_s):
        raise ValueError(f"min_span_s must lie in [0, window_s], got {min_span_s!r}")
    return float(span)


def _check_rate_alarm_args(threshold: float, margin: float) -> None:
    if not np.isfinite(threshold):
        raise ValueError(f"threshold_cm_per_h must be finite, got {threshold!r}")
    if not (np.isfinite(margin) and margin >= 0):
        raise ValueError(f"clear_margin_cm_per_h must be finite and >= 0, got {margin!r}")


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
