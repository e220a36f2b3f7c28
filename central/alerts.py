"""The alert lifecycle, in one place: open, update, escalate, acknowledge, clear, close.

Follows the ThingsBoard model that operators know: at most one open alert per station and
type; a repeat updates it instead of adding another. Types:

* `siaga`: Siaga 1-3 (severity critical, major, minor);
* `rate_of_rise`: a fast rise (warning), often hours ahead of any threshold downstream;
* `offline`: ingest heard nothing from the station for too long (warning), see `kinds.awlr.ingest.offline`;
* `forecast`: water expected from upstream (see `ingest.forecasts`);
* `gateway_health`: the gateway's site broker dropped device messages (warning), see
  `raise_gateway_health`; operational, so never published as CAP.

States: active -> acknowledged -> cleared -> closed. Ingest clears (the river or the station
came back); a person closes a cleared alert to file the episode. Every change appends an
`AlertEvent`, in the same transaction, recording who and when. Tepi choices on top of it:

* An escalation (a worse severity, e.g. Siaga 3 to Siaga 1) returns an acknowledged alert to
  `active`, because the operator acknowledged a smaller danger than the one now happening.
* Event times are the device's (when the river crossed the threshold); acknowledgement and
  closing times are the server's (when a person acted).
* Acknowledging or closing twice keeps the first: a retried request over a bad connection must
  not rewrite who acted.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.db import lock_event_log
from central.errors import AlertAlreadyCleared, AlertAlreadyClosed, AlertNotCleared, AlertNotFound
from central.models import (
    ALERT_ACKNOWLEDGED,
    ALERT_ACTIVE,
    ALERT_CLEARED,
    ALERT_CLOSED,
    ALERT_TYPE_GATEWAY_HEALTH,
    ALERT_TYPE_OFFLINE,
    ALERT_TYPE_RATE_OF_RISE,
    ALERT_TYPE_SIAGA,
    DEFAULT_ALERT_KIND,
    OPEN_STATUSES,
    SEVERITIES,
    Alert,
    AlertEvent,
    Station,
)
from contract.clock import utcnow


class AlertTransition(str, Enum):
    """What happened to an alert; the value is the event kind and a metric label."""

    OPENED = "opened"
    UPDATED = "updated"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    CLOSED = "closed"
    FORECAST_REFINED = "forecast_refined"
    CANCELLED = "cancelled"
DROPS_STOPPED = "drops_stopped"


#: Changes of what the public is told: each makes a new revision of the alert's CAP message.
#: Acknowledging and closing are operator bookkeeping and do not.
PUBLIC_KINDS = frozenset(
    {
        AlertTransition.OPENED,
        AlertTransition.UPDATED,
        AlertTransition.ESCALATED,
        AlertTransition.FORECAST_REFINED,
        AlertTransition.CLEARED,
        AlertTransition.CANCELLED,
    }
)

#: Actions of people: their event's `who` (and note) is personal data, unlike a gateway's or ingest's.
PERSON_KINDS = frozenset({AlertTransition.ACKNOWLEDGED, AlertTransition.CLOSED})

#: Why an alert cleared (`Alert.clear_reason`).
LEVEL_NORMAL = "level_normal"
RISE_OVER = "rise_over"
DATA_RETURNED = "data_returned"
CONFIRMED = "confirmed"
CANCELLED = "cancelled"

#: `who` of what ingest decides by itself (offline checks, forecast windows running out).
SYSTEM = "system"

SIAGA_SEVERITY = {1: "critical", 2: "major", 3: "minor"}
RATE_OF_RISE_SEVERITY = "warning"
OFFLINE_SEVERITY = "warning"
GATEWAY_HEALTH_SEVERITY = "warning"


#: `who` of a boat cancelling its own SOS call (`kinds.fishfinder.ingest.sos`).
DEVICE = "device"
#: `who` of an SOS raised from the fisher's app (`kinds.fishfinder.api.sea_service`).
APP = "app"
_GATEWAY_PREFIX = "gateway:"


def is_person(who: str | None) -> bool:
    """Whether `who` names a person (an operator who acknowledged, resolved or closed), not a
    gateway, a device or ingest itself: a person's name is personal data (UU 27/2022), hidden
    from viewers and erased by retention; a machine's is not."""
    return who is not None and who not in (SYSTEM, DEVICE, APP) and not who.startswith(_GATEWAY_PREFIX)


