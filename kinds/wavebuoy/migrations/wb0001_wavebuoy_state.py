"""The buoy kind's table: wave_buoys (declared buoys and their latest observation).

Revision ID: wb0001
Revises: (base of branch 'wavebuoy')
Depends on: 0001 (tenants)
Create Date: 2026-12-07

The first revision of the kind's own branch (`kinds/wavebuoy/state.py` describes the table);
central's schema upgrade runs every head, so a database gets it with the central revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "wb0001"
down_revision = None
branch_labels = ("wavebuoy",)
depends_on = "0001"

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "wave_buoys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("observed_at", TIMESTAMP, nullable=True),
        sa.Column("hs_m", sa.Double(), nullable=True),
        sa.Column("tp_s", sa.Double(), nullable=True),
        sa.Column("wave_dir_deg", sa.Double(), nullable=True),
        sa.Column("wind_kn", sa.Double(), nullable=True),
        sa.Column("wind_dir_deg", sa.Double(), nullable=True),
        sa.Column("gust_kn", sa.Double(), nullable=True),
        sa.Column("limit_exceeded", sa.Boolean(), nullable=True),
        sa.Column("limit_changed_at", TIMESTAMP, nullable=True),
        sa.Column("gateway", sa.String(64), nullable=True),
        sa.Column("received_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_wave_buoys_tenant_id", "wave_buoys", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_wave_buoys_tenant_id", table_name="wave_buoys")
    op.drop_table("wave_buoys")
