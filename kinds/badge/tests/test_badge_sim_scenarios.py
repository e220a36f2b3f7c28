"""The spoofing scenarios are what they claim (the truth they are scored by is right), and the
scoring counts what the issue's targets count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from kinds.badge.config import CIVIL_SERVICE_SCHEDULE
from kinds.badge.items import Presence, SecurityEvent
from kinds.badge.sim.scenarios import SimOffice, plan_spoofs
from kinds.badge.sim.scoring import arrivals, score
from kinds.badge.sim.staff_days import StaffMember, simulate_staff_days
from kinds.badge.sim.truth import Spoof, Stay

OFFICES = [SimOffice("a", "complex", True), SimOffice("b", "complex", True), SimOffice("far", "kecamatan", True), SimOffice("p", "puskesmas", False)]
START = date(2026, 3, 2)
DAYS = [START + timedelta(days=k) for k in range(30)]


def _plan(seed: int) -> tuple[list[Stay], list[Spoof]]:
    members = [StaffMember(f"{o.id}-{i}", o.id, CIVIL_SERVICE_SCHEDULE) for o in OFFICES for i in range(10)]
    truth = simulate_staff_days(members, START, len(DAYS), [], ZoneInfo("Asia/Jakarta"), seed)
    stays = [Stay(d.employee, d.office, a, b) for d in truth for a, b in d.intervals]
    formats = {m.id: "eid" if m.office != "p" else "ibeacon" for m in members}
    return stays, plan_spoofs(formats, OFFICES, stays, DAYS, np.random.default_rng(seed), per_kind=4)


def _inside(stays: list[Stay], badge: str, office: str | None, start: datetime, end: datetime) -> bool:
    return any(s.badge == badge and (office is None or s.office == office) and s.start < end and start < s.end for s in stays)


def test_each_scenario_is_planned_and_is_what_it_claims() -> None:
    stays, spoofs = _plan(7)
    kinds = {s.kind for s in spoofs}
    assert kinds == {"static_clone", "eid_replay", "eid_relay"}
    site = {o.id: o.site for o in OFFICES}
    for s in spoofs:
        assert s.end > s.start
        if s.kind == "static_clone":
            assert s.badge.startswith("p-") and s.office != "p", "a static badge played at an office requiring EIDs"
            assert not _inside(stays, s.badge, None, s.start, s.end), "its holder is at home"
        elif s.kind == "eid_replay":
            assert s.shift_s == 86_400
            recorded = (s.start - timedelta(days=1), s.end - timedelta(days=1))
            assert _inside(stays, s.badge, s.office, *recorded), "recorded while the badge was at its office"
            assert not _inside(stays, s.badge, None, s.start, s.end), "played back while its holder is at home"
        else:
            assert s.source_office is not None and site[s.source_office] != site[s.office], "relayed to another site"
            assert any(st.badge == s.badge and st.office == s.source_office and st.start <= s.start and s.end <= st.end for st in stays), (
                "the holder sits in their own office for the whole relay"
            )
    per_badge: dict[str, list[Spoof]] = {}
    for s in spoofs:
        per_badge.setdefault(s.badge, []).append(s)
    for seq in per_badge.values():
        for x, y in zip(seq, seq[1:]):
            assert y.start - x.end >= timedelta(days=1) - timedelta(hours=1) or x.kind == y.kind == "static_clone"


def test_the_same_seed_plans_the_same_attempts() -> None:
    assert _plan(3)[1] == _plan(3)[1]
    assert _plan(3)[1] != _plan(4)[1]


T0 = datetime(2026, 3, 2, 0, 20, tzinfo=UTC)  # 07:20 WIB


def _check_in(badge: str, office: str, decided: datetime, event: str = "check_in") -> Presence:
    return Presence(id=f"gw:{office}:{badge}:{event}:{decided.timestamp()}", office=office, device="scn-1", badge=badge, event=event,
                    at=decided - timedelta(seconds=30), decided_at=decided, rssi_dbm=-70, distance_m=3.0, scanners=2)


def _alarm(badge: str, office: str, reason: str, at: datetime) -> SecurityEvent:
    return SecurityEvent(id=f"gw:{office}:{badge}:{reason}:{at.timestamp()}", office=office, device="scn-1", badge=badge, reason=reason,
                         at=at, rssi_dbm=-70)


def test_a_return_after_a_short_absence_is_no_arrival_and_one_near_the_timeout_is_not_scored() -> None:
    b = "b000000000001"
    stays = [Stay(b, "a", T0, T0 + timedelta(hours=1)), Stay(b, "a", T0 + timedelta(hours=1, minutes=2), T0 + timedelta(hours=2)),
             Stay(b, "a", T0 + timedelta(hours=2, minutes=5), T0 + timedelta(hours=3)), Stay(b, "a", T0 + timedelta(hours=4), T0 + timedelta(hours=5))]
    got, ambiguous = arrivals(stays, absence_s=300)
    assert [a.at for a in got] == [T0, T0 + timedelta(hours=4)] and ambiguous == 1


def test_scoring_counts_timely_check_ins_missed_attempts_false_alarms_and_spoofed_presences() -> None:
    b1, b2, b3 = "b000000000001", "b000000000002", "b000000000003"
    stays = [Stay(b1, "a", T0, T0 + timedelta(hours=8)), Stay(b2, "a", T0, T0 + timedelta(hours=8)), Stay(b3, "b", T0, T0 + timedelta(hours=8))]
    relay = Spoof("eid_relay", b1, "far", T0 + timedelta(hours=1), T0 + timedelta(hours=1, minutes=20), source_office="a")
    replay = Spoof("eid_replay", b3, "b", T0 + timedelta(days=1), T0 + timedelta(days=1, minutes=20), shift_s=86_400, source_office="b")
    items = [
        _check_in(b1, "a", T0 + timedelta(seconds=50)),
        _check_in(b2, "a", T0 + timedelta(seconds=200)),  # late: 3 min 20 s
        # b3 never checked in; the relay caught, but the relayed badge also checked in far away:
        _alarm(b1, "far", "two_offices", T0 + timedelta(hours=1, seconds=40)),
        _check_in(b1, "far", T0 + timedelta(hours=1, minutes=1)),
        _alarm(b2, "a", "eid_replayed", T0 + timedelta(hours=3)),  # an honest badge accused
        _check_in(b2, "b", T0 + timedelta(hours=2)),  # next door, through the wall
    ]
    sc = score(stays, [relay, replay], items)
    assert (sc.arrivals, sc.on_time, len(sc.late), sc.never) == (3, 1, 1, 1)
    assert sc.on_time_share == pytest.approx(1 / 3)
    assert [s.kind for s in sc.missed] == ["eid_replay"]
    assert [e.badge for e in sc.false_alarms] == [b2]
    assert [(p.badge, p.office) for p in sc.spoofed_presences] == [(b1, "far")]
    assert [(p.badge, p.office) for p in sc.spurious_check_ins] == [(b2, "b")]
    assert sc.summary()["spoofing_attempts"] == {"eid_relay": 1, "eid_replay": 1}
