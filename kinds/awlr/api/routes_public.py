"""`/public`: what anyone may read without credentials (the CAP feed and messages live in `alerts`)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import PageLimit, PageOffset, PublicRateLimit, SessionDep, SettingsDep
from api.routes import PUBLIC_ERRORS, IdentifierQuery, cacheable
from kinds.awlr.api.lifespan import LevelStoreDep
from kinds.awlr.api.models import PublicStations
from kinds.awlr.api.public import public_stations

router = APIRouter(prefix="/public", tags=["public"])


@router.get(
    "/stations",
    response_model=PublicStations,
    summary="Every river station's level, Siaga label and trend (public)",
    description="For citizens, media and other agencies: no credentials, no personal data. Cacheable "
    "(`Cache-Control: public`, `ETag`; send `If-None-Match` to get 304) and rate limited per client IP.",
    responses=PUBLIC_ERRORS,
)
def read_public_stations(
    request: Request,
    session: SessionDep,
    store: LevelStoreDep,
    settings: SettingsDep,
    _limited: PublicRateLimit,
    tenant: IdentifierQuery = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> Response:
    body = request.app.state.public_cache.get_or_compute(
        ("stations", tenant, limit, offset),
        lambda: public_stations(session, store, tenant, limit, offset).model_dump_json().encode(),
    )
    return cacheable(request, body, "application/json", settings.public_max_age_s)
