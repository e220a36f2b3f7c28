"""The sea of `tepi demo`: a fresh area forecast for each coastal tenant, as a deployment's feed
from BMKG Maritim would keep it, so marine conditions and routes have a current forecast.

The areas follow BMKG's division of the sea around Bali and off Indramayu (names as its maritime
forecasts use them; the polygons are simplified boxes). The values are a plausible December day
in the west monsoon: calm to slight in the Badung Strait and the Java Sea, while the Indian Ocean
south of Bali, slight (rendah, 1 m) at night and in the early morning, builds to rough (tinggi,
3 m) in the afternoon, as it often does in the season. A small boat's route south of the Bukit
is then "go" before dawn and "no-go" in the afternoon.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from core.config import TepiConfig

#: Hours a demo forecast covers, from the hour before the demo starts.
FORECAST_HOURS = 48
_WIB, _WITA = timezone(timedelta(hours=7), "WIB"), timezone(timedelta(hours=8), "WITA")


def _box(west: float, south: float, east: float, north: float) -> dict[str, object]:
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    return {"type": "Polygon", "coordinates": [ring]}


def _afternoon(low: float, high: float, zone: timezone) -> Callable[[datetime], float]:
    """`low` at night rising to `high` at 15:00 local time: the sea breeze and swell of the day."""

    def value(at: datetime) -> float:
        hour = at.astimezone(zone).hour
        return round(low + (high - low) * max(0.0, math.cos((hour - 15) / 24 * 2 * math.pi)) ** 2, 2)

    return value


# tenant -> (area id, name, polygon, wave (m) at a time, wind (kn) at a time)
DEMO_AREAS: dict[str, list[tuple[str, str, dict[str, object], Callable[[datetime], float], Callable[[datetime], float]]]] = {
    "kab-badung": [
        ("selat-badung", "Selat Badung", _box(115.20, -8.85, 115.80, -8.45), _afternoon(0.5, 1.0, _WITA), _afternoon(6, 12, _WITA)),
        ("selat-bali-selatan", "Selat Bali bagian selatan", _box(114.40, -8.85, 115.20, -8.30), _afternoon(0.8, 1.4, _WITA), _afternoon(8, 14, _WITA)),
        ("samudra-hindia-selatan-bali", "Samudra Hindia selatan Bali", _box(114.40, -9.20, 115.80, -8.85), _afternoon(1.0, 3.0, _WITA), _afternoon(12, 22, _WITA)),
    ],
    "kab-indramayu": [
        ("perairan-indramayu", "Perairan utara Indramayu", _box(107.60, -6.35, 108.90, -5.90), _afternoon(0.3, 0.9, _WIB), _afternoon(5, 11, _WIB)),
        ("laut-jawa-bagian-barat", "Laut Jawa bagian barat", _box(107.60, -5.90, 108.90, -5.40), _afternoon(0.6, 1.3, _WIB), _afternoon(8, 16, _WIB)),
    ],
}


def demo_forecast(tenant: str, now: datetime) -> dict[str, object]:
    """The forecast GeoJSON of `tenant`'s demo areas (`core.sea_forecast` format), issued at
    the hour before `now` and valid `FORECAST_HOURS` from it."""
    start = now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    hours = [start + timedelta(hours=k) for k in range(FORECAST_HOURS)]
    features = [
        {
            "type": "Feature",
            "id": area_id,
            "geometry": polygon,
            "properties": {
                "name": name,
                "hours": [{"time": h.isoformat(), "wave_m": wave(h), "wind_kn": wind(h)} for h in hours],
            },
        }
        for area_id, name, polygon, wave, wind in DEMO_AREAS.get(tenant, [])
    ]
    return {
        "type": "FeatureCollection",
        "issued": start.isoformat(),
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=FORECAST_HOURS)).isoformat(),
        "source": "tepi demo (simulated; a deployment feeds BMKG Maritim's area forecasts)",
        "features": features,
    }


def with_demo_forecasts(config: TepiConfig, folder: Path, now: datetime) -> TepiConfig:
    """`config` with each coastal tenant's forecast written fresh under `folder` and pointed to."""
    folder.mkdir(parents=True, exist_ok=True)
    tenants = []
    for tenant in config.tenants:
        if tenant.sea is not None and tenant.id in DEMO_AREAS:
            path = folder / f"{tenant.id}-forecast.geojson"
            path.write_text(json.dumps(demo_forecast(tenant.id, now)), encoding="utf-8")
            tenant = tenant.model_copy(update={"sea": tenant.sea.model_copy(update={"forecast_file": path})})
        tenants.append(tenant)
    return config.model_copy(update={"tenants": tenants})
