"""The centre's `two_offices` check: one badge at offices of two different gateways in a time no
one could travel (an Eddystone-EID relayed live from one office, or from home near it, to
another). Each gateway checks its own offices; only the centre sees across gateways.

Why stays and not single events: a gateway reports a check-in when a badge arrives and a
check-out when it leaves, nothing in between. A badge checked in at office A at 07:30 and heard
by a relay at office B at 10:00 shows two events 2.5 hours apart (time enough to travel), but
the badge never left A. So each office's events are paired into stays, and a stay at B that
overlaps a stay at A is a badge at two places at once. A stay still open is known to last only
as far as its gateway has reported since (its latest health summary, less the time a check-out
takes to be decided, `DECISION_SLACK`), never beyond: a gateway that went quiet does not make
its badges present for ever, which would raise false alarms for staff who really travelled.

Each detection is stored once per stay (its id is the stay's start), with where and when the
other stay was; the distance and time test is `kinds.badge.travel.impossible_travel`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kinds.badge.items import security_id
from kinds.badge.state import Office, PresenceEvent, SecurityEventRecord
from kinds.badge.travel import impossible_travel

#: How far around an event other stays are looked for: a working day and the night either side.
WINDOW = timedelta(hours=24)
#: A check-out is decided only after the badge was unheard for the absence timeout (5 minutes
#: by default at the gateway): a health summary does not prove a badge still in until its end.
DECISION_SLACK = timedelta(minutes=10)
REASON = "two_offices"
CENTRAL = "central"


@dataclass(frozen=True, slots=True)
class Stay:
    office: str
    gateway: str
    start: datetime
    end: datetime


def stays(events: list[PresenceEvent], offices: dict[str, Office]) -> list[Stay]:
    """One badge's events (any order) as stays: per office, a check-in up to the next check-out;
    a check-out without a check-in before it is a moment; an open check-in lasts as far as its
    office's gateway has reported since (see the module)."""
    out: list[Stay] = []
    open_: dict[str, PresenceEvent] = {}
    for e in sorted(events, key=lambda e: (e.at, e.event != "check_out")):
        began = open_.pop(e.office_id, None)
        if e.event == "check_in":
            if began is not None:  # two check-ins: the first lasted at least until the second
                out.append(Stay(e.office_id, began.gateway, began.at, e.at))
            open_[e.office_id] = e
        else:
            start = began.at if began is not None else e.at
            out.append(Stay(e.office_id, e.gateway, start, e.at))
    for office_id, began in open_.items():
        seen = offices[office_id].last_seen_at if office_id in offices else None
        known = seen - DECISION_SLACK if seen is not None else began.at
        out.append(Stay(office_id, began.gateway, began.at, max(began.at, known)))
    return out


def check(session: Session, event: PresenceEvent, offices: dict[str, Office], now: datetime) -> SecurityEventRecord | None:
    """After `event` was stored: a `two_offices` security event (added to the session) when its
    stay overlaps, or is too close in time to, a stay of the same badge at an office far away
    reported by another gateway; None otherwise, or when that stay's detection is stored already."""
    rows = list(session.scalars(
        sa.select(PresenceEvent).where(
            PresenceEvent.badge_id == event.badge_id, PresenceEvent.at >= event.at - WINDOW, PresenceEvent.at <= event.at + WINDOW,
        )
    ))  # fmt: skip
    missing = {r.office_id for r in rows} - offices.keys()
    if missing:
        offices.update({o.id: o for o in session.scalars(sa.select(Office).where(Office.id.in_(sorted(missing))))})
    all_stays = stays(rows, offices)
    own = next((s for s in all_stays if s.office == event.office_id and s.start <= event.at <= s.end), None)
    if own is None:
        return None
    here = offices[event.office_id]
    worst: tuple[float, Stay, datetime] | None = None
    for other in all_stays:
        if other.office == own.office or other.gateway == event.gateway or other.office not in offices:
            continue
        there = offices[other.office]
        if other.end < own.start:
            own_at, other_at = own.start, other.end
        elif own.end < other.start:
            own_at, other_at = own.end, other.start
        else:  # overlapping: both at once, from the later start
            own_at = other_at = max(own.start, other.start)
        km = impossible_travel(here.lat, here.lon, own_at, there.lat, there.lon, other_at)
        if km is not None and (worst is None or km > worst[0]):
            worst = (km, other, other_at)
    if worst is None:
        return None
    item_id = security_id(CENTRAL, own.office, event.badge_id, REASON, own.start)
    if session.get(SecurityEventRecord, item_id) is not None:
        return None
    km, other, other_at = worst
    record = SecurityEventRecord(
        item_id=item_id, tenant_id=event.tenant_id, office_id=own.office, badge_id=event.badge_id,
        employee_id=event.employee_id, reason=REASON, source=CENTRAL, at=own.start, rssi_dbm=event.rssi_dbm,
        other_office=other.office, other_at=other_at, distance_km=round(km, 3), eid_period_offset=None,
        device=event.device, gateway=event.gateway, received_at=now,
    )
    session.add(record)
    return record
