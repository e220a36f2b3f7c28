"""The fish finder's tables: vessels, vessel_positions, school_sightings, sos_calls.

Revision ID: ff0001
Revises: (base of branch 'fishfinder')
Depends on: 0003 (alerts with kind and subject: an SOS incident is an alert of a vessel)
Create Date: 2026-12-08

The first revision of the kind's own branch (`kinds/fishfinder/state.py` describes the tables);
central's schema upgrade runs every head, so a database gets these with the central revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ff0001"
down_revision = None
branch_labels = ("fishfinder",)
depends_on = "0003"

TIMESTAMP = sa.DateTime(timezone=True)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "vessels",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("owner_user", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("home_port", sa.String(200), nullable=False),
        sa.Column("gt", sa.Double(), nullable=False),
        sa.Column("speed_kn", sa.Double(), nullable=False),
        sa.Column("fuel_l_per_h", sa.Double(), nullable=False),
        sa.Column("wave_limit_m", sa.Double(), nullable=False),
        sa.Column("gateway_id", sa.String(64), nullable=False),
        sa.Column("expected_return_at", TIMESTAMP, nullable=True),
        sa.Column("silent_limit_s", sa.Integer(), nullable=False),
        sa.Column("at_sea", sa.Boolean(), nullable=False),
        sa.Column("last_lat", sa.Double(), nullable=True),
        sa.Column("last_lon", sa.Double(), nullable=True),
        sa.Column("last_fix_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_vessels_tenant_id", "vessels", ["tenant_id"])
    op.create_table(
        "vessel_positions",
        sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("vessel_id", sa.String(64), sa.ForeignKey("vessels.id"), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("sog", sa.Double(), nullable=True),
        sa.Column("cog", sa.Double(), nullable=True),
        sa.Column("distress", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_vessel_positions_tenant_id", "vessel_positions", ["tenant_id"])
    op.create_index("ix_vessel_positions_vessel_ts", "vessel_positions", ["vessel_id", "ts"])
    op.create_index("ix_vessel_positions_ts", "vessel_positions", ["ts"])
    op.create_table(
        "school_sightings",
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("vessel_id", sa.String(64), sa.ForeignKey("vessels.id"), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("start", TIMESTAMP, nullable=False),
        sa.Column("end", TIMESTAMP, nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("top_m", sa.Double(), nullable=False),
        sa.Column("bottom_m", sa.Double(), nullable=False),
        sa.Column("mean_sv_db", sa.Double(), nullable=False),
        sa.Column("pings", sa.Integer(), nullable=False),
    )
    op.create_index("ix_school_sightings_vessel_id", "school_sightings", ["vessel_id"])
    op.create_index("ix_school_sightings_tenant_start", "school_sightings", ["tenant_id", "start"])
    op.create_table(
        "sos_calls",
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("alert_id", sa.Integer(), sa.ForeignKey("alerts.id"), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("vessel_id", sa.String(64), sa.ForeignKey("vessels.id"), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("press", BIGINT, nullable=False),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("ts", TIMESTAMP, nullable=False),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("nature", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("status_sent", sa.String(16), nullable=False),
        sa.CheckConstraint("status_sent IN ('received', 'acknowledged', 'resolved')", name="ck_sos_calls_status_sent"),
    )
    op.create_index("ix_sos_calls_alert_id", "sos_calls", ["alert_id"])
    op.create_index("ix_sos_calls_vessel_press", "sos_calls", ["vessel_id", "press"])


def downgrade() -> None:
    for table in ("sos_calls", "school_sightings", "vessel_positions", "vessels"):
        op.drop_table(table)
