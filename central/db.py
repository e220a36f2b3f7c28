"""The state store: registry, current station state, alerts, idempotency keys, embedded points.

One schema for SQLite (the embedded default, one ingest process) and PostgreSQL (production,
several ingest workers). Differences between the two are absorbed here:

* SQLite forgets time zones, so every datetime goes through `UtcDateTime`, which stores UTC and
  hands back timezone-aware UTC on read, whatever the backend.
* SQLite needs WAL, a busy timeout and `BEGIN IMMEDIATE` for writers, or a reader holding a
  snapshot makes a concurrent writer fail at once with "database is locked".
* "One open alert per station and type" is a partial unique index on both, so two workers
  racing to open the same alert make one transaction fail (and retry) instead of a duplicate.
* `alert_events` is append-only and its `seq` is the cursor of the live stream. On PostgreSQL
  a sequence value is taken at INSERT but becomes visible at COMMIT, so two writers could
  commit 11 before 10 and a reader at "after 10" would skip 10 forever. Writers of alert
  events therefore hold a transaction-scoped advisory lock (`lock_event_log`): sequence order
  is commit order. SQLite has a single writer anyway.
* The schema is versioned with Alembic (`central.schema`, revisions in `central/migrations`):
  `prepare_database` upgrades it under the preparation lock; `models.py` describes the head.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.models import (  # noqa: F401  (re-exported: callers import the tables from here)
    ALERT_ACKNOWLEDGED,
    ALERT_ACTIVE,
    ALERT_CLEARED,
    ALERT_CLOSED,
    ALERT_STATUSES,
    ALERT_TYPE_FORECAST,
    ALERT_TYPE_OFFLINE,
    ALERT_TYPE_RATE_OF_RISE,
    ALERT_TYPE_SIAGA,
    ALERT_TYPES,
    EVENT_KINDS,
    ROLES,
    OPEN_STATUSES,
    SEVERITIES,
    Alert,
    AlertEvent,
    ApiKey,
    Base,
    LevelPoint,
    ProcessedMessage,
    Station,
    Tenant,
    User,
    UtcDateTime,
)
from central.schema import SchemaVersion, Upgrade, kind_state_modules, require_current, upgrade_schema
from core.config import TepiConfig

#: Execution option that makes a SQLite transaction take the write lock when it begins.
SQLITE_IMMEDIATE = "tepi_sqlite_immediate"


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


#: Key of the PostgreSQL advisory lock held while the schema is upgraded and the registry loaded.
_PREPARE_LOCK = 0x7E91_0001
#: Key of the PostgreSQL advisory lock held by transactions that append alert events.
_EVENT_LOG_LOCK = 0x7E91_0002


def _lock_preparation(conn: sa.Connection) -> None:
    """Serialise schema upgrades between processes starting together (ingest workers, the API in demo).

    Without it two would each see the schema behind and both run the same revision. SQLite is
    serialised by `BEGIN IMMEDIATE` already; PostgreSQL needs a transaction-scoped advisory lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PREPARE_LOCK})


def upgrade_database(engine: Engine) -> Upgrade:
    """Bring the schema to this version's head (`tepi admin db upgrade`), under the preparation lock."""
    with writer(engine).connect() as conn, conn.begin():
        _lock_preparation(conn)
        return upgrade_schema(conn)


def check_schema(engine: Engine) -> SchemaVersion:
    """The schema's version when it is this version's head; else `SchemaBehind` / `SchemaUnrecognised`."""
    with engine.connect() as conn:
        return require_current(conn)


def lock_event_log(session: Session) -> None:
    """Serialise writers of `alert_events` until commit, so `seq` order is commit order.

    Take it before changing alert rows (ingest, operator actions and periodic checks all do),
    so that every writer takes the two kinds of lock in the same order. No-op on SQLite.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _EVENT_LOG_LOCK})


def sync_registry(session: Session, config: TepiConfig) -> None:
    """Insert or update tenants and stations from the configuration; state columns are kept.
    A kind whose platforms its own section declares updates them with its `state` module's
    `sync_registry(session, config)` (e.g. `kinds.wavebuoy.state`).

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
    for s in config.registry_stations():  # the stations the kinds' sections declare
        station = session.get(Station, s.id)
        if station is None:
            station = Station(id=s.id, last_level_cm=None, last_siaga=None)
            session.add(station)
        station.tenant_id = s.tenant
        station.name = s.name
        station.river = s.river
        station.lat = s.lat
        station.lon = s.lon
        station.siaga3_cm, station.siaga2_cm, station.siaga1_cm = s.bounds_cm
        station.thresholds_source = s.bounds_source
    session.flush()
    for module in kind_state_modules():  # platforms a kind's own section declares (buoys, ...)
        sync = getattr(module, "sync_registry", None)
        if sync is not None:
            sync(session, config)


def prepare_database(engine: Engine, config: TepiConfig) -> Upgrade:
    """Create or upgrade the schema and load the registry: what ingest does at start.

    One transaction under one lock, so processes that start together do not race: the first
    upgrades, the others wait and find the schema current. A failed upgrade leaves nothing half
    done on PostgreSQL; on SQLite the file was copied first (see `central.schema`).
    """
    with writer(engine).connect() as conn, conn.begin():
        _lock_preparation(conn)
        upgrade = upgrade_schema(conn)
        with Session(bind=conn) as session:
            sync_registry(session, config)
    return upgrade
