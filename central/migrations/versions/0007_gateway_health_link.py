"""Gateway health: the uplink's state, the reporting interval and counts beyond 32 bits.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

A gateway's health report says whether its uplink was up when it was built (`link_up`) and how
often the gateway reports (`report_every_s`), so that the console calls each gateway stale after
three of its own intervals without a report, whatever cadence it was given. Its counts run since
the gateway started and its outbox may be configured past 2 GiB, so `outbox_items`,
`outbox_bytes` and `rejected_frames` become 64-bit (PostgreSQL's INTEGER stops at 2^31: a
larger value would fail every transaction that carries the report).

SQLite copies the table to change the declared types (batch mode); nothing refers to it. Rows
keep their values; downgrading drops the two columns and narrows the counts again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_COUNTS = ("outbox_items", "outbox_bytes", "rejected_frames")


def upgrade() -> None:
    with op.batch_alter_table("gateway_health") as batch:
        batch.add_column(sa.Column("link_up", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("report_every_s", sa.Float(), nullable=True))
        for column in _COUNTS:
            batch.alter_column(column, existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("gateway_health") as batch:
        for column in _COUNTS:
            batch.alter_column(column, existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
        batch.drop_column("report_every_s")
        batch.drop_column("link_up")
