"""Could one badge have been carried from one office to another in the time between two
sightings? An Eddystone-EID relayed live (a radio that hears the badge at home and replays it
in the office) makes a badge heard at two places at once: the rotating identifier is genuine,
only where it is heard is impossible. The gateway checks this across its own offices, ingest
across gateways; both with this one pure function, on the offices' configured positions.

Distance is the great-circle (haversine) distance on a sphere of the Earth's mean radius,
6,371.0088 km (IUGG, Moritz 2000, "Geodetic Reference System 1980"); over the distances
between offices of one country its error against the WGS 84 ellipsoid (under 0.5 %) is far
below the margins here.

Defaults (Tepi's choices, stated so they can be argued with):

- `MAX_KMH` 300 km/h: faster than any door-to-door journey between Indonesian offices, by
  road, by the Jakarta-Bandung high-speed railway (350 km/h at most, about 142 km in 46 minutes,
  185 km/h station to station) or by air once airport time is counted. A live relay makes the
  two sightings seconds apart, so any plausible speed limit catches it; a low one would only
  raise false alarms for staff who really travel.
- `NEAR_KM` 2 km: offices closer than this are neighbours (one government complex, one
  street); a badge is heard by scanners of both through walls and windows (BLE carries up to
  about 100 m), so a sighting at each never means travel. They never trigger.
"""

from __future__ import annotations

import math
from datetime import datetime

EARTH_RADIUS_KM = 6371.0088
MAX_KMH = 300.0
NEAR_KM = 2.0


def distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance between two positions in degrees; `ValueError` for a latitude
    outside -90..90, a longitude outside -180..180 or a value that is not finite."""
    for name, value, limit in (("latitude", a_lat, 90), ("longitude", a_lon, 180), ("latitude", b_lat, 90), ("longitude", b_lon, 180)):
        if not (math.isfinite(value) and -limit <= value <= limit):
            raise ValueError(f"{name} {value!r} is outside -{limit}..{limit}")
    p1, p2 = math.radians(a_lat), math.radians(b_lat)
    dp, dl = p2 - p1, math.radians(b_lon - a_lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def impossible_travel(
    a_lat: float, a_lon: float, a_at: datetime, b_lat: float, b_lon: float, b_at: datetime, *,
    max_kmh: float = MAX_KMH, near_km: float = NEAR_KM,
) -> float | None:
    """The distance in km between sightings a and b when no one could have gone from one to
    the other in the time between them (faster than `max_kmh`), else None. Order does not
    matter; sightings at the same instant at two places further apart than `near_km` are
    impossible; places within `near_km` never are (neighbouring offices).

    `ValueError` for naive datetimes, positions out of range, or limits that are not positive
    and finite."""
    if a_at.tzinfo is None or b_at.tzinfo is None:
        raise ValueError("sighting times must be timezone-aware")
    if not (math.isfinite(max_kmh) and max_kmh > 0 and math.isfinite(near_km) and near_km >= 0):
        raise ValueError(f"max_kmh must be positive and near_km not negative, both finite, not {max_kmh}, {near_km}")
    km = distance_km(a_lat, a_lon, b_lat, b_lon)
    if km <= near_km:
        return None
    hours = abs((b_at - a_at).total_seconds()) / 3600.0
    if km > max_kmh * hours:
        return km
    return None
