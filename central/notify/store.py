"""The notifier's reads and writes of the state store, in the caller's session and transaction.

Where matching resumes is derived from rows that exist, not kept in a table of its own: the
highest event a subscription delivery was made for, or the last event older than the catch-up
window (a day: what was not told by then is stale), whichever is later. A running notifier keeps
its place in memory; a restart scans the window again, which the unique `dedupe_key` makes
harmless.

Sending claims rows first (`claim_due`): their `next_attempt_at` moves a lease ahead and
`attempts` grows, in a short transaction, with `FOR UPDATE SKIP LOCKED` on PostgreSQL (SQLite has
one writer), so two notifiers never hold the same row; one that dies mid-send leaves the row to
be tried again when the lease ends.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.models import ALERT_ACTIVE, Alert, AlertEvent, Station, Tenant, User, UtcDateTime
from central.names import canonical_name
from central.notify.rules import REASON_ESCALATION, REASON_SUBSCRIPTION, AlertChange, ChainPerson, Owed, Subscriber
from central.reach_models import (
    CHANNEL_WEBHOOK,
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_SENT,
    NotificationDelivery,
    Subscription,
)

_D = NotificationDelivery
_DELIVERIES: sa.Table = NotificationDelivery.__table__  # type: ignore[assignment]
_DATETIME_KEYS = frozenset(c.key for c in Alert.__table__.columns if isinstance(c.type, UtcDateTime))
#: Events an escalation's clock reads.
_CLOCK_KINDS = ("opened", "acknowledged", "escalated")


def start_cursor(session: Session, now: datetime, catch_up: timedelta) -> int:
    """The event after which matching starts when a notifier starts (see the module's doc)."""
    told = session.scalar(sa.select(sa.func.max(_D.event_seq)).where(_D.reason == REASON_SUBSCRIPTION))
    # Newest first, stopping at the first old enough: reads only the window, not the whole log.
    stale = session.scalar(
        sa.select(AlertEvent.seq).where(AlertEvent.recorded_at < now - catch_up).order_by(AlertEvent.seq.desc()).limit(1)
    )
    return max(told or 0, stale or 0)


def changes_after(session: Session, cursor: int, limit: int) -> list[AlertChange]:
    """Up to `limit` events after `cursor`, in order; an `updated` event that may have made the
    episode's level worse carries the worst level before it."""
    rows = session.execute(
        sa.select(
            AlertEvent.seq, AlertEvent.tenant_id, AlertEvent.alert_id, AlertEvent.alert_type, AlertEvent.subject,
            AlertEvent.station_id, AlertEvent.kind, AlertEvent.recorded_at, AlertEvent.payload,
        )
        .where(AlertEvent.seq > cursor)
        .order_by(AlertEvent.seq)
        .limit(limit)
    ).all()
    out = []
    for seq, tenant, alert_id, alert_type, subject, station, kind, recorded_at, payload in rows:
        snapshot = (payload or {}).get("alert", {})
        siaga = snapshot.get("siaga") if station is not None else None
        peak_before = None
        if kind == "updated" and siaga is not None and snapshot.get("peak_siaga") == siaga:
            peak_before = _peak_before(session, alert_id, seq)
        out.append(AlertChange(seq, tenant, alert_id, alert_type, subject, station, kind, recorded_at, siaga, peak_before))
    return out


def _peak_before(session: Session, alert_id: int, seq: int) -> int | None:
    payload = session.scalar(
        sa.select(AlertEvent.payload).where(AlertEvent.alert_id == alert_id, AlertEvent.seq < seq).order_by(AlertEvent.seq.desc()).limit(1)
    )
    peak = (payload or {}).get("alert", {}).get("peak_siaga")
    return peak if isinstance(peak, int) else None


def subscribers(session: Session, tenants: Collection[str]) -> list[Subscriber]:
    """The subscriptions of these tenants that are not deleted, with their users' standing."""
    rows = session.execute(
        sa.select(Subscription, User.role, User.tenant_id, User.disabled_at)
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.tenant_id.in_(sorted(tenants)), Subscription.disabled_at.is_(None))
        .order_by(Subscription.id)
    ).all()
    return [
        Subscriber(
            s.id, s.tenant_id, s.user_id, user_tenant, role, s.channel, s.target, frozenset(s.alert_types or ()),
            frozenset(s.subjects or ()), s.created_at, disabled_at is None,
        )
        for s, role, user_tenant, disabled_at in rows
    ]


