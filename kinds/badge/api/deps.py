"""The badge API's role dependencies (over `api.deps.require_roles` and `api.permissions`) and
the shapes of its path and query parameters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Query

from api import permissions
from api.deps import require_roles
from api.routes import IDENTIFIER
from central.accounts import Principal

EmployeeLister = Annotated[Principal, Depends(require_roles(*permissions.EMPLOYEE_LISTERS))]
AttendanceReader = Annotated[Principal, Depends(require_roles(*permissions.ATTENDANCE_READERS))]
AttendanceAdmin = Annotated[Principal, Depends(require_roles(*permissions.ATTENDANCE_ADMINS))]
SelfService = Annotated[Principal, Depends(require_roles(*permissions.ATTENDANCE_SELF_SERVICE))]
LeaveReader = Annotated[Principal, Depends(require_roles(*permissions.LEAVE_READERS))]

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
