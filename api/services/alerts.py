"""Alert listing, history, acknowledgement and closing; the lifecycle rules live in `ingest.alerts`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.models import AlertEventPublic, AlertEventsPublic, AlertPublic, AlertsPublic, AlertStatusFilter, AlertType
from gateway.siaga import SiagaLevel
from ingest import alerts as lifecycle
from ingest.errors import AlertNotFound
from ingest.models import OPEN_STATUSES, Alert, AlertEvent
from tepi.messages import utcnow

log = logging.getLogger(__name__)


def public_from_values(values: Mapping[str, Any]) -> AlertPublic:
    """The public shape of an alert from its column values: a row's, or a snapshot in an event.

    Snapshots hold the same names (datetimes as ISO strings, which the model parses), so an
    alert reads the same live, in its history and in the stream.
    """
    forecast = None
    if values.get("type") == "forecast" and values.get("upstream_station_id"):
        forecast = {
            "upstream_station": values["upstream_station_id"],
            "upstream_siaga": values["upstream_siaga"],
            "upstream_level_cm": values.get("upstream_level_cm"),
            "expected_from": values["expected_from"],
            "expected_until": values["expected_until"],
        }
    return AlertPublic.model_validate(
        {
            "id": values["id"],
            "tenant": values["tenant_id"],
            "station": values["station_id"],
            "type": values["type"],
            "severity": values["severity"],
            "siaga": values["siaga"],
            "siaga_label": SiagaLevel(values["siaga"]).label,
            "peak_siaga": values["peak_siaga"],
            "rate_cm_per_h": values.get("rate_cm_per_h"),
            "status": values["status"],
            "revision": values.get("revision", 1),
            "opened_at": values["opened_at"],
            "updated_at": values["updated_at"],
            "acknowledged_at": values.get("acknowledged_at"),
            "acknowledged_by": values.get("acknowledged_by"),
            "cleared_at": values.get("cleared_at"),
            "cleared_by": values.get("cleared_by"),
            "clear_reason": values.get("clear_reason"),
            "closed_at": values.get("closed_at"),
            "closed_by": values.get("closed_by"),
            "last_level_cm": values.get("last_level_cm"),
            "forecast": forecast,
            "last_arrival_at": values.get("last_arrival_at"),
        }
    )


def alert_public(alert: Alert) -> AlertPublic:
    return public_from_values(lifecycle.alert_values(alert))


def event_public(event: AlertEvent) -> AlertEventPublic:
    """An event as the stream and the history show it, with the alert as it was then."""
    return AlertEventPublic(
        seq=event.seq,
        alert_id=event.alert_id,
        kind=event.kind,  # type: ignore[arg-type]  # checked by the table constraint
        revision=event.revision,
        at=event.at,
        recorded_at=event.recorded_at,
        who=event.who,
        detail=dict(event.payload.get("detail") or {}),
        alert=public_from_values(event.payload["alert"]),
    )


def list_alerts(
    session: Session,
    status: AlertStatusFilter | None,
    alert_type: AlertType | None,
    station: str | None,
    tenant: str | None,
    limit: int,
    offset: int,
) -> AlertsPublic:
    """One page of alerts, newest opened first, with the total count for paging."""
    conditions: list[sa.ColumnElement[bool]] = []
    if status == "open":
        conditions.append(Alert.status.in_(OPEN_STATUSES))
    elif status is not None:
        conditions.append(Alert.status == status)
    if alert_type is not None:
        conditions.append(Alert.type == alert_type)
    if station is not None:
        conditions.append(Alert.station_id == station)
    if tenant is not None:
        conditions.append(Alert.tenant_id == tenant)
    total = session.scalar(sa.select(sa.func.count()).select_from(Alert).where(*conditions)) or 0
    page = session.scalars(
        sa.select(Alert)
        .where(*conditions)
        .order_by(Alert.opened_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return AlertsPublic(data=[alert_public(a) for a in page], count=int(total), limit=limit, offset=offset)


def get_alert(session: Session, alert_id: int) -> AlertPublic:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert_public(alert)


def alert_history(session: Session, alert_id: int) -> AlertEventsPublic:
    """Every change of one alert, oldest first: who did what when."""
    if session.get(Alert, alert_id) is None:
        raise AlertNotFound(alert_id)
    events = [
        event_public(e)
        for e in session.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.seq))
    ]
    return AlertEventsPublic(data=events, count=len(events))


def acknowledge_alert(session: Session, alert_id: int, by: str) -> AlertPublic:
    """Acknowledge and commit; `AlertNotFound` / `AlertAlreadyCleared` propagate as 404 / 409."""
    return _act(session, lifecycle.acknowledge, alert_id, by, "acknowledged")


def close_alert(session: Session, alert_id: int, by: str) -> AlertPublic:
    """Close a cleared alert and commit; `AlertNotCleared` propagates as 409."""
    return _act(session, lifecycle.close, alert_id, by, "closed")


def _act(session: Session, action: Callable[..., Alert], alert_id: int, by: str, what: str) -> AlertPublic:
    with session.begin():
        public = alert_public(action(session, alert_id, by, utcnow()))
    # Who acted is personal data: it is stored and returned, not logged.
    log.info(f"alert {what}", extra={"alert_id": alert_id, "tenant": public.tenant, "station": public.station})
    return public
