"""The public transparency view: every river station's level, Siaga label and trend, for anyone.

What it shows is what a BPBD publishes anyway (as PetaBencana.id's flood gauges do): station,
level, alert level, trend and time. Nothing about people, alerts' handling or thresholds'
provenance; a new field here is a publication decision, so the model (`PublicStation`) lists
exactly what goes out.

Trend: the mean of the newest summary window against the one before, both within
`TREND_WINDOW` of the station's newest reading: a change of at least `STEADY_CM` either way is
rising or falling, less is steady; fewer than two recent windows give no trend. The windows come
from the embedded series (`level_points`) or, where summaries go to the TSDB, from the level
store in `TREND_BUCKET` buckets. A TSDB that does not answer costs the trend, not the page.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.errors import LevelStoreUnavailable
from api.models import PublicStation, PublicStations, Trend
from api.services.levels import BucketPlan, LevelStore
from gateway.siaga import SiagaLevel
from ingest.models import LevelPoint, Station

TREND_WINDOW = timedelta(hours=2)
TREND_BUCKET = timedelta(minutes=10)
STEADY_CM = 2.0


def trend_of(older_cm: float, newer_cm: float) -> Trend:
    delta = newer_cm - older_cm
    if delta >= STEADY_CM:
        return "rising"
    if delta <= -STEADY_CM:
        return "falling"
    return "steady"


def _recent_means(session: Session, store: LevelStore, station: Station) -> list[float]:
    """Means of the last two windows with good readings, oldest first (fewer if there are none)."""
    assert station.last_seen_at is not None
    since = station.last_seen_at - TREND_WINDOW
    rows = session.execute(
        sa.select(LevelPoint.mean_cm)
        .where(
            LevelPoint.station_id == station.id,
            LevelPoint.mean_cm.is_not(None),
            LevelPoint.window_start >= since,
        )
        .order_by(LevelPoint.window_start.desc())
        .limit(2)
    ).all()
    means = [float(m) for (m,) in reversed(rows)]
    if len(means) >= 2 or store.source != "tsdb":
        return means
    start = datetime.fromtimestamp(
        math.floor(since.timestamp() / TREND_BUCKET.total_seconds()) * TREND_BUCKET.total_seconds(), since.tzinfo
    )
    plan = BucketPlan(start=start, every=TREND_BUCKET, n=math.ceil((TREND_WINDOW + TREND_BUCKET) / TREND_BUCKET) + 1)
    try:
        buckets = store.levels(station.tenant_id, station.id, plan)
    except LevelStoreUnavailable:
        return means
    return [b.mean_cm for b in buckets if b.mean_cm is not None][-2:]


def public_station(session: Session, store: LevelStore, station: Station) -> PublicStation:
    siaga = SiagaLevel(station.last_siaga) if station.last_siaga else None
    trend: Trend | None = None
    if station.last_seen_at is not None:
        means = _recent_means(session, store, station)
        if len(means) == 2:
            trend = trend_of(means[0], means[1])
    return PublicStation(
        tenant=station.tenant_id,
        station=station.id,
        name=station.name,
        river=station.river,
        level_cm=station.last_level_cm,
        siaga=int(siaga) if siaga else None,
        siaga_label=siaga.label if siaga else None,
        trend=trend,
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
    )
    return PublicStations(
        data=[public_station(session, store, s) for s in page], count=int(total), limit=limit, offset=offset
    )
