"""A fishing boat's day at sea as a pure function of simulated time: where the fish-finder's
GNSS puts the boat, what its sounder reads and how warm the water is, at any instant.

Why a function of time and not a stepping loop: the simulator must run a whole day in seconds
for a demo and in real time at a test bench, and two runs with the same seed must agree
whatever their pace. So `plan_voyage` draws everything random once, from the numpy Generator
it is given, into an immutable `VoyagePlan`; `VoyagePlan.sample` then maps any simulated times
to readings without a clock, randomness or state. The caller decides the pace.

The day: the boat leaves its harbour's offing (see `harbours`) at harbour speed through the
channel, runs at transit speed along the route's waypoints to its fishing ground, fishes there
(trolling loops at 2.5-4 kn alternating with drifts of 0.3-0.8 kn with the current) for the
scheduled hours, and comes back the same way. Tracks are straight legs between waypoints chosen
to stay at sea (checked against the GLOBE land mask in the tests); fishing stays inside the
ground's disc. Speeds and durations are plausible assumptions for small outboard or inboard
boats, not measurements.

Depth is synthetic: a profile of the distance to the traced coastline (`harbours.SeaArea`), times
a gentle bottom relief, plus the boat's heave. Water temperature is synthetic too: the area's
typical surface temperature with a small afternoon warming, slight cooling offshore and slow
wander, kept within 27-30 °C. Neither is charted or measured data.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from kinds.fishfinder.sim.harbours import (
    GROUNDS,
    HARBOURS,
    TENANT_BADUNG,
    TENANT_INDRAMAYU,
    FishingGround,
    Harbour,
    SeaArea,
    SEA_AREAS,
    outbound_waypoints,
    route,
)
from kinds.fishfinder.edge.track import LocalPlane
from kinds.fishfinder.values import Depth, Fix, WaterTemp

KNOT_M_S = 1852.0 / 3600.0
PHASES = ("moored", "harbour", "outbound", "fishing", "return")
_MOORED, _HARBOUR, _OUTBOUND, _FISHING, _RETURN = range(len(PHASES))
MIN_TEMP_C, MAX_TEMP_C = 27.0, 30.0


@dataclass(frozen=True, slots=True)
class BoatDay:
    """What one boat sets out to do on a day; `plan_voyage` adds the day's randomness."""

    boat_id: str
    tenant: str
    harbour: str
    ground: str
    departure_local: time
    fishing_h: float
    transit_kn: tuple[float, float] = (7.0, 9.0)


# Day boats of the two tenants: Badung (default) and Indramayu. Early-morning departures.
DEFAULT_FLEET: tuple[BoatDay, ...] = (
    BoatDay("jukung-kdg-01", TENANT_BADUNG, "kedonganan", "selatan-bukit", time(5, 30), 5.0),
    BoatDay("jukung-kdg-02", TENANT_BADUNG, "kedonganan", "teluk-jimbaran", time(6, 15), 4.0),
    BoatDay("jukung-jbr-01", TENANT_BADUNG, "jimbaran", "selatan-bukit", time(5, 0), 6.0),
    BoatDay("jukung-jbr-02", TENANT_BADUNG, "jimbaran", "teluk-jimbaran", time(6, 45), 3.5),
    BoatDay("kapal-bno-01", TENANT_BADUNG, "benoa", "selat-badung", time(4, 30), 6.0),
    BoatDay("kapal-bno-02", TENANT_BADUNG, "benoa", "lepas-nusa-dua", time(7, 0), 4.0),
    BoatDay("perahu-krs-01", TENANT_INDRAMAYU, "karangsong", "utara-karangsong", time(4, 0), 7.0, (5.0, 7.0)),
    BoatDay("perahu-krs-02", TENANT_INDRAMAYU, "karangsong", "timur-indramayu", time(5, 30), 6.0, (5.0, 7.0)),
    BoatDay("perahu-krs-03", TENANT_INDRAMAYU, "karangsong", "utara-cimanuk", time(4, 45), 5.0, (5.0, 7.0)),
)


def phase_names(phase: ArrayLike) -> list[str]:
    """`TrackArrays.phase` codes as names from `PHASES`."""
    return [PHASES[int(p)] for p in np.asarray(phase).ravel()]


