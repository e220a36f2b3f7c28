"""Retention: personal data and bookkeeping rows are kept only as long as the policy says.

Personal data (UU 27/2022 on personal data protection) in the state store today is *who* acted
on an alert: `alerts.acknowledged_by` / `cleared_by` / `closed_by`, the `who` and the note of
`acknowledged` / `closed` events and of `cleared` events a person caused (an operator resolving an
SOS; `central.alerts.is_person`), and the copies of the alert inside every later event's snapshot. After
`alert_actor_days`, counted from the action itself, all of them are erased (set to null); the
times stay, so the history still shows *that* and *when* someone acted, no longer *who*.
CAP messages never carry actors, so erasing changes no published message.

Who was told of an alert, and where (`notification_deliveries.target`: an email address or a
webhook URL), is personal data too: a delivery's row goes `notification_days` after it was owed,
once its alert is no longer active. An active alert's rows are the notifier's memory of the
escalation steps it has taken (gone, every step would be sent again), so only their target is
erased.

Bookkeeping rows go entirely: idempotency keys after `processed_messages_days` (keep them
longer than any outage a gateway outbox can bridge), the console's sessions a day after they
ended (signed out, or past their absolute end), and, if configured, the embedded level series
after `level_points_days`.

A kind's own tables of personal data are its to prune: each registered kind's `state` module's
`enforce_retention(session, now, policy)`, if it has one, runs here too (`kinds.fishfinder.state`:
vessel positions after `position_days`), and adds its counts.

`enforce_retention` runs in the caller's transaction with an injectable `now`; the ingest worker
calls it periodically and `tepi admin retention run` on demand. Running it twice does nothing
the second time.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, Session

from central.alerts import APP, DEVICE, PERSON_KINDS, SYSTEM, AlertTransition, is_person
from central.db import lock_event_log
from central.models import ALERT_ACTIVE, Alert, AlertEvent, LevelPoint, ProcessedMessage
from central.reach_models import NotificationDelivery, WebSession
from central.schema import kind_state_modules
from core.config import RetentionConfig

log = logging.getLogger(__name__)

_PERSON = sorted(k.value for k in PERSON_KINDS)
_ACTOR_FIELDS = (("acknowledged_by", "acknowledged_at"), ("cleared_by", "cleared_at"), ("closed_by", "closed_at"))
_CLEARED = AlertTransition.CLEARED.value
_CHUNK = 500
#: What an erased delivery target reads (the column is not nullable).
ERASED = ""
#: How long an ended console session stays (sign-in prunes a user's own ended sessions at once).
ENDED_SESSION_KEPT = timedelta(days=1)


def enforce_retention(session: Session, now: datetime, policy: RetentionConfig) -> dict[str, int]:
    """Erase or delete what is older than `policy` allows, as of `now`; returns counts by kind:

    * `alert_actors`: actor fields erased on alert rows;
    * `alert_events`: events whose `who`, note or snapshot actors were erased;
    * `notification_deliveries`: delivery rows deleted, or their target erased (active alerts);
    * `processed_messages`, `web_sessions`, `level_points`: rows deleted.
    """
    lock_event_log(session)  # same lock order as every other writer of alerts
    actor_cutoff = now - timedelta(days=policy.alert_actor_days)
    counts = {
        "alert_actors": _erase_alert_actors(session, actor_cutoff),
        "alert_events": _erase_event_actors(session, actor_cutoff),
        "notification_deliveries": _expire_deliveries(session, now - timedelta(days=policy.notification_days)),
        "processed_messages": _delete_before(
            session, ProcessedMessage.processed_at, now - timedelta(days=policy.processed_messages_days)
        ),
        "web_sessions": _delete_ended_sessions(session, now - ENDED_SESSION_KEPT),
        "level_points": 0,
    }
    if policy.level_points_days is not None:
        counts["level_points"] = _delete_before(
            session, LevelPoint.window_end, now - timedelta(days=policy.level_points_days)
        )
    for module in kind_state_modules():  # a kind's own personal data (a vessel's positions)
        enforce_kind = getattr(module, "enforce_retention", None)
        if enforce_kind is not None:
            counts.update((table, n) for table, n in enforce_kind(session, now, policy).items() if n)  # only what it pruned
    session.flush()
    if any(counts.values()):
        log.info("retention enforced", extra=counts)  # counts only, never whose data
    return counts


def _expire_deliveries(session: Session, cutoff: datetime) -> int:
    """Delete deliveries owed before `cutoff` whose alert is no longer active; erase the target of
    those whose alert still is (the notifier reads an active alert's rows to know which escalation
    steps it took)."""
    old = NotificationDelivery.created_at < cutoff
    active = sa.select(Alert.id).where(Alert.status == ALERT_ACTIVE).scalar_subquery()
    erased = session.execute(
        sa.update(NotificationDelivery)
        .where(old, NotificationDelivery.alert_id.in_(active), NotificationDelivery.target != ERASED)
        .values(target=ERASED)
        .execution_options(synchronize_session=False)
    )
    deleted = session.execute(
        sa.delete(NotificationDelivery).where(old, NotificationDelivery.alert_id.not_in(active)).execution_options(synchronize_session=False)
    )
    return int(getattr(erased, "rowcount", 0) or 0) + int(getattr(deleted, "rowcount", 0) or 0)


def _delete_ended_sessions(session: Session, ended_before: datetime) -> int:
    """Delete console sessions signed out, or past their absolute end, before `ended_before`."""
    res = session.execute(
        sa.delete(WebSession)
        .where(sa.or_(WebSession.revoked_at < ended_before, WebSession.expires_at < ended_before))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(res, "rowcount", 0) or 0)


def _person(who: InstrumentedAttribute[str | None]) -> sa.ColumnElement[bool]:
    """SQL for `central.alerts.is_person`: a name that is no gateway, device, app or system."""
    return sa.and_(who.is_not(None), who.not_in((SYSTEM, DEVICE, APP)), sa.not_(who.startswith("gateway:")))


def _erase_alert_actors(session: Session, cutoff: datetime) -> int:
    n = 0
    pairs = ((Alert.acknowledged_by, Alert.acknowledged_at), (Alert.cleared_by, Alert.cleared_at), (Alert.closed_by, Alert.closed_at))
    for by, at in pairs:
        stmt = sa.update(Alert).where(at < cutoff, _person(by)).values({by: None})
        res = session.execute(stmt.execution_options(synchronize_session=False))
        n += int(getattr(res, "rowcount", 0) or 0)
    return n


def _erase_event_actors(session: Session, cutoff: datetime) -> int:
    """Scrub every event of each alert that has a person's action older than `cutoff` not yet erased.

    All events of such an alert are looked at, because any event recorded while the alert was
    acknowledged carries the acknowledger in its snapshot, however recent the event itself is.
    """
    alert_ids: Sequence[int] = session.scalars(
        sa.select(AlertEvent.alert_id)
        .where(
            sa.or_(AlertEvent.kind.in_(_PERSON), AlertEvent.kind == _CLEARED),
            AlertEvent.at < cutoff,
            _person(AlertEvent.who),
        )
        .distinct()
    ).all()
    n = 0
    for i in range(0, len(alert_ids), _CHUNK):
        chunk = sorted(alert_ids[i : i + _CHUNK])
        for event in session.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id.in_(chunk))):
            n += _scrub(event, cutoff)
    return n


def _scrub(event: AlertEvent, cutoff: datetime) -> int:
    payload: dict[str, Any] = copy.deepcopy(event.payload)
    changed = False
    snapshot = payload.get("alert") or {}
    for by, at in _ACTOR_FIELDS:
        if is_person(snapshot.get(by)) and _when(snapshot.get(at), event.recorded_at) < cutoff:
            snapshot[by] = None
            changed = True
    acted = event.kind in _PERSON or (event.kind == _CLEARED and is_person(event.who))
    if acted and event.at < cutoff:
        if event.who is not None:
            event.who = None
            changed = True
        detail = payload.get("detail")
        if isinstance(detail, dict) and "note" in detail:
            del detail["note"]
            changed = True
    if changed:
        event.payload = payload  # a new object: SQLAlchemy does not see changes inside JSON
    return int(changed)


def _when(value: object, fallback: datetime) -> datetime:
    """A snapshot's timestamp (ISO text), or `fallback` when it has none."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return fallback
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=fallback.tzinfo)
    return fallback


def _delete_before(session: Session, column: InstrumentedAttribute[datetime], cutoff: datetime) -> int:
    table = column.class_
    res = session.execute(sa.delete(table).where(column < cutoff).execution_options(synchronize_session=False))
    return int(getattr(res, "rowcount", 0) or 0)
