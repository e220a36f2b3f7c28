"""Marine conditions judged for small boats (pure): a forecast area's hour, or a buoy's reading,
against BMKG's wave categories and a tenant's small-boat limits.

BMKG counts waves above 1.25 m or wind above 15 knots as dangerous for fishing boats (its
maritime forecasts' "potensi bahaya" for "perahu nelayan"); a tenant may configure other limits
(`core.config_model.SeaConfig.small_boat_wave_m`, `small_boat_wind_kn`). A value on the limit is
not above it, as BMKG writes "di atas 1.25 m".

Alert severity (a Tepi choice, from the wave category BMKG names, as ThingsBoard's severities):

  ============================================  ==========  =============
  conditions above the small-boat limits         severity    CAP severity
  ============================================  ==========  =============
  wave sangat tinggi (4 m) or worse              critical    Extreme
  wave tinggi (2.5-4 m)                          major       Severe
  wave sedang (1.25-2.5 m)                       minor       Moderate
  wave below sedang, wind (or a lower limit)     warning     Minor
  ============================================  ==========  =============

Clearing (`eased`) needs both values at least `CLEAR_MARGIN` below the limits (10%: 1.125 m and
13.5 kn for BMKG's limits). Hourly forecasts hover around a limit (1.2, 1.3, 1.2 m) and a buoy's
significant wave height varies from one record to the next; without the margin each wobble
would clear the alert and open a new one, each a public CAP Cancel and Alert. Between the
margin and the limit an open alert stays as it is, and none opens.

Stepping down (`change`): an alert escalates at once (a worse severity or a higher category is
published at the next check), but a lower category or severity, or the same danger told by
another source (forecast / observed), is only published once it is clearly lower (the wave at
or below `STEP_DOWN_MARGIN` of the published category's lower bound, e.g. 2.25 m for tinggi's
2.5 m) or once it has held for a while (`kinds.wavebuoy.marine_alerts.STEP_DOWN_HOLD`). Each
published change is a public CAP Update: a buoy wobbling around 1.25 m while the forecast is
above the limits would otherwise switch the alert's source at every reading, and waves around
2.5 m would move it between sedang (minor) and tinggi (major) at every forecast hour or
reading. Moving down late errs on the safe side, as the clear margin does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from core.sea_forecast import WAVE_CATEGORIES, AreaHour, SeaArea, SeaForecast, WaveCategory, wave_category

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Clearing needs wave and wind at or below this fraction of their limits (hysteresis, see above).
CLEAR_MARGIN = 0.9
#: Severities by wave category code; a category not listed (tenang, rendah) is `warning`.
_SEVERITY = {
    "sedang": "minor",
    "tinggi": "major",
    "sangat_tinggi": "critical",
    "ekstrem": "critical",
    "sangat_ekstrem": "critical",
    "fenomenal": "critical",
}
#: ThingsBoard's severities, worst first (as `central.models.SEVERITIES`).
_ORDER = ("critical", "major", "minor", "warning")
#: A lower category is clearly lower (published at once) at or below this fraction of the
#: published category's lower bound (see the module doc).
STEP_DOWN_MARGIN = 0.9
#: What `change` says of a new state against the published one.
SAME, UP, DOWN, CLEARLY_DOWN = "same", "up", "down", "clearly_down"


@dataclass(frozen=True, slots=True)
class SmallBoatLimits:
    """Above either value the sea is dangerous for a small boat."""

    wave_m: float = 1.25
    wind_kn: float = 15.0

    def __post_init__(self) -> None:
        for name, value in (("wave_m", self.wave_m), ("wind_kn", self.wind_kn)):
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"small-boat limit {name} must be a positive number, not {value!r}")


@dataclass(frozen=True, slots=True)
class Conditions:
    """Wave and wind at one place and time, judged: BMKG's category of the wave, whether either
    value is above the small-boat limits (and why, in words), and whether both are far enough
    below them to end an alert (`eased`)."""

    wave_m: float
    #: None: not measured (a buoy without an anemometer).
    wind_kn: float | None
    category: WaveCategory
    above_limits: bool
    reasons: tuple[str, ...]
    eased: bool

    @property
    def severity(self) -> str | None:
        """The alert severity of conditions above the limits (table in the module doc); None below them."""
        if not self.above_limits:
            return None
        return _SEVERITY.get(self.category.code, "warning")


def judge(wave_m: float, wind_kn: float | None, limits: SmallBoatLimits) -> Conditions:
    """Conditions of a significant wave height (m) and a wind speed (knots, None or NaN: not
    measured); `ValueError` for a negative or non-finite wave or a negative wind."""
    category = wave_category(wave_m)  # ValueError for an impossible height
    if wind_kn is not None and math.isnan(wind_kn):
        wind_kn = None
    if wind_kn is not None and not (math.isfinite(wind_kn) and wind_kn >= 0):
        raise ValueError(f"wind must be a finite number of knots >= 0, not {wind_kn!r}")
    reasons = []
    if wave_m > limits.wave_m:
        reasons.append(f"wave {wave_m:g} m above the small-boat limit of {limits.wave_m:g} m ({category.label_en})")
    if wind_kn is not None and wind_kn > limits.wind_kn:
        reasons.append(f"wind {wind_kn:g} kn above the small-boat limit of {limits.wind_kn:g} kn")
    eased = wave_m <= CLEAR_MARGIN * limits.wave_m and (wind_kn is None or wind_kn <= CLEAR_MARGIN * limits.wind_kn)
    return Conditions(wave_m, wind_kn, category, bool(reasons), tuple(reasons), eased)


@dataclass(frozen=True, slots=True)
class BuoyReading:
    """A buoy's newest reading, as marine conditions need it (the buoy kind's state gives it)."""

    buoy: str
    lat: float
    lon: float
    observed_at: datetime
    wave_m: float
    wind_kn: float | None
    name: str | None = None


#: The newest reading of each of a tenant's buoys in a box (west, south, east, north), observed
#: within an age before a time: (session, tenant, bbox, max_age, now).
BuoySource = Callable[["Session", str, tuple[float, float, float, float], timedelta, datetime], Sequence[BuoyReading]]


def no_buoys(session: Session, tenant: str, bbox: tuple[float, float, float, float], max_age: timedelta, now: datetime) -> list[BuoyReading]:
    """A source without buoys."""
    return []


@dataclass(frozen=True, slots=True)
class AreaConditions:
    """One forecast area at one time: the hour covering it and its conditions, or neither when
    the forecast has no hour there (then nothing is known: never calm)."""

    area: SeaArea
    hour: AreaHour | None
    conditions: Conditions | None


def area_conditions(
    forecast: SeaForecast, at: datetime, limits: SmallBoatLimits, areas: Iterable[SeaArea] | None = None
) -> list[AreaConditions]:
    """Each area's (default: every area of the forecast) hour at `at` and its conditions.

    `ValueError` for a naive `at`. The caller checks the forecast is current at `at`
    (`core.sea_forecast.ForecastRead.usable_at`): outside its window an hour it happens to
    hold is still reported here."""
    if at.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    out = []
    for area in forecast.areas if areas is None else areas:
        hour = area.hour_at(at)
        out.append(AreaConditions(area, hour, judge(hour.wave_m, hour.wind_kn, limits) if hour is not None else None))
    return out


def change(published: tuple[str, str | None, str | None], conditions: Conditions, source: str) -> str:
    """How new conditions above the limits, told by `source`, compare with the published state
    (severity, category code, source; a code not known counts as the lowest): `UP` (worse
    severity or higher category: publish at once), `SAME`, `CLEARLY_DOWN` (a lower category with
    the wave at or below `STEP_DOWN_MARGIN` of the published category's lower bound: publish at
    once) or `DOWN` (lower but not clearly, or only another source: publish once it has held).
    `ValueError` for conditions below the limits or an unknown published severity."""
    old_severity, old_code, old_source = published
    severity = conditions.severity
    if severity is None or old_severity not in _ORDER:
        raise ValueError(f"change needs conditions above the limits and a known severity, not {severity!r}, {old_severity!r}")
    codes = [c.code for c in WAVE_CATEGORIES]
    old_rank = codes.index(old_code) if old_code in codes else -1
    new_rank = codes.index(conditions.category.code)
    if _ORDER.index(severity) < _ORDER.index(old_severity) or new_rank > old_rank:
        return UP
    if (severity, conditions.category.code, source) == (old_severity, old_code, old_source):
        return SAME
    if new_rank < old_rank and conditions.wave_m <= STEP_DOWN_MARGIN * WAVE_CATEGORIES[old_rank].low_m:
        return CLEARLY_DOWN
    return DOWN


def worst(severities: Iterable[str | None]) -> str | None:
    """The worst of some severities (None: not above the limits); None when all are."""
    found = [s for s in severities if s is not None]
    return min(found, key=_ORDER.index) if found else None


def ring_lat_lon(area: SeaArea) -> list[tuple[float, float]]:
    """The area's outer boundary as (lat, lon) pairs, first = last, as CAP's `<polygon>` wants
    them; of a MultiPolygon, its largest part (`rings_lat_lon` gives every part)."""
    return rings_lat_lon(area)[0]


def rings_lat_lon(area: SeaArea) -> list[list[tuple[float, float]]]:
    """The outer boundary of each part of the area (one for a Polygon), largest first, as (lat,
    lon) pairs rounded to 5 decimals (about 1 m), first = last: CAP 1.2 gives an area one
    `<polygon>` per part (the element may repeat)."""
    geom = area.geometry
    parts = sorted(geom.geoms, key=lambda g: -g.area) if geom.geom_type == "MultiPolygon" else [geom]
    out = []
    for part in parts:
        coords = [(round(lat, 5), round(lon, 5)) for lon, lat in part.exterior.coords]
        if coords[0] != coords[-1]:
            coords.append(coords[0])
        out.append(coords)
    return out
