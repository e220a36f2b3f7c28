"""Per-device rate limiting at the gateway: a token bucket per device.

A faulty or hostile device on a public network must not starve the others of the gateway's
one processing core. Excess frames are dropped and counted (`rate_limited`), never queued.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """`rate` frames per second on average, bursts up to `burst`; time is passed in (seconds,
    monotonic), so the bucket is a pure state machine."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    last: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not (self.rate > 0 and self.burst >= 1):
            raise ValueError(f"need rate > 0 and burst >= 1, got {self.rate!r}, {self.burst!r}")
        self.tokens = self.burst

    def allow(self, now: float) -> bool:
        if self.last is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