def gateway_actor(gateway: str) -> str:
    """`who` of a change caused by data: the gateway that reported it."""
    return f"{_GATEWAY_PREFIX}{gateway}"


def open_alert(session: Session, station_id: str, alert_type: str = ALERT_TYPE_SIAGA) -> Alert | None:
    """The one alert of this station and type that is active or acknowledged, if any."""
    stmt = sa.select(Alert).where(
        Alert.station_id == station_id, Alert.type == alert_type, Alert.status.in_(OPEN_STATUSES)
    )
    return session.scalars(stmt).one_or_none()


def open_subject_alert(session: Session, kind: str, subject: str, alert_type: str, *, tenant: str) -> Alert | None:
    """The one open alert of this tenant, kind, subject and type, if any: the rule for alerts
    that have no station (a vessel's SOS incident, an overdue vessel, a sea area).

    Scoped by tenant because a subject id need not be unique across tenants: neighbouring
    regencies watch the same forecast sea area (e.g. BMKG's Selat Badung), each with its own
    alert and limits (the one-open index `uq_alerts_one_open_per_subject_type` has the tenant
    too, revision 0004)."""
    stmt = sa.select(Alert).where(
        Alert.tenant_id == tenant, Alert.kind == kind, Alert.subject == subject, Alert.type == alert_type,
        Alert.status.in_(OPEN_STATUSES),
    )
    return session.scalars(stmt).one_or_none()


def alert_values(alert: Alert) -> dict[str, Any]:
    """Every column of the alert by name: what the API shows and what an event snapshots."""
    return {c.key: getattr(alert, c.key) for c in Alert.__table__.columns}


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def record_event(
    session: Session,
    alert: Alert,
    kind: AlertTransition,
    at: datetime,
    who: str | None,
    detail: dict[str, Any] | None = None,
) -> AlertEvent:
    """Append the event of a change just made to `alert` (the caller holds `lock_event_log`).

    A public change gets the next revision number before the snapshot is taken, so the event
    carries exactly the state that its CAP message describes.
    """
    if kind in PUBLIC_KINDS and kind is not AlertTransition.OPENED:
        alert.revision += 1
    session.flush()  # a new alert needs its id
    event = AlertEvent(
        alert_id=alert.id,
        tenant_id=alert.tenant_id,
        station_id=alert.station_id,
        alert_type=alert.type,
        alert_kind=alert.kind,
        subject=alert.subject,
        kind=kind.value,
        revision=alert.revision,
        at=at,
        recorded_at=utcnow(),
        who=who,
        payload={"alert": _json_safe(alert_values(alert)), "detail": detail or {}},
    )
    session.add(event)
    return event


def new_alert(
    session: Session,
    station: Station,
    alert_type: str,
    severity: str,
    siaga: int,
    level_cm: float | None,
    at: datetime,
    who: str | None,
    detail: dict[str, Any] | None = None,
    *,
    level_at: datetime | None,
    **fields: Any,
) -> Alert:
    """Open an alert of `alert_type` at `station` (the caller checked none is open); `level_at`
    is the device time of the reading `level_cm` comes from."""
    alert = Alert(
        tenant_id=station.tenant_id,
        kind=DEFAULT_ALERT_KIND,
        subject=station.id,
        station_id=station.id,
        type=alert_type,
        severity=severity,
        siaga=siaga,
        peak_siaga=siaga,
        status=ALERT_ACTIVE,
        revision=1,
        opened_at=at,
        updated_at=at,
        last_level_cm=level_cm,
        last_level_at=level_at if level_cm is not None else None,
        **fields,
    )
    session.add(alert)
    record_event(session, alert, AlertTransition.OPENED, at, who, detail)
    return alert


def set_severity(alert: Alert, severity: str) -> bool:
    """Move the alert to `severity`; True when that is worse, which re-activates an acknowledged alert."""
    worse = SEVERITIES.index(severity) < SEVERITIES.index(alert.severity)
    if worse:
        alert.status = ALERT_ACTIVE
        alert.acknowledged_at = None
        alert.acknowledged_by = None
    alert.severity = severity
    return worse


