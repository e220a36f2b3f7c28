"""`/alerts`: list, follow live, acknowledge and close alerts; CAP 1.2 messages and their index."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.routing import NoMatchFound

from api.deps import (
    AlertActor,
    AlertReader,
    ConfigDep,
    EventHubDep,
    PageLimit,
    PageOffset,
    PublicRateLimit,
    SessionDep,
    SettingsDep,
    WriteSessionDep,
    shows_actors,
)
from api.models import (
    ActionRequest,
    AlertEventsPublic,
    AlertPublic,
    AlertsPublic,
    AlertStatusFilter,
    AlertType,
    ErrorPublic,
)
from api.routes import AUTH_ERRORS, BODY_ERRORS, PUBLIC_ERRORS, IdentifierQuery, cacheable
from api.services import alerts as alert_service
from api.services.cap import ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE
from api.services.cap_publish import FEED_MAX, CapLinks, cap_feed, cap_message
from api.services.stream import StreamFilter, sse_stream

router = APIRouter(prefix="/alerts", tags=["alerts"])

#: Alert ids are 32-bit serials on PostgreSQL: larger numbers are no id at all (422, not a database error).
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]
StationQuery = IdentifierQuery
_NOT_FOUND = {404: {"model": ErrorPublic, "description": "No such alert in the caller's tenant."}}
_SEQ_MAX = 2**63 - 1


def _public_view(request: Request, base: str) -> str | None:
    """The public stations view, if a kind serves one (the river's `GET /public/stations`)."""
    try:
        return f"{base}{request.app.url_path_for('read_public_stations')}"
    except NoMatchFound:
        return None


def _links(request: Request, **feed_query: str | int | None) -> CapLinks:
    """Links under the configured public base URL, never the request's Host (which the client picks,
    while these answers are public and cacheable); the feed's own link carries only its validated query."""
    base: str = request.app.state.public_base_url
    query = urlencode({k: v for k, v in feed_query.items() if v is not None})
    feed = f"{base}{request.app.url_path_for('read_cap_feed')}"
    return CapLinks(
        alerts_url=f"{base}{request.app.url_path_for('read_alerts')}",
        feed_url=f"{feed}?{query}" if query else feed,
        public_url=_public_view(request, base),
    )


@router.get("", response_model=AlertsPublic, summary="Alerts of the caller's tenant, newest first", responses=AUTH_ERRORS)
def read_alerts(
    session: SessionDep,
    principal: AlertReader,
    status: Annotated[AlertStatusFilter | None, Query(description="open = active or acknowledged")] = None,
    alert_type: Annotated[AlertType | None, Query(alias="type")] = None,
    station: StationQuery = None,
    limit: PageLimit = 50,
    offset: PageOffset = 0,
) -> AlertsPublic:
    return alert_service.list_alerts(
        session, status, alert_type, station, principal.tenant, limit, offset, shows_actors(principal)
    )


@router.get(
    "/stream",
    response_class=StreamingResponse,
    summary="Alert changes of the caller's tenant as Server-Sent Events",
    description="One event per alert change; `id` is its sequence number. Reconnect with the `Last-Event-ID` "
    "header (or `?after=`) to get everything after it, then live events. Idle streams carry `: keepalive` comments.",
    responses={200: {"content": {"text/event-stream": {}}}, **AUTH_ERRORS},
)
async def stream_alerts(
    hub: EventHubDep,
    settings: SettingsDep,
    principal: AlertReader,
    station: StationQuery = None,
    alert_type: Annotated[AlertType | None, Query(alias="type")] = None,
    after: Annotated[int | None, Query(ge=0, le=_SEQ_MAX, description="Replay events after this sequence number.")] = None,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=_SEQ_MAX)] = None,
) -> StreamingResponse:
    events = sse_stream(
        hub,
        last_event_id if last_event_id is not None else after,
        StreamFilter(station=station, alert_type=alert_type, tenant=principal.tenant),
        settings.stream_heartbeat_s,
        settings.stream_max_s,
        show_actors=shows_actors(principal),
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.get(
    "/cap",
    response_class=Response,
    summary="Atom index of the current CAP messages (public)",
    description="Alerts not yet closed, newest first, each linking to its latest CAP 1.2 message. Public, "
    "like the messages: no credentials, rate limited per client, cacheable.",
    responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}, **PUBLIC_ERRORS},
)
def read_cap_feed(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    settings: SettingsDep,
    _limited: PublicRateLimit,
    tenant: IdentifierQuery = None,
    station: StationQuery = None,
    limit: Annotated[int, Query(ge=1, le=FEED_MAX)] = FEED_MAX,
    offset: PageOffset = 0,
) -> Response:
    links = _links(
        request,
        tenant=tenant,
        station=station,
        limit=limit if limit != FEED_MAX else None,
        offset=offset or None,
    )
    body = cap_feed(session, config, settings, links, tenant, station, limit, offset)
    return cacheable(request, body, ATOM_MEDIA_TYPE, settings.public_max_age_s)


