"""SteppedFloats and SteppedRuns: every float comes back bit for bit, in 2 bytes a value (or a
run of equal steps) when the values allow."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinds.awlr.edge.columns import LEVEL_STEPS_PER_CM, SteppedFloats, SteppedRuns

QUEUES = [SteppedFloats, SteppedRuns]


def bits(values: list[float]) -> list[int]:
    return [struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in values]


def filled(values: list[float], scale: int, queue: type = SteppedFloats) -> SteppedFloats:
    col = queue(scale)
    for v in values:
        col.append(v)
    return col


@given(
    values=st.lists(
        st.one_of(
            st.floats(),  # anything: NaN, infinities, -0.0, subnormals, 1e308
            st.integers(-(10**6), 10**6).map(lambda k: k / 10),  # levels as sensors report them
            st.integers(1_600_000_000, 2_000_000_000).map(float),  # whole-second epoch times
        ),
        max_size=60,
    ),
    scale=st.sampled_from([1, 10, LEVEL_STEPS_PER_CM]),
    pops=st.lists(st.integers(0, 40), max_size=6),
    queue=st.sampled_from(QUEUES),
)
def test_every_value_comes_back_exactly(values: list[float], scale: int, pops: list[int], queue: type) -> None:
    """Appends and pops interleaved, as a sliding window does, against a plain list."""
    col, kept, fed = queue(scale), [], iter(values)
    for n in [*pops, len(values)]:
        for v in [v for _, v in zip(range(n), fed)]:
            col.append(v)
            kept.append(v)
        for _ in range(min(n // 2, len(kept))):
            assert bits([col.popleft()]) == bits([kept.pop(0)])
        assert len(col) == len(kept)
        assert bits(list(col)) == bits(kept)
        if kept:
            assert bits([col.first(), col.last()]) == bits([kept[0], kept[-1]])


def test_readings_as_sensors_give_them_take_two_bytes_a_value() -> None:
    times = filled([1_764_000_000.0 + k for k in range(2000)], 1)
    levels = filled([round(120 + 0.3 * math.sin(k), 1) for k in range(2000)], LEVEL_STEPS_PER_CM)
    assert times.step_bytes == levels.step_bytes == 2
    assert list(levels)[57] == round(120 + 0.3 * math.sin(57), 1) and times.last() == 1_764_000_000.0 + 1999


def test_times_of_a_logger_on_schedule_are_one_run() -> None:
    times = filled([1_764_000_000.0 + k for k in range(2000)] + [1_764_002_005.0, 1_764_002_006.0], 1, SteppedRuns)
    assert len(times._run_steps) == 3 and list(times)[-3:] == [1_764_001_999.0, 1_764_002_005.0, 1_764_002_006.0]
    for _ in range(2000):
        times.popleft()
    assert list(times) == [1_764_002_005.0, 1_764_002_006.0] and times.first() == 1_764_002_005.0


def test_a_large_step_widens_the_steps_and_an_emptied_queue_narrows_again() -> None:
    col = filled([100.0, 100.0 + 40.0], LEVEL_STEPS_PER_CM)  # 40,000 steps: beyond int16
    assert col.step_bytes == 4 and list(col) == [100.0, 140.0]
    col.popleft()
    col.popleft()
    col.append(120.5)
    assert col.step_bytes == 2 and list(col) == [120.5]


@pytest.mark.parametrize("queue", QUEUES)
@pytest.mark.parametrize(
    ("scale", "odd"),
    [
        (1, 1_764_000_000.5),  # a fractional second
        (LEVEL_STEPS_PER_CM, 120.00005),  # finer than the scale
        (LEVEL_STEPS_PER_CM, math.nan),  # a missing level
        (LEVEL_STEPS_PER_CM, -0.0),
        (1, math.inf),
        (LEVEL_STEPS_PER_CM, 1e305),
    ],
)
def test_a_value_that_does_not_step_turns_the_queue_into_doubles(scale: int, odd: float, queue: type) -> None:
    first = [1_764_000_000.0, 1_764_000_060.0] if scale == 1 else [120.0, 120.4]
    col = filled(first, scale, queue)
    assert col._doubles is None
    col.append(odd)
    col.append(first[-1])
    assert col._doubles is not None
    assert bits(list(col)) == bits([*first, odd, first[-1]])
    assert bits([col.popleft(), col.first(), col.last()]) == bits([first[0], first[1], first[-1]])


@pytest.mark.parametrize("queue", QUEUES)
@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_scale_must_be_a_positive_integer(bad: object, queue: type) -> None:
    with pytest.raises(ValueError):
        queue(bad)


@pytest.mark.parametrize("queue", QUEUES)
def test_an_empty_queue_has_no_first_value(queue: type) -> None:
    with pytest.raises(IndexError):
        queue().first()