def raise_siaga(
    session: Session, station: Station, siaga: int, level_cm: float, at: datetime, who: str | None = None
) -> AlertTransition:
    """Record that `station` is at Siaga `siaga` (1..3) since `at`: open or update its alert."""
    if siaga not in SIAGA_SEVERITY:
        raise ValueError(f"Siaga {siaga} is not an alert level (1..3)")
    return _raise(session, station, ALERT_TYPE_SIAGA, SIAGA_SEVERITY[siaga], siaga, level_cm, at, who, None)


def raise_rate_of_rise(
    session: Session,
    station: Station,
    siaga: int,
    level_cm: float,
    rate_cm_per_h: float | None,
    at: datetime,
    who: str | None = None,
) -> AlertTransition:
    """Record a fast rise at `station`: the early warning that can come hours before Siaga 3.

    `siaga` is the station's level at the time (4 if still normal), shown with the alert.
    """
    return _raise(
        session, station, ALERT_TYPE_RATE_OF_RISE, RATE_OF_RISE_SEVERITY, siaga, level_cm, at, who, rate_cm_per_h
    )


def _raise(
    session: Session,
    station: Station,
    alert_type: str,
    severity: str,
    siaga: int,
    level_cm: float,
    at: datetime,
    who: str | None,
    rate_cm_per_h: float | None,
) -> AlertTransition:
    lock_event_log(session)
    alert = open_alert(session, station.id, alert_type)
    if alert is None:
        new_alert(
            session, station, alert_type, severity, siaga, level_cm, at, who, level_at=at, rate_cm_per_h=rate_cm_per_h
        )
        return AlertTransition.OPENED
    transition = AlertTransition.ESCALATED if set_severity(alert, severity) else AlertTransition.UPDATED
    alert.siaga = siaga
    alert.peak_siaga = min(alert.peak_siaga, siaga)
    alert.rate_cm_per_h = rate_cm_per_h
    alert.updated_at = max(alert.updated_at, at)
    # The level of this change, even if the alert showed a newer one: the event (and its CAP
    # message) says what happened at `at`. `follow_levels` brings the alert forward again.
    alert.last_level_cm, alert.last_level_at = level_cm, at
    record_event(session, alert, transition, at, who)
    return transition


def raise_offline(
    session: Session,
    station: Station,
    at: datetime,
    last_arrival_at: datetime | None,
    who: str = SYSTEM,
    opened_device_at: datetime | None = None,
) -> AlertTransition | None:
    """Open the offline alert of a silent station; None when one is open already (no news).

    `opened_device_at` is the station's clock at `at` (see `Alert.opened_device_at`): only a
    reading taken after it clears the alert.
    """
    lock_event_log(session)
    if open_alert(session, station.id, ALERT_TYPE_OFFLINE) is not None:
        return None
    new_alert(
        session,
        station,
        ALERT_TYPE_OFFLINE,
        OFFLINE_SEVERITY,
        station.last_siaga or 4,
        station.last_level_cm,
        at,
        who,
        {
            "last_arrival_at": last_arrival_at.isoformat() if last_arrival_at else None,
            "opened_device_at": opened_device_at.isoformat() if opened_device_at else None,
        },
        level_at=station.last_seen_at,
        last_arrival_at=last_arrival_at,
        opened_device_at=opened_device_at,
    )
    return AlertTransition.OPENED


def raise_gateway_health(
    session: Session, station: Station, at: datetime, who: str, detail: dict[str, Any]
) -> AlertTransition:
    """Open the health alert of the gateway that files under `station`, or update it with a new
    report (`detail`: which gateway, how many messages dropped in which interval).

    One open per gateway (its station); the gateway clears it when the drops stopped
    (`clear_alert` with `DROPS_STOPPED`). Lost readings cannot be fetched again, so it is not
    the river's state that ends it, nor an operator, who acknowledges and closes it as any other.
    """
    lock_event_log(session)
    alert = open_alert(session, station.id, ALERT_TYPE_GATEWAY_HEALTH)
    if alert is None:
        new_alert(
            session, station, ALERT_TYPE_GATEWAY_HEALTH, GATEWAY_HEALTH_SEVERITY, station.last_siaga or 4,
            station.last_level_cm, at, who, detail, level_at=station.last_seen_at,
        )
        return AlertTransition.OPENED
    alert.updated_at = max(alert.updated_at, at)
    record_event(session, alert, AlertTransition.UPDATED, at, who, detail)
    return AlertTransition.UPDATED


