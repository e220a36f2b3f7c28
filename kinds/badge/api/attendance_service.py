"""Daily boards, an employee's days, monthly recaps (JSON and the CSV for the performance
allowance) and corrections: the queries behind `routes_attendance`.

Records are computed on read (`attendance_data.records`); every read of another person's
records writes the view audit (`caller.audit_views`) in the same transaction as the answer, so
no record leaves without its audit row.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.errors import InvalidInput
from kinds.badge.api import attendance_data as data
from kinds.badge.api.caller import Caller, audit_views, employee_in_reach, office_in_reach
from kinds.badge.api.errors import BadDay, OwnRecord
from kinds.badge.api.models import (
    BoardRowPublic,
    CorrectionCreate,
    CorrectionPublic,
    DailyBoardPublic,
    DailyRecordPublic,
    EmployeeDaysPublic,
    EmployeeMonthlyPublic,
    MonthlyPublic,
    RecapPublic,
    RecapRowPublic,
)
from kinds.badge.attendance_recap import MonthlyRecap, RecapLine, band, monthly_recap, recap_csv
from kinds.badge.attendance_rules import Correction
from kinds.badge.config import TenantAttendance
from kinds.badge.state import Activity, AttendanceCorrection, Employee

#: Longest span of days one request computes (two months and a bit).
MAX_SPAN_DAYS = 62


def _hours(rules: TenantAttendance, employee: Employee, day: date) -> str | None:
    hours = data.hours_of(rules, employee, day)
    return None if hours is None else f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def activity_counts(session: Session, ids: Sequence[int], first: date, last: date) -> dict[tuple[int, date], int]:
    out: dict[tuple[int, date], int] = defaultdict(int)
    for chunk in data.chunks(ids):
        stmt = (
            sa.select(Activity.employee_id, Activity.day, sa.func.count())
            .where(Activity.employee_id.in_(chunk), Activity.day >= first, Activity.day <= last)
            .group_by(Activity.employee_id, Activity.day)
        )
        for employee_id, day, n in session.execute(stmt):
            out[(employee_id, day)] = int(n)
    return out


def record_public(rules: TenantAttendance, day: data.Day, activities: int) -> dict[str, Any]:
    r = day.record
    return {
        "date": r.day,
        "status": r.status,
        "hours": _hours(rules, day.employee, r.day),
        "first_in": r.first_in,
        "last_out": r.last_out,
        "worked_min": r.worked_min,
        "late_min": r.late_min,
        "early_leave_min": r.early_leave_min,
        "late_band": band(r.late_min),
        "early_leave_band": band(r.early_leave_min),
        "corrected": r.corrected,
        "correction_reason": r.correction_reason,
        "corrected_by": day.correction.by if day.correction else None,
        "corrected_at": day.correction.at if day.correction else None,
        "activities": activities,
        "unclosed": r.unclosed,
        "disputed": r.disputed,
    }


def _today(rules: TenantAttendance, now: datetime) -> date:
    return data.local_day(now, data.zone(rules))


def _span(rules: TenantAttendance, first: date | None, last: date | None, now: datetime) -> tuple[date, date]:
    today = _today(rules, now)
    last = last or today
    first = first or last.replace(day=1)
    if last < first:
        raise BadDay(f"`to` ({last}) is before `from` ({first})")
    if (last - first).days + 1 > MAX_SPAN_DAYS:
        raise BadDay(f"at most {MAX_SPAN_DAYS} days at once")
    return first, last


def _month(rules: TenantAttendance, month: str, now: datetime) -> tuple[date, date | None]:
    """The month's first day and the last day counted (its last, or today), None before it began."""
    year, mon = (int(x) for x in month.split("-"))
    first = date(year, mon, 1)
    last = min(date(year, mon, calendar.monthrange(year, mon)[1]), _today(rules, now))
    return first, (last if last >= first else None)


def employee_days(
    session: Session, who: Caller, config: Any, nip: str, first: date | None, last: date | None
) -> EmployeeDaysPublic:
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    first, last = _span(rules, first, last, now)
    with session.begin():
        employee = employee_in_reach(session, who, nip)
        days = data.records(session, rules, [employee], first, last, now)[employee.id]
        counts = activity_counts(session, [employee.id], first, last)
        audit_views(session, who, [employee], "days", now)
    return EmployeeDaysPublic(
        nip=employee.nip, name=employee.name, office=employee.office_id, timezone=rules.timezone,  # type: ignore[arg-type]
        first_day=first, last_day=last,
        data=[DailyRecordPublic(**record_public(rules, d, counts.get((employee.id, d.record.day), 0))) for d in days],
    )


def _recap(days: Sequence[data.Day]) -> MonthlyRecap:
    return monthly_recap(d.record for d in days)


def _recap_public(recap: MonthlyRecap) -> dict[str, Any]:
    return RecapPublic.model_validate(recap, from_attributes=True).model_dump()


def employee_monthly(session: Session, who: Caller, config: Any, nip: str, month: str) -> EmployeeMonthlyPublic:
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    first, last = _month(rules, month, now)
    with session.begin():
        employee = employee_in_reach(session, who, nip)
        days = data.records(session, rules, [employee], first, last, now)[employee.id] if last else []
        counts = activity_counts(session, [employee.id], first, last) if last else {}
        audit_views(session, who, [employee], "monthly", now)
    return EmployeeMonthlyPublic(
        nip=employee.nip, name=employee.name, office=employee.office_id, month=month, timezone=rules.timezone,  # type: ignore[arg-type]
        recap=RecapPublic(**_recap_public(_recap(days))),
        days=[DailyRecordPublic(**record_public(rules, d, counts.get((employee.id, d.record.day), 0))) for d in days],
    )


