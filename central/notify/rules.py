"""What is owed to whom, and when to try again: pure functions over plain values (no clock read,
no database), so every rule is tested with the time it is given.

Who may hear of an alert is who may read it in the API: a subscription or an escalation never
tells a person what the API would refuse them. The readers per alert type repeat
`api.permissions` (ALERT_READERS, SOS_RESPONDERS), which this layer may not import; a test holds
the two equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from central.models import (
    ALERT_TYPE_OVERDUE,
    ALERT_TYPE_SOS,
    ROLE_ADMIN,
    ROLE_DISASTER_OFFICE,
    ROLE_VIEWER,
)
from central.notify.targets import TargetError, check_email
from central.reach_models import CHANNEL_EMAIL, CHANNEL_WEBHOOK

#: Who reads alerts, their history and stream (`api.permissions.ALERT_READERS`).
ALERT_READERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE, ROLE_VIEWER)
#: Who reads SOS incidents and vessels' whereabouts (`api.permissions.SOS_RESPONDERS`): a vessel's
#: distress or lateness names a boat and its crew, which viewers never see.
SOS_RESPONDERS: tuple[str, ...] = (ROLE_ADMIN, ROLE_DISASTER_OFFICE)
_READERS_BY_TYPE: dict[str, tuple[str, ...]] = {ALERT_TYPE_SOS: SOS_RESPONDERS, ALERT_TYPE_OVERDUE: SOS_RESPONDERS}
#: Roles that can read some alert type, hence may subscribe at all.
SUBSCRIBER_ROLES: tuple[str, ...] = ALERT_READERS

#: Changes always worth a message; an `updated` one only when it brings a worse level than any
#: before in the episode (the river's Siaga getting worse under a rate-of-rise alert). Not the
#: others: an acknowledgement, a refined forecast window or a level following the river would
#: fill inboxes and teach people to ignore them.
TOLD_KINDS = frozenset({"opened", "escalated", "cleared", "cancelled"})

REASON_SUBSCRIPTION = "subscription"
REASON_ESCALATION = "escalation"

#: Retries: the first 30 s after a failure, doubling up to an hour; after a day, given up.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(hours=24)


def readers_of(alert_type: str) -> tuple[str, ...]:
    """The roles that may read alerts of `alert_type` in the API."""
    return _READERS_BY_TYPE.get(alert_type, ALERT_READERS)


def may_read(role: str, alert_type: str) -> bool:
    return role in readers_of(alert_type)


def worth_telling(kind: str, siaga: int | None, peak_before: int | None) -> bool:
    """Whether an event of `kind` is news for a subscriber. `siaga` is the level after it and
    `peak_before` the worst level of the episode before it (lower is worse; None: unknown)."""
    if kind in TOLD_KINDS:
        return True
    return kind == "updated" and siaga is not None and peak_before is not None and siaga < peak_before


@dataclass(frozen=True, slots=True)
class AlertChange:
    """One event of the alert log, as matching needs it."""

    seq: int
    tenant: str
    alert_id: int
    alert_type: str
    subject: str
    station: str | None
    kind: str
    recorded_at: datetime
    siaga: int | None
    #: The worst level of the episode before this event (for `updated` events; else None).
    peak_before: int | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """A subscription with what decides whether its user may still hear anything."""

    subscription_id: int
    tenant: str
    user_id: int
    user_tenant: str
    role: str
    channel: str
    target: str
    #: Empty: every type (the user's role permitting), every subject.
    alert_types: frozenset[str]
    subjects: frozenset[str]
    created_at: datetime
    #: The subscription is not deleted and its user not disabled.
    active: bool


def wants(subscriber: Subscriber, change: AlertChange) -> bool:
    """Whether `subscriber` is owed a message about `change`: same tenant (the user's as well),
    a type and subject it asked for, a role that may read the type, and subscribed by then (a
    new subscription is no order for the past)."""
    return (
        subscriber.active
        and subscriber.tenant == change.tenant
        and subscriber.user_tenant == change.tenant
        and may_read(subscriber.role, change.alert_type)
        and (not subscriber.alert_types or change.alert_type in subscriber.alert_types)
        and (not subscriber.subjects or change.subject in subscriber.subjects or change.station in subscriber.subjects)
        and subscriber.created_at <= change.recorded_at
    )


@dataclass(frozen=True, slots=True)
class Owed:
    """A message owed: one future `notification_deliveries` row."""

    dedupe_key: str
    tenant: str
    alert_id: int
    reason: str
    channel: str
    target: str
    user_id: int
    subscription_id: int | None = None
    event_seq: int | None = None
    step: int = 0


def subscription_key(subscription_id: int, seq: int) -> str:
    return f"sub:{subscription_id}:{seq}"


def owed_for_changes(changes: Iterable[AlertChange], subscribers: Sequence[Subscriber]) -> list[Owed]:
    """The messages subscribers are owed for these changes, in event order."""
    out = []
    for change in changes:
        if not worth_telling(change.kind, change.siaga, change.peak_before):
            continue
        for s in subscribers:
            if wants(s, change):
                out.append(
                    Owed(
                        subscription_key(s.subscription_id, change.seq), change.tenant, change.alert_id,
                        REASON_SUBSCRIPTION, s.channel, s.target, s.user_id, s.subscription_id, change.seq,
                    )
                )
    return out


# -- escalation ----------------------------------------------------------------------------------


def unacknowledged_since(history: Sequence[tuple[str, datetime]], opened_at: datetime) -> tuple[datetime, int]:
    """When the alert's current unacknowledged stretch began, and which stretch it is (0: since
    it opened; 1: since it got worse after a first acknowledgement, ...). `history` is its events
    in order as (kind, recorded_at): the centre's clock, when it knew, not the device's (a gateway's
    backlog arriving hours late must not escalate the moment it lands). `opened_at` stands in
    for an `opened` event missing from `history`.

    An acknowledged alert that gets worse is active again (`central.alerts.set_severity`): the
    person acknowledged a smaller danger, so the chain starts over from its first person.
    """
    since, stretch, acknowledged = opened_at, 0, False
    for kind, at in history:
        if kind == "opened":
            since = at
        elif kind == "acknowledged":
            acknowledged = True
        elif kind == "escalated" and acknowledged:
            acknowledged, stretch, since = False, stretch + 1, at
    return since, stretch


def due_steps(since: datetime, now: datetime, after: timedelta, chain_length: int) -> range:
    """The steps of the chain whose time has come: step k (person `chain[k]`) at `since` plus
    (k + 1) x `after`. All of them are due, not only the latest: a notifier that was down
    still tells each person once, in order."""
    if now < since or after <= timedelta(0):
        return range(0)
    return range(min(int((now - since) / after), chain_length))


def step_token(stretch: int, step: int) -> str:
    """A step's name in dedupe keys: `2` in the first stretch, `1.2` in the second, ..."""
    return str(step) if stretch == 0 else f"{stretch}.{step}"


