"""Daily records computed on read: what the state holds for some employees over some local
days (presence events, approved leave, the newest correction of each day), handed to the pure
rules (`kinds.badge.attendance_rules.daily_record`) with the tenant's schedule, holidays and zone.

Stays from events: the office gateway decides check-ins and check-outs per badge and office, so
events are paired per office and per local day, in time order. A stay ends on the day it began
(the rules' decision): a check-in with no check-out on its day is an open stay, which the rules
cut at midnight once the day is over and flag (`unclosed`); a check-out with no check-in before
it on its day (a stay begun the day before) starts nothing. So a day's record depends on that
day's events only, and the board of a day, an employee's days and the monthly recap, which all
read through `records`, say the same of every day whatever span they read.

Retention (`kinds.badge.state.enforce_retention`) deletes presence events after the tenant's
`retention_days`: a day that began before the retention's cutoff may have lost some and reads
`unavailable` where presence would decide it, never `absent` (`retention_cutoff`).

Disputes: the `two_offices` security events of the employee's badge (`employee_id` is its
holder), whether a gateway or ingest raised them, are read for the span and a day either side
(`attendance_disputes.MAX_MARGIN`) and handed to the rules as dispute moments, which hold the
stays around them (`attendance_disputes`): the centre stores them apart from presence, and a
relayed EID's stay must not count as its holder's attendance.

Days outside an employee's employment (before the local day of their registration, after the
day they left) have no record: an employee imported mid-month was not absent before.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.models import User
from contract.clock import utcnow
from kinds.badge import attendance_disputes
from kinds.badge.attendance_disputes import Dispute, disputes_of
from kinds.badge.attendance_rules import Correction, DailyRecord, Stay, daily_record
from kinds.badge.config import TenantAttendance
from kinds.badge.state import (
    LEAVE_APPROVED,
    AttendanceCorrection,
    AttendanceTenant,
    Employee,
    LeaveRequest,
    PresenceEvent,
    SecurityEventRecord,
)

log = logging.getLogger(__name__)

#: Ids per IN (...) list: well within SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 500


def now() -> datetime:
    """The one clock read of the badge API (contract.clock), so that its answers' "today" is one."""
    return utcnow()


def tenant_rules(config: Any, tenant: str) -> TenantAttendance:
    """The tenant's `attendance:` rules, the civil service's defaults where none are declared."""
    of = getattr(config, "tenant_attendance", None)
    return of(tenant) if of is not None else TenantAttendance(tenant=tenant)


def zone(rules: TenantAttendance) -> ZoneInfo:
    return ZoneInfo(rules.timezone)


def day_start(day: date, tz: ZoneInfo) -> datetime:
    """Local midnight starting `day`, as an aware datetime (compare and store it as UTC)."""
    return datetime.combine(day, time(0), tzinfo=tz)


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def pair_stays(events: Iterable[tuple[str, str, datetime]], tz: ZoneInfo) -> list[Stay]:
    """Stays from (office, event, at) presence events, paired per office within each local day
    (see the module docstring); a check-in with no check-out on its day gives an open stay
    (check_out None). Pure."""
    open_since: dict[tuple[str, date], datetime] = {}
    stays: list[Stay] = []
    for office, event, at in sorted(events, key=lambda e: e[2]):
        key = (office, local_day(at, tz))
        if event == "check_in":
            open_since.setdefault(key, at)
            continue
        start = open_since.pop(key, None)
        if start is not None:
            stays.append((start, at))
    stays.extend((start, None) for start in open_since.values())
    return sorted(stays, key=lambda s: s[0])


def stays_on(stays: Sequence[Stay], day: date, tz: ZoneInfo) -> list[Stay]:
    """The stays that began on local `day` (what `daily_record` takes)."""
    start, end = day_start(day, tz), day_start(day + timedelta(days=1), tz)
    return [s for s in stays if start <= s[0] < end]


def retention_cutoff(session: Session, rules: TenantAttendance, now: datetime) -> datetime:
    """The instant before which the tenant's presence events may be deleted: `now` less its
    retention days, the configuration's or, if shorter, the ones the retention pass last ran with
    (`AttendanceTenant.retention_days`). Read at `now`, it is never earlier than the cutoff of a
    pass run before `now`, so a day that begins at or after it has every one of its events."""
    kept = session.scalar(sa.select(AttendanceTenant.retention_days).where(AttendanceTenant.tenant_id == rules.tenant))
    days = rules.retention_days if kept is None else min(rules.retention_days, kept)
    return now - timedelta(days=days)


