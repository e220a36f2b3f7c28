"""Employees registered (`tepi admin employee add|import|link`): who works at which office, on
which schedule, and which API user is that person.

A NIP (Nomor Induk Pegawai) is the civil servant's 18-digit number (BKN: birth date, CPNS
appointment month, sex, serial; PP 11/2017 on ASN management): it is checked as 18 digits,
not decoded. It is unique within a tenant. A staff list comes as CSV with a header row and one
person a row (`nip`, `name`, `office`, optional `schedule`): every row is checked before
anything is written, each rejected one named by its line, and nothing is registered while any
is rejected. Importing the same file again changes nothing; a NIP registered otherwise (another
name, office or schedule) is rejected, naming what differs, except to a caller who may see one
office only (a staff_admin over the API), who is told only that it is registered elsewhere.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.models import ROLE_EMPLOYEE, ROLE_STAFF_ADMIN, User
from central.names import canonical_name
from kinds.badge.state import Employee, Office

_NIP = re.compile(r"^[0-9]{18}$")
CSV_COLUMNS = ("nip", "name", "office", "schedule")
_REQUIRED = CSV_COLUMNS[:3]
ADDED, UNCHANGED = "added", "unchanged"
#: Roles a user linked to an employee may have: the person's own login, or their office's staff administrator.
LINKABLE_ROLES = (ROLE_EMPLOYEE, ROLE_STAFF_ADMIN)


def check_nip(nip: str) -> str:
    text = nip.strip()
    if not _NIP.match(text):
        raise ValueError(f"NIP {text!r} is not 18 digits")
    return text


@dataclass(frozen=True)
class NewEmployee:
    """One person to register, checked: an 18-digit NIP, a name as user names are stored
    (`central.names.canonical_name`), an office id, and a schedule id or None (the tenant's default)."""

    nip: str
    name: str
    office: str
    schedule: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "nip", check_nip(self.nip))
        object.__setattr__(self, "name", canonical_name(self.name))
        if not self.office.strip():
            raise ValueError("no office")
        object.__setattr__(self, "office", self.office.strip())
        object.__setattr__(self, "schedule", (self.schedule or "").strip() or None)

    @classmethod
    def from_row(cls, row: dict[str, str]) -> NewEmployee:
        missing = [c for c in _REQUIRED if not (row.get(c) or "").strip()]
        if missing:
            raise ValueError(f"no {', '.join(missing)}")
        return cls(nip=row["nip"], name=row["name"], office=row["office"], schedule=row.get("schedule"))


def add_employee(
    session: Session, tenant: str, person: NewEmployee, now: datetime, schedules: Collection[str], *, within_office: str | None = None
) -> tuple[Employee, str]:
    """Register `person` in `tenant` (`ADDED`), or find them registered exactly so (`UNCHANGED`);
    `ValueError` for an office that is not the tenant's, a schedule not among `schedules` (the
    tenant's, `config.TenantAttendance`), or a NIP registered otherwise.

    `within_office`: the one office the caller may see (a staff_admin's, over the API). A NIP
    registered at another office is then refused as "registered elsewhere", without its name,
    office or schedule: the import must not tell a staff_admin who works where outside their
    office. The admin CLI and the tenant's admin (None) get what differs."""
    office = session.get(Office, person.office)
    if office is None or office.tenant_id != tenant:
        offices = session.scalars(sa.select(Office.id).where(Office.tenant_id == tenant).order_by(Office.id))
        raise ValueError(f"office {person.office!r} is none of {tenant}'s ({', '.join(offices) or 'none configured'})")
    if person.schedule is not None and person.schedule not in schedules:
        raise ValueError(f"schedule {person.schedule!r} is none of {tenant}'s ({', '.join(sorted(schedules))})")
    known = session.scalar(sa.select(Employee).where(Employee.tenant_id == tenant, Employee.nip == person.nip))
    if known is not None:
        if within_office is not None and known.office_id != within_office:
            raise ValueError(f"NIP {person.nip} is registered elsewhere in {tenant}")
        differs = [
            f"{what} {have!r}, not {want!r}" for what, have, want in (
                ("name", known.name, person.name), ("office", known.office_id, person.office),
                ("schedule", known.schedule, person.schedule),
            ) if have != want
        ]  # fmt: skip
        if differs:
            raise ValueError(f"NIP {person.nip} is registered with {'; '.join(differs)}")
        return known, UNCHANGED
    employee = Employee(
        tenant_id=tenant, nip=person.nip, name=person.name, office_id=person.office, schedule=person.schedule,
        user_id=None, created_at=now, left_at=None,
    )
    session.add(employee)
    session.flush()
    return employee, ADDED


