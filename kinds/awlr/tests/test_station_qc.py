"""QC one reading at a time (`StationQc`) gives the verdicts of QC over the whole series
(`run_qc`, itself held to ioos_qc in test_qc.py) and, per test, of the reference directly."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ioos_qc import qartod as reference

from kinds.awlr.edge.qc import QcConfig, QcFlag, run_qc
from kinds.awlr.edge.station_qc import StationQc

nan = float("nan")
T0 = 1_700_000_000
SPAN = (0.0, 400.0)


def streamed(times: np.ndarray, values: np.ndarray, qc: QcConfig, span: tuple[float, float] = SPAN) -> tuple[list[int], list[int]]:
    """(final flags of all but the last reading, the flag each reading had on arrival)."""
    s = StationQc(span, qc)
    final, on_arrival = [], []
    for t, x in zip(times.tolist(), values.tolist()):
        previous, now = s.push(t, x)
        if previous is not None:
            final.append(previous)
        on_arrival.append(now)
    return final, on_arrival


def assert_equals_whole_series(times: np.ndarray, values: np.ndarray, qc: QcConfig) -> None:
    final, on_arrival = streamed(times, values, qc)
    _, whole = run_qc(times, values, SPAN, qc)
    assert final == whole[:-1].tolist()
    # On arrival a reading is the newest of the series so far: its spike test cannot judge it yet.
    for n in sorted({0, 1, 2, len(values) // 2, len(values) - 1}):
        if 0 <= n < len(values):
            assert on_arrival[n] == run_qc(times[: n + 1], values[: n + 1], SPAN, qc)[1][-1], n


def ref_flat_line(times: np.ndarray, values: np.ndarray, qc: QcConfig) -> list[int]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = reference.flat_line_test(values, times, qc.flat_suspect_s, qc.flat_fail_s, qc.flat_tolerance_cm)
    return np.ma.getdata(out).astype(int).tolist()


@st.composite
def cadenced_series(draw: st.DrawFn, max_size: int = 400) -> tuple[np.ndarray, np.ndarray]:
    """One logger cadence (1 s to 1 h), levels with stuck runs, noise, echoes and holes."""
    n = draw(st.integers(0, max_size))
    cadence = draw(st.sampled_from([1, 10, 60, 60, 300, 3600]))
    level = st.one_of(
        st.sampled_from([100.0, 100.02, 100.04, 100.5, 160.0, 399.9, nan, float("inf")]),
        st.floats(-50, 650, allow_nan=False),
    )
    runs = draw(st.lists(st.tuples(level, st.integers(1, 200)), min_size=1, max_size=max(n // 20, 2)))
    values = np.array(([v for v, k in runs for _ in range(k)] + [100.0] * n)[:n], dtype=float)
    noise = draw(st.sampled_from([0.0, 0.01, 0.03, 0.3]))
    values = values + noise * np.sin(np.arange(n) * 1.3)
    return T0 + cadence * np.arange(n, dtype=float), values


QCS = st.builds(
    QcConfig,
    spike_suspect_cm=st.just(30.0),
    flat_tolerance_cm=st.sampled_from([0.01, 0.05, 0.5]),
    flat_suspect_s=st.sampled_from([60.0, 120.0, 3600.0]),
    flat_fail_s=st.sampled_from([3600.0, 9000.0]),
    rate_suspect_cm_per_s=st.sampled_from([0.05, 1.0]),
    user_span_cm=st.sampled_from([None, (10.0, 300.0)]),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series=cadenced_series(), qc=QCS)
def test_streamed_flags_equal_qc_over_the_whole_series(series: tuple[np.ndarray, np.ndarray], qc: QcConfig) -> None:
    assert_equals_whole_series(*series, qc)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series=cadenced_series(), qc=QCS)
def test_streamed_flat_line_equals_the_reference(series: tuple[np.ndarray, np.ndarray], qc: QcConfig) -> None:
    times, values = series
    # The reference's documented differences (kinds.awlr.edge.qc.flat_line): series shorter than three,
    # thresholds shorter than one interval, infinities.
    if values.size < 3 or np.isinf(values).any() or qc.flat_suspect_s < times[1] - times[0]:
        return
    only_flat = QcConfig(
        spike_suspect_cm=1e9, spike_fail_cm=1e9, rate_suspect_cm_per_s=1e9,
        flat_tolerance_cm=qc.flat_tolerance_cm, flat_suspect_s=qc.flat_suspect_s, flat_fail_s=qc.flat_fail_s,
    )
    final, on_arrival = streamed(times, values, only_flat, span=(-1e9, 1e9))
    # Every test but the flat line passes each finite reading: its flag is the flat line's,
    # except where the spike test cannot judge (the first and last readings): UNKNOWN, not GOOD.
    flags = [QcFlag.GOOD if f == QcFlag.UNKNOWN else f for f in [*final, on_arrival[-1]]]
    expected = ref_flat_line(times, values, only_flat)
    assert flags == [QcFlag.MISSING if np.isnan(v) else e for v, e in zip(values.tolist(), expected)]


@pytest.mark.parametrize("cadence", [1, 60])
def test_long_stuck_runs_at_one_reading_a_second_and_a_minute(cadence: int) -> None:
    """A sensor stuck for 5 h between live stretches, a hole in the middle of the stuck run."""
    rng = np.random.default_rng(7)
    n = 30_000 if cadence == 1 else 1_500
    values = 120.0 + np.cumsum(rng.normal(0, 0.2, n))
    stuck = slice(n // 4, n // 4 + 18_000 // cadence)
    values[stuck] = 118.3
    values[n // 4 + 50] = nan
    times = T0 + cadence * np.arange(n, dtype=float)
    qc = QcConfig()
    assert_equals_whole_series(times, values, qc)
    final, _ = streamed(times, values, qc)
    assert final[stuck.stop - 1] == QcFlag.FAIL


def test_memory_of_the_flat_line_does_not_grow_with_a_stuck_run() -> None:
    s = StationQc(SPAN, QcConfig())
    for k in range(20_000):
        s.push(T0 + k, 100.0 + (0.001 * (k % 3) if k % 1000 else 0.0))
    assert len(s._run._highs) + len(s._run._lows) <= 6  # values within the tolerance, not readings


@pytest.mark.parametrize(
    "make",
    [
        lambda: StationQc((400.0, 0.0)),
        lambda: StationQc((0.0, nan)),
        lambda: StationQc((0.0, 200.0), QcConfig(user_span_cm=(0.0, 300.0))),
    ],
)
def test_bad_configuration_raises_value_error(make: object) -> None:
    with pytest.raises(ValueError):
        make()  # type: ignore[operator]


@pytest.mark.parametrize("t", [T0, T0 - 1, nan, float("inf")])
def test_times_must_increase(t: float) -> None:
    s = StationQc(SPAN)
    s.push(T0, 100.0)
    with pytest.raises(ValueError):
        s.push(t, 100.0)
