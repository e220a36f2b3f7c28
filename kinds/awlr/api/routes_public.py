"""`/public`: what anyone may read without credentials (the CAP feed and messages live in `alerts`): river
levels, and the warnings in force for the public page."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import ConfigDep, PageLimit, PageOffset, PublicRateLimit, SessionDep, SettingsDep
from api.routes import PUBLIC_ERRORS, IdentifierQuery, cacheable
from kinds.awlr.api.lifespan import LevelStoreDep
from kinds.awlr.api.models import PublicStations, PublicWarnings
from kinds.awlr.api.public import public_stations
from kinds.awlr.api.public_warnings import public_warnings

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


@router.get(
    "/warnings",
    response_model=PublicWarnings,
    summary="Public warnings in force, with their CAP headlines (public)",
    description="The alerts of the CAP index (`/alerts/cap`) that have not ended (active or acknowledged; no word of "
    "which), each with its latest CAP message's headline in Indonesian and English: what a public page lists. "
    "No credentials, no personal data; cacheable and rate limited like `/public/stations`.",
    responses=PUBLIC_ERRORS,
)
def read_public_warnings(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    settings: SettingsDep,
    _limited: PublicRateLimit,
    tenant: IdentifierQuery = None,
) -> Response:
    # Under the public base URL, as the CAP index links its messages (never the request's Host).
    base: str = request.app.state.public_base_url

    def cap_url(alert_id: int) -> str:
        return f"{base}{request.app.url_path_for('read_alert_cap', alert_id=str(alert_id))}"

    body = request.app.state.public_cache.get_or_compute(
        ("warnings", tenant),
        lambda: public_warnings(session, config, tenant, cap_url).model_dump_json().encode(),
    )
    return cacheable(request, body, "application/json", settings.public_max_age_s)
