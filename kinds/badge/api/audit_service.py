"""Spoofing attempts with the names of the badges' holders (staff administration), and the view
audit: who read whose attendance records.

The view audit answers "who looked at my records?": an employee (and a staff_admin, as a
member of staff) sees the reads of their own records; the admin sees every read in the tenant,
or one employee's with `nip`. Reading the audit is not itself audited: it holds no attendance.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.models import User
from kinds.badge.api import attendance_data as data
from kinds.badge.api.caller import Caller, audit_views, employee_in_reach, office_in_reach
from kinds.badge.api.errors import EmployeeNotFound
from kinds.badge.api.models import SecurityEventPublic, SecurityEventsPublic, ViewPublic, ViewsPublic
from kinds.badge.state import Employee, RecordView, SecurityEventRecord

#: Security events since this long ago unless `since` says otherwise.
DEFAULT_SECURITY_WINDOW = timedelta(days=7)


def security_events(
    session: Session, who: Caller, config: Any, office: str | None, since: datetime | None, limit: int, offset: int
) -> SecurityEventsPublic:
    rules, now = data.tenant_rules(config, who.tenant), data.now()
    since = since or now - DEFAULT_SECURITY_WINDOW
    with session.begin():
        scope = office_in_reach(session, who, office)
        where = [SecurityEventRecord.tenant_id == who.tenant, SecurityEventRecord.at >= since]
        if scope is not None:
            where.append(SecurityEventRecord.office_id == scope)
        base = sa.select(SecurityEventRecord, Employee).join(Employee, Employee.id == SecurityEventRecord.employee_id).where(*where)
        total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
        order = (SecurityEventRecord.at.desc(), SecurityEventRecord.item_id)
        rows = session.execute(base.order_by(*order).limit(limit).offset(offset)).all()
        audit_views(session, who, [e for _, e in rows], "security_events", now)
    out = [
        SecurityEventPublic(
            id=s.item_id, office=s.office_id, reason=s.reason, source=s.source, at=s.at, badge=s.badge_id,  # type: ignore[arg-type]
            nip=e.nip, name=e.name, rssi_dbm=s.rssi_dbm, other_office=s.other_office, other_at=s.other_at,
            distance_km=s.distance_km, eid_period_offset=s.eid_period_offset,
        )
        for s, e in rows
    ]
    return SecurityEventsPublic(timezone=rules.timezone, data=out, count=int(total), limit=limit, offset=offset)  # type: ignore[arg-type]


def views(session: Session, who: Caller, nip: str | None, limit: int, offset: int) -> ViewsPublic:
    """Reads of the caller's own records (the admin: of anyone's, or `nip`'s), newest first."""
    where = [RecordView.tenant_id == who.tenant]
    if who.is_admin:
        if nip is not None:
            where.append(RecordView.subject_employee == employee_in_reach(session, who, nip).id)
    else:
        me = who.linked()
        if nip is not None and nip != me.nip:
            raise EmployeeNotFound(nip)
        where.append(RecordView.subject_employee == me.id)
    base = (
        sa.select(RecordView, User.name, User.role, Employee.nip, Employee.name.label("subject_name"))
        .join(User, User.id == RecordView.viewer_user)
        .outerjoin(Employee, Employee.id == RecordView.subject_employee)
        .where(*where)
    )
    total = session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    rows = session.execute(base.order_by(RecordView.at.desc(), RecordView.id.desc()).limit(limit).offset(offset)).all()
    data_ = [
        ViewPublic(at=v.at, viewer=viewer, viewer_role=role, nip=subject_nip, name=subject_name, office=v.subject_office, what=v.what)
        for v, viewer, role, subject_nip, subject_name in rows
    ]
    return ViewsPublic(data=data_, count=int(total), limit=limit, offset=offset)
