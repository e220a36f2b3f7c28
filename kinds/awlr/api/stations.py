"""Stations with their latest state, as the API shows them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.errors import StationNotFound
from kinds.awlr.api.models import StationPublic, StationsPublic, ThresholdsPublic
from kinds.awlr.api.trend import LevelTrend
from kinds.awlr.siaga import SiagaLevel
from central.db import Station

if TYPE_CHECKING:
    from kinds.awlr.api.levels import LevelStore


def thresholds_public(station: Station) -> ThresholdsPublic:
    return ThresholdsPublic(
        siaga3_cm=station.siaga3_cm,
        siaga2_cm=station.siaga2_cm,
        siaga1_cm=station.siaga1_cm,
        source=station.thresholds_source,
    )


def station_public(station: Station, trend: LevelTrend | None = None) -> StationPublic:
    siaga = SiagaLevel(station.last_siaga) if station.last_siaga else None
    return StationPublic(
        id=station.id,
        name=station.name,
        river=station.river,
        tenant=station.tenant_id,
        lat=station.lat,
        lon=station.lon,
        thresholds=thresholds_public(station),
        last_level_cm=station.last_level_cm,
        siaga=int(siaga) if siaga else None,
        siaga_label=siaga.label if siaga else None,
        last_seen_at=station.last_seen_at,
        trend=trend.label if trend else None,
        trend_cm_per_h=trend.cm_per_h if trend else None,
    )


def list_stations(
    session: Session, store: LevelStore, tenant: str, limit: int = 100, offset: int = 0
) -> StationsPublic:
    """One page of the tenant's stations, ordered by id, with the total count and each one's trend."""
    # Here, not at the top: the trend reads the level stores, whose module needs this one's helpers.
    from kinds.awlr.api.station_trend import station_trends

    where = Station.tenant_id == tenant
    total = session.scalar(sa.select(sa.func.count()).select_from(Station).where(where)) or 0
    page = session.scalars(sa.select(Station).where(where).order_by(Station.id).limit(limit).offset(offset)).all()
    trends = station_trends(session, store, page)
    data = [station_public(s, trends[s.id]) for s in page]
    return StationsPublic(data=data, count=int(total), limit=limit, offset=offset)


def one_station(session: Session, store: LevelStore, tenant: str, station_id: str) -> StationPublic:
    """The tenant's station with its trend; `StationNotFound` for another tenant's, as for none."""
    from kinds.awlr.api.station_trend import station_trend  # as in list_stations

    station = tenant_station(session, tenant, station_id)
    return station_public(station, station_trend(session, store, station))


def tenant_station(session: Session, tenant: str, station_id: str) -> Station:
    """The station if it is the tenant's; `StationNotFound` otherwise (another tenant's does not exist)."""
    station = session.get(Station, station_id)
    if station is None or station.tenant_id != tenant:
        raise StationNotFound(station_id)
    return station
