"""Simulated time: fast while catching up, real time afterwards, never in the future."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from firmware_sim.clock import SimClock, aligned_epoch, utc_now

T0 = datetime(2025, 1, 15, 12, 0, 0, tzinfo=timezone.utc)


class FakeWall:
    """A wall clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def test_runs_fast_then_catches_up_and_follows_real_time() -> None:
    wall = FakeWall()
    clock = SimClock(T0 - timedelta(hours=12), speed=100, now_fn=wall)
    assert clock.now() == T0 - timedelta(hours=12)
    wall.advance(60)
    assert clock.now() == T0 - timedelta(hours=12) + timedelta(seconds=6000)
    assert not clock.caught_up()
    # 12 h behind, gaining 99 s per real second: caught up after 12 h / 99.
    wall.advance(12 * 3600 / 99 - 60 + 1)
    assert clock.caught_up()
    assert clock.now() == wall.t
    wall.advance(3600)
    assert clock.now() == wall.t
    assert clock.hours() == pytest.approx(12 + (12 * 3600 / 99 + 1 + 3600) / 3600)


def test_is_never_ahead_of_the_real_clock_and_never_goes_back() -> None:
    wall = FakeWall()
    clock = SimClock(T0 - timedelta(hours=2), speed=5000, now_fn=wall)
    previous = clock.now()
    for _ in range(500):
        wall.advance(0.37)
        now = clock.now()
        assert now <= wall.t
        assert now >= previous
        previous = now
    assert clock.caught_up()


def test_tells_how_long_to_sleep_until_a_simulated_time() -> None:
    wall = FakeWall()
    clock = SimClock(T0 - timedelta(hours=1), speed=10, now_fn=wall)
    assert clock.real_seconds_until(T0 - timedelta(hours=1)) == 0.0
    assert clock.real_seconds_until(T0 - timedelta(minutes=50)) == pytest.approx(60.0)
    # A time after the real "now" needs the real clock to get there too.
    assert clock.real_seconds_until(T0 + timedelta(hours=1)) == pytest.approx(3600.0)
    wall.advance(60)
    assert clock.real_seconds_until(T0 - timedelta(minutes=50)) == 0.0


def test_epoch_is_aligned_to_the_reading_interval() -> None:
    now = datetime(2025, 1, 15, 12, 34, 56, 789000, tzinfo=timezone.utc)
    assert aligned_epoch(now, 12, 60) == datetime(2025, 1, 15, 0, 34, 0, tzinfo=timezone.utc)
    assert aligned_epoch(now, 0, 0.5) == datetime(2025, 1, 15, 12, 34, 56, tzinfo=timezone.utc)
    clock = SimClock.starting(lookback_h=12, interval_s=600, speed=10, now_fn=lambda: now)
    assert clock.epoch == datetime(2025, 1, 15, 0, 30, 0, tzinfo=timezone.utc)


def test_with_the_real_clock_readings_are_not_stamped_in_the_future() -> None:
    clock = SimClock.starting(lookback_h=0.01, interval_s=1, speed=1000)
    for _ in range(100):
        assert clock.now() <= utc_now()
    assert clock.now().tzinfo is not None


@pytest.mark.parametrize(
    "epoch, speed",
    [
        (T0.replace(tzinfo=None), 10),  # naive
        (T0 + timedelta(seconds=1), 10),  # future
        (T0, 0.5),
        (T0, float("inf")),
    ],
)
def test_bad_clock_input_is_a_value_error(epoch: datetime, speed: float) -> None:
    with pytest.raises(ValueError):
        SimClock(epoch, speed, now_fn=FakeWall())


def test_a_naive_wall_clock_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        SimClock(T0, 10, now_fn=lambda: T0.replace(tzinfo=None))
    with pytest.raises(ValueError):
        aligned_epoch(T0, -1, 60)
