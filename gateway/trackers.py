"""The alarms' per-station state on the gateway: Siaga with hysteresis and the rate of rise,
fed one reading at a time, in plain Python (no numpy: the gateway does not load it).

Each equals its vectorised function over a whole series (`gateway.alarms.siaga_with_hysteresis`,
`gateway.rise.rate_of_rise` and `rate_of_rise_alarm`); tests/gateway/test_alarms.py holds them
to that. The argument checks are shared with those functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from numbers import Integral

from gateway.columns import LEVEL_STEPS_PER_CM, SteppedFloats, SteppedRuns

Bounds = tuple[float, float, float]


def check_bounds(bounds: Bounds) -> None:
    """Siaga bounds: the lower bounds of Siaga 3, 2 and 1, three finite increasing numbers."""
    try:
        b = tuple(float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bounds must be three finite increasing numbers, got {bounds!r}") from exc
    if len(b) != 3 or not all(math.isfinite(v) for v in b) or not b[0] < b[1] < b[2]:
        raise ValueError(f"bounds must be three finite increasing numbers, got {bounds!r}")


@dataclass(slots=True)  # one per station: no per-instance dict
class SiagaTracker:
    """`siaga_with_hysteresis`, one reading at a time (the gateway's per-station state)."""

    bounds: Bounds
    raise_after: int
    clear_margin_cm: float
    level: int = 4
    # The last `raise_after` good readings, kept as the level each one supports: against the
    # bounds (raise) and against the bounds less the margin (clear). Classified once on arrival
    # rather than on every update for the whole run, which was most of this tracker's cost.
    # Levels are 1..4, so a bytearray holds them: ~60 bytes a station where a deque allocates
    # blocks of 64 slots (~530 bytes, two while it wraps), per tracker and per column.
    _raise: bytearray = field(init=False, repr=False)
    _clear: bytearray = field(init=False, repr=False)
    _clear_bounds: Bounds = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_siaga_args(self.bounds, self.raise_after, self.clear_margin_cm, self.level)
        self._raise = bytearray()
        self._clear = bytearray()
        self._clear_bounds = cleared(self.bounds, self.clear_margin_cm)

    def update(self, level_cm: float, good: bool) -> int | None:
        """Feed one reading; returns the new alarm level when it changes, else None."""
        if not (good and math.isfinite(level_cm)):
            return None
        # Plain Python on purpose: this runs for every reading, numpy's call overhead dominated.
        raised, cleared = self._raise, self._clear
        raised.append(siaga_of(level_cm, self.bounds))
        cleared.append(siaga_of(level_cm, self._clear_bounds))
        if len(raised) > self.raise_after:  # a window of the last `raise_after`, as deque(maxlen=...)
            del raised[0], cleared[0]
        elif len(raised) < self.raise_after:
            return None
        new = min(max(self.level, min(cleared)), max(raised))
        if new == self.level:
            return None
        self.level = new
        return new


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
        self._min_span = check_rise_args(self.window_s, self.min_points, self.min_span_s)
        check_rate_alarm_args(self.threshold_cm_per_h, self.clear_margin_cm_per_h)
        self._window = _TimedPoints()
        self._sums = _RunningFit()

    def _slope_per_h(self) -> float:
        """Least squares over the window from running sums: O(1) per reading instead of O(window)."""
        w, sums = self._window, self._sums
        first_t = w.first_t
        if sums.n < self.min_points or w.last_t - first_t < self._min_span:
            return math.nan
        if sums.drifted(first_t):
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
        while window.first_t < start:  # NaN once empty: the loop stops
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
        self.first_t = self.last_t = math.nan

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
        self.first_t = self._t.first() if len(self._t) else math.nan
        return t, x


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
        self.origin = window.first_t
        for t, x in window:
            self.add(t, x)
        self.changes = 0

    def slope(self) -> float | None:
        n = self.n
        sxx = self.suu - self.su * self.su / n
        if not sxx > 0:
            return None
        return (self.sux - self.su * self.sx / n) / sxx


def siaga_of(level_cm: float, bounds: Bounds) -> int:
    """`classify_siaga` for one finite number: a level equal to a bound takes the higher alert."""
    b3, b2, b1 = bounds
    return 1 if level_cm >= b1 else 2 if level_cm >= b2 else 3 if level_cm >= b3 else 4


def cleared(bounds: Bounds, margin: float) -> Bounds:
    b3, b2, b1 = bounds
    return (b3 - margin, b2 - margin, b1 - margin)


def check_siaga_args(bounds: Bounds, raise_after: int, clear_margin_cm: float, initial: int) -> int:
    check_bounds(bounds)
    if isinstance(raise_after, bool) or not isinstance(raise_after, Integral) or raise_after < 1:
        raise ValueError(f"raise_after must be a positive integer, got {raise_after!r}")
    if not (math.isfinite(clear_margin_cm) and clear_margin_cm >= 0):
        raise ValueError(f"clear_margin_cm must be finite and >= 0, got {clear_margin_cm!r}")
    if initial not in (1, 2, 3, 4):
        raise ValueError(f"initial must be a Siaga level 1..4, got {initial!r}")
    return int(raise_after)


def check_rise_args(window_s: float, min_points: int, min_span_s: float | None) -> float:
    if not (math.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    if isinstance(min_points, bool) or not isinstance(min_points, Integral) or min_points < 2:
        raise ValueError(f"min_points must be an integer >= 2, got {min_points!r}")
    span = window_s / 2 if min_span_s is None else min_span_s
    if not (math.isfinite(span) and 0 <= span <= window_s):
        raise ValueError(f"min_span_s must lie in [0, window_s], got {min_span_s!r}")
    return float(span)


def check_rate_alarm_args(threshold: float, margin: float) -> None:
    if not math.isfinite(threshold):
        raise ValueError(f"threshold_cm_per_h must be finite, got {threshold!r}")
    if not (math.isfinite(margin) and margin >= 0):
        raise ValueError(f"clear_margin_cm_per_h must be finite and >= 0, got {margin!r}")
