"""Offices at their gateway, second by second with noisy RSSI: honest staff check in and out
once, at the office they are in, even when the neighbouring office's scanner hears them
through the wall; each spoofing scenario yields exactly its security event and no presence."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kinds.badge.items import OfficeHealth, Presence, SecurityEvent
from kinds.badge.tests.badge_edge_scenes import SCANNERS, T0, Badge, Gate, Heard, badges, config, roster, run, seconds


def _events(items: list[object]) -> list[tuple[str, str, str]]:
    return [(i.office, i.badge, i.event) for i in items if isinstance(i, Presence)]


@pytest.fixture
def staff() -> list[Badge]:
    return badges(4, statics=1)


def test_staff_check_in_once_at_their_office_though_the_neighbours_scanner_hears_them(tmp_path: Path, staff: list[Badge]) -> None:
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    arrive = {b.id: T0 + timedelta(seconds=60 + 90 * i) for i, b in enumerate(staff[:3])}
    leave = {b.id: T0 + timedelta(minutes=25 + 2 * i) for i, b in enumerate(staff[:3])}

    def who(at: datetime, scanner: str) -> Heard:
        inside = [b for b in staff[:3] if arrive[b.id] <= at < leave[b.id]]
        if scanner.startswith("sc-bkpsdm"):
            return [(b, -63.0 if scanner.endswith("1") else -70.0, 0) for b in inside]
        if scanner == "sc-insp-1":  # through the wall, above the neighbour's enter threshold
            return [(b, -71.0, 0) for b in inside]
        return []

    run(gate, T0, 40 * 60, who)
    assert gate.security() == []
    assert sorted(_events(gate.items)) == sorted(
        [("bkpsdm", b.id, "check_in") for b in staff[:3]] + [("bkpsdm", b.id, "check_out") for b in staff[:3]]
    )
    for p in gate.presence():
        truth = arrive[p.badge] if p.event == "check_in" else leave[p.badge]
        assert abs((p.at - truth).total_seconds()) <= 120, p
        assert p.device.startswith("sc-bkpsdm") and p.rssi_dbm <= -55 and p.distance_m is not None
    assert {p.scanners for p in gate.presence() if p.event == "check_in"} == {2}


def test_a_badge_walking_to_the_neighbouring_office_is_never_in_both(tmp_path: Path, staff: list[Badge]) -> None:
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    walker, moves = staff[0], T0 + timedelta(minutes=10)

    def who(at: datetime, scanner: str) -> Heard:
        here = at < moves
        if scanner.startswith("sc-bkpsdm"):
            return [(walker, -62.0 if here else -80.0, 0)]
        if scanner == "sc-insp-1":
            return [(walker, -80.0 if here else -62.0, 0)]
        return []

    run(gate, T0, 20 * 60, who)
    assert gate.security() == []
    got = gate.presence()
    assert [(p.office, p.event) for p in got] == [("bkpsdm", "check_in"), ("bkpsdm", "check_out"), ("inspektorat", "check_in")]
    assert got[1].at <= got[2].at and abs((got[2].at - moves).total_seconds()) <= 120


def _spoof(tmp_path: Path, staff: list[Badge], spoofer: Badge, periods_off: int, require_eid: bool = True) -> Gate:
    gate = Gate(config(tmp_path, require_eid=require_eid))
    gate.downlink(roster(1, staff))

    def who(at: datetime, scanner: str) -> Heard:
        return [(spoofer, -60.0, periods_off)] if scanner.startswith("sc-bkpsdm") else []

    run(gate, T0, 9 * 60, who)
    return gate


@pytest.mark.parametrize(
    ("which", "periods_off", "reason", "offset"),
    [
        ("static", 0, "static_id_where_eid_required", None),
        ("eid", -(86_400 >> 10), "eid_replayed", -(86_400 >> 10)),  # recorded yesterday, replayed today
        ("eid", -2, "eid_replayed", -2),  # just beyond the drift window
        ("eid", 12, "eid_ahead", 12),  # computed three and a half hours ahead
    ],
)
def test_each_spoofed_identifier_yields_its_one_security_event_and_no_presence(
    tmp_path: Path, staff: list[Badge], which: str, periods_off: int, reason: str, offset: int | None
) -> None:
    spoofer = staff[-1] if which == "static" else staff[0]
    gate = _spoof(tmp_path, staff, spoofer, periods_off)
    assert gate.presence() == []
    events = gate.security()
    assert [(e.office, e.badge, e.reason, e.eid_period_offset) for e in events] == [("bkpsdm", spoofer.id, reason, offset)]
    assert events[0].at - T0 < timedelta(seconds=2) and events[0].rssi_dbm <= -50
    counts = gate.procs["sc-bkpsdm-1"].collector
    assert counts.security_sightings[("bkpsdm", reason)] == 2 * 9 * 60  # every sighting counted, one event sent
    assert counts.security_events[("bkpsdm", reason)] == 1


def test_the_drift_window_and_a_static_badge_where_allowed_give_presence(tmp_path: Path, staff: list[Badge]) -> None:
    for spoofer, off, require in ((staff[0], 1, True), (staff[0], -1, True), (staff[-1], 0, False)):
        gate = _spoof(tmp_path / f"{off}{require}", staff, spoofer, off, require_eid=require)
        assert gate.security() == []
        assert _events(gate.items) == [("bkpsdm", spoofer.id, "check_in")]


def test_unknown_and_non_badge_adverts_are_counted_not_refused(tmp_path: Path, staff: list[Badge]) -> None:
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff[:2]))
    stranger = badges(1, seed=99)[0]
    phone = bytes.fromhex("02011a0aff4c001005031c2d3e4f")  # an iPhone's Nearby advertisement: no badge
    broken = bytes.fromhex("0aff4c00")  # an AD structure running past the end
    for at in seconds(T0, 10):
        gate.send("sc-bkpsdm-1", at, [(stranger.advert(at), -60), (phone, -50), (broken, -70), (staff[0].advert(at), -60)])
    counts = gate.procs["sc-bkpsdm-1"].collector.adverts
    assert (counts[("bkpsdm", "unknown")], counts[("bkpsdm", "not_badge")], counts[("bkpsdm", "malformed")], counts[("bkpsdm", "badge")]) == (10, 10, 10, 10)
    assert gate.rejected == [] and gate.security() == []


def test_office_health_every_window_with_the_roster_version(tmp_path: Path, staff: list[Badge]) -> None:
    gate = Gate(config(tmp_path, summary_every_s=60))
    stranger = staff[0]

    def who(at: datetime, scanner: str) -> Heard:
        return [(stranger, -60.0, 0)] if scanner == "sc-bkpsdm-1" else []

    run(gate, T0, 125, who)  # no roster yet: everything is unknown
    gate.downlink(roster(3, staff))
    run(gate, T0 + timedelta(seconds=125), 60, who)
    health = gate.health("bkpsdm")
    assert [(h.window_start - T0).total_seconds() for h in health] == [0, 60, 120]
    assert [h.roster_version for h in health] == [0, 0, 3]
    assert [h.not_badges for h in health[:2]] == [60, 60] and health[0].badges_heard == 0
    assert health[2].badges_heard == 1 and health[2].present == 1
    first = health[0].scanners
    assert [(s.device, s.messages, s.adverts) for s in first] == [("sc-bkpsdm-1", 60, 60), ("sc-bkpsdm-2", 60, 0)]
    # each scanner's journal is closed by a copy of the one item (same id): the outbox keeps one
    copies = [i for i in gate.items if isinstance(i, OfficeHealth) and i.id == health[0].id]
    assert sorted(c.summarised for c in copies) == [(d, (T0 + timedelta(seconds=60)).timestamp()) for d in SCANNERS["bkpsdm"]]


def test_silent_scanners_check_badges_out_at_their_last_time_heard(tmp_path: Path, staff: list[Badge]) -> None:
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))

    def who(at: datetime, scanner: str) -> Heard:
        return [(staff[0], -60.0, 0)] if scanner.startswith("sc-bkpsdm") else []

    run(gate, T0, 120, who)
    assert _events(gate.items) == [("bkpsdm", staff[0].id, "check_in")]
    gate.tick(T0 + timedelta(seconds=121))  # the gateway's clock: the last message just received
    gate.tick(T0 + timedelta(seconds=121 + 299))
    assert len(gate.presence()) == 1
    gate.tick(T0 + timedelta(seconds=121 + 300))
    out = gate.presence()[-1]
    assert out.event == "check_out" and T0 + timedelta(seconds=118) <= out.at <= T0 + timedelta(seconds=120)


def test_security_events_repeat_at_most_every_ten_minutes_in_whatever_order_the_scanners_report(tmp_path: Path, staff: list[Badge]) -> None:
    """Two scanners of an office hear a cloned static id; the second one's message is a little
    older than the first's but processed after it: it neither raises a second event nor
    moves the next one earlier."""
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    for at in seconds(T0, 25 * 60, 10.0):
        gate.send("sc-bkpsdm-1", at + timedelta(seconds=0.2), [(staff[-1].advert(at), -60)])
        gate.send("sc-bkpsdm-2", at + timedelta(seconds=0.1), [(staff[-1].advert(at), -66)])
    assert [round((e.at - T0).total_seconds(), 1) for e in gate.security()] == [0.2, 600.2, 1200.2]
    assert all(isinstance(e, SecurityEvent) and e.device == "sc-bkpsdm-1" for e in gate.security())
    assert gate.procs["sc-bkpsdm-1"].collector.security_sightings[("bkpsdm", "static_id_where_eid_required")] == 2 * 150


def test_an_office_never_heard_reports_its_health_by_the_wall_clock(tmp_path: Path) -> None:
    """A new gateway whose scanners are not up yet still tells the centre it holds no roster."""
    gate = Gate(config(tmp_path, summary_every_s=60))
    proc = gate.procs["sc-dishub-1"]
    for s in range(0, 200):
        gate.items += proc.tick(T0 + timedelta(seconds=s))
    health = gate.health("dishub")
    assert [(h.window_start - T0).total_seconds() for h in health] == [0, 60, 120]
    assert all(h.roster_version == 0 and h.scanners[0].messages == 0 for h in health)
    # the scanners come up with clocks behind the gateway's: the reading time takes over
    behind = T0 - timedelta(hours=1)
    for at in seconds(behind, 61):
        gate.send("sc-dishub-1", at, [])
        gate.items += proc.tick(T0 + timedelta(seconds=200) + (at - behind))
    assert [(h.window_start - behind).total_seconds() for h in gate.health("dishub")[3:]] == [0]


def test_the_office_level_is_always_its_strongest_fresh_scanners(tmp_path: Path, staff: list[Badge]) -> None:
    """The level is kept incrementally (the hot path); it must equal a full look every time."""
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    office = gate.procs["sc-bkpsdm-1"].office
    rng = random.Random(2)
    at = T0
    for _ in range(3000):
        at += timedelta(seconds=rng.choice([0.1, 0.5, 2.0, 8.0, 25.0]))
        scanner = rng.choice(["sc-bkpsdm-1", "sc-bkpsdm-2"])
        gate.send(scanner, at, [(staff[0].advert(at), rng.randint(-95, -50))])
        track = office.tracks[staff[0].id]
        t = at.timestamp()
        fresh = [f.level for f in track.filters.values() if f.last_t >= t - office.settings.stale_s]
        assert track.level == max(fresh)
