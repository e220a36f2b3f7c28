"""`/alerts`: list, follow live, acknowledge and close alerts; CAP 1.2 messages and their index."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from api.deps import ConfigDep, EventHubDep, SessionDep, SettingsDep, WriteSessionDep
from api.models import (
    ActorRequest,
    AlertEventsPublic,
    AlertPublic,
    AlertsPublic,
    AlertStatusFilter,
    AlertType,
    ErrorPublic,
)
from api.services import alerts as alert_service
from api.services.cap import ATOM_MEDIA_TYPE, CAP_MEDIA_TYPE
from api.services.cap_publish import CapLinks, cap_feed, cap_message
from api.services.stream import StreamFilter, sse_stream

router = APIRouter(prefix="/alerts", tags=["alerts"])

AlertId = Annotated[int, Path(ge=1, le=2**63 - 1)]
StationQuery = Annotated[str | None, Query(max_length=64)]
TenantQuery = Annotated[str | None, Query(max_length=64)]
_NOT_FOUND = {404: {"model": ErrorPublic}}


def _links(request: Request) -> CapLinks:
    return CapLinks(alerts_url=str(request.url_for("read_alerts")), feed_url=str(request.url))


@router.get("", response_model=AlertsPublic, summary="Alerts, newest first")
def read_alerts(
    session: SessionDep,
    status: Annotated[AlertStatusFilter | None, Query(description="open = active or acknowledged")] = None,
    alert_type: Annotated[AlertType | None, Query(alias="type")] = None,
    station: StationQuery = None,
    tenant: TenantQuery = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AlertsPublic:
    return alert_service.list_alerts(session, status, alert_type, station, tenant, limit, offset)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    summary="Alert changes as Server-Sent Events",
    description="One event per alert change; `id` is its sequence number. Reconnect with the `Last-Event-ID` "
    "header (or `?after=`) to get everything after it, then live events. Idle streams carry `: keepalive` comments.",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_alerts(
    hub: EventHubDep,
    settings: SettingsDep,
    station: StationQuery = None,
    alert_type: Annotated[AlertType | None, Query(alias="type")] = None,
    tenant: TenantQuery = None,
    after: Annotated[int | None, Query(ge=0, description="Replay events after this sequence number.")] = None,
    last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0)] = None,
) -> StreamingResponse:
    events = sse_stream(
        hub,
        last_event_id if last_event_id is not None else after,
        StreamFilter(station=station, alert_type=alert_type, tenant=tenant),
        settings.stream_heartbeat_s,
        settings.stream_max_s,
    )
    return StreamingResponse(
        events, media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


@router.get(
    "/cap",
    response_class=Response,
    summary="Atom index of the current CAP messages",
    description="Alerts not yet closed, newest first, each linking to its latest CAP 1.2 message.",
    responses={200: {"content": {ATOM_MEDIA_TYPE: {}}}},
)
def read_cap_feed(
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    settings: SettingsDep,
    tenant: TenantQuery = None,
    station: StationQuery = None,
) -> Response:
    body = cap_feed(session, config, settings, _links(request), tenant, station)
    return Response(body, media_type=ATOM_MEDIA_TYPE)


@router.get("/{alert_id}", response_model=AlertPublic, summary="One alert", responses=_NOT_FOUND)
def read_alert(alert_id: AlertId, session: SessionDep) -> AlertPublic:
    return alert_service.get_alert(session, alert_id)


@router.get(
    "/{alert_id}/events", response_model=AlertEventsPublic, summary="History of one alert", responses=_NOT_FOUND
)
def read_alert_events(alert_id: AlertId, session: SessionDep) -> AlertEventsPublic:
    return alert_service.alert_history(session, alert_id)


@router.get(
    "/{alert_id}/cap",
    response_class=Response,
    summary="The alert as a CAP 1.2 message",
    description="Latest revision by default: msgType Alert, then Update, Cancel once cleared.",
    responses={200: {"content": {CAP_MEDIA_TYPE: {}}}, **_NOT_FOUND},
)
def read_alert_cap(
    alert_id: AlertId,
    request: Request,
    session: SessionDep,
    config: ConfigDep,
    settings: SettingsDep,
    revision: Annotated[int | None, Query(ge=1, description="An earlier revision, as `references` name them.")] = None,
) -> Response:
    body = cap_message(session, config, settings, alert_id, _links(request), revision)
    return Response(body, media_type=CAP_MEDIA_TYPE)


@router.post(
    "/{alert_id}/ack",
    response_model=AlertPublic,
    summary="Acknowledge an alert",
    responses={**_NOT_FOUND, 409: {"model": ErrorPublic, "description": "The alert is cleared or closed."}},
)
def ack_alert(alert_id: AlertId, body: ActorRequest, session: WriteSessionDep) -> AlertPublic:
    return alert_service.acknowledge_alert(session, alert_id, body.by)


@router.post(
    "/{alert_id}/close",
    response_model=AlertPublic,
    summary="Close a cleared alert",
    responses={**_NOT_FOUND, 409: {"model": ErrorPublic, "description": "The alert is not cleared yet."}},
)
def close_alert(alert_id: AlertId, body: ActorRequest, session: WriteSessionDep) -> AlertPublic:
    return alert_service.close_alert(session, alert_id, body.by)
