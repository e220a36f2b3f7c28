"""A planned route's estimates (distance, time, fuel) and its verdict: go, caution or no-go, with
the reasons a fisher reads.

Pure: the route, the forecast laid on the grid (or why there is none) and the limits in.

* Time = distance / cruising speed; fuel = litres per hour x time, and with a reserve of about
  1.5x (`FUEL_RESERVE`, as the project's domain notes on route estimates give it). Both are
  given.
* The verdict, from the forecast valid where the boat is expected, sampled every
  `SAMPLE_STEP_M` along the line at its ETA (departure + distance along it / speed):
  - no current forecast (none configured, missing, invalid, stale at departure, or not covering
    part of the way or of the hours) is never "go": caution, saying there is no current forecast;
  - waves or wind above the boat's own limits on the way or at the destination: no-go; and
    no-go when no way avoids them (the answer is then the plain sea route);
  - a route that goes around such weather: caution, "detour around forecast weather";
  - above BMKG's small-boat limits (waves over 1.25 m, wind over 15 kn, `SeaConfig`) but within
    the boat's: caution.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from kinds.fishfinder.sea_route import SeaGrid
from kinds.fishfinder.sea_weather import Boat, ForecastGrid, Spell, WeatherRoute, sample_line

#: Fuel with reserve = fuel for the trip x this.
FUEL_RESERVE = 1.5
#: Along-route step (m) at which the forecast is read at the boat's ETA.
SAMPLE_STEP_M = 100.0
GO, CAUTION, NO_GO = "go", "caution", "no-go"
_RANK = {GO: 0, CAUTION: 1, NO_GO: 2}


@dataclass(frozen=True)
class Reason:
    """Why a verdict is what it is: a stable code for programs, words for the fisher."""

    code: str
    text: str
    verdict: str


@dataclass(frozen=True)
class TripEstimate:
    duration_h: float
    eta: datetime
    fuel_l: float
    fuel_l_without_reserve: float


def estimate_trip(length_m: float, speed_kn: float, fuel_l_per_h: float, depart: datetime) -> TripEstimate:
    """Time at cruising speed, ETA and fuel (with and without the reserve); `ValueError` for a
    speed not above 0 or a negative fuel use."""
    if not speed_kn > 0:
        raise ValueError(f"a trip needs a cruising speed above 0 knots, not {speed_kn!r}")
    if not fuel_l_per_h >= 0:
        raise ValueError(f"fuel use must be 0 or more litres per hour, not {fuel_l_per_h!r}")
    hours = length_m / 1852.0 / speed_kn
    fuel = fuel_l_per_h * hours
    return TripEstimate(hours, depart + timedelta(hours=hours), fuel * FUEL_RESERVE, fuel)


def judge_route(
    route: WeatherRoute,
    grid: SeaGrid,
    weather: ForecastGrid | None,
    no_forecast: str | None,
    depart: datetime,
    boat: Boat,
    small_boat: tuple[float, float],
) -> tuple[str, list[Reason]]:
    """The verdict and its reasons, most serious first. `weather` None: no current forecast,
    `no_forecast` saying why; `small_boat` is BMKG's (wave m, wind kn) limits for small boats."""
    reasons: list[Reason] = []
    if not route.weather_free:
        reasons.append(Reason(
            "no_weather_free_route",
            f"no way by sea avoids forecast weather above the boat's limits ({_limits(boat.wave_limit_m, boat.wind_limit_kn)}): "
            "this is the plain sea route",
            NO_GO,
        ))  # fmt: skip
    elif route.detour:
        reasons.append(Reason(
            "detour_around_weather",
            f"detour around forecast weather above the boat's limits ({_limits(boat.wave_limit_m, boat.wind_limit_kn)})",
            CAUTION,
        ))  # fmt: skip
    if weather is None:
        reasons.append(Reason("no_forecast", no_forecast or "no current forecast", CAUTION))
    else:
        reasons += _forecast_reasons(route, grid, weather, depart, boat, small_boat)
    reasons.sort(key=lambda r: -_RANK[r.verdict])
    verdict = max((r.verdict for r in reasons), key=_RANK.__getitem__, default=GO)
    return verdict, reasons


def _forecast_reasons(
    route: WeatherRoute, grid: SeaGrid, weather: ForecastGrid, depart: datetime, boat: Boat, small_boat: tuple[float, float]
) -> list[Reason]:
    lat, lon, along = sample_line(route.points, SAMPLE_STEP_M)
    r, c, inside = grid.cells_of(lat, lon)
    at_sea = inside & grid.sea[r, c]  # a harbour on the mask's land is no forecast area's
    cells = (r * grid.shape[1] + c)[at_sea]
    epoch = depart.timestamp() + along[at_sea] / boat.speed_m_s
    out = []
    _, _, covered = weather.values(cells, epoch)
    if not covered.all():
        f = weather.forecast
        share = 100.0 * float(np.count_nonzero(~covered)) / max(1, covered.size)
        out.append(Reason(
            "no_forecast",
            f"no current forecast for {share:.0f}% of the way: the forecast issued {f.issued:%Y-%m-%d %H:%M} UTC covers "
            f"its areas until {f.valid_until:%Y-%m-%d %H:%M} UTC, not all of this trip's waters and hours",
            CAUTION,
        ))  # fmt: skip
    over_boat = weather.spells(cells, epoch, boat.wave_limit_m, boat.wind_limit_kn)
    if over_boat:
        out.append(Reason(
            "above_vessel_limits",
            f"forecast above the boat's limits ({_limits(boat.wave_limit_m, boat.wind_limit_kn)}) on the way: {_spells(over_boat)}",
            NO_GO,
        ))  # fmt: skip
        return out
    over_small = weather.spells(cells, epoch, *small_boat)
    if over_small:
        out.append(Reason(
            "above_small_boat_limits",
            f"forecast above BMKG's small-boat limits ({_limits(*small_boat)}) but within the boat's on the way: {_spells(over_small)}",
            CAUTION,
        ))  # fmt: skip
    return out


def _limits(wave_m: float, wind_kn: float) -> str:
    return f"waves {wave_m:g} m, wind {wind_kn:g} kn"


def _spells(spells: list[Spell]) -> str:
    return "; ".join(
        f"{s.area_name} {s.first:%Y-%m-%d %H:%M}-{s.until:%H:%M} UTC, waves up to {s.wave_m:g} m, wind up to {s.wind_kn:g} kn"
        for s in spells
    )