@dataclass(frozen=True, slots=True, eq=False)
class TrackArrays:
    """Readings at the requested times; ``cog_deg`` is NaN where the boat is not moving and
    ``phase`` indexes `PHASES`."""

    t_s: NDArray[np.float64]
    lat: NDArray[np.float64]
    lon: NDArray[np.float64]
    sog_kn: NDArray[np.float64]
    cog_deg: NDArray[np.float64]
    depth_m: NDArray[np.float64]
    temp_c: NDArray[np.float64]
    phase: NDArray[np.int64]


@dataclass(frozen=True, slots=True, eq=False)
class _Wiggles:
    """A sum of sines with drawn periods and phases, peak ``amp`` at most: smooth noise that is
    a function of time alone, so it needs no state and is the same at any sampling pace."""

    amp: NDArray[np.float64]
    period: NDArray[np.float64]
    phase: NDArray[np.float64]

    @staticmethod
    def draw(rng: np.random.Generator, n: int, amp: float, period: tuple[float, float]) -> _Wiggles:
        return _Wiggles(
            amp=np.full(n, amp / n), period=rng.uniform(*period, n), phase=rng.uniform(0.0, 2 * math.pi, n)
        )

    def __call__(self, t: NDArray[np.float64]) -> NDArray[np.float64]:
        arg = 2 * math.pi * t[..., None] / self.period + self.phase
        return np.sum(self.amp * np.sin(arg), axis=-1)


