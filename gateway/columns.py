"""A column of floats that keeps every value exactly, in half the memory when it can.

The one per-station state on a gateway that grows with the reading rate is the rate-of-rise
window (its points: 1,800 of them a station at one reading a second), and with hundreds of
stations on a small box that column is the memory that grows with the load. The values are rarely arbitrary
doubles: clocks tick in whole seconds, levels come off the wire with a few decimals. Such a
value is kept as a 32-bit integer `k` with `value == (k + base) / scale`, which is checked on
every append; the first value that would not come back bit for bit (NaN, -0.0, more decimals
than the scale, out of range) turns the column into plain doubles for as long as it lives.
Either way the column returns exactly the floats appended.
"""

from __future__ import annotations

import math
from array import array

#: River levels in cm are packed in steps of a thousandth of a cm: sensors report mm or
#: tenths of one. A finer level is kept too, as a double.
LEVEL_STEPS_PER_CM = 1000

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_STEP_LIMIT = 2.0**32  # beyond any int32 step, and short of where round() meets inf
_NEG_ZERO = -0.0  # x + -0.0 == x for every double, signed zeros and NaN included


class PackedFloats:
    """Append-only (plus dropping from the front) column of floats, as int32 where exact.

    `scale` is how many steps a unit has: 1 for times in seconds, 1000 for levels in cm
    (hundredths of a millimetre would need 10_000). The first value sets `base`, so the int32
    range is around it (68 years of seconds, 21 km of levels in thousandths of a cm).
    Indexing and `len` behave as on a sequence, so `bisect` works on it."""

    __slots__ = ("_a", "_base", "_scale")

    def __init__(self, scale: int = 1) -> None:
        if not (isinstance(scale, int) and scale >= 1):
            raise ValueError(f"scale must be a positive integer, got {scale!r}")
        self._a = array("i")
        self._scale = float(scale)
        self._base: float | None = None

    @property
    def packed(self) -> bool:
        """Whether values are held as int32 (4 bytes each) rather than doubles (8)."""
        return self._a.typecode == "i"

    def __len__(self) -> int:
        return len(self._a)

    def __getitem__(self, i: int) -> float:
        return (self._a[i] + self._base) / self._scale  # type: ignore[operator]

    def append(self, value: float) -> None:
        a = self._a
        if a.typecode == "i":
            k = self._packed(value)
            if k is not None:
                a.append(k)
                return
            self._unpack()
            a = self._a
        a.append(value)

    def _packed(self, value: float) -> int | None:
        """`value` as an int32 step, or None when it would not come back exactly."""
        scaled = value * self._scale
        if not math.isfinite(scaled):
            return None
        scale = self._scale
        base = self._base
        if base is None:
            base = self._base = float(round(scaled))
        step = scaled - base  # finite each, yet their difference can overflow
        if not -_STEP_LIMIT < step < _STEP_LIMIT:
            return None
        k = round(step)
        if not _INT_MIN <= k <= _INT_MAX or (k + base) / scale != value or (value == 0 and math.copysign(1.0, value) < 0):
            return None
        return k

    def _unpack(self) -> None:
        self._a = array("d", [self[i] for i in range(len(self._a))])
        self._base, self._scale = _NEG_ZERO, 1.0

    def drop_first(self, k: int) -> None:
        """Forget the first `k` values."""
        del self._a[:k]

    def tolist(self, start: int = 0) -> list[float]:
        """The values from `start` on, as Python floats."""
        base, scale = self._base, self._scale
        return [(k + base) / scale for k in self._a[start:]]  # type: ignore[operator]
