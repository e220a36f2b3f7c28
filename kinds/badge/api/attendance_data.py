"""Daily records computed on read: what the state holds for some employees over some local
days (presence events, approved leave, the newest correction of each day), handed to the pure
rules (`kinds.badge.attendance_rules.daily_record`) with the tenant's schedule, holidays and zone.

Stays from events: the office gateway decides check-ins and check-outs per badge and office, so
events are paired per office, in time order; a check-out with no check-in before it in the window
read (one day before the first day asked) starts no stay. A stay with no check-out is open: its
holder is inside, until the end of the local day it began on. The gateway checks a badge out
after minutes unheard, so a stay still open past its own day means a lost check-out, not someone
who stayed the night; it must not make every later day a present one.

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
from kinds.badge.attendance_rules import Correction, DailyRecord, Stay, daily_record
from kinds.badge.config import TenantAttendance
from kinds.badge.state import LEAVE_APPROVED, AttendanceCorrection, Employee, LeaveRequest, PresenceEvent

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


def pair_stays(events: Iterable[tuple[str, str, datetime]], tz: ZoneInfo, now: datetime) -> list[Stay]:
    """Stays from (office, event, at) presence events (see the module docstring). Pure."""
    open_since: dict[str, datetime] = {}
    stays: list[Stay] = []
    for office, event, at in sorted(events, key=lambda e: e[2]):
        if event == "check_in":
            open_since.setdefault(office, at)
            continue
        start = open_since.pop(office, None)
        if start is not None:
            stays.append((start, at))
    for start in open_since.values():
        ends = day_start(local_day(start, tz) + timedelta(days=1), tz)
        stays.append((start, None) if now < ends else (start, ends))
    return sorted(stays, key=lambda s: s[0])


def stays_on(stays: Sequence[Stay], day: date, tz: ZoneInfo) -> list[Stay]:
    """The stays touching local `day` (what `daily_record` takes)."""
    start, end = day_start(day, tz), day_start(day + timedelta(days=1), tz)
    return [s for s in stays if s[0] < end and (s[1] is None or s[1] > start or s[0] >= start)]


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
    since, until = day_start(first - timedelta(days=1), tz), day_start(last + timedelta(days=1), tz)
    events = _events(session, ids, since, until)
    leave = _leave(session, ids, first, last)
    fixes = _corrections(session, ids, first, last)
    holidays = set(rules.holidays)
    days = days_between(first, last)
    out: dict[int, list[Day]] = {}
    for e in employees:
        stays = pair_stays(events.get(e.id, ()), tz, now)
        mine: list[Day] = []
        for d in employed_days(e, days, tz):
            fix, note = fixes.get((e.id, d), (None, None))
            args: dict[str, Any] = {
                "holiday": d in holidays, "tz": tz, "stays": stays_on(stays, d, tz), "leave": leave.get((e.id, d)),
                "late_grace_min": rules.late_grace_min, "now": now,
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