@dataclass(frozen=True)
class CorrectionNote:
    """Who corrected a day and when (the record says that it was corrected and why)."""

    by: str
    at: datetime


@dataclass(frozen=True)
class Day:
    """One employee's record of one day, with the correction's author when corrected."""

    employee: Employee
    record: DailyRecord
    correction: CorrectionNote | None


def employed_days(employee: Employee, days: Sequence[date], tz: ZoneInfo) -> list[date]:
    first = local_day(employee.created_at, tz)
    last = local_day(employee.left_at, tz) if employee.left_at is not None else None
    return [d for d in days if d >= first and (last is None or d <= last)]


def chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), _CHUNK):
        yield list(ids[i : i + _CHUNK])


def _events(session: Session, ids: Sequence[int], since: datetime, until: datetime) -> dict[int, list[tuple[str, str, datetime]]]:
    out: dict[int, list[tuple[str, str, datetime]]] = defaultdict(list)
    for chunk in chunks(ids):
        stmt = sa.select(PresenceEvent.employee_id, PresenceEvent.office_id, PresenceEvent.event, PresenceEvent.at).where(
            PresenceEvent.employee_id.in_(chunk), PresenceEvent.at >= since, PresenceEvent.at < until
        )
        for employee_id, office, event, at in session.execute(stmt):
            out[employee_id].append((office, event, at))
    return out


def _disputes(session: Session, ids: Sequence[int], since: datetime, until: datetime) -> dict[int, list[Dispute]]:
    """Each employee's dispute moments near [`since`, `until`): those of their badge's
    `two_offices` events (at or other_at within a margin's reach)."""
    since, until = since - attendance_disputes.MAX_MARGIN, until + attendance_disputes.MAX_MARGIN
    out: dict[int, list[Dispute]] = defaultdict(list)
    for chunk in chunks(ids):
        stmt = sa.select(
            SecurityEventRecord.employee_id, SecurityEventRecord.at, SecurityEventRecord.other_at, SecurityEventRecord.distance_km
        ).where(
            SecurityEventRecord.employee_id.in_(chunk),
            SecurityEventRecord.reason == attendance_disputes.REASON,
            sa.or_(
                sa.and_(SecurityEventRecord.at >= since, SecurityEventRecord.at < until),
                sa.and_(SecurityEventRecord.other_at >= since, SecurityEventRecord.other_at < until),
            ),
        )
        for employee_id, at, other_at, distance_km in session.execute(stmt):
            out[employee_id].extend(disputes_of(at, other_at, distance_km))
    return out


def _leave(session: Session, ids: Sequence[int], first: date, last: date) -> dict[tuple[int, date], str]:
    out: dict[tuple[int, date], str] = {}
    for chunk in chunks(ids):
        stmt = (
            sa.select(LeaveRequest.employee_id, LeaveRequest.kind, LeaveRequest.first_day, LeaveRequest.last_day)
            .where(
                LeaveRequest.employee_id.in_(chunk),
                LeaveRequest.status == LEAVE_APPROVED,
                LeaveRequest.first_day <= last,
                LeaveRequest.last_day >= first,
            )
            .order_by(LeaveRequest.id)
        )
        for employee_id, kind, lo, hi in session.execute(stmt):
            for d in days_between(max(lo, first), min(hi, last)):
                out[(employee_id, d)] = kind
    return out


def _corrections(
    session: Session, ids: Sequence[int], first: date, last: date
) -> dict[tuple[int, date], tuple[Correction, CorrectionNote]]:
    """The newest correction of each (employee, day): corrections are only ever added."""
    out: dict[tuple[int, date], tuple[Correction, CorrectionNote]] = {}
    for chunk in chunks(ids):
        stmt = (
            sa.select(AttendanceCorrection, User.name)
            .join(User, User.id == AttendanceCorrection.by_user)
            .where(AttendanceCorrection.employee_id.in_(chunk), AttendanceCorrection.day >= first, AttendanceCorrection.day <= last)
            .order_by(AttendanceCorrection.id)
        )
        for c, by in session.execute(stmt):
            fix = Correction(reason=c.reason, first_in=c.first_in, last_out=c.last_out, status=c.status)  # type: ignore[arg-type]
            out[(c.employee_id, c.day)] = (fix, CorrectionNote(by=by, at=c.at))
    return out