@dataclass(frozen=True, slots=True, eq=False)
class VoyagePlan:
    """One boat's trip on one day, fully drawn: the path as timed vertices in a local plane at
    the harbour's offing, and the parameters of every noise. Made by `plan_voyage`."""

    boat_id: str
    tenant: str
    harbour: Harbour
    ground: FishingGround
    sea_area: SeaArea
    departure: datetime
    plane: LocalPlane
    _vt: NDArray[np.float64] = field(repr=False)
    _vx: NDArray[np.float64] = field(repr=False)
    _vy: NDArray[np.float64] = field(repr=False)
    _phase: NDArray[np.int64] = field(repr=False)
    _coast: shapely.Geometry = field(repr=False)
    _gps: tuple[_Wiggles, _Wiggles] = field(repr=False)
    _sog: _Wiggles = field(repr=False)
    _cog: _Wiggles = field(repr=False)
    _heave: _Wiggles = field(repr=False)
    _relief: tuple[NDArray[np.float64], NDArray[np.float64]] = field(repr=False)
    _temp: _Wiggles = field(repr=False)

    @property
    def duration_s(self) -> float:
        return float(self._vt[-1])

    @property
    def arrival(self) -> datetime:
        return self.departure + timedelta(seconds=self.duration_s)

    def shifted(self, by: timedelta) -> VoyagePlan:
        """The same trip ``by`` later (earlier when negative): path, speeds and noise are
        functions of the time since departure; only the water's afternoon warming follows the
        new clock. The demo moves yesterday's trip to end about now."""
        return replace(self, departure=self.departure + by)

    def sample(self, t_s: ArrayLike) -> TrackArrays:
        """Readings at ``t_s`` seconds after departure (any order, any spacing). Before the
        departure and after the arrival the boat lies at its harbour's offing."""
        t = np.asarray(t_s, dtype=float).ravel()
        if not np.all(np.isfinite(t)):
            raise ValueError("times must be finite (no NaN or infinity)")
        vt, vx, vy = self._vt, self._vx, self._vy
        tc = np.clip(t, 0.0, vt[-1])
        k = np.clip(np.searchsorted(vt, tc, side="right") - 1, 0, vt.size - 2)
        dt = vt[k + 1] - vt[k]
        f = (tc - vt[k]) / dt
        ux, uy = (vx[k + 1] - vx[k]) / dt, (vy[k + 1] - vy[k]) / dt
        x = vx[k] + f * (vx[k + 1] - vx[k]) + self._gps[0](t)
        y = vy[k] + f * (vy[k + 1] - vy[k]) + self._gps[1](t)
        moored = (t < 0.0) | (t > vt[-1])
        speed = np.where(moored, 0.0, np.hypot(ux, uy))
        moving = speed > 0.05
        sog_kn = np.where(moving, speed / KNOT_M_S * (1.0 + self._sog(t)), 0.0)
        cog = np.where(moving, (np.degrees(np.arctan2(ux, uy)) + self._cog(t)) % 360.0, np.nan)
        lat, lon = self.plane.to_latlon(x, y)
        ashore_m = shapely.distance(self._coast, shapely.points(x, y))
        return TrackArrays(
            t_s=t,
            lat=lat,
            lon=lon,
            sog_kn=sog_kn,
            cog_deg=cog,
            depth_m=self._depth(x, y, ashore_m, t),
            temp_c=self._water_temp(ashore_m, t),
            phase=np.where(moored, _MOORED, self._phase[k]),
        )

    def readings_at(self, ts: datetime) -> tuple[Fix, Depth, WaterTemp]:
        """The fix, depth and water temperature the instruments give at ``ts``."""
        if not isinstance(ts, datetime) or ts.tzinfo is None or ts.utcoffset() is None:
            raise ValueError(f"ts must be a timezone-aware datetime, got {ts!r}")
        return next(self._readings([ts.astimezone(timezone.utc)]))

    def readings(self, step_s: float = 1.0) -> Iterator[tuple[Fix, Depth, WaterTemp]]:
        """Readings every ``step_s`` seconds from departure to arrival, both included."""
        if not (isinstance(step_s, (int, float)) and math.isfinite(step_s) and step_s > 0):
            raise ValueError(f"step_s must be a finite positive number, got {step_s!r}")
        n = int(math.floor(self.duration_s / step_s)) + 1
        for start in range(0, n, 3600):
            offsets = np.arange(start, min(n, start + 3600)) * float(step_s)
            yield from self._readings([self.departure + timedelta(seconds=float(s)) for s in offsets])

    def _readings(self, stamps: Sequence[datetime]) -> Iterator[tuple[Fix, Depth, WaterTemp]]:
        s = self.sample([(ts - self.departure).total_seconds() for ts in stamps])
        for i, ts in enumerate(stamps):
            cog = float(s.cog_deg[i])
            yield (
                Fix(ts, float(s.lat[i]), float(s.lon[i]), float(s.sog_kn[i]), None if math.isnan(cog) else cog),
                Depth(ts, float(s.depth_m[i])),
                WaterTemp(ts, float(s.temp_c[i])),
            )

    def _depth(self, x: NDArray, y: NDArray, ashore_m: NDArray, t: NDArray) -> NDArray[np.float64]:
        a = self.sea_area
        km = ashore_m / 1000.0
        shelf = a.shore_depth_m + a.shelf_slope_m_per_km * np.minimum(km, a.shelf_width_km)
        profile = np.minimum(shelf + a.slope_m_per_km * np.maximum(km - a.shelf_width_km, 0.0), a.max_depth_m)
        waves, phases = self._relief
        relief = np.mean(np.sin(np.outer(x, waves[:, 0]) + np.outer(y, waves[:, 1]) + phases), axis=1)
        return np.maximum(profile * (1.0 + 0.05 * relief) + self._heave(t), 0.5)

    def _water_temp(self, ashore_m: NDArray, t: NDArray) -> NDArray[np.float64]:
        epoch_h = (self.departure.timestamp() + t) / 3600.0
        local_h = (epoch_h + self.sea_area.utc_offset_h) % 24.0
        afternoon = 0.3 * np.cos(2 * math.pi * (local_h - 15.0) / 24.0)
        offshore = -0.02 * np.minimum(ashore_m / 1000.0, 30.0)
        temp = self.sea_area.surface_temp_c + afternoon + offshore + self._temp(t)
        return np.clip(temp, MIN_TEMP_C, MAX_TEMP_C)


