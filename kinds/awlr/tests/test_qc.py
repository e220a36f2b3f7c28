"""QARTOD flags for river levels, checked by hand and against the reference `ioos_qc.qartod`."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kinds.awlr.edge.qc import QC_TESTS, QcConfig, QcFlag, aggregate, flat_line, gross_range, rate_of_change, run_qc, spike

# The reference implementation, a test dependency: `make test` installs it, so the
# cross-checks always run instead of silently skipping.
from ioos_qc import qartod as reference

def needs_reference(test):  # type: ignore[no-untyped-def]
    """Marks the cross-checks against `ioos_qc` (kept as a name for readers; they always run)."""
    return test

G, U, S, F, M = (int(f) for f in (QcFlag.GOOD, QcFlag.UNKNOWN, QcFlag.SUSPECT, QcFlag.FAIL, QcFlag.MISSING))
nan = float("nan")
T0 = 1_700_000_000  # epoch seconds, whole: the reference truncates intervals to whole seconds
MINUTE = 60


def minutes(n: int) -> np.ndarray:
    return T0 + MINUTE * np.arange(n, dtype=float)


def ref_flags(fn_name: str, *args: object, **kwargs: object) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.ma.getdata(getattr(reference, fn_name)(*args, **kwargs)).astype(int).tolist()


# --- crafted series: expected flags by hand, and the reference agrees ---------------------------

GROSS_CASES = [
    # values, sensor span, user span, expected
    ([0.0, 400.0, -0.1, 400.1, nan, 250.0], (0, 400), None, [G, G, F, F, M, G]),
    ([10.0, 20.0, 300.0, 301.0, 500.0], (0, 400), (20, 300), [S, G, G, S, F]),
    ([], (0, 400), None, []),
]


@pytest.mark.parametrize(("values", "sensor", "user", "expected"), GROSS_CASES)
def test_gross_range(values: list[float], sensor: tuple[float, float], user: tuple[float, float] | None, expected: list[int]) -> None:
    assert gross_range(values, sensor, user).tolist() == expected


@needs_reference
@pytest.mark.parametrize(("values", "sensor", "user", "expected"), GROSS_CASES[:2])
def test_gross_range_matches_reference(values: list[float], sensor: tuple[float, float], user: tuple[float, float] | None, expected: list[int]) -> None:
    assert ref_flags("gross_range_test", values, fail_span=sensor, suspect_span=user) == expected


def test_gross_range_keeps_shape_and_fails_infinities() -> None:
    out = gross_range([[1.0, np.inf], [-np.inf, nan]], (0, 400))
    assert out.shape == (2, 2) and out.tolist() == [[G, F], [F, M]]


SPIKE_CASES = [
    # a 300 cm false echo on a 60 cm river: the echo FAILs, its neighbours sit half a spike off
    ([60.0, 61.0, 300.0, 60.0, 61.0, 60.0], [U, F, F, F, G, U]),
    # a steady rise is no spike, however fast
    ([80.0, 83.0, 86.0, 89.0, 92.0], [U, G, G, G, U]),
    # suspect band: |45 - (0 + 0)/2| = 45 in (30, 60]; its neighbour is 22.5 off, fine
    ([0.0, 45.0, 0.0, 0.0], [U, S, G, U]),
    # next to a missing reading the test cannot judge; ends are UNKNOWN
    ([60.0, nan, 60.0, 61.0, 60.0, 60.0, nan], [U, M, U, G, G, U, M]),
    ([60.0], [U]),
    ([60.0, nan], [U, M]),
]


@pytest.mark.parametrize(("values", "expected"), SPIKE_CASES)
def test_spike(values: list[float], expected: list[int]) -> None:
    assert spike(values, 30, 60).tolist() == expected


@needs_reference
@pytest.mark.parametrize(("values", "expected"), SPIKE_CASES)
def test_spike_matches_reference(values: list[float], expected: list[int]) -> None:
    assert ref_flags("spike_test", values, suspect_threshold=30, fail_threshold=60) == expected


def test_spike_of_empty_series_is_empty() -> None:
    assert spike([], 30, 60).tolist() == []


ROC_CASES = [
    # a step is flagged on the later reading; 61 cm in 60 s > 1 cm/s, 300 cm in 60 s > 3 cm/s
    ([60.0, 60.5, 121.5, 121.0, 421.0], 1.0, 3.0, [G, G, S, G, F]),
    # after a missing reading there is no step to judge (the reference leaves it GOOD)
    ([60.0, nan, 500.0, 60.0], 1.0, None, [G, M, G, S]),
    ([], 1.0, None, []),
]


@pytest.mark.parametrize(("values", "threshold", "fail", "expected"), ROC_CASES)
def test_rate_of_change(values: list[float], threshold: float, fail: float | None, expected: list[int]) -> None:
    assert rate_of_change(minutes(len(values)), values, threshold, fail).tolist() == expected


@needs_reference
@pytest.mark.parametrize(("values", "threshold", "fail", "expected"), ROC_CASES[:2])
def test_rate_of_change_matches_reference(values: list[float], threshold: float, fail: float | None, expected: list[int]) -> None:
    assert ref_flags("rate_of_change_test", values, minutes(len(values)), threshold, fail) == expected


def test_rate_of_change_uses_real_intervals() -> None:
    """A gap dilutes the rate: 100 cm over a 10-minute dropout is 0.17 cm/s, not a fault."""
    t = np.array([0.0, 60.0, 660.0, 720.0]) + T0
    assert rate_of_change(t, [100.0, 100.0, 200.0, 200.0], 1.0).tolist() == [G, G, G, G]


def stuck(n: int, level: float = 123.0) -> np.ndarray:
    return np.full(n, level)


FLAT_CASES = [
    # published config at one reading a minute: 60 intervals flat -> SUSPECT, 150 -> FAIL
    (stuck(200), 0.05, 3600, 9000, [G] * 60 + [S] * 90 + [F] * 50),
    # noise above the tolerance is a live sensor
    (123.0 + 0.1 * (np.arange(200) % 2), 0.05, 3600, 9000, [G] * 200),
    # short thresholds: 3 and 5 intervals; a missing reading inside the window is ignored
    (np.array([1.0, 1.0, 1.0, 1.0, nan, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0]), 0.5, 180, 300, [G, G, G, S, M, F, F, G, G, G, S]),
    (np.array([1.0, nan]), 0.5, 180, 300, [G, M]),
]


@pytest.mark.parametrize(("values", "tolerance", "suspect_s", "fail_s", "expected"), FLAT_CASES)
def test_flat_line(values: np.ndarray, tolerance: float, suspect_s: int, fail_s: int, expected: list[int]) -> None:
    assert flat_line(minutes(values.size), values, tolerance, suspect_s, fail_s).tolist() == expected


@needs_reference
@pytest.mark.parametrize(("values", "tolerance", "suspect_s", "fail_s", "expected"), FLAT_CASES[:3])
def test_flat_line_matches_reference(values: np.ndarray, tolerance: float, suspect_s: int, fail_s: int, expected: list[int]) -> None:
    assert ref_flags("flat_line_test", values, minutes(values.size), suspect_s, fail_s, tolerance) == expected


def test_flat_line_threshold_below_one_interval_needs_two_readings() -> None:
    """Hourly readings with a 30-minute threshold: two equal readings are flat, one is not."""
    t = T0 + 3600.0 * np.arange(4)
    assert flat_line(t, [5.0, 5.0, 6.0, 7.0], 0.05, 1800, 1800).tolist() == [G, F, G, G]


AGG_CASES = [
    ([[G, U, M, G, M], [S, G, M, U, U], [G, F, M, M, M]], [S, F, M, G, U]),
    ([[U, M], [M, M]], [U, M]),
]


@pytest.mark.parametrize(("arrays", "expected"), AGG_CASES)
def test_aggregate_takes_worst_judged_flag(arrays: list[list[int]], expected: list[int]) -> None:
    assert aggregate(*(np.array(a, dtype=np.uint8) for a in arrays)).tolist() == expected


@needs_reference
@pytest.mark.parametrize(("arrays", "expected"), AGG_CASES)
def test_aggregate_matches_reference(arrays: list[list[int]], expected: list[int]) -> None:
    assert np.asarray(reference.qartod_compare([np.array(a) for a in arrays])).tolist() == expected


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: gross_range([1.0], (400, 0)),
        lambda: gross_range([1.0], (0, nan)),
        lambda: gross_range([1.0], (0, 400), (-10, 100)),
        lambda: gross_range([1.0], (0,)),  # type: ignore[arg-type]
        lambda: spike([[1.0, 2.0, 3.0]], 30, 60),
        lambda: spike([1.0], 0, 60),
        lambda: spike([1.0], 61, 60),
        lambda: rate_of_change([0, 0], [1.0, 2.0], 1.0),
        lambda: rate_of_change([1, 0], [1.0, 2.0], 1.0),
        lambda: rate_of_change([0, nan], [1.0, 2.0], 1.0),
        lambda: rate_of_change([0, 1, 2], [1.0, 2.0], 1.0),
        lambda: rate_of_change([0, 1], [1.0, 2.0], -1.0),
        lambda: rate_of_change([0, 1], [1.0, 2.0], 1.0, nan),
        lambda: flat_line([0, 1, 2], [1.0, 1.0, 1.0], 0.05, 9000, 3600),
        lambda: flat_line([0, 1, 2], [1.0, 1.0, 1.0], 0.0, 3600, 9000),
        lambda: aggregate(),
        lambda: aggregate(np.array([1, 2]), np.array([1])),
        lambda: aggregate(np.array([1, 5])),
        lambda: aggregate(np.array([1.0, 2.0])),
    ],
)
def test_bad_input_raises_value_error(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"spike_suspect_cm": 70.0},
        {"rate_suspect_cm_per_s": 2.0, "rate_fail_cm_per_s": 1.0},
        {"flat_suspect_s": 10_000.0},
        {"flat_tolerance_cm": 0.0},
        {"user_span_cm": (300.0, 100.0)},
        {"spike_fail_cm": float("inf")},
        {"unknown_threshold": 1.0},
    ],
)
def test_qc_config_rejects_bad_thresholds(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        QcConfig(**kwargs)  # type: ignore[arg-type]


# --- the whole battery -------------------------------------------------------------------------


def test_run_qc_flags_echoes_and_a_stuck_sensor() -> None:
    rng = np.random.default_rng(1)
    levels = 60.0 + rng.normal(0, 0.5, 400)
    levels[[50, 120]] = 300.0  # false echoes
    levels[200:] = 61.0  # the sensor freezes
    levels[30] = nan
    flags, agg = run_qc(minutes(levels.size), levels, (0, 400), QcConfig())
    assert tuple(flags) == QC_TESTS
    assert all(f.shape == levels.shape and f.dtype == np.uint8 for f in flags.values())
    assert agg[50] == agg[120] == F and agg[30] == M
    assert flags["flat_line"][259] == G and flags["flat_line"][260] == S and flags["flat_line"][350] == F
    assert (agg[:30] == G).all() and (agg[60:110] == G).all()


def test_run_qc_user_span_marks_implausible_levels_suspect() -> None:
    qc = QcConfig(user_span_cm=(0, 300))
    assert run_qc(minutes(4), [50.0, 50.5, 51.0, 51.5], (0, 400), qc)[1].tolist() == [G, G, G, G]
    assert run_qc(minutes(4), [310.0, 310.5, 311.0, 311.5], (0, 400), qc)[1].tolist() == [S, S, S, S]
    with pytest.raises(ValueError):
        run_qc(minutes(3), [1.0, 1.0, 1.0], (0, 200), QcConfig(user_span_cm=(0, 300)))


# --- property tests against the reference ------------------------------------------------------


@st.composite
def river_series(draw: st.DrawFn, min_size: int = 0, max_size: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """Whole-second times (mostly a minute apart, with some gaps) and levels with flat runs and holes."""
    n = draw(st.integers(min_size, max_size))
    steps = draw(st.lists(st.sampled_from([60, 60, 60, 60, 60, 120, 600, 59, 61]), min_size=n, max_size=n))
    level = st.one_of(
        st.sampled_from([100.0, 100.02, 100.04, 100.5, 160.0, nan]),
        st.floats(-50, 650, allow_nan=False),
    )
    runs = draw(st.lists(st.tuples(level, st.integers(1, 12)), min_size=1, max_size=max(n, 1)))
    values = np.array([v for v, k in runs for _ in range(k)][:n] + [100.0] * max(0, n - sum(k for _, k in runs)))
    times = T0 + np.cumsum(np.array(steps, dtype=float))
    return times, values[:n]


FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@needs_reference
@FAST
@given(series=river_series(), lo=st.floats(-20, 100), width=st.floats(1, 600), shrink=st.floats(0, 0.49), with_user=st.booleans())
def test_gross_range_equals_reference(series: tuple[np.ndarray, np.ndarray], lo: float, width: float, shrink: float, with_user: bool) -> None:
    _, x = series
    sensor = (lo, lo + width)
    user = (lo + shrink * width, lo + (1 - shrink) * width) if with_user else None
    assume(user is None or user[0] < user[1])
    assert gross_range(x, sensor, user).tolist() == ref_flags("gross_range_test", x, sensor, user)


@needs_reference
@FAST
@given(series=river_series(), suspect=st.floats(0.01, 100), extra=st.floats(0, 100))
def test_spike_equals_reference(series: tuple[np.ndarray, np.ndarray], suspect: float, extra: float) -> None:
    _, x = series
    assume(x.size > 0)
    assert spike(x, suspect, suspect + extra).tolist() == ref_flags("spike_test", x, suspect, suspect + extra)


@needs_reference
@FAST
@given(series=river_series(), threshold=st.floats(0.001, 5), extra=st.one_of(st.none(), st.floats(0, 5)))
def test_rate_of_change_equals_reference(series: tuple[np.ndarray, np.ndarray], threshold: float, extra: float | None) -> None:
    t, x = series
    fail = None if extra is None else threshold + extra
    assert rate_of_change(t, x, threshold, fail).tolist() == ref_flags("rate_of_change_test", x, t, threshold, fail)


@needs_reference
@FAST
@given(series=river_series(min_size=3), tolerance=st.floats(0.01, 2), suspect=st.integers(60, 1800), extra=st.integers(0, 3600))
def test_flat_line_equals_reference(series: tuple[np.ndarray, np.ndarray], tolerance: float, suspect: int, extra: int) -> None:
    t, x = series
    interval = float(np.median(np.diff(t)))
    # Outside the documented differences: whole-second median interval, at least one interval
    # per threshold, and no missing readings in a series too short to judge.
    assume(interval.is_integer() and suspect >= interval)
    assert flat_line(t, x, tolerance, suspect, suspect + extra).tolist() == ref_flags(
        "flat_line_test", x, t, suspect, suspect + extra, tolerance
    )


@needs_reference
@FAST
@given(flags=st.lists(st.lists(st.sampled_from([G, U, S, F, M]), min_size=8, max_size=8), min_size=1, max_size=5))
def test_aggregate_equals_reference(flags: list[list[int]]) -> None:
    arrays = [np.array(f, dtype=np.uint8) for f in flags]
    assert aggregate(*arrays).tolist() == np.asarray(reference.qartod_compare(arrays)).tolist()
