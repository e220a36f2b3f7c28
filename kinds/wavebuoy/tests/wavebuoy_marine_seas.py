"""Sea-area forecasts of real waters for the marine tests (imported by name: tests put this
folder on the path through pytest's rootdir import mode).

Areas, as BMKG's maritime service names its forecast areas (polygons drawn by hand at sea, lon/lat):

* `selat-badung`: the Badung Strait between Bali's Sanur/Serangan coast and Nusa Penida;
* `perairan-selatan-bali`: the Indian Ocean south of the Bukit peninsula and Nusa Penida;
* `perairan-utara-indramayu`: the Java Sea off Indramayu (Karangsong), West Java.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

SELAT_BADUNG = [[115.28, -8.78], [115.45, -8.62], [115.55, -8.66], [115.42, -8.82], [115.28, -8.78]]
SELATAN_BALI = [[114.90, -9.40], [115.80, -9.40], [115.80, -8.90], [114.90, -8.90], [114.90, -9.40]]
UTARA_INDRAMAYU = [[108.00, -6.20], [108.60, -6.20], [108.60, -5.60], [108.00, -5.60], [108.00, -6.20]]
AREAS = {
    "selat-badung": ("Selat Badung", SELAT_BADUNG),
    "perairan-selatan-bali": ("Perairan Selatan Bali", SELATAN_BALI),
    "perairan-utara-indramayu": ("Perairan Utara Indramayu", UTARA_INDRAMAYU),
}
#: A point in each area (lat, lon): for buoys.
INSIDE = {
    "selat-badung": (-8.72, 115.42),
    "perairan-selatan-bali": (-9.10, 115.20),
    "perairan-utara-indramayu": (-6.05, 108.35),
}


def forecast_doc(start: datetime, hours: int, values: dict[str, tuple[float, float]], issued: datetime | None = None) -> dict:
    """A forecast valid for `hours` from `start`, each area at constant (wave_m, wind_kn)."""
    features = []
    for area_id, (wave, wind) in values.items():
        name, ring = AREAS[area_id]
        features.append(
            {
                "type": "Feature",
                "id": area_id,
                "geometry": {"type": "Polygon", "coordinates": [ring]},
                "properties": {
                    "name": name,
                    "hours": [
                        {"time": (start + timedelta(hours=k)).isoformat(), "wave_m": wave, "wind_kn": wind}
                        for k in range(hours)
                    ],
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "issued": (issued or start).isoformat(),
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=hours)).isoformat(),
        "source": "BMKG Maritim (test)",
        "features": features,
    }


def write_forecast(path: Path, doc: dict) -> Path:
    """Replace the file as a deployment does (write aside, rename), so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    tmp.replace(path)
    return path
