"""The state store: registry, current station state, alerts, idempotency keys, embedded points.

One schema for SQLite (the embedded default, one ingest process) and PostgreSQL (production,
several ingest workers). Differences between the two are absorbed here:

* SQLite forgets time zones, so every datetime goes through `UtcDateTime`, which stores UTC and
  hands back timezone-aware UTC on read, whatever the backend.
* SQLite needs WAL, a busy timeout and `BEGIN IMMEDIATE` for writers, or a reader holding a
  snapshot makes a concurrent writer fail at once with "database is locked".
* "One active alert per station and type" is a partial unique index on both, so two workers
  racing to open the same alert make one transaction fail (and retry) instead of a duplicate.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tepi.config import TepiConfig

ALERT_ACTIVE = "active"
ALERT_ACKNOWLEDGED = "acknowledged"
ALERT_CLEARED = "cleared"
ALERT_STATUSES = (ALERT_ACTIVE, ALERT_ACKNOWLEDGED, ALERT_CLEARED)
ALERT_TYPE_SIAGA = "siaga"
ALERT_TYPE_RATE_OF_RISE = "rate_of_rise"
#: ThingsBoard's severities, worst first; Siaga 1/2/3 map to the first three.
SEVERITIES = ("critical", "major", "minor", "warning")

#: Execution option that makes a SQLite transaction take the write lock when it begins.
SQLITE_IMMEDIATE = "tepi_sqlite_immediate"


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Tepi stores only timezone-aware timestamps")
        utc = value.astimezone(timezone.utc)
        # SQLite compares timestamps as text, so all of them must be written in one zone, bare.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of the state store."""


class Tenant(Base):
    """A regional government (or agency) whose stations and alerts are kept apart from others'."""

    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))


class Station(Base):
    """A river gauge: registry data from the configuration plus the latest known state."""

    __tablename__ = "stations"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    river: Mapped[str] = mapped_column(sa.String(200))
    lat: Mapped[float]
    lon: Mapped[float]
    siaga3_cm: Mapped[float]
    siaga2_cm: Mapped[float]
    siaga1_cm: Mapped[float]
    thresholds_source: Mapped[str] = mapped_column(sa.String(500))
    last_level_cm: Mapped[float | None]
    last_siaga: Mapped[int | None]
    #: Time of the oldest reading received (device clock): where this station's history begins.
    first_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Time of the newest reading behind `last_level_cm` (device clock, UTC).
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Time of the newest Siaga change applied; older, late-delivered changes are not applied.
    siaga_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The same for rate-of-rise starts and ends.
    rise_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Alert(Base):
    """One alert episode of a station: opened, updated while it lasts, acknowledged, cleared."""

    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index(
            "uq_alerts_one_open_per_station_type",
            "station_id",
            "type",
            unique=True,
            sqlite_where=sa.text(f"status != '{ALERT_CLEARED}'"),
            postgresql_where=sa.text(f"status != '{ALERT_CLEARED}'"),
        ),
        sa.Index("ix_alerts_status_opened", "status", "opened_at"),
        sa.CheckConstraint(f"status IN {ALERT_STATUSES!r}", name="ck_alerts_status"),
        sa.CheckConstraint(f"severity IN {SEVERITIES!r}", name="ck_alerts_severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    station_id: Mapped[str] = mapped_column(sa.ForeignKey("stations.id"))
    type: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16))
    #: Siaga level of the station at the latest update: 1 (Awas) .. 3 for a Siaga alert, up to
    #: 4 for a rate-of-rise alert, which can start while the river is still normal.
    siaga: Mapped[int]
    #: The worst level reached during the episode.
    peak_siaga: Mapped[int]
    #: Rise rate of a rate-of-rise alert at its latest update (cm/h).
    rate_cm_per_h: Mapped[float | None]
    status: Mapped[str] = mapped_column(sa.String(16))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(200))
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_level_cm: Mapped[float]


