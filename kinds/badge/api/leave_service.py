"""Leave (cuti), sick leave (sakit) and duty travel (dinas luar): requested by the employee for
themself, approved or rejected by a staff administrator of their office or the admin, never by
the requester (a staff_admin's own request goes to another staff_admin of the office, or the
admin). An approved request makes its days `leave`, `sick` or `duty_travel` in the records.

Bounds (Tepi's choice): the first day at most `LEAVE_BACKFILL_DAYS` back (sick leave is often
filed on return), the span at most `MAX_LEAVE_DAYS` days, and no request over days that a
waiting or approved request of the same person already covers (409). Reading another person's
requests (sick leave is health data) is written to the view audit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from central.errors import InvalidInput
from central.models import User
from kinds.badge.api import attendance_data as data
from kinds.badge.api.caller import Caller, audit_views, employee_in_reach
from kinds.badge.api.errors import LeaveDecided, LeaveNotFound, LeaveOverlaps, OwnRecord
from kinds.badge.api.models import LeaveCreate, LeaveDecision, LeavePublic, LeavesPublic
from kinds.badge.state import LEAVE_APPROVED, LEAVE_REJECTED, LEAVE_REQUESTED, Employee, LeaveRequest

LEAVE_BACKFILL_DAYS = 31
#: The longest request: a year (cuti besar is three months, sick leave up to a year and more by
#: extension; a longer absence is a matter for the civil service's own procedures).
MAX_LEAVE_DAYS = 366

_Decider = aliased(User)


def _public(r: LeaveRequest, e: Employee, decided_by: str | None) -> LeavePublic:
    return LeavePublic(
        id=r.id, nip=e.nip, name=e.name, office=e.office_id, kind=r.kind, first_day=r.first_day,  # type: ignore[arg-type]
        last_day=r.last_day, reason=r.reason, status=r.status, requested_at=r.requested_at,  # type: ignore[arg-type]
        decided_by=decided_by, decided_at=r.decided_at, decision_note=r.decision_note,
    )


def request_leave(session: Session, who: Caller, config: Any, body: LeaveCreate) -> LeavePublic:
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    today = data.local_day(now, data.zone(rules))
    if body.last_day < body.first_day:
        raise InvalidInput("the last day is before the first")
    if (body.last_day - body.first_day).days + 1 > MAX_LEAVE_DAYS:
        raise InvalidInput(f"at most {MAX_LEAVE_DAYS} days in one request")
    if body.first_day < today - timedelta(days=LEAVE_BACKFILL_DAYS):
        raise InvalidInput(f"leave is requested at most {LEAVE_BACKFILL_DAYS} days after its first day")
    if body.last_day > today + timedelta(days=MAX_LEAVE_DAYS):
        raise InvalidInput(f"leave is requested at most {MAX_LEAVE_DAYS} days ahead")
    with session.begin():
        me = who.linked()
        clash = session.scalar(
            sa.select(LeaveRequest.id).where(
                LeaveRequest.employee_id == me.id,
                LeaveRequest.status.in_((LEAVE_REQUESTED, LEAVE_APPROVED)),
                LeaveRequest.first_day <= body.last_day,
                LeaveRequest.last_day >= body.first_day,
            ).limit(1)
        )
        if clash is not None:
            raise LeaveOverlaps(f"request {clash} already covers some of these days")
        row = LeaveRequest(
            tenant_id=who.tenant, employee_id=me.id, kind=body.kind, first_day=body.first_day, last_day=body.last_day,
            reason=body.reason, status=LEAVE_REQUESTED, requested_by=who.principal.user_id, requested_at=now,
        )
        session.add(row)
        session.flush()
        return _public(row, me, None)


def decide_leave(session: Session, who: Caller, leave_id: int, approve: bool, body: LeaveDecision | None) -> LeavePublic:
    note = body.note if body is not None else None
    if not approve and note is None:
        raise InvalidInput("a rejection says why (`note`)")
    now = data.now()
    with session.begin():
        found = session.execute(
            sa.select(LeaveRequest, Employee)
            .join(Employee, Employee.id == LeaveRequest.employee_id)
            .where(LeaveRequest.id == leave_id, LeaveRequest.tenant_id == who.tenant)
            .with_for_update(of=LeaveRequest)
        ).one_or_none()
        if found is None or not who.reaches(found[1]):
            raise LeaveNotFound(leave_id)
        row, employee = found
        if who.me is not None and employee.id == who.me.id:
            raise OwnRecord("no one decides their own leave: another staff administrator of the office, or the admin, does")
        if row.status != LEAVE_REQUESTED:
            raise LeaveDecided(f"leave request {leave_id} is {row.status} already")
        row.status = LEAVE_APPROVED if approve else LEAVE_REJECTED
        row.decided_by, row.decided_at, row.decision_note = who.principal.user_id, now, note
        session.flush()
        return _public(row, employee, who.principal.name)


def list_leave(
    session: Session, who: Caller, status: str | None, nip: str | None, limit: int, offset: int
) -> LeavesPublic:
    """Requests in the caller's reach, newest first (a staff_admin's office's, their own among them)."""
    with session.begin():
        where = [LeaveRequest.tenant_id == who.tenant, who.in_reach()]
        if status is not None:
            where.append(LeaveRequest.status == status)
        if nip is not None:
            where.append(LeaveRequest.employee_id == employee_in_reach(session, who, nip).id)
        base = (
            sa.select(LeaveRequest, Employee, _Decider.name)
            .join(Employee, Employee.id == LeaveRequest.employee_id)
            .outerjoin(_Decider, _Decider.id == LeaveRequest.decided_by)
            .where(*where)
        )
        total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
        rows = session.execute(base.order_by(LeaveRequest.requested_at.desc(), LeaveRequest.id.desc()).limit(limit).offset(offset)).all()
        audit_views(session, who, [e for _, e, _ in rows], "leave", data.now())
    return LeavesPublic(data=[_public(r, e, d) for r, e, d in rows], count=int(total), limit=limit, offset=offset)
