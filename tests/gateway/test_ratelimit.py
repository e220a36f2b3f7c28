"""Per-device token bucket: bursts pass, sustained excess is dropped."""

from __future__ import annotations

import pytest

from gateway.ratelimit import TokenBucket


def test_burst_then_rate() -> None:
    b = TokenBucket(rate=2.0, burst=5)
    assert [b.allow(0.0) for _ in range(7)] == [True] * 5 + [False] * 2
    assert b.allow(0.4) is False  # 0.8 token refilled
    assert b.allow(0.5) is True  # 1.0
    passed = sum(b.allow(1.0 + i * 0.01) for i in range(1000))  # 100 attempts/s for 10 s
    assert passed == pytest.approx(20, abs=1)


@pytest.mark.parametrize(("rate", "burst"), [(0, 5), (-1, 5), (1, 0.5)])
def test_rejects_bad_parameters(rate: float, burst: float) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)
