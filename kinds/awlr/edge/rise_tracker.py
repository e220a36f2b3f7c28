"""The rate-of-rise warning of one station, fed one reading at a time (the gateway's state).

It exists to warn before a Siaga threshold is reached, so it looks at the river twice:

* **a long window** (configured 1,800 s, threshold 60 cm/h): a least-squares slope over half an
  hour is calm (1 cm of noise on a reading a minute moves it by ~1 cm/h) and catches a
  sustained rise, but it is slow at the start of a sudden one: half an hour ago the river was
  still flat, and the fit averages that in. On a 240 cm/h rise from 50 cm it reached 60 cm/h
  2.4 minutes after Katulampa's Siaga 3 (80 cm, 7.5 minutes in);
* **a short window** (600 s, threshold 100 cm/h): ten minutes see a sudden rise soon, at the
  cost of five times the noise (~6 cm/h against ~1.2), so its threshold is higher: far above
  that noise and twice the steepest rain rise of the simulated normal month, below the
  published flood rises of 164-175 cm/h (Katulampa 80 -> 140 cm in 22 min, Depok 130 -> 305 cm
  in an hour; sources in bench/data/observed_rises.csv). Five minutes would warn two minutes
  sooner on the 240 cm/h ramp, but one unflagged outlier of 30 cm at the window's end moves
  that slope by 250 cm/h (ten minutes: by 80), and it raised a false warning in that month.

The warning starts when either slope reaches its threshold and ends when every slope known is
below its threshold less the clear margin, each only once `confirm` consecutive good readings
(default 2) called for it: the newest reading's spike test waits for its successor, so a false
echo reaches this tracker as good (the processor reports the verdict through `settle`, which
takes it out again), and one reading alone, spike or noise, never starts a warning. Readings
not good hold the state and the count.

Memory: the long window's points, once (the short window is its newest part), as exact integer
steps (`kinds.awlr.edge.columns`), and a few sums; nothing grows with time, or with the reading rate
beyond the window. At a reading a second, two windows kept apart held 2.6 kB more a station
than the one window before; nested, 1.2 kB. Either costs ~6-9 us more a reading (about twice
the one window's time: a point moves from one queue to the other). No clock, no I/O;
ValueError on bad arguments.
`kinds.awlr.edge.rise.rise_warning` is the same over a whole series, for replays and tests.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from numbers import Integral

from kinds.awlr.edge.columns import LEVEL_STEPS_PER_CM, SteppedFloats, SteppedRuns

nan = math.nan


@dataclass(slots=True)  # one per station: no per-instance dict
class RateOfRiseTracker:
    """`update` returns True when the warning starts, False when it ends, None otherwise.

    `rate_cm_per_h` and `rate_threshold_cm_per_h` are the slope and threshold of the window
    closest to (or furthest past) its threshold, the one that decides: NaN while neither
    window has enough good data. `long_rate_cm_per_h` and `short_rate_cm_per_h` are both slopes.
    """

    window_s: float
    threshold_cm_per_h: float
    clear_margin_cm_per_h: float = 10.0
    short_window_s: float = 600.0
    short_threshold_cm_per_h: float = 100.0
    confirm: int = 2
    min_points: int = 3
    active: bool = False
    rate_cm_per_h: float = field(default=nan, init=False)
    rate_threshold_cm_per_h: float = field(default=nan, init=False)
    long_rate_cm_per_h: float = field(default=nan, init=False)
    short_rate_cm_per_h: float = field(default=nan, init=False)
    _last_ts: float = field(default=-math.inf, init=False, repr=False)
    _streak: int = field(default=0, init=False, repr=False)  # good readings in a row calling for a change
    _streak_before: int | None = field(default=None, init=False, repr=False)  # for `settle`, None: nothing to take back
    _windows: _NestedWindows = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_rise_args(self.window_s, self.min_points, None)
        check_rise_args(self.short_window_s, self.min_points, None)
        check_warning_args(self.threshold_cm_per_h, self.short_threshold_cm_per_h, self.clear_margin_cm_per_h, self.confirm)
        if not self.short_window_s < self.window_s:
            raise ValueError(f"short_window_s ({self.short_window_s!r}) must be shorter than window_s ({self.window_s!r})")
        self._windows = _NestedWindows(self.window_s, self.short_window_s, self.min_points)
        self._rates()

    def update(self, ts_s: float, level_cm: float, good: bool) -> bool | None:
        """Feed one reading (strictly after the previous one); True/False when the warning starts/ends."""
        if not (math.isfinite(ts_s) and ts_s > self._last_ts):
            raise ValueError(f"reading time {ts_s!r} is not after the previous one ({self._last_ts!r})")
        self._last_ts = ts_s
        self._windows.advance(ts_s)
        usable = good and math.isfinite(level_cm)
        if usable:
            self._windows.add(float(ts_s), float(level_cm))
        self._rates()
        self._streak_before = self._streak if usable else None
        if not usable:
            return None
        if self._calls_for_change():
            self._streak += 1
        else:
            self._streak = 0
        if self._streak < self.confirm:
            return None
        self._streak = 0
        self._streak_before = None  # a change made cannot be taken back
        self.active = not self.active
        return self.active

    def settle(self, good: bool) -> None:
        """The final QC verdict of the newest reading, once its successor is judged: a reading
        `update` took as good that turns out not to be (a spike) leaves the windows, and the
        count of readings calling for a change is what it was before it."""
        if good or self._streak_before is None:
            self._streak_before = None
            return
        self._windows.retract()
        self._streak, self._streak_before = self._streak_before, None
        self._rates()

    def _rates(self) -> None:
        long, short = self._windows.rates_per_h()
        self.long_rate_cm_per_h, self.short_rate_cm_per_h = long, short
        # The window nearer its threshold, relative to it (thresholds are positive); a window
        # without a slope never decides over one with a slope.
        if math.isnan(long) or short / self.short_threshold_cm_per_h > long / self.threshold_cm_per_h:
            self.rate_cm_per_h, self.rate_threshold_cm_per_h = short, self.short_threshold_cm_per_h
        else:
            self.rate_cm_per_h, self.rate_threshold_cm_per_h = long, self.threshold_cm_per_h

    def _calls_for_change(self) -> bool:
        long, short = self.long_rate_cm_per_h, self.short_rate_cm_per_h
        if not self.active:
            return long >= self.threshold_cm_per_h or short >= self.short_threshold_cm_per_h
        margin = self.clear_margin_cm_per_h
        known = [(r, th) for r, th in ((long, self.threshold_cm_per_h), (short, self.short_threshold_cm_per_h)) if not math.isnan(r)]
        return bool(known) and all(r < th - margin for r, th in known)


class _NestedWindows:
    """Least-squares lines through the good readings of two trailing windows, the short one the
    newest part of the long one. Each point is kept once: in `_recent` while the short window
    holds it, then in `_older` until it leaves the long one; the long window's sums are both
    parts' sums added up. The newest point is held apart (`_pending`, in the sums, in no queue)
    until the next reading, so that `retract` can take it out again. Times in the sums are
    relative to an origin near the windows, and the sums are rebuilt from the points every so
    often, so that adding and removing never accumulates rounding error worth a warning."""

    __slots__ = ("long_s", "short_s", "min_points", "_recent", "_older", "_rs", "_os", "_pending", "_origin", "_changes")
    REBUILD_EVERY = 10_000

    def __init__(self, long_s: float, short_s: float, min_points: int) -> None:
        self.long_s, self.short_s, self.min_points = float(long_s), float(short_s), min_points
        self._recent, self._older = _TimedPoints(), _TimedPoints()
        self._rs, self._os = _Sums(), _Sums()  # of `_recent` and `_pending`, of `_older`
        self._pending: tuple[float, float] | None = None
        self._origin = nan
        self._changes = 0

    def advance(self, now: float) -> None:
        """Commit the pending point, and move the points `now` leaves behind along."""
        recent, older, rs, os, origin = self._recent, self._older, self._rs, self._os, self._origin
        if self._pending is not None:
            recent.append(*self._pending)
            self._pending = None
        start = now - self.short_s
        while recent.first_t < start:  # NaN once empty: the loop stops
            t, x = recent.pop_first()
            rs.remove(t - origin, x)
            older.append(t, x)
            os.add(t - origin, x)
        start = now - self.long_s
        while older.first_t < start:
            t, x = older.pop_first()
            os.remove(t - origin, x)
        self._changes += 1

    def add(self, t: float, x: float) -> None:
        if self._origin != self._origin:  # NaN: the first point
            self._origin = t
        self._pending = (t, x)
        self._rs.add(t - self._origin, x)

    def retract(self) -> None:
        if self._pending is not None:
            t, x = self._pending
            self._rs.remove(t - self._origin, x)
            self._pending = None

    def rates_per_h(self) -> tuple[float, float]:
        """The slopes of the long and the short window, cm/h (NaN: too few points, or spanning
        less than half the window: after a gap the warning waits for data rather than guess)."""
        recent, older, pending = self._recent, self._older, self._pending
        last_t = pending[0] if pending else recent.last_t if len(recent) else older.last_t
        first_short = recent.first_t if len(recent) else pending[0] if pending else nan
        first_long = older.first_t if len(older) else first_short
        if self._changes >= self.REBUILD_EVERY or abs(first_long - self._origin) > 86_400.0:
            self._rebuild(first_long)
        rs, os = self._rs, self._os
        long = rs.slope_with(os) if rs.n + os.n >= self.min_points and last_t - first_long >= self.long_s / 2 else nan
        short = rs.slope_with(None) if rs.n >= self.min_points and last_t - first_short >= self.short_s / 2 else nan
        return long * 3600.0, short * 3600.0

    def _rebuild(self, origin: float) -> None:
        """Sums afresh from the points, times relative to `origin` (NaN: no points, none to sum)."""
        self._origin, self._changes = origin, 0
        self._rs, self._os = rs, os = _Sums(), _Sums()
        for points, sums in ((self._recent, rs), (self._older, os)):
            for t, x in points:
                sums.add(t - origin, x)
        if self._pending is not None:
            rs.add(self._pending[0] - origin, self._pending[1])


class _Sums:
    """Count and sums of (u, x), u, x, u*u and u*x: a least-squares line in O(1)."""

    __slots__ = ("n", "su", "sx", "suu", "sux")

    def __init__(self) -> None:
        self.n = 0
        self.su = self.sx = self.suu = self.sux = 0.0

    def add(self, u: float, x: float) -> None:
        self.n += 1
        self.su += u
        self.sx += x
        self.suu += u * u
        self.sux += u * x

    def remove(self, u: float, x: float) -> None:
        self.n -= 1
        self.su -= u
        self.sx -= x
        self.suu -= u * u
        self.sux -= u * x

    def slope_with(self, other: _Sums | None) -> float:
        """The slope of the line through these points and `other`'s (NaN if undefined)."""
        n, su, sx, suu, sux = self.n, self.su, self.sx, self.suu, self.sux
        if other is not None:
            n, su, sx, suu, sux = n + other.n, su + other.su, sx + other.sx, suu + other.suu, sux + other.sux
        sxx = suu - su * su / n
        return (sux - su * sx / n) / sxx if sxx > 0 else nan


