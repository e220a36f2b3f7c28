"""The public transparency view: every river station's level, Siaga label and trend, for anyone.

What it shows is what a BPBD publishes anyway (as PetaBencana.id's flood gauges do): station and
where it is (the public page's map; its CAP messages give the position too), level, alert level,
trend and time. Nothing about people, alerts' handling or thresholds'
provenance; a new field here is a publication decision, so the model (`PublicStation`) lists
exactly what goes out.

Trend: the rate of change of the level over the last half hour, in cm/h, with its label
(`kinds.awlr.api.trend`, gathered by `kinds.awlr.api.station_trend`); null when the data are too thin.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kinds.awlr.api.models import PublicStation, PublicStations
from kinds.awlr.api.levels import LevelStore
from kinds.awlr.api.station_trend import station_trends
from kinds.awlr.api.trend import LevelTrend
from kinds.awlr.siaga import SiagaLevel
from central.models import Station


def public_station(station: Station, trend: LevelTrend | None) -> PublicStation:
    siaga = SiagaLevel(station.last_siaga) if station.last_siaga else None
    return PublicStation(
        tenant=station.tenant_id,
        station=station.id,
        name=station.name,
        river=station.river,
        lat=station.lat,
        lon=station.lon,
        level_cm=station.last_level_cm,
        siaga=int(siaga) if siaga else None,
        siaga_label=siaga.label if siaga else None,
        trend=trend.label if trend else None,
        trend_cm_per_h=trend.cm_per_h if trend else None,
        updated_at=station.last_seen_at,
    )


def public_stations(
    session: Session, store: LevelStore, tenant: str | None, limit: int, offset: int
) -> PublicStations:
    """One page of river stations (of one tenant, if given), by tenant then id."""
    conditions = [Station.tenant_id == tenant] if tenant is not None else []
    total = session.scalar(sa.select(sa.func.count()).select_from(Station).where(*conditions)) or 0
    page = session.scalars(
        sa.select(Station).where(*conditions).order_by(Station.tenant_id, Station.id).limit(limit).offset(offset)
    ).all()
    trends = station_trends(session, store, page)
    data = [public_station(s, trends[s.id]) for s in page]
    return PublicStations(data=data, count=int(total), limit=limit, offset=offset)
