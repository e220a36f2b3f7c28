"""Spoofing attempts planned over simulated days, where the truth makes each one what it claims
to be: a clone or a replay is played while the badge's holder is at home (no stay overlaps it),
a relay while the holder is in their own office (a stay covers it).

Pure: the plan depends on the stays, the offices and the seeded generator only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import numpy as np

from kinds.badge.sim.truth import Spoof, Stay

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class SimOffice:
    """What the planner needs of an office: whether it requires EIDs and which site it is on
    (offices on different sites are kilometres apart: a relay between them is impossible travel)."""

    id: str
    site: str
    require_eid: bool
    utc_offset_h: int = 7  # WIB


def _overlaps(stays: Sequence[Stay], start: datetime, end: datetime) -> bool:
    return any(s.start < end and start < s.end for s in stays)


def plan_spoofs(
    formats: dict[str, str], offices: Sequence[SimOffice], stays: Sequence[Stay], days: Sequence[date],
    rng: np.random.Generator, *, per_kind: int = 4, home_office: dict[str, str] | None = None,
) -> list[Spoof]:
    """`formats`: each badge's format (eid, ibeacon, uid). Up to `per_kind` attempts of each
    scenario, the k-th in the k-th part of `days`, on working days of the target office (someone
    works there that day), in working hours; no two attempts on one badge within a day of each
    other. Fewer when the truth offers no fitting moment (say, nobody absent in that part)."""
    by_badge: dict[str, list[Stay]] = defaultdict(list)
    open_days: dict[str, set[date]] = defaultdict(set)
    for s in stays:
        by_badge[s.badge].append(s)
        open_days[s.office].add(_local_day(s.start, 7))
    office = {o.id: o for o in offices}
    home = home_office or {}
    eid_offices = [o.id for o in offices if o.require_eid]
    taken: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    out: list[Spoof] = []
    statics = sorted(b for b, f in formats.items() if f != "eid")
    eids = sorted(b for b, f in formats.items() if f == "eid")

    def free(badge: str, start: datetime, end: datetime) -> bool:
        return all(end + timedelta(days=1) <= a or b + timedelta(days=1) <= start for a, b in taken[badge])

    def shuffled(seq: Sequence[object]) -> list[object]:
        return [seq[i] for i in rng.permutation(len(seq))]

    def part(k: int) -> list[date]:
        return list(days[k * len(days) // per_kind:(k + 1) * len(days) // per_kind])

    def add(spoof: Spoof, since: datetime) -> None:
        out.append(spoof)
        taken[spoof.badge].append((since, spoof.end))

    for k in range(per_kind):
        window = part(k)
        # A static badge's clone played at an office requiring EIDs while its holder is at home.
        done = False
        for day in shuffled(window) if statics and eid_offices else []:
            for badge in shuffled(statics):
                target = eid_offices[int(rng.integers(0, len(eid_offices)))]
                if day not in open_days[target]:
                    continue
                start = _local(day, time(6 + int(rng.integers(0, 13)), int(rng.integers(0, 60))), office[target].utc_offset_h)
                end = start + timedelta(minutes=int(rng.integers(20, 61)))
                if _overlaps(by_badge[badge], start - timedelta(minutes=10), end + timedelta(minutes=10)) or not free(badge, start, end):
                    continue
                add(Spoof("static_clone", badge, target, start, end, source_office=home.get(badge)), start)
                done = True
                break
            if done:
                break
        # An EID recorded at its office one day and played back there the next, its holder at home.
        done = False
        for badge in shuffled(eids):
            for rec in shuffled([s for s in by_badge[badge] if _local_day(s.start, 7) in window]):
                if not office[rec.office].require_eid or rec.end - rec.start < timedelta(minutes=40):
                    continue
                r0 = rec.start + timedelta(minutes=int(rng.integers(5, 15)))
                r1 = r0 + timedelta(minutes=int(rng.integers(15, 31)))
                p0, p1 = r0 + timedelta(days=1), r1 + timedelta(days=1)
                if r1 > rec.end or _local_day(p0, 7) not in open_days[rec.office]:
                    continue
                if _overlaps(by_badge[badge], p0 - timedelta(minutes=10), p1 + timedelta(minutes=10)) or not free(badge, r0, p1):
                    continue
                add(Spoof("eid_replay", badge, rec.office, p0, p1, shift_s=DAY_S, source_office=rec.office), r0)
                done = True
                break
            if done:
                break
        # An EID relayed live to an office on another site while its holder sits in their own.
        done = False
        for badge in shuffled(eids):
            for stay in shuffled([s for s in by_badge[badge] if _local_day(s.start, 7) in window]):
                far = [o for o in eid_offices if office[o].site != office[stay.office].site and _local_day(stay.start, 7) in open_days[o]]
                if not far or stay.end - stay.start < timedelta(minutes=60):
                    continue
                s0 = stay.start + timedelta(minutes=int(rng.integers(10, 25)))
                s1 = s0 + timedelta(minutes=int(rng.integers(10, 31)))
                if s1 + timedelta(minutes=5) > stay.end or not free(badge, s0, s1):
                    continue
                add(Spoof("eid_relay", badge, far[int(rng.integers(0, len(far)))], s0, s1, source_office=stay.office), s0)
                done = True
                break
            if done:
                break
    return sorted(out, key=lambda s: s.start)


def _local(day: date, at: time, utc_offset_h: int) -> datetime:
    return datetime.combine(day, at, tzinfo=timezone(timedelta(hours=utc_offset_h))).astimezone(timezone.utc)


def _local_day(at: datetime, utc_offset_h: int) -> date:
    return at.astimezone(timezone(timedelta(hours=utc_offset_h))).date()
