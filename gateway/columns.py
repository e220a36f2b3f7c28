"""A queue of floats that keeps every value exactly, in two bytes a value when it can.

The one per-station state on a gateway that grows with the reading rate is the rate-of-rise
window: its points, 1,800 of them a station at one reading a second. The values are rarely
arbitrary doubles: clocks tick in whole seconds, levels come off the wire with a few decimals,
and one reading differs little from the one before. Such a value is kept as the integer step
`k - k_before` where `value == k / scale`, checked on every append, in the narrowest array
that holds the steps (int16, widened to int32 or int64 when a step needs it); the first value
that would not come back bit for bit (NaN, -0.0, more decimals than the scale, out of range)
turns the queue into plain doubles for as long as it lives. Either way it returns exactly the
floats appended.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterator

#: River levels in cm are kept in steps of a thousandth of a cm: sensors report mm or tenths
#: of one. A finer level is kept too, as a double.
LEVEL_STEPS_PER_CM = 1000

_EXACT_LIMIT = 2.0**53  # beyond it not every integer is a double
_WIDER = {"h": "i", "i": "q"}


class SteppedFloats:
    """Append at the end, pop from the front; `first()`, `last()`, iteration oldest first.

    `scale` is how many steps a unit has: 1 for times in seconds, 1000 for levels in cm."""

    __slots__ = ("_steps", "_scale", "_first", "_last", "_start", "_doubles")
    # Popped values kept before the array is shifted down. Small: shifting is one memmove,
    # while every value kept costs its bytes per station for as long as it runs.
    _COMPACT_AT = 16

    def __init__(self, scale: int = 1) -> None:
        if not (isinstance(scale, int) and not isinstance(scale, bool) and scale >= 1):
            raise ValueError(f"scale must be a positive integer, got {scale!r}")
        self._scale = float(scale)
        self._steps = array("h")  # _steps[i]: k of value i less k of value i - 1 (0 for the first ever)
        self._first = 0  # k of the first value kept
        self._last = 0  # k of the last value
        self._start = 0  # values before it are popped
        self._doubles: array[float] | None = None  # the values themselves, once one does not fit

    @property
    def step_bytes(self) -> int:
        """Bytes a value takes: 2, 4 or 8 as steps, 8 as doubles."""
        return self._steps.itemsize if self._doubles is None else 8

    def __len__(self) -> int:
        return len(self._steps if self._doubles is None else self._doubles) - self._start

    def __iter__(self) -> Iterator[float]:
        if self._doubles is not None:
            return iter(self._doubles[self._start :].tolist())
        return iter(self._values())

    def _values(self) -> list[float]:
        k, scale, steps = self._first, self._scale, self._steps
        out = [k / scale] if len(self) else []
        for i in range(self._start + 1, len(steps)):
            k += steps[i]
            out.append(k / scale)
        return out

    def first(self) -> float:
        if self._doubles is not None:
            return self._doubles[self._start]
        if not len(self):
            raise IndexError("first() of an empty queue")
        return self._first / self._scale

    def last(self) -> float:
        if self._doubles is not None:
            return self._doubles[-1]
        if not len(self):
            raise IndexError("last() of an empty queue")
        return self._last / self._scale

    def append(self, value: float) -> None:
        if self._doubles is None:
            k = self._integral(value)
            if k is not None:
                if not len(self):
                    self._steps, self._start, self._first = array("h", [0]), 0, k
                else:
                    self._push(k - self._last)
                self._last = k
                return
            self._doubles = array("d", self._values())
            self._steps, self._start = array("h"), 0
        self._doubles.append(value)

    def popleft(self) -> float:
        value = self.first()
        self._start += 1
        if self._doubles is None and len(self):
            self._first += self._steps[self._start]
        if self._start >= self._COMPACT_AT:
            del (self._steps if self._doubles is None else self._doubles)[: self._start]
            self._start = 0
        return value

    def _push(self, step: int) -> None:
        while True:
            try:
                self._steps.append(step)
                return
            except OverflowError:
                self._steps = array(_WIDER[self._steps.typecode], self._steps)

    def _integral(self, value: float) -> int | None:
        """`k` with `k / scale == value` exactly, or None."""
        scaled = value * self._scale
        if not -_EXACT_LIMIT < scaled < _EXACT_LIMIT:  # also NaN
            return None
        k = round(scaled)
        if k / self._scale != value or (value == 0 and math.copysign(1.0, value) < 0):
            return None
        return k
