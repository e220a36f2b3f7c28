"""Sea routes that keep a boat out of forecast weather above its limits, straightened where the
sea allows.

Pure: a prepared `SeaGrid`, a forecast laid on it (`ForecastGrid`), the trip and the boat in; a
polyline out; no clock, no I/O.

Weather depends on when the boat is where. Dijkstra's distances from the start give every cell
its earliest arrival (ETA = departure + distance / speed); a cell where the forecast valid at
that ETA exceeds the boat's wave or wind limit is closed, and the route is planned again, until
the route's own cells are clear at their ETAs (`MAX_ROUNDS` at most; closing cells only delays
the others, so a few rounds settle). When no way avoids the weather, the plain sea route is
returned marked `weather_free=False`: the caller says "no-go" and why.

A grid route zigzags between cell centres (8 directions). `straighten` joins each point to the
farthest later point it sees in a straight line over passable cells (every cell the segment
crosses or grazes, `sea_route.cells_touched`), which removes the zigzag without leaving the cells
the planner allowed (sea with the clearance, outside hazards and closed weather).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
import shapely

from core.sea_forecast import SeaForecast
from kinds.fishfinder.sea_route import SeaGrid, haversine_m, polyline_m

#: 1 knot = 1852 m per hour (BIPM SI Brochure, 9th ed., Table 8).
KNOT_M_PER_S = 1852.0 / 3600.0
#: Re-plans at most: each round closes every reachable cell over the limits at its ETA.
MAX_ROUNDS = 5


@dataclass(frozen=True)
class Boat:
    """What the plan needs of a vessel: cruising speed and the weather it may be out in."""

    speed_kn: float
    wave_limit_m: float
    wind_limit_kn: float

    def __post_init__(self) -> None:
        if not (self.speed_kn > 0 and math.isfinite(self.speed_kn)):
            raise ValueError(f"a route needs a cruising speed above 0 knots, not {self.speed_kn!r}")
        if not (self.wave_limit_m > 0 and self.wind_limit_kn > 0):
            raise ValueError(f"wave and wind limits must be above 0, not {self.wave_limit_m!r} m, {self.wind_limit_kn!r} kn")

    @property
    def speed_m_s(self) -> float:
        return self.speed_kn * KNOT_M_PER_S


@dataclass(frozen=True)
class Spell:
    """Where and when the forecast on the way exceeds some limits: one area, the hours from
    `first` to `until`, the highest wave and wind met there."""

    area_id: str
    area_name: str
    first: datetime
    until: datetime
    wave_m: float
    wind_kn: float


@dataclass(frozen=True, eq=False)
class ForecastGrid:
    """A forecast's areas on a grid: `covers[k]` marks the cells area k's polygon touches."""

    forecast: SeaForecast
    covers: np.ndarray

    @classmethod
    def of(cls, grid: SeaGrid, forecast: SeaForecast) -> ForecastGrid:
        m = grid.mask
        half_lat, half_lon = abs(m.lat_step) / 2, abs(m.lon_step) / 2
        lon, lat = np.meshgrid(grid.lon_c, grid.lat_c)
        squares = shapely.box(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat).ravel()
        covers = np.zeros((len(forecast.areas), squares.size), dtype=bool)
        for k, area in enumerate(forecast.areas):
            shapely.prepare(area.geometry)
            covers[k] = shapely.intersects(area.geometry, squares)
        return cls(forecast, covers)

    def values(self, cells: np.ndarray, epoch_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The highest wave and wind the areas covering each cell forecast at each time, and
        whether any did (outside every area, outside the forecast's window, or at an hour it
        does not give: no forecast there)."""
        wave = np.full(len(cells), np.nan)
        wind = np.full(len(cells), np.nan)
        for k, area in enumerate(self.forecast.areas):
            inside = self.covers[k, cells]
            if inside.any():
                w, v = area.values_at(epoch_s[inside])
                wave[inside] = np.fmax(wave[inside], w)
                wind[inside] = np.fmax(wind[inside], v)
        f = self.forecast
        valid = (epoch_s >= f.valid_from.timestamp()) & (epoch_s < f.valid_until.timestamp())
        return wave, wind, valid & np.isfinite(wave) & np.isfinite(wind)

    def over(self, cells: np.ndarray, epoch_s: np.ndarray, wave_m: float, wind_kn: float) -> np.ndarray:
        """Whether the forecast at each (cell, time) exceeds `wave_m` or `wind_kn`."""
        wave, wind, covered = self.values(cells, epoch_s)
        with np.errstate(invalid="ignore"):
            return covered & ((wave > wave_m) | (wind > wind_kn))

    def spells(self, cells: np.ndarray, epoch_s: np.ndarray, wave_m: float, wind_kn: float) -> list[Spell]:
        """Each area whose forecast exceeds `wave_m` or `wind_kn` at some of the (cell, time)
        pairs, with the hours it does (whole forecast hours) and the highest values met."""
        out = []
        f = self.forecast
        valid = (epoch_s >= f.valid_from.timestamp()) & (epoch_s < f.valid_until.timestamp())
        for k, area in enumerate(f.areas):
            inside = self.covers[k, cells] & valid
            if not inside.any():
                continue
            t = epoch_s[inside]
            w, v = area.values_at(t)
            with np.errstate(invalid="ignore"):
                bad = (w > wave_m) | (v > wind_kn)
            if not bad.any():
                continue
            hours = area.starts[np.searchsorted(area.starts, t[bad], side="right") - 1]
            out.append(Spell(
                area.id, area.name, _utc(hours.min()), _utc(hours.max()) + timedelta(hours=1),
                float(np.nanmax(w[bad])), float(np.nanmax(v[bad])),
            ))  # fmt: skip
        return out


