"""QARTOD flags for one station's readings as they arrive, in memory that does not grow with
the flat-line window or the reading rate.

`kinds.awlr.edge.qc` judges a whole series at once (replays, tests, the reference comparisons); a
gateway sees one reading at a time for hundreds of stations, and at one reading a second the
flat-line window (9,000 s) is 9,000 readings a station. What the four tests need is small:

* gross range: the reading alone;
* rate of change: the previous reading;
* spike: the two readings before (a reading's verdict is final when its successor arrives);
* flat line: whether the last `count + 1` readings lie within the tolerance, which is whether
  the current run of readings within the tolerance (its first index) started `count` readings
  ago. The run's start moves by the running extremes of the run (monotonic queues: only values
  that are a running maximum or minimum of the rest of the run are kept, and all of them lie
  within the tolerance of each other, so a stuck sensor keeps one of each);
* the cadence the flat line counts readings by: the median of the last `CADENCE_INTERVALS`
  intervals.

The flags equal `kinds.awlr.edge.qc.run_qc` over the station's whole series (and so ioos_qc's) for
readings at one cadence, which QARTOD assumes; tests/gateway/test_station_qc.py holds them to it.
Where the cadence changes, the flat line counts readings by the recent cadence rather than by
the median over a whole series that, live, does not exist yet.
"""

from __future__ import annotations

import math
from array import array
from collections import deque

from kinds.awlr.qc_config import QcConfig, QcFlag, checked_span, require_positive

_GOOD, _UNKNOWN, _SUSPECT, _FAIL, _MISSING = map(int, QcFlag)
# Aggregation precedence, weakest first (ioos_qc qartod_compare), as in kinds.awlr.edge.qc.
_RANK = {_MISSING: 0, _UNKNOWN: 1, _GOOD: 2, _SUSPECT: 3, _FAIL: 4}

#: Intervals the flat line's cadence is the median of: enough that a late or lost reading
#: does not change it, few enough to follow a logger reconfigured to another cadence.
CADENCE_INTERVALS = 31


#: The worse of two flags by that precedence, `_WORSE[a][b]`: a table lookup rather than a
#: `max` with a key, since every reading takes several.
_WORSE = [[max(a, b, key=_RANK.__getitem__) if a in _RANK and b in _RANK else -1 for b in range(10)] for a in range(10)]


class _RecentCadence:
    """Median of the last `CADENCE_INTERVALS` intervals between readings (as np.median)."""

    __slots__ = ("_ring", "_next", "_median")

    def __init__(self) -> None:
        self._ring = array("d")
        self._next = 0
        self._median = math.nan

    def add(self, interval: float) -> float:
        ring = self._ring
        if len(ring) < CADENCE_INTERVALS:
            ring.append(interval)
        else:
            old = ring[self._next]
            ring[self._next] = interval
            self._next = (self._next + 1) % CADENCE_INTERVALS
            if old == interval:
                return self._median  # a logger on schedule: nothing to recompute
        s = sorted(ring)
        mid = len(s) // 2
        self._median = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
        return self._median


class _FlatRun:
    """The first index of the current run of finite readings whose range is below the
    tolerance (missing readings inside a run are skipped, as the flat-line test ignores them)."""

    __slots__ = ("tolerance", "start", "_highs", "_lows")

    def __init__(self, tolerance: float) -> None:
        self.tolerance = tolerance
        self.start = 0
        self._highs: deque[tuple[int, float]] = deque()  # running maxima of the run's suffixes, oldest first
        self._lows: deque[tuple[int, float]] = deque()

    def add(self, i: int, x: float) -> int:
        """Take finite reading `i`; the run's start with it."""
        highs, lows, tol = self._highs, self._lows, self.tolerance
        # The run's values already lie within the tolerance of each other: only pairs with x can break it.
        while highs and not abs(highs[0][1] - x) < tol:
            self.start = max(self.start, highs.popleft()[0] + 1)
        while lows and not abs(x - lows[0][1]) < tol:
            self.start = max(self.start, lows.popleft()[0] + 1)
        while highs and highs[-1][1] <= x:
            highs.pop()
        highs.append((i, x))
        while lows and lows[-1][1] >= x:
            lows.pop()
        lows.append((i, x))
        return self.start


