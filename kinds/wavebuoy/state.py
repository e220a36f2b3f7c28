"""The buoy kind's table in the state store: one row per declared buoy, with its latest good
observation and where the sea at it stands against the small-boat limits (Alembic branch
`wavebuoy`, `kinds/wavebuoy/migrations`). The series itself (every window's summary) goes to
the TSDB (`ingest.points`).

Buoys are declared in the configuration (`buoys:`, `kinds.wavebuoy.config`); `sync_registry`
writes them here when central loads its registry (`central.db.sync_registry`), keeping what was
observed. `latest_observations` is what the marine-conditions answer reads: a tenant's buoys in
a box whose latest observation is recent enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from central.models import Base, UtcDateTime


class WaveBuoy(Base):
    """A declared buoy and its latest good observation (all None until one arrives)."""

    __tablename__ = "wave_buoys"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    lat: Mapped[float]
    lon: Mapped[float]
    #: The latest good observation: when the buoy made it (UTC) and what it said.
    observed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    hs_m: Mapped[float | None]
    tp_s: Mapped[float | None]
    wave_dir_deg: Mapped[float | None]
    wind_kn: Mapped[float | None]
    wind_dir_deg: Mapped[float | None]
    gust_kn: Mapped[float | None]
    #: Whether the sea at the buoy was above a small-boat limit at its latest limit event
    #: (None: no event yet), and that event's observation time.
    limit_exceeded: Mapped[bool | None]
    limit_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The gateway that sent the latest observation, and when ingest stored it.
    gateway: Mapped[str | None] = mapped_column(sa.String(64))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


@dataclass(frozen=True, slots=True)
class BuoyObservation:
    """A buoy's latest observation as answers give it (speeds in knots, directions the sea and
    wind come from, degrees true)."""

    buoy: str
    name: str
    lat: float
    lon: float
    at: datetime
    hs_m: float
    tp_s: float | None
    wave_dir_deg: float | None
    wind_kn: float | None
    wind_dir_deg: float | None
    gust_kn: float | None
    limit_exceeded: bool | None


def sync_registry(session: Session, config: Any) -> None:
    """Insert or update the configuration's buoys (`config.buoys`); observations are kept, and a
    buoy that left the file keeps its row (its history is no typo's to delete)."""
    for b in getattr(config, "buoys", []):
        row = session.get(WaveBuoy, b.id)
        if row is None:
            row = WaveBuoy(id=b.id)
            session.add(row)
        row.tenant_id, row.name, row.lat, row.lon = b.tenant, b.name, b.lat, b.lon
    session.flush()


def buoy_tenants(session: Session, buoy_ids: set[str]) -> dict[str, str]:
    """buoy -> tenant, for the ids among `buoy_ids` that are declared."""
    if not buoy_ids:
        return {}
    rows = session.execute(sa.select(WaveBuoy.id, WaveBuoy.tenant_id).where(WaveBuoy.id.in_(sorted(buoy_ids))))
    return {i: t for i, t in rows}


def latest_observations(
    session: Session, tenant: str, bbox: tuple[float, float, float, float], max_age: timedelta, now: datetime,
) -> list[BuoyObservation]:
    """The latest observation of each of `tenant`'s buoys moored inside `bbox` (west, south, east,
    north in degrees, edges included, as a GeoJSON bbox) observed no earlier than `now - max_age`
    (and not after `now`), by buoy id. `ValueError` for a box that is not one (west >= east,
    south >= north, outside the globe), a negative age or a naive `now`."""
    west, south, east, north = (float(v) for v in bbox)
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ValueError(f"bbox must be west,south,east,north within the globe with west < east and south < north, not {bbox!r}")
    if max_age < timedelta(0):
        raise ValueError(f"max_age must not be negative, not {max_age}")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    rows = session.scalars(
        sa.select(WaveBuoy)
        .where(
            WaveBuoy.tenant_id == tenant, WaveBuoy.lat.between(south, north), WaveBuoy.lon.between(west, east),
            WaveBuoy.observed_at >= now - max_age, WaveBuoy.observed_at <= now, WaveBuoy.hs_m.is_not(None),
        )
        .order_by(WaveBuoy.id)
    )
    return [observation_of(r) for r in rows if r.observed_at is not None and r.hs_m is not None]


def observation_of(row: WaveBuoy) -> BuoyObservation:
    assert row.observed_at is not None and row.hs_m is not None
    return BuoyObservation(
        buoy=row.id, name=row.name, lat=row.lat, lon=row.lon, at=row.observed_at, hs_m=row.hs_m, tp_s=row.tp_s,
        wave_dir_deg=row.wave_dir_deg, wind_kn=row.wind_kn, wind_dir_deg=row.wind_dir_deg, gust_kn=row.gust_kn,
        limit_exceeded=row.limit_exceeded,
    )
