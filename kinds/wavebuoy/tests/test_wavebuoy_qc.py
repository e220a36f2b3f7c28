"""QC of buoy reports (QARTOD gross range, spike, flat line) as pure functions over arrays,
checked against the reference `ioos_qc.qartod` on the same arrays, and the window statistics."""

from __future__ import annotations

import numpy as np
import pytest
from ioos_qc import qartod

from kinds.wavebuoy.edge import qc
from kinds.wavebuoy.edge.sea_state import circular_mean_deg, over_limits, window_stats

RNG = np.random.default_rng(7)
HS = np.concatenate([1.0 + 0.05 * RNG.standard_normal(200), [np.nan], 1.1 + 0.05 * RNG.standard_normal(50)])
HS[[20, 90, 150]] = [3.5, 25.0, -1.0]


def test_gross_range_matches_ioos_qc() -> None:
    ours = qc.gross_range(HS, (0.0, 20.0), (0.2, 3.0))
    ref = np.asarray(qartod.gross_range_test(HS, fail_span=(0.0, 20.0), suspect_span=(0.2, 3.0)))
    assert np.array_equal(ours, ref)


def test_spike_matches_ioos_qc_away_from_the_ends() -> None:
    ours = qc.spike(HS, 1.0, 2.0)
    ref = np.asarray(qartod.spike_test(HS, suspect_threshold=1.0, fail_threshold=2.0))
    finite = np.isfinite(HS)
    judged = np.zeros_like(finite)
    judged[1:-1] = finite[:-2] & finite[1:-1] & finite[2:]
    assert np.array_equal(ours[judged], ref[judged])
    assert ours[20] == qc.FAIL and ours[0] == ours[-1] == qc.UNKNOWN and ours[200] == qc.MISSING


def test_a_stuck_buoy_is_suspect_then_failed_and_a_gap_breaks_the_run() -> None:
    x = np.array([1.0, 1.2, 1.3, *([1.31] * 12), np.nan, 1.31, 1.31])
    flags = qc.flat_line(x, 0.005, 5, 10)
    # 1.31 from index 3: the fifth in a row (index 7) is suspect, the tenth (index 12) fails.
    assert list(flags[:7]) == [1] * 7
    assert list(flags[7:12]) == [3] * 5 and list(flags[12:15]) == [4, 4, 4]
    assert list(flags[15:]) == [9, 1, 1]


@pytest.mark.parametrize(
    "call",
    [
        lambda: qc.gross_range([1.0], (2.0, 1.0)),
        lambda: qc.gross_range([1.0], (0.0, 5.0), (0.0, 6.0)),
        lambda: qc.spike([1.0, 2.0], 2.0, 1.0),
        lambda: qc.spike([[1.0]], 1.0, 2.0),
        lambda: qc.flat_line([1.0], -1.0, 5, 10),
        lambda: qc.flat_line([1.0], 0.1, 10, 5),
        lambda: qc.report_flags([1.0], [9.0, 9.0], [5.0]),
        lambda: qc.aggregate(),
        lambda: window_stats([1.0], [9.0], [0.0], [5.0], [0.0], [6.0], [1], [1, 1]),
        lambda: over_limits(1.0, 1.0, 0.0, 15.0),
    ],
)
def test_bad_arguments_are_a_value_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        call()


def test_directions_average_around_north_and_statistics_skip_failed_reports() -> None:
    assert circular_mean_deg([350.0, 10.0]) == pytest.approx(0.0, abs=1e-9)
    assert circular_mean_deg([90.0, 270.0]) is None and circular_mean_deg([np.nan]) is None
    stats = window_stats(
        hs_m=[1.0, 5.0, 1.2], tp_s=[9.0, 9.0, 10.0], wave_dir_deg=[350.0, 0.0, 10.0], wind_kn=[10.0, 12.0, np.nan],
        wind_dir_deg=[100.0, 110.0, np.nan], gust_kn=[14.0, 30.0, np.nan], wave_flags=[1, 4, 2], wind_flags=[1, 3, 9],
    )
    assert (stats.count, stats.qc_suspect, stats.qc_fail) == (3, 0, 1)
    assert (stats.hs_max_m, stats.hs_mean_m, stats.tp_mean_s) == (1.2, pytest.approx(1.1), 9.5)
    assert stats.wave_dir_mean_deg == pytest.approx(0.0, abs=1e-9)
    assert (stats.wind_max_kn, stats.wind_mean_kn, stats.gust_max_kn) == (10.0, 10.0, 14.0)


def test_bmkg_small_boat_limits_are_strict() -> None:
    assert over_limits(1.25, 15.0, 1.25, 15.0) == []
    assert over_limits(1.26, 15.1, 1.25, 15.0) == ["wave", "wind"]
    assert over_limits(np.nan, 16.0, 1.25, 15.0) == ["wind"]
