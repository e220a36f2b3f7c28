"""Sea-area forecasts: the GeoJSON file a deployment keeps updated, read and checked, and BMKG's
wave categories.

Why here: two kinds read it (and `tepi config check`, with the hazards files: `load_hazards`). The fish-finder's routes keep boats out of forecast weather above
their limits; the wave buoy's marine conditions label each area and raise `marine` alerts. A kind
never imports another, so the forecast sits below both, with no I/O but reading its own file.

The file is a GeoJSON FeatureCollection (RFC 7946), one Feature per sea area, as BMKG's maritime
service divides the sea into named forecast areas. The validity window and issue time are
foreign members of the collection (RFC 7946 section 6.1 allows them):

    {"type": "FeatureCollection",
     "issued": "2026-12-07T00:00:00Z", "valid_from": "2026-12-07T00:00:00Z",
     "valid_until": "2026-12-09T00:00:00Z", "source": "BMKG Maritim",
     "features": [{"type": "Feature", "id": "selat-badung",
                   "geometry": {"type": "Polygon", "coordinates": [...]},
                   "properties": {"name": "Selat Badung",
                                  "hours": [{"time": "2026-12-07T00:00:00Z", "wave_m": 0.8, "wind_kn": 12}, ...]}}]}

Each hour entry holds for one hour from its `time`: the significant wave height's upper value
(m) and the wind speed's upper value (knots) that BMKG gives for the area. A forecast outside its
window, or an hour it does not cover, is no forecast at all: callers say so and never answer "go".
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

HOUR = timedelta(hours=1)
#: A forecast file larger than this is refused unread: BMKG's whole-Indonesia area forecast for
#: three days is well under a megabyte.
MAX_FILE_BYTES = 20 * 1024 * 1024
_AREA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SeaForecastError(ValueError):
    """The forecast file is unreadable or not a valid sea-area forecast; the message says where."""


@dataclass(frozen=True, slots=True)
class WaveCategory:
    """One of BMKG's wave-height categories (the WMO sea-state code 3700 bands, named in
    Indonesian): heights in [low_m, high_m)."""

    code: str
    label_id: str
    label_en: str
    low_m: float
    high_m: float


#: BMKG's categories for significant wave height, as its maritime forecasts publish them: tenang
#: < 0.5 m, rendah 0.5-1.25, sedang 1.25-2.5, tinggi 2.5-4, sangat tinggi 4-6, ekstrem 6-9 m. Above
#: 9 m they follow the same WMO sea-state code (table 3700): 9-14 m "very high", over 14
#: "phenomenal".
WAVE_CATEGORIES: tuple[WaveCategory, ...] = (
    WaveCategory("tenang", "Tenang", "Calm", 0.0, 0.5),
    WaveCategory("rendah", "Rendah", "Slight", 0.5, 1.25),
    WaveCategory("sedang", "Sedang", "Moderate", 1.25, 2.5),
    WaveCategory("tinggi", "Tinggi", "Rough", 2.5, 4.0),
    WaveCategory("sangat_tinggi", "Sangat Tinggi", "Very rough", 4.0, 6.0),
    WaveCategory("ekstrem", "Ekstrem", "High", 6.0, 9.0),
    WaveCategory("sangat_ekstrem", "Sangat Ekstrem", "Very high", 9.0, 14.0),
    WaveCategory("fenomenal", "Fenomenal", "Phenomenal", 14.0, math.inf),
)


def wave_category(height_m: float) -> WaveCategory:
    """BMKG's category of a significant wave height; a height on a bound belongs to the higher
    category (the safe side). `ValueError` for a negative or non-finite height."""
    if not math.isfinite(height_m) or height_m < 0:
        raise ValueError(f"wave height must be a finite number of metres >= 0, not {height_m!r}")
    for category in WAVE_CATEGORIES:
        if height_m < category.high_m:
            return category
    raise AssertionError("unreachable: the last category is open-ended")


@dataclass(frozen=True, slots=True)
class AreaHour:
    """One hour of one area's forecast, from `start` for an hour."""

    start: datetime
    wave_m: float
    wind_kn: float

    @property
    def category(self) -> WaveCategory:
        return wave_category(self.wave_m)


