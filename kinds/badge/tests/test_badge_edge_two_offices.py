"""A badge heard at two offices of one gateway too far apart to travel between in the time (an
Eddystone-EID relayed live): whichever side started first, the relay keeps no check-in against
its owner; neither side is in while both are heard, and the side left alone starts afresh once
the other has been silent for the travel time."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kinds.badge import travel
from kinds.badge.tests.badge_edge_scenes import OFFICES, T0, Badge, Gate, Heard, badges, config, roster, run

#: bkpsdm to dishub (about 5.7 km) at the highest plausible speed: how long one side must be silent.
TRAVEL = timedelta(hours=travel.distance_km(*OFFICES["bkpsdm"], *OFFICES["dishub"]) / travel.MAX_KMH)
#: How much later than the second it stands for a scanner stamps a message (`run`).
JITTER = timedelta(seconds=0.2)


@pytest.fixture
def staff() -> list[Badge]:
    return badges(4, statics=1)


def _gate(tmp_path: Path, staff: list[Badge]) -> Gate:
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    return gate


def _presence(gate: Gate) -> list[tuple[str, str]]:
    return [(p.office, p.event) for p in gate.presence()]


def _within(at: datetime | None, when: datetime, seconds: float) -> bool:
    return at is not None and abs((at - when).total_seconds()) <= seconds


def test_a_relay_running_before_its_owner_arrives_loses_the_check_in_and_the_owner_checks_in_once_it_stops(tmp_path: Path, staff: list[Badge]) -> None:
    """The relay at dishub from 07:00; the owner walks into bkpsdm at 07:05; the relay stops at 07:20."""
    gate = _gate(tmp_path, staff)
    victim, owner_from, relay_to = staff[1], T0 + timedelta(minutes=5), T0 + timedelta(minutes=20)

    def who(at: datetime, scanner: str) -> Heard:
        if scanner.startswith("sc-bkpsdm") and at >= owner_from:
            return [(victim, -64.0, 0)]
        if scanner == "sc-dishub-1" and at < relay_to:
            return [(victim, -58.0, 0)]
        return []

    run(gate, T0, 30 * 60, who)
    got = gate.presence()
    assert _presence(gate) == [("dishub", "check_in"), ("dishub", "check_out"), ("bkpsdm", "check_in")]
    relay_in, relay_out, owner_in = got
    assert _within(relay_in.at, T0, 1)
    assert owner_from - timedelta(seconds=2) <= relay_out.at <= owner_from + JITTER  # the relay's last time before the owner came
    assert _within(relay_out.decided_at, owner_from, 1)  # at once, not after an absence timeout
    assert relay_to - timedelta(seconds=1) + TRAVEL <= owner_in.at <= relay_to + TRAVEL + timedelta(seconds=3)  # its dwell's start, after the dispute
    events = gate.security()
    assert {(e.office, e.badge, e.reason, e.other_office) for e in events} == {
        ("dishub", victim.id, "two_offices", "bkpsdm"), ("bkpsdm", victim.id, "two_offices", "dishub"),
    }
    first = {e.office: e for e in reversed(events)}
    assert all(_within(e.at, owner_from, 1) and _within(e.other_at, owner_from, 2) for e in first.values())
    assert all(5 < (e.distance_km or 0) < 7 for e in events)
    assert max(e.at for e in events) < relay_to  # nothing once the relay is gone


def test_a_relay_starting_while_its_owner_is_in_checks_the_owner_out_until_it_stops(tmp_path: Path, staff: list[Badge]) -> None:
    gate = _gate(tmp_path, staff)
    victim, relay_from, relay_to = staff[1], T0 + timedelta(minutes=3), T0 + timedelta(minutes=11)

    def who(at: datetime, scanner: str) -> Heard:
        if scanner.startswith("sc-bkpsdm"):
            return [(victim, -64.0, 0)]
        if scanner == "sc-dishub-1" and relay_from <= at < relay_to:
            return [(victim, -58.0, 0)]
        return []

    run(gate, T0, 15 * 60, who)
    assert _presence(gate) == [("bkpsdm", "check_in"), ("bkpsdm", "check_out"), ("bkpsdm", "check_in")]  # never at dishub
    _, out, back = gate.presence()
    assert relay_from - timedelta(seconds=2) <= out.at <= relay_from + JITTER
    assert relay_to - timedelta(seconds=1) + TRAVEL <= back.at <= relay_to + TRAVEL + timedelta(seconds=3)
    events = gate.security()
    assert sorted((e.office, e.other_office) for e in events) == [("bkpsdm", "dishub"), ("dishub", "bkpsdm")]
    assert all(_within(e.at, relay_from, 1) and _within(e.other_at, e.at, 2) for e in events)


def test_while_both_offices_hear_the_badge_neither_checks_it_in_and_each_is_told_every_ten_minutes(tmp_path: Path, staff: list[Badge]) -> None:
    gate = _gate(tmp_path, staff)
    victim = staff[0]

    def who(at: datetime, scanner: str) -> Heard:
        return [(victim, -60.0, 0)] if scanner in ("sc-bkpsdm-1", "sc-bkpsdm-2", "sc-dishub-1") else []

    run(gate, T0, 25 * 60, who)
    assert gate.presence() == []
    for office in ("bkpsdm", "dishub"):
        times = [(e.at - T0).total_seconds() for e in gate.security() if e.office == office]
        assert [round(s / 600) for s in times] == [0, 1, 2] and all(b - a >= 600 for a, b in zip(times, times[1:])), (office, times)
    counts = gate.procs["sc-dishub-1"].collector
    assert counts.adverts[("dishub", "spoofed")] >= 25 * 60 - 2 and counts.adverts[("dishub", "badge")] <= 2


def test_staff_who_really_travel_between_the_offices_raise_nothing(tmp_path: Path, staff: list[Badge]) -> None:
    """At bkpsdm until 07:10, at dishub from 07:25: a quarter of an hour for 6 km."""
    gate = _gate(tmp_path, staff)
    walker, leaves, arrives = staff[2], T0 + timedelta(minutes=10), T0 + timedelta(minutes=25)

    def who(at: datetime, scanner: str) -> Heard:
        if scanner.startswith("sc-bkpsdm") and at < leaves:
            return [(walker, -62.0, 0)]
        if scanner == "sc-dishub-1" and at >= arrives:
            return [(walker, -62.0, 0)]
        return []

    run(gate, T0, 35 * 60, who)
    assert gate.security() == []
    assert _presence(gate) == [("bkpsdm", "check_in"), ("bkpsdm", "check_out"), ("dishub", "check_in")]
    assert _within(gate.presence()[2].at, arrives, 1)
