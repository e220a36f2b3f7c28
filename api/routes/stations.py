"""`/stations`: the registry with current state, and each station's level history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import LevelStoreDep, SessionDep, SettingsDep
from api.models import ErrorPublic, LevelQuery, LevelSeries, StationsPublic
from api.services.levels import level_history
from api.services.stations import list_stations

router = APIRouter(prefix="/stations", tags=["stations"])


@router.get("", response_model=StationsPublic, summary="Stations with their latest level and Siaga level")
def read_stations(session: SessionDep, tenant: Annotated[str | None, Query(max_length=64)] = None) -> StationsPublic:
    return list_stations(session, tenant)


@router.get(
    "/{station_id}/levels",
    response_model=LevelSeries,
    summary="Level history in buckets",
    responses={404: {"model": ErrorPublic}, 503: {"model": ErrorPublic}},
)
def read_levels(
    station_id: str,
    query: Annotated[LevelQuery, Query()],
    session: SessionDep,
    store: LevelStoreDep,
    settings: SettingsDep,
) -> LevelSeries:
    return level_history(session, store, station_id, query, settings.max_points)
