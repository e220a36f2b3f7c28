"""The weather-aware planner on the real coast (global-land-mask cropped to south Bali): its
straightened routes are within 10 % of the shortest sea path on a grid four times finer (the
clearance kept in metres), never cross land sampled every 100 m, and bad input is refused."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from kinds.fishfinder.api.sea_regions import cropped
from kinds.fishfinder.sea_mask import Box
from kinds.fishfinder.sea_route import APPROACH_CELLS, SeaGrid, cells_touched, plan_sea_route
from kinds.fishfinder.sea_weather import Boat, plan_weather_route, sample_line

BALI_SOUTH = Box(south=-9.2, north=-8.0, west=114.4, east=115.8)
BENOA = (-8.7394, 115.2083)
TRIPS = {
    "benoa-south-of-bukit": (BENOA, (-8.95, 115.12)),
    "benoa-west-of-bukit": (BENOA, (-8.85, 114.95)),  # about 50 km by sea
    "benoa-nusa-penida-north": (BENOA, (-8.64, 115.50)),
    "off-nusa-dua-south-east": ((-8.80, 115.25), (-9.05, 115.40)),
    # Out of Benoa's bay at 45 degrees over cell corners (a user's trial: a 50 m sample hit land).
    "benoa-bay-to-the-demo-ground": ((-8.745, 115.215), (-8.9081, 115.1364)),
}
DEPART = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.utc)
BOAT = Boat(speed_kn=6.0, wave_limit_m=2.0, wind_limit_kn=20.0)


@pytest.fixture(scope="module")
def grid() -> SeaGrid:
    return SeaGrid.prepare(cropped(BALI_SOUTH))


@pytest.fixture(scope="module")
def fine(grid: SeaGrid) -> SeaGrid:
    """Each cell split in 4 x 4; the clearance (1 cell, ~0.9 km) and approach kept in metres."""
    return SeaGrid.prepare(grid.upsampled(4), clearance_cells=4, approach_cells=4 * APPROACH_CELLS)


@pytest.mark.parametrize("trip", TRIPS, ids=list(TRIPS))
def test_routes_are_within_10_percent_of_the_shortest_path_four_times_finer_and_never_cross_land(
    grid: SeaGrid, fine: SeaGrid, trip: str
) -> None:
    start, end = TRIPS[trip]
    route = plan_weather_route(grid, start, end, DEPART, BOAT, None)
    finer = plan_sea_route(fine.mask, start, end, clearance_cells=4)
    assert route.length_m <= 1.1 * finer.length_m, (route.length_m, finer.length_m)
    first_sea = 1 if route.start_snapped else 0
    lat, lon, _ = sample_line(route.points[first_sea:], 5.0)
    assert not grid.mask.is_land(lat, lon).any(), "0 land crossings, even sampled every 5 m"
    zigzag = plan_sea_route(grid.mask, start, end)
    assert len(route.points) < len(zigzag.points) and route.length_m < zigzag.length_m, "straightened"


def test_the_four_times_finer_mask_is_the_same_coast(grid: SeaGrid, fine: SeaGrid) -> None:
    rng = np.random.default_rng(4)
    lat = rng.uniform(BALI_SOUTH.south, BALI_SOUTH.north, 5000)
    lon = rng.uniform(BALI_SOUTH.west, BALI_SOUTH.east, 5000)
    assert np.array_equal(grid.mask.is_land(lat, lon), fine.mask.is_land(lat, lon))


def test_bad_input_is_refused(grid: SeaGrid) -> None:
    with pytest.raises(ValueError, match="cruising speed"):
        Boat(speed_kn=0.0, wave_limit_m=1.0, wind_limit_kn=15.0)
    with pytest.raises(ValueError, match="limits"):
        Boat(speed_kn=5.0, wave_limit_m=0.0, wind_limit_kn=15.0)
    with pytest.raises(ValueError, match="time zone"):
        plan_weather_route(grid, BENOA, (-8.95, 115.12), datetime(2026, 12, 7), BOAT, None)
    with pytest.raises(ValueError, match="step_m"):
        sample_line([BENOA, (-8.95, 115.12)], 0.0)


def test_a_segment_touches_the_cells_it_crosses_and_those_it_grazes() -> None:
    """Centre to centre at 45 degrees passes exactly through corners: the cells beside each corner
    are touched too, as a point sampled on the corner belongs to one of them."""
    cells = set(zip(*cells_touched(0.5, 0.5, 2.5, 2.5), strict=True))
    assert cells == {(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)}
    assert set(zip(*cells_touched(1.0, 0.5, 1.0, 2.5), strict=True)) == {(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)}, "along an edge"
    assert set(zip(*cells_touched(0.2, 0.3, 0.4, 0.6), strict=True)) == {(0, 0)}
    assert set(zip(*cells_touched(0.5, 0.5, 1.7, 3.2), strict=True)) == {(0, 0), (0, 1), (1, 1), (1, 2), (1, 3)}
    with pytest.raises(ValueError, match="finite"):
        cells_touched(0.5, float("nan"), 1.0, 1.0)
