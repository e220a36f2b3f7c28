"""Fishing grounds: where several boats found fish lately, without saying which boats.

Pure: arrays of observations in (a school a sounder saw, a catch a fisher recorded), grounds
out; no clock (`now` is an argument), no I/O, `ValueError` on bad input. Each observation has a
position, a time, a contributor code (an anonymous integer standing for one fisher or boat), a
weight (how strongly it says "fish here"), and where known the depth of the fish and a species.

How a ground is found:

1. observations of the window `[now - window, now]` count; each weighs its weight times
   2^(-age / half_life) (exponential decay: fish move, an old sighting says less);
2. each falls in a cell of `CELL_DEG` x `CELL_DEG`, and cells holding observations are
   grouped around their peaks: a cell's density is the decayed weight of its 3 x 3 block (the
   cell and its 8 neighbours, sides and corners), and each cell climbs to its densest
   occupied neighbour until it reaches a peak (a cell denser than all its neighbours); the
   cells of one peak form a cluster (hill climbing on the grid, as mean shift does on points:
   Fukunaga & Hostetler 1975, https://doi.org/10.1109/TIT.1975.1055330). Plain connected
   components (cells touching cells) would chain a fleet spread along a strait into one
   ground tens of km long; this gives one ground per concentration, and a cluster still only
   holds touching cells. A cluster of fewer than `MIN_VESSELS` contributors joins the touching
   cluster with the highest peak above its own, so a sparse ground (three boats trolling a
   few km, a sighting here and there) is not cut into pieces too small to publish. Only
   occupied cells are stored (sorted keys, `np.searchsorted`), so a region of any size costs
   what its observations cost;
3. a cluster is published only when at least `MIN_VESSELS` distinct contributors are in it
   (k-anonymity with k = 3, as the catch statistics, `api.catch_aggregates`): a ground never
   shows where one or two boats fish. A species is listed for a ground under the same rule
   (at least `MIN_VESSELS` distinct contributors reported it there), so no species tells what
   one boat landed;
4. a ground is: its centre (the decay-weighted mean of its members' positions), an outline
   (the union of its member cells' squares, each widened by `EDGE_DEG` so that cells touching
   by a corner join and no member lies on the edge; straight runs merged into one edge, so the
   outline tells which cells and nothing finer: no single sighting can be read from a corner of
   it), its score (its decayed weight over the strongest ground's: 1 is the best ground of the
   answer), how many contributors, when last seen (rounded down to the hour, so no single
   observation's time is told either), the depth range of the fish (the shallowest school top
   and the deepest school bottom seen) and the species. A centre in none of the member cells
   (a cluster bent round an empty cell) adds its own cell to the outline, and should that
   still not make one polygon around it, the outline is their convex hull.

A ground's id names its peak cell (ties between equally dense cells go to the one further
north, then east), by the cell's south-west corner: `fg-s0885-e11516` is the cell from
8.85 °S to 8.84 °S and from 115.16 °E to 115.17 °E. It comes from a place, never from a boat, and stays the same while the peak does, so
a route query can name a ground (`/api/v1/routes?to=fg-...`). Two grounds of one answer never
share an id: their cells are disjoint.

Choices (Tepi's, not published figures):

* `CELL_DEG` = 0.01° (about 1.1 km; at Indonesia's latitudes, 6 °N to 11 °S, a cell's width is
  within 2 % of its height): boats working one school or one FAD lie within a km or two of each
  other, so their cells touch; the catch statistics' 0.1° (11 km) would merge grounds a small
  boat treats as different trips, and cells of 100 m would split one ground worked by three
  boats into cells of one boat each, none of them publishable. It is also the sea-route grid
  (global-land-mask's 30" cells, about 0.93 km), so a ground is about one route cell.
* `HALF_LIFE` = 6 h: a pelagic school moves on within hours; a dawn sighting weighs half at
  noon, a quarter at dusk and a sixteenth the next dawn.
* `DEFAULT_WINDOW` = 24 h: a day and a night, the one-day trip of the small boats Tepi serves;
  with the half-life above, older observations weigh under 1/16 and would mostly be noise.
* `EDGE_DEG` = 0.0005° (about 55 m, a twentieth of a cell): every member is at least that far
  inside the outline, and two cells touching by a corner overlap in a 110 m square, so a
  cluster (8-connected) is one polygon. Clusters with an empty cell between them never have
  overlapping outlines; two grounds on neighbouring peaks of one busy area share a strip
  110 m wide along their common cells' edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import numpy as np
import shapely
from shapely.geometry import Point, Polygon
from shapely.geometry.polygon import orient

#: Fewest distinct contributors behind a published ground (and behind a listed species).
MIN_VESSELS = 3
#: Cell size, degrees of latitude and longitude.
CELL_DEG = 0.01
HALF_LIFE = timedelta(hours=6)
DEFAULT_WINDOW = timedelta(hours=24)
#: How far (degrees) an outline reaches past its member cells' edges.
EDGE_DEG = 0.0005
#: A cell index's column range, to pack (row, column) into one integer key (columns offset by
#: `_HALF` so that western longitudes pack too).
_COLS = 1 << 20
_HALF = _COLS // 2


@dataclass(frozen=True)
class Ground:
    """One published fishing ground: no contributor code, no single observation's identity."""

    ground_id: str
    centre_lat: float
    centre_lon: float
    #: WGS 84 lon/lat, the member cells' squares joined; exterior ring counter-clockwise (RFC
    #: 7946's right-hand rule), no holes.
    outline: Polygon
    #: Decayed weight over the strongest ground's of the same answer, in (0, 1].
    score: float
    vessels: int
    #: The newest observation's time rounded down to the hour.
    last_seen: datetime
    depth_min_m: float | None
    depth_max_m: float | None
    species: tuple[str, ...]