def insert_owed(session: Session, owed: Sequence[Owed], now: datetime) -> int:
    """Insert the messages not owed already (by `dedupe_key`); returns how many were new."""
    if not owed:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    rows = [
        {
            "tenant_id": o.tenant, "alert_id": o.alert_id, "event_seq": o.event_seq, "dedupe_key": o.dedupe_key,
            "reason": o.reason, "step": o.step, "user_id": o.user_id, "subscription_id": o.subscription_id,
            "channel": o.channel, "target": o.target, "status": DELIVERY_PENDING, "attempts": 0,
            "created_at": now, "next_attempt_at": now,
        }
        for o in owed
    ]
    statement = insert(_DELIVERIES).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(_DELIVERIES.c.id)
    # RETURNING, not rowcount: an executemany's rowcount is not the rows inserted on every driver.
    return len(session.execute(statement, rows).all())


# -- escalation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unanswered:
    """An active alert of a type that escalates: what its clock needs."""

    alert_id: int
    alert_type: str
    opened_at: datetime
    #: (kind, recorded_at) of its opened, acknowledged and escalated events, in order.
    history: tuple[tuple[str, datetime], ...]


def unanswered(session: Session, tenant: str, alert_types: Collection[str]) -> list[Unanswered]:
    alerts = session.execute(
        sa.select(Alert.id, Alert.type, Alert.opened_at)
        .where(Alert.tenant_id == tenant, Alert.status == ALERT_ACTIVE, Alert.type.in_(sorted(alert_types)))
        .order_by(Alert.id)
    ).all()
    history = histories(session, [a.id for a in alerts])
    return [Unanswered(a.id, a.type, a.opened_at, history.get(a.id, ())) for a in alerts]


def histories(session: Session, alert_ids: Sequence[int]) -> dict[int, tuple[tuple[str, datetime], ...]]:
    out: dict[int, list[tuple[str, datetime]]] = {}
    if alert_ids:
        rows = session.execute(
            sa.select(AlertEvent.alert_id, AlertEvent.kind, AlertEvent.recorded_at)
            .where(AlertEvent.alert_id.in_(alert_ids), AlertEvent.kind.in_(_CLOCK_KINDS))
            .order_by(AlertEvent.seq)
        )
        for alert_id, kind, at in rows:
            out.setdefault(alert_id, []).append((kind, at))
    return {k: tuple(v) for k, v in out.items()}


def told_steps(session: Session, alert_ids: Sequence[int]) -> set[tuple[int, str]]:
    """(alert, step token) of the escalation steps that have messages already."""
    if not alert_ids:
        return set()
    keys = session.scalars(sa.select(_D.dedupe_key).where(_D.reason == REASON_ESCALATION, _D.alert_id.in_(alert_ids)))
    out = set()
    for key in keys:
        _esc, alert, token, *_rest = key.split(":")
        out.add((int(alert), token))
    return out


def chain_people(session: Session, tenant: str, names: Collection[str]) -> dict[str, ChainPerson]:
    """The tenant's users named in a chain (as configured -> person), with their webhooks."""
    wanted: dict[str, str] = {}
    for name in names:
        try:
            wanted[canonical_name(name)] = name
        except ValueError:
            continue  # a name no user can have: reported as unknown
    users = session.scalars(sa.select(User).where(User.tenant_id == tenant, User.name.in_(sorted(wanted)))).all()
    hooks: dict[int, list[tuple[int, str]]] = {}
    if users:
        rows = session.execute(
            sa.select(Subscription.user_id, Subscription.id, Subscription.target)
            .where(Subscription.user_id.in_([u.id for u in users]), Subscription.channel == CHANNEL_WEBHOOK,
                   Subscription.disabled_at.is_(None), Subscription.tenant_id == tenant)
            .order_by(Subscription.id)
        )
        for user_id, sub_id, url in rows:
            hooks.setdefault(user_id, []).append((sub_id, url))
    return {
        wanted[u.name]: ChainPerson(u.id, u.role, u.disabled_at is not None, u.email, tuple(hooks.get(u.id, ())))
        for u in users
    }


# -- sending --------------------------------------------------------------------------------------


