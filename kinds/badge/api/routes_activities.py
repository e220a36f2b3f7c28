"""`/activities` (daily activity entries, Kerjaku style), `/leave` and `/security-events`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from api.deps import ConfigDep, PageLimit, PageOffset, WriteSessionDep
from api.models import ErrorPublic, RequestDatetime
from api.routes import AUTH_ERRORS, BODY_ERRORS
from kinds.badge.api import activity_service, audit_service, leave_service
from kinds.badge.api.deps import AttendanceAdmin, AttendanceReader, DayQuery, LeaveId, LeaveReader, NipQuery, OfficeQuery, SelfService
from kinds.badge.api.models import (
    ActivitiesPublic,
    ActivityCreate,
    ActivityPublic,
    LeaveCreate,
    LeaveDecision,
    LeavePublic,
    LeavesPublic,
    LeaveStatus,
    SecurityEventsPublic,
)

router = APIRouter()

_EMPLOYEE_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such employee in the caller's reach (as for a NIP that does not exist)."}}
_LEAVE_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such leave request in the caller's reach."}}
_DECIDED = {409: {"model": ErrorPublic, "description": "The request was decided already (`leave_decided`)."}}
_OVERLAPS = {409: {"model": ErrorPublic, "description": "A waiting or approved request covers some of the days (`leave_overlaps`)."}}
_DECISION = Annotated[LeaveDecision | None, Body(description="`note`: optional to approve, required to reject.")]


@router.post(
    "/activities",
    response_model=ActivityPublic,
    status_code=201,
    tags=["activities"],
    summary="Record one's own activity on a working day; the answer links that day's attendance record",
    responses={**AUTH_ERRORS, **BODY_ERRORS},
)
def create_activity(body: ActivityCreate, session: WriteSessionDep, who: SelfService, config: ConfigDep) -> ActivityPublic:
    return activity_service.record_activity(session, who, config, body)


@router.get(
    "/activities",
    response_model=ActivitiesPublic,
    tags=["activities"],
    summary="Activity entries, newest day first, each with its day's record (own; staff_admin: office; admin: tenant)",
    responses={**AUTH_ERRORS, **_EMPLOYEE_NOT_FOUND},
)
def read_activities(
    session: WriteSessionDep,
    who: AttendanceReader,
    config: ConfigDep,
    nip: NipQuery = None,
    from_: Annotated[DayQuery, Query(alias="from", description="First local day; default 30 days before `to`.")] = None,
    to: Annotated[DayQuery, Query(description="Last local day; default today.")] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> ActivitiesPublic:
    return activity_service.list_activities(session, who, config, nip, from_, to, limit, offset)


@router.post(
    "/leave",
    response_model=LeavePublic,
    status_code=201,
    tags=["leave"],
    summary="Request leave (cuti), sick leave (sakit) or duty travel (dinas_luar) for oneself",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_OVERLAPS},
)
def create_leave(body: LeaveCreate, session: WriteSessionDep, who: SelfService, config: ConfigDep) -> LeavePublic:
    return leave_service.request_leave(session, who, config, body)


@router.get(
    "/leave",
    response_model=LeavesPublic,
    tags=["leave"],
    summary="Leave requests, newest first: one's own (employee), the office's (staff_admin), the tenant's (admin)",
    responses={**AUTH_ERRORS, **_EMPLOYEE_NOT_FOUND},
)
def read_leave(
    session: WriteSessionDep,
    who: LeaveReader,
    status: Annotated[LeaveStatus | None, Query()] = None,
    nip: NipQuery = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> LeavesPublic:
    return leave_service.list_leave(session, who, status, nip, limit, offset)


@router.post(
    "/leave/{leave_id}/approve",
    response_model=LeavePublic,
    tags=["leave"],
    summary="Approve a waiting request of one's office (staff_admin) or tenant (admin); never one's own",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_LEAVE_NOT_FOUND, **_DECIDED},
)
def approve_leave(leave_id: LeaveId, session: WriteSessionDep, who: AttendanceAdmin, body: _DECISION = None) -> LeavePublic:
    return leave_service.decide_leave(session, who, leave_id, True, body)


@router.post(
    "/leave/{leave_id}/reject",
    response_model=LeavePublic,
    tags=["leave"],
    summary="Reject a waiting request, saying why (`note`); never one's own",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_LEAVE_NOT_FOUND, **_DECIDED},
)
def reject_leave(leave_id: LeaveId, session: WriteSessionDep, who: AttendanceAdmin, body: _DECISION = None) -> LeavePublic:
    return leave_service.decide_leave(session, who, leave_id, False, body)


@router.get(
    "/security-events",
    response_model=SecurityEventsPublic,
    tags=["attendance"],
    summary="Spoofing attempts with the badge holder's name, newest first (staff_admin: their office; admin: any)",
    responses={**AUTH_ERRORS, 404: {"model": ErrorPublic, "description": "No such office of the tenant (staff_admin: other than their own)."}},
)
def read_security_events(
    session: WriteSessionDep,
    who: AttendanceAdmin,
    config: ConfigDep,
    office: OfficeQuery = None,
    since: Annotated[RequestDatetime | None, Query(description="With a UTC offset; default 7 days ago.")] = None,
    limit: PageLimit = 100,
    offset: PageOffset = 0,
) -> SecurityEventsPublic:
    return audit_service.security_events(session, who, config, office, since, limit, offset)
