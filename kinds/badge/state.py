"""The badge kind's tables in the state store (Alembic branch `badge`, `kinds/badge/migrations`):
offices, employees, their badges, what the office gateways decided (presence and security
events) and what people and staff administrators record (leave, corrections, daily activities),
with an audit of who read whose records.

Why these tables and not a daily record table: a daily record (first in, last out, late, early
leave, absent) and a monthly recap are computed on read from the events, the tenant's schedule
and holidays, leave and corrections (`kinds.badge.attendance_rules`), so a late correction or an
approved leave changes the recap without a recomputation job, and nothing derived can disagree
with what it came from.

Tenancy: every row says its tenant (`tenant_id`), as every query of the API filters by it.
Personal data (UU 27/2022 on personal data protection): attendance says where a person was and
when. Presence and security events and the view audit are deleted after the tenant's
`attendance.retention_days` (`enforce_retention`, run by ingest's retention pass); names and
NIPs are never logged at INFO.

Offices are declared in the configuration (`offices:`, `kinds.badge.config`); `sync_registry`
writes them here when central loads its registry, keeping what gateways reported. Badges name
their employee here only: the gateways know badges by id, never who carries them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from central.models import Base, UtcDateTime

_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: Badge formats: a rotating Eddystone-EID (the only one an office that requires EID accepts),
#: or a static iBeacon or Eddystone-UID identifier.
BADGE_FORMATS = ("eid", "ibeacon", "uid")
PRESENCE_EVENTS = ("check_in", "check_out")
#: `cuti` (annual and other leave), `sakit` (sick leave), `dinas_luar` (duty travel outside the office).
LEAVE_KINDS = ("cuti", "sakit", "dinas_luar")
LEAVE_REQUESTED, LEAVE_APPROVED, LEAVE_REJECTED, LEAVE_CANCELLED = "requested", "approved", "rejected", "cancelled"
LEAVE_STATUSES = (LEAVE_REQUESTED, LEAVE_APPROVED, LEAVE_REJECTED, LEAVE_CANCELLED)
#: Where a security event was detected: by an office gateway, or by ingest across gateways
#: (`two_offices` between offices of different gateways).
SECURITY_SOURCES = ("gateway", "central")
_NIP_SQL = "length(nip) = 18"


class Office(Base):
    """A declared office (`offices:` of the configuration) and what its gateway last reported:
    which gateway sent its health summary, when, and which roster version it holds, so that
    ingest answers a gateway behind the tenant's roster with the current one (`BadgeRoster`)."""

    __tablename__ = "offices"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    lat: Mapped[float]
    lon: Mapped[float]
    require_eid: Mapped[bool]
    #: The gateway of the latest health summary (where rosters go), and that summary's window end
    #: (gateway clock); None until one arrives.
    gateway: Mapped[str | None] = mapped_column(sa.String(64))
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The roster version the gateway said it holds in its latest summary.
    roster_version_heard: Mapped[int | None]
    #: The roster version last sent to `gateway` for this office, and when: a summary still behind
    #: it is answered again only after `kinds.badge.ingest.roster.RESEND_AFTER` (a lost downlink).
    roster_version_sent: Mapped[int | None]
    roster_sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AttendanceTenant(Base):
    """A tenant's attendance bookkeeping: its roster version, which grows with every badge issued
    or revoked (and every employee who leaves), so that each gateway can say which roster it
    holds (`OfficeHealth`); and how many days its presence and security events and view audits
    are kept (`attendance.retention_days` of the configuration, written by `sync_registry`, so
    that retention runs without the configuration file, as `tepi admin retention run` does)."""

    __tablename__ = "attendance_tenants"

    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), primary_key=True)
    roster_version: Mapped[int] = mapped_column(default=0)
    roster_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    retention_days: Mapped[int]


