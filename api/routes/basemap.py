"""`/basemap` and `/public/basemap`: the land of a tenant's region for the console's maps.

Land polygons are public-domain geography, no tenant's data: the public variant names any
tenant (or none: all of Indonesia), and a signed-in caller gets their own tenant's region.
Both are cacheable with a strong ETag; the answer changes only with the configuration.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.console.land import INDONESIA, UnknownTenant, basemap_json, tenant_region
from api.deps import AnyRole, ConfigDep, PublicRateLimit, SessionDep, SettingsDep
from api.models import ErrorPublic
from api.routes import AUTH_ERRORS, PUBLIC_ERRORS, IdentifierQuery, cacheable
from central.models import Tenant
from central.errors import TenantNotFound

router = APIRouter(tags=["console"])

GEOJSON = "application/geo+json"
_DESCRIPTION = (
    "A GeoJSON FeatureCollection of one land MultiPolygon (Natural Earth 1:10m, public domain) clipped to "
    "the region, simplified to its scale, with the region as `bbox` [west, south, east, north]. The region is "
    "the tenant's sea region and its configured stations, buoys and offices with half a degree around them; "
    "all of Indonesia for a tenant that configures neither."
)
_RESPONSE = {200: {"content": {GEOJSON: {}}}}


@router.get(
    "/basemap",
    response_class=Response,
    summary="Land of the caller's tenant's region, for maps",
    description=_DESCRIPTION,
    responses={**_RESPONSE, **AUTH_ERRORS},
)
def read_basemap(request: Request, principal: AnyRole, config: ConfigDep) -> Response:
    try:
        region = tenant_region(config, principal.tenant)
    except UnknownTenant:  # made with `tepi admin`, not in the configuration file: it places nothing
        region = INDONESIA
    body = basemap_json(region)
    response = cacheable(request, body, GEOJSON, 0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@router.get(
    "/public/basemap",
    response_class=Response,
    summary="Land of a tenant's region, for the public map (public)",
    description=f"{_DESCRIPTION} No credentials; rate limited per client IP; without `tenant`, all of Indonesia.",
    responses={
        **_RESPONSE,
        **PUBLIC_ERRORS,
        404: {"model": ErrorPublic, "description": "No such tenant."},
    },
)
def read_public_basemap(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    settings: SettingsDep,
    _limited: PublicRateLimit,
    tenant: IdentifierQuery = None,
) -> Response:
    try:
        region = tenant_region(config, tenant) if tenant is not None else INDONESIA
    except UnknownTenant:
        if session.get(Tenant, tenant) is None:
            raise TenantNotFound(tenant or "") from None
        region = INDONESIA  # made with `tepi admin`, not in the configuration file: it places nothing
    return cacheable(request, basemap_json(region), GEOJSON, settings.public_max_age_s)
