"""Who the caller is in attendance terms, and whose records they may reach.

* `admin`: every employee and office of the tenant (the admin is linked to no employee);
* `staff_admin`: the employees of the office of the employee row their user is linked to
  (themself included); a staff_admin linked to none reaches no one;
* `employee`: only the employee row their user is linked to.

Someone whose employee row has left (`Employee.left_at`) manages no office any more: a
staff_admin who left reaches only their own row, as an employee does (the user may outlive the
job until an admin disables it, and must not keep reading a whole office's attendance). Their own
records stay readable to them: they are still that person's personal data, which they may see
(UU 27/2022 on personal data protection gives the data subject access to it).

Anything out of reach is `EmployeeNotFound` / `OfficeNotFound` (404), word for word what a NIP or
office that does not exist gets: an employee asking for a colleague's NIP learns nothing, not
even that the NIP is registered (a 403 would tell them). Reads of another person's records are
written to the view audit (`record_views`) by `audit_views`, in the request's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.accounts import Principal
from central.models import ROLE_ADMIN, ROLE_STAFF_ADMIN
from kinds.badge.api.errors import EmployeeNotFound, LeftStaff, NotLinked, OfficeNotFound
from kinds.badge.state import Employee, Office, RecordView


@dataclass(frozen=True)
class Caller:
    """The principal and the employee row their user is linked to (None: linked to none)."""

    principal: Principal
    me: Employee | None

    @property
    def tenant(self) -> str:
        return self.principal.tenant

    @property
    def is_admin(self) -> bool:
        return self.principal.role == ROLE_ADMIN

    @property
    def managed_office(self) -> str | None:
        """The office a staff_admin manages (their own employee row's, while they have not
        left); None for anyone else."""
        if self.principal.role == ROLE_STAFF_ADMIN and self.me is not None and self.me.left_at is None:
            return self.me.office_id
        return None

    @property
    def left_staff_admin(self) -> bool:
        """A staff_admin whose employee row has left: no office, their own records only."""
        return self.principal.role == ROLE_STAFF_ADMIN and self.me is not None and self.me.left_at is not None

    def linked(self) -> Employee:
        """The caller's own employee row; `NotLinked` (403) when their user is linked to none."""
        if self.me is None:
            raise NotLinked()
        return self.me

    def reaches(self, employee: Employee) -> bool:
        if employee.tenant_id != self.tenant:
            return False
        if self.is_admin or (self.me is not None and employee.id == self.me.id):
            return True
        return self.managed_office is not None and employee.office_id == self.managed_office

    def in_reach(self) -> sa.ColumnElement[bool]:
        """The employees this caller reaches, as a WHERE clause on `Employee`."""
        tenant = Employee.tenant_id == self.tenant
        if self.is_admin:
            return tenant
        if self.managed_office is not None:
            return sa.and_(tenant, Employee.office_id == self.managed_office)
        if self.me is not None:
            return sa.and_(tenant, Employee.id == self.me.id)
        return sa.false()


def caller(session: Session, principal: Principal) -> Caller:
    me = session.scalars(
        sa.select(Employee).where(Employee.user_id == principal.user_id, Employee.tenant_id == principal.tenant)
    ).one_or_none()
    return Caller(principal, me)


def employee_in_reach(session: Session, who: Caller, nip: str) -> Employee:
    row = session.scalars(sa.select(Employee).where(Employee.tenant_id == who.tenant, Employee.nip == nip)).one_or_none()
    if row is None or not who.reaches(row):
        raise EmployeeNotFound(nip)
    return row


def office_in_reach(session: Session, who: Caller, office: str | None) -> str | None:
    """The office a board, recap or list is about: the one asked for (404 unless the tenant's
    and, for a staff_admin, their own), or without one a staff_admin's own and the admin's
    whole tenant (None). A staff_admin linked to no employee manages no office: `NotLinked`;
    nor does one whose employee left: `LeftStaff`."""
    if not who.is_admin and who.managed_office is None:
        raise LeftStaff() if who.left_staff_admin else NotLinked()
    if office is None:
        return who.managed_office
    row = session.get(Office, office)
    if row is None or row.tenant_id != who.tenant or (not who.is_admin and office != who.managed_office):
        raise OfficeNotFound(office)
    return office


def audit_views(session: Session, who: Caller, employees: Iterable[Employee], what: str, now: datetime) -> int:
    """Write who read whose records (`what`: which answer) for every employee other than the
    caller; returns the rows written. The caller's own records are not audited: no one else saw them."""
    rows = [
        {
            "tenant_id": who.tenant,
            "viewer_user": who.principal.user_id,
            "subject_employee": e.id,
            "subject_office": e.office_id,
            "what": what,
            "at": now,
        }
        for e in {e.id: e for e in employees}.values()
        if who.me is None or e.id != who.me.id
    ]
    if rows:
        session.execute(sa.insert(RecordView), rows)
    return len(rows)
