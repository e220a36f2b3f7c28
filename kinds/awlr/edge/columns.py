"""Queues of floats that keep every value exactly, in two bytes a value or less when they can.

The one per-station state on a gateway that grows with the reading rate is the rate-of-rise
window: its points, 1,800 of them a station at one reading a second. The values are rarely
arbitrary doubles: clocks tick in whole seconds, levels come off the wire with a few decimals,
and one reading differs little from the one before. Such a value is kept as the integer step
`k - k_before` where `value == k / scale`, checked on every append, in the narrowest array
that holds the steps (int16, widened to int32 or int64 when a step needs it); the first value
that would not come back bit for bit (NaN, -0.0, more decimals than the scale, out of range)
turns the queue into plain doubles for as long as it lives. Either way it returns exactly the
floats appended. A logger's clock steps by the same interval reading after reading, so its
times are kept as runs of equal steps (`SteppedRuns`): a few bytes a window.
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


class _ExactQueue:
    """What both queues share: the first and last values, from their integers or as doubles."""

    __slots__ = ()
    _scale: float
    _first: int
    _last: int
    _doubles: array[float] | None

    def __len__(self) -> int:
        raise NotImplementedError

    def _doubles_from(self) -> int:
        return 0

    def first(self) -> float:
        if self._doubles is not None:
            return self._doubles[self._doubles_from()]
        if not len(self):
            raise IndexError("first() of an empty queue")
        return self._first / self._scale

    def last(self) -> float:
        if self._doubles is not None:
            return self._doubles[-1]
        if not len(self):
            raise IndexError("last() of an empty queue")
        return self._last / self._scale


class SteppedFloats(_ExactQueue):
    """Append at the end, pop from the front; `first()`, `last()`, iteration oldest first.

    `scale` is how many steps a unit has: 1 for times in seconds, 1000 for levels in cm."""

    __slots__ = ("_steps", "_scale", "_first", "_last", "_start", "_doubles")
    # Popped values kept before the array is shifted down. Small: shifting is one memmove,
    # while every value kept costs its bytes per station for as long as it runs.
    _COMPACT_AT = 16

    def __init__(self, scale: int = 1) -> None:
        self._scale = _checked_scale(scale)
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

    def _doubles_from(self) -> int:
        return self._start

    def append(self, value: float) -> None:
        if self._doubles is None:
            k = _integral(value, self._scale)
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



class SteppedRuns(_ExactQueue):
    """`SteppedFloats` with the steps as runs of equal steps (step, how many), for values that
    advance evenly (times of readings): one run for a logger on schedule, two more for each
    reading left out."""

    __slots__ = ("_scale", "_first", "_last", "_n", "_run_steps", "_run_counts", "_run_start", "_doubles")
    _COMPACT_AT = 16

    def __init__(self, scale: int = 1) -> None:
        self._scale = _checked_scale(scale)
        self._first = self._last = 0  # k of the first value kept, and of the last
        self._n = 0  # values kept, as steps
        self._run_steps = array("q")  # runs of the steps between the values kept, oldest first
        self._run_counts = array("q")
        self._run_start = 0  # runs before it are used up
        self._doubles: array[float] | None = None  # the values themselves, once one does not fit

    def __len__(self) -> int:
        return self._n if self._doubles is None else len(self._doubles)

    def __iter__(self) -> Iterator[float]:
        if self._doubles is not None:
            return iter(self._doubles.tolist())
        return iter(self._values())

    def _values(self) -> list[float]:
        if not self._n:
            return []
        k, scale = self._first, self._scale
        out = [k / scale]
        for i in range(self._run_start, len(self._run_steps)):
            step = self._run_steps[i]
            for _ in range(self._run_counts[i]):
                k += step
                out.append(k / scale)
        return out

    def append(self, value: float) -> None:
        if self._doubles is None:
            k = _integral(value, self._scale)
            if k is not None:
                if not self._n:
                    self._first = k
                    del self._run_steps[:], self._run_counts[:]
                    self._run_start = 0
                else:
                    step = k - self._last
                    if len(self._run_steps) > self._run_start and self._run_steps[-1] == step:
                        self._run_counts[-1] += 1
                    else:
                        self._run_steps.append(step)
                        self._run_counts.append(1)
                self._last = k
                self._n += 1
                return
            self._doubles = array("d", self._values())
            self._n = 0
        self._doubles.append(value)

    def popleft(self) -> float:
        if self._doubles is not None:
            value = self._doubles[0]
            del self._doubles[0]  # at most a window of them, and only after an odd clock
            return value
        value = self.first()
        self._n -= 1
        if self._n:
            i = self._run_start
            self._first += self._run_steps[i]
            self._run_counts[i] -= 1
            if not self._run_counts[i]:
                self._run_start = i = i + 1
                if i >= self._COMPACT_AT:
                    del self._run_steps[:i], self._run_counts[:i]
                    self._run_start = 0
        return value


def _checked_scale(scale: int) -> float:
    if not (isinstance(scale, int) and not isinstance(scale, bool) and scale >= 1):
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    return float(scale)


def _integral(value: float, scale: float) -> int | None:
    """`k` with `k / scale == value` exactly, or None."""
    scaled = value * scale
    if not -_EXACT_LIMIT < scaled < _EXACT_LIMIT:  # also NaN
        return None
    k = round(scaled)
    if k / scale != value or (value == 0 and math.copysign(1.0, value) < 0):
        return None
    return k
