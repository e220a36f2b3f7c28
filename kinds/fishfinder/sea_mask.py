"""Land and sea along a tenant's coast, cropped from global-land-mask without loading the globe.

global-land-mask (PyPI) answers "is this point land?" from the GLOBE dataset at 30 arc-seconds
(about 1 km), but importing `global_land_mask.globe` inflates its whole mask: 21,600 x 43,200
cells, about 0.9 GB and several seconds. A deployment routes and checks boats around a few
hundred kilometres of coast, so `SeaMask.crop` reads only that band of rows from the package's
own compressed file, streaming (a few MB at a time), and keeps only that box's columns: for the
south of Bali, about 1 s and 0.02 MB kept. Cells and the point-to-cell rule are the library's
own (`globe.lat_to_index` / `lon_to_index`), so a cropped mask answers exactly as `globe.is_land`
does inside its box; outside it, it refuses rather than guess (`ValueError`).
"""

from __future__ import annotations

import importlib.util
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

#: Bytes of the compressed mask skipped per read while seeking to the box's first row.
_SKIP_CHUNK = 1 << 24


class SeaMaskError(ValueError):
    """A box or a point the mask cannot answer for, or a mask file it cannot read."""


@dataclass(frozen=True)
class Box:
    """A latitude/longitude box in degrees (south < north, west < east, not across 180°)."""

    south: float
    north: float
    west: float
    east: float

    def __post_init__(self) -> None:
        if not (-90 <= self.south < self.north <= 90):
            raise SeaMaskError(f"a box needs -90 <= south < north <= 90, not {self.south}, {self.north}")
        if not (-180 <= self.west < self.east <= 180):
            raise SeaMaskError(f"a box needs -180 <= west < east <= 180, not {self.west}, {self.east}")


def _mask_file() -> str:
    """The package's mask file, found without importing the package (its `__init__` imports
    `globe`, which inflates the whole mask)."""
    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise SeaMaskError("global-land-mask is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "globe_combined_mask_compressed.npz")


@dataclass(frozen=True)
class SeaMask:
    """`land[i, j]` is the library's cell (`row0 + i`, `col0 + j`) of its global grid, whose row
    and column centres are `lat[row]` and `lon[col]` (rows run north to south)."""

    box: Box
    land: np.ndarray
    row0: int
    col0: int
    lat_first: float
    lat_step: float
    lon_first: float
    lon_step: float

    @classmethod
    def crop(cls, box: Box, path: str | None = None) -> SeaMask:
        """The mask of `box` read from global-land-mask's file (or `path`, the same format)."""
        path = path or _mask_file()
        try:
            with np.load(path) as npz:
                lat, lon = npz["lat"], npz["lon"]
            lat_first, lat_step = float(lat[0]), float(lat[1] - lat[0])
            lon_first, lon_step = float(lon[0]), float(lon[1] - lon[0])
            rows = sorted(_index(v, lat, lat_first, lat_step) for v in (box.north, box.south))
            cols = sorted(_index(v, lon, lon_first, lon_step) for v in (box.west, box.east))
            with zipfile.ZipFile(path) as archive, archive.open("mask.npy") as f:
                version = npy_format.read_magic(f)
                shape, fortran, dtype = (
                    npy_format.read_array_header_1_0(f) if version == (1, 0) else npy_format.read_array_header_2_0(f)
                )
                if fortran or np.dtype(dtype) != np.bool_ or shape != (len(lat), len(lon)):
                    raise SeaMaskError(f"{path}: not a row-major boolean mask of {len(lat)} x {len(lon)}")
                skip = rows[0] * shape[1]
                while skip > 0:
                    got = len(f.read(min(skip, _SKIP_CHUNK)))
                    if got == 0:
                        raise SeaMaskError(f"{path}: the mask ends before row {rows[0]}")
                    skip -= got
                band = np.frombuffer(f.read((rows[1] - rows[0] + 1) * shape[1]), dtype=np.bool_)
        except SeaMaskError:
            raise
        except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
            raise SeaMaskError(f"cannot read the land mask {path}: {exc}") from exc
        band = band.reshape(rows[1] - rows[0] + 1, shape[1])
        land = ~band[:, cols[0] : cols[1] + 1]  # the file marks the ocean (`globe.is_ocean`)
        return cls(box, land, rows[0], cols[0], lat_first, lat_step, lon_first, lon_step)

    @classmethod
    def cached_crop(cls, box: Box, cache_dir: Path) -> SeaMask:
        """`crop`, kept in `cache_dir` as a small file per box (tens of kB) named by the box and
        the library file's size and time, so a process started again reads it in milliseconds
        instead of inflating half the global mask (about a second per box). A cache that cannot
        be read or written is skipped, never an error."""
        source = _mask_file()
        st = os.stat(source)
        name = f"{box.south:g}_{box.north:g}_{box.west:g}_{box.east:g}-{st.st_size}-{st.st_mtime_ns}.npz"
        path = cache_dir / name
        try:
            with np.load(path) as npz:
                land, meta = npz["land"], npz["meta"]
            return cls(box, land.astype(np.bool_), int(meta[0]), int(meta[1]), *map(float, meta[2:6]))
        except (OSError, KeyError, ValueError, IndexError):
            pass
        mask = cls.crop(box, source)
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
            meta = np.array([mask.row0, mask.col0, mask.lat_first, mask.lat_step, mask.lon_first, mask.lon_step], dtype=np.float64)
            np.savez_compressed(tmp, land=mask.land, meta=meta)
            os.replace(tmp, path)  # whole or not at all, for a process reading it at once
        except OSError:
            pass
        return mask

    def is_land(self, lat: np.ndarray | float, lon: np.ndarray | float) -> np.ndarray:
        """Land (True) or sea for each point, as `global_land_mask.globe.is_land` answers;
        `SeaMaskError` for a point outside the box."""
        lat_a, lon_a = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
        outside = ~((lat_a >= self.box.south) & (lat_a <= self.box.north) & (lon_a >= self.box.west) & (lon_a <= self.box.east))
        if np.any(outside):
            raise SeaMaskError(f"points outside the mask's box {self.box}: {int(np.count_nonzero(outside))}")
        rows = ((lat_a - self.lat_first) / self.lat_step).astype(int) - self.row0
        cols = ((lon_a - self.lon_first) / self.lon_step).astype(int) - self.col0
        return self.land[rows, cols]

    @property
    def nbytes(self) -> int:
        return int(self.land.nbytes)


def _index(value: float, axis: np.ndarray, first: float, step: float) -> int:
    """The library's cell index of `value` on `axis` (clipped to its ends, as it clips)."""
    clipped = min(max(value, float(axis.min())), float(axis.max()))
    return int((clipped - first) / step)
