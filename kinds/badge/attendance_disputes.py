"""Which presence stays are in dispute: stays of a badge around a `two_offices` security event,
when the badge was heard at two offices further apart than anyone could travel in the time
(`kinds.badge.travel.impossible_travel`). One of the two sightings is an Eddystone-EID relayed
live, and nothing measured tells which.

The rule (used by `attendance_rules.daily_record`): a stay is disputed when it overlaps a
dispute moment of its badge, or starts or ends within the dispute's margin of one. A dispute
moment is each instant a `two_offices` event names, its `at` and its `other_at`, whether a
gateway raised it (between its own offices) or ingest did (across gateways,
`kinds.badge.ingest.two_offices`): the two count the same. A disputed stay counts nothing
(first in, last out, worked minutes, late, early leave), and its day is `disputed` until staff
administration corrects it.

Why: a relayed EID must never earn attendance, and the honest holder's day is held for a human
decision, neither silently credited nor penalised. The gateway cannot always stop the relay's
stay: one that starts before the owner shows up at the other office is an ordinary stay until
the dispute begins (it is then checked out), and the centre stores the security events apart
from presence. Nor can it tell which side is the owner, so both sides' stays around the dispute
are held, and the day waits for someone who can ask.

The margin, `dispute_margin`, covers what the events do not show of a dispute at the gateway:
- the travel time between the two offices at `travel.MAX_KMH`: a dispute ends only once the
  far office has been silent that long, and the badge's presence starts afresh there and then
  (a relay that outlasts its owner gets the badge back right after);
- `EVENT_REPEAT`, the gateway's interval between two security events of one badge, office and
  reason (`kinds.badge.edge.site.SECURITY_EVERY_S`): the last event of a dispute may be that
  much older than its end;
- `SLACK`, a minute: the scanners of two offices have clocks of their own, and a check-in is
  dated at the start of its confirming dwell (30 s by default).
It is capped at `MAX_MARGIN`, a day, longer than the travel time between any two places in
Indonesia at that speed (about 5,100 km from Sabang to Merauke), so a day's record depends on
the events of that day and the day either side only.

Pure: no database, no clock; `ValueError` on bad input.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kinds.badge import travel

#: The security event that puts a badge's stays in dispute.
REASON = "two_offices"
EVENT_REPEAT = timedelta(seconds=600)
SLACK = timedelta(seconds=60)
MAX_MARGIN = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Dispute:
    """A moment the badge was heard at two far offices at once, and how far around it a stay
    is held in dispute (`dispute_margin`)."""

    at: datetime
    margin: timedelta

    def __post_init__(self) -> None:
        if not isinstance(self.at, datetime) or self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError(f"a dispute's moment must be a timezone-aware datetime, not {self.at!r}")
        if not isinstance(self.margin, timedelta) or not timedelta(0) <= self.margin <= MAX_MARGIN:
            raise ValueError(f"a dispute's margin must be between 0 and {MAX_MARGIN}, not {self.margin!r}")


def dispute_margin(distance_km: float | None) -> timedelta:
    """The margin around a `two_offices` event between offices `distance_km` apart (None: not
    known, no travel time counted); see the module."""
    if distance_km is None:
        distance_km = 0.0
    if isinstance(distance_km, bool) or not isinstance(distance_km, (int, float)) or not math.isfinite(distance_km) or distance_km < 0:
        raise ValueError(f"distance_km must be a finite number >= 0 or None, not {distance_km!r}")
    hours = min(distance_km / travel.MAX_KMH, MAX_MARGIN.total_seconds() / 3600)
    return min(timedelta(hours=hours) + EVENT_REPEAT + SLACK, MAX_MARGIN)


def disputes_of(at: datetime, other_at: datetime | None, distance_km: float | None) -> list[Dispute]:
    """The dispute moments of one `two_offices` event: its `at` and, when known, its `other_at`."""
    margin = dispute_margin(distance_km)
    return [Dispute(when, margin) for when in (at, other_at) if when is not None]


def is_disputed(start: datetime, end: datetime, disputes: list[Dispute]) -> bool:
    """Whether the stay from `start` to `end` overlaps a dispute moment or starts or ends within
    its margin of one."""
    return any(start - d.margin <= d.at <= end + d.margin for d in disputes)


def on_day(disputes: list[Dispute], day_start: datetime, day_end: datetime) -> bool:
    """Whether a dispute moment falls on the day [`day_start`, `day_end`)."""
    return any(day_start <= d.at.astimezone(UTC) < day_end for d in disputes)
