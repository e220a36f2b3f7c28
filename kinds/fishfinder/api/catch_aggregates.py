"""Catch statistics the fisheries office may see: by area cell, species and ISO week, anonymised.

Why anonymised: where a fisher finds fish is their livelihood, and a catch record with a
position, a time and a weight singles one out as surely as a name. So the office gets
k-anonymous groups only (Sweeney, "k-anonymity: a model for protecting privacy", 2002,
https://doi.org/10.1142/S0218488502001648), with k = 3:

* a group is (cell, species, ISO week); a cell is a 0.1° x 0.1° square (about 11 km at the
  equator), named by its south-west corner;
* a group with catches of fewer than `K_ANONYMITY` distinct fishers is left out (counted in
  `suppressed_groups`, never shown), so no figure describes fewer than three fishers;
* the same holds for each figure within a group: the mean price describes only the catches that
  had a price, so it is shown only when at least `K_ANONYMITY` distinct fishers gave one (else
  null); in a group of three where one fisher gave a price, the "mean" was that fisher's price.
  The other figures (catches, total weight) describe every catch of the group, so all its
  fishers;
* no fisher, vessel or catch id, no exact position or time leaves this module;
* the query window is widened to whole ISO weeks (Monday 00:00 UTC), so two overlapping
  windows never differ by part of a week, which would let their difference isolate one catch.

Pure functions: rows in, groups out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

#: Fewest distinct fishers behind any figure shown.
K_ANONYMITY = 3
#: Cell size in degrees of latitude and longitude.
CELL_DEG = 0.1


@dataclass(frozen=True, slots=True)
class CatchRow:
    """What aggregation reads of a catch."""

    fisher_id: int
    species: str
    lat: float
    lon: float
    caught_at: datetime
    weight_kg: float
    price_idr_per_kg: int | None


@dataclass(frozen=True, slots=True)
class CatchGroup:
    cell_lat: float
    cell_lon: float
    species: str
    week: str
    catches: int
    total_kg: float
    #: Weight-weighted mean price per kg of the catches that had a price; None when fewer than
    #: k distinct fishers gave one.
    mean_price_idr_per_kg: float | None


@dataclass(slots=True)
class _Sums:
    fishers: set[int] = field(default_factory=set)
    priced_fishers: set[int] = field(default_factory=set)
    catches: int = 0
    total_kg: float = 0.0
    priced_kg: float = 0.0
    value_idr: float = 0.0


def cell_of(lat: float, lon: float) -> tuple[float, float]:
    """South-west corner of the cell holding (lat, lon), rounded so that it prints as it is."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"not a position: {lat}, {lon}")
    # A small epsilon: 0.3 / 0.1 is 2.9999999999999996 in binary floating point.
    row = math.floor(lat / CELL_DEG + 1e-9)
    col = math.floor(lon / CELL_DEG + 1e-9)
    return round(row * CELL_DEG, 6), round(col * CELL_DEG, 6)


def iso_week(at: datetime) -> str:
    """The ISO 8601 week of an aware time, in UTC: e.g. "2025-W04"."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    year, week, _ = at.astimezone(timezone.utc).isocalendar()
    return f"{year}-W{week:02d}"


def week_window(since: datetime, until: datetime) -> tuple[datetime, datetime]:
    """[since, until) widened to whole ISO weeks: from the Monday 00:00 UTC on or before `since`
    to the Monday 00:00 UTC after the week holding the last instant before `until`."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("naive datetime")
    if until <= since:
        raise ValueError("until must be after since")
    start = since.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    start -= timedelta(days=start.weekday())
    end = until.astimezone(timezone.utc)
    end_day = end.replace(hour=0, minute=0, second=0, microsecond=0)
    if end_day == end and end.weekday() == 0:
        return start, end
    end_day -= timedelta(days=end_day.weekday())
    return start, end_day + timedelta(days=7)


def aggregate(rows: Iterable[CatchRow], k: int = K_ANONYMITY) -> tuple[list[CatchGroup], int]:
    """(groups with at least `k` distinct fishers, ordered by week, cell and species; how many
    groups were suppressed)."""
    if k < 1:
        raise ValueError("k must be at least 1")
    sums: dict[tuple[str, float, float, str], _Sums] = {}
    for r in rows:
        lat, lon = cell_of(r.lat, r.lon)
        s = sums.setdefault((iso_week(r.caught_at), lat, lon, r.species), _Sums())
        s.fishers.add(r.fisher_id)
        s.catches += 1
        s.total_kg += r.weight_kg
        if r.price_idr_per_kg is not None:
            s.priced_fishers.add(r.fisher_id)
            s.priced_kg += r.weight_kg
            s.value_idr += r.weight_kg * r.price_idr_per_kg
    groups = [
        CatchGroup(
            cell_lat=lat,
            cell_lon=lon,
            species=species,
            week=week,
            catches=s.catches,
            total_kg=round(s.total_kg, 1),
            mean_price_idr_per_kg=round(s.value_idr / s.priced_kg) if len(s.priced_fishers) >= k and s.priced_kg > 0 else None,
        )
        for (week, lat, lon, species), s in sorted(sums.items())
        if len(s.fishers) >= k
    ]
    return groups, len(sums) - len(groups)
