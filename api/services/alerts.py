"""Alert listing, history, acknowledgement and closing; the lifecycle rules live in `central.alerts`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.models import AlertEventPublic, AlertEventsPublic, AlertPublic, AlertsPublic, AlertStatusFilter, AlertType
from api.services.alert_words import alert_words, level_label
from central import alerts as lifecycle
from central.errors import AlertNotFound
from central.models import OPEN_STATUSES, Alert, AlertEvent
from contract.clock import utcnow

log = logging.getLogger(__name__)


def public_from_values(values: Mapping[str, Any]) -> AlertPublic:
    """The public shape of an alert from its column values: a row's, or a snapshot in an event.

    Snapshots hold the same names (datetimes as ISO strings, which the model parses), so an
    alert reads the same live, in its history and in the stream.
    """
    station = values.get("station_id")
    # Stored for every alert (a column without nulls), but a level only of a station's: a
    # vessel's alert carries the default 4, which would read "level 4".
    siaga = values["siaga"] if station is not None else None
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
            "kind": values.get("kind") or "awlr",
            "subject": values.get("subject") or station,
            "station": station,
            "type": values["type"],
            "severity": values["severity"],
            "siaga": siaga,
            "siaga_label": level_label(values["type"], siaga) if siaga is not None else None,
            "peak_siaga": values["peak_siaga"] if station is not None else None,
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
            "last_level_at": values.get("last_level_at"),
            "forecast": forecast,
            "last_arrival_at": values.get("last_arrival_at"),
        }
    )


def alert_public(alert: Alert) -> AlertPublic:
    return public_from_values(lifecycle.alert_values(alert))


_PERSON_KINDS = frozenset(k.value for k in lifecycle.PERSON_KINDS)


#: The kind whose alert subjects are public places (river stations). Any other kind's subject
#: (a vessel) names a boat and its crew: viewers, who see no names, do not get it, unless the
#: words of the alert's type say its subject is a public place (`public_subject`: a sea area).
PUBLIC_SUBJECT_KIND = "awlr"


def public_subject(alert: AlertPublic) -> bool:
    """Whether the alert's subject (and its events' detail) is a public place, not a boat."""
    return alert.kind == PUBLIC_SUBJECT_KIND or bool(getattr(alert_words(alert.type), "public_subject", False))


def without_actors(alert: AlertPublic) -> AlertPublic:
    """The alert without the names of whoever acted on it (personal data: acknowledged, cleared
    or closed by), nor, for a kind whose subject is no public place (a vessel), its subject."""
    private_subject = alert.subject is not None and not public_subject(alert)
    if alert.acknowledged_by is None and alert.closed_by is None and alert.cleared_by is None and not private_subject:
        return alert
    update: dict[str, Any] = {"acknowledged_by": None, "closed_by": None, "cleared_by": None}
    if private_subject:
        update["subject"] = None
    return alert.model_copy(update=update)


def event_without_actors(event: AlertEventPublic) -> AlertEventPublic:
    """The event without people's names or notes; gateways and "system" stay. For a kind whose
    subject is no public place (a vessel's SOS), the detail (positions, nature, who raised it)
    and `who` (the boat's gateway) go too: viewers never see where a boat is or which it is."""
    if not public_subject(event.alert):
        return event.model_copy(update={"who": None, "detail": {}, "alert": without_actors(event.alert)})
    person = event.kind in _PERSON_KINDS or lifecycle.is_person(event.who)
    return event.model_copy(
        update={
            "who": None if person else event.who,
            "detail": {k: v for k, v in event.detail.items() if k != "note"},
            "alert": without_actors(event.alert),
        }
    )


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
    tenant: str,
    limit: int,
    offset: int,
    show_actors: bool = True,
) -> AlertsPublic:
    """One page of the tenant's alerts, newest opened first, with the total count for paging."""
    conditions: list[sa.ColumnElement[bool]] = [Alert.tenant_id == tenant]
    if status == "open":
        conditions.append(Alert.status.in_(OPEN_STATUSES))
    elif status is not None:
        conditions.append(Alert.status == status)
    if alert_type is not None:
        conditions.append(Alert.type == alert_type)
    if station is not None:
        conditions.append(Alert.station_id == station)
    total = session.scalar(sa.select(sa.func.count()).select_from(Alert).where(*conditions)) or 0
    page = session.scalars(
        sa.select(Alert)
        .where(*conditions)
        .order_by(Alert.opened_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    alerts = [alert_public(a) for a in page]
    if not show_actors:
        alerts = [without_actors(a) for a in alerts]
    return AlertsPublic(data=alerts, count=int(total), limit=limit, offset=offset)


def tenant_alert(session: Session, tenant: str, alert_id: int) -> Alert:
    """The alert if it is the tenant's; `AlertNotFound` otherwise (another tenant's does not exist)."""
    alert = session.get(Alert, alert_id)
    if alert is None or alert.tenant_id != tenant:
        raise AlertNotFound(alert_id)
    return alert


def get_alert(session: Session, tenant: str, alert_id: int, show_actors: bool = True) -> AlertPublic:
    public = alert_public(tenant_alert(session, tenant, alert_id))
    return public if show_actors else without_actors(public)


def alert_history(
    session: Session, tenant: str, alert_id: int, limit: int = 500, offset: int = 0, show_actors: bool = True
) -> AlertEventsPublic:
    """Changes of one alert, oldest first (one page): who did what when."""
    tenant_alert(session, tenant, alert_id)
    where = AlertEvent.alert_id == alert_id
    total = session.scalar(sa.select(sa.func.count()).select_from(AlertEvent).where(where)) or 0
    page = session.scalars(sa.select(AlertEvent).where(where).order_by(AlertEvent.seq).limit(limit).offset(offset))
    events = [event_public(e) for e in page]
    if not show_actors:
        events = [event_without_actors(e) for e in events]
    return AlertEventsPublic(data=events, count=int(total), limit=limit, offset=offset)


def acknowledge_alert(session: Session, tenant: str, alert_id: int, by: str, note: str | None = None) -> AlertPublic:
    """Acknowledge and commit; `AlertNotFound` / `AlertAlreadyCleared` propagate as 404 / 409."""
    return _act(session, lifecycle.acknowledge, tenant, alert_id, by, note, "acknowledged")


def close_alert(session: Session, tenant: str, alert_id: int, by: str, note: str | None = None) -> AlertPublic:
    """Close a cleared alert and commit; `AlertNotCleared` propagates as 409."""
    return _act(session, lifecycle.close, tenant, alert_id, by, note, "closed")


def _act(
    session: Session,
    action: Callable[..., Alert],
    tenant: str,
    alert_id: int,
    by: str,
    note: str | None,
    what: str,
) -> AlertPublic:
    with session.begin():
        public = alert_public(action(session, alert_id, by, utcnow(), tenant=tenant, note=note))
    # Who acted is personal data: it is stored and returned, not logged.
    log.info(f"alert {what}", extra={"alert_id": alert_id, "tenant": public.tenant, "station": public.station})
    return public
