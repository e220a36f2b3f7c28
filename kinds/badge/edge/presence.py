"""Is a badge in an office? One small state machine per badge and office, fed the office's
smoothed level of the badge (the strongest of its scanners, `rssi.RssiFilter`) each time a
scanner hears it, and the office's time when nobody does. Pure: times are passed in (Unix
seconds from the readings, never a clock), nothing is read or written.

States: `OUT`, `DWELL` (strong enough, waiting to be sure), `IN`.

- Enter: the level at or above `enter_dbm` for `dwell_s` (30 s) without a break: a badge
  carried past the door, or heard for a moment through a wall, enters nothing. The check-in
  is dated at the start of that dwell (when the person arrived), not when it was confirmed.
  A silence longer than `max_gap_s` (a scanner misses a few advertisements in a row, never
  15 s of them) or one smoothed sample below `enter_dbm` restarts the dwell.
- Leave: the level below `exit_dbm` for `exit_hold_s` (a body or a door between badge and
  scanner takes 10 dB or more for a few seconds; the filter already averages most of that),
  or not heard at all for `absence_s` (5 min: the badge left the building, or its battery
  died). The check-out is dated at the last time the badge was heard inside (level at or
  above `exit_dbm`), when the person left.
- Hysteresis: `exit_dbm` is below `enter_dbm` (config: 10 dB by default), so a badge whose
  level sits between them stays as it is; with the filter's residual scatter of ~1.4 dB a
  level cannot cross both thresholds by noise, and so cannot flap.

Which office may take a badge (one office of a gateway at a time, the strongest with a margin)
is the caller's decision, passed in as `may_enter` (`edge.office`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

OUT, DWELL, IN = 0, 1, 2
CHECK_IN, CHECK_OUT = "check_in", "check_out"


@dataclass(frozen=True, slots=True)
class PresenceSettings:
    """The machine's thresholds (dBm) and times (s); `ValueError` when they make no machine."""

    enter_dbm: float = -75.0
    exit_dbm: float = -85.0
    dwell_s: float = 30.0
    absence_s: float = 300.0
    exit_hold_s: float = 30.0
    max_gap_s: float = 15.0
    #: dB by which another office must be stronger than the one holding a badge to take it.
    margin_db: float = 6.0
    #: A scanner's estimate older than this no longer counts towards the office's level.
    stale_s: float = 20.0

    def __post_init__(self) -> None:
        if not self.exit_dbm < self.enter_dbm:
            raise ValueError(f"exit_dbm {self.exit_dbm} must be below enter_dbm {self.enter_dbm}")
        times = (self.dwell_s, self.absence_s, self.exit_hold_s, self.max_gap_s, self.stale_s)
        if min(times) <= 0 or self.margin_db < 0:
            raise ValueError("presence times must be positive and the margin not negative")
        if self.absence_s <= self.max_gap_s:
            raise ValueError("absence_s must be longer than max_gap_s")


class Transition(NamedTuple):
    event: str  # CHECK_IN or CHECK_OUT
    at: float  # when it happened (dwell start; last heard inside)


class BadgePresence:
    """One badge at one office. `heard` for every smoothed sample, `silent` when the office's
    time moved on without the badge, `leave` when another office took it."""

    __slots__ = ("state", "dwell_start", "dwell_last", "last_heard", "last_inside", "below_since")

    def __init__(self) -> None:
        self.state = OUT
        self.dwell_start = 0.0
        self.dwell_last = 0.0
        self.last_heard = -1e18
        self.last_inside = -1e18
        self.below_since: float | None = None

    def heard(self, t: float, level: float, may_enter: bool, s: PresenceSettings) -> Transition | None:
        if t < self.last_heard:
            t = self.last_heard  # another scanner's older sample: time never runs backwards here
        gap = t - self.last_heard
        self.last_heard = t
        state = self.state
        if state == IN:
            if level >= s.exit_dbm:
                self.last_inside = t
                self.below_since = None
                return None
            if self.below_since is None:
                self.below_since = t
            if t - self.below_since >= s.exit_hold_s:
                self.state = OUT
                self.below_since = None
                return Transition(CHECK_OUT, self.last_inside)
            return None
        if level < s.enter_dbm or not may_enter:
            self.state = OUT
            return None
        if state == OUT or gap > s.max_gap_s:
            self.state = DWELL
            self.dwell_start = t
        self.dwell_last = t
        if t - self.dwell_start >= s.dwell_s:
            self.state = IN
            self.last_inside = t
            self.below_since = None
            return Transition(CHECK_IN, self.dwell_start)
        return None

    def silent(self, now: float, s: PresenceSettings) -> Transition | None:
        """The office's time is `now` and this badge was last heard at `last_heard`."""
        if self.state == IN:
            if now - self.last_heard >= s.absence_s:
                self.state = OUT
                self.below_since = None
                return Transition(CHECK_OUT, self.last_inside)
        elif self.state == DWELL and now - self.last_heard > s.max_gap_s:
            self.state = OUT
        return None

    def leave(self, at: float) -> Transition | None:
        """Another office took the badge from `at` on (its confirming dwell's start): out here,
        dated at the last time heard inside, or `at` if that is later."""
        if self.state != IN:
            self.state = OUT
            return None
        self.state = OUT
        self.below_since = None
        return Transition(CHECK_OUT, min(self.last_inside, at))