class _Path:
    """Vertices with the time the boat reaches each; legs are straight at constant speed."""

    def __init__(self, x: float, y: float) -> None:
        self.t, self.x, self.y, self.phase = [0.0], [x], [y], []

    def go(self, x: float, y: float, speed_m_s: float, phase: int) -> None:
        d = math.hypot(x - self.x[-1], y - self.y[-1])
        if d < 0.5:
            return
        self.t.append(self.t[-1] + d / speed_m_s)
        self.x.append(x)
        self.y.append(y)
        self.phase.append(phase)

    def wait(self, seconds: float, phase: int) -> None:
        self.t.append(self.t[-1] + seconds)
        self.x.append(self.x[-1])
        self.y.append(self.y[-1])
        self.phase.append(phase)


def _fish(path: _Path, rng: np.random.Generator, cx: float, cy: float, r: float, fishing_s: float) -> None:
    """Trolling loops (ellipses of 150-600 m inside 0.9 r, one to three laps) alternating with
    drifts, until ``fishing_s`` is up (within one leg)."""
    end = path.t[-1] + fishing_s
    current = rng.uniform(0.0, 2 * math.pi)
    while True:
        rho, theta = 0.4 * r * math.sqrt(rng.uniform()), rng.uniform(0.0, 2 * math.pi)
        ox, oy = cx + rho * math.sin(theta), cy + rho * math.cos(theta)
        a = min(rng.uniform(150.0, 600.0), 0.5 * r)
        b = rng.uniform(0.5, 1.0) * a
        rot, turn, laps = rng.uniform(0.0, 2 * math.pi), rng.choice([-1.0, 1.0]), int(rng.integers(1, 4))
        ang = rng.uniform(0.0, 2 * math.pi) + turn * np.linspace(0.0, 2 * math.pi * laps, 48 * laps + 1)
        ex, ey = a * np.cos(ang), b * np.sin(ang)
        speed = rng.uniform(2.5, 4.0) * KNOT_M_S
        for px, py in zip(ox + ex * math.cos(rot) - ey * math.sin(rot), oy + ex * math.sin(rot) + ey * math.cos(rot)):
            path.go(float(px), float(py), speed, _FISHING)
            if path.t[-1] >= end:
                return
        drift = rng.uniform(0.3, 0.8) * KNOT_M_S
        for _ in range(4):  # a drift wanders a little about the current's direction
            leg_s = rng.uniform(2.0, 5.0) * 60.0
            heading = current + rng.normal(0.0, math.radians(15.0))
            nx = path.x[-1] + drift * leg_s * math.sin(heading)
            ny = path.y[-1] + drift * leg_s * math.cos(heading)
            off = math.hypot(nx - cx, ny - cy)
            if off > 0.9 * r:  # the current would carry her off the ground: she motors back in
                nx, ny = cx + (nx - cx) * 0.9 * r / off, cy + (ny - cy) * 0.9 * r / off
            before = path.t[-1]
            path.go(nx, ny, drift, _FISHING)
            if path.t[-1] == before:
                path.wait(leg_s, _FISHING)
            if path.t[-1] >= end:
                return


def _read_only(values: list, dtype: type = np.float64) -> NDArray:
    a = np.array(values, dtype=dtype)
    a.flags.writeable = False
    return a