def _staff(session: Session, who: Caller, office: str | None, first: date, last: date, rules: TenantAttendance) -> list[Employee]:
    """The employees of the board or recap, employed at some time of `first`..`last`, in
    office, name and NIP order."""
    tz = data.zone(rules)
    where = [who.in_reach(), Employee.created_at < data.day_start(last + timedelta(days=1), tz)]
    where.append(sa.or_(Employee.left_at.is_(None), Employee.left_at >= data.day_start(first, tz)))
    if office is not None:
        where.append(Employee.office_id == office)
    return list(session.scalars(sa.select(Employee).where(*where).order_by(Employee.office_id, Employee.name, Employee.nip)))


def daily_board(session: Session, who: Caller, config: Any, day: date | None, office: str | None, limit: int, offset: int) -> DailyBoardPublic:
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    day = day or _today(rules, now)
    with session.begin():
        scope = office_in_reach(session, who, office)
        staff = _staff(session, who, scope, day, day, rules)
        days = data.records(session, rules, staff, day, day, now)
        shown = staff[offset : offset + limit]
        counts = activity_counts(session, [e.id for e in shown], day, day)
        audit_views(session, who, shown, "daily_board", now)
    totals = Counter(d.record.status for e in staff for d in days[e.id])
    rows = [
        BoardRowPublic(nip=e.nip, name=e.name, office=e.office_id, **record_public(rules, d, counts.get((e.id, day), 0)))
        for e in shown
        for d in days[e.id]
    ]
    starts = data.work_starts(rules, staff, day)
    return DailyBoardPublic(
        date=day, timezone=rules.timezone, office=scope, totals=dict(sorted(totals.items())),  # type: ignore[arg-type]
        data=rows, count=len(staff), limit=limit, offset=offset,
        work_starts=starts, before_start=starts is not None and now < starts and day == _today(rules, now),
        previous_working_day=data.previous_working_day(rules, staff, day),
    )


def _recap_lines(
    session: Session, who: Caller, config: Any, month: str, office: str | None
) -> tuple[TenantAttendance, date | None, list[tuple[Employee, MonthlyRecap]]]:
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    first, last = _month(rules, month, now)
    scope = office_in_reach(session, who, office)
    if last is None:
        return rules, None, []
    staff = _staff(session, who, scope, first, last, rules)
    days = data.records(session, rules, staff, first, last, now)
    return rules, last, [(e, _recap(days[e.id])) for e in staff]


def monthly(session: Session, who: Caller, config: Any, month: str, office: str | None, limit: int, offset: int) -> MonthlyPublic:
    with session.begin():
        rules, last, lines = _recap_lines(session, who, config, month, office)
        shown = lines[offset : offset + limit]
        audit_views(session, who, [e for e, _ in shown], "monthly_recap", data.now())
    rows = [RecapRowPublic(nip=e.nip, name=e.name, office=e.office_id, **_recap_public(recap)) for e, recap in shown]
    scope = office if office is not None else who.managed_office
    return MonthlyPublic(
        month=month, timezone=rules.timezone, office=scope, counted_until=last,  # type: ignore[arg-type]
        data=rows, count=len(lines), limit=limit, offset=offset,
    )


def monthly_csv(session: Session, who: Caller, config: Any, month: str, office: str | None) -> str:
    """The month's recap of every employee in scope as CSV (`attendance_recap.recap_csv`)."""
    with session.begin():
        _rules, _last, lines = _recap_lines(session, who, config, month, office)
        audit_views(session, who, [e for e, _ in lines], "monthly_csv", data.now())
    return recap_csv(RecapLine(nip=e.nip, name=e.name, office=e.office_id, recap=recap) for e, recap in lines)


def correct(session: Session, who: Caller, config: Any, body: CorrectionCreate) -> CorrectionPublic:
    """Add a correction of one employee's day (staff_admin: of their office; never one's own)."""
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    tz = data.zone(rules)

    def instant(at: Any) -> datetime | None:
        return None if at is None else datetime.combine(body.date, at, tzinfo=tz).astimezone(now.tzinfo)

    with session.begin():
        employee = employee_in_reach(session, who, body.nip)
        if who.me is not None and employee.id == who.me.id:
            raise OwnRecord("no one corrects their own attendance: another staff administrator of the office, or the admin, does")
        if body.date > _today(rules, now):
            raise InvalidInput(f"{body.date} has not come yet: only a past or today's record is corrected")
        if body.date not in data.employed_days(employee, [body.date], tz):
            raise InvalidInput(f"{employee.nip} was not employed on {body.date}")
        try:
            fix = Correction(reason=body.reason, first_in=instant(body.first_in), last_out=instant(body.last_out), status=body.status)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        row = AttendanceCorrection(
            tenant_id=who.tenant, employee_id=employee.id, day=body.date, first_in=fix.first_in, last_out=fix.last_out,
            status=body.status, reason=fix.reason.strip(), by_user=who.principal.user_id, at=now,
        )
        session.add(row)
        session.flush()
        try:  # the day as it will read; a correction the rules cannot apply is refused (rolled back)
            day = data.records(session, rules, [employee], body.date, body.date, now, strict=True)[employee.id][0]
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        counts = activity_counts(session, [employee.id], body.date, body.date)
    return CorrectionPublic(
        id=row.id, nip=employee.nip, date=body.date, timezone=rules.timezone, first_in=row.first_in,  # type: ignore[arg-type]
        last_out=row.last_out, status=row.status, reason=row.reason, by=who.principal.name, at=row.at,  # type: ignore[arg-type]
        record=DailyRecordPublic(**record_public(rules, day, counts.get((employee.id, body.date), 0))),
    )
