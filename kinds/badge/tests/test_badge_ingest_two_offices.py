"""The centre's `two_offices` check across gateways, through ingest's service: a badge relayed
from one office to another 45 km away (each with its own gateway) is one security event, stored
once, whichever gateway's events arrive first; staff who really travel, and offices of one
gateway (which that gateway checks itself), raise none."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from badge_central_world import (
    GW_HAURGEULIS, GW_KANTOR, HAURGEULIS, KANTOR, NIP_DINI, T0, health, prepared, presence, send, staff,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import create_engine
from kinds.badge.ingest.two_offices import Stay, stays
from kinds.badge.state import Office, PresenceEvent, SecurityEventRecord

H = timedelta(hours=1)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = create_engine(database_url)
    prepared(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def dini(engine: Engine) -> str:
    return staff(engine)[NIP_DINI].badge.id


def _alarms(engine: Engine) -> list[tuple[str, str, str | None, object, float]]:
    with Session(engine) as s:
        rows = s.scalars(sa.select(SecurityEventRecord).order_by(SecurityEventRecord.at))
        return [(r.office_id, r.source, r.other_office, r.at, round(r.distance_km or 0)) for r in rows]


def test_a_badge_relayed_to_another_gateway_s_office_while_checked_in_is_one_alarm(engine: Engine, dini: str) -> None:
    send(engine, [presence(KANTOR, GW_KANTOR, dini, "check_in", T0)], now=T0 + timedelta(minutes=1))
    send(engine, [health(KANTOR, GW_KANTOR, T0 + 2 * H, 2)], now=T0 + 2 * H)  # the gateway reports: still there
    relay = T0 + H
    result = send(engine, [presence(HAURGEULIS, GW_HAURGEULIS, dini, "check_in", relay)], gateway=GW_HAURGEULIS, now=T0 + 2 * H)
    send(engine, [presence(HAURGEULIS, GW_HAURGEULIS, dini, "check_out", relay + H / 2)], gateway=GW_HAURGEULIS, now=T0 + 3 * H)

    assert result.rejected_total == 0 and result.stored == 1, "the presence is stored: the centre cannot tell which is genuine"
    assert _alarms(engine) == [(HAURGEULIS, "central", KANTOR, relay, 45)], "one alarm per stay, however many of its events arrive"


def test_the_same_relay_is_found_when_the_honest_office_s_gateway_reports_late(engine: Engine, dini: str) -> None:
    relay = T0 + H
    send(engine, [presence(HAURGEULIS, GW_HAURGEULIS, dini, "check_in", relay),
                  presence(HAURGEULIS, GW_HAURGEULIS, dini, "check_out", relay + H / 2)], gateway=GW_HAURGEULIS, now=relay + H)
    assert _alarms(engine) == [], "nothing known of the badge elsewhere yet"
    # Indramayu's gateway was offline all day; its outbox sends the day at once.
    send(engine, [presence(KANTOR, GW_KANTOR, dini, "check_in", T0), presence(KANTOR, GW_KANTOR, dini, "check_out", T0 + 8 * H)],
         now=T0 + 9 * H)  # fmt: skip
    assert _alarms(engine) == [(KANTOR, "central", HAURGEULIS, T0, 45)]


def test_staff_who_really_travel_raise_nothing(engine: Engine, dini: str) -> None:
    send(engine, [presence(KANTOR, GW_KANTOR, dini, "check_in", T0), presence(KANTOR, GW_KANTOR, dini, "check_out", T0 + H)])
    send(engine, [health(KANTOR, GW_KANTOR, T0 + 3 * H, 2)], now=T0 + 3 * H)
    send(engine, [presence(HAURGEULIS, GW_HAURGEULIS, dini, "check_in", T0 + 2 * H)], gateway=GW_HAURGEULIS, now=T0 + 3 * H)
    assert _alarms(engine) == [], "45 km in an hour"


def test_an_open_stay_lasts_only_as_far_as_its_gateway_has_reported(engine: Engine, dini: str) -> None:
    """Indramayu's gateway went quiet after the check-in: the badge may have left long ago,
    so a check-in at Haurgeulis two hours later is no alarm (the check-out is on its way)."""
    send(engine, [presence(KANTOR, GW_KANTOR, dini, "check_in", T0), health(KANTOR, GW_KANTOR, T0 + timedelta(minutes=5), 2)])
    send(engine, [presence(HAURGEULIS, GW_HAURGEULIS, dini, "check_in", T0 + 2 * H)], gateway=GW_HAURGEULIS, now=T0 + 2 * H)
    assert _alarms(engine) == []


def test_offices_of_one_gateway_are_left_to_that_gateway(engine: Engine, dini: str) -> None:
    send(engine, [presence(KANTOR, GW_KANTOR, dini, "check_in", T0), health(KANTOR, GW_KANTOR, T0 + 2 * H, 2),
                  presence(HAURGEULIS, GW_KANTOR, dini, "check_in", T0 + H)], now=T0 + 2 * H)  # fmt: skip
    assert _alarms(engine) == []


def test_stays_pair_each_office_s_events() -> None:
    def e(office: str, event: str, at_h: float) -> PresenceEvent:
        return PresenceEvent(office_id=office, event=event, at=T0 + at_h * H, gateway="gw")

    seen = Office(id=KANTOR, last_seen_at=T0 + 5 * H)
    got = stays([e(KANTOR, "check_out", 1), e(KANTOR, "check_in", 2), e(HAURGEULIS, "check_in", 3), e(HAURGEULIS, "check_out", 4),
                 e(HAURGEULIS, "check_in", 4.5)], {KANTOR: seen})  # fmt: skip
    assert sorted(got, key=lambda s: (s.start, s.office)) == [
        Stay(KANTOR, "gw", T0 + H, T0 + H),  # its check-in was before the window
        Stay(KANTOR, "gw", T0 + 2 * H, T0 + 5 * H - timedelta(minutes=10)),  # open: as far as reported, less the slack
        Stay(HAURGEULIS, "gw", T0 + 3 * H, T0 + 4 * H),
        Stay(HAURGEULIS, "gw", T0 + 4.5 * H, T0 + 4.5 * H),  # open, its office never reported
    ]
