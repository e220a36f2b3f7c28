"""The shortest way by sea between two points of a tenant's coast, on the cells of its land mask.

Pure: a `SeaMask` and two positions in, a polyline out; no clock, no I/O. The sea is the mask's
sea cells (about 1 km, global-land-mask's GLOBE grid) at least `clearance_cells` from land,
so a lane keeps off the shore; within `APPROACH_CELLS` of a start or an end point, the cells it
needs to reach open water are let through (a harbour sits on the shore; a point the mask calls land is moved to the nearest
sea cell first). Moves go to the 8 neighbouring cells, a diagonal only when both cells beside
it are sea too, so the straight segment between two cell centres never cuts a corner of land.
Lengths are great-circle metres between cell centres; the shortest path is Dijkstra's
(`scipy.sparse.csgraph.dijkstra`) over that graph.

`SeaGrid.prepare` does once what does not depend on the trip (the clearance band, the cells
hazards touch, every move's length between sea cells): the API prepares each tenant's region at
start, so a request only picks the moves its passable cells allow and runs Dijkstra.
`plan_sea_route` prepares and plans in one call.
"""

from __future__ import annotations

import math

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
#: How far (cells) a point the mask calls land may be moved to the nearest sea cell: a harbour or
#: a beach on the shore, not a place inland (its nearest sea may be another coast).
SNAP_CELLS = 3
#: Up, down, left, right and the diagonals, as (row, column) steps.
_MOVES = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


class NoSeaRoute(ValueError):
    """No way by sea joins the two points within the mask (or one of them is outside it). `code`
    says which, stably, for a client to word: outside_region, on_land, in_hazard, no_sea_way."""

    def __init__(self, message: str, code: str = "no_sea_way") -> None:
        super().__init__(message)
        self.code = code


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
    grid = SeaGrid.prepare(mask, clearance_cells, hazards)
    ends = grid.ends(start, end)
    passable = grid.passable(ends)
    dist, pred = grid.distances(passable, ends[0])
    path = grid.path(pred, ends[0], ends[1])
    if path is None:
        raise grid.no_way(start, end, ends)
    points = [start, *grid.centres(path), end]
    return SeaRoute(points=points, length_m=polyline_m(points))


def polyline_m(points: Sequence[tuple[float, float]]) -> float:
    """Great-circle length (m) of a polyline of (lat, lon) points."""
    lat = np.array([p[0] for p in points])
    lon = np.array([p[1] for p in points])
    return float(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]).sum())