def cell_index(lat: float | np.ndarray, lon: float | np.ndarray, cell_deg: float = CELL_DEG) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of the cells holding the positions: floor(degrees / cell_deg)."""
    # A small epsilon, as `catch_aggregates.cell_of`: 0.3 / 0.1 is 2.9999999999999996.
    row = np.floor(np.asarray(lat, dtype=float) / cell_deg + 1e-9).astype(np.int64)
    col = np.floor(np.asarray(lon, dtype=float) / cell_deg + 1e-9).astype(np.int64)
    return row, col


def cell_name(row: int, col: int) -> str:
    """The id of cell (row, col) of the 0.01° grid, by its south-west corner: `fg-s0885-e11516`."""
    return f"fg-{'s' if row < 0 else 'n'}{abs(row):04d}-{'w' if col < 0 else 'e'}{abs(col):05d}"


def ground_id_at(lat: float, lon: float) -> str:
    """The id a ground peaking in the cell holding (lat, lon) gets; ValueError off the globe."""
    _check_positions(np.array([lat]), np.array([lon]))
    row, col = cell_index(lat, lon)
    return cell_name(int(row), int(col))


def find_grounds(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    t_s: Sequence[float] | np.ndarray,
    contributor: Sequence[int] | np.ndarray,
    weight: Sequence[float] | np.ndarray,
    now: datetime,
    *,
    depth_top_m: Sequence[float] | np.ndarray | None = None,
    depth_bottom_m: Sequence[float] | np.ndarray | None = None,
    species: Sequence[str | None] | None = None,
    window: timedelta = DEFAULT_WINDOW,
    half_life: timedelta = HALF_LIFE,
    min_vessels: int = MIN_VESSELS,
) -> list[Ground]:
    """The grounds of the observations (one per row of equal-length arrays), strongest first.

    `t_s`: UTC epoch seconds; `contributor`: an integer per fisher or boat (only told apart,
    never shown); `weight` > 0; depths in metres, NaN where unknown (a catch), top <= bottom;
    `species` None where unknown. Observations outside `[now - window, now]` are ignored.
    `ValueError` for arrays of different lengths, positions off the globe, times, weights or
    depths that are not finite numbers where required, a naive `now`, a window or half-life
    that is not positive, or `min_vessels` < 1."""
    if now.tzinfo is None:
        raise ValueError("now needs a UTC offset")
    if window <= timedelta(0) or half_life <= timedelta(0):
        raise ValueError("window and half_life must be positive")
    if min_vessels < 1:
        raise ValueError("min_vessels must be at least 1")
    la, lo, t, who, w = (_array(name, v) for name, v in
                         (("lat", lat), ("lon", lon), ("t_s", t_s), ("contributor", contributor), ("weight", weight)))
    n = la.size
    top = _array("depth_top_m", depth_top_m) if depth_top_m is not None else np.full(n, np.nan)
    bottom = _array("depth_bottom_m", depth_bottom_m) if depth_bottom_m is not None else np.full(n, np.nan)
    kinds = list(species) if species is not None else [None] * n
    if any(a.size != n for a in (lo, t, who, w, top, bottom)) or len(kinds) != n:
        raise ValueError("every observation array needs one value per observation")
    _check_positions(la, lo)
    if not np.all(np.isfinite(t)):
        raise ValueError("t_s must be finite epoch seconds")
    if not np.all(np.isfinite(w) & (w > 0)):
        raise ValueError("weights must be finite and positive")
    if not np.array_equal(who, np.round(who)):
        raise ValueError("contributor codes must be integers")
    for name, d in (("depth_top_m", top), ("depth_bottom_m", bottom)):
        if np.any(np.isinf(d) | (d < 0)):
            raise ValueError(f"{name} must be zero or more (NaN where unknown)")
    if np.any(top > bottom):
        raise ValueError("a school's top is below its bottom")
    if any(s is not None and not isinstance(s, str) for s in kinds):
        raise ValueError("species must be strings (None where unknown)")

    now_s = now.timestamp()
    keep = np.flatnonzero((t >= now_s - window.total_seconds()) & (t <= now_s))
    if keep.size == 0:
        return []
    la, lo, t, who, top, bottom = la[keep], lo[keep], t[keep], who[keep].astype(np.int64), top[keep], bottom[keep]
    kinds = [kinds[i] for i in keep]
    decayed = w[keep] * np.exp2(-(now_s - t) / half_life.total_seconds())
    cell_of_obs, cells, src, dst = _cells(la, lo)
    peak_of_cell, rank = _peaks(np.bincount(cell_of_obs, weights=decayed, minlength=cells.shape[0]), src, dst)
    peak_of_cell = _join_small(peak_of_cell, rank, src, dst, cell_of_obs, who, min_vessels)
    cluster = peak_of_cell[cell_of_obs]

    found = []
    for c in np.unique(cluster):
        members = np.flatnonzero(cluster == c)
        if np.unique(who[members]).size < min_vessels:
            continue
        ground_id = cell_name(int(cells[c, 0]), int(cells[c, 1]))
        member_cells = cells[np.flatnonzero(peak_of_cell == c)]
        found.append(_ground(ground_id, members, member_cells, la, lo, t, who, decayed, top, bottom, kinds, min_vessels))
    if not found:
        return []
    best = max(raw for raw, _ in found)
    grounds = [replace(g, score=raw / best) for raw, g in found]
    return sorted(grounds, key=lambda g: (-g.score, g.ground_id))


def _array(name: str, values: Sequence[float] | np.ndarray) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be numbers") from None
    if a.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional")
    return a


def _check_positions(lat: np.ndarray, lon: np.ndarray) -> None:
    if not np.all((lat >= -90) & (lat <= 90) & (lon >= -180) & (lon <= 180)):  # NaN fails too
        raise ValueError("positions must be WGS 84 degrees: lat -90..90, lon -180..180")


def _cells(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(each observation's cell number, the cells' (row, col) pairs, and the pairs of cell
    numbers that are neighbours, both ways, as two arrays)."""
    row, col = cell_index(lat, lon)
    keys = row * _COLS + (col + _HALF)
    unique, cell_of_obs = np.unique(keys, return_inverse=True)
    rows, cols = unique // _COLS, unique % _COLS - _HALF
    src, dst = [], []
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            if (dr, dc) == (0, 0):
                continue
            wanted = (rows + dr) * _COLS + (cols + dc + _HALF)
            at = np.searchsorted(unique, wanted)
            hit = (at < unique.size) & (unique[np.minimum(at, unique.size - 1)] == wanted)
            src.append(np.flatnonzero(hit))
            dst.append(at[hit])
    return cell_of_obs.reshape(-1), np.column_stack([rows, cols]), np.concatenate(src), np.concatenate(dst)


