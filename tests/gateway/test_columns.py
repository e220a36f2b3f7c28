"""SteppedFloats: every float comes back bit for bit, in 2 bytes a value when the values allow."""

from __future__ import annotations

import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.columns import LEVEL_STEPS_PER_CM, SteppedFloats


def bits(values: list[float]) -> list[int]:
    return [struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in values]


def filled(values: list[float], scale: int) -> SteppedFloats:
    col = SteppedFloats(scale)
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
)
def test_every_value_comes_back_exactly(values: list[float], scale: int, pops: list[int]) -> None:
    """Appends and pops interleaved, as a sliding window does, against a plain list."""
    col, kept, fed = SteppedFloats(scale), [], iter(values)
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


def test_a_large_step_widens_the_steps_and_an_emptied_queue_narrows_again() -> None:
    col = filled([100.0, 100.0 + 40.0], LEVEL_STEPS_PER_CM)  # 40,000 steps: beyond int16
    assert col.step_bytes == 4 and list(col) == [100.0, 140.0]
    col.popleft()
    col.popleft()
    col.append(120.5)
    assert col.step_bytes == 2 and list(col) == [120.5]


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
def test_a_value_that_does_not_step_turns_the_queue_into_doubles(scale: int, odd: float) -> None:
    first = [1_764_000_000.0, 1_764_000_060.0] if scale == 1 else [120.0, 120.4]
    col = filled(first, scale)
    assert col.step_bytes == 2
    col.append(odd)
    col.append(first[-1])
    assert col.step_bytes == 8
    assert bits(list(col)) == bits([*first, odd, first[-1]])
    assert bits([col.popleft(), col.first(), col.last()]) == bits([first[0], first[1], first[-1]])


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_scale_must_be_a_positive_integer(bad: object) -> None:
    with pytest.raises(ValueError):
        SteppedFloats(bad)  # type: ignore[arg-type]


def test_an_empty_queue_has_no_first_value() -> None:
    with pytest.raises(IndexError):
        SteppedFloats().first()
