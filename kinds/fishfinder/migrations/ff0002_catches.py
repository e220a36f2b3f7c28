"""Catches and contact requests; the fisheries office's role.

Revision ID: ff0002
Revises: ff0001
Create Date: 2026-12-14

* `catches`: what a fisher caught, where, when, at what price, and whether it is for sale
  (`kinds.fishfinder.catches.Catch`).
* `catch_contact_requests`: buyers' messages to the fisher about a catch for sale.
* `users.role` admits `fisheries_office` (anonymised catch aggregates): the check constraint
  is replaced. SQLite cannot alter a constraint, and copying `users` (Alembic's batch mode)
  would drop a table that API keys and vessels reference while foreign keys are enforced
  (they cannot be switched off inside the upgrade's transaction). A constraint that only
  admits more values changes nothing stored, so on SQLite the table's recorded definition is
  rewritten in place, as SQLite documents for changing CHECK constraints
  (https://www.sqlite.org/lang_altertable.html#otheralter: writable_schema, schema_version
  bumped, integrity check).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ff0002"
down_revision = "ff0001"
branch_labels = None
depends_on = None

#: Timestamps: `central.models.UtcDateTime` stores them as this type on both backends.
TIMESTAMP = sa.DateTime(timezone=True)
ROLES_BEFORE = ("admin", "disaster_office", "fisher", "staff_admin", "viewer")
ROLES_AFTER = ("admin", "disaster_office", "fisher", "fisheries_office", "staff_admin", "viewer")


def _set_roles(before: tuple[str, ...], after: tuple[str, ...]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint("ck_users_role", "users", type_="check")
        op.create_check_constraint("ck_users_role", "users", f"role IN {after!r}")
        return
    sql = bind.scalar(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"))
    old, new = f"role IN {before!r}", f"role IN {after!r}"
    if sql is None or sql.count(old) != 1:
        raise RuntimeError(f"users has no check constraint {old!r}: not a schema this revision knows")
    version = int(bind.scalar(sa.text("PRAGMA schema_version")))
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(
        sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'users'"),
        {"sql": sql.replace(old, new)},
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = [row[0] for row in bind.exec_driver_sql("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise RuntimeError(f"integrity check after changing users.role's constraint: {problems[:5]}")


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
    _set_roles(ROLES_BEFORE, ROLES_AFTER)


def downgrade() -> None:
    left = op.get_bind().scalar(sa.text("SELECT count(*) FROM users WHERE role = 'fisheries_office'"))
    if left:
        raise RuntimeError(f"{left} users have the fisheries_office role: give them another role first")
    _set_roles(ROLES_AFTER, ROLES_BEFORE)
    op.drop_index("ix_catch_contact_requests_catch", table_name="catch_contact_requests")
    op.drop_table("catch_contact_requests")
    op.drop_index("ix_catches_fisher_caught", table_name="catches")
    op.drop_index("ix_catches_tenant_caught", table_name="catches")
    op.drop_table("catches")