def _peaks(weight: np.ndarray, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each cell's peak, a cell number; each cell's rank): climb from cell to densest neighbour
    until none is denser. Density is the 3 x 3 block's weight; cells are ranked by (density,
    cell number), a strict order, so every climb ends and equal densities cannot loop."""
    density = weight.copy()
    np.add.at(density, src, weight[dst])
    order = np.lexsort((np.arange(weight.size), density))
    rank = np.empty(weight.size, dtype=np.int64)
    rank[order] = np.arange(weight.size)
    best = rank.copy()
    np.maximum.at(best, src, rank[dst])
    parent = order[best]  # the densest of each cell's block: itself at a peak
    while True:  # pointer jumping: each pass halves the remaining climb
        nxt = parent[parent]
        if np.array_equal(nxt, parent):
            return parent, rank
        parent = nxt


def _join_small(peak: np.ndarray, rank: np.ndarray, src: np.ndarray, dst: np.ndarray, cell_of_obs: np.ndarray,
                who: np.ndarray, k: int) -> np.ndarray:
    """Each cell's cluster (a peak cell) once every cluster of fewer than `k` contributors has
    joined the neighbouring cluster (cells touching) with the highest peak above its own: a
    little peak of one or two boats on the flank of a ground is part of it, not lost. Peaks
    only rise, so this ends; a cluster with no higher neighbour stays (and is suppressed if
    still small)."""
    order = np.argsort(rank)
    while True:
        pairs = np.unique(np.column_stack([peak[cell_of_obs], who]), axis=0)
        small = np.bincount(pairs[:, 0], minlength=peak.size) < k
        a, b = peak[src], peak[dst]
        up = small[a] & (rank[b] > rank[a])
        if not up.any():
            return peak
        best = np.full(peak.size, -1)
        np.maximum.at(best, a[up], rank[b[up]])
        target = np.arange(peak.size)
        movers = np.flatnonzero(best >= 0)
        target[movers] = order[best[movers]]
        peak = target[peak]


def _ground(
    ground_id: str,
    members: np.ndarray,
    member_cells: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    t: np.ndarray,
    who: np.ndarray,
    decayed: np.ndarray,
    top: np.ndarray,
    bottom: np.ndarray,
    kinds: list[str | None],
    min_vessels: int,
) -> tuple[float, Ground]:
    """(raw decayed weight, the ground with score 0) of one publishable cluster."""
    w = decayed[members]
    raw = float(w.sum())
    weights = w if raw > 0 else None  # every weight underflowed: a plain mean
    c_lat = float(np.average(lat[members], weights=weights))
    c_lon = float(np.average(lon[members], weights=weights))
    depths_top, depths_bottom = top[members], bottom[members]
    reported: dict[str, set[int]] = {}
    for i in members:
        if kinds[i] is not None:
            reported.setdefault(kinds[i], set()).add(int(who[i]))
    ground = Ground(
        ground_id=ground_id,
        centre_lat=c_lat,
        centre_lon=c_lon,
        outline=_outline(member_cells, c_lat, c_lon),
        score=0.0,
        vessels=int(np.unique(who[members]).size),
        last_seen=datetime.fromtimestamp(float(t[members].max()), timezone.utc).replace(minute=0, second=0, microsecond=0),
        depth_min_m=float(np.nanmin(depths_top)) if np.any(np.isfinite(depths_top)) else None,
        depth_max_m=float(np.nanmax(depths_bottom)) if np.any(np.isfinite(depths_bottom)) else None,
        species=tuple(sorted(s for s, who_saw in reported.items() if len(who_saw) >= min_vessels)),
    )
    return raw, ground


def _outline(member_cells: np.ndarray, c_lat: float, c_lon: float) -> Polygon:
    """The member cells' ((row, col) pairs) squares, widened by `EDGE_DEG`, joined into one
    counter-clockwise polygon without holes that holds the centre (see the module's 4.)."""
    def squares(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return shapely.box(cols * CELL_DEG - EDGE_DEG, rows * CELL_DEG - EDGE_DEG,
                           (cols + 1) * CELL_DEG + EDGE_DEG, (rows + 1) * CELL_DEG + EDGE_DEG)

    centre = Point(c_lon, c_lat)
    shape = shapely.union_all(squares(member_cells[:, 0], member_cells[:, 1]))
    if not shape.contains(centre):
        shape = shapely.union(shape, squares(*(np.atleast_1d(i) for i in cell_index(c_lat, c_lon)))[0])
    if not (isinstance(shape, Polygon) and shape.contains(centre)):
        shape = shape.convex_hull
    outline = shapely.simplify(Polygon(shape.exterior), 0.0)  # collinear corners of joined squares go
    return orient(outline, sign=1.0)
