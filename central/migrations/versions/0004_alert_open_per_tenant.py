"""At most one open alert per (tenant, kind, subject, type): the one-open index gains the tenant.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

A subject id is unique within a tenant, not across tenants: a sea area of a forecast (kind
`wavebuoy`, type `marine`) is named by the forecast's own area id, and neighbouring regencies
watch the same area (e.g. BMKG's Selat Badung, between Badung and Klungkung), each with its own
limits and its own alert. Keyed without the tenant, one tenant's check cleared or reopened the
other's alert. River stations and vessels have ids unique across tenants, so for them nothing
changes: every set of open alerts the old index allowed, the new one allows too.

The index is only dropped and made again (no table copy, on SQLite either): its partial WHERE
clause is written out here, not reflected.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_NAME = "uq_alerts_one_open_per_subject_type"
_OPEN_SQL = sa.text("status IN ('active', 'acknowledged')")


def upgrade() -> None:
    op.drop_index(_NAME, table_name="alerts")
    op.create_index(
        _NAME, "alerts", ["tenant_id", "kind", "subject", "type"], unique=True,
        sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL,
    )


def downgrade() -> None:
    """Back to 0003's index; fails (the database refuses it) while two tenants have an open alert
    of the same kind, subject and type: clear one of them first."""
    op.drop_index(_NAME, table_name="alerts")
    op.create_index(
        _NAME, "alerts", ["kind", "subject", "type"], unique=True, sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL,
    )
