"""The alarms' per-station state on the gateway: Siaga with hysteresis and the rate of rise,
fed one reading at a time, in plain Python (no numpy: the gateway does not load it).

Each equals its vectorised function over a whole series (`kinds.awlr.edge.alarms.siaga_with_hysteresis`;
for the rate of rise, which lives in `kinds.awlr.edge.rise_tracker`, `kinds.awlr.edge.rise.rise_warning`);
tests/gateway/test_alarms.py and test_rise_warning.py hold them to that. The argument checks are
shared with those functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral

from kinds.awlr.edge.rise_tracker import RateOfRiseTracker

__all__ = ["Bounds", "RateOfRiseTracker", "SiagaTracker", "check_bounds", "check_siaga_args", "cleared", "siaga_of"]

Bounds = tuple[float, float, float]


def check_bounds(bounds: Bounds) -> None:
    """Siaga bounds: the lower bounds of Siaga 3, 2 and 1, three finite increasing numbers."""
    try:
        b = tuple(float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bounds must be three finite increasing numbers, got {bounds!r}") from exc
    if len(b) != 3 or not all(math.isfinite(v) for v in b) or not b[0] < b[1] < b[2]:
        raise ValueError(f"bounds must be three finite increasing numbers, got {bounds!r}")


@dataclass(slots=True)  # one per station: no per-instance dict
class SiagaTracker:
    """`siaga_with_hysteresis`, one reading at a time (the gateway's per-station state)."""

    bounds: Bounds
    raise_after: int
    clear_margin_cm: float
    level: int = 4
    # The last `raise_after` good readings, kept as the level each one supports: against the
    # bounds (raise) and against the bounds less the margin (clear). Classified once on arrival
    # rather than on every update for the whole run, which was most of this tracker's cost.
    # Levels are 1..4, so a bytearray holds them: ~60 bytes a station where a deque allocates
    # blocks of 64 slots (~530 bytes, two while it wraps), per tracker and per column.
    _raise: bytearray = field(init=False, repr=False)
    _clear: bytearray = field(init=False, repr=False)
    _clear_bounds: Bounds = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_siaga_args(self.bounds, self.raise_after, self.clear_margin_cm, self.level)
        self._raise = bytearray()
        self._clear = bytearray()
        self._clear_bounds = cleared(self.bounds, self.clear_margin_cm)

    def update(self, level_cm: float, good: bool) -> int | None:
        """Feed one reading; returns the new alarm level when it changes, else None."""
        if not (good and math.isfinite(level_cm)):
            return None
        # Plain Python on purpose: this runs for every reading, numpy's call overhead dominated.
        raised, cleared = self._raise, self._clear
        raised.append(siaga_of(level_cm, self.bounds))
        cleared.append(siaga_of(level_cm, self._clear_bounds))
        if len(raised) > self.raise_after:  # a window of the last `raise_after`, as deque(maxlen=...)
            del raised[0], cleared[0]
        elif len(raised) < self.raise_after:
            return None
        new = min(max(self.level, min(cleared)), max(raised))
        if new == self.level:
            return None
        self.level = new
        return new


def siaga_of(level_cm: float, bounds: Bounds) -> int:
    """`classify_siaga` for one finite number: a level equal to a bound takes the higher alert."""
    b3, b2, b1 = bounds
    return 1 if level_cm >= b1 else 2 if level_cm >= b2 else 3 if level_cm >= b3 else 4


def cleared(bounds: Bounds, margin: float) -> Bounds:
    b3, b2, b1 = bounds
    return (b3 - margin, b2 - margin, b1 - margin)


def check_siaga_args(bounds: Bounds, raise_after: int, clear_margin_cm: float, initial: int) -> int:
    check_bounds(bounds)
    if isinstance(raise_after, bool) or not isinstance(raise_after, Integral) or raise_after < 1:
        raise ValueError(f"raise_after must be a positive integer, got {raise_after!r}")
    if not (math.isfinite(clear_margin_cm) and clear_margin_cm >= 0):
        raise ValueError(f"clear_margin_cm must be finite and >= 0, got {clear_margin_cm!r}")
    if initial not in (1, 2, 3, 4):
        raise ValueError(f"initial must be a Siaga level 1..4, got {initial!r}")
    return int(raise_after)
