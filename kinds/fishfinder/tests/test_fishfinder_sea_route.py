"""Sea routes on the real coast (global-land-mask, cropped): from Benoa to a ground south of the
Bukit peninsula the route goes around Bukit, never across it, and no point sampled every 100 m
along it is land on the library's own mask."""

from __future__ import annotations

import numpy as np
import pytest

from kinds.fishfinder.sea_mask import Box, SeaMask
from kinds.fishfinder.sea_route import APPROACH_CELLS, NoSeaRoute, haversine_m, plan_sea_route
from kinds.fishfinder.tests.test_fishfinder_voyage import every_100_m, is_land

BALI_SOUTH = Box(south=-9.2, north=-8.0, west=114.4, east=115.8)
BENOA = (-8.7394, 115.2083)  # Pelabuhan Benoa's fishing port berth: sea on the mask
SOUTH_OF_BUKIT = (-8.95, 115.12)
KEDONGANAN_QUAY = (-8.7570, 115.1690)  # on the beach: land on the mask


@pytest.fixture(scope="module")
def bali() -> SeaMask:
    return SeaMask.crop(BALI_SOUTH)


def test_benoa_to_a_ground_south_of_bukit_goes_around_the_peninsula(bali: SeaMask) -> None:
    straight_lat, straight_lon = every_100_m([BENOA[0], SOUTH_OF_BUKIT[0]], [BENOA[1], SOUTH_OF_BUKIT[1]])
    assert is_land()(straight_lat, straight_lon).any(), "the straight line crosses Bukit: the test means something"
    route = plan_sea_route(bali, BENOA, SOUTH_OF_BUKIT)
    lat, lon = (np.array(v) for v in zip(*route.points))
    la, lo = every_100_m(lat, lon)
    assert not is_land()(la, lo).any(), "0 land crossings, sampled every 100 m against the library's mask"
    # Around Bukit's east cape (Nusa Dua, ~115.23 E) and south of its southern cliffs (~8.85 S).
    assert (lon > 115.22).any() and (lat < -8.85).any()
    straight = float(haversine_m(BENOA[0], BENOA[1], SOUTH_OF_BUKIT[0], SOUTH_OF_BUKIT[1]))
    assert straight < route.length_m < 2.0 * straight
    assert route.points[0] == BENOA and route.points[-1] == SOUTH_OF_BUKIT


def test_a_harbour_on_the_mask_s_land_leaves_from_the_nearest_sea_cell(bali: SeaMask) -> None:
    assert bali.is_land(*KEDONGANAN_QUAY)
    route = plan_sea_route(bali, KEDONGANAN_QUAY, SOUTH_OF_BUKIT)
    first_sea = route.points[1]
    assert not bali.is_land(*first_sea)
    assert float(haversine_m(*KEDONGANAN_QUAY, *first_sea)) < 2_000, "the nearest sea, not some other bay"
    lat, lon = (np.array(v) for v in zip(*route.points[1:]))
    la, lo = every_100_m(lat, lon)
    assert not is_land()(la, lo).any()


def test_the_route_keeps_its_clearance_from_the_shore_away_from_its_ends(bali: SeaMask) -> None:
    route = plan_sea_route(bali, BENOA, SOUTH_OF_BUKIT, clearance_cells=1)
    step = 1 / 120
    far_from_ends = [
        p for p in route.points[1:-1]
        if min(haversine_m(*p, *BENOA), haversine_m(*p, *SOUTH_OF_BUKIT)) > (APPROACH_CELLS + 1) * 1_300
    ]
    assert far_from_ends
    for lat, lon in far_from_ends:
        around_lat = np.array([lat + dr * step for dr in (-1, 0, 1) for _ in (-1, 0, 1)])
        around_lon = np.array([lon + dc * step for _ in (-1, 0, 1) for dc in (-1, 0, 1)])
        assert not bali.is_land(around_lat, around_lon).any(), (lat, lon)


def test_no_route_is_a_clear_refusal(bali: SeaMask) -> None:
    inland = SeaMask.crop(Box(south=-8.45, north=-8.30, west=115.05, east=115.25))  # Bali's highlands
    with pytest.raises(NoSeaRoute, match="no sea"):
        plan_sea_route(inland, (-8.40, 115.10), (-8.35, 115.20))
    with pytest.raises(NoSeaRoute, match="outside the mask's box"):
        plan_sea_route(bali, BENOA, (-10.0, 115.0))
    with pytest.raises(ValueError, match="clearance"):
        plan_sea_route(bali, BENOA, SOUTH_OF_BUKIT, clearance_cells=-1)


def test_a_hazard_across_the_lane_is_avoided(bali: SeaMask) -> None:
    """A restricted zone laid across the first route's lane off Bukit's south coast: the new
    route goes around it (no point every 100 m inside it), still by sea, a little longer."""
    import shapely
    from shapely.geometry import Polygon

    first = plan_sea_route(bali, BENOA, SOUTH_OF_BUKIT)
    lat, lon = (np.array(v) for v in zip(*first.points))
    zone = Polygon([(115.15, -8.93), (115.20, -8.93), (115.20, -8.86), (115.15, -8.86)])  # (lon, lat)
    la, lo = every_100_m(lat, lon)
    assert shapely.contains_xy(zone, lo, la).any(), "the zone lies across the first route"
    route = plan_sea_route(bali, BENOA, SOUTH_OF_BUKIT, hazards=[zone])
    lat, lon = (np.array(v) for v in zip(*route.points))
    la, lo = every_100_m(lat, lon)
    assert not shapely.intersects_xy(zone, lo, la).any()
    assert not is_land()(la, lo).any()
    assert route.length_m > first.length_m


def test_a_ground_inside_a_hazard_has_no_route(bali: SeaMask) -> None:
    from shapely.geometry import Point

    reserve = Point(SOUTH_OF_BUKIT[1], SOUTH_OF_BUKIT[0]).buffer(0.03)  # a closed zone around the ground
    with pytest.raises(NoSeaRoute, match="the destination -8.9500, 115.1200 is in a hazard zone"):
        plan_sea_route(bali, BENOA, SOUTH_OF_BUKIT, hazards=[reserve])
