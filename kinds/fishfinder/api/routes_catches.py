"""`/catches` (a fisher's own), `/catches/aggregates` (anonymised statistics) and `/market`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import PageLimit, PageOffset, SessionDep, WriteSessionDep
from api.models import ErrorPublic, RequestDatetime
from api.routes import AUTH_ERRORS, BODY_ERRORS
from kinds.fishfinder.api import catch_service
from kinds.fishfinder.api.catch_models import (
    CatchAggregatesPublic,
    CatchCreate,
    CatchesPublic,
    CatchPublic,
    ContactCreate,
    ContactCreated,
    ContactsPublic,
    MarketPublic,
    Species,
)
from kinds.fishfinder.api.deps import CatchRecorder, CatchStatistician, MarketUser, SerialId

router = APIRouter(tags=["catches"])

_CATCH_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such catch of the caller (or for sale in the tenant)."}}
_TIME = "With a UTC offset (`Z`, `+07:00` written `%2B07:00`)."


@router.post(
    "/catches",
    response_model=CatchPublic,
    status_code=201,
    summary="Record a catch (fisher)",
    responses={**AUTH_ERRORS, **BODY_ERRORS, 404: {"model": ErrorPublic, "description": "The vessel is not the caller's."}},
)
def create_catch(body: CatchCreate, session: WriteSessionDep, principal: CatchRecorder) -> CatchPublic:
    return catch_service.record_catch(session, principal, body)


@router.get("/catches", response_model=CatchesPublic, summary="The caller's own catches, newest first", responses=AUTH_ERRORS)
def read_catches(session: SessionDep, principal: CatchRecorder, limit: PageLimit = 50, offset: PageOffset = 0) -> CatchesPublic:
    return catch_service.own_catches(session, principal, limit, offset)


@router.get(
    "/catches/contacts",
    response_model=ContactsPublic,
    summary="Messages from buyers about the caller's catches for sale",
    responses=AUTH_ERRORS,
)
def read_contacts(session: SessionDep, principal: CatchRecorder, limit: PageLimit = 50, offset: PageOffset = 0) -> ContactsPublic:
    return catch_service.own_contacts(session, principal, limit, offset)


@router.get(
    "/catches/aggregates",
    response_model=CatchAggregatesPublic,
    summary="Catches by 0.1° cell, species and ISO week; groups of fewer than 3 fishers suppressed",
    description="The window is widened to whole ISO weeks (Monday 00:00 UTC) and spans at most 371 days. "
    "No fisher, vessel or catch id, no exact position or time: k-anonymous groups (k = 3 distinct fishers).",
    responses=AUTH_ERRORS,
)
def read_catch_aggregates(
    session: SessionDep,
    principal: CatchStatistician,
    since: Annotated[RequestDatetime, Query(description=_TIME)],
    until: Annotated[RequestDatetime, Query(description=_TIME)],
) -> CatchAggregatesPublic:
    return catch_service.catch_aggregates(session, principal.tenant, since, until)


@router.get(
    "/catches/{catch_id}",
    response_model=CatchPublic,
    summary="One of the caller's own catches",
    responses={**AUTH_ERRORS, **_CATCH_NOT_FOUND},
)
def read_catch(catch_id: SerialId, session: SessionDep, principal: CatchRecorder) -> CatchPublic:
    return catch_service.own_catch(session, principal, catch_id)


@router.get(
    "/market",
    response_model=MarketPublic,
    tags=["market"],
    summary="The tenant's catches for sale: species, weight, price, port, time; never who or where",
    responses=AUTH_ERRORS,
)
def read_market(
    session: SessionDep,
    principal: MarketUser,
    species: Annotated[Species | None, Query()] = None,  # type: ignore[valid-type]
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> MarketPublic:
    return catch_service.market(session, principal.tenant, species, limit, offset)


@router.post(
    "/market/{catch_id}/contact",
    response_model=ContactCreated,
    status_code=201,
    tags=["market"],
    summary="Send the fisher a message about a catch for sale (stored; the fisher reads it in the app)",
    responses={
        **AUTH_ERRORS,
        **BODY_ERRORS,
        **_CATCH_NOT_FOUND,
        429: {"model": ErrorPublic, "description": "Too many messages about this catch from the caller."},
    },
)
def contact_seller(catch_id: SerialId, body: ContactCreate, session: WriteSessionDep, principal: MarketUser) -> ContactCreated:
    return catch_service.contact_fisher(session, principal, catch_id, body.message)