@router.get(
    "/{alert_id}",
    response_model=AlertPublic,
    summary="One alert",
    responses={**AUTH_ERRORS, **_NOT_FOUND},
)
def read_alert(alert_id: AlertId, session: SessionDep, principal: AlertReader) -> AlertPublic:
    return alert_service.get_alert(session, principal.tenant, alert_id, shows_actors(principal))


@router.get(
    "/{alert_id}/events",
    response_model=AlertEventsPublic,
    summary="History of one alert",
    responses={**AUTH_ERRORS, **_NOT_FOUND},
)
def read_alert_events(
    alert_id: AlertId,
    session: SessionDep,
    principal: AlertReader,
    limit: PageLimit = 500,
    offset: PageOffset = 0,
) -> AlertEventsPublic:
    return alert_service.alert_history(session, principal.tenant, alert_id, limit, offset, shows_actors(principal))


@router.get(
    "/{alert_id}/cap",
    response_class=Response,
    summary="The alert as a CAP 1.2 message (public)",
    description="Latest revision by default: msgType Alert, then Update, Cancel once cleared. Public warnings, "
    "as BMKG publishes them: no credentials, and no personal data in them.",
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}}, **PUBLIC_ERRORS, **_NOT_FOUND},
)
def read_alert_cap(
    alert_id: AlertId,
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    settings: SettingsDep,
    _limited: PublicRateLimit,
    revision: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="An earlier revision, as `references` name them.")
    ] = None,
) -> Response:
    body = cap_message(session, config, settings, alert_id, _links(request), revision)
    return cacheable(request, body, CAP_MEDIA_TYPE, settings.public_max_age_s)


_ACTION_BODY = Annotated[ActionRequest | None, Body(description="Optional note; who acts is the caller.")]


@router.post(
    "/{alert_id}/ack",
    response_model=AlertPublic,
    summary="Acknowledge an alert (as the authenticated user)",
    responses={
        **AUTH_ERRORS,
        **BODY_ERRORS,
        **_NOT_FOUND,
        409: {"model": ErrorPublic, "description": "The alert is cleared or closed."},
    },
)
def ack_alert(
    alert_id: AlertId, session: WriteSessionDep, principal: AlertActor, body: _ACTION_BODY = None
) -> AlertPublic:
    note = body.note if body is not None else None
    return alert_service.acknowledge_alert(session, principal.tenant, alert_id, principal.name, note)


@router.post(
    "/{alert_id}/close",
    response_model=AlertPublic,
    summary="Close a cleared alert (as the authenticated user)",
    responses={
        **AUTH_ERRORS,
        **BODY_ERRORS,
        **_NOT_FOUND,
        409: {"model": ErrorPublic, "description": "The alert is not cleared yet."},
    },
)
def close_alert(
    alert_id: AlertId, session: WriteSessionDep, principal: AlertActor, body: _ACTION_BODY = None
) -> AlertPublic:
    note = body.note if body is not None else None
    return alert_service.close_alert(session, principal.tenant, alert_id, principal.name, note)
