"""Tables of people signing in to the console and being reached about alerts (state revision 0006).

- `web_sessions`: a browser's sign-in. The cookie carries a random token; only its SHA-256 is
  stored, as for API keys, so a copy of the database opens no session.
- `subscriptions`: what a user wants to hear about (alert types, subjects) and where (an email
  address, or a webhook a deployment points at its WhatsApp or SMS gateway).
- `notification_deliveries`: every message owed or sent, one row each, keyed by `dedupe_key` so
  that a notifier restarted, or two running, never sends the same message twice.

Imported by `central.models`, so they are on its metadata like every central table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from central.models import Base, UtcDateTime

CHANNEL_EMAIL = "email"
CHANNEL_WEBHOOK = "webhook"
CHANNELS = (CHANNEL_EMAIL, CHANNEL_WEBHOOK)
#: Why a delivery is owed: the user subscribed, or an alert stayed unacknowledged (escalation).
DELIVERY_REASONS = ("subscription", "escalation")
DELIVERY_PENDING = "pending"
DELIVERY_SENT = "sent"
DELIVERY_FAILED = "failed"
DELIVERY_STATUSES = (DELIVERY_PENDING, DELIVERY_SENT, DELIVERY_FAILED)


class WebSession(Base):
    """A signed-in browser: `id` is SHA-256 of the cookie's token (hex), never the token itself."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: Renewed by use (at most once a minute): the idle limit counts from here.
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
    #: The absolute limit: no use extends a session past it.
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Subscription(Base):
    """A user's wish to be told about alerts: empty `alert_types` / `subjects` mean all of them."""

    __tablename__ = "subscriptions"
    __table_args__ = (sa.CheckConstraint(f"channel IN {CHANNELS!r}", name="ck_subscriptions_channel"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    #: An email address, or an https (http on loopback) webhook URL: personal data, never logged at INFO.
    target: Mapped[str] = mapped_column(sa.String(2000))
    alert_types: Mapped[list[str]] = mapped_column(sa.JSON(), default=list)
    #: Station ids, sea-area ids, vessel ids: the alerts' `subject`.
    subjects: Mapped[list[str]] = mapped_column(sa.JSON(), default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class NotificationDelivery(Base):
    """One message owed to one target about one alert: pending until sent or given up."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        sa.CheckConstraint(f"channel IN {CHANNELS!r}", name="ck_deliveries_channel"),
        sa.CheckConstraint(f"reason IN {DELIVERY_REASONS!r}", name="ck_deliveries_reason"),
        sa.CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="ck_deliveries_status"),
        sa.Index("ix_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"), index=True)
    #: The alert event (`alert_events.seq`) the message tells of; null for an escalation.
    event_seq: Mapped[int | None]
    #: e.g. `sub:<subscription>:<seq>`, `esc:<alert>:<step>:<user>:<channel>`: unique, so a message is owed once.
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    reason: Mapped[str] = mapped_column(sa.String(16))
    #: Escalation step (0 for subscriptions): the position in the tenant's chain reached.
    step: Mapped[int] = mapped_column(default=0)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(sa.ForeignKey("subscriptions.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(16))
    target: Mapped[str] = mapped_column(sa.String(2000))
    status: Mapped[str] = mapped_column(sa.String(16), default=DELIVERY_PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    #: The last failure, without the target or any secret.
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class GatewayHealth(Base):
    """The latest health report of a gateway (kind "gateway" uplink item `gateway_health`), one
    row per gateway: what the console's device-health page shows. `devices` lists per device
    `{device, kind, platform, last_seen_at, battery_v, battery_pct, frames, rejected_frames}`.
    Written by ingest (`ingest.gateway_health.apply_health_reports`)."""

    __tablename__ = "gateway_health"

    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: The id of the report applied: a report older than it (redelivered late) changes nothing.
    report_id: Mapped[str] = mapped_column(sa.String(200))
    #: The gateway's clock at the report, and ingest's when it arrived.
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    uptime_s: Mapped[float | None] = mapped_column(sa.Float())
    #: Counts are 64-bit (revision 0007): an outbox may be configured past 2 GiB.
    outbox_items: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    outbox_bytes: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    #: Frames refused since the gateway started, and by reason.
    rejected_frames: Mapped[int] = mapped_column(sa.BigInteger(), default=0)
    rejected_by_reason: Mapped[dict[str, int]] = mapped_column(sa.JSON(), default=dict)
    devices: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON(), default=list)
    #: Whether the gateway's uplink was connected when it built the report (revision 0007).
    link_up: Mapped[bool | None] = mapped_column(sa.Boolean())
    #: How often the gateway reports: three intervals without a report make it stale (revision 0007).
    report_every_s: Mapped[float | None] = mapped_column(sa.Float())
