"""badge_accuracy: does the office gateway check staff in on time, catch every spoofing attempt,
and leave honest badges alone, over a simulated month (issue 21)?

No services: the simulated Indramayu (`kinds.badge.sim.world`: four offices on three sites, two
of them next door to each other, staff days from `staff_days`, the radio of `radio`, spoofing
attempts from `scenarios`) heard second by second by every scanner (`office.ScanStream`), each
scanner's message through the gateway's own edge (`kinds.badge.sim.edge_run`: batch format
encoded and decoded, advertisements resolved, presence and security decided by the kind's
processors) in simulated time, scored against the truth (`kinds.badge.sim.scoring`).
"""

from __future__ import annotations

import time
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

from bench.core import REPO, Context, Figure, Result
from kinds.badge.sim.edge_run import EdgeRun, roster, sim_config
from kinds.badge.sim.office import ScanStream
from kinds.badge.sim.scoring import score
from kinds.badge.sim.world import WIB, build_world

NAME = "badge_accuracy"
#: April 2026: 30 days, Good Friday (3 April) a holiday, the Sunday after Easter too.
MONTH_START = date(2026, 4, 1)
SEED = 21


def holidays() -> list[date]:
    """The tenant's 2026 holidays as the shipped sample configuration lists them."""
    sample = yaml.safe_load((REPO / "kinds" / "badge" / "sample.yaml").read_text())
    return [h if isinstance(h, date) else date.fromisoformat(h) for a in sample.get("attendance", []) for h in a.get("holidays", [])]


def run(ctx: Context) -> Result:
    employees = ctx.scale(40, 20)
    days = ctx.scale(30, 7)
    per_kind = ctx.scale(5, 1)
    sim = build_world(employees, MONTH_START, days, seed=SEED, holidays=holidays(), spoofs_per_kind=per_kind)
    work = ctx.work / NAME
    work.mkdir(parents=True, exist_ok=True)
    edge = EdgeRun(sim_config(sim, work / "outbox.db"))
    edge.send_roster(roster(sim))
    stream = ScanStream(sim.world, seed=SEED)
    start = datetime.combine(MONTH_START, clock(0), tzinfo=WIB).astimezone(timezone.utc)
    t0 = time.monotonic()
    edge.run(stream.reports(start, start + timedelta(days=days + 1), idle_step_s=60))
    elapsed = time.monotonic() - t0
    sc = score(sim.stays, sim.spoofs, edge.items, absence_s=300.0, after_s=sim.dispute_s)
    summary = sc.summary()
    res = Result(
        NAME,
        f"{employees} badges, {len(sim.scanners)} scanners, 4 offices on 3 sites, {days} simulated days from {MONTH_START} "
        f"({edge.adverts:,} advertisements in {edge.messages:,} scanner messages through the gateway's edge in simulated time)",
    )
    attempts = sum(sc.spoofs.values())
    res.figures += [
        Figure("check-ins decided within 2 min of the true arrival", None if sc.on_time_share is None else round(100 * sc.on_time_share, 3), "%",
               target=">= 99", target_of="value", claim="badge_check_in",
               note=f"{sc.on_time} of {sc.arrivals} arrivals; decision delay p50 {summary['decision_delay_s']['p50']} s, "
               f"p99 {summary['decision_delay_s']['p99']} s, max {summary['decision_delay_s']['max']} s"),
        Figure("spoofing attempts missed", len(sc.missed), "attempts", target="<= 0", target_of="value", claim="badge_spoofing",
               note=f"of {attempts}: " + ", ".join(f"{k} {v}" for k, v in sorted(sc.spoofs.items()))),
        Figure("false alarms on honest badges", len(sc.false_alarms), "events", target="<= 0", target_of="value", claim="badge_spoofing",
               note=f"{len(sim.world.wall_badges)} honest badges by the wall two offices share"),
        Figure("check-ins from spoofed sightings or next door", len(sc.spoofed_presences) + len(sc.spurious_check_ins), "check-ins",
               target="<= 0", target_of="value", claim="badge_spoofing"),
    ]
    res.details = {
        "score": summary,
        "simulated_days": days,
        "badges": {"total": employees, "by_format": _formats(sim), "by_the_shared_wall": len(sim.world.wall_badges)},
        "scanners": len(sim.scanners),
        "advertisements": edge.adverts,
        "scanner_messages": edge.messages,
        "health_summaries": edge.health,
        "rejected": dict(edge.rejected),
        "wall_seconds": round(elapsed, 1),
        "attempts": [_attempt(s, edge.items) for s in sim.spoofs],
        "missed": [_spoof(s) for s in sc.missed],
        "false_alarms": [e.model_dump(mode="json") for e in sc.false_alarms[:20]],
        "late_check_ins_s": sorted(sc.late)[:50],
        "spoofed_presences": [p.model_dump(mode="json") for p in sc.spoofed_presences[:20]],
        "spurious_check_ins": [p.model_dump(mode="json") for p in sc.spurious_check_ins[:20]],
        "check_ins_after_disputes": len(sc.after_disputes),
        "method": "arrival = a stay starting after more than absence_s + 60 s away (or the day's first); on time = a check_in of that "
        "badge at that office decided (decided_at) within 120 s of it; an attempt is caught by a security event of its reason on its "
        "badge between its start and 120 s after its end (a relay: plus the travel time between its offices at 300 km/h, as long as "
        "the gateway keeps the badge in dispute); any other security event is a false alarm; the relayed holder's check-in at "
        "their own office after the dispute is counted apart (check_ins_after_disputes)",
    }
    return res


def _formats(sim: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in sim.world.badges.values():
        out[b.format] = out.get(b.format, 0) + 1
    return out


def _spoof(s: Any) -> dict[str, Any]:
    return {"kind": s.kind, "badge": s.badge, "office": s.office, "start": s.start.isoformat(), "end": s.end.isoformat(), "source_office": s.source_office}


def _attempt(s: Any, items: list[Any]) -> dict[str, Any]:
    """One attempt and the first event that caught it, with its delay from the attempt's start."""
    hits = sorted(
        (e for e in items if getattr(e, "reason", None) == s.expected_reason and e.badge == s.badge and s.start <= e.at <= s.end + timedelta(seconds=1200)),
        key=lambda e: e.at,
    )
    out = _spoof(s)
    if hits:
        out.update(caught_after_s=(hits[0].at - s.start).total_seconds(), events=len(hits), at_office=hits[0].office)
    return out


if __name__ == "__main__":  # pragma: no cover - a one-off run without the rest of the bench
    import json
    import sys

    result = run(Context(quick="--quick" in sys.argv, work=Path("bench/work")))
    print(json.dumps(result.to_json(), indent=2, default=str)[:4000])