@dataclass(frozen=True)
class WeatherRoute:
    """A planned route: its points ((lat, lon), the given start and end first and last), its
    length, where an end on the mask's land was moved to (the nearest sea cell's centre),
    whether it avoids the forecast weather above the boat's limits (`weather_free`; False: no
    way does, this is the plain sea route) and whether it goes around weather the plain route
    met (`detour`)."""

    points: list[tuple[float, float]]
    length_m: float
    start_snapped: tuple[float, float] | None
    end_snapped: tuple[float, float] | None
    weather_free: bool
    detour: bool


def plan_weather_route(
    grid: SeaGrid,
    start: tuple[float, float],
    end: tuple[float, float],
    depart: datetime,
    boat: Boat,
    weather: ForecastGrid | None,
) -> WeatherRoute:
    """The shortest sea route from `start` to `end` ((lat, lon)) leaving at `depart` that stays
    out of cells whose forecast at the boat's ETA there exceeds its limits (none without
    `weather`). `NoSeaRoute` when no sea route exists at all; `ValueError` for a departure
    without a time zone."""
    if depart.tzinfo is None:
        raise ValueError("depart needs a time zone")
    t0 = depart.timestamp()
    ends = grid.ends(start, end)
    base = grid.passable(ends)
    closed = np.zeros(base.size, dtype=bool)
    plain: tuple[list[int], np.ndarray] | None = None
    found: tuple[list[int], np.ndarray] | None = None
    detour = False
    for _ in range(MAX_ROUNDS):
        passable = base & ~closed.reshape(base.shape)
        dist, pred = grid.distances(passable, ends[0])
        path = grid.path(pred, *ends)
        if path is None:
            break
        if plain is None:
            plain = (path, passable)
        if weather is None:
            found = (path, passable)
            break
        reach = np.flatnonzero(np.isfinite(dist))
        over = reach[weather.over(reach, t0 + dist[reach] / boat.speed_m_s, boat.wave_limit_m, boat.wind_limit_kn)]
        if not np.isin(path, over).any():
            found = (path, passable)
            break
        closed[over] = True
        detour = True
    if plain is None:
        raise grid.no_way(start, end, ends)
    path, passable = found or plain
    points, start_snapped, end_snapped = _line(grid, passable, start, end, path, ends)
    return WeatherRoute(
        points=points, length_m=polyline_m(points), start_snapped=start_snapped, end_snapped=end_snapped,
        weather_free=found is not None, detour=found is not None and detour,
    )


def _line(
    grid: SeaGrid, passable: np.ndarray, start: tuple[float, float], end: tuple[float, float], path: list[int], ends: tuple[int, int]
) -> tuple[list[tuple[float, float]], tuple[float, float] | None, tuple[float, float] | None]:
    """The path's cell centres, straightened, from the given start to the given end. An end in
    its own cell replaces that cell's centre; an end moved off the land keeps its leg to the
    centre it was moved to, which is reported."""
    cols = grid.shape[1]
    centres = grid.centres(path)
    own = []
    for point, cell in ((start, ends[0]), (end, ends[1])):
        r, c, _ = grid.cells_of(np.array([point[0]]), np.array([point[1]]))
        own.append(int(r[0]) * cols + int(c[0]) == cell)
    line = [start if own[0] else centres[0], *centres[1:-1], end if own[1] else centres[-1]] if len(centres) > 1 else (
        [start if own[0] else centres[0], end if own[1] else centres[0]]
    )
    line = straighten(grid, passable, line)
    start_snapped = None if own[0] else centres[0]
    end_snapped = None if own[1] else centres[-1]
    points = ([start] if start_snapped else []) + line + ([end] if end_snapped else [])
    return points, start_snapped, end_snapped


def straighten(grid: SeaGrid, passable: np.ndarray, points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """`points` with every run of points that a straight segment over passable cells can
    replace replaced by it (greedy: from each kept point to the farthest next point it sees)."""
    out = [points[0]]
    i, n = 0, len(points)
    while i < n - 1:
        j = i + 1
        while j + 1 < n and in_sight(grid, passable, points[i], points[j + 1]):
            j += 1
        out.append(points[j])
        i = j
    return out


def in_sight(grid: SeaGrid, passable: np.ndarray, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether the straight segment a-b stays on passable cells: every cell it crosses or grazes
    (`SeaGrid.segment_cells`), so no point of it, however finely sampled, is on another."""
    r, c, inside = grid.segment_cells(a, b)
    return bool(inside and passable[r, c].all())


def sample_line(points: Sequence[tuple[float, float]], step_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points every `step_m` along a polyline (each vertex included) and the distance (m) along
    it to each: for checking a route against land, hazards or the forecast at its ETAs."""
    if step_m <= 0:
        raise ValueError(f"step_m must be above 0, not {step_m!r}")
    lats, lons, along = [np.array([points[0][0]])], [np.array([points[0][1]])], [np.array([0.0])]
    done = 0.0
    for (la, lo), (lb, lb_lon) in zip(points[:-1], points[1:]):
        d = float(haversine_m(la, lo, lb, lb_lon))
        n = max(1, int(math.ceil(d / step_m)))
        f = np.arange(1, n + 1) / n
        lats.append(la + (lb - la) * f)
        lons.append(lo + (lb_lon - lo) * f)
        along.append(done + d * f)
        done += d
    return np.concatenate(lats), np.concatenate(lons), np.concatenate(along)


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(float(epoch_s), timezone.utc)
