"""`/employees`: the staff list, one employee, the caller's own employee record, and the CSV import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.deps import ConfigDep, PageLimit, PageOffset, SessionDep, WriteSessionDep
from api.models import ErrorPublic
from api.routes import AUTH_ERRORS, BODY_ERRORS
from kinds.badge.api import employee_service
from kinds.badge.api.deps import AttendanceAdmin, AttendanceReader, EmployeeLister, Nip, OfficeQuery, SelfService
from kinds.badge.api.models import EmployeePublic, EmployeesPublic, ImportedPublic

router = APIRouter(tags=["employees"])

_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such employee in the caller's reach (as for a NIP that does not exist)."}}
_OFFICE_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such office of the tenant (staff_admin: other than their own)."}}
_CSV_BODY = {
    "required": True,
    "content": {
        "text/csv": {
            "schema": {"type": "string"},
            "example": "nip,name,office,schedule\n198503302010011002,Siti Aminah,bkpsdm,\n",
        }
    },
}


@router.get(
    "/employees",
    response_model=EmployeesPublic,
    summary="Employees with their active badge: a staff_admin's office, or the tenant's (admin)",
    responses={**AUTH_ERRORS, **_OFFICE_NOT_FOUND},
)
def read_employees(
    session: SessionDep,
    who: EmployeeLister,
    office: OfficeQuery = None,
    active: Annotated[bool | None, Query(description="Only those still employed (true) or who left (false).")] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> EmployeesPublic:
    return employee_service.list_employees(session, who, office, active, limit, offset)


@router.post(
    "/employees/import",
    response_model=ImportedPublic,
    summary="Register employees from CSV (nip,name,office[,schedule]): all rows or none",
    description="The body is CSV text (UTF-8, a header row first; at most the API's body limit, 64 KiB, about a "
    "thousand rows a request). Every row is checked; while any is rejected nothing is registered and the 422 "
    "names each rejected line. A row registered exactly so already is `unchanged`; a NIP registered otherwise is "
    "rejected. A staff_admin imports into their own office only.",
    openapi_extra={"requestBody": _CSV_BODY},
    responses={**AUTH_ERRORS, **BODY_ERRORS, 422: {"description": "Rejected rows: `detail` names each line and why."}},
)
async def import_employees(request: Request, session: WriteSessionDep, who: AttendanceAdmin, config: ConfigDep) -> ImportedPublic:
    body = await request.body()
    return await run_in_threadpool(employee_service.import_employees, session, who, config, body)


@router.get(
    "/employees/me",
    response_model=EmployeePublic,
    summary="The caller's own employee record (a user linked to an employee): how the console finds its NIP",
    description="An employee (or a staff_admin as a member of staff) reads their own days and months by NIP; this "
    "tells the NIP without asking the person to type it. Declared before `/employees/{nip}`, which would take `me` "
    "as a malformed NIP.",
    responses={**AUTH_ERRORS, 403: {"model": ErrorPublic, "description": "The role may not, or the user is linked to no employee."}},
)
def read_own_employee(session: SessionDep, who: SelfService) -> EmployeePublic:
    return employee_service.read_employee(session, who, who.linked().nip)


@router.get(
    "/employees/{nip}",
    response_model=EmployeePublic,
    summary="One employee: the caller themself, one of a staff_admin's office, or of the tenant (admin)",
    responses={**AUTH_ERRORS, **_NOT_FOUND},
)
def read_employee(nip: Nip, session: SessionDep, who: AttendanceReader) -> EmployeePublic:
    return employee_service.read_employee(session, who, nip)
