"""The console's offline basemap: land polygons clipped to a tenant's region.

Maps need land and sea and nothing else to place a station or a boat; a tile server would need
internet and would learn where operators look. The package ships Natural Earth's 1:10m land for
Indonesia (`basemap/README.md`); each tenant gets the part its region covers, simplified to that
region's scale, so a regency's answer is a few kilobytes and all of Indonesia about 70 kB (22 kB
gzipped).

Pure functions (`tenant_region`, `clip_land`) apart from reading the packaged file once
(`land_parts`), and a cache per region (`basemap_json`): the configuration, hence every
tenant's region, is fixed for the life of a process.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from core.config_model import CoreConfig

LAND_FILE = Path(__file__).parent / "basemap" / "ne_10m_land_indonesia.geojson.gz"
#: Around a tenant's platforms: a station at the edge of the map is still readable, with its coast.
MARGIN_DEG = 0.5
#: Simplification tolerance as a fraction of the region's longer side: about a screen pixel at
#: the zoom that shows the whole region (the 1:10m data holds no finer detail anyway).
TOLERANCE_PER_SIDE = 1 / 1500
ATTRIBUTION = "Made with Natural Earth"


@dataclass(frozen=True, slots=True)
class Region:
    """A latitude/longitude box (WGS 84, degrees)."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        if not (self.west < self.east and self.south < self.north):
            raise ValueError(f"a region needs west < east and south < north: {self}")

    @property
    def bbox(self) -> list[float]:
        """GeoJSON order: [west, south, east, north]."""
        return [self.west, self.south, self.east, self.north]

    def union(self, other: Region) -> Region:
        return Region(
            min(self.west, other.west), min(self.south, other.south), max(self.east, other.east), max(self.north, other.north)
        )


#: What the packaged file covers: the region of a tenant that configures no place.
INDONESIA = Region(92.0, -13.0, 143.0, 9.0)


class UnknownTenant(KeyError):
    """The configuration has no such tenant."""


def tenant_region(config: CoreConfig, tenant_id: str) -> Region:
    """The box a tenant's maps show: its sea region (where its boats go) together with its
    configured platforms (stations, buoys, offices) and `MARGIN_DEG` around them; all of
    Indonesia for a tenant that configures neither (its vessels are registered centrally)."""
    tenant = next((t for t in config.tenants if t.id == tenant_id), None)
    if tenant is None:
        raise UnknownTenant(tenant_id)
    region = None
    if tenant.sea is not None:
        r = tenant.sea.region
        region = Region(r.west, r.south, r.east, r.north)
    positions = config.platform_positions(tenant_id)
    if positions:
        lats = [lat for lat, _ in positions]
        lons = [lon for _, lon in positions]
        around = Region(min(lons) - MARGIN_DEG, min(lats) - MARGIN_DEG, max(lons) + MARGIN_DEG, max(lats) + MARGIN_DEG)
        region = around if region is None else region.union(around)
    return region if region is not None else INDONESIA


def clip_land(parts: np.ndarray, region: Region) -> np.ndarray:
    """The polygons of `parts` (shapely Polygons) within `region`, simplified to its scale, with
    coordinates rounded to a tenth of the tolerance; islands smaller than that disappear."""
    tolerance = max(region.east - region.west, region.north - region.south) * TOLERANCE_PER_SIDE
    decimals = max(0, int(np.ceil(-np.log10(tolerance / 10))))
    near = parts[shapely.intersects(parts, shapely.box(*region.bbox))]
    clipped = shapely.simplify(shapely.clip_by_rect(near, *region.bbox), tolerance, preserve_topology=True)
    rounded = shapely.transform(clipped, lambda xy: np.round(xy, decimals))
    polygons = shapely.get_parts(rounded)
    polygons = polygons[shapely.get_type_id(polygons) == shapely.GeometryType.POLYGON]
    return polygons[shapely.area(polygons) > 0]


def land_collection(polygons: np.ndarray, region: Region) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of one land MultiPolygon, with the region as its `bbox`."""
    geometry = json.loads(shapely.to_geojson(shapely.multipolygons(list(polygons)))) if len(polygons) else None
    return {
        "type": "FeatureCollection",
        "bbox": region.bbox,
        "attribution": ATTRIBUTION,
        "features": [{"type": "Feature", "properties": {"featurecla": "Land"}, "geometry": geometry}] if geometry else [],
    }


@lru_cache(maxsize=1)
def land_parts() -> np.ndarray:
    """The packaged land as an array of Polygons, read once per process (about 20 ms)."""
    with gzip.open(LAND_FILE, "rt", encoding="utf-8") as f:
        data = json.load(f)
    geometries = [shapely.from_geojson(json.dumps(feature["geometry"])) for feature in data["features"]]
    return shapely.get_parts(np.array(geometries, dtype=object))


@lru_cache(maxsize=256)
def basemap_json(region: Region) -> bytes:
    """The answer for a region, computed once: regions are the configuration's, a handful per process."""
    collection = land_collection(clip_land(land_parts(), region), region)
    return json.dumps(collection, separators=(",", ":")).encode()