def read_staff_csv(path: Path) -> tuple[list[tuple[int, NewEmployee]], list[str]]:
    """The people of a staff CSV, each with the line it ends on (the header is line 1), and every
    rejected row as `<file>:<line>: <why>`; a NIP twice in the file is rejected the second time."""
    people: list[tuple[int, NewEmployee]] = []
    rejected: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # utf-8-sig: a spreadsheet's BOM
            reader = csv.DictReader(f)
            names = [n.strip() for n in reader.fieldnames or ()]
            reader.fieldnames = names
            unknown, absent = sorted(set(names) - set(CSV_COLUMNS)), [c for c in _REQUIRED if c not in names]
            if unknown or absent:
                why = "; ".join(x for x in (
                    f"unknown columns {', '.join(unknown)}" if unknown else "",
                    f"missing columns {', '.join(absent)}" if absent else "",
                ) if x)  # fmt: skip
                return [], [f"{path}:1: {why} (columns: {', '.join(CSV_COLUMNS)}; schedule optional)"]
            seen: dict[str, int] = {}
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if None in row:
                    rejected.append(f"{where}: more fields than the header has")
                    continue
                try:
                    person = NewEmployee.from_row(row)
                except ValueError as exc:
                    rejected.append(f"{where}: {exc}")
                    continue
                if person.nip in seen:
                    rejected.append(f"{where}: NIP {person.nip} again (first on line {seen[person.nip]})")
                    continue
                seen[person.nip] = reader.line_num
                people.append((reader.line_num, person))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [f"{path}: cannot read it as CSV: {exc}"]
    if not people and not rejected:
        rejected.append(f"{path}: no employees (a header row, then one person a row)")
    return people, rejected


def import_staff(
    session: Session, tenant: str, path: Path, now: datetime, schedules: Collection[str]
) -> tuple[list[tuple[Employee, str]], list[str]]:
    """Every row of a staff CSV registered (`add_employee`), and every rejected row, in file
    order. While any row is rejected the caller must roll back: nothing is half-imported."""
    people, rejected = read_staff_csv(path)
    done = []
    for line, person in people:
        try:
            done.append(add_employee(session, tenant, person, now, schedules))
        except ValueError as exc:
            rejected.append(f"{path}:{line}: {exc}")
    rejected.sort(key=lambda r: int(m[1]) if (m := re.match(r":(\d+)", r.removeprefix(str(path)))) else 0)
    return done, rejected


def link_user(session: Session, tenant: str, user: User, nip: str) -> Employee:
    """Make `user` (of role employee or staff_admin, in `tenant`) the login of the employee of
    NIP `nip`; `ValueError` when either is linked to another already or the role does not fit.
    Linking the same pair again changes nothing."""
    if user.tenant_id != tenant:
        raise ValueError(f"user {user.id} is not a user of {tenant}")
    if user.role not in LINKABLE_ROLES:
        raise ValueError(f"user {user.id} is a {user.role}; only an employee or a staff_admin is linked to an employee")
    employee = session.scalar(sa.select(Employee).where(Employee.tenant_id == tenant, Employee.nip == check_nip(nip)))
    if employee is None:
        raise ValueError(f"no employee with NIP {nip.strip()} in {tenant}")
    if employee.user_id == user.id:
        return employee
    if employee.user_id is not None:
        raise ValueError(f"employee {employee.nip} is linked to user {employee.user_id} already")
    other = session.scalar(sa.select(Employee.nip).where(Employee.user_id == user.id))
    if other is not None:
        raise ValueError(f"user {user.id} is linked to employee {other} already")
    employee.user_id = user.id
    session.flush()
    return employee
