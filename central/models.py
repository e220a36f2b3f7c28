"""Tables of the state store and the values their constrained columns take.

`central.db` re-exports everything here; it owns engines and schema preparation.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ALERT_ACTIVE = "active"
ALERT_ACKNOWLEDGED = "acknowledged"
ALERT_CLEARED = "cleared"
ALERT_CLOSED = "closed"
ALERT_STATUSES = (ALERT_ACTIVE, ALERT_ACKNOWLEDGED, ALERT_CLEARED, ALERT_CLOSED)
#: Statuses of an alert still in progress: at most one per kind, subject and type.
OPEN_STATUSES = (ALERT_ACTIVE, ALERT_ACKNOWLEDGED)
ALERT_TYPE_SIAGA = "siaga"
ALERT_TYPE_RATE_OF_RISE = "rate_of_rise"
ALERT_TYPE_OFFLINE = "offline"
ALERT_TYPE_FORECAST = "forecast"
#: A gateway lost device readings at its site broker; filed under the gateway's first station.
ALERT_TYPE_GATEWAY_HEALTH = "gateway_health"
#: A boat's distress call (kind fishfinder): an SOS incident, subject the vessel.
ALERT_TYPE_SOS = "sos"
#: A vessel at sea past its expected return, or silent too long (kind fishfinder).
ALERT_TYPE_OVERDUE = "overdue"
#: A sea area's conditions above small-boat limits, forecast or observed (kind wavebuoy): subject the area.
ALERT_TYPE_MARINE = "marine"
ALERT_TYPES = (
    ALERT_TYPE_SIAGA, ALERT_TYPE_RATE_OF_RISE, ALERT_TYPE_OFFLINE, ALERT_TYPE_FORECAST, ALERT_TYPE_GATEWAY_HEALTH,
    ALERT_TYPE_SOS, ALERT_TYPE_OVERDUE, ALERT_TYPE_MARINE,
)
#: The kind of an alert recorded before alerts had kinds (state revision 0003): the river's.
DEFAULT_ALERT_KIND = "awlr"
#: Operational alerts: for the tenant's own users, never in the public CAP messages and feed.
OPERATIONAL_ALERT_TYPES = (ALERT_TYPE_GATEWAY_HEALTH,)
#: ThingsBoard's severities, worst first; Siaga 1/2/3 map to the first three.
SEVERITIES = ("critical", "major", "minor", "warning")
#: What an alert event records; the value of `alert_events.kind`.
EVENT_KINDS = (
    "opened",
    "updated",
    "escalated",
    "acknowledged",
    "cleared",
    "closed",
    "forecast_refined",
    "cancelled",
)
_OPEN_SQL = "status IN ('active', 'acknowledged')"
#: Roles of API users; every user has exactly one, within exactly one tenant (see api/README.md).
ROLE_ADMIN = "admin"
ROLE_DISASTER_OFFICE = "disaster_office"
#: A member of staff (kinds/badge): linked to one employee row, sees only their own attendance
#: records (state revision 0005).
ROLE_EMPLOYEE = "employee"
ROLE_FISHER = "fisher"
#: Sees catches only as anonymised aggregates by area, species and week (kinds/fishfinder).
ROLE_FISHERIES_OFFICE = "fisheries_office"
ROLE_STAFF_ADMIN = "staff_admin"
ROLE_VIEWER = "viewer"
ROLES = (ROLE_ADMIN, ROLE_DISASTER_OFFICE, ROLE_EMPLOYEE, ROLE_FISHER, ROLE_FISHERIES_OFFICE, ROLE_STAFF_ADMIN, ROLE_VIEWER)


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
    #: When ingest last stored anything of this station (ingest's wall clock, not the device's:
    #: a replayed or backlogged past still proves the station is alive now).
    last_arrival_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Alert(Base):
    """One alert episode of a subject (a river station, a vessel, ...): opened, updated while it
    lasts, acknowledged, cleared, closed. `kind` is the device kind it belongs to and `subject`
    the platform it is about; `station_id` is set only for a river station's alerts.

    `revision` counts the versions of the public message (CAP): it grows when what the public
    is told changes (opened, updated, escalated, refined, cleared, cancelled), not when an
    operator acknowledges or closes.
    """

    __tablename__ = "alerts"
    __table_args__ = (
        sa.Index(
            "uq_alerts_one_open_per_subject_type",
            "tenant_id",
            "kind",
            "subject",
            "type",
            unique=True,
            sqlite_where=sa.text(_OPEN_SQL),
            postgresql_where=sa.text(_OPEN_SQL),
        ),
        sa.Index("ix_alerts_status_opened", "status", "opened_at"),
        sa.Index("ix_alerts_kind_subject", "kind", "subject"),
        sa.CheckConstraint(f"status IN {ALERT_STATUSES!r}", name="ck_alerts_status"),
        sa.CheckConstraint(f"severity IN {SEVERITIES!r}", name="ck_alerts_severity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32), default=DEFAULT_ALERT_KIND, server_default=DEFAULT_ALERT_KIND)
    #: The platform the alert is about: the station (awlr) or the vessel (fishfinder).
    subject: Mapped[str] = mapped_column(sa.String(64))
    station_id: Mapped[str | None] = mapped_column(sa.ForeignKey("stations.id"))
    type: Mapped[str] = mapped_column(sa.String(32))
    severity: Mapped[str] = mapped_column(sa.String(16))
    #: Siaga level of the station at the latest update: 1 (Awas) .. 3 for a Siaga alert, up to
    #: 4 for the other types (a fast rise can start while the river is still normal).
    siaga: Mapped[int]
    #: The worst level reached during the episode.
    peak_siaga: Mapped[int]
    #: Rise rate of a rate-of-rise alert at its latest update (cm/h).
    rate_cm_per_h: Mapped[float | None]
    status: Mapped[str] = mapped_column(sa.String(16))
    revision: Mapped[int] = mapped_column(default=1)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(200))
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    cleared_by: Mapped[str | None] = mapped_column(sa.String(200))
    #: Why it cleared: level_normal, rise_over, data_returned, confirmed, cancelled.
    clear_reason: Mapped[str | None] = mapped_column(sa.String(32))
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_by: Mapped[str | None] = mapped_column(sa.String(200))
    #: Level of the station: at the latest update, then kept to the station's newest good reading
    #: while the alert is open (`kinds.awlr.ingest.alert_levels.follow_levels`); null for a station without one.
    last_level_cm: Mapped[float | None]
    #: Device time of the reading behind `last_level_cm`; null where unknown (alerts recorded
    #: before revision 0002, or without a level).
    last_level_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Forecast alerts: the upstream station, its worst Siaga level and level that caused it,
    #: and the window in which the water is expected here.
    upstream_station_id: Mapped[str | None] = mapped_column(sa.String(64))
    upstream_siaga: Mapped[int | None]
    upstream_level_cm: Mapped[float | None]
    expected_from: Mapped[datetime | None] = mapped_column(UtcDateTime())
    expected_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Offline alerts: when ingest last heard from the station before it fell silent.
    last_arrival_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Offline alerts: the station's own clock when the alert opened, estimated as its newest
    #: reading's time plus the silence ingest waited (`kinds.awlr.ingest.offline.device_time_at`). Only a
    #: reading taken after it shows the station is back; null (opened before revision 0002, or
    #: no reading known): anything arriving does.
    opened_device_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AlertEvent(Base):
    """One change of one alert, append-only: the history an operator reads and the live stream.

    `at` is when it happened (device time for what the river did, server time for what a
    person or ingest decided); `recorded_at` is when it was written. `payload` holds the alert
    as it was after the change (`alert`) and what the change was about (`detail`), so a past
    revision's public message can be rebuilt exactly.
    """

    __tablename__ = "alert_events"
    __table_args__ = (
        sa.Index("ix_alert_events_alert_seq", "alert_id", "seq"),
        sa.CheckConstraint(f"kind IN {EVENT_KINDS!r}", name="ck_alert_events_kind"),
        {"sqlite_autoincrement": True},  # never reuse a sequence number: it is a stream cursor
    )

    seq: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"))
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    station_id: Mapped[str | None] = mapped_column(sa.String(64))
    alert_type: Mapped[str] = mapped_column(sa.String(32))
    #: The alert's kind (`Alert.kind`); `kind` below is what the event did, named before alerts had kinds.
    alert_kind: Mapped[str] = mapped_column(sa.String(32), default=DEFAULT_ALERT_KIND, server_default=DEFAULT_ALERT_KIND)
    subject: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: The alert's public message revision after this event.
    revision: Mapped[int]
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    who: Mapped[str | None] = mapped_column(sa.String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON())


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


class User(Base):
    """A person (or a service account) who calls the API, in exactly one tenant, with one role.

    `name` is what alert actions record as who acted: personal data (UU 27/2022), never logged
    at INFO and never shown publicly. There is no cross-tenant (super) user: the platform
    operator creates tenants and their first admin with `tepi admin`, on the database itself.
    """

    __tablename__ = "users"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "name", name="uq_users_tenant_name"),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="ck_users_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: A disabled user's keys stop working at once; the row stays, as alert history names it.
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Argon2id hash (PHC string) of the console password; null: the user signs in with keys only.
    password_hash: Mapped[str | None] = mapped_column(sa.String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Where escalations reach this person by email (personal data, never logged at INFO).
    email: Mapped[str | None] = mapped_column(sa.String(320))


class ApiKey(Base):
    """An API key of a user: `tepi_<id>_<secret>`, stored only as HMAC-SHA256(pepper, key).

    `id` is public (it names the key in listings and revocation); the secret is shown once at
    creation. `tenant_id` repeats the user's so that every row says whose it is.
    """

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


# Sessions, subscriptions, deliveries and gateway health (revision 0006): a module of their own,
# on this metadata.
from central.reach_models import (  # noqa: E402,F401  (re-exported)
    GatewayHealth, NotificationDelivery, Subscription, WebSession,
)
