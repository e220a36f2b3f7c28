"""Daily activity entries (Kerjaku style): recorded by the employee for themself, read back by
them, their office's staff_admin and the admin, each linked to its day's attendance record.

Decision: an entry may be recorded on any working day of the employee (neither a holiday nor a
day off of their schedule), from `ACTIVITY_BACKFILL_DAYS` days back to today, whatever the
badge says of the day: an absent day may be a badge left at home, which a correction settles;
the entry answers with the day's record, so whoever reads it sees both side by side. Not on a
holiday or a day off, whose work the allowance does not count.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.errors import InvalidInput
from kinds.badge.api import attendance_data as data
from kinds.badge.api.attendance_service import MAX_SPAN_DAYS, activity_counts, record_public
from kinds.badge.api.caller import Caller, audit_views, employee_in_reach
from kinds.badge.api.errors import BadDay
from kinds.badge.api.models import ActivitiesPublic, ActivityCreate, ActivityPublic, DailyRecordPublic
from kinds.badge.config import TenantAttendance
from kinds.badge.state import Activity, Employee

#: How many days back an entry may still be recorded (a month's recap is due early the next month).
ACTIVITY_BACKFILL_DAYS = 31


def _public(rules: TenantAttendance, a: Activity, e: Employee, day: data.Day | None, activities: int) -> ActivityPublic:
    record = None if day is None else DailyRecordPublic(**record_public(rules, day, activities))
    return ActivityPublic(
        id=a.id, nip=e.nip, name=e.name, date=a.day, started_at=a.started_at, ended_at=a.ended_at,
        description=a.description, output=a.output, created_at=a.created_at, attendance=record,
    )


def _linked(
    session: Session, rules: TenantAttendance, rows: Sequence[tuple[Activity, Employee]], now: datetime
) -> list[ActivityPublic]:
    """The entries with their days' records (computed once per employee over the days shown)."""
    if not rows:
        return []
    first, last = min(a.day for a, _ in rows), max(a.day for a, _ in rows)
    staff = list({e.id: e for _, e in rows}.values())
    days = data.records(session, rules, staff, first, last, now)
    by_day = {(e_id, d.record.day): d for e_id, ds in days.items() for d in ds}
    counts = activity_counts(session, [e.id for e in staff], first, last)
    return [_public(rules, a, e, by_day.get((e.id, a.day)), counts.get((e.id, a.day), 0)) for a, e in rows]


def record_activity(session: Session, who: Caller, config: Any, body: ActivityCreate) -> ActivityPublic:
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    tz = data.zone(rules)
    today = data.local_day(now, tz)
    with session.begin():
        me = who.linked()
        if body.date > today:
            raise InvalidInput(f"{body.date} has not come yet")
        if body.date < today - timedelta(days=ACTIVITY_BACKFILL_DAYS):
            raise InvalidInput(f"an activity is recorded within {ACTIVITY_BACKFILL_DAYS} days")
        if not data.is_working_day(rules, me, body.date):
            raise InvalidInput(f"{body.date} is no working day of yours (a holiday or a day off)")
        if not data.employed_days(me, [body.date], tz):
            raise InvalidInput(f"you were not employed on {body.date}")
        start = datetime.combine(body.date, body.start, tzinfo=tz)  # type: ignore[arg-type]
        end = datetime.combine(body.date, body.end, tzinfo=tz)  # type: ignore[arg-type]
        if end <= start:
            raise InvalidInput("an activity ends after it starts")
        if end > now:
            raise InvalidInput("an activity is recorded once done: its end has not come yet")
        row = Activity(
            tenant_id=who.tenant, employee_id=me.id, day=body.date, started_at=start, ended_at=end,
            description=body.description, output=body.output, created_by=who.principal.user_id, created_at=now,
        )
        session.add(row)
        session.flush()
        return _linked(session, rules, [(row, me)], now)[0]


def list_activities(
    session: Session, who: Caller, config: Any, nip: str | None, first: date | None, last: date | None, limit: int, offset: int
) -> ActivitiesPublic:
    """Entries in the caller's reach (one employee's with `nip`), newest day first."""
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    today = data.local_day(now, data.zone(rules))
    last = last or today
    first = first or last - timedelta(days=30)
    if last < first:
        raise BadDay(f"`to` ({last}) is before `from` ({first})")
    if (last - first).days + 1 > MAX_SPAN_DAYS:
        raise BadDay(f"at most {MAX_SPAN_DAYS} days at once")
    with session.begin():
        where = [who.in_reach(), Activity.day >= first, Activity.day <= last]
        if nip is not None:
            where.append(Activity.employee_id == employee_in_reach(session, who, nip).id)
        base = sa.select(Activity, Employee).join(Employee, Employee.id == Activity.employee_id).where(*where)
        total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
        newest = base.order_by(Activity.day.desc(), Activity.started_at.desc(), Activity.id.desc())
        rows = [(a, e) for a, e in session.execute(newest.limit(limit).offset(offset))]
        out = _linked(session, rules, rows, now)
        audit_views(session, who, [e for _, e in rows], "activities", now)
    return ActivitiesPublic(timezone=rules.timezone, data=out, count=int(total), limit=limit, offset=offset)  # type: ignore[arg-type]
