"""Stations with their latest state, as the API shows them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.models import StationPublic, StationsPublic, ThresholdsPublic
from gateway.siaga import SiagaLevel
from ingest.db import Station


def thresholds_public(station: Station) -> ThresholdsPublic:
    return ThresholdsPublic(
        siaga3_cm=station.siaga3_cm,
        siaga2_cm=station.siaga2_cm,
        siaga1_cm=station.siaga1_cm,
        source=station.thresholds_source,
    )


def station_public(station: Station) -> StationPublic:
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
    )


def list_stations(session: Session, tenant: str | None = None) -> StationsPublic:
    """Every station (of one tenant, if given), ordered by tenant then id."""
    stmt = sa.select(Station).order_by(Station.tenant_id, Station.id)
    if tenant is not None:
        stmt = stmt.where(Station.tenant_id == tenant)
    stations = [station_public(s) for s in session.scalars(stmt)]
    return StationsPublic(data=stations, count=len(stations))
