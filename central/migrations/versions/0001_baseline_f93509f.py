"""Baseline: the state database exactly as commit f93509f created it (the last schema without migrations).

Revision ID: 0001
Revises:
Create Date: 2026-12-06

A database made by f93509f (or earlier code with the same tables) has no `alembic_version`;
`central.schema` recognises it by its tables and columns and stamps it with this revision
instead of running it. Every later change to a table is a new revision after this one: never
edit this file (it must keep creating what f93509f created), and extend
tests/migrations/test_state_upgrade.py from the previous state.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Timestamps: `central.models.UtcDateTime` stores them as this type on both backends.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table('level_points',
        sa.Column('item_id', sa.String(length=200), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('station_id', sa.String(length=64), nullable=False),
        sa.Column('gateway', sa.String(length=64), nullable=False),
        sa.Column('window_start', TIMESTAMP, nullable=False),
        sa.Column('window_end', TIMESTAMP, nullable=False),
        sa.Column('mean_cm', sa.Double(), nullable=True),
        sa.Column('min_cm', sa.Double(), nullable=True),
        sa.Column('max_cm', sa.Double(), nullable=True),
        sa.Column('last_cm', sa.Double(), nullable=True),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('qc_suspect', sa.Integer(), nullable=False),
        sa.Column('qc_fail', sa.Integer(), nullable=False),
        sa.Column('qc_missing', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('item_id')
    )
    op.create_index('ix_level_points_station_window', 'level_points', ['station_id', 'window_start'], unique=False)
    op.create_table('processed_messages',
        sa.Column('item_id', sa.String(length=200), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('gateway', sa.String(length=64), nullable=False),
        sa.Column('processed_at', TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint('item_id')
    )
    op.create_index('ix_processed_messages_processed_at', 'processed_messages', ['processed_at'], unique=False)
    op.create_table('tenants',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_table('stations',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('river', sa.String(length=200), nullable=False),
        sa.Column('lat', sa.Double(), nullable=False),
        sa.Column('lon', sa.Double(), nullable=False),
        sa.Column('siaga3_cm', sa.Double(), nullable=False),
        sa.Column('siaga2_cm', sa.Double(), nullable=False),
        sa.Column('siaga1_cm', sa.Double(), nullable=False),
        sa.Column('thresholds_source', sa.String(length=500), nullable=False),
        sa.Column('last_level_cm', sa.Double(), nullable=True),
        sa.Column('last_siaga', sa.Integer(), nullable=True),
        sa.Column('first_seen_at', TIMESTAMP, nullable=True),
        sa.Column('last_seen_at', TIMESTAMP, nullable=True),
        sa.Column('siaga_changed_at', TIMESTAMP, nullable=True),
        sa.Column('rise_changed_at', TIMESTAMP, nullable=True),
        sa.Column('last_arrival_at', TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_stations_tenant_id', 'stations', ['tenant_id'], unique=False)
    op.create_table('users',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('role', sa.String(length=32), nullable=False),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('disabled_at', TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('tenant_id', 'name', name='uq_users_tenant_name'),
        sa.CheckConstraint("role IN ('admin', 'disaster_office', 'fisher', 'staff_admin', 'viewer')", name='ck_users_role'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
    )
    op.create_index('ix_users_tenant_id', 'users', ['tenant_id'], unique=False)
    op.create_table('alerts',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('station_id', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('severity', sa.String(length=16), nullable=False),
        sa.Column('siaga', sa.Integer(), nullable=False),
        sa.Column('peak_siaga', sa.Integer(), nullable=False),
        sa.Column('rate_cm_per_h', sa.Double(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('opened_at', TIMESTAMP, nullable=False),
        sa.Column('updated_at', TIMESTAMP, nullable=False),
        sa.Column('acknowledged_at', TIMESTAMP, nullable=True),
        sa.Column('acknowledged_by', sa.String(length=200), nullable=True),
        sa.Column('cleared_at', TIMESTAMP, nullable=True),
        sa.Column('cleared_by', sa.String(length=200), nullable=True),
        sa.Column('clear_reason', sa.String(length=32), nullable=True),
        sa.Column('closed_at', TIMESTAMP, nullable=True),
        sa.Column('closed_by', sa.String(length=200), nullable=True),
        sa.Column('last_level_cm', sa.Double(), nullable=True),
        sa.Column('upstream_station_id', sa.String(length=64), nullable=True),
        sa.Column('upstream_siaga', sa.Integer(), nullable=True),
        sa.Column('upstream_level_cm', sa.Double(), nullable=True),
        sa.Column('expected_from', TIMESTAMP, nullable=True),
        sa.Column('expected_until', TIMESTAMP, nullable=True),
        sa.Column('last_arrival_at', TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.CheckConstraint("status IN ('active', 'acknowledged', 'cleared', 'closed')", name='ck_alerts_status'),
        sa.CheckConstraint("severity IN ('critical', 'major', 'minor', 'warning')", name='ck_alerts_severity'),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.ForeignKeyConstraint(['station_id'], ['stations.id']),
    )
    op.create_index('ix_alerts_status_opened', 'alerts', ['status', 'opened_at'], unique=False)
    op.create_index('ix_alerts_tenant_id', 'alerts', ['tenant_id'], unique=False)
    op.create_index('uq_alerts_one_open_per_station_type', 'alerts', ['station_id', 'type'], unique=True, sqlite_where=sa.text("status IN ('active', 'acknowledged')"), postgresql_where=sa.text("status IN ('active', 'acknowledged')"))
    op.create_table('api_keys',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('revoked_at', TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_api_keys_tenant_id', 'api_keys', ['tenant_id'], unique=False)
    op.create_index('ix_api_keys_user_id', 'api_keys', ['user_id'], unique=False)
    op.create_table('alert_events',
        sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('alert_id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('station_id', sa.String(length=64), nullable=False),
        sa.Column('alert_type', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('at', TIMESTAMP, nullable=False),
        sa.Column('recorded_at', TIMESTAMP, nullable=False),
        sa.Column('who', sa.String(length=200), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('opened', 'updated', 'escalated', 'acknowledged', 'cleared', 'closed', 'forecast_refined', 'cancelled')", name='ck_alert_events_kind'),
        sa.ForeignKeyConstraint(['alert_id'], ['alerts.id']),
        sa.PrimaryKeyConstraint('seq'),
        sqlite_autoincrement=True
    )
    op.create_index('ix_alert_events_alert_seq', 'alert_events', ['alert_id', 'seq'], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: restore the backup taken before the upgrade")
