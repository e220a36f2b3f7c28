"""`/stations`: the tenant's registry with current state, and each station's level history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import ConfigDep, PageLimit, PageOffset, SessionDep, SettingsDep, StationReader
from api.models import ErrorPublic
from api.routes import AUTH_ERRORS, IDENTIFIER
from kinds.awlr.api.lifespan import LevelStoreDep
from kinds.awlr.api.models import LevelQuery, LevelSeries, StationPublic, StationsPublic
from kinds.awlr.api.levels import level_history
from kinds.awlr.api.stations import list_stations, one_station

router = APIRouter(prefix="/stations", tags=["stations"])

StationId = Annotated[str, Path(max_length=63, pattern=IDENTIFIER, examples=["katulampa"])]


@router.get(
    "",
    response_model=StationsPublic,
    summary="The caller's tenant's stations with their latest level, Siaga level and trend",
    responses=AUTH_ERRORS,
)
def read_stations(
    session: SessionDep, store: LevelStoreDep, principal: StationReader, limit: PageLimit = 100, offset: PageOffset = 0
) -> StationsPublic:
    return list_stations(session, store, principal.tenant, limit, offset)


@router.get(
    "/{station_id}",
    response_model=StationPublic,
    summary="One station of the caller's tenant with its latest level, Siaga level and trend",
    description="What `/stations` says of it, without paging through the tenant's list (a station's own page).",
    responses={**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "No such station in the caller's tenant."}},
)
def read_station(station_id: StationId, session: SessionDep, store: LevelStoreDep, principal: StationReader) -> StationPublic:
    return one_station(session, store, principal.tenant, station_id)


@router.get(
    "/{station_id}/levels",
    response_model=LevelSeries,
    summary="Level history in buckets",
    responses={**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "No such station in the caller's tenant."}},
)
def read_levels(
    station_id: StationId,
    query: Annotated[LevelQuery, Query()],
    session: SessionDep,
    store: LevelStoreDep,
    settings: SettingsDep,
    config: ConfigDep,
    principal: StationReader,
) -> LevelSeries:
    return level_history(session, store, config, principal.tenant, station_id, query, settings.max_points)