class Employee(Base):
    """A member of staff: NIP (Nomor Induk Pegawai, the civil servant's 18-digit number, unique
    in the tenant), name, home office and work schedule (an id of the tenant's `attendance:`
    schedules; None: the tenant's default). `user_id` is the API user who is this person: their
    own login (role `employee`), or a `staff_admin`'s, who manages this employee's office.
    `left_at` set: no longer staff (records kept; badges revoked)."""

    __tablename__ = "employees"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "nip", name="uq_employees_tenant_nip"),
        sa.UniqueConstraint("user_id", name="uq_employees_user"),
        sa.CheckConstraint(_NIP_SQL, name="ck_employees_nip"),
        sa.Index("ix_employees_office", "office_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    nip: Mapped[str] = mapped_column(sa.String(18))
    name: Mapped[str] = mapped_column(sa.String(200))
    office_id: Mapped[str] = mapped_column(sa.ForeignKey("offices.id"))
    schedule: Mapped[str | None] = mapped_column(sa.String(64))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

    @property
    def active(self) -> bool:
        return self.left_at is None


class Badge(Base):
    """A badge issued to an employee (`tepi admin badge issue`): id `b` + 12 hex digits, its
    format and what the gateways resolve it by. An EID badge's identity key is stored only
    encrypted (`kinds.badge.keys`, AES-GCM under a key from `TEPI_BADGE_KEY_SECRET`), with its
    rotation exponent `k` and counter `epoch` (Unix s); a static badge has its iBeacon
    (`uuid`, `major`, `minor`) or Eddystone-UID (`namespace`, `instance`) ids, hex.
    At most one badge of an employee is not revoked."""

    __tablename__ = "badges"
    __table_args__ = (
        sa.CheckConstraint(f"format IN {BADGE_FORMATS!r}", name="ck_badges_format"),
        sa.Index(
            "uq_badges_one_active_per_employee", "employee_id", unique=True,
            sqlite_where=sa.text("revoked_at IS NULL"), postgresql_where=sa.text("revoked_at IS NULL"),
        ),
        sa.Index("ix_badges_tenant", "tenant_id"),
    )

    id: Mapped[str] = mapped_column(sa.String(13), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"))
    format: Mapped[str] = mapped_column(sa.String(8))
    identity_key_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary())
    k: Mapped[int | None]
    epoch: Mapped[int | None] = mapped_column(_BIGINT)
    uuid: Mapped[str | None] = mapped_column(sa.String(32))
    major: Mapped[int | None]
    minor: Mapped[int | None]
    namespace: Mapped[str | None] = mapped_column(sa.String(20))
    instance: Mapped[str | None] = mapped_column(sa.String(12))
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class PresenceEvent(Base):
    """A check-in or check-out an office gateway decided (`items.Presence`), by item id (stored
    once however often it is sent), with the employee the badge belonged to when it arrived."""

    __tablename__ = "presence_events"
    __table_args__ = (
        sa.CheckConstraint(f"event IN {PRESENCE_EVENTS!r}", name="ck_presence_events_event"),
        sa.Index("ix_presence_events_employee_at", "employee_id", "at"),
        sa.Index("ix_presence_events_office_at", "office_id", "at"),
        sa.Index("ix_presence_events_received", "received_at"),
    )

    item_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    office_id: Mapped[str] = mapped_column(sa.ForeignKey("offices.id"))
    badge_id: Mapped[str] = mapped_column(sa.String(13))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"))
    event: Mapped[str] = mapped_column(sa.String(16))
    #: When it happened (start of the confirming dwell, last heard) and when the gateway decided.
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime())
    rssi_dbm: Mapped[float]
    distance_m: Mapped[float | None]
    scanners: Mapped[int]
    #: The scanner whose message closed the decision, the gateway that sent it, when ingest stored it.
    device: Mapped[str] = mapped_column(sa.String(64))
    gateway: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class SecurityEventRecord(Base):
    """A spoofing attempt (`items.SecurityEvent`, reasons `items.SECURITY_REASONS`), by item id:
    as a gateway saw it (`source` gateway) or as ingest saw it across gateways (`source`
    central: `two_offices` between offices of different gateways, `other_office` the earlier
    one). `employee_id` is the badge's holder when it arrived."""

    __tablename__ = "security_events"
    __table_args__ = (
        sa.CheckConstraint(f"source IN {SECURITY_SOURCES!r}", name="ck_security_events_source"),
        sa.Index("ix_security_events_tenant_at", "tenant_id", "at"),
        sa.Index("ix_security_events_office_at", "office_id", "at"),
        sa.Index("ix_security_events_employee_at", "employee_id", "at"),
        sa.Index("ix_security_events_received", "received_at"),
    )

    item_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    office_id: Mapped[str] = mapped_column(sa.ForeignKey("offices.id"))
    badge_id: Mapped[str] = mapped_column(sa.String(13))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"))
    reason: Mapped[str] = mapped_column(sa.String(40))
    source: Mapped[str] = mapped_column(sa.String(8))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    rssi_dbm: Mapped[float | None]
    other_office: Mapped[str | None] = mapped_column(sa.String(64))
    other_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    distance_km: Mapped[float | None]
    eid_period_offset: Mapped[int | None] = mapped_column(_BIGINT)
    device: Mapped[str] = mapped_column(sa.String(64))
    gateway: Mapped[str] = mapped_column(sa.String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LeaveRequest(Base):
    """Leave (`cuti`), sick leave (`sakit`) or duty travel (`dinas_luar`) over whole local days
    `first_day`..`last_day` (inclusive), requested by the employee (or for them), approved or
    rejected by a staff administrator of their office, or cancelled by the requester."""

    __tablename__ = "leave_requests"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {LEAVE_KINDS!r}", name="ck_leave_requests_kind"),
        sa.CheckConstraint(f"status IN {LEAVE_STATUSES!r}", name="ck_leave_requests_status"),
        sa.CheckConstraint("last_day >= first_day", name="ck_leave_requests_days"),
        sa.Index("ix_leave_requests_employee_days", "employee_id", "first_day"),
        sa.Index("ix_leave_requests_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    first_day: Mapped[date] = mapped_column(sa.Date())
    last_day: Mapped[date] = mapped_column(sa.Date())
    reason: Mapped[str] = mapped_column(sa.Text())
    status: Mapped[str] = mapped_column(sa.String(16))
    requested_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    decided_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Why it was rejected (or a note to an approval); None where none was given.
    decision_note: Mapped[str | None] = mapped_column(sa.Text())


class AttendanceCorrection(Base):
    """A staff administrator's correction of one employee's local day, with a reason (audited:
    rows are only added, never changed; the newest of a day applies). `first_in` / `last_out`
    replace the day's (None: keep what the events say); `status` overrides the computed status
    (None: computed)."""

    __tablename__ = "attendance_corrections"
    __table_args__ = (sa.Index("ix_attendance_corrections_employee_day", "employee_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"))
    day: Mapped[date] = mapped_column(sa.Date())
    first_in: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_out: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status: Mapped[str | None] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.Text())
    by_user: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class Activity(Base):
    """A daily activity entry (Kerjaku style: what was done and its output) of an employee on
    a local day, linked to that day's attendance record by (employee, day)."""

    __tablename__ = "activities"
    __table_args__ = (
        sa.Index("ix_activities_employee_day", "employee_id", "day"),
        sa.CheckConstraint("ended_at IS NULL OR started_at IS NULL OR ended_at >= started_at", name="ck_activities_span"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"))
    employee_id: Mapped[int] = mapped_column(sa.ForeignKey("employees.id"))
    day: Mapped[date] = mapped_column(sa.Date())
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    description: Mapped[str] = mapped_column(sa.Text())
    output: Mapped[str | None] = mapped_column(sa.Text())
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RecordView(Base):
    """Who (`viewer_user`) read whose attendance records (an employee, or a whole office), what
    (`what`: the answer's name, e.g. `daily`, `monthly`, `monthly_csv`, `security_events`)
    and when: the audit attendance needs as personal data."""

    __tablename__ = "record_views"
    __table_args__ = (
        sa.CheckConstraint("subject_employee IS NOT NULL OR subject_office IS NOT NULL", name="ck_record_views_subject"),
        sa.Index("ix_record_views_tenant_at", "tenant_id", "at"),
        sa.Index("ix_record_views_subject_at", "subject_employee", "at"),
        sa.Index("ix_record_views_at", "at"),
    )

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    viewer_user: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    subject_employee: Mapped[int | None] = mapped_column(sa.ForeignKey("employees.id"))
    subject_office: Mapped[str | None] = mapped_column(sa.String(64))
    what: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


def sync_registry(session: Session, config: Any) -> None:
    """Insert or update the configuration's offices (`config.offices`) and each of their
    tenants' retention; what gateways reported is kept, and an office that left the file keeps
    its row (its history stays)."""
    offices = getattr(config, "offices", [])
    for o in offices:
        row = session.get(Office, o.id)
        if row is None:
            row = Office(id=o.id)
            session.add(row)
        row.tenant_id, row.name, row.lat, row.lon, row.require_eid = o.tenant, o.name, o.lat, o.lon, o.require_eid
    session.flush()
    tenants = {o.tenant for o in offices} | {a.tenant for a in getattr(config, "attendance", [])}
    for tenant in sorted(tenants):
        days = config.tenant_attendance(tenant).retention_days
        row = session.get(AttendanceTenant, tenant)
        if row is None:
            session.add(AttendanceTenant(tenant_id=tenant, roster_version=0, retention_days=days))
        else:
            row.retention_days = days
    session.flush()


def enforce_retention(session: Session, now: datetime, policy: Any = None) -> dict[str, int]:
    """Delete each tenant's presence events, security events and record views dated more than
    its `retention_days` before `now` (run with the central retention, `central.retention`;
    `policy`, the central one, says nothing of attendance). Returns rows deleted by table."""
    counts = {"presence_events": 0, "security_events": 0, "record_views": 0}
    for tenant, days in session.execute(sa.select(AttendanceTenant.tenant_id, AttendanceTenant.retention_days)).all():
        cutoff = now - timedelta(days=days)
        for table, model in (("presence_events", PresenceEvent), ("security_events", SecurityEventRecord), ("record_views", RecordView)):
            res = session.execute(
                sa.delete(model).where(model.tenant_id == tenant, model.at < cutoff).execution_options(synchronize_session=False)
            )
            counts[table] += int(res.rowcount or 0)  # type: ignore[attr-defined]
    return counts