class ProcessedMessage(Base):
    """The id of every uplink item already applied: a redelivered item is recognised here."""

    __tablename__ = "processed_messages"

    item_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    gateway: Mapped[str] = mapped_column(sa.String(64))
    processed_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class LevelPoint(Base):
    """One summary window of one station: the embedded time series when no TSDB is configured.

    The statistics cover the readings QC passed as good (`count`); they are null for a window
    without any, which is still stored so the QC counts of a doubtful station stay visible.
    """

    __tablename__ = "level_points"
    __table_args__ = (sa.Index("ix_level_points_station_window", "station_id", "window_start"),)

    item_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    station_id: Mapped[str] = mapped_column(sa.String(64))
    gateway: Mapped[str] = mapped_column(sa.String(64))
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    window_end: Mapped[datetime] = mapped_column(UtcDateTime())
    mean_cm: Mapped[float | None]
    min_cm: Mapped[float | None]
    max_cm: Mapped[float | None]
    last_cm: Mapped[float | None]
    count: Mapped[int]
    qc_suspect: Mapped[int] = mapped_column(default=0)
    qc_fail: Mapped[int] = mapped_column(default=0)
    qc_missing: Mapped[int] = mapped_column(default=0)


def create_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with SQLite tuned for one writer and concurrent readers.

    The directory of a SQLite file is created, so a fresh checkout runs without set-up.
    """
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() != "sqlite":
        kwargs.setdefault("pool_pre_ping", True)
        return sa.create_engine(sa_url, **kwargs)
    if sa_url.database and sa_url.database != ":memory:":
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"check_same_thread": False, "timeout": 30, **kwargs.pop("connect_args", {})}
    engine = sa.create_engine(sa_url, connect_args=connect_args, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's implicit BEGIN breaks transactions).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout=30000")
        _enable_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get(SQLITE_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _enable_wal(cursor: Any, timeout_s: float = 30.0) -> None:
    """Switch a SQLite file to WAL (persistent: done once per file, checked on every connect).

    The switch needs the file to itself and SQLite does not wait for that with the busy
    timeout: when ingest and the API open a fresh file together, one of them is told "database
    is locked" at once. So wait here, bounded.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that SQLite transactions take the write lock up front."""
    return engine.execution_options(**{SQLITE_IMMEDIATE: True})


#: Key of the PostgreSQL advisory lock held while the schema and registry are prepared.
_PREPARE_LOCK = 0x7E91_0001


def create_schema(engine: Engine) -> None:
    """Create missing tables (no migrations yet: the schema only grows by new tables)."""
    with writer(engine).begin() as conn:
        _lock_preparation(conn)
        Base.metadata.create_all(conn)


def _lock_preparation(conn: sa.Connection) -> None:
    """Serialise schema creation between processes starting together (ingest and API).

    Without it both see a table missing and one fails creating it. SQLite is serialised by
    `BEGIN IMMEDIATE` already; PostgreSQL needs a transaction-scoped advisory lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PREPARE_LOCK})


def missing_tables(engine: Engine) -> list[str]:
    """Tables of the schema that the database lacks; empty when the schema is in place."""
    present = set(sa.inspect(engine).get_table_names())
    return [t for t in Base.metadata.tables if t not in present]


def sync_registry(session: Session, config: TepiConfig) -> None:
    """Insert or update tenants and stations from the configuration; state columns are kept.

    Stations that left the configuration stay, with their history and alerts: removing a line
    from a YAML file must not delete years of records.
    """
    for t in config.tenants:
        tenant = session.get(Tenant, t.id)
        if tenant is None:
            session.add(Tenant(id=t.id, name=t.name))
        else:
            tenant.name = t.name
    session.flush()
    for s in config.stations:
        station = session.get(Station, s.id)
        if station is None:
            station = Station(id=s.id, last_level_cm=None, last_siaga=None)
            session.add(station)
        station.tenant_id = s.tenant
        station.name = s.name
        station.river = s.river
        station.lat = s.lat
        station.lon = s.lon
        station.siaga3_cm, station.siaga2_cm, station.siaga1_cm = s.thresholds.bounds()
        station.thresholds_source = s.thresholds.source
    session.flush()


def prepare_database(engine: Engine, config: TepiConfig) -> None:
    """Create the schema and load the registry: what a fresh deployment needs before ingest.

    One transaction under one lock, so processes that start together do not race.
    """
    with writer(engine).connect() as conn, conn.begin():
        _lock_preparation(conn)
        Base.metadata.create_all(conn)
        with Session(bind=conn) as session:
            sync_registry(session, config)