def finish(
    session: Session,
    alert: Alert,
    at: datetime,
    who: str | None,
    reason: str,
    kind: AlertTransition = AlertTransition.CLEARED,
    level_cm: float | None = None,
    detail: dict[str, Any] | None = None,
    level_at: datetime | None = None,
    siaga: int | None = None,
) -> AlertTransition:
    """Clear an open alert (kind `cleared`, or `cancelled` for a forecast that did not come true).

    `level_cm`, if given, is the level to show, read at `level_at` (default `at`); `siaga`, if
    given, the station's Siaga then (an alert shows the level at its latest update, and a Siaga
    alert cleared as level_normal must not go on saying SIAGA III).
    """
    alert.status = ALERT_CLEARED
    alert.cleared_at = at
    alert.cleared_by = who
    alert.clear_reason = reason
    alert.updated_at = max(alert.updated_at, at)
    if level_cm is not None:
        alert.last_level_cm, alert.last_level_at = level_cm, level_at or at
    if siaga is not None:
        alert.siaga = siaga
    record_event(session, alert, kind, at, who, {"reason": reason, **(detail or {})})
    return kind


def clear_alert(
    session: Session,
    station: Station,
    alert_type: str,
    level_cm: float | None,
    at: datetime,
    who: str | None = None,
    reason: str | None = None,
    level_at: datetime | None = None,
    siaga: int | None = None,
) -> AlertTransition | None:
    """Clear the open alert of this station and type (Siaga back to 4, the rise over, data back);
    `level_cm` was read at `level_at` (default `at`), when the station was at Siaga `siaga`."""
    lock_event_log(session)
    alert = open_alert(session, station.id, alert_type)
    if alert is None:
        return None
    default_reason = {ALERT_TYPE_RATE_OF_RISE: RISE_OVER, ALERT_TYPE_OFFLINE: DATA_RETURNED}.get(alert_type)
    reason = reason or default_reason or LEVEL_NORMAL
    return finish(session, alert, at, who, reason, level_cm=level_cm, level_at=level_at, siaga=siaga)


def _locked(session: Session, alert_id: int, tenant: str | None = None) -> Alert:
    """The alert, row-locked; `AlertNotFound` also for an alert of another tenant than `tenant`."""
    lock_event_log(session)
    stmt = sa.select(Alert).where(Alert.id == alert_id)
    if tenant is not None:
        stmt = stmt.where(Alert.tenant_id == tenant)
    alert = session.scalars(stmt.with_for_update()).one_or_none()
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert


def _note(note: str | None) -> dict[str, Any] | None:
    """The detail of a person's action: their note, if any (personal data: see `central.retention`)."""
    return {"note": note} if note else None


def acknowledge(
    session: Session, alert_id: int, by: str, now: datetime, *, tenant: str | None = None, note: str | None = None
) -> Alert:
    """Mark an open alert as seen by `by`; acknowledging twice keeps the first acknowledgement.

    `tenant` restricts the action to that tenant's alerts (others are `AlertNotFound`); `note`
    is kept in the event's detail. Raises `AlertNotFound`, `AlertAlreadyCleared` or
    `AlertAlreadyClosed`. Runs in the caller's transaction.
    """
    alert = _locked(session, alert_id, tenant)
    if alert.status == ALERT_CLOSED:
        raise AlertAlreadyClosed(alert_id)
    if alert.status == ALERT_CLEARED:
        raise AlertAlreadyCleared(alert_id)
    if alert.status == ALERT_ACKNOWLEDGED:
        return alert
    alert.status = ALERT_ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = by
    record_event(session, alert, AlertTransition.ACKNOWLEDGED, now, by, _note(note))
    session.flush()
    return alert


def close(
    session: Session, alert_id: int, by: str, now: datetime, *, tenant: str | None = None, note: str | None = None
) -> Alert:
    """File a cleared alert as closed by `by`; closing twice keeps the first.

    Raises `AlertNotFound` (also for another tenant's alert, given `tenant`), or
    `AlertNotCleared` for an alert still active or acknowledged: the river decides when an
    episode is over, not the operator.
    """
    alert = _locked(session, alert_id, tenant)
    if alert.status == ALERT_CLOSED:
        return alert
    if alert.status != ALERT_CLEARED:
        raise AlertNotCleared(alert_id, alert.status)
    alert.status = ALERT_CLOSED
    alert.closed_at = now
    alert.closed_by = by
    record_event(session, alert, AlertTransition.CLOSED, now, by, _note(note))
    session.flush()
    return alert

