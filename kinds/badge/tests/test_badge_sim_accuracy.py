"""A simulated working day at the gateway's own edge: 20 badges on four offices, with one attempt
of each spoofing scenario placed by hand in it, and honest badges by the wall two offices share.
Behaviour, not timing: every attempt raises its security event and checks nobody in, no honest
badge is accused or checked in next door, and every arrival is checked in (within 2 minutes)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from kinds.badge.sim.edge_run import EdgeRun, roster, sim_config
from kinds.badge.sim.office import ScanStream
from kinds.badge.sim.scoring import Score, score
from kinds.badge.sim.truth import Spoof
from kinds.badge.sim.world import WIB, SimWorld, build_world

DAY = date(2026, 4, 8)  # a Wednesday


def _at(hh: int, mm: int) -> datetime:
    return datetime.combine(DAY, time(hh, mm), tzinfo=WIB)


def _home(sim: SimWorld, badge: str) -> None:
    """The holder of `badge` stays at home on DAY (the truth changed before anything is heard)."""
    sim.world.stays = [s for s in sim.world.stays if not (s.badge == badge and s.start.astimezone(WIB).date() == DAY)]


def _day(tmp: Path) -> tuple[SimWorld, Score, EdgeRun]:
    sim = build_world(20, DAY, 1, seed=3, spoofs_per_kind=0)
    office_of = {b: o for b, (o, _) in sim.world.desk.items()}
    on_day = {s.badge for s in sim.stays}
    eid_badges = sorted(b for b, x in sim.world.badges.items() if x.format == "eid" and b in on_day and b not in sim.world.wall_badges)
    static = sorted(b for b, x in sim.world.badges.items() if x.format != "eid")
    replayed = next(b for b in eid_badges if office_of[b] == "bkpsdm")
    cloned = static[0]
    relayed = next(b for b in eid_badges if office_of[b] == "diskominfo")
    _home(sim, replayed)
    _home(sim, cloned)
    stay = next(s for s in sim.stays if s.badge == relayed and s.end - s.start > timedelta(hours=2))
    relay_start = stay.start + timedelta(minutes=40)
    sim.world.spoofs = [
        # Yesterday's EIDs, recorded at the desk, played back at 09:00 while their holder is at home.
        Spoof("eid_replay", replayed, "bkpsdm", _at(9, 0), _at(9, 20), shift_s=86_400, source_office="bkpsdm"),
        # A phone with the puskesmas badge's static id at BKPSDM, which requires EIDs.
        Spoof("static_clone", cloned, "bkpsdm", _at(10, 0), _at(10, 30), source_office="puskesmas-sindang"),
        # The relayed badge's live EIDs at Haurgeulis, 45 km away, while it sits in Diskominfo.
        Spoof("eid_relay", relayed, "kec-haurgeulis", relay_start, relay_start + timedelta(minutes=15), source_office="diskominfo"),
    ]
    edge = EdgeRun(sim_config(sim, tmp / "outbox.db"))
    edge.send_roster(roster(sim))
    edge.run(ScanStream(sim.world, seed=3).reports(_at(6, 0), _at(18, 0), idle_step_s=60))
    return sim, score(sim.stays, sim.spoofs, edge.items, after_s=sim.dispute_s), edge


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> tuple[SimWorld, Score, EdgeRun]:
    return _day(tmp_path_factory.mktemp("badge-day"))


def test_every_spoofing_attempt_raises_its_event_and_checks_nobody_in(day: tuple[SimWorld, Score, EdgeRun]) -> None:
    sim, sc, edge = day
    assert sc.spoofs == {"eid_replay": 1, "static_clone": 1, "eid_relay": 1}
    assert sc.missed == [], [s.kind for s in sc.missed]
    assert sc.spoofed_presences == []
    reasons = {(e.badge, e.reason) for e in edge.items if hasattr(e, "reason")}
    assert {(s.badge, s.expected_reason) for s in sim.spoofs} <= reasons


def test_no_honest_badge_is_accused_or_checked_in_next_door(day: tuple[SimWorld, Score, EdgeRun]) -> None:
    sim, sc, edge = day
    assert sim.world.wall_badges & {s.badge for s in sim.stays}, "badges by the shared wall came in that day"
    assert sc.false_alarms == []
    assert sc.spurious_check_ins == []


def test_every_arrival_is_checked_in_on_time(day: tuple[SimWorld, Score, EdgeRun]) -> None:
    _, sc, _ = day
    assert sc.arrivals >= 15
    assert sc.never == 0 and sc.on_time == sc.arrivals, sc.late


def test_a_relay_checks_its_badge_in_nowhere_until_the_far_side_is_silent(day: tuple[SimWorld, Score, EdgeRun]) -> None:
    """The gateway cannot tell the relay from the badge: two_offices at both offices, the badge
    checked out of its office meanwhile, and checked in there again only after the relay has
    been silent for the travel time between the offices (45 km at 300 km/h: 9 minutes)."""
    sim, sc, edge = day
    relay = next(s for s in sim.spoofs if s.kind == "eid_relay")
    events = [e for e in edge.items if getattr(e, "reason", None) == "two_offices" and e.badge == relay.badge]
    # (and at the office next door, which hears the holder through the wall during the dispute)
    assert {relay.office, relay.source_office} <= {e.office for e in events}
    check_ins = [p for p in edge.items if getattr(p, "event", None) == "check_in" and p.badge == relay.badge]
    assert all(p.office == relay.source_office for p in check_ins), "never at the far office"
    back = [p for p in check_ins if p.decided_at > relay.start]
    last_relayed = relay.end - timedelta(seconds=1)  # the relay's last advertisement
    assert back and min(p.at for p in back) >= last_relayed + timedelta(seconds=sim.dispute_s(relay) - 1)
    assert sc.after_disputes == back
