"""SOS calls into incidents, and the status each call is answered with (decision 5).

An incident is an alert (kind 'fishfinder', type 'sos', subject the vessel, `central.incidents`):
every call of a vessel while one is open joins it (repeats of one press, or another press while
help is on its way); a cancel (`active` False) resolves it with who = 'device' once no press in
it is left uncancelled. Every stored call is answered with `SosStatus` to the vessel's gateway:
`received` while the incident is open and nobody took it on, `acknowledged` once an operator did
(the boat stops repeating), `resolved` once it is over. `poll` tells the boat at once when an
operator acts through the API.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.alerts import APP, AlertTransition
from central.incidents import raise_subject_alert, resolve
from central.models import ALERT_ACKNOWLEDGED, ALERT_ACTIVE, ALERT_TYPE_SOS, Alert, AlertEvent
from ingest.kind_interface import Downlink
from kinds.fishfinder.items import KIND, DistressCall, SosStatus
from kinds.fishfinder.state import SOS_ACKNOWLEDGED, SOS_RECEIVED, SOS_RESOLVED, SOS_STATUSES, SosCall, Vessel

#: `who` of a cancel sent by the boat itself.
DEVICE = "device"
SOS_SEVERITY = "critical"
_RANK = {status: n for n, status in enumerate(SOS_STATUSES)}


def status_of(alert_status: str) -> str:
    """What the boat is told for an incident in `alert_status`."""
    if alert_status == ALERT_ACTIVE:
        return SOS_RECEIVED
    if alert_status == ALERT_ACKNOWLEDGED:
        return SOS_ACKNOWLEDGED
    return SOS_RESOLVED


def reply(tenant: str, gateway: str, call: SosCall, status: str, at: datetime) -> Downlink:
    body = SosStatus(vessel=call.vessel_id, press=call.press, pressed_at=_pressed_at(call), incident=call.alert_id, status=status, at=at)  # type: ignore[arg-type]
    return Downlink(tenant, gateway, body.model_dump_json().encode())


def _pressed_at(call: SosCall) -> datetime | None:
    """The press time its id carries (`items.press_key`), None for an id of the older form."""
    parts = call.item_id.split(":")
    try:
        return datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=int(parts[-2])) if len(parts) >= 6 else None
    except ValueError:
        return None


def apply_call(
    session: Session, vessel: Vessel, item: DistressCall, item_id: str, gateway: str, now: datetime
) -> tuple[Downlink, AlertTransition | None]:
    """Record one call and its incident; returns the answer to publish after commit and what
    happened to the alert (None: nothing)."""
    transition: AlertTransition | None = None
    detail = {"press": item.press, "repeat": item.repeat, "nature": item.nature, "lat": item.lat, "lon": item.lon}
    open_incident = session.scalars(
        sa.select(Alert).where(
            Alert.kind == KIND, Alert.subject == vessel.id, Alert.type == ALERT_TYPE_SOS,
            Alert.status.in_((ALERT_ACTIVE, ALERT_ACKNOWLEDGED)),
        )
    ).one_or_none()
    of_press = _incident_of_press(session, vessel.id, item)
    if item.active:
        if of_press is not None and (open_incident is None or open_incident.id != of_press):
            alert = session.get(Alert, of_press)  # a late repeat of a press whose incident is over
            assert alert is not None
        else:
            alert, transition = raise_subject_alert(
                session, tenant=vessel.tenant_id, kind=KIND, subject=vessel.id, alert_type=ALERT_TYPE_SOS,
                severity=SOS_SEVERITY, at=item.ts, who=f"gateway:{gateway}", detail=detail,
            )
            if transition is AlertTransition.UPDATED and of_press is not None:
                transition = None  # a repeat: the incident already knows this press
    else:
        target = of_press  # the press's own incident, never another open one
        if target is None and open_incident is not None:
            alert = open_incident  # a cancel of a press never received while another is open: on record, not resolving it
        elif target is None:  # a cancel of a call never received: still an incident on record
            alert, _ = raise_subject_alert(
                session, tenant=vessel.tenant_id, kind=KIND, subject=vessel.id, alert_type=ALERT_TYPE_SOS,
                severity=SOS_SEVERITY, at=item.ts, who=f"gateway:{gateway}", detail=detail,
            )
            target = alert.id
        if target is not None and _presses_held(session, target, item):
            alert = session.get(Alert, target)  # another press joined it and is not cancelled: still on
            assert alert is not None
        elif target is not None:
            alert = resolve(session, target, DEVICE, now, note="cancelled on board")
            transition = AlertTransition.CLOSED
    status = status_of(alert.status)
    call = SosCall(
        item_id=item_id, alert_id=alert.id, tenant_id=vessel.tenant_id, vessel_id=vessel.id, gateway=gateway,
        press=item.press, repeat=item.repeat, ts=item.ts, lat=item.lat, lon=item.lon, nature=item.nature,
        active=item.active, received_at=now, status_sent=status,
    )
    session.add(call)
    return reply(vessel.tenant_id, gateway, call, status, now), transition


def _press_prefix(item: DistressCall) -> str:
    """The id prefix all calls of the item's press share (`items.press_key`): `...:<repeat>` cut."""
    return _prefix(item.id)


