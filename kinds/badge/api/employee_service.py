"""Employees: the staff list in the caller's reach, one employee, and the CSV import.

The import is the CLI's (`kinds.badge.staff`: the same columns, checks and words as `tepi admin
employee import`), all or nothing: every row is checked and registered in one transaction, and
while any row is rejected the transaction is rolled back and the answer (422) names every
rejected line. A staff_admin imports only into their own office: a row of another office is
rejected like a row of an office that does not exist, and a row whose NIP is registered at
another office is "registered elsewhere" (not who, nor where: `staff.add_employee`).
"""

from __future__ import annotations

import io
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.deps import MAX_PAGE
from kinds.badge.api import attendance_data as data
from kinds.badge.api.attendance_data import tenant_rules
from kinds.badge.api.caller import Caller, employee_in_reach, office_in_reach
from kinds.badge.api.errors import rejected_rows
from kinds.badge.api.models import BadgePublic, EmployeePublic, EmployeesPublic, ImportedPublic
from kinds.badge.staff import ADDED, add_employee, read_staff_csv
from kinds.badge.state import Badge, Employee

#: The name rejected lines are reported under by `kinds.badge.staff` (where a file's path would be).
_UPLOAD = "upload"
_LINE = re.compile(rf"^{_UPLOAD}(?::(\d+))?: (.*)$", re.S)


def public(employee: Employee, badge: Badge | None) -> EmployeePublic:
    return EmployeePublic(
        nip=employee.nip,
        name=employee.name,
        office=employee.office_id,
        schedule=employee.schedule,
        linked=employee.user_id is not None,
        active=employee.left_at is None,
        created_at=employee.created_at,
        left_at=employee.left_at,
        badge=None if badge is None else BadgePublic(id=badge.id, format=badge.format, issued_at=badge.issued_at),  # type: ignore[arg-type]
    )


def _with_badges(stmt: sa.Select[Any]) -> sa.Select[Any]:
    active = sa.and_(Badge.employee_id == Employee.id, Badge.revoked_at.is_(None))
    return stmt.add_columns(Badge).outerjoin(Badge, active)


def list_employees(
    session: Session, who: Caller, office: str | None, active: bool | None, limit: int, offset: int
) -> EmployeesPublic:
    where = [who.in_reach()]
    scope = office_in_reach(session, who, office)
    if scope is not None:
        where.append(Employee.office_id == scope)
    if active is not None:
        where.append(Employee.left_at.is_(None) if active else Employee.left_at.is_not(None))
    total = session.scalar(sa.select(sa.func.count()).select_from(Employee).where(*where)) or 0
    stmt = _with_badges(sa.select(Employee).where(*where)).order_by(Employee.office_id, Employee.name, Employee.nip)
    rows = session.execute(stmt.limit(limit).offset(offset)).all()
    return EmployeesPublic(data=[public(e, b) for e, b in rows], count=int(total), limit=limit, offset=offset)


def read_employee(session: Session, who: Caller, nip: str) -> EmployeePublic:
    employee = employee_in_reach(session, who, nip)
    badge = session.scalars(sa.select(Badge).where(Badge.employee_id == employee.id, Badge.revoked_at.is_(None))).first()
    return public(employee, badge)


class _Upload:
    """The request body where `kinds.badge.staff.read_staff_csv` reads a file: `open()` and a name."""

    def __init__(self, text: str) -> None:
        self._text = text

    def open(self, newline: str = "", encoding: str = "utf-8") -> io.StringIO:  # noqa: ARG002 - a file's signature
        return io.StringIO(self._text, newline=newline)

    def __str__(self) -> str:
        return _UPLOAD


def _row_error(message: str) -> dict[str, Any]:
    m = _LINE.match(message)
    line, msg = (int(m[1]) if m and m[1] else None), (m[2] if m else message)
    return {"loc": ["body", f"line {line}"] if line is not None else ["body"], "msg": msg, "type": "invalid_row"}


def import_employees(session: Session, who: Caller, config: Any, body: bytes) -> ImportedPublic:
    """Register the employees of a staff CSV (`nip,name,office[,schedule]`, a header row first)."""
    try:
        text = body.decode("utf-8-sig")  # a spreadsheet's BOM
    except UnicodeDecodeError:
        raise rejected_rows([{"loc": ["body"], "msg": "the CSV is not UTF-8 text", "type": "invalid_row"}]) from None
    office_in_reach(session, who, None)  # a staff_admin linked to no employee manages no office: 403
    people, rejected = read_staff_csv(_Upload(text))  # type: ignore[arg-type]
    schedules = [s.id for s in tenant_rules(config, who.tenant).schedules]
    added: list[str] = []
    unchanged: list[str] = []
    now = data.now()
    with session.begin():
        for line, person in people:
            if who.managed_office is not None and person.office != who.managed_office:
                rejected.append(f"{_UPLOAD}:{line}: office {person.office!r} is not {who.tenant}'s office {who.managed_office!r} you manage")
                continue
            try:
                _employee, result = add_employee(session, who.tenant, person, now, schedules, within_office=who.managed_office)
            except ValueError as exc:
                rejected.append(f"{_UPLOAD}:{line}: {exc}")
                continue
            (added if result == ADDED else unchanged).append(person.nip)
        if rejected:
            errors = sorted((_row_error(r) for r in rejected), key=lambda e: int(e["loc"][-1][5:]) if len(e["loc"]) > 1 else 0)
            raise rejected_rows(errors[:MAX_PAGE])
    return ImportedPublic(added=added, unchanged=unchanged)