class _TimedPoints:
    """The (time, level) points of a sliding window, oldest first, as queues of steps from the
    point before (exact): levels to a thousandth of a cm in 2 bytes a point (`SteppedFloats`),
    whole-second times as runs of equal steps (`SteppedRuns`), where a deque of float tuples
    took ~100 bytes a point, which is what a 30-minute window of a device reporting every
    second would otherwise cost per station."""

    __slots__ = ("_t", "_x", "first_t", "last_t")

    def __init__(self) -> None:
        self._t = SteppedRuns(scale=1)
        self._x = SteppedFloats(scale=LEVEL_STEPS_PER_CM)
        # The oldest and newest point's times, NaN while empty: read for every reading, so kept
        # as floats rather than decoded from the steps each time.
        self.first_t = self.last_t = nan

    def __len__(self) -> int:
        return len(self._t)

    def __iter__(self) -> Iterator[tuple[float, float]]:
        return zip(self._t, self._x)

    def append(self, t: float, x: float) -> None:
        if not len(self._t):
            self.first_t = t
        self._t.append(t)
        self._x.append(x)
        self.last_t = t

    def pop_first(self) -> tuple[float, float]:
        t, x = self._t.popleft(), self._x.popleft()
        self.first_t = self._t.first() if len(self._t) else nan
        return t, x


def check_rise_args(window_s: float, min_points: int, min_span_s: float | None) -> float:
    if not (isinstance(window_s, (int, float)) and math.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    if isinstance(min_points, bool) or not isinstance(min_points, Integral) or min_points < 2:
        raise ValueError(f"min_points must be an integer >= 2, got {min_points!r}")
    span = window_s / 2 if min_span_s is None else min_span_s
    if not (math.isfinite(span) and 0 <= span <= window_s):
        raise ValueError(f"min_span_s must lie in [0, window_s], got {min_span_s!r}")
    return float(span)


def check_warning_args(threshold: float, short_threshold: float, margin: float, confirm: int) -> int:
    for name, value in (("threshold_cm_per_h", threshold), ("short_threshold_cm_per_h", short_threshold)):
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise ValueError(f"{name} must be a positive finite rate, got {value!r}")
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and margin >= 0):
        raise ValueError(f"clear_margin_cm_per_h must be finite and >= 0, got {margin!r}")
    if isinstance(confirm, bool) or not isinstance(confirm, Integral) or confirm < 1:
        raise ValueError(f"confirm must be a positive integer, got {confirm!r}")
    return int(confirm)
