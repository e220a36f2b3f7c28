"""`/vessels` with their last position and track, and `/sos`: distress incidents for the rescue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from api.deps import PageLimit, PageOffset, SessionDep, WriteSessionDep
from api.models import ErrorPublic, RequestDatetime
from api.routes import AUTH_ERRORS, BODY_ERRORS
from kinds.fishfinder.api import sea_service
from kinds.fishfinder.api.deps import SerialId, SosCaller, SosReader, SosResponder, VesselId, VesselReader, VesselSkipper
from kinds.fishfinder.api.sea_models import (
    DepartureCreate,
    SosAction,
    SosCreate,
    SosIncidentDetail,
    SosIncidentPublic,
    SosIncidentsPublic,
    TrackPublic,
    VesselPublic,
    VesselsPublic,
)

router = APIRouter()

_VESSEL_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such vessel of the caller (fisher) or tenant."}}
_INCIDENT_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such SOS incident in the caller's tenant."}}
_OWN_INCIDENT_NOT_FOUND = {
    404: {"model": ErrorPublic, "description": "No such SOS incident in the caller's tenant (fisher: of the caller's vessels)."}
}
_ACTION_BODY = Annotated[SosAction | None, Body(description="Optional note; who acts is the caller.")]


@router.get(
    "/vessels",
    response_model=VesselsPublic,
    tags=["vessels"],
    summary="Vessels with their last position: a fisher's own, or all of the tenant's (disaster office, admin)",
    responses=AUTH_ERRORS,
)
def read_vessels(session: SessionDep, principal: VesselReader, limit: PageLimit = 100, offset: PageOffset = 0) -> VesselsPublic:
    return sea_service.list_vessels(session, principal, limit, offset)


@router.get(
    "/vessels/{vessel_id}/track",
    response_model=TrackPublic,
    tags=["vessels"],
    summary="A vessel's fixes since a time (default: the last 24 h), oldest first",
    responses={**AUTH_ERRORS, **_VESSEL_NOT_FOUND},
)
def read_track(
    vessel_id: VesselId,
    session: SessionDep,
    principal: VesselReader,
    since: Annotated[RequestDatetime | None, Query(description="With a UTC offset.")] = None,
    limit: Annotated[int, Query(ge=1, le=sea_service.MAX_TRACK)] = sea_service.MAX_TRACK,
) -> TrackPublic:
    return sea_service.vessel_track(session, principal, vessel_id, since, limit)


@router.post(
    "/vessels/{vessel_id}/departure",
    response_model=VesselPublic,
    tags=["vessels"],
    summary="Declare the vessel sailing, due back at a time: overdue after it until back in its home port",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_VESSEL_NOT_FOUND},
)
def declare_departure(vessel_id: VesselId, body: DepartureCreate, session: WriteSessionDep, principal: VesselSkipper) -> VesselPublic:
    return sea_service.depart(session, principal, vessel_id, body)


@router.post(
    "/sos",
    response_model=SosIncidentPublic,
    status_code=201,
    tags=["sos"],
    summary="Raise an SOS for one's own vessel from the app (opens or updates its incident)",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_VESSEL_NOT_FOUND},
)
def create_sos(body: SosCreate, session: WriteSessionDep, principal: SosCaller) -> SosIncidentPublic:
    return sea_service.raise_sos(session, principal, body)


@router.get(
    "/sos",
    response_model=SosIncidentsPublic,
    tags=["sos"],
    summary="SOS incidents of the tenant, newest first",
    responses=AUTH_ERRORS,
)
def read_incidents(
    session: SessionDep,
    principal: SosResponder,
    open_only: Annotated[bool, Query(alias="open", description="Only incidents not yet resolved.")] = False,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> SosIncidentsPublic:
    return sea_service.list_incidents(session, principal.tenant, open_only, limit, offset)


@router.get(
    "/sos/{incident_id}",
    response_model=SosIncidentDetail,
    tags=["sos"],
    summary="One SOS incident: status, the vessel's track since the call, the nearest other vessels",
    description="The owner fisher of the vessel reads their own incident (is help coming?) without who took it "
    "on and without `nearest` (null: other vessels' positions are not theirs); another fisher's is a 404.",
    responses={**AUTH_ERRORS, **_OWN_INCIDENT_NOT_FOUND},
)
def read_incident(incident_id: SerialId, session: SessionDep, principal: SosReader) -> SosIncidentDetail:
    return sea_service.incident_detail(session, principal, incident_id)


@router.post(
    "/sos/{incident_id}/acknowledge",
    response_model=SosIncidentPublic,
    tags=["sos"],
    summary="Take the incident on (the boat's gateway is told, stops repeating and sounds its alarm)",
    responses={
        **AUTH_ERRORS,
        **BODY_ERRORS,
        **_INCIDENT_NOT_FOUND,
        409: {"model": ErrorPublic, "description": "The incident is resolved."},
    },
)
def acknowledge_incident(
    incident_id: SerialId, session: WriteSessionDep, principal: SosResponder, body: _ACTION_BODY = None
) -> SosIncidentPublic:
    return sea_service.acknowledge_incident(session, principal, incident_id, body.note if body else None)


@router.post(
    "/sos/{incident_id}/resolve",
    response_model=SosIncidentPublic,
    tags=["sos"],
    summary="End the incident (cleared and closed at once, with who, when and the note)",
    responses={**AUTH_ERRORS, **BODY_ERRORS, **_INCIDENT_NOT_FOUND},
)
def resolve_incident(
    incident_id: SerialId, session: WriteSessionDep, principal: SosResponder, body: _ACTION_BODY = None
) -> SosIncidentPublic:
    return sea_service.resolve_incident(session, principal, incident_id, body.note if body else None)
