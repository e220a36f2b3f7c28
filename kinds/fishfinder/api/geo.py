"""Distance and bearing between positions on the sea, for the rescue: who is nearest, which way.

Great-circle distance by the haversine formula on a sphere of the IUGG mean Earth radius
6,371.0088 km (Moritz, "Geodetic Reference System 1980", J. Geodesy 74, 2000); initial bearing
(forward azimuth) as in Williams' Aviation Formulary (https://edwilliams.org/avform147.htm).
The sphere is off the ellipsoid by at most about 0.5 %, well inside a rescuer's need over tens
of nautical miles. 1 nautical mile = 1,852 m exactly (BIPM SI Brochure, 9th ed., Table 8).
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088
KM_PER_NM = 1.852


def _check(lat: float, lon: float) -> None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or math.isnan(lat) or math.isnan(lon):
        raise ValueError(f"not a position: {lat}, {lon}")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    _check(lat1, lon1)
    _check(lat2, lon2)
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial true bearing from point 1 to point 2, degrees in [0, 360)."""
    _check(lat1, lon1)
    _check(lat2, lon2)
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360.0
