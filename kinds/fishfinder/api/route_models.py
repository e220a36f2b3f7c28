"""The shape of a planned route: a GeoJSON Feature (RFC 7946) with a LineString in [lon, lat]
order and the trip's estimates and verdict as properties."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.models import PublicModel, UtcDatetime

Verdict = Literal["go", "caution", "no-go"]


class RouteLine(PublicModel):
    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]] = Field(description="[longitude, latitude] pairs (WGS 84), start to end.")


class RouteReason(PublicModel):
    code: Literal[
        "no_forecast", "above_vessel_limits", "above_small_boat_limits", "detour_around_weather", "no_weather_free_route"
    ]
    text: str
    verdict: Verdict = Field(description="The verdict this reason alone would give.")


class RouteForecast(PublicModel):
    issued: UtcDatetime
    valid_until: UtcDatetime


class RouteLimits(PublicModel):
    wave_m: float = Field(description="The boat's wave limit; when none is registered, the tenant's small-boat limit "
                          "(BMKG's 1.25 m by default).")
    wind_kn: float = Field(description="The boat's wind limit; when none is registered, the tenant's small-boat limit "
                           "(BMKG's 15 kn by default).")


class SnappedPosition(PublicModel):
    lat: float
    lon: float


class RouteProperties(PublicModel):
    vessel: str
    distance_km: float
    distance_nm: float
    depart: UtcDatetime
    eta: UtcDatetime = Field(description="depart + distance / the vessel's cruising speed.")
    duration_h: float
    stay_h: float = Field(description="Hours at the destination after the ETA that the verdict judged too (the query's "
                          "stay_h): weather above the boat's limits there within them is no-go.")
    fuel_l: float | None = Field(description="Fuel for the trip with a 1.5x reserve; null when the vessel's fuel use is not registered.")
    fuel_l_without_reserve: float | None
    verdict: Verdict
    reasons: list[RouteReason] = Field(description="Most serious first; empty for go. Times in their words are the "
                                       "tenant's local time (WIB, WITA or WIT), named.")
    forecast: RouteForecast | None = Field(description="The forecast the verdict read; null: no current forecast.")
    limits: RouteLimits
    start_snapped: SnappedPosition | None = Field(description="Where a start on the land mask (a harbour) left from.")
    end_snapped: SnappedPosition | None


class RouteFeature(PublicModel):
    type: Literal["Feature"] = "Feature"
    geometry: RouteLine
    properties: RouteProperties
