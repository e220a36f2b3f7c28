"""PackedFloats: every float comes back bit for bit, in 4 bytes when the value allows."""

from __future__ import annotations

import math
import struct
from bisect import bisect_left

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.columns import LEVEL_STEPS_PER_CM, PackedFloats


def bits(values: list[float] | np.ndarray) -> list[int]:
    return [struct.unpack("<Q", struct.pack("<d", float(v)))[0] for v in values]


def filled(values: list[float], scale: int) -> PackedFloats:
    col = PackedFloats(scale)
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
    drop=st.integers(0, 5),
)
def test_every_value_comes_back_exactly(values: list[float], scale: int, drop: int) -> None:
    col = filled(values, scale)
    assert len(col) == len(values)
    assert bits([col[i] for i in range(len(col))]) == bits(values)
    assert bits(col.tolist()) == bits(values)
    assert bits(col.tolist(min(drop, len(values)))) == bits(values[drop:])
    col.drop_first(drop)
    assert bits(col.tolist()) == bits(values[drop:])
    if len(values) > drop + 2:
        assert bits(col.tolist(1)) == bits(values[drop + 1 :])
        assert bits([col[-1]]) == bits(values[-1:])


def test_readings_as_sensors_give_them_take_four_bytes_a_value() -> None:
    times = filled([1_764_000_000.0 + 60 * k for k in range(200)], 1)
    levels = filled([round(120 + 0.1 * k, 1) for k in range(200)], LEVEL_STEPS_PER_CM)
    assert times.packed and levels.packed
    assert levels[57] == round(120 + 0.1 * 57, 1) and times[-1] == 1_764_000_000.0 + 60 * 199


@pytest.mark.parametrize(
    ("scale", "odd"),
    [
        (1, 1_764_000_000.5),  # a fractional second
        (LEVEL_STEPS_PER_CM, 120.00005),  # finer than the scale
        (LEVEL_STEPS_PER_CM, math.nan),  # a missing level
        (LEVEL_STEPS_PER_CM, -0.0),
        (LEVEL_STEPS_PER_CM, 3e6),  # beyond int32 steps around the first value
        (1, math.inf),
        (LEVEL_STEPS_PER_CM, 1e305),  # finite, but its distance from a huge first value is not
    ],
)
def test_a_value_that_does_not_pack_turns_the_column_into_doubles(scale: int, odd: float) -> None:
    first = [1_764_000_000.0, 1_764_000_060.0] if scale == 1 else [-(2.0**1013), -(2.0**1013)] if odd == 1e305 else [0.0, 120.4]
    col = filled(first, scale)
    assert col.packed
    col.append(odd)
    col.append(first[-1])
    assert not col.packed
    assert bits(col.tolist()) == bits([*first, odd, first[-1]])


def test_an_empty_column_gives_an_empty_list() -> None:
    assert PackedFloats(LEVEL_STEPS_PER_CM).tolist() == []


def test_bisect_finds_times_in_the_column() -> None:
    col = filled([1000.0 + 60 * k for k in range(10)], 1)
    assert bisect_left(col, 1000.0 + 60 * 4) == 4
    assert bisect_left(col, 1000.0 + 60 * 4 + 1) == 5


def test_scale_must_be_a_positive_integer() -> None:
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError):
            PackedFloats(bad)  # type: ignore[arg-type]