def escalation_key(alert_id: int, token: str, user_id: int, channel: str, subscription_id: int | None = None) -> str:
    """`esc:<alert>:<step>:<user>:<channel>`; a webhook's channel names its subscription (a person
    may have several)."""
    where = channel if subscription_id is None else f"{channel}:{subscription_id}"
    return f"esc:{alert_id}:{token}:{user_id}:{where}"


@dataclass(frozen=True, slots=True)
class ChainPerson:
    """A person of a chain as the database knows them (None in `escalation_owed`: unknown name)."""

    user_id: int
    role: str
    disabled: bool
    email: str | None
    #: (subscription id, URL) of their active webhook subscriptions.
    webhooks: tuple[tuple[int, str], ...] = ()


#: Why a step's person cannot be reached (metric label values).
UNKNOWN_USER = "unknown_user"
DISABLED_USER = "disabled_user"
ROLE_MAY_NOT_READ = "role_may_not_read"
NO_EMAIL = "no_email"
#: An address stored before accounts checked it as sending does (or by hand): no mail could go.
INVALID_EMAIL = "invalid_email"
UNREACHABLE_REASONS = (UNKNOWN_USER, DISABLED_USER, ROLE_MAY_NOT_READ, NO_EMAIL, INVALID_EMAIL)


def escalation_owed(
    tenant: str, alert_id: int, alert_type: str, stretch: int, step: int, person: ChainPerson | None
) -> tuple[list[Owed], str | None]:
    """The messages of one step to its person: an email to their address and a message to each
    of their webhooks; and why the step falls short (an unknown name, a disabled user, a role
    that may not read the alert, no email address or one no mail can go to), or None."""
    if person is None:
        return [], UNKNOWN_USER
    if person.disabled:
        return [], DISABLED_USER
    if not may_read(person.role, alert_type):
        return [], ROLE_MAY_NOT_READ
    token = step_token(stretch, step)
    owed = [
        Owed(escalation_key(alert_id, token, person.user_id, CHANNEL_WEBHOOK, sub), tenant, alert_id,
             REASON_ESCALATION, CHANNEL_WEBHOOK, url, person.user_id, sub, None, step)
        for sub, url in person.webhooks
    ]
    if person.email is None:
        return owed, NO_EMAIL
    try:
        check_email(person.email)
    except TargetError:
        return owed, INVALID_EMAIL
    owed.insert(0, Owed(escalation_key(alert_id, token, person.user_id, CHANNEL_EMAIL), tenant, alert_id,
                        REASON_ESCALATION, CHANNEL_EMAIL, person.email, person.user_id, None, None, step))
    return owed, None


# -- retries --------------------------------------------------------------------------------------


def retry_at(created_at: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after the `attempts`-th attempt failed at `now`; None: give up (a day
    has passed since the message was owed: what it says is stale by then)."""
    if now - created_at >= GIVE_UP_AFTER:
        return None
    delay = min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 16), LONGEST_RETRY)
    return now + delay
