"""Catches and contact requests; the fisheries office's role.

Revision ID: ff0002
Revises: ff0001
Create Date: 2026-12-14

* `catches`: what a fisher caught, where, when, at what price, and whether it is for sale
  (`kinds.fishfinder.catches.Catch`).
* `catch_contact_requests`: buyers' messages to the fisher about a catch for sale.
* `users.role` admits `fisheries_office` (anonymised catch aggregates): the check constraint
  is replaced, keeping the roles other branches admitted, whichever ran first
  (`central.role_constraint`, which says how, on SQLite too).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from central.role_constraint import admit_role, retire_role

revision = "ff0002"
down_revision = "ff0001"
branch_labels = None
depends_on = None

#: Timestamps: `central.models.UtcDateTime` stores them as this type on both backends.
TIMESTAMP = sa.DateTime(timezone=True)
ROLE = "fisheries_office"


def upgrade() -> None:
    op.create_table(
        "catches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("fisher_id", sa.Integer(), nullable=False),
        sa.Column("vessel_id", sa.String(length=64), nullable=True),
        sa.Column("species", sa.String(length=32), nullable=False),
        sa.Column("weight_kg", sa.Double(), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("caught_at", TIMESTAMP, nullable=False),
        sa.Column("price_idr_per_kg", sa.Integer(), nullable=True),
        sa.Column("port", sa.String(length=100), nullable=False),
        sa.Column("for_sale", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("weight_kg > 0", name="ck_catches_weight"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.ForeignKeyConstraint(["fisher_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["vessel_id"], ["vessels.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_catches_tenant_caught", "catches", ["tenant_id", "caught_at"])
    op.create_index("ix_catches_fisher_caught", "catches", ["fisher_id", "caught_at"])
    op.create_table(
        "catch_contact_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("catch_id", sa.Integer(), nullable=False),
        sa.Column("from_user_id", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        sa.ForeignKeyConstraint(["catch_id"], ["catches.id"]),
        sa.ForeignKeyConstraint(["from_user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_catch_contact_requests_catch", "catch_contact_requests", ["catch_id", "created_at"])
    admit_role(op.get_bind(), ROLE)


def downgrade() -> None:
    retire_role(op.get_bind(), ROLE)
    op.drop_index("ix_catch_contact_requests_catch", table_name="catch_contact_requests")
    op.drop_table("catch_contact_requests")
    op.drop_index("ix_catches_fisher_caught", table_name="catches")
    op.drop_index("ix_catches_tenant_caught", table_name="catches")
    op.drop_table("catches")
