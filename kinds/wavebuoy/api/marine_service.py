"""`GET /marine-conditions`: a tenant's forecast areas and buoys in a box, judged for small boats.

The box is `bbox=west,south,east,north` in degrees, the order of GeoJSON (RFC 7946 section 5) and
of OGC API - Features' `bbox` parameter; at most `MAX_BBOX_DEG` on a side (a regency's waters
span a degree or two). Without it, the tenant's sea region (`sea.region`).

A forecast that does not hold at `at` (expired, not yet valid, missing, invalid) gives no area
features and `forecast.current` false with the problem in words: an empty answer must never read
as a calm sea. A tenant without a sea section gets the same shape with the problem saying so
(200, not 404: every role of every tenant may ask, and the answer is "nothing known here").
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta

from shapely.geometry import mapping
from sqlalchemy.orm import Session

from api.errors import InvalidQuery
from core.config_model import SeaConfig
from core.sea_forecast import SeaForecastFile, WaveCategory
from kinds.wavebuoy.api.marine_models import (
    ConditionsFeature,
    ConditionsProperties,
    ForecastStatus,
    MarineConditions,
    SmallBoatLimitsPublic,
    WaveCategoryPublic,
)
from kinds.wavebuoy.marine import BuoySource, Conditions, SmallBoatLimits, area_conditions, judge

#: Largest box side (degrees) a query may ask for.
MAX_BBOX_DEG = 10.0
#: Buoys whose newest reading is older than this before `at` are not shown.
BUOYS_SHOWN = timedelta(hours=24)
#: A buoy reading older than this (before `at`) is shown, but not as the sea at `at` (`fresh` false).
BUOY_FRESH_S = 2 * 3600
NO_SEA = "no current forecast: this tenant has no sea section configured"



def parse_bbox(text: str | None, sea: SeaConfig | None) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of `bbox=west,south,east,north`, or the sea region when absent
    (None without either). `InvalidQuery` (422) saying what is wrong."""
    if text is None:
        if sea is None:
            return None
        r = sea.region
        return r.west, r.south, r.east, r.north
    parts = text.split(",")
    if len(parts) != 4:
        raise InvalidQuery("bbox must be four numbers: west,south,east,north (degrees)")
    try:
        west, south, east, north = (float(p) for p in parts)
    except ValueError:
        raise InvalidQuery("bbox must be four numbers: west,south,east,north (degrees)") from None
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidQuery("bbox values must be finite numbers")
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= 90 and -90 <= north <= 90):
        raise InvalidQuery("bbox: longitudes must lie in -180..180 and latitudes in -90..90")
    if not (west < east and south < north):
        raise InvalidQuery("bbox: west must be less than east and south less than north (west,south,east,north)")
    if east - west > MAX_BBOX_DEG or north - south > MAX_BBOX_DEG:
        raise InvalidQuery(f"bbox: at most {MAX_BBOX_DEG:g} degrees on a side")
    return west, south, east, north


def _category(c: WaveCategory) -> WaveCategoryPublic:
    return WaveCategoryPublic(code=c.code, label_id=c.label_id, label_en=c.label_en)


def _judged(kind: str, ident: str, name: str, c: Conditions | None, why_unknown: str) -> ConditionsProperties:
    if c is None:
        return ConditionsProperties(
            kind=kind, id=ident, name=name, wave_m=None, wind_kn=None, category=None,  # type: ignore[arg-type]
            above_small_boat_limits=None, reasons=[why_unknown],
        )
    return ConditionsProperties(
        kind=kind, id=ident, name=name, wave_m=c.wave_m, wind_kn=c.wind_kn, category=_category(c.category),  # type: ignore[arg-type]
        above_small_boat_limits=c.above_limits, reasons=list(c.reasons),
    )


def marine_conditions(
    session: Session,
    tenant: str,
    sea: SeaConfig | None,
    files: Mapping[str, SeaForecastFile],
    buoys: BuoySource,
    bbox: str | None,
    at: datetime,
) -> MarineConditions:
    box = parse_bbox(bbox, sea)
    if sea is None or box is None:
        return MarineConditions(
            at=at, bbox=list(box or ()), forecast=ForecastStatus(current=False, problem=NO_SEA, problem_code="no_sea_section"),
            small_boat_limits=None, features=[],
        )
    west, south, east, north = box
    limits = SmallBoatLimits(sea.small_boat_wave_m, sea.small_boat_wind_kn)
    read = files[tenant].read()
    forecast, problem = read.usable_at(at)
    features: list[ConditionsFeature] = []
    if forecast is not None:
        status = ForecastStatus(
            current=True, problem=None, issued=forecast.issued, valid_from=forecast.valid_from,
            valid_until=forecast.valid_until, source=forecast.source or None,
        )
        for a in area_conditions(forecast, at, limits, forecast.areas_meeting(south, north, west, east)):
            props = _judged("forecast_area", a.area.id, a.area.name, a.conditions, "the forecast has no hour at this time")
            props.hour_start = a.hour.start if a.hour is not None else None
            features.append(ConditionsFeature(id=f"area:{a.area.id}", geometry=dict(mapping(a.area.geometry)), properties=props))
    else:
        status = ForecastStatus(current=False, problem=problem, problem_code=read.problem_code_at(at))
    for b in buoys(session, tenant, (west, south, east, north), BUOYS_SHOWN, at):
        try:
            c = judge(b.wave_m, b.wind_kn, limits)
        except ValueError:
            c = None
        props = _judged("buoy", b.buoy, b.name or b.buoy, c, "the buoy's reading is not a possible value")
        props.observed_at = b.observed_at
        props.fresh = 0 <= (at - b.observed_at).total_seconds() <= BUOY_FRESH_S
        features.append(
            ConditionsFeature(id=f"buoy:{b.buoy}", geometry={"type": "Point", "coordinates": [b.lon, b.lat]}, properties=props)
        )
    return MarineConditions(
        at=at, bbox=[west, south, east, north], forecast=status,
        small_boat_limits=SmallBoatLimitsPublic(wave_m=limits.wave_m, wind_kn=limits.wind_kn), features=features,
    )
