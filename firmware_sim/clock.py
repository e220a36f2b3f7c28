"""Simulated time that starts in the past, runs fast, and then follows the real clock.

Why: a demo or a test should see a whole flood (12 h of history) in seconds, yet the gateway
rejects readings stamped in the future and ingest stores them by their timestamp. So the
simulated clock starts ``lookback_h`` ago, runs ``speed`` times faster than real time, and
once it has caught up with the real clock it runs in real time: readings never carry a
future timestamp, and after the catch-up they arrive when a real logger would send them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(name: str, value: object) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(timezone.utc)


def aligned_epoch(now: datetime, lookback_h: float, interval_s: float) -> datetime:
    """``now - lookback_h``, floored to a multiple of ``interval_s`` and to a whole second.

    Real loggers read on the minute; whole seconds also survive the serial wire format, which
    has no sub-second digits, so both transports carry the same timestamp.
    """
    now = _aware("now", now)
    if not (math.isfinite(lookback_h) and lookback_h >= 0):
        raise ValueError(f"lookback_h must be >= 0, got {lookback_h!r}")
    if not (math.isfinite(interval_s) and interval_s > 0):
        raise ValueError(f"interval_s must be > 0, got {interval_s!r}")
    start = now.timestamp() - lookback_h * 3600.0
    start = math.floor(math.floor(start / interval_s) * interval_s)
    return datetime.fromtimestamp(start, timezone.utc)


class SimClock:
    """Simulated time: ``epoch + speed * real elapsed``, never later than the real clock.

    Because ``speed >= 1`` and the epoch is not in the future, the gap to real time only
    shrinks; once it is zero the clock simply returns ``now_fn()``.
    """

    def __init__(self, epoch: datetime, speed: float, now_fn: Callable[[], datetime] = utc_now) -> None:
        if not (isinstance(speed, (int, float)) and math.isfinite(speed) and speed >= 1):
            raise ValueError(f"speed must be a finite number >= 1, got {speed!r}")
        self._now_fn = now_fn
        self._real_start = _aware("now_fn()", now_fn())
        self.epoch = _aware("epoch", epoch)
        if self.epoch > self._real_start:
            raise ValueError(f"epoch {self.epoch.isoformat()} is in the future: readings would be stamped ahead of real time")
        self.speed = float(speed)

    @classmethod
    def starting(
        cls, lookback_h: float, interval_s: float, speed: float, now_fn: Callable[[], datetime] = utc_now
    ) -> "SimClock":
        """A clock whose epoch is ``lookback_h`` before now, aligned to the reading interval."""
        return cls(aligned_epoch(now_fn(), lookback_h, interval_s), speed, now_fn)

    def real_now(self) -> datetime:
        return _aware("now_fn()", self._now_fn())

    def now(self) -> datetime:
        """The simulated time, which is never ahead of the real clock."""
        real = self.real_now()
        fast = self.epoch + (real - self._real_start) * self.speed
        return min(fast, real)

    def hours(self, at: datetime | None = None) -> float:
        """Hours since the epoch, the time axis of the hydrograph."""
        t = self.now() if at is None else _aware("at", at)
        return (t - self.epoch).total_seconds() / 3600.0

    def caught_up(self) -> bool:
        real = self.real_now()
        return self.epoch + (real - self._real_start) * self.speed >= real

    def real_seconds_until(self, target: datetime) -> float:
        """How long to sleep (real seconds) until the simulated clock reaches ``target``.

        0 if it already has. Simulated time is the lesser of the fast clock and the real one,
        so both must have reached the target: the wait is the longer of the two.
        """
        target = _aware("target", target)
        real = self.real_now()
        fast = self.epoch + (real - self._real_start) * self.speed
        return max(0.0, (target - fast).total_seconds() / self.speed, (target - real).total_seconds())
