"""Planning a vessel's safe route: the query behind `routes_route`.

Scoping as for tracks: the vessel must be the caller's tenant's, and a fisher's own (another's is
`VesselNotFound`, as a missing one). The plan runs on the tenant's region prepared at start
(`sea_regions`), with the forecast the tenant's file holds at departure; the vessel's registered
speed, fuel use and limits (a limit of 0 is none registered: the tenant's small-boat limit,
`SeaConfig.small_boat_wave_m` / `small_boat_wind_kn`, BMKG's 1.25 m and 15 kn by default). The
verdict's reasons tell times in the tenant's zone (`SeaConfig.timezone`: WIB, WITA or WIT).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from api.errors import Forbidden
from api.permissions import GROUND_READERS
from api.services.alert_words import ZONES
from central.accounts import Principal
from contract.clock import utcnow
from core.config import TepiConfig
from kinds.fishfinder.api.errors import GroundNotFound, NoRoute
from kinds.fishfinder.api.grounds_service import ground_position
from kinds.fishfinder.api.geo import KM_PER_NM
from kinds.fishfinder.api.route_models import (
    RouteFeature,
    RouteForecast,
    RouteLimits,
    RouteLine,
    RouteProperties,
    RouteReason,
    SnappedPosition,
)
from kinds.fishfinder.api.sea_regions import RoutingRegion
from kinds.fishfinder.api.sea_service import visible_vessel
from kinds.fishfinder.route_verdict import DEFAULT_STAY, estimate_trip, judge_route
from kinds.fishfinder.sea_route import NoSeaRoute
from kinds.fishfinder.sea_weather import Boat, plan_weather_route

#: One coordinate of "lat,lon": a decimal number, a leading sign allowed ("+8.5", "-8.5", "1e-3").
_NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")


def parse_position(text: str) -> tuple[float, float] | None:
    """(lat, lon) from "lat,lon" in decimal degrees; None for text without a comma (a ground id);
    `ValueError`, saying why, for text with a comma that is not a position on the globe."""
    if "," not in text:
        return None
    parts = text.split(",")
    if len(parts) != 2 or not all(_NUMBER.match(p) for p in parts):
        raise ValueError(f"{text!r} is not a position: give lat,lon in decimal degrees, e.g. -8.95,115.12")
    lat, lon = float(parts[0]), float(parts[1])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"{text!r} is not a position (lat -90..90, lon -180..180)")
    return lat, lon


def plan_route(
    session: Session,
    principal: Principal,
    regions: dict[str, RoutingRegion],
    config: TepiConfig,
    vessel_id: str,
    start_text: str,
    end_text: str,
    depart: datetime,
    stay: timedelta = DEFAULT_STAY,
) -> RouteFeature:
    vessel = visible_vessel(session, principal, vessel_id)
    region = regions.get(principal.tenant)
    if region is None:
        raise NoRoute(f"tenant {principal.tenant} has no sea section in the configuration: no routes are planned for it", "no_sea_section")
    try:
        start = parse_position(start_text)
        end = parse_position(end_text)
    except ValueError as exc:
        raise NoRoute(str(exc), "not_a_position") from None
    if start is None:
        raise NoRoute(f"from={start_text!r} is not a position: give lat,lon in decimal degrees", "not_a_position")
    if end is None:
        if principal.role not in GROUND_READERS:
            # Where the fish are is not this role's to know (api/permissions.py): naming a ground
            # must not reveal it either, published or not.
            raise Forbidden(f"role {principal.role} may not read fishing grounds: give the destination as lat,lon")
        end = ground_position(session, config, principal.tenant, end_text, utcnow())
        if end is None:
            raise GroundNotFound(end_text)
    if not vessel.speed_kn > 0:
        raise NoRoute(f"vessel {vessel.id!r} has no cruising speed registered: no time or fuel can be estimated", "no_cruising_speed")
    sea = region.sea
    boat = Boat(vessel.speed_kn, vessel.wave_limit_m or sea.small_boat_wave_m, vessel.wind_limit_kn or sea.small_boat_wind_kn)
    forecast, problem = region.forecast_file.read().usable_at(depart)
    weather = region.forecast_grid(forecast) if forecast is not None else None
    try:
        route = plan_weather_route(region.grid, start, end, depart, boat, weather)
    except NoSeaRoute as exc:
        raise NoRoute(f"no sea route: {exc}", exc.code) from None
    verdict, reasons = judge_route(route, region.grid, weather, problem, depart, boat, (sea.small_boat_wave_m, sea.small_boat_wind_kn),
                                   stay=stay, zone=ZONES[sea.timezone].tz)
    trip = estimate_trip(route.length_m, vessel.speed_kn, vessel.fuel_l_per_h, depart)
    fuel_known = vessel.fuel_l_per_h > 0
    km = route.length_m / 1000.0
    return RouteFeature(
        geometry=RouteLine(coordinates=[(round(lon, 6), round(lat, 6)) for lat, lon in route.points]),
        properties=RouteProperties(
            vessel=vessel.id,
            distance_km=round(km, 3),
            distance_nm=round(km / KM_PER_NM, 3),
            depart=depart,
            eta=trip.eta,
            duration_h=round(trip.duration_h, 3),
            stay_h=round(stay.total_seconds() / 3600, 3),
            fuel_l=round(trip.fuel_l, 1) if fuel_known else None,
            fuel_l_without_reserve=round(trip.fuel_l_without_reserve, 1) if fuel_known else None,
            verdict=verdict,  # type: ignore[arg-type]
            reasons=[RouteReason(code=r.code, text=r.text, verdict=r.verdict) for r in reasons],  # type: ignore[arg-type]
            forecast=RouteForecast(issued=forecast.issued, valid_until=forecast.valid_until) if forecast is not None else None,
            limits=RouteLimits(wave_m=boat.wave_limit_m, wind_kn=boat.wind_limit_kn),
            start_snapped=_snapped(route.start_snapped),
            end_snapped=_snapped(route.end_snapped),
        ),
    )


def _snapped(point: tuple[float, float] | None) -> SnappedPosition | None:
    return None if point is None else SnappedPosition(lat=round(point[0], 6), lon=round(point[1], 6))