@dataclass(frozen=True, eq=False)
class SeaGrid:
    """A region's cells prepared for routing: which are sea, open water (the clearance off the
    shore), touched by a hazard; each cell's centre; and every move between two sea cells with
    its length and the cells beside it (`_moves`). Cells are numbered row-major (`r * cols + c`)."""

    mask: SeaMask
    sea: np.ndarray
    open_water: np.ndarray
    hazard: np.ndarray
    lat_c: np.ndarray
    lon_c: np.ndarray
    approach_cells: int
    #: Moves between sea cells: from, to, the two cells beside a diagonal (for
    #: a straight move, its own two ends), length in metres; flat cell numbers.
    move_from: np.ndarray
    move_to: np.ndarray
    move_side_a: np.ndarray
    move_side_b: np.ndarray
    move_m: np.ndarray

    @classmethod
    def prepare(
        cls,
        mask: SeaMask,
        clearance_cells: int = 1,
        hazards: Sequence[BaseGeometry] = (),
        approach_cells: int = APPROACH_CELLS,
    ) -> SeaGrid:
        """`ValueError` for a negative clearance or approach."""
        if clearance_cells < 0:
            raise ValueError(f"clearance_cells must not be negative, not {clearance_cells}")
        if approach_cells < 0:
            raise ValueError(f"approach_cells must not be negative, not {approach_cells}")
        land = mask.land
        rows, cols = land.shape
        sea = ~land
        open_water = sea & ~ndimage.binary_dilation(land, iterations=clearance_cells) if clearance_cells else sea
        lat_c = mask.lat_first + (mask.row0 + np.arange(rows) + 0.5) * mask.lat_step
        lon_c = mask.lon_first + (mask.col0 + np.arange(cols) + 0.5) * mask.lon_step
        hazard = _hazard_cells(hazards, mask, lat_c, lon_c) if hazards else np.zeros_like(sea)
        moves = _moves(sea, lat_c, lon_c)
        return cls(mask, sea, open_water, hazard, lat_c, lon_c, approach_cells, *moves)

    @property
    def shape(self) -> tuple[int, int]:
        return self.sea.shape  # type: ignore[return-value]

    def cells_of(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Row, column and inside-the-box flag of each point (rows and columns clipped)."""
        m, box = self.mask, self.mask.box
        lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        inside = (lat >= box.south) & (lat <= box.north) & (lon >= box.west) & (lon <= box.east)
        rows, cols = self.shape
        r = np.floor((lat - m.lat_first) / m.lat_step).astype(np.intp) - m.row0
        c = np.floor((lon - m.lon_first) / m.lon_step).astype(np.intp) - m.col0
        np.clip(r, 0, rows - 1, out=r)
        np.clip(c, 0, cols - 1, out=c)
        return r, c, inside

    def segment_cells(self, a: tuple[float, float], b: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, bool]:
        """Rows and columns of every cell the straight segment a-b (lat, lon) touches, and
        whether it stays inside the box (`cells_touched` in the grid's cell units)."""
        m = self.mask
        ya, yb = ((p[0] - m.lat_first) / m.lat_step - m.row0 for p in (a, b))
        xa, xb = ((p[1] - m.lon_first) / m.lon_step - m.col0 for p in (a, b))
        r, c = cells_touched(ya, xa, yb, xb)
        rows, cols = self.shape
        inside = bool(((r >= 0) & (r < rows) & (c >= 0) & (c < cols)).all())
        return np.clip(r, 0, rows - 1), np.clip(c, 0, cols - 1), inside

    def no_way(self, start: tuple[float, float], end: tuple[float, float], ends: tuple[int, int]) -> NoSeaRoute:
        """Why no path joins `ends`, in words: an end in a hazard zone, or no way by sea."""
        for name, point, cell in (("start", start, ends[0]), ("destination", end, ends[1])):
            if self.hazard.flat[cell]:
                return NoSeaRoute(f"the {name} {_place(point)} is in a hazard zone of the tenant's hazards file: boats keep out of it", "in_hazard")
        b = self.mask.box
        return NoSeaRoute(
            f"no way by sea from {_place(start)} to {_place(end)} within the region (lat {b.south:g} to {b.north:g}, "
            f"lon {b.west:g} to {b.east:g}) keeping clear of the shore and of hazard zones"
        )

    def ends(self, start: tuple[float, float], end: tuple[float, float]) -> tuple[int, int]:
        """The cells a trip leaves from and arrives at: each point's own, or the nearest sea
        cell to a point the mask calls land (a harbour on the shore) within `SNAP_CELLS`;
        `NoSeaRoute` for a point outside the region, inland, or a region without sea."""
        out = []
        for point in (start, end):
            try:
                cell = _cell(self.mask, point)
            except ValueError as exc:
                raise NoSeaRoute(str(exc), "outside_region") from exc
            r, c = _nearest(self.sea, cell)
            if max(abs(r - cell[0]), abs(c - cell[1])) > SNAP_CELLS:
                raise NoSeaRoute(f"{_place(point)} is on land, more than {SNAP_CELLS} cells (about {SNAP_CELLS} km) from the sea", "on_land")
            out.append(r * self.shape[1] + c)
        return out[0], out[1]

    def passable(self, ends: Sequence[int]) -> np.ndarray:
        """Open water, and each end's approach through the shore band; never a hazard's cell."""
        cols = self.shape[1]
        passable = self.open_water.copy()
        for flat in ends:
            passable |= _shore_reach(self.sea, self.open_water, divmod(int(flat), cols), self.approach_cells)
        return passable & ~self.hazard

    def distances(self, passable: np.ndarray, start: int) -> tuple[np.ndarray, np.ndarray]:
        """Metres from `start` to every cell over `passable` cells (inf: unreachable), and each
        cell's predecessor on its shortest way."""
        flat = passable.ravel()
        ok = flat[self.move_from] & flat[self.move_to] & flat[self.move_side_a] & flat[self.move_side_b]
        n = flat.size
        # Moves are sorted by origin (`_moves`): the compressed rows are built as they are, unsorted work skipped.
        indptr = np.concatenate(([0], np.cumsum(np.bincount(self.move_from[ok], minlength=n))))
        graph = sparse.csr_matrix((self.move_m[ok], self.move_to[ok], indptr), shape=(n, n))
        dist, pred = csgraph.dijkstra(graph, indices=start, return_predecessors=True)
        return dist, pred

    @staticmethod
    def path(pred: np.ndarray, start: int, end: int) -> list[int] | None:
        """The cells from `start` to `end` along `pred`, or None when `end` is unreachable."""
        if start == end:
            return [start]
        if pred[end] < 0:
            return None
        path = [end]
        while path[-1] != start:
            path.append(int(pred[path[-1]]))
        path.reverse()
        return path

    def centres(self, cells: Sequence[int]) -> list[tuple[float, float]]:
        cols = self.shape[1]
        return [(float(self.lat_c[i // cols]), float(self.lon_c[i % cols])) for i in cells]

    def upsampled(self, factor: int) -> SeaMask:
        """The same mask with each cell split into `factor` x `factor` (for comparing routes
        against a finer grid); `ValueError` for a factor below 1."""
        if factor < 1:
            raise ValueError(f"factor must be at least 1, not {factor}")
        m = self.mask
        land = np.repeat(np.repeat(m.land, factor, axis=0), factor, axis=1)
        return SeaMask(m.box, land, m.row0 * factor, m.col0 * factor, m.lat_first, m.lat_step / factor,
                       m.lon_first, m.lon_step / factor)  # fmt: skip


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


def _shore_reach(sea: np.ndarray, open_water: np.ndarray, cell: tuple[int, int], reach: int) -> np.ndarray:
    """The harbour's approach: sea cells of the clearance band within `reach` cells of
    `cell` and connected to it there. Nothing else of the shore, so a lane that leaves a
    harbour hugs the coast only until it reaches open water, not along the whole coast."""
    r, c = cell
    near = np.zeros_like(sea)
    near[max(0, r - reach) : r + reach + 1, max(0, c - reach) : c + reach + 1] = True
    band = sea & ~open_water & near
    if not band[cell]:
        return np.zeros_like(sea)
    labels, _ = ndimage.label(band, structure=np.ones((3, 3)))
    return labels == labels[cell]


def _moves(sea: np.ndarray, lat_c: np.ndarray, lon_c: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every move to one of the 8 neighbouring cells between two sea cells: from, to, the two
    cells beside it (for a straight move, its own two ends), length in metres."""
    rows, cols = sea.shape
    r0, c0 = np.nonzero(sea)
    src, dst, side_a, side_b, length = [], [], [], [], []
    for dr, dc in _MOVES:
        r1, c1 = r0 + dr, c0 + dc
        inside = (r1 >= 0) & (r1 < rows) & (c1 >= 0) & (c1 < cols)
        ra, ca, rb, cb = r0[inside], c0[inside], r1[inside], c1[inside]
        ok = sea[rb, cb]
        ra, ca, rb, cb = ra[ok], ca[ok], rb[ok], cb[ok]
        src.append(ra * cols + ca)
        dst.append(rb * cols + cb)
        side_a.append(rb * cols + ca)  # a diagonal's cells beside it; a straight move's own end
        side_b.append(ra * cols + cb)
        length.append(haversine_m(lat_c[ra], lon_c[ca], lat_c[rb], lon_c[cb]))
    moves = [np.concatenate(a) for a in (src, dst, side_a, side_b, length)]
    order = np.argsort(moves[0], kind="stable")
    return tuple(a[order] for a in moves)


def cells_touched(y0: float, x0: float, y1: float, x1: float, eps: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Every unit cell (row = floor y, column = floor x) whose closed square the segment from
    (y0, x0) to (y1, x1) meets: the cells it crosses, and also those it only grazes, at a corner
    it passes exactly through or along an edge it follows. Why so strict: a straightened route
    drawn from cell centre to cell centre at 45 degrees passes exactly through cell corners, and a
    point sampled there belongs to the land cell on the other side. `ValueError` for a
    non-finite coordinate."""
    if not all(math.isfinite(v) for v in (y0, x0, y1, x1)):
        raise ValueError("segment coordinates must be finite")
    dy, dx = y1 - y0, x1 - x0
    ts = [np.array([0.0, 1.0])]
    for v0, dv in ((y0, dy), (x0, dx)):
        if abs(dv) > eps:
            lines = np.arange(math.ceil(min(v0, v0 + dv)), math.floor(max(v0, v0 + dv)) + 1, dtype=float)
            ts.append((lines - v0) / dv)
    t = np.unique(np.clip(np.concatenate(ts), 0.0, 1.0))
    mid = (t[:-1] + t[1:]) / 2 if t.size > 1 else t
    ym, xm = y0 + dy * mid, x0 + dx * mid
    rows, cols = [np.floor(ym)], [np.floor(xm)]
    # Along a grid line (a horizontal or vertical segment on a cell edge): both sides.
    on_y, on_x = np.abs(ym - np.round(ym)) < eps, np.abs(xm - np.round(xm)) < eps
    rows += [np.round(ym[on_y]) - 1]
    cols += [np.floor(xm[on_y])]
    rows += [np.floor(ym[on_x])]
    cols += [np.round(xm[on_x]) - 1]
    # Through a grid vertex (both lines crossed at once, or an end on one): its four cells.
    yt, xt = y0 + dy * t, x0 + dx * t
    at_vertex = (np.abs(yt - np.round(yt)) < eps) & (np.abs(xt - np.round(xt)) < eps)
    for oy in (-1, 0):
        for ox in (-1, 0):
            rows.append(np.round(yt[at_vertex]) + oy)
            cols.append(np.round(xt[at_vertex]) + ox)
    cells = np.unique(np.stack([np.concatenate(rows), np.concatenate(cols)]).astype(np.intp), axis=1)
    return cells[0], cells[1]


def _place(point: tuple[float, float]) -> str:
    """A position as people write it: "-8.7450, 115.2150"."""
    return f"{point[0]:.4f}, {point[1]:.4f}"
