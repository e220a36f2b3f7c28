"""Shapes of `GET /marine-conditions`: a GeoJSON FeatureCollection (RFC 7946) of forecast areas
and buoys, with the forecast's status beside the features (a foreign member, RFC 7946 6.1)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from api.models import PublicModel, UtcDatetime


class WaveCategoryPublic(PublicModel):
    code: str = Field(description="BMKG wave category: tenang, rendah, sedang, tinggi, sangat_tinggi, ekstrem, ...")
    label_id: str = Field(examples=["Sedang"])
    label_en: str = Field(examples=["Moderate"])


class ConditionsProperties(PublicModel):
    """What a feature says of the sea there; values null where nothing is known (never calm)."""

    kind: Literal["forecast_area", "buoy"]
    id: str = Field(description="The forecast area's id, or the buoy's.")
    name: str
    wave_m: float | None = Field(description="Significant wave height (m): the forecast hour's upper value, or measured.")
    wind_kn: float | None = Field(description="Wind speed (knots); null where not forecast or not measured.")
    category: WaveCategoryPublic | None
    above_small_boat_limits: bool | None = Field(
        description="Wave or wind above the tenant's small-boat limits; null when this place has no value at this time."
    )
    reasons: list[str] = Field(description="Why it is above the limits, or why nothing is known.")
    hour_start: UtcDatetime | None = Field(default=None, description="Forecast areas: start of the hour covering `at`.")
    observed_at: UtcDatetime | None = Field(default=None, description="Buoys: time of the newest reading.")
    fresh: bool | None = Field(default=None, description="Buoys: the reading is recent enough to tell the sea at `at`.")


class ConditionsFeature(PublicModel):
    type: Literal["Feature"] = "Feature"
    id: str = Field(description='"area:<id>" or "buoy:<id>".')
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon/MultiPolygon (areas) or Point (buoys), lon/lat.")
    properties: ConditionsProperties


class ForecastStatus(PublicModel):
    current: bool = Field(description="Whether a forecast holds at `at`; false: no area is judged, never calm sea.")
    problem: str | None = Field(description='Why there is none, e.g. "no current forecast: the forecast file is missing".')
    problem_code: str | None = Field(
        default=None,
        description="The problem as a stable code, for a client to word: no_sea_section, not_configured, file_missing, "
        "file_too_large, file_unreadable, file_invalid, not_current; null with no problem.",
    )
    issued: UtcDatetime | None = None
    valid_from: UtcDatetime | None = None
    valid_until: UtcDatetime | None = None
    source: str | None = None


class SmallBoatLimitsPublic(PublicModel):
    wave_m: float
    wind_kn: float


class MarineConditions(PublicModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    at: UtcDatetime
    bbox: list[float] = Field(description="west, south, east, north (RFC 7946 order), degrees.")
    forecast: ForecastStatus
    small_boat_limits: SmallBoatLimitsPublic | None = Field(description="The tenant's limits; null without a sea section.")
    features: list[ConditionsFeature]