@dataclass(frozen=True, eq=False)
class SeaArea:
    """One forecast area: its polygon (lon/lat) and its hours, as arrays for lookups by time."""

    id: str
    name: str
    geometry: BaseGeometry
    #: Start of each hour, seconds since the epoch (UTC), strictly increasing, >= 1 h apart.
    starts: np.ndarray
    wave_m: np.ndarray
    wind_kn: np.ndarray

    def _index(self, epoch_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        i = np.searchsorted(self.starts, epoch_s, side="right") - 1
        inside = (i >= 0) & (epoch_s < self.starts[np.clip(i, 0, None)] + HOUR.total_seconds())
        return np.clip(i, 0, None), inside

    def values_at(self, epoch_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Wave height and wind at each time (seconds since the epoch): NaN where no hour of the
        forecast covers it."""
        epoch_s = np.asarray(epoch_s, dtype=np.float64)
        i, inside = self._index(epoch_s)
        return np.where(inside, self.wave_m[i], np.nan), np.where(inside, self.wind_kn[i], np.nan)

    def hour_at(self, at: datetime) -> AreaHour | None:
        """The hour covering `at` (timezone-aware), or None when the forecast has none."""
        i, inside = self._index(np.array([at.timestamp()]))
        if not inside[0]:
            return None
        k = int(i[0])
        start = datetime.fromtimestamp(float(self.starts[k]), timezone.utc)
        return AreaHour(start, float(self.wave_m[k]), float(self.wind_kn[k]))

    def hours(self) -> list[AreaHour]:
        return [
            AreaHour(datetime.fromtimestamp(float(s), timezone.utc), float(w), float(v))
            for s, w, v in zip(self.starts, self.wave_m, self.wind_kn, strict=True)
        ]


@dataclass(frozen=True, eq=False)
class SeaForecast:
    """A whole forecast file, checked: when it was issued, the window it holds for, its areas."""

    issued: datetime
    valid_from: datetime
    valid_until: datetime
    source: str
    areas: tuple[SeaArea, ...]
    _by_id: dict[str, SeaArea] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {a.id: a for a in self.areas})

    def is_current(self, at: datetime) -> bool:
        """Whether `at` is inside the validity window: outside it the forecast says nothing."""
        return self.valid_from <= at < self.valid_until

    def area(self, area_id: str) -> SeaArea | None:
        return self._by_id.get(area_id)

    def areas_meeting(self, south: float, north: float, west: float, east: float) -> list[SeaArea]:
        """The areas whose polygon meets the box (degrees)."""
        box = shapely.box(west, south, east, north)
        return [a for a in self.areas if a.geometry.intersects(box)]


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise SeaForecastError(f"{where}: expected an ISO 8601 time string, got {value!r}")
    try:
        at = datetime.fromisoformat(value)
    except ValueError as e:
        raise SeaForecastError(f"{where}: {value!r} is not an ISO 8601 time") from e
    if at.tzinfo is None:
        raise SeaForecastError(f"{where}: {value!r} has no UTC offset; forecast times must say their zone")
    return at.astimezone(timezone.utc)


def _number(value: Any, where: str, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SeaForecastError(f"{where}: expected a number, got {value!r}")
    if not 0 <= value <= high:
        raise SeaForecastError(f"{where}: {value!r} is outside 0..{high}")
    return float(value)


def sea_polygon(value: Any, where: str) -> BaseGeometry:
    """A GeoJSON geometry that must be a valid, non-empty Polygon or MultiPolygon in lon/lat
    degrees (a forecast area; a hazard zone); `SeaForecastError` saying what is wrong at `where`."""
    try:
        geometry = shape(value)
    except Exception as e:  # shapely raises several types for malformed GeoJSON geometry
        raise SeaForecastError(f"{where}: geometry is not valid GeoJSON: {e}") from e
    if geometry.geom_type not in ("Polygon", "MultiPolygon") or geometry.is_empty:
        raise SeaForecastError(f"{where}: geometry must be a Polygon or MultiPolygon")
    if not geometry.is_valid:
        raise SeaForecastError(f"{where}: polygon is invalid ({shapely.is_valid_reason(geometry)})")
    west, south, east, north = geometry.bounds
    if not (-180 <= west and east <= 180 and -90 <= south and north <= 90):
        raise SeaForecastError(f"{where}: coordinates must be longitude, latitude in degrees")
    return geometry


def _area(feature: Any, n: int) -> SeaArea:
    where = f"features[{n}]"
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise SeaForecastError(f"{where}: not a GeoJSON Feature")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise SeaForecastError(f"{where}: no properties")
    area_id = feature.get("id", props.get("id"))
    if not isinstance(area_id, str) or not _AREA_ID.match(area_id):
        raise SeaForecastError(f"{where}: id must be 1-64 letters, digits, '.', '_' or '-', got {area_id!r}")
    where = f"area {area_id!r}"
    name = props.get("name", area_id)
    if not isinstance(name, str) or not name.strip():
        raise SeaForecastError(f"{where}: name must be a non-empty string")
    geometry = sea_polygon(feature.get("geometry"), where)
    hours = props.get("hours")
    if not isinstance(hours, list) or not hours:
        raise SeaForecastError(f"{where}: hours must be a non-empty list")
    starts, waves, winds = [], [], []
    for k, hour in enumerate(hours):
        w = f"{where} hours[{k}]"
        if not isinstance(hour, dict):
            raise SeaForecastError(f"{w}: expected an object")
        start = _time(hour.get("time"), f"{w}.time").timestamp()
        if starts and start < starts[-1] + HOUR.total_seconds():
            raise SeaForecastError(f"{w}: hours must be in time order, at least an hour apart")
        starts.append(start)
        waves.append(_number(hour.get("wave_m"), f"{w}.wave_m", 30.0))
        winds.append(_number(hour.get("wind_kn"), f"{w}.wind_kn", 200.0))
    return SeaArea(area_id, name.strip(), geometry, np.array(starts), np.array(waves), np.array(winds))


def parse_sea_forecast(raw: bytes | str) -> SeaForecast:
    """The forecast a file holds; `SeaForecastError` saying what is wrong and where."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise SeaForecastError(f"not JSON: {e}") from e
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise SeaForecastError("not a GeoJSON FeatureCollection")
    issued = _time(data.get("issued"), "issued")
    valid_from = _time(data.get("valid_from"), "valid_from")
    valid_until = _time(data.get("valid_until"), "valid_until")
    if valid_until <= valid_from:
        raise SeaForecastError("valid_until must be after valid_from")
    source = data.get("source", "")
    if not isinstance(source, str):
        raise SeaForecastError("source must be a string")
    features = data.get("features")
    if not isinstance(features, list):
        raise SeaForecastError("features must be a list")
    areas = tuple(_area(f, n) for n, f in enumerate(features))
    seen: set[str] = set()
    for a in areas:
        if a.id in seen:
            raise SeaForecastError(f"area {a.id!r} appears twice")
        seen.add(a.id)
    return SeaForecast(issued, valid_from, valid_until, source, areas)


def load_hazards(path: Path) -> list[BaseGeometry]:
    """The polygons of a hazards file (a GeoJSON FeatureCollection of Polygon or MultiPolygon
    features, lon/lat: reefs, restricted zones, shipping lanes routes keep out of); `ValueError`
    naming the file and what is wrong. Read by the routes when the API starts and by `tepi
    config check`, so a file the API would refuse is refused before it starts."""
    try:
        raw = path.read_bytes() if path.stat().st_size <= MAX_FILE_BYTES else None
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it: {exc.strerror or exc}") from exc
    if raw is None:
        raise ValueError(f"{path}: over {MAX_FILE_BYTES} bytes")
    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise ValueError(f"{path}: not a GeoJSON FeatureCollection")
    out = []
    for n, feature in enumerate(data["features"]):
        where = f"{path}: features[{n}]"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise ValueError(f"{where}: not a GeoJSON Feature")
        out.append(sea_polygon(feature.get("geometry"), where))
    return out


@dataclass(frozen=True, slots=True)
class ForecastRead:
    """What a forecast file gave: the forecast, or why there is none (`problem`, for answers, and
    `code`, the same stably for a client to word in its reader's language: not_configured,
    file_missing, file_too_large, file_unreadable, file_invalid)."""

    forecast: SeaForecast | None
    problem: str | None
    code: str | None = None

    def usable_at(self, at: datetime) -> tuple[SeaForecast | None, str | None]:
        """The forecast if it holds at `at`, else None and why, in words a fisher reads."""
        if self.forecast is None:
            return None, self.problem
        if not self.forecast.is_current(at):
            f = self.forecast
            return None, (
                f"no current forecast: the forecast issued {f.issued:%Y-%m-%d %H:%M} UTC holds from "
                f"{f.valid_from:%Y-%m-%d %H:%M} to {f.valid_until:%Y-%m-%d %H:%M} UTC, not at {at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
            )
        return self.forecast, None

    def problem_code_at(self, at: datetime) -> str | None:
        """`usable_at`'s problem as a code: the read's own, `not_current` for a forecast that does
        not hold at `at`, None when it does."""
        if self.forecast is None:
            return self.code or "no_forecast"
        return None if self.forecast.is_current(at) else "not_current"


class SeaForecastFile:
    """The forecast file of one tenant, read again whenever it changes on disk (the deployment
    replaces it as new forecasts are issued), so answers always use the latest one.

    Thread-safe: API requests read it concurrently. A file that disappears or turns invalid gives
    no forecast (never the previous one, which may be what made it stale)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._read = ForecastRead(None, "no current forecast: this deployment has no sea forecast configured", "not_configured")

    def read(self) -> ForecastRead:
        if self.path is None:
            return self._read
        try:
            st = os.stat(self.path)
        except OSError:
            return ForecastRead(None, "no current forecast: the forecast file is missing", "file_missing")
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._read = self._load(st.st_size)
                self._stamp = stamp
            return self._read

    def _load(self, size: int) -> ForecastRead:
        if size > MAX_FILE_BYTES:
            return ForecastRead(None, f"no current forecast: the forecast file is over {MAX_FILE_BYTES} bytes", "file_too_large")
        try:
            assert self.path is not None
            return ForecastRead(parse_sea_forecast(self.path.read_bytes()), None)
        except OSError:
            return ForecastRead(None, "no current forecast: the forecast file is unreadable", "file_unreadable")
        except SeaForecastError as e:
            return ForecastRead(None, f"no current forecast: the forecast file is invalid ({e})", "file_invalid")
