"""The impossible-travel check: a badge live-relayed between two offices of a regency is caught,
staff who really travel and neighbouring offices never are."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kinds.badge.travel import distance_km, impossible_travel

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)
# Indramayu regent's office and the Karangsong fishing port: about 6 km apart.
PEMKAB = (-6.3266, 108.3248)
KARANGSONG = (-6.3050, 108.3730)


def test_distance_is_the_great_circle_distance() -> None:
    assert distance_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.195, abs=0.01)  # a degree along the equator
    assert distance_km(*PEMKAB, *PEMKAB) == 0.0
    with pytest.raises(ValueError):
        distance_km(91.0, 0.0, 0.0, 0.0)
    with pytest.raises(ValueError):
        distance_km(0.0, float("nan"), 0.0, 0.0)


def test_a_badge_heard_at_two_offices_at_once_is_impossible_in_either_order() -> None:
    km = impossible_travel(*PEMKAB, T0, *KARANGSONG, T0 + timedelta(seconds=5))
    assert km == pytest.approx(distance_km(*PEMKAB, *KARANGSONG)) and 5 < km < 7
    assert impossible_travel(*KARANGSONG, T0 + timedelta(seconds=5), *PEMKAB, T0) == km
    assert impossible_travel(*PEMKAB, T0, *KARANGSONG, T0) == km


def test_a_drive_between_the_offices_is_possible() -> None:
    assert impossible_travel(*PEMKAB, T0, *KARANGSONG, T0 + timedelta(minutes=15)) is None
    assert impossible_travel(*PEMKAB, T0, *KARANGSONG, T0 + timedelta(minutes=1)) is not None  # 360 km/h


def test_neighbouring_offices_never_trigger() -> None:
    next_door = (PEMKAB[0] + 0.005, PEMKAB[1])  # about 550 m north
    assert impossible_travel(*PEMKAB, T0, *next_door, T0) is None
    assert impossible_travel(*PEMKAB, T0, *next_door, T0, near_km=0.1) is not None


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        impossible_travel(*PEMKAB, T0.replace(tzinfo=None), *KARANGSONG, T0)
    with pytest.raises(ValueError):
        impossible_travel(*PEMKAB, T0, *KARANGSONG, T0, max_kmh=0)