def hours_of(rules: TenantAttendance, employee: Employee, day: date) -> tuple[time, time] | None:
    """The employee's working hours on `day`: their schedule's, or the tenant's default when
    their schedule is no longer in the configuration."""
    try:
        schedule = rules.schedule(employee.schedule)
    except KeyError:
        schedule = rules.schedule(None)
    return schedule.hours(day.weekday())


def is_working_day(rules: TenantAttendance, employee: Employee, day: date) -> bool:
    return day not in set(rules.holidays) and hours_of(rules, employee, day) is not None


#: How far back `previous_working_day` looks (a month: Lebaran's collective leave is two weeks at most).
WORKING_DAY_LOOKBACK = 31


def work_starts(rules: TenantAttendance, employees: Sequence[Employee], day: date) -> datetime | None:
    """When work starts on `day` for any of `employees` (the earliest start of their hours, in the
    tenant's zone); None when none of them works that day (a holiday, a day off, nobody)."""
    starts = [hours[0] for e in employees if is_working_day(rules, e, day) and (hours := hours_of(rules, e, day)) is not None]
    return datetime.combine(day, min(starts), tzinfo=zone(rules)) if starts else None


def previous_working_day(rules: TenantAttendance, employees: Sequence[Employee], day: date) -> date | None:
    """The last day before `day` on which any of `employees` works (holidays and days off
    skipped), within `WORKING_DAY_LOOKBACK` days; None without one."""
    for back in range(1, WORKING_DAY_LOOKBACK + 1):
        earlier = day - timedelta(days=back)
        if any(is_working_day(rules, e, earlier) for e in employees):
            return earlier
    return None


def records(
    session: Session,
    rules: TenantAttendance,
    employees: Sequence[Employee],
    first: date,
    last: date,
    now: datetime,
    *,
    strict: bool = False,
) -> dict[int, list[Day]]:
    """Each employee's records of the local days `first`..`last` they were employed on, in day
    order. `strict`: a correction the rules cannot apply is a `ValueError` (when one is made),
    not a day read without it (every later read)."""
    tz = zone(rules)
    ids = [e.id for e in employees]
    cutoff = retention_cutoff(session, rules, now)
    # Each day's own events only (module docstring): the same day reads the same in any span.
    events = _events(session, ids, day_start(first, tz), day_start(last + timedelta(days=1), tz))
    disputes = _disputes(session, ids, day_start(first, tz), day_start(last + timedelta(days=1), tz))
    leave = _leave(session, ids, first, last)
    fixes = _corrections(session, ids, first, last)
    holidays = set(rules.holidays)
    days = days_between(first, last)
    out: dict[int, list[Day]] = {}
    for e in employees:
        stays = pair_stays(events.get(e.id, ()), tz)
        mine: list[Day] = []
        for d in employed_days(e, days, tz):
            fix, note = fixes.get((e.id, d), (None, None))
            kept = day_start(d, tz) >= cutoff
            args: dict[str, Any] = {
                "holiday": d in holidays, "tz": tz, "stays": stays_on(stays, d, tz) if kept else [], "leave": leave.get((e.id, d)),
                "late_grace_min": rules.late_grace_min, "presence_kept": kept, "now": now,
                "disputes": disputes.get(e.id, []) if kept else [],
            }
            try:
                record = daily_record(d, hours_of(rules, e, d), correction=fix, **args)
            except ValueError:
                if strict or fix is None:
                    raise
                # Checked when it was made, a correction can still clash with events that arrived
                # later (a gateway's backlog): the day reads as measured, and says so in the log.
                log.warning("correction not applicable", extra={"tenant": rules.tenant, "day": d.isoformat()})
                record, note = daily_record(d, hours_of(rules, e, d), **args), None
            mine.append(Day(employee=e, record=record, correction=note))
        out[e.id] = mine
    return out
