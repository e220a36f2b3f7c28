"""Console sign-in, subscriptions, notification deliveries and gateway health.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

People sign in to the operator console with a password (Argon2id hash on `users`, with an
optional email address for escalations) and a cookie session (`web_sessions`, the token's
SHA-256 only). They subscribe to alerts by email or webhook (`subscriptions`); every message
owed is a row of `notification_deliveries`, unique by its `dedupe_key`. Gateways report their
health every few minutes (`gateway_health`, one row per gateway). Only new tables and nullable
columns: nothing stored changes, and downgrading drops them (sessions, subscriptions and
delivery history are lost; users keep their keys).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.models import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CHANNELS = "channel IN ('email', 'webhook')"


def upgrade() -> None:
    # Plain ALTER TABLE on both backends (nullable columns, no constraint): SQLite's batch mode
    # would copy `users`, which the keys, sessions and alert history point at.
    op.add_column("users", sa.Column("password_hash", sa.String(200), nullable=True))
    op.add_column("users", sa.Column("password_changed_at", UtcDateTime(), nullable=True))
    op.add_column("users", sa.Column("email", sa.String(320), nullable=True))
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_web_sessions_tenant_id", "web_sessions", ["tenant_id"])
    op.create_index("ix_web_sessions_user_id", "web_sessions", ["user_id"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("alert_types", sa.JSON(), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("disabled_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(_CHANNELS, name="ck_subscriptions_channel"),
    )
    op.create_index("ix_subscriptions_tenant_id", "subscriptions", ["tenant_id"])
    op.create_index("ix_subscriptions_user_id", "subscriptions", ["user_id"])
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=True),
        sa.Column("dedupe_key", sa.String(200), nullable=False, unique=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("subscription_id", sa.Integer(), sa.ForeignKey("subscriptions.id"), nullable=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(_CHANNELS, name="ck_deliveries_channel"),
        sa.CheckConstraint("reason IN ('subscription', 'escalation')", name="ck_deliveries_reason"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="ck_deliveries_status"),
    )
    for column in ("tenant_id", "alert_id", "user_id", "subscription_id"):
        op.create_index(f"ix_notification_deliveries_{column}", "notification_deliveries", [column])
    op.create_index("ix_deliveries_status_next", "notification_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "gateway_health",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("gateway", sa.String(64), primary_key=True),
        sa.Column("report_id", sa.String(200), nullable=False),
        sa.Column("reported_at", UtcDateTime(), nullable=False),
        sa.Column("received_at", UtcDateTime(), nullable=False),
        sa.Column("uptime_s", sa.Float(), nullable=True),
        sa.Column("outbox_items", sa.Integer(), nullable=False),
        sa.Column("outbox_bytes", sa.Integer(), nullable=False),
        sa.Column("rejected_frames", sa.Integer(), nullable=False),
        sa.Column("rejected_by_reason", sa.JSON(), nullable=False),
        sa.Column("devices", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("gateway_health")
    op.drop_table("notification_deliveries")
    op.drop_table("subscriptions")
    op.drop_table("web_sessions")
    for column in ("email", "password_changed_at", "password_hash"):  # SQLite >= 3.35 drops a plain column in place
        op.execute(f"ALTER TABLE users DROP COLUMN {column}")