def give_up_stale(session: Session, now: datetime, older_than: timedelta) -> dict[str, int]:
    """Mark `failed` what is still pending long after it was owed (a channel left unconfigured,
    a target down all day); returns how many per channel."""
    rows = session.execute(
        sa.select(_D.id, _D.channel).where(_D.status == DELIVERY_PENDING, _D.created_at <= now - older_than)
    ).all()
    if rows:
        session.execute(
            sa.update(_D)
            .where(_D.id.in_([r.id for r in rows]), _D.status == DELIVERY_PENDING)
            .values(status=DELIVERY_FAILED, last_error="given up: not sent within a day")
        )
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.channel] = counts.get(r.channel, 0) + 1
    return counts


def claim_due(session: Session, now: datetime, channels: Collection[str], limit: int, lease: timedelta) -> list[NotificationDelivery]:
    """Take up to `limit` pending rows due by `now` on `channels`: their next attempt moves
    `lease` ahead and their attempts grow, so no other notifier takes them meanwhile."""
    if not channels:
        return []
    ids = list(
        session.scalars(
            sa.select(_D.id)
            .where(_D.status == DELIVERY_PENDING, _D.next_attempt_at <= now, _D.channel.in_(sorted(channels)))
            .order_by(_D.next_attempt_at, _D.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    if not ids:
        return []
    session.execute(
        sa.update(_D).where(_D.id.in_(ids)).values(next_attempt_at=now + lease, attempts=_D.attempts + 1),
        execution_options={"synchronize_session": False},
    )
    rows = session.scalars(sa.select(_D).where(_D.id.in_(ids)).order_by(_D.id)).all()
    session.expunge_all()
    return list(rows)


def record_sent(session: Session, delivery_id: int, now: datetime) -> None:
    session.execute(sa.update(_D).where(_D.id == delivery_id).values(status=DELIVERY_SENT, sent_at=now, last_error=None))


def record_failure(session: Session, delivery_id: int, error: str, retry_at: datetime | None) -> None:
    """A failed attempt: try again at `retry_at`, or never (None)."""
    values: dict[str, Any] = {"last_error": error[:500]}
    values.update({"next_attempt_at": retry_at} if retry_at is not None else {"status": DELIVERY_FAILED})
    session.execute(sa.update(_D).where(_D.id == delivery_id).values(**values))


@dataclass(frozen=True, slots=True)
class DeliveryContext:
    """What deciding and composing one message reads: the alert (as of its event for a
    subscription's message), the place's name, and whether its person may still hear it."""

    alert: dict[str, Any]
    #: The event a subscription's message tells of (None for an escalation).
    event_kind: str | None
    event_at: datetime | None
    tenant_name: str
    place: str
    user_role: str | None
    user_tenant: str | None
    user_disabled: bool
    subscription_active: bool


def delivery_context(session: Session, d: NotificationDelivery) -> DeliveryContext | None:
    """None when the alert is gone (it is not: alerts are never deleted, but a row must not crash the loop)."""
    alert_row = session.get(Alert, d.alert_id)
    if alert_row is None:
        return None
    alert = {c.key: getattr(alert_row, c.key) for c in Alert.__table__.columns}
    event_kind = event_at = None
    if d.event_seq is not None:
        event = session.get(AlertEvent, d.event_seq)
        if event is not None:
            alert = _snapshot(event.payload.get("alert", {}), alert)
            event_kind, event_at = event.kind, event.at
    station = session.get(Station, alert["station_id"]) if alert.get("station_id") else None
    tenant = session.get(Tenant, d.tenant_id)
    user = session.get(User, d.user_id) if d.user_id is not None else None
    sub = session.get(Subscription, d.subscription_id) if d.subscription_id is not None else None
    return DeliveryContext(
        alert=alert,
        event_kind=event_kind,
        event_at=event_at,
        tenant_name=tenant.name if tenant is not None else d.tenant_id,
        place=station.name if station is not None else str(alert.get("subject") or alert.get("station_id") or ""),
        user_role=user.role if user is not None else None,
        user_tenant=user.tenant_id if user is not None else None,
        user_disabled=user is None or user.disabled_at is not None,
        subscription_active=sub is None or (sub.disabled_at is None and sub.user_id == d.user_id),
    )


def _snapshot(values: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    """An event's snapshot of the alert (datetimes as ISO text) over the current row's values."""
    out = dict(current)
    for key, value in values.items():
        out[key] = datetime.fromisoformat(value) if key in _DATETIME_KEYS and isinstance(value, str) else value
    return out
