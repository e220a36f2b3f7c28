"""Edge processing of a boat's track at the gateway: thin the 1 Hz fix stream for the uplink,
and summarise depth and water temperature over fixed windows. Pure logic, bounded memory.

Why thin: a fish-finder's GNSS gives a fix every second, 86,400 a day, yet the shore needs the
track only to within a few tens of metres; the uplink from a boat is slow and paid per byte.

Which filter: the opening-window algorithm with the synchronised Euclidean distance (SED), i.e.
"OPW-TR" of N. Meratnia and R. A. de By, "Spatiotemporal Compression Techniques for Moving
Point Objects", EDBT 2004, LNCS 2992, pp. 765-782 (https://doi.org/10.1007/978-3-540-24741-8_44).
It is the streaming relative of Douglas-Peucker: the last kept fix anchors a segment to the
newest fix; while every fix in between lies within ``tolerance_m`` of where the segment puts
the boat *at that fix's time*, nothing is sent; when one does not, the fix before the newest
is kept and becomes the anchor. Hence the guarantee: interpolating linearly in time between
consecutive kept fixes gives every dropped fix's position to within ``tolerance_m`` (and so
its cross-track distance from the kept polyline is within ``tolerance_m`` too). SED also keeps
the fixes where the boat stops or speeds up, which a purely geometric filter would drop.

A simple dead band (keep on a course change > X°, a distance > D m) was not chosen: on a slow
S-bend the course returns to its old value and the boat can stray far from the kept line.
``max_interval_s`` still keeps a fix at least every so often (a heartbeat, so a boat lying
still is seen to be alive) and together with ``max_buffer`` bounds the memory.

Distances use a local plane at the anchor (equirectangular, see `LocalPlane`); over the
< 2 km a segment spans the difference from great-circle distance is far below a metre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinds.fishfinder.values import Depth, Fix, WaterTemp

# Mean Earth radius R1 of GRS 80 (H. Moritz, "Geodetic Reference System 1980", J. Geodesy 2000).
EARTH_RADIUS_M = 6_371_008.8

T = TypeVar("T")


def _aware_utc(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(timezone.utc)


_REAL = (int, float, np.integer, np.floating)


def _check_position(lat: float, lon: float) -> None:
    if not (isinstance(lat, _REAL) and isinstance(lon, _REAL)) or isinstance(lat, bool) or isinstance(lon, bool):
        raise ValueError(f"position must be numbers, got lat={lat!r} lon={lon!r}")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # also refuses NaN
        raise ValueError(f"position out of range: lat={lat!r} lon={lon!r}")


_M_PER_DEG_LAT = EARTH_RADIUS_M * math.pi / 180.0


def _m_per_deg_lon(lat: float) -> float:
    return _M_PER_DEG_LAT * math.cos(math.radians(lat))


@dataclass(frozen=True, slots=True)
class LocalPlane:
    """A flat map around (lat0, lon0): x metres east, y metres north (equirectangular).

    Good for the few tens of kilometres of a day trip; not across the antimeridian or a pole.
    """

    lat0: float
    lon0: float

    def __post_init__(self) -> None:
        _check_position(self.lat0, self.lon0)
        if abs(self.lat0) > 85.0:
            raise ValueError(f"a local plane needs |lat0| <= 85, got {self.lat0!r}")

    def to_xy(self, lat: ArrayLike, lon: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        la = np.asarray(lat, dtype=float)
        lo = np.asarray(lon, dtype=float)
        return (lo - self.lon0) * _m_per_deg_lon(self.lat0), (la - self.lat0) * _M_PER_DEG_LAT

    def to_latlon(self, x: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        xs = np.asarray(x, dtype=float)
        ys = np.asarray(y, dtype=float)
        return self.lat0 + ys / _M_PER_DEG_LAT, self.lon0 + xs / _m_per_deg_lon(self.lat0)


class _OpeningWindow(Generic[T]):
    """The filter on plain numbers; `TrackThinner` and `thin_track` wrap it."""

    def __init__(self, tolerance_m: float, max_interval_s: float, max_buffer: int) -> None:
        if not (isinstance(tolerance_m, (int, float)) and math.isfinite(tolerance_m) and tolerance_m > 0):
            raise ValueError(f"tolerance_m must be a finite positive number, got {tolerance_m!r}")
        if not (isinstance(max_interval_s, (int, float)) and math.isfinite(max_interval_s) and max_interval_s > 0):
            raise ValueError(f"max_interval_s must be a finite positive number, got {max_interval_s!r}")
        if isinstance(max_buffer, bool) or not isinstance(max_buffer, int) or max_buffer < 1:
            raise ValueError(f"max_buffer must be an integer >= 1, got {max_buffer!r}")
        self.tolerance_m = float(tolerance_m)
        self.max_interval_s = float(max_interval_s)
        self.max_buffer = max_buffer
        # Anchor: time, lat, lon and metres per degree of longitude there (the local plane).
        self._anchor: tuple[float, float, float, float] | None = None
        self._bt = np.empty(max_buffer)
        self._bx = np.empty(max_buffer)
        self._by = np.empty(max_buffer)
        self._n = 0
        self._last_t: float | None = None
        self._prev: tuple[float, float, float, T]  # newest buffered fix; valid while _n > 0

    def push(self, t: float, lat: float, lon: float, item: T) -> list[T]:
        if not isinstance(t, _REAL) or isinstance(t, bool) or not math.isfinite(t):
            raise ValueError(f"time must be a finite number of seconds, got {t!r}")
        _check_position(lat, lon)
        t, lat, lon = float(t), float(lat), float(lon)
        if self._last_t is not None and t <= self._last_t:
            raise ValueError(f"fix at {t!r} s is not after the previous one at {self._last_t!r} s")
        self._last_t = t
        if self._anchor is None:
            self._set_anchor(t, lat, lon, item)
            return [item]
        out: list[T] = []
        ta, lat0, lon0, kx = self._anchor
        x, y = (lon - lon0) * kx, (lat - lat0) * _M_PER_DEG_LAT
        dt = t - ta
        n = self._n
        if n:
            r = self._bt[:n] / dt
            sed = np.hypot(self._bx[:n] - r * x, self._by[:n] - r * y)
            if float(sed.max()) > self.tolerance_m:
                prev = self._prev
                self._set_anchor(*prev)
                out.append(prev[3])
                ta, lat0, lon0, kx = self._anchor
                x, y = (lon - lon0) * kx, (lat - lat0) * _M_PER_DEG_LAT
                dt = t - ta
        if dt >= self.max_interval_s or self._n >= self.max_buffer:
            self._set_anchor(t, lat, lon, item)
            out.append(item)
            return out
        i = self._n
        self._bt[i], self._bx[i], self._by[i] = dt, x, y
        self._n = i + 1
        self._prev = (t, lat, lon, item)
        return out

    def flush(self) -> list[T]:
        """Keep the newest fix if it was not kept: a track must end where the boat is."""
        if not self._n:
            return []
        prev = self._prev
        self._set_anchor(*prev)
        return [prev[3]]

    def _set_anchor(self, t: float, lat: float, lon: float, item: T) -> None:
        self._anchor = (t, lat, lon, _m_per_deg_lon(lat))
        self._n = 0


class TrackThinner:
    """Streaming thinner for one boat's fixes at the gateway.

    ``push`` returns the fixes to uplink now (none, one or two: the fix before this one when it
    became a corner, and this one when the heartbeat is due). Memory: ``max_buffer`` floats x3.
    A bad fix (naive time, not after the previous one, position out of range) raises ValueError
    and leaves the state unchanged, so the caller can count the rejection and carry on.
    """

    def __init__(self, tolerance_m: float = 20.0, max_interval_s: float = 300.0, max_buffer: int = 900) -> None:
        self._core: _OpeningWindow[Fix] = _OpeningWindow(tolerance_m, max_interval_s, max_buffer)
        self.seen = 0
        self.kept = 0

    @property
    def tolerance_m(self) -> float:
        return self._core.tolerance_m

    def push(self, fix: Fix) -> list[Fix]:
        if not isinstance(fix, Fix):
            raise ValueError(f"expected a Fix, got {type(fix).__name__}")
        ts = _aware_utc("fix.ts", fix.ts)
        out = self._core.push(ts.timestamp(), fix.lat, fix.lon, fix)
        self.seen += 1
        self.kept += len(out)
        return out

    def flush(self) -> list[Fix]:
        out = self._core.flush()
        self.kept += len(out)
        return out


def thin_track(
    t_s: ArrayLike,
    lat: ArrayLike,
    lon: ArrayLike,
    tolerance_m: float = 20.0,
    max_interval_s: float = 300.0,
    max_buffer: int = 900,
) -> NDArray[np.intp]:
    """Indices of the fixes `TrackThinner` would keep (first and last always included)."""
    t, la, lo = (np.asarray(a, dtype=float) for a in (t_s, lat, lon))
    if t.ndim != 1 or t.shape != la.shape or t.shape != lo.shape:
        raise ValueError(f"t_s, lat and lon must be 1-D of equal length, got {t.shape}, {la.shape}, {lo.shape}")
    if t.size == 0:
        raise ValueError("a track needs at least one fix")
    core: _OpeningWindow[int] = _OpeningWindow(tolerance_m, max_interval_s, max_buffer)
    kept: list[int] = []
    for i in range(t.size):
        kept.extend(core.push(float(t[i]), float(la[i]), float(lo[i]), i))
    kept.extend(core.flush())
    return np.asarray(kept, dtype=np.intp)


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """Statistics of one reading over [start, start + window_s)."""

    start: datetime
    window_s: float
    count: int
    min: float
    max: float
    mean: float


@dataclass(frozen=True, slots=True)
class WindowSummaries:
    """`summarize_windows` over arrays: one row per window that has readings, oldest first."""

    start_s: NDArray[np.float64]
    count: NDArray[np.int64]
    min: NDArray[np.float64]
    max: NDArray[np.float64]
    mean: NDArray[np.float64]


def _window_s(window_s: float) -> float:
    if not (isinstance(window_s, (int, float)) and math.isfinite(window_s) and window_s > 0):
        raise ValueError(f"window_s must be a finite positive number, got {window_s!r}")
    return float(window_s)


def summarize_windows(t_epoch_s: ArrayLike, values: ArrayLike, window_s: float = 600.0) -> WindowSummaries:
    """Min, max, mean and count of ``values`` per window aligned to the epoch (a 600 s window
    starts at :00, :10, ...), so every gateway and every restart cuts the same windows.

    Readings may come in any order. Non-finite times or values are bad input (ValueError): the
    wire decoder turns an empty depth field into no reading, never into NaN.
    """
    w = _window_s(window_s)
    t = np.asarray(t_epoch_s, dtype=float)
    v = np.asarray(values, dtype=float)
    if t.ndim != 1 or t.shape != v.shape:
        raise ValueError(f"times and values must be 1-D of equal length, got {t.shape} and {v.shape}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
        raise ValueError("times and values must be finite (no NaN or infinity)")
    if t.size == 0:
        empty = np.empty(0)
        return WindowSummaries(empty, np.empty(0, dtype=np.int64), empty, empty, empty)
    order = np.argsort(t, kind="stable")
    win = np.floor(t[order] / w)
    vs = v[order]
    starts = np.flatnonzero(np.r_[True, win[1:] != win[:-1]])
    count = np.diff(np.r_[starts, win.size]).astype(np.int64)
    return WindowSummaries(
        start_s=win[starts] * w,
        count=count,
        min=np.minimum.reduceat(vs, starts),
        max=np.maximum.reduceat(vs, starts),
        mean=np.add.reduceat(vs, starts) / count,
    )


class WindowSummarizer:
    """Streaming `summarize_windows` for one reading at the gateway: constant memory.

    ``add`` returns the summary of the window that just closed (when a reading of a later
    window arrives). A reading for a window already closed, or a non-finite value, raises
    ValueError and leaves the state unchanged, so the caller can count the rejection.
    """

    def __init__(self, window_s: float = 600.0) -> None:
        self.window_s = _window_s(window_s)
        self._win: float | None = None
        self._count = 0
        self._min = math.inf
        self._max = -math.inf
        self._sum = 0.0

    def add(self, ts: datetime, value: float) -> list[WindowSummary]:
        t = _aware_utc("ts", ts).timestamp()
        if not (isinstance(value, (int, float)) and math.isfinite(value)):
            raise ValueError(f"value must be a finite number, got {value!r}")
        win = math.floor(t / self.window_s)
        out: list[WindowSummary] = []
        if self._win is not None and win < self._win:
            raise ValueError(f"reading at {ts.isoformat()} belongs to a window already closed")
        if self._win is not None and win > self._win:
            out = self.flush()
        self._win = win
        self._count += 1
        self._min = min(self._min, float(value))
        self._max = max(self._max, float(value))
        self._sum += float(value)
        return out

    def flush(self) -> list[WindowSummary]:
        if self._win is None or not self._count:
            return []
        start = datetime.fromtimestamp(self._win * self.window_s, timezone.utc)
        s = WindowSummary(start, self.window_s, self._count, self._min, self._max, self._sum / self._count)
        self._count, self._min, self._max, self._sum = 0, math.inf, -math.inf, 0.0
        return [s]


def summarize_readings(readings: Sequence[Depth] | Sequence[WaterTemp], window_s: float = 600.0) -> list[WindowSummary]:
    """Windowed summaries of depths (m) or water temperatures (°C), whichever is given."""
    if not readings:
        return []
    kinds = {type(r) for r in readings}
    if kinds == {Depth}:
        values = [r.depth_m for r in readings]  # type: ignore[union-attr]
    elif kinds == {WaterTemp}:
        values = [r.temp_c for r in readings]  # type: ignore[union-attr]
    else:
        raise ValueError(f"readings must be all Depth or all WaterTemp, got {sorted(k.__name__ for k in kinds)}")
    times = [_aware_utc("ts", r.ts).timestamp() for r in readings]
    s = summarize_windows(times, values, window_s)
    w = _window_s(window_s)
    return [
        WindowSummary(datetime.fromtimestamp(float(st), timezone.utc), w, int(c), float(lo), float(hi), float(m))
        for st, c, lo, hi, m in zip(s.start_s, s.count, s.min, s.max, s.mean)
    ]
