"""Response shapes of `/fishing-grounds`: GeoJSON (RFC 7946, https://www.rfc-editor.org/rfc/rfc7946).

Each ground is a Feature with a **Polygon** geometry (its outline) and its centre as plain
numbers in the properties (`centre_lat`, `centre_lon`), not a GeometryCollection of polygon and
point. Why: Leaflet's `L.geoJSON` draws either, but QGIS (through GDAL/OGR's GeoJSON driver)
gives a layer one geometry type, reads a GeometryCollection feature as a generic geometry that
polygon styling, labelling and "Add Layer" by type handle poorly, and shows scalar properties as
attribute-table columns ready for labels or a point layer from coordinates; RFC 7946 §3.1.8
itself asks to keep GeometryCollections for where nothing else serves. Rings follow RFC 7946's
right-hand rule (exterior counter-clockwise) and coordinates are [longitude, latitude].

Nothing here names a vessel, its owner or a single observation: see `kinds.fishfinder.grounds`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from api.models import PublicModel, UtcDatetime

#: RFC 7946 §12's media type for GeoJSON.
GEOJSON_MEDIA_TYPE = "application/geo+json"


class GroundProperties(PublicModel):
    ground_id: str = Field(description="The ground's id (also the feature's `id`): a place, never a boat; "
                           "`/api/v1/routes?to=` takes it.", examples=["fg-s0885-e11516"])
    centre_lat: float = Field(description="Centre (WGS 84): the decay-weighted mean of the observations; inside the polygon.")
    centre_lon: float
    score: float = Field(ge=0, le=1, description="Decayed weight over the strongest ground's of this answer (1 = the strongest).")
    vessels: int = Field(ge=3, description="Distinct contributors behind it (a fisher's boats and catches, and a boat's crew's "
                         "catches, count as one): at least 3, or it is not published.")
    last_seen: UtcDatetime = Field(description="Newest observation in it, rounded down to the hour (no single observation's "
                                   "time is told).")
    depth_min_m: float | None = Field(description="Shallowest school top seen there (m below the surface); null: no sounder depth.")
    depth_max_m: float | None = Field(description="Deepest school bottom seen there.")
    species: list[str] = Field(description="Species caught there by at least 3 distinct fishers (codes of /catches).")


class PolygonGeometry(PublicModel):
    type: Literal["Polygon"] = "Polygon"
    coordinates: list[list[list[float]]] = Field(description="One exterior ring of [lon, lat], closed, counter-clockwise: "
                                                 "the ground's 0.01° cells joined (no single observation can be read from it).")


class GroundFeature(PublicModel):
    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PolygonGeometry
    properties: GroundProperties


class GroundCollection(PublicModel):
    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[GroundFeature]
    # Foreign members (RFC 7946 §6.1): what the answer covers.
    since: UtcDatetime = Field(description="Observations from this time on were counted.")
    until: UtcDatetime = Field(description="The time of the answer: the decay's reference.")
    half_life_h: float = Field(description="An observation's weight halves every this many hours.")
