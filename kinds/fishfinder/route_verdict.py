"""A planned route's estimates (distance, time, fuel) and its verdict: go, caution or no-go, with
the reasons a fisher reads.

Pure: the route, the forecast laid on the grid (or why there is none) and the limits in.

* Time = distance / cruising speed; fuel = litres per hour x time, and with a reserve of about
  1.5x (`FUEL_RESERVE`, as the project's domain notes on route estimates give it). Both are
  given.
* The verdict, from the forecast valid where the boat is expected, sampled every
  `SAMPLE_STEP_M` along the line at its ETA (departure + distance along it / speed), and at
  the destination every `STAY_STEP_S` over the stay after arrival (`stay`, `DEFAULT_STAY` by
  default: the boat fishes there, and a storm reaching the ground an hour after it arrived is
  as much its danger as one on the way):
  - no current forecast (none configured, missing, invalid, stale at departure, or not covering
    part of the way, of the hours or of the stay) is never "go": caution, saying there is no
    current forecast;
  - waves or wind above the boat's own limits on the way or at the destination during the
    stay: no-go ("... at the destination from 11:00 WITA, within the 3 h stay"); and no-go when
    no way avoids them (the answer is then the plain sea route);
  - a route that goes around such weather: caution, "detour around forecast weather";
  - above the tenant's small-boat limits (`SeaConfig`, BMKG's waves over 1.25 m and wind over
    15 kn by default) but within the boat's, on the way or during the stay: caution.
* Times in the reasons are local, in the zone given (the tenant's WIB, WITA or WIT), as a
  fisher reads them; the answer's own time fields stay UTC.
* The way back is not judged: plan it as its own route, departing when the stay ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

import numpy as np

from kinds.fishfinder.sea_route import SeaGrid
from kinds.fishfinder.sea_weather import Boat, ForecastGrid, Spell, WeatherRoute, sample_line

#: Fuel with reserve = fuel for the trip x this.
FUEL_RESERVE = 1.5
#: Along-route step (m) at which the forecast is read at the boat's ETA.
SAMPLE_STEP_M = 100.0
#: Time at the destination judged after arrival when the caller names none: a morning's fishing
#: at a ground (Tepi's choice; the boats it serves make day trips of a few hours' fishing).
DEFAULT_STAY = timedelta(hours=3)
#: Step (s) at which the destination's forecast is read over the stay (hourly forecasts: the
#: first hour above the limits is told to the minute).
STAY_STEP_S = 60.0
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
    *,
    stay: timedelta = DEFAULT_STAY,
    zone: tzinfo = timezone.utc,
) -> tuple[str, list[Reason]]:
    """The verdict and its reasons, most serious first. `weather` None: no current forecast,
    `no_forecast` saying why; `small_boat` is the tenant's (wave m, wind kn) limits for small
    boats; `stay` the time at the destination judged after arrival; `zone` the time zone the
    reasons tell times in. `ValueError` for a negative stay."""
    if stay < timedelta(0):
        raise ValueError(f"the stay at the destination must be 0 or more, not {stay}")
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
        reasons += _forecast_reasons(route, grid, weather, depart, boat, small_boat, stay, zone)
    reasons.sort(key=lambda r: -_RANK[r.verdict])
    verdict = max((r.verdict for r in reasons), key=_RANK.__getitem__, default=GO)
    return verdict, reasons


def _forecast_reasons(
    route: WeatherRoute, grid: SeaGrid, weather: ForecastGrid, depart: datetime, boat: Boat, small_boat: tuple[float, float],
    stay: timedelta, zone: tzinfo,
) -> list[Reason]:  # fmt: skip
    lat, lon, along = sample_line(route.points, SAMPLE_STEP_M)
    r, c, inside = grid.cells_of(lat, lon)
    at_sea = inside & grid.sea[r, c]  # a harbour on the mask's land is no forecast area's
    cells = (r * grid.shape[1] + c)[at_sea]
    epoch = depart.timestamp() + along[at_sea] / boat.speed_m_s
    # The destination (its last cell at sea) from arrival to the end of the stay.
    arrive = depart.timestamp() + route.length_m / boat.speed_m_s
    stay_epoch = arrive + np.append(np.arange(0.0, stay.total_seconds(), STAY_STEP_S), stay.total_seconds())
    stay_cells = np.repeat(cells[-1:], stay_epoch.size)
    stay_epoch = stay_epoch[: stay_cells.size]
    out = []
    _, _, covered = weather.values(cells, epoch)
    _, _, stay_covered = weather.values(stay_cells, stay_epoch)
    if not covered.all() or not stay_covered.all():
        f = weather.forecast
        share = 100.0 * float(np.count_nonzero(~covered)) / max(1, covered.size)
        where = f"{share:.0f}% of the way" if not covered.all() else f"the {_hours(stay)} stay at the destination"
        out.append(Reason(
            "no_forecast",
            f"no current forecast for {where}: the forecast issued {_local(f.issued, zone)} covers "
            f"its areas until {_local(f.valid_until, zone)}, not all of this trip's waters and hours",
            CAUTION,
        ))  # fmt: skip
    for code, (wave_m, wind_kn), words, verdict in (
        ("above_vessel_limits", (boat.wave_limit_m, boat.wind_limit_kn), "the boat's limits", NO_GO),
        ("above_small_boat_limits", small_boat, "the small-boat limits", CAUTION),
    ):
        parts = []
        way = weather.spells(cells, epoch, wave_m, wind_kn)
        if way:
            parts.append(f"on the way: {_spells(way, zone)}")
        there = weather.over(stay_cells, stay_epoch, wave_m, wind_kn)
        if there.any():
            first = float(stay_epoch[np.argmax(there)])
            spells = weather.spells(stay_cells[there], stay_epoch[there], wave_m, wind_kn)
            parts.append(f"at the destination from {_utc(first).astimezone(zone):%H:%M}, within the {_hours(stay)} stay: "
                         f"{_spells(spells, zone)}")
        if parts:
            within = "" if verdict == NO_GO else " but within the boat's"
            out.append(Reason(code, f"forecast above {words} ({_limits(wave_m, wind_kn)}){within} {'; '.join(parts)}", verdict))
            if verdict == NO_GO:
                return out
    return out


def _limits(wave_m: float, wind_kn: float) -> str:
    return f"waves {wave_m:g} m, wind {wind_kn:g} kn"


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(epoch_s, timezone.utc)


def _local(at: datetime, zone: tzinfo) -> str:
    """`at` in `zone`, named: "2026-12-07 09:00 WITA"."""
    return f"{at.astimezone(zone):%Y-%m-%d %H:%M %Z}"


def _spells(spells: list[Spell], zone: tzinfo) -> str:
    return "; ".join(
        f"{s.area_name} {s.first.astimezone(zone):%Y-%m-%d %H:%M}-{s.until.astimezone(zone):%H:%M} {zone.tzname(None)}, "
        f"waves up to {s.wave_m:g} m, wind up to {s.wind_kn:g} kn"
        for s in spells
    )
