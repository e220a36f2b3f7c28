"""The shortest way by sea between two points of a tenant's coast, on the cells of its land mask.

Pure: a `SeaMask` and two positions in, a polyline out; no clock, no I/O. The sea is the mask's
sea cells (about 1 km, global-land-mask's GLOBE grid) at least `clearance_cells` from land,
so a lane keeps off the shore; within `APPROACH_CELLS` of a start or an end point, the cells it
needs to reach open water are let through (a harbour sits on the shore; a point the mask calls land is moved to the nearest
sea cell first). Moves go to the 8 neighbouring cells, a diagonal only when both cells beside
it are sea too, so the straight segment between two cell centres never cuts a corner of land.
Lengths are great-circle metres between cell centres; the shortest path is Dijkstra's
(`scipy.sparse.csgraph.dijkstra`) over that graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from scipy import ndimage, sparse
from shapely.geometry.base import BaseGeometry
from scipy.sparse import csgraph

from kinds.fishfinder.sea_mask import SeaMask

EARTH_RADIUS_M = 6_371_008.8
#: How far (cells, about 1 km each) from a start or end point a lane may come closer to the
#: shore than the clearance: a harbour's approach channel (Benoa's is about 4 km long).
APPROACH_CELLS = 8
#: Up, down, left, right and the diagonals, as (row, column) steps.
_MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


class NoSeaRoute(ValueError):
    """No way by sea joins the two points within the mask (or one of them is outside it)."""


@dataclass(frozen=True)
class SeaRoute:
    """Cell centres from start to end (the points as given at both ends) and the length in metres."""

    points: list[tuple[float, float]]
    length_m: float


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def plan_sea_route(
    mask: SeaMask,
    start: tuple[float, float],
    end: tuple[float, float],
    clearance_cells: int = 1,
    hazards: Sequence[BaseGeometry] = (),
) -> SeaRoute:
    """The shortest sea route from `start` to `end` ((lat, lon) each) on `mask`, avoiding
    `hazards` (shapely geometries in lon/lat: reefs, restricted zones, shipping lanes); `NoSeaRoute`
    when there is none, `ValueError` for a negative clearance.

    A cell is closed by a hazard that covers any part of it (its polygon is tested against the
    cell's square, not its centre), so no lane between open cells' centres enters a hazard."""
    if clearance_cells < 0:
        raise ValueError(f"clearance_cells must not be negative, not {clearance_cells}")
    land = mask.land
    rows, cols = land.shape
    try:
        cells = [_cell(mask, point) for point in (start, end)]
    except ValueError as exc:
        raise NoSeaRoute(str(exc)) from exc
    sea = ~land
    open_water = sea & ~ndimage.binary_dilation(land, iterations=clearance_cells) if clearance_cells else sea
    # Each end is moved to its nearest sea cell, and joined to open water through sea cells only.
    ends = [_nearest(sea, cell) for cell in cells]
    passable = open_water.copy()
    for r, c in ends:
        passable |= _shore_reach(sea, open_water, (r, c))
    lat_c = mask.lat_first + (mask.row0 + np.arange(rows) + 0.5) * mask.lat_step
    lon_c = mask.lon_first + (mask.col0 + np.arange(cols) + 0.5) * mask.lon_step
    if hazards:
        passable &= ~_hazard_cells(hazards, mask, lat_c, lon_c)
    graph = _graph(passable, lat_c, lon_c)
    index = [r * cols + c for r, c in ends]
    dist, pred = csgraph.dijkstra(graph, indices=index[0], return_predecessors=True)
    if not np.isfinite(dist[index[1]]):
        raise NoSeaRoute(f"no way by sea from {start} to {end} within {mask.box}")
    path = [index[1]]
    while path[-1] != index[0]:
        path.append(int(pred[path[-1]]))
    path.reverse()
    points = [start, *[(float(lat_c[i // cols]), float(lon_c[i % cols])) for i in path], end]
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    return SeaRoute(points=points, length_m=float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum()))


def _hazard_cells(hazards: Sequence[BaseGeometry], mask: SeaMask, lat_c: np.ndarray, lon_c: np.ndarray) -> np.ndarray:
    """Cells any hazard touches: each cell's square (centre ± half a step) against the hazards'
    union, vectorised (shapely 2)."""
    half_lat, half_lon = abs(mask.lat_step) / 2, abs(mask.lon_step) / 2
    lon, lat = np.meshgrid(lon_c, lat_c)
    squares = shapely.box(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)
    return shapely.intersects(shapely.union_all(list(hazards)), squares)


def _cell(mask: SeaMask, point: tuple[float, float]) -> tuple[int, int]:
    lat, lon = point
    box = mask.box
    if not (box.south <= lat <= box.north and box.west <= lon <= box.east):
        raise ValueError(f"{point} is outside the mask's box {box}")
    return (int((lat - mask.lat_first) / mask.lat_step) - mask.row0, int((lon - mask.lon_first) / mask.lon_step) - mask.col0)


def _nearest(sea: np.ndarray, cell: tuple[int, int]) -> tuple[int, int]:
    if sea[cell]:
        return cell
    if not sea.any():
        raise NoSeaRoute("the mask's box holds no sea")
    _, (rows, cols) = ndimage.distance_transform_edt(~sea, return_indices=True)
    return int(rows[cell]), int(cols[cell])


def _shore_reach(sea: np.ndarray, open_water: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    """The harbour's approach: sea cells of the clearance band within `APPROACH_CELLS` of
    `cell` and connected to it there. Nothing else of the shore, so a lane that leaves a
    harbour hugs the coast only until it reaches open water, not along the whole coast."""
    r, c = cell
    near = np.zeros_like(sea)
    near[max(0, r - APPROACH_CELLS) : r + APPROACH_CELLS + 1, max(0, c - APPROACH_CELLS) : c + APPROACH_CELLS + 1] = True
    band = sea & ~open_water & near
    if not band[cell]:
        return np.zeros_like(sea)
    labels, _ = ndimage.label(band, structure=np.ones((3, 3)))
    return labels == labels[cell]


def _graph(passable: np.ndarray, lat_c: np.ndarray, lon_c: np.ndarray) -> sparse.csr_matrix:
    rows, cols = passable.shape
    r0, c0 = np.nonzero(passable)
    src, dst, weight = [], [], []
    for dr, dc in _MOVES:
        r1, c1 = r0 + dr, c0 + dc
        inside = (r1 >= 0) & (r1 < rows) & (c1 >= 0) & (c1 < cols)
        ra, ca, rb, cb = r0[inside], c0[inside], r1[inside], c1[inside]
        ok = passable[rb, cb]
        if dr and dc:  # a diagonal: both cells beside it must be sea too
            ok &= passable[rb, ca] & passable[ra, cb]
        ra, ca, rb, cb = ra[ok], ca[ok], rb[ok], cb[ok]
        src.append(ra * cols + ca)
        dst.append(rb * cols + cb)
        weight.append(haversine_m(lat_c[ra], lon_c[ca], lat_c[rb], lon_c[cb]))
    n = rows * cols
    return sparse.csr_matrix((np.concatenate(weight), (np.concatenate(src), np.concatenate(dst))), shape=(n, n))
