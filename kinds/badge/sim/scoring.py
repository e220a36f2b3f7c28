"""The gateway's decisions scored against the simulator's truth: the issue's targets.

* Check-ins: each true arrival (a stay that starts after the holder was away longer than the
  gateway's absence timeout, or the day's first) wants a `check_in` of that badge at that
  office decided within `within_s` (2 minutes) of it. A return after a shorter absence is no
  arrival (the gateway rightly kept the badge in); one after an absence within a minute of the
  timeout is ambiguous and not scored (counted apart).
* Spoofing: each attempt wants a security event of its reason on its badge during the attempt
  (or within `late_s` after it, plus `after_s(attempt)`: a relay's dispute lasts until the far
  office has been silent for the travel time between the two, and its events with it). A miss
  is one without.
* False alarms: security events that belong to no attempt (an honest badge accused).
* Spoofed presences: check-ins of a spoofed badge at the attempt's office while it was being
  spoofed there and its holder was not there.
* Check-ins after a dispute: a relayed badge is checked out of its holder's office while the
  gateway cannot tell which side is the relay, and checked in there again once the relay is
  silent long enough; such a check-in is counted apart, not as spurious.
* Spurious check-ins: check-ins that match no true arrival and no spoofing (a badge checked in
  at the office next door through the wall, say).

Pure.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from kinds.badge.items import Presence, SecurityEvent
from kinds.badge.sim.truth import Spoof, Stay


@dataclass(frozen=True, slots=True)
class Arrival:
    badge: str
    office: str
    at: datetime


@dataclass
class Score:
    arrivals: int = 0
    on_time: int = 0  # check-ins decided within `within_s` of the arrival
    late: list[float] = field(default_factory=list)  # seconds after the arrival, for those later (None: never)
    never: int = 0
    ambiguous_returns: int = 0
    spoofs: dict[str, int] = field(default_factory=dict)  # scenario -> attempts
    missed: list[Spoof] = field(default_factory=list)
    false_alarms: list[SecurityEvent] = field(default_factory=list)
    spoofed_presences: list[Presence] = field(default_factory=list)
    spurious_check_ins: list[Presence] = field(default_factory=list)
    after_disputes: list[Presence] = field(default_factory=list)
    decide_s: list[float] = field(default_factory=list)  # decision delay of every matched check-in

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.arrivals if self.arrivals else None

    def summary(self) -> dict[str, object]:
        delays = sorted(self.decide_s)
        pct = lambda p: delays[min(len(delays) - 1, int(p * (len(delays) - 1) + 0.5))] if delays else None  # noqa: E731
        return {
            "arrivals": self.arrivals, "checked_in_within_2_min": self.on_time,
            "share_within_2_min": round(self.on_time_share, 5) if self.on_time_share is not None else None,
            "checked_in_later": len(self.late), "never_checked_in": self.never, "ambiguous_returns": self.ambiguous_returns,
            "decision_delay_s": {"p50": pct(0.5), "p99": pct(0.99), "max": delays[-1] if delays else None},
            "spoofing_attempts": self.spoofs, "spoofing_missed": len(self.missed),
            "false_alarms": len(self.false_alarms), "spoofed_presences": len(self.spoofed_presences),
            "spurious_check_ins": len(self.spurious_check_ins), "check_ins_after_disputes": len(self.after_disputes),
        }


def arrivals(stays: Iterable[Stay], absence_s: float) -> tuple[list[Arrival], int]:
    """True arrivals, and how many returns fall within a minute of the absence timeout."""
    by: dict[tuple[str, str], list[Stay]] = defaultdict(list)
    for s in stays:
        by[(s.badge, s.office)].append(s)
    out: list[Arrival] = []
    ambiguous = 0
    for (badge, office), seq in by.items():
        seq.sort(key=lambda s: s.start)
        last_end: datetime | None = None
        for s in seq:
            gap = None if last_end is None else (s.start - last_end).total_seconds()
            if gap is None or gap > absence_s + 60:
                out.append(Arrival(badge, office, s.start))
            elif gap > absence_s - 60:
                ambiguous += 1
            last_end = max(last_end, s.end) if last_end else s.end
    return out, ambiguous


def score(
    stays: Sequence[Stay], spoofs: Sequence[Spoof], items: Iterable[object], *, absence_s: float = 300.0,
    within_s: float = 120.0, late_s: float = 120.0, after_s: Callable[[Spoof], float] | None = None,
) -> Score:
    presences = [i for i in items if isinstance(i, Presence | SecurityEvent)]
    check_ins = [p for p in presences if isinstance(p, Presence) and p.event == "check_in"]
    events = [e for e in presences if isinstance(e, SecurityEvent)]
    sc = Score()
    found, sc.ambiguous_returns = arrivals(stays, absence_s)
    sc.arrivals = len(found)
    by_key: dict[tuple[str, str], list[Presence]] = defaultdict(list)
    for p in check_ins:
        by_key[(p.badge, p.office)].append(p)
    for seq in by_key.values():
        seq.sort(key=lambda p: p.decided_at)
    used: set[int] = set()
    per: dict[tuple[str, str], list[Arrival]] = defaultdict(list)
    for a in found:
        per[(a.badge, a.office)].append(a)
    for key, seq in per.items():
        seq.sort(key=lambda a: a.at)
        for k, a in enumerate(seq):
            # The first check-in decided from the arrival (a minute's slack for clocks) until
            # the holder's next arrival there.
            until = seq[k + 1].at if k + 1 < len(seq) else None
            p = next((
                p for p in by_key[key]
                if id(p) not in used and p.decided_at >= a.at - timedelta(seconds=60) and (until is None or p.decided_at < until)
            ), None)
            if p is None:
                sc.never += 1
                continue
            used.add(id(p))
            delay = (p.decided_at - a.at).total_seconds()
            sc.decide_s.append(delay)
            if delay <= within_s:
                sc.on_time += 1
            else:
                sc.late.append(delay)

    for s in spoofs:
        sc.spoofs[s.kind] = sc.spoofs.get(s.kind, 0) + 1
    matched: set[int] = set()
    redecided: list[Presence] = []
    for s in spoofs:
        until = s.end + timedelta(seconds=late_s + (after_s(s) if after_s is not None else 0.0))
        hit = False
        for e in events:
            if e.badge == s.badge and e.reason == s.expected_reason and s.start - timedelta(seconds=5) <= e.at <= until:
                matched.add(id(e))
                hit = True
        if not hit:
            sc.missed.append(s)
        if s.kind == "eid_relay":
            redecided += [
                p for p in check_ins
                if p.badge == s.badge and p.office == s.source_office and s.start <= p.decided_at <= until + timedelta(seconds=absence_s)
            ]
        truly_there = [st for st in stays if st.badge == s.badge and st.office == s.office and st.start < s.end and s.start < st.end]
        if not truly_there:
            sc.spoofed_presences += [
                p for p in check_ins
                if p.badge == s.badge and p.office == s.office and s.start <= p.decided_at <= s.end + timedelta(seconds=late_s)
            ]
    sc.false_alarms = [e for e in events if id(e) not in matched]
    spoofed = {id(p) for p in sc.spoofed_presences}
    sc.after_disputes = [p for p in redecided if id(p) not in used and id(p) not in spoofed]
    apart = spoofed | {id(p) for p in sc.after_disputes}
    sc.spurious_check_ins = [p for p in check_ins if id(p) not in used and id(p) not in apart]
    return sc