def plan_voyage(boat: BoatDay, day: date, rng: np.random.Generator) -> VoyagePlan:
    """Draw one boat's trip on ``day`` (departure jitter, speeds, fishing pattern, noise)."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"day must be a date, got {day!r}")
    if not isinstance(boat, BoatDay):
        raise ValueError(f"boat must be a BoatDay, got {type(boat).__name__}")
    if boat.harbour not in HARBOURS:
        raise ValueError(f"unknown harbour {boat.harbour!r}")
    if boat.ground not in GROUNDS:
        raise ValueError(f"unknown fishing ground {boat.ground!r}")
    route(boat.harbour, boat.ground)  # ValueError when no lane joins them
    harbour, ground = HARBOURS[boat.harbour], GROUNDS[boat.ground]
    if boat.tenant != harbour.tenant:
        raise ValueError(
            f"boat {boat.boat_id!r} of {boat.tenant!r} cannot sail from {harbour.tenant!r}'s {harbour.key!r}"
        )
    if not (isinstance(boat.fishing_h, (int, float)) and math.isfinite(boat.fishing_h) and 0 < boat.fishing_h <= 20):
        raise ValueError(f"fishing_h must be in (0, 20], got {boat.fishing_h!r}")
    lo_kn, hi_kn = boat.transit_kn
    if not (math.isfinite(lo_kn) and math.isfinite(hi_kn) and 0 < lo_kn <= hi_kn <= 30):
        raise ValueError(f"transit_kn must be a range within (0, 30] kn, got {boat.transit_kn!r}")
    area = SEA_AREAS[harbour.sea_area]

    zone = timezone(timedelta(hours=area.utc_offset_h))
    jitter_s = float(np.clip(rng.normal(0.0, 600.0), -1800.0, 1800.0))
    departure = datetime.combine(day, boat.departure_local, zone) + timedelta(seconds=round(jitter_s))
    departure = departure.astimezone(timezone.utc)

    plane = LocalPlane(*harbour.offing)
    wx, wy = plane.to_xy(*np.array(outbound_waypoints(boat.harbour, boat.ground)).T)
    n_channel = len(harbour.channel)
    harbour_m_s = harbour.harbour_speed_kn * KNOT_M_S
    transit_m_s = rng.uniform(lo_kn, hi_kn) * KNOT_M_S
    path = _Path(float(wx[0]), float(wy[0]))
    for i in range(1, wx.size):  # legs 1..n_channel are the channel
        if i <= n_channel:
            path.go(float(wx[i]), float(wy[i]), harbour_m_s, _HARBOUR)
        else:
            path.go(float(wx[i]), float(wy[i]), transit_m_s, _OUTBOUND)
    gx, gy = (float(v) for v in plane.to_xy(*ground.centre))
    off = math.hypot(path.x[-1] - gx, path.y[-1] - gy)
    if off > 0.9 * ground.radius_m:  # run on to the edge of the ground
        edge = 0.9 * ground.radius_m / off
        path.go(gx + (path.x[-1] - gx) * edge, gy + (path.y[-1] - gy) * edge, transit_m_s, _OUTBOUND)
    _fish(path, rng, gx, gy, ground.radius_m, boat.fishing_h * 3600.0)
    for i in range(wx.size - 1, -1, -1):  # the same way home
        if i < n_channel:
            path.go(float(wx[i]), float(wy[i]), harbour_m_s, _HARBOUR)
        else:
            path.go(float(wx[i]), float(wy[i]), transit_m_s, _RETURN)

    coast = shapely.MultiLineString([np.column_stack(plane.to_xy(*np.array(line).T)) for line in area.coast])
    wavelength = rng.uniform(300.0, 1500.0, 3)
    heading = rng.uniform(0.0, 2 * math.pi, 3)
    waves = np.column_stack([np.sin(heading), np.cos(heading)]) * (2 * math.pi / wavelength)[:, None]
    return VoyagePlan(
        boat_id=boat.boat_id,
        tenant=boat.tenant,
        harbour=harbour,
        ground=ground,
        sea_area=area,
        departure=departure,
        plane=plane,
        _vt=_read_only(path.t),
        _vx=_read_only(path.x),
        _vy=_read_only(path.y),
        _phase=_read_only(path.phase, np.int64),
        _coast=coast,
        _gps=(_Wiggles.draw(rng, 3, 1.5, (120.0, 600.0)), _Wiggles.draw(rng, 3, 1.5, (120.0, 600.0))),
        _sog=_Wiggles.draw(rng, 3, 0.03, (20.0, 120.0)),
        _cog=_Wiggles.draw(rng, 3, 2.0, (20.0, 120.0)),
        _heave=_Wiggles.draw(rng, 2, 0.3, (6.0, 12.0)),
        _relief=(waves, rng.uniform(0.0, 2 * math.pi, 3)),
        _temp=_Wiggles.draw(rng, 3, 0.25, (1800.0, 7200.0)),
    )


def plan_fleet(day: date, rng: np.random.Generator, fleet: Sequence[BoatDay] = DEFAULT_FLEET) -> list[VoyagePlan]:
    """Every boat's trip on ``day``; each boat draws from its own child of ``rng``."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    ids = [b.boat_id for b in fleet]
    if len(set(ids)) != len(ids):
        raise ValueError(f"boat ids must be unique, got {ids}")
    return [plan_voyage(b, day, child) for b, child in zip(fleet, rng.spawn(len(fleet)))]
