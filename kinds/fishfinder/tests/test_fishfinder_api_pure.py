"""Pure parts of the fish-finder API: k-anonymous catch groups, week windows, distance and bearing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kinds.fishfinder.api.catch_aggregates import CatchRow, aggregate, cell_of, iso_week, week_window
from kinds.fishfinder.api.geo import KM_PER_NM, bearing_deg, distance_km
from kinds.fishfinder.catches import check_catch_time

MONDAY = datetime(2025, 1, 20, tzinfo=timezone.utc)  # ISO week 2025-W04


def _row(fisher: int, kg: float = 10.0, price: int | None = None, lat: float = -8.75, lon: float = 115.21,
         species: str = "tongkol", at: datetime = MONDAY + timedelta(days=2)) -> CatchRow:
    return CatchRow(fisher, species, lat, lon, at, kg, price)


def test_a_group_of_two_fishers_is_suppressed_and_of_three_is_shown() -> None:
    two = [_row(1), _row(2), _row(2)]
    groups, suppressed = aggregate(two)
    assert (groups, suppressed) == ([], 1)
    groups, suppressed = aggregate([*two, _row(3, kg=5.0)])
    assert suppressed == 0
    [g] = groups
    assert (g.catches, g.total_kg, g.species, g.week) == (4, 35.0, "tongkol", "2025-W04")
    assert (g.cell_lat, g.cell_lon) == (-8.8, 115.2)


def test_many_catches_of_one_fisher_never_make_a_group() -> None:
    groups, suppressed = aggregate([_row(7, kg=float(i + 1)) for i in range(50)])
    assert groups == [] and suppressed == 1


def test_groups_split_by_cell_species_and_week() -> None:
    rows = [_row(f) for f in (1, 2, 3)]
    rows += [_row(f, lat=-8.65) for f in (1, 2)]  # next cell north: two fishers only
    rows += [_row(f, species="cakalang") for f in (1, 2, 3)]
    rows += [_row(f, at=MONDAY + timedelta(days=7)) for f in (4, 5, 6)]
    groups, suppressed = aggregate(rows)
    assert suppressed == 1
    assert {(g.species, g.week, g.cell_lat) for g in groups} == {
        ("tongkol", "2025-W04", -8.8),
        ("cakalang", "2025-W04", -8.8),
        ("tongkol", "2025-W05", -8.8),
    }


def test_mean_price_is_weighted_by_weight_over_priced_catches_only() -> None:
    rows = [_row(1, kg=10, price=30_000), _row(2, kg=30, price=20_000), _row(3, kg=20, price=25_000), _row(4, kg=100)]
    [g] = aggregate(rows)[0]
    assert g.mean_price_idr_per_kg == round((10 * 30_000 + 30 * 20_000 + 20 * 25_000) / 60)
    [g] = aggregate([_row(f) for f in (1, 2, 3)])[0]
    assert g.mean_price_idr_per_kg is None


@pytest.mark.parametrize("priced", [[1], [1, 1, 1], [1, 2], [2, 2, 3, 3]])
def test_a_mean_price_of_fewer_than_three_fishers_is_never_shown(priced: list[int]) -> None:
    """A group of k fishers where fewer than k gave a price: the mean would be their prices."""
    rows = [_row(f) for f in (1, 2, 3, 4)] + [_row(f, kg=5.0 + i, price=20_000 + 1000 * f) for i, f in enumerate(priced)]
    [g] = aggregate(rows)[0]
    assert (g.catches, g.mean_price_idr_per_kg) == (4 + len(priced), None)


def test_cells_are_named_by_their_south_west_corner() -> None:
    assert cell_of(0.3, 0.3) == (0.3, 0.3)  # not 0.2 through floating point
    assert cell_of(-0.01, -0.01) == (-0.1, -0.1)
    with pytest.raises(ValueError):
        cell_of(91, 0)


def test_windows_widen_to_whole_iso_weeks() -> None:
    wednesday = MONDAY + timedelta(days=2, hours=5)
    assert week_window(wednesday, wednesday + timedelta(hours=1)) == (MONDAY, MONDAY + timedelta(days=7))
    assert week_window(MONDAY, MONDAY + timedelta(days=7)) == (MONDAY, MONDAY + timedelta(days=7))
    wib = timezone(timedelta(hours=7))
    # Monday 02:00 WIB is still Sunday in UTC: the week before.
    start, _ = week_window(datetime(2025, 1, 20, 2, tzinfo=wib), MONDAY + timedelta(days=1))
    assert start == MONDAY - timedelta(days=7)
    assert iso_week(datetime(2024, 12, 30, tzinfo=timezone.utc)) == "2025-W01"
    with pytest.raises(ValueError):
        week_window(MONDAY, MONDAY)


def test_catch_times_ahead_or_too_old_are_refused() -> None:
    now = MONDAY
    check_catch_time(now + timedelta(minutes=4), now)
    with pytest.raises(ValueError, match="future"):
        check_catch_time(now + timedelta(minutes=6), now)
    with pytest.raises(ValueError, match="days ago"):
        check_catch_time(now - timedelta(days=61), now)
    with pytest.raises(ValueError, match="offset"):
        check_catch_time(datetime(2025, 1, 20), now)


def test_one_minute_of_latitude_is_one_nautical_mile() -> None:
    km = distance_km(-8.0, 115.0, -8.0 + 1 / 60, 115.0)
    assert km / KM_PER_NM == pytest.approx(1.0, rel=0.01)
    assert bearing_deg(-8.0, 115.0, -7.9, 115.0) == pytest.approx(0.0, abs=1e-6)
    assert bearing_deg(-8.0, 115.0, -8.0, 115.1) == pytest.approx(90.0, abs=0.01)
    assert bearing_deg(-8.0, 115.1, -8.0, 115.0) == pytest.approx(270.0, abs=0.01)
    with pytest.raises(ValueError):
        distance_km(float("nan"), 0, 0, 0)
