"""`/attendance`: an office's daily board and monthly recap (with the CSV export for the
performance allowance), one employee's days and month, corrections, and the view audit."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from api.deps import ConfigDep, PageLimit, PageOffset, SessionDep, WriteSessionDep
from api.models import ErrorPublic
from api.routes import AUTH_ERRORS, BODY_ERRORS
from kinds.badge.api import attendance_service, audit_service
from kinds.badge.api.deps import AttendanceAdmin, AttendanceReader, DayQuery, Month, Nip, NipQuery, OfficeQuery
from kinds.badge.api.models import (
    CorrectionCreate,
    CorrectionPublic,
    DailyBoardPublic,
    EmployeeDaysPublic,
    EmployeeMonthlyPublic,
    MonthlyPublic,
    ViewsPublic,
)

router = APIRouter(prefix="/attendance", tags=["attendance"])

_EMPLOYEE_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such employee in the caller's reach (as for a NIP that does not exist)."}}
_OFFICE_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such office of the tenant (staff_admin: other than their own)."}}
_BAD_QUERY = {422: {"description": "A malformed query, a reversed span or one too long."}}
_RECAP_CSV = {
    200: {
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "description": "With `format=csv`: one line per employee (nip, name, office, then the recap's counts; "
        "`unavailable`: days before the tenant's retention, not counted as absent; `unclosed_days`: days with no check-out; "
        "`disputed_days`: days held over a two_offices dispute).",
    }
}


@router.get(
    "/daily",
    response_model=DailyBoardPublic,
    summary="The board of a day: each employee's record (staff_admin: their office; admin: an office or the tenant)",
    responses={**AUTH_ERRORS, **_OFFICE_NOT_FOUND},
)
def read_daily_board(
    session: WriteSessionDep,
    who: AttendanceAdmin,
    config: ConfigDep,
    date: Annotated[DayQuery, Query(description="A local day, YYYY-MM-DD; default today.")] = None,
    office: OfficeQuery = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> DailyBoardPublic:
    return attendance_service.daily_board(session, who, config, date, office, limit, offset)


@router.get(
    "/monthly",
    response_model=MonthlyPublic,
    summary="The monthly recap per employee (on time, late, absent, leave, hours; TL/PSW bands), JSON or CSV",
    responses={**AUTH_ERRORS, **_OFFICE_NOT_FOUND, **_RECAP_CSV},
)
def read_monthly(
    session: WriteSessionDep,
    who: AttendanceAdmin,
    config: ConfigDep,
    month: Month,
    office: OfficeQuery = None,
    format: Annotated[Literal["json", "csv"], Query(description="csv: the whole recap as one CSV file (no paging).")] = "json",  # noqa: A002
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> MonthlyPublic | Response:
    if format == "csv":
        body = attendance_service.monthly_csv(session, who, config, month, office)
        name = f"rekap-{office or who.managed_office or who.tenant}-{month}.csv"
        return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return attendance_service.monthly(session, who, config, month, office, limit, offset)


@router.get(
    "/employees/{nip}/days",
    response_model=EmployeeDaysPublic,
    summary="One employee's daily records over local days (an employee: only their own)",
    responses={**AUTH_ERRORS, **_EMPLOYEE_NOT_FOUND, **_BAD_QUERY},
)
def read_days(
    nip: Nip,
    session: WriteSessionDep,
    who: AttendanceReader,
    config: ConfigDep,
    from_: Annotated[DayQuery, Query(alias="from", description="First local day; default the first of `to`'s month.")] = None,
    to: Annotated[DayQuery, Query(description=f"Last local day; default today. At most {attendance_service.MAX_SPAN_DAYS} days.")] = None,
) -> EmployeeDaysPublic:
    return attendance_service.employee_days(session, who, config, nip, from_, to)


@router.get(
    "/employees/{nip}/monthly",
    response_model=EmployeeMonthlyPublic,
    summary="One employee's month: the recap and each day (an employee: only their own)",
    responses={**AUTH_ERRORS, **_EMPLOYEE_NOT_FOUND},
)
def read_employee_monthly(nip: Nip, session: WriteSessionDep, who: AttendanceReader, config: ConfigDep, month: Month) -> EmployeeMonthlyPublic:
    return attendance_service.employee_monthly(session, who, config, nip, month)


@router.post(
    "/corrections",
    response_model=CorrectionPublic,
    status_code=201,
    summary="Correct an employee's day, with a reason (kept, shown with the record; never one's own day)",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_EMPLOYEE_NOT_FOUND},
)
def create_correction(body: CorrectionCreate, session: WriteSessionDep, who: AttendanceAdmin, config: ConfigDep) -> CorrectionPublic:
    return attendance_service.correct(session, who, config, body)


@router.get(
    "/views",
    response_model=ViewsPublic,
    summary="Who read whose attendance records: one's own (employee, staff_admin), anyone's (admin)",
    responses={**AUTH_ERRORS, **_EMPLOYEE_NOT_FOUND},
)
def read_views(
    session: SessionDep, who: AttendanceReader, nip: NipQuery = None, limit: PageLimit = 100, offset: PageOffset = 0
) -> ViewsPublic:
    return audit_service.views(session, who, nip, limit, offset)
