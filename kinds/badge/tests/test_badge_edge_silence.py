"""Scanners gone silent (power cut, a failed switch, a replay that ended): badges in are
checked out at their last time heard once no scanner of the office has sent anything for the
absence timeout of gateway time, and only then (`edge.office.Office._silence`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kinds.badge.tests.badge_edge_scenes import T0, Badge, Gate, Heard, badges, config, roster, run

ABSENCE = timedelta(seconds=300)


@pytest.fixture
def staff() -> list[Badge]:
    return badges(3)


def _in_bkpsdm(staff: list[Badge]):
    def who(at: datetime, scanner: str) -> Heard:
        return [(b, -60.0, 0) for b in staff[:2]] if scanner.startswith("sc-bkpsdm") else []

    return who


def _forced(gate: Gate) -> int:
    return gate.procs["sc-bkpsdm-1"].collector.forced_check_outs[("bkpsdm", "scanners_silent")]


def _checked_in(tmp_path: Path, staff: list[Badge]) -> Gate:
    gate = Gate(config(tmp_path))
    gate.downlink(roster(1, staff))
    run(gate, T0, 120, _in_bkpsdm(staff))
    assert sorted((p.badge, p.event) for p in gate.presence()) == [(b.id, "check_in") for b in staff[:2]]
    return gate


def test_five_minutes_of_silence_check_everyone_out_at_their_last_time_heard(tmp_path: Path, staff: list[Badge]) -> None:
    gate = _checked_in(tmp_path, staff)
    last = T0 + timedelta(seconds=121)  # the gateway received the last messages just before
    gate.tick(last)
    gate.tick(last + ABSENCE)
    outs = [p for p in gate.presence() if p.event == "check_out"]
    assert sorted(p.badge for p in outs) == [b.id for b in staff[:2]]
    assert all(T0 + timedelta(seconds=118) <= p.at <= T0 + timedelta(seconds=120, milliseconds=200) for p in outs)
    assert _forced(gate) == 2
    gate.tick(last + 2 * ABSENCE)
    assert len(gate.presence()) == 4  # once

    # the scanners come back (the next morning): badges check in again as any arrival does
    morning = T0 + timedelta(hours=20)
    run(gate, morning, 60, _in_bkpsdm(staff))
    again = [p for p in gate.presence() if p.event == "check_in" and p.at >= morning]
    assert sorted(p.badge for p in again) == [b.id for b in staff[:2]]


def test_four_minutes_of_silence_change_nothing(tmp_path: Path, staff: list[Badge]) -> None:
    gate = _checked_in(tmp_path, staff)
    last = T0 + timedelta(seconds=121)
    gate.tick(last)
    gate.tick(last + timedelta(seconds=240))
    gate.tick(last + ABSENCE - timedelta(seconds=1))
    assert all(p.event == "check_in" for p in gate.presence()) and _forced(gate) == 0


def test_one_scanner_of_the_office_still_sending_keeps_it_alive(tmp_path: Path, staff: list[Badge]) -> None:
    gate = _checked_in(tmp_path, staff)
    start = T0 + timedelta(seconds=121)
    for i in range(0, 900, 2):  # sc-bkpsdm-1 dead for 15 minutes; sc-bkpsdm-2 hears both badges
        at = start + timedelta(seconds=i)
        gate.send("sc-bkpsdm-2", at, [(b.advert(at), -62) for b in staff[:2]])
        gate.tick(at)
    assert all(p.event == "check_in" for p in gate.presence()) and _forced(gate) == 0


def test_a_backlog_redelivered_after_a_restart_is_no_silence(tmp_path: Path, staff: list[Badge]) -> None:
    """The gateway comes back hours later; the broker redelivers the scanners' backlog, times
    long before the gateway's clock: scanners sending, whatever their times say."""
    gate = _checked_in(tmp_path, staff)
    gate = gate.restarted()
    now = T0 + timedelta(hours=5)
    gate.tick(now)
    for i in range(600):  # ten minutes of backlog (scanner time), delivered one message a second
        at = T0 + timedelta(seconds=120 + i)
        got = now + timedelta(seconds=i)
        for scanner in ("sc-bkpsdm-1", "sc-bkpsdm-2"):
            gate.send(scanner, at, [(b.advert(at), -60) for b in staff[:2]], received_at=got)
        gate.tick(got)
    assert not [p for p in gate.presence() if p.event == "check_out"] and _forced(gate) == 0
    # then the backlog ends and nothing more comes: out at the last time heard (scanner time)
    gate.tick(now + timedelta(seconds=599) + ABSENCE)
    outs = [p for p in gate.presence() if p.event == "check_out"]
    assert sorted(p.badge for p in outs) == [b.id for b in staff[:2]]
    assert all(p.at == T0 + timedelta(seconds=719) for p in outs) and _forced(gate) == 2
