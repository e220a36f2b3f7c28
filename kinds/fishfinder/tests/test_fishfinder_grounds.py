"""`find_grounds`, the pure part of the fishing grounds: clustering, decay and the three-boat rule,
on real waters (south of Bali's Bukit peninsula, off Karangsong in Indramayu)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from kinds.fishfinder.grounds import CELL_DEG, EDGE_DEG, cell_index, cell_name, find_grounds, ground_id_at
from kinds.fishfinder.sea_mask import Box, SeaMask

NOW = datetime(2026, 3, 2, 4, 0, tzinfo=timezone.utc)  # 12:00 WITA
#: Open water about 6 km south of the Bukit's cliffs (Uluwatu to Nusa Dua, ~8.84 S).
BUKIT = (-8.900, 115.150)
#: The Indian Ocean further east, off Nusa Dua.
NUSA_DUA = (-8.900, 115.300)
#: The Java Sea about 12 km north-east of Karangsong's harbour (Indramayu).
KARANGSONG = (-6.200, 108.420)
#: Metres per degree of latitude (IUGG mean radius).
M_PER_DEG = 111_195.0


def _obs(spot: tuple[float, float], boats: list[int], hours_ago: float = 1.0, **extra: Any) -> dict[str, Any]:
    """One observation per entry of `boats`, spread a few hundred metres around `spot`."""
    n = len(boats)
    rng = np.random.default_rng(len(boats) * 7 + int(hours_ago * 10))
    return {
        "lat": spot[0] + rng.uniform(-0.003, 0.003, n),
        "lon": spot[1] + rng.uniform(-0.003, 0.003, n),
        "t_s": np.full(n, (NOW - timedelta(hours=hours_ago)).timestamp()),
        "contributor": np.array(boats),
        "weight": np.ones(n),
        **extra,
    }


def _join(*parts: dict[str, Any]) -> dict[str, Any]:
    keys = ("lat", "lon", "t_s", "contributor", "weight")
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def _densest_cell(obs: dict[str, Any]) -> str:
    """The id of the cell whose 3 x 3 block holds most observations (all of equal weight and age
    here); a tie goes to the northern-, then the eastern-most cell."""
    rows, cols = cell_index(obs["lat"], obs["lon"])
    counts = Counter(zip(rows.tolist(), cols.tolist()))
    density = {(r, c): sum(counts.get((r + i, c + j), 0) for i in (-1, 0, 1) for j in (-1, 0, 1)) for r, c in counts}
    row, col = max(density, key=lambda cell: (density[cell], cell[0], cell[1]))
    return cell_name(row, col)


def test_the_places_are_sea_on_the_real_coast() -> None:
    # One crop around all of them: a crop costs about a second, however small its box.
    mask = SeaMask.crop(Box(south=-8.95, north=-6.15, west=108.37, east=115.35))
    for lat, lon in (BUKIT, NUSA_DUA, KARANGSONG):
        assert not mask.is_land(lat, lon), (lat, lon)
    assert mask.is_land(-8.80, 115.17), "the Bukit itself is land: the places are where the test means"


def test_three_boats_make_a_ground_fewer_do_not() -> None:
    [ground] = find_grounds(**_obs(BUKIT, [1, 2, 3]), now=NOW)
    assert ground.vessels == 3 and ground.score == 1.0
    assert ground.ground_id == _densest_cell(_obs(BUKIT, [1, 2, 3])) == "fg-s0890-e11514"
    assert find_grounds(**_obs(BUKIT, [1, 2]), now=NOW) == []
    # Three sightings of one boat, or nine of two, are still one or two boats.
    assert find_grounds(**_obs(BUKIT, [7, 7, 7]), now=NOW) == []
    assert find_grounds(**_obs(BUKIT, [1, 2] * 9), now=NOW) == []
    assert find_grounds(**_obs(BUKIT, [1, 2, 3]), now=NOW, min_vessels=4) == []


def test_the_outline_holds_every_member_inside_and_the_centre_and_tells_only_cells() -> None:
    obs = _obs(KARANGSONG, [11, 12, 13, 14, 15])
    [ground] = find_grounds(**obs, now=NOW)
    outline = ground.outline
    assert outline.is_valid and outline.exterior.is_ccw  # RFC 7946's right-hand rule
    assert outline.contains(Point(ground.centre_lon, ground.centre_lat))
    edge = outline.exterior
    for lat, lon in zip(obs["lat"], obs["lon"]):
        p = Point(lon, lat)
        assert outline.contains(p) and edge.distance(p) >= EDGE_DEG * 0.999
    assert 6.19 < -ground.centre_lat < 6.21 and 108.41 < ground.centre_lon < 108.43
    # Every corner lies EDGE_DEG off a cell corner of the 0.01° grid, with no corner on a straight run.
    corners = np.array(edge.coords[:-1])
    off_grid = np.abs(corners) / CELL_DEG
    assert np.allclose(np.abs(off_grid - np.round(off_grid)) * CELL_DEG, EDGE_DEG, atol=1e-9)
    assert len(corners) == len(shapely.simplify(outline, 0.0).exterior.coords) - 1
    # Moving a sighting within its cell (here the one nearest the edge, to the cell's middle)
    # changes nothing of the outline: no single observation can be read from it.
    rows, cols = cell_index(obs["lat"], obs["lon"])
    i = int(np.argmin([edge.distance(Point(x, y)) for x, y in zip(obs["lon"], obs["lat"])]))
    moved = {**obs, "lat": obs["lat"].copy(), "lon": obs["lon"].copy()}
    moved["lat"][i], moved["lon"][i] = (rows[i] + 0.5) * CELL_DEG, (cols[i] + 0.5) * CELL_DEG
    [again] = find_grounds(**moved, now=NOW)
    assert again.outline.equals(outline)


def test_last_seen_is_told_to_the_hour_only() -> None:
    obs = _obs(BUKIT, [1, 2, 3], hours_ago=0.0)
    obs["t_s"] = obs["t_s"] - np.array([3 * 3600 + 10, 47 * 60 + 13, 2 * 3600])  # newest at 03:12:47
    [ground] = find_grounds(**obs, now=NOW)
    assert ground.last_seen == datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)


def test_an_old_hotspot_scores_below_a_fresh_one_and_beyond_the_window_it_is_gone() -> None:
    fresh = _obs(BUKIT, [1, 2, 3], hours_ago=0.5)
    old = _obs(NUSA_DUA, [4, 5, 6], hours_ago=18)
    grounds = find_grounds(**_join(fresh, old), now=NOW)
    assert [g.vessels for g in grounds] == [3, 3]
    first, second = grounds
    assert first.centre_lon < 115.2 < second.centre_lon, "the fresh one (south of Bukit) first"
    assert first.score == 1.0 and second.score == pytest.approx(2 ** (-17.5 / 6), rel=1e-6)
    assert second.last_seen == NOW - timedelta(hours=18)
    # 25 h ago is outside the default 24 h window; a 2-day window takes it.
    stale = _obs(NUSA_DUA, [4, 5, 6], hours_ago=25)
    assert find_grounds(**stale, now=NOW) == []
    assert len(find_grounds(**stale, now=NOW, window=timedelta(days=2))) == 1
    # Observations after `now` are not in the window either.
    assert find_grounds(**_obs(BUKIT, [1, 2, 3], hours_ago=-1), now=NOW) == []


def test_touching_cells_join_and_separate_places_stay_apart() -> None:
    # Three boats in three cells touching only by their corners: one ground.
    lat0, lon0 = -8.905, 115.155
    diagonal = {
        "lat": np.array([lat0, lat0 + CELL_DEG, lat0 + 2 * CELL_DEG]),
        "lon": np.array([lon0, lon0 + CELL_DEG, lon0 + 2 * CELL_DEG]),
        "t_s": np.full(3, NOW.timestamp() - 60),
        "contributor": np.array([1, 2, 3]),
        "weight": np.array([1.0, 3.0, 1.0]),
    }
    [ground] = find_grounds(**diagonal, now=NOW)
    assert ground.ground_id == ground_id_at(lat0 + CELL_DEG, lon0 + CELL_DEG), "named after its densest cell"
    assert ground.outline.geom_type == "Polygon" and ground.outline.is_valid, "cells touching by a corner: one polygon"
    assert all(ground.outline.contains(Point(x, y)) for x, y in zip(diagonal["lon"], diagonal["lat"]))
    assert ground.outline.contains(Point(ground.centre_lon, ground.centre_lat))
    # A cell apart: no ground of a boat each.
    gap = {**diagonal, "lat": np.array([lat0, lat0 + 2 * CELL_DEG, lat0 + 4 * CELL_DEG])}
    assert find_grounds(**gap, now=NOW) == []
    both = find_grounds(**_join(_obs(BUKIT, [1, 2, 3]), _obs(KARANGSONG, [4, 5, 6])), now=NOW)
    assert len({g.ground_id for g in both}) == 2
    assert not both[0].outline.intersects(both[1].outline)


def test_a_fleet_strung_along_the_coast_gives_a_ground_per_concentration() -> None:
    """Nine touching cells eastward south of the Bukit: three boats work each end, a seventh
    trolls along the line between. Cells touching cells would make one 10 km ground."""
    west, east = (-8.905, 115.155), (-8.905, 115.155 + 8 * CELL_DEG)
    line = {
        "lat": np.full(7, west[0]),
        "lon": west[1] + CELL_DEG * np.arange(1, 8),
        "t_s": np.full(7, NOW.timestamp() - 600),
        "contributor": np.full(7, 7),
        "weight": np.ones(7),
    }
    grounds = find_grounds(**_join(_obs(west, [1, 2, 3] * 3), _obs(east, [4, 5, 6] * 3), line), now=NOW)
    assert len(grounds) == 2
    w, e = sorted(g.centre_lon for g in grounds)
    # Each centre near its end (the trolling boat's sightings pull it a little towards the middle).
    assert abs(w - west[1]) < 0.015 and abs(e - east[1]) < 0.015
    assert all(g.vessels >= 3 for g in grounds)


def test_three_boats_scattered_over_one_ground_still_make_it() -> None:
    """Three boats trolling a 2.5 km disc south of the Bukit (the simulator's `selatan-bukit`),
    a few sightings each: the sparse cells have little peaks of one or two boats, which join
    the neighbouring concentration uphill rather than vanish."""
    rng = np.random.default_rng(2)  # a draw where, without joining, a peak of under three boats is cut off
    n = 12
    r, a = 2500 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0, 2 * np.pi, n)
    lat = -8.905 + r * np.sin(a) / M_PER_DEG
    lon = 115.14 + r * np.cos(a) / (M_PER_DEG * np.cos(np.radians(8.905)))
    obs = {"lat": lat, "lon": lon, "t_s": NOW.timestamp() - rng.uniform(0, 6 * 3600, n),
           "contributor": np.repeat([1, 2, 3], 4), "weight": rng.uniform(1, 3, n)}
    [ground] = find_grounds(**obs, now=NOW)
    assert ground.vessels == 3
    assert all(ground.outline.contains(Point(x, y)) for x, y in zip(lon, lat))


def test_the_id_is_a_place_and_no_boat_changes_it() -> None:
    obs = _obs(BUKIT, [1, 2, 3, 4])
    renamed = {**obs, "contributor": np.array([901, 17, 5, 42])}
    a, b = find_grounds(**obs, now=NOW), find_grounds(**renamed, now=NOW)
    assert a == b
    assert a[0].ground_id == _densest_cell(obs)
    assert ground_id_at(-8.885, 115.165) == "fg-s0889-e11516"
    assert ground_id_at(6.2, -77.03) == "fg-n0620-w07703"


def test_depth_range_and_species_follow_the_three_boat_rule() -> None:
    obs = _obs(BUKIT, [1, 2, 3, 4])
    grounds = find_grounds(
        **obs, now=NOW,
        depth_top_m=[12.0, 20.0, np.nan, 8.5],
        depth_bottom_m=[30.0, 44.0, np.nan, 15.0],
        species=["tongkol", "tongkol", "tongkol", "kerapu"],
    )
    [g] = grounds
    assert (g.depth_min_m, g.depth_max_m) == (8.5, 44.0)
    assert g.species == ("tongkol",), "kerapu from one fisher only is not told"
    [none] = find_grounds(**obs, now=NOW)
    assert (none.depth_min_m, none.depth_max_m, none.species) == (None, None, ())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lat": [91.0, -8.9, -8.9]}, "WGS 84"),
        ({"lon": [115.1, float("nan"), 115.1]}, "WGS 84"),
        ({"t_s": [float("inf"), 0.0, 0.0]}, "finite"),
        ({"weight": [1.0, 0.0, 1.0]}, "positive"),
        ({"weight": [1.0, 1.0]}, "one value per observation"),
        ({"contributor": [1.5, 2, 3]}, "integers"),
        ({"lat": [[-8.9, -8.9, -8.9]]}, "one-dimensional"),
        ({"lat": ["x", "y", "z"]}, "numbers"),
        ({"depth_top_m": [10.0, 10.0, 10.0], "depth_bottom_m": [5.0, 20.0, 20.0]}, "top is below"),
        ({"depth_top_m": [-1.0, 10.0, 10.0]}, "zero or more"),
        ({"species": ["tongkol", 3, None]}, "species"),
        ({"now": datetime(2026, 3, 2)}, "UTC offset"),
        ({"window": timedelta(0)}, "positive"),
        ({"half_life": timedelta(hours=-1)}, "positive"),
        ({"min_vessels": 0}, "at least 1"),
    ],
)
def test_bad_input_is_a_clear_value_error(change: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {
        "lat": [-8.9, -8.9, -8.9], "lon": [115.15, 115.151, 115.152], "t_s": [NOW.timestamp()] * 3,
        "contributor": [1, 2, 3], "weight": [1.0, 1.0, 1.0], "now": NOW, **change,
    }
    with pytest.raises(ValueError, match=message):
        find_grounds(**args)
    with pytest.raises(ValueError):
        ground_id_at(-91, 0)


def test_no_observations_no_grounds() -> None:
    assert find_grounds([], [], [], [], [], now=NOW) == []
    assert shapely.__version__ >= "2"


def test_a_ground_round_an_empty_cell_still_holds_its_centre() -> None:
    """Boats on the eight cells round one they did not fish: the centre falls in the empty
    cell, which the outline then takes in (a polygon without a hole, holding the centre)."""
    lat0, lon0 = -8.905, 115.155
    ring = [(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1) if (i, j) != (0, 0)]
    obs = {
        "lat": np.array([lat0 + i * CELL_DEG for i, _ in ring]),
        "lon": np.array([lon0 + j * CELL_DEG for _, j in ring]),
        "t_s": np.full(8, NOW.timestamp() - 60),
        "contributor": np.arange(8) % 3,
        "weight": np.ones(8),
    }
    [ground] = find_grounds(**obs, now=NOW)
    assert ground.outline.geom_type == "Polygon" and not ground.outline.interiors
    assert ground.outline.contains(Point(ground.centre_lon, ground.centre_lat))
    assert ground.outline.exterior.is_ccw and len(ground.outline.exterior.coords) == 5  # one 3 x 3 square
