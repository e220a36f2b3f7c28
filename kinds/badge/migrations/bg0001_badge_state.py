"""The badge kind's tables: offices, employees, badges, presence and security events, leave
requests, attendance corrections, activities, record views and the tenants' roster versions and retention.

Revision ID: bg0001
Revises: (base of branch 'badge')
Depends on: 0005 (the `employee` role: a user linked to an employee row)
Create Date: 2027-01-05

The first revision of the kind's own branch (`kinds/badge/state.py` describes the tables);
central's schema upgrade runs every head, so a database gets these with the central revisions.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "bg0001"
down_revision = None
branch_labels = ("badge",)
depends_on = "0005"

TIMESTAMP = sa.DateTime(timezone=True)
BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_ACTIVE = sa.text("revoked_at IS NULL")


def _tenant() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "offices",
        sa.Column("id", sa.String(64), primary_key=True),
        _tenant(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("require_eid", sa.Boolean(), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=True),
        sa.Column("last_seen_at", TIMESTAMP, nullable=True),
        sa.Column("roster_version_heard", sa.Integer(), nullable=True),
        sa.Column("roster_version_sent", sa.Integer(), nullable=True),
        sa.Column("roster_sent_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_offices_tenant_id", "offices", ["tenant_id"])
    op.create_table(
        "attendance_tenants",
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("roster_version", sa.Integer(), nullable=False),
        sa.Column("roster_changed_at", TIMESTAMP, nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=False),
    )
    op.create_table(
        "employees",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("nip", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("office_id", sa.String(64), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("schedule", sa.String(64), nullable=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("left_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("tenant_id", "nip", name="uq_employees_tenant_nip"),
        sa.UniqueConstraint("user_id", name="uq_employees_user"),
        sa.CheckConstraint("length(nip) = 18", name="ck_employees_nip"),
    )
    op.create_index("ix_employees_tenant_id", "employees", ["tenant_id"])
    op.create_index("ix_employees_office", "employees", ["office_id"])
    op.create_table(
        "badges",
        sa.Column("id", sa.String(13), primary_key=True),
        _tenant(),
        sa.Column("employee_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("identity_key_enc", sa.LargeBinary(), nullable=True),
        sa.Column("k", sa.Integer(), nullable=True),
        sa.Column("epoch", BIGINT, nullable=True),
        sa.Column("uuid", sa.String(32), nullable=True),
        sa.Column("major", sa.Integer(), nullable=True),
        sa.Column("minor", sa.Integer(), nullable=True),
        sa.Column("namespace", sa.String(20), nullable=True),
        sa.Column("instance", sa.String(12), nullable=True),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.CheckConstraint("format IN ('eid', 'ibeacon', 'uid')", name="ck_badges_format"),
    )
    op.create_index("ix_badges_tenant", "badges", ["tenant_id"])
    op.create_index(
        "uq_badges_one_active_per_employee", "badges", ["employee_id"], unique=True,
        sqlite_where=_ACTIVE, postgresql_where=_ACTIVE,
    )
    op.create_table(
        "presence_events",
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("office_id", sa.String(64), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("badge_id", sa.String(13), nullable=False),
        sa.Column("employee_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=False),
        sa.Column("rssi_dbm", sa.Double(), nullable=False),
        sa.Column("distance_m", sa.Double(), nullable=True),
        sa.Column("scanners", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("event IN ('check_in', 'check_out')", name="ck_presence_events_event"),
    )
    op.create_index("ix_presence_events_tenant_id", "presence_events", ["tenant_id"])
    op.create_index("ix_presence_events_employee_at", "presence_events", ["employee_id", "at"])
    op.create_index("ix_presence_events_office_at", "presence_events", ["office_id", "at"])
    op.create_index("ix_presence_events_received", "presence_events", ["received_at"])
    op.create_table(
        "security_events",
        sa.Column("item_id", sa.String(200), primary_key=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("office_id", sa.String(64), sa.ForeignKey("offices.id"), nullable=False),
        sa.Column("badge_id", sa.String(13), nullable=False),
        sa.Column("employee_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("rssi_dbm", sa.Double(), nullable=True),
        sa.Column("other_office", sa.String(64), nullable=True),
        sa.Column("other_at", TIMESTAMP, nullable=True),
        sa.Column("distance_km", sa.Double(), nullable=True),
        sa.Column("eid_period_offset", BIGINT, nullable=True),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("gateway", sa.String(64), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("source IN ('gateway', 'central')", name="ck_security_events_source"),
    )
    op.create_index("ix_security_events_tenant_at", "security_events", ["tenant_id", "at"])
    op.create_index("ix_security_events_office_at", "security_events", ["office_id", "at"])
    op.create_index("ix_security_events_employee_at", "security_events", ["employee_id", "at"])
    op.create_index("ix_security_events_received", "security_events", ["received_at"])
    op.create_table(
        "leave_requests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("employee_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("requested_at", TIMESTAMP, nullable=False),
        sa.Column("decided_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('cuti', 'sakit', 'dinas_luar')", name="ck_leave_requests_kind"),
        sa.CheckConstraint("status IN ('requested', 'approved', 'rejected', 'cancelled')", name="ck_leave_requests_status"),
        sa.CheckConstraint("last_day >= first_day", name="ck_leave_requests_days"),
    )
    op.create_index("ix_leave_requests_employee_days", "leave_requests", ["employee_id", "first_day"])
    op.create_index("ix_leave_requests_tenant_status", "leave_requests", ["tenant_id", "status"])
    op.create_table(
        "attendance_corrections",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("employee_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("first_in", TIMESTAMP, nullable=True),
        sa.Column("last_out", TIMESTAMP, nullable=True),
        sa.Column("status", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("by_user", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_attendance_corrections_employee_day", "attendance_corrections", ["employee_id", "day"])
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _tenant(),
        sa.Column("employee_id", sa.Integer(), sa.ForeignKey("employees.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=True),
        sa.Column("ended_at", TIMESTAMP, nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at", name="ck_activities_span"),
    )
    op.create_index("ix_activities_employee_day", "activities", ["employee_id", "day"])
    op.create_table(
        "record_views",
        sa.Column("id", BIGINT, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("viewer_user", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("subject_employee", sa.Integer(), sa.ForeignKey("employees.id"), nullable=True),
        sa.Column("subject_office", sa.String(64), nullable=True),
        sa.Column("what", sa.String(64), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.CheckConstraint("subject_employee IS NOT NULL OR subject_office IS NOT NULL", name="ck_record_views_subject"),
    )
    op.create_index("ix_record_views_tenant_at", "record_views", ["tenant_id", "at"])
    op.create_index("ix_record_views_subject_at", "record_views", ["subject_employee", "at"])
    op.create_index("ix_record_views_at", "record_views", ["at"])


def downgrade() -> None:
    for table in (
        "record_views", "activities", "attendance_corrections", "leave_requests", "security_events",
        "presence_events", "badges", "employees", "attendance_tenants", "offices",
    ):
        op.drop_table(table)  # their indexes go with them
