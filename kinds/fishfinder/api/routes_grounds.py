"""`/fishing-grounds`: where at least three boats found fish lately, as GeoJSON (no vessel, no owner)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.deps import ConfigDep, SessionDep
from api.models import ErrorPublic, RequestDatetime
from api.routes import AUTH_ERRORS
from contract.clock import utcnow
from kinds.fishfinder.api import grounds_service
from kinds.fishfinder.api.catch_models import Species
from kinds.fishfinder.api.deps import GroundId, GroundReader
from kinds.fishfinder.api.errors import GroundNotFound
from kinds.fishfinder.api.grounds_models import GEOJSON_MEDIA_TYPE, GroundCollection, GroundFeature

router = APIRouter(tags=["fishing grounds"])


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON_MEDIA_TYPE


def _geojson(model: type[GroundCollection] | type[GroundFeature]) -> dict[int | str, dict[str, Any]]:
    """A 200 documented as GeoJSON (RFC 7946 §12's media type); errors stay application/json, so
    the route's own class is not GeoJSONResponse (FastAPI gives its media type to every answer)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {200: {"description": "GeoJSON.", "content": {GEOJSON_MEDIA_TYPE: {"schema": ref}}}}


_SINCE = Query(
    description=f"Count observations from this time on (with a UTC offset); default the last "
    f"{grounds_service.DEFAULT_WINDOW.total_seconds() / 3600:g} h, at most {grounds_service.MAX_WINDOW.days} days back."
)


@router.get(
    "/fishing-grounds",
    response_model=GroundCollection,
    summary="Fishing grounds: hotspots of at least 3 boats' school sightings and catches, decaying with age",
    description="A GeoJSON FeatureCollection (RFC 7946): each ground a Polygon with its centre, score, "
    "number of boats, last sighting, depth range and species in the properties. No vessel, owner or single "
    "observation is named; a place seen by fewer than 3 distinct boats (or fishers) is not shown.",
    responses={**_geojson(GroundCollection), **AUTH_ERRORS},
)
def read_grounds(
    session: SessionDep,
    config: ConfigDep,
    principal: GroundReader,
    since: Annotated[RequestDatetime | None, _SINCE] = None,
    species: Annotated[Species | None, Query(description="Only grounds where at least 3 fishers caught it.")] = None,  # type: ignore[valid-type]
) -> GeoJSONResponse:
    found = grounds_service.ground_collection(session, config, principal.tenant, since, species, utcnow())
    return GeoJSONResponse(found.model_dump(mode="json"))


@router.get(
    "/fishing-grounds/{ground_id}",
    response_model=GroundFeature,
    summary="One fishing ground the caller's tenant has now, as a GeoJSON Feature",
    responses={
        **_geojson(GroundFeature),
        **AUTH_ERRORS,
        404: {"model": ErrorPublic, "description": "No such ground published for the caller's tenant in the window."},
    },
)
def read_ground(
    ground_id: GroundId,
    session: SessionDep,
    config: ConfigDep,
    principal: GroundReader,
    since: Annotated[RequestDatetime | None, _SINCE] = None,
) -> GeoJSONResponse:
    ground = grounds_service.find_ground(session, config, principal.tenant, ground_id, since, utcnow())
    if ground is None:
        raise GroundNotFound(ground_id)
    return GeoJSONResponse(grounds_service.ground_feature(ground).model_dump(mode="json"))
