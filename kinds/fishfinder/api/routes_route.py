"""`/routes`: a vessel's safe route by sea to a position or a fishing ground, with its estimates
and verdict (`route_service`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ConfigDep, SessionDep
from api.models import ErrorPublic, RequestDatetime
from api.routes import AUTH_ERRORS, IDENTIFIER
from contract.clock import utcnow
from kinds.fishfinder.api import route_service
from kinds.fishfinder.api.deps import RoutePlanner
from kinds.fishfinder.api.route_models import RouteFeature
from kinds.fishfinder.api.sea_regions import RegionsDep
from kinds.fishfinder.route_verdict import DEFAULT_STAY

router = APIRouter()

_ERRORS = {
    404: {"model": ErrorPublic, "description": "No such vessel of the caller (fisher) or tenant, or no such published fishing ground."},
    422: {"description": "A `from` or `to` with a comma that is not a position on the globe; no route: no way by sea, a point outside the tenant's region or in a hazard, no sea section "
          "for the tenant, or a vessel without a cruising speed; the detail's msg says which in words, `code` stably: not_a_position, "
          "outside_region, on_land, in_hazard, no_sea_way, no_sea_section, no_cruising_speed (invalid_query: a malformed query)."},
}  # fmt: skip


@router.get(
    "/routes",
    response_model=RouteFeature,
    tags=["vessels"],
    summary="A vessel's safe route by sea: a GeoJSON LineString with distance, ETA, fuel and a go / caution / no-go verdict",
    description="The route stays at sea (global-land-mask, about 1 km cells, with a coastal clearance), outside the "
    "tenant's hazard polygons and out of forecast weather above the vessel's wave or wind limit when it would be there. "
    "Without a current forecast the verdict is never go.",
    responses={**AUTH_ERRORS, **_ERRORS},
)
def read_route(
    session: SessionDep,
    principal: RoutePlanner,
    regions: RegionsDep,
    config: ConfigDep,
    start: Annotated[str, Query(alias="from", max_length=64, description="lat,lon (decimal degrees).", examples=["-8.7394,115.2083"])],
    to: Annotated[str, Query(max_length=64, description="lat,lon, or a published fishing ground's id.", examples=["-8.95,115.12"])],
    vessel: Annotated[str, Query(max_length=63, pattern=IDENTIFIER)],
    depart: Annotated[RequestDatetime | None, Query(description="With a UTC offset; default now.")] = None,
    stay_h: Annotated[float, Query(ge=0, le=24, description="Hours the boat stays at the destination after arriving; the "
                                   "verdict judges the forecast there over them too.")] = DEFAULT_STAY.total_seconds() / 3600,
) -> RouteFeature:
    return route_service.plan_route(session, principal, regions, config, vessel, start, to, depart or utcnow(),
                                    timedelta(hours=stay_h))