class StationQc:
    """The aggregate QARTOD flag of each reading of one station, fed in time order.

    `push(t, x)` returns the final flag of the previous reading (None for the first) and the
    flag of this one as far as it can be judged now: its spike test waits for the next reading
    and is UNKNOWN until then, exactly as for the newest reading of a series given to
    `kinds.awlr.edge.qc.run_qc`. No clock, no I/O; ValueError on bad configuration or times.
    """

    __slots__ = (
        "_sensor", "_user", "_qc", "_n", "_t", "_x", "_x2", "_partial", "_cadence", "_run", "_interval", "_counts",
    )

    def __init__(self, sensor_span: tuple[float, float], qc: QcConfig | None = None) -> None:
        qc = qc or QcConfig()
        self._sensor = checked_span(sensor_span, "sensor_span")
        self._user = None if qc.user_span_cm is None else checked_span(qc.user_span_cm, "user_span")
        if self._user is not None and (self._user[0] < self._sensor[0] or self._user[1] > self._sensor[1]):
            raise ValueError(f"user_span {qc.user_span_cm!r} must fall within sensor_span {sensor_span!r}")
        for name in ("spike_suspect_cm", "spike_fail_cm", "rate_suspect_cm_per_s", "flat_tolerance_cm", "flat_suspect_s", "flat_fail_s"):
            require_positive(getattr(qc, name), name)
        self._qc = qc
        self._n = 0  # readings seen
        self._t = -math.inf  # time of the last reading
        self._x = math.nan  # the last reading
        self._x2 = math.nan  # the one before it
        self._partial = _MISSING  # the last reading's flag from every test but spike
        self._cadence = _RecentCadence()
        self._run = _FlatRun(qc.flat_tolerance_cm)
        self._interval = math.nan  # the cadence `_counts` were computed for
        self._counts = (0, 0)  # the flat line's window in intervals: suspect, fail

    def push(self, t: float, x: float) -> tuple[int | None, int]:
        if not (math.isfinite(t) and t > self._t):
            raise ValueError(f"reading time {t!r} is not after the previous one ({self._t!r})")
        t, x = float(t), float(x)
        i = self._n
        previous = None
        if i:
            first = _UNKNOWN if math.isfinite(self._x) else _MISSING  # the first reading has one neighbour
            previous = _WORSE[self._partial][self._spike(self._x2, self._x, x) if i > 1 else first]
        others = _WORSE[self._gross_range(x)][self._rate_of_change(t, x)]
        flat = self._flat_line(i, t, x)
        self._partial = _WORSE[others][flat]
        self._n, self._t, self._x2, self._x = i + 1, t, self._x, x
        if not math.isfinite(x):
            return previous, _WORSE[others][_MISSING]
        # A series of fewer than three readings is too short for the flat line; by the time
        # this reading's verdict is final (`_partial`), there are three.
        return previous, _WORSE[_WORSE[others][_UNKNOWN]][flat if i >= 2 else _GOOD]

    def _gross_range(self, x: float) -> int:
        if math.isnan(x):
            return _MISSING
        lo, hi = self._sensor
        if x < lo or x > hi:
            return _FAIL
        if self._user is not None and (x < self._user[0] or x > self._user[1]):
            return _SUSPECT
        return _GOOD

    def _spike(self, before: float, x: float, after: float) -> int:
        if not math.isfinite(x):
            return _MISSING
        ref = (before + after) / 2
        if not (math.isfinite(before) and math.isfinite(after) and math.isfinite(ref)):
            return _UNKNOWN
        dev = abs(x - ref)
        qc = self._qc
        return _FAIL if dev > qc.spike_fail_cm else _SUSPECT if dev > qc.spike_suspect_cm else _GOOD

    def _rate_of_change(self, t: float, x: float) -> int:
        if not math.isfinite(x):
            return _MISSING
        if not math.isfinite(self._x):
            return _GOOD  # no step to judge: the first reading, or the one after a missing one
        rate = abs(x - self._x) / (t - self._t)
        fail = self._qc.rate_fail_cm_per_s
        if fail is not None and rate > fail:
            return _FAIL
        return _SUSPECT if rate > self._qc.rate_suspect_cm_per_s else _GOOD

    def _flat_line(self, i: int, t: float, x: float) -> int:
        if i:
            interval = self._cadence.add(t - self._t)
            if interval != self._interval:
                qc = self._qc
                self._interval = interval
                self._counts = (max(int(qc.flat_suspect_s / interval), 1), max(int(qc.flat_fail_s / interval), 1))
        if not math.isfinite(x):
            return _MISSING
        start = self._run.add(i, x)
        if not i:
            return _GOOD
        suspect, fail = self._counts
        length = i - start  # intervals in the current run within the tolerance
        return _FAIL if length >= fail else _SUSPECT if length >= suspect else _GOOD
