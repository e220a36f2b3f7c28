"""Scanner clocks and late messages: a scanner whose clock is behind by more than an EID period
hears honest badges whose EIDs are ahead of its clock; a backlog the broker redelivers after a
gateway outage arrives long after it was heard. Neither is spoofing; a replayed or
computed-ahead EID still is."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from kinds.badge.tests.badge_edge_scenes import K, T0, Gate, badges, config, roster, seconds

BEHIND = timedelta(minutes=30)  # almost two periods at K = 10 (17 min)


def test_a_scanner_half_an_hour_behind_raises_no_alarm_and_checks_staff_in(tmp_path: Path) -> None:
    staff = badges(3)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    for real in seconds(T0, 5 * 60):
        gate.send("sc-dishub-1", real - BEHIND, [(b.advert(real), -60) for b in staff], received_at=real)
    assert gate.security() == [] and gate.rejected == []
    assert sorted((p.badge, p.event) for p in gate.presence()) == sorted((b.id, "check_in") for b in staff)
    assert all(abs(p.at - (T0 - BEHIND)) < timedelta(seconds=2) for p in gate.presence())  # dated by the scanner's clock


def test_a_scanner_behind_still_flags_a_replayed_and_a_computed_ahead_eid(tmp_path: Path) -> None:
    staff = badges(3)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    yesterday, ahead = -(86_400 >> K), 4
    for real in seconds(T0, 60):
        heard = [(staff[0].advert(real, yesterday), -60), (staff[1].advert(real, ahead), -60), (staff[2].advert(real), -60)]
        gate.send("sc-dishub-1", real - BEHIND, heard, received_at=real)
    events = sorted((e.badge, e.reason, e.eid_period_offset) for e in gate.security())
    assert events == [(staff[0].id, "eid_replayed", yesterday + 2), (staff[1].id, "eid_ahead", ahead)]
    assert [p.badge for p in gate.presence()] == [staff[2].id]


def test_a_backlog_redelivered_after_a_gateway_outage_raises_no_alarm(tmp_path: Path) -> None:
    """The gateway is down from 07:10 to 08:20; the broker then delivers the scanners' queued
    messages (QoS 1) within a few seconds, an hour and more late, then live ones follow."""
    staff = badges(3)
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    down, up = T0 + timedelta(minutes=10), T0 + timedelta(minutes=80)

    def heard(at: datetime) -> list[tuple[bytes, int]]:
        return [(b.advert(at), -60) for b in staff]

    for at in seconds(T0, 10 * 60):
        gate.send("sc-dishub-1", at, heard(at))
    assert len(gate.presence()) == 3
    gate = gate.restarted()
    for i, at in enumerate(seconds(down, int((up - down).total_seconds()))):
        gate.send("sc-dishub-1", at, heard(at), received_at=up + timedelta(milliseconds=i))
    for at in seconds(up + timedelta(seconds=10), 60):
        gate.send("sc-dishub-1", at, heard(at))
    assert gate.security() == [] and gate.rejected == []
    assert gate.presence() == []  # all three stayed in: no check-out, no second check-in
