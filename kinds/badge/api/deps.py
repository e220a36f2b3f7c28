"""The badge API's role dependencies (over `api.deps.require_roles` and `api.permissions`) and
the shapes of its path and query parameters."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator
from sqlalchemy.orm import Session

from api import permissions
from api.deps import require_roles
from api.routes import IDENTIFIER
from central.accounts import Principal
from kinds.badge.api.caller import Caller, caller
from kinds.badge.api.models import within_bounds


def _caller(*roles: str):  # type: ignore[no-untyped-def]
    """A dependency: the caller (role checked first: 403 says nothing of any record) with the
    employee row their user is linked to, read in a session of its own (as the key is), so that
    each service opens its own transaction on the request's session."""
    role_check = require_roles(*roles)

    # A default, not `Annotated[...]`: annotations are strings here and `role_check` is local.
    def dependency(request: Request, principal: Principal = Depends(role_check)) -> Caller:  # noqa: B008
        with Session(request.app.state.engine) as session:
            who = caller(session, principal)
            if who.me is not None:
                session.expunge(who.me)
        return who

    return dependency


EmployeeLister = Annotated[Caller, Depends(_caller(*permissions.EMPLOYEE_LISTERS))]
AttendanceReader = Annotated[Caller, Depends(_caller(*permissions.ATTENDANCE_READERS))]
AttendanceAdmin = Annotated[Caller, Depends(_caller(*permissions.ATTENDANCE_ADMINS))]
SelfService = Annotated[Caller, Depends(_caller(*permissions.ATTENDANCE_SELF_SERVICE))]
LeaveReader = Annotated[Caller, Depends(_caller(*permissions.LEAVE_READERS))]

#: NIP (Nomor Induk Pegawai): a civil servant's 18 digits.
NIP_PATTERN = r"^[0-9]{18}$"
Nip = Annotated[str, Path(pattern=NIP_PATTERN, examples=["198503302010011002"])]
NipQuery = Annotated[str | None, Query(pattern=NIP_PATTERN, description="An employee's NIP (18 digits).")]
OfficeQuery = Annotated[
    str | None,
    Query(max_length=63, pattern=IDENTIFIER, description="An office of the tenant (staff_admin: their own, the default)."),
]
#: A serial id: 32-bit on PostgreSQL, so larger numbers are no id (422, not a database error).
LeaveId = Annotated[int, Path(ge=1, le=2**31 - 1)]
#: A calendar month, `YYYY-MM`.
Month = Annotated[str, Query(pattern=r"^(19[7-9][0-9]|2[01][0-9][0-9])-(0[1-9]|1[0-2])$", examples=["2026-02"])]
#: A local day of the tenant's zone in a query, `YYYY-MM-DD`.
DayQuery = Annotated[date | None, AfterValidator(within_bounds)]