def _prefix(item_id: str) -> str:
    return item_id.rsplit(":", 1)[0] + ":"


def _presses_held(session: Session, alert_id: int, cancel: DistressCall) -> bool:
    """Whether incident `alert_id` holds a press no cancel has reached yet, besides the one
    `cancel` cancels. Calls can arrive out of order (what a restarted broker takes before ingest
    subscribes again is sent again after the gateway's ack timeout): a press delivered late joins
    whatever incident is open, and its cancel must not close another press's SOS. An incident
    someone also raised from the app (`central.alerts.APP`) is held as well: a cancel on board
    says the button was a mistake, not that the app's call was."""
    if session.scalar(sa.select(sa.exists().where(AlertEvent.alert_id == alert_id, AlertEvent.who == APP))):
        return True  # raised from the app too (a man overboard seen from a phone): only an operator ends it
    calls = session.execute(sa.select(SosCall.item_id, SosCall.active).where(SosCall.alert_id == alert_id)).all()
    pressed = {_prefix(item_id) for item_id, active in calls if active}
    cancelled = {_prefix(item_id) for item_id, active in calls if not active} | {_prefix(cancel.id)}
    return bool(pressed - cancelled)


def _incident_of_press(session: Session, vessel_id: str, item: DistressCall) -> int | None:
    """The incident of this very press (number and press time, by its ids), else None: a new
    trip's press 1 is not last trip's."""
    return session.scalar(
        sa.select(SosCall.alert_id)
        .where(SosCall.vessel_id == vessel_id, SosCall.press == item.press, SosCall.item_id.startswith(_press_prefix(item), autoescape=True))
        .order_by(SosCall.received_at.desc()).limit(1)
    )


def answer_again(session: Session, tenant: str, gateway: str, item: DistressCall, now: datetime) -> Downlink | None:
    """A call ingest already has (redelivered after a lost acknowledgement): answered with its
    incident's current status, so the boat always hears back."""
    call = session.scalars(sa.select(SosCall).where(SosCall.item_id == item.id)).one_or_none()
    if call is None or call.tenant_id != tenant:
        return None
    alert = session.get(Alert, call.alert_id)
    if alert is None:
        return None
    status = status_of(alert.status)
    call.status_sent = max(call.status_sent, status, key=_RANK.__getitem__)
    return reply(tenant, gateway, call, status, now)


def poll(session: Session, now: datetime) -> list[Downlink]:
    """Incidents an operator acknowledged or resolved whose status the boat was not told yet:
    answer the newest call of each (its gateway) and remember it was told. Marked before the
    publish: should that fail, the boat repeats its call and the repeat is answered anyway."""
    rank = sa.case(_RANK, value=SosCall.status_sent)
    wanted = sa.case((Alert.status == ALERT_ACKNOWLEDGED, _RANK[SOS_ACKNOWLEDGED]), else_=_RANK[SOS_RESOLVED])
    pending = session.execute(
        sa.select(SosCall.alert_id, Alert.status)
        .join(Alert, Alert.id == SosCall.alert_id)
        .where(Alert.kind == KIND, Alert.type == ALERT_TYPE_SOS, Alert.status != ALERT_ACTIVE)
        .group_by(SosCall.alert_id, Alert.status)
        .having(sa.func.max(rank) < wanted)
    ).all()
    out = []
    for alert_id, alert_status in pending:
        call = session.scalars(
            sa.select(SosCall).where(SosCall.alert_id == alert_id).order_by(SosCall.received_at.desc(), SosCall.repeat.desc()).limit(1)
        ).one()
        status = status_of(alert_status)
        call.status_sent = status
        out.append(reply(call.tenant_id, call.gateway, call, status, now))
    return out
