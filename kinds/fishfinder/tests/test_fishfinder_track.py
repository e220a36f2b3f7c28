"""Edge processing of the track: the thinned uplink track stays within its stated error of the
full 1 Hz track and is far smaller; window summaries agree with numpy; bad input is refused."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest

from kinds.fishfinder.edge.track import (
    LocalPlane,
    TrackThinner,
    WindowSummarizer,
    summarize_readings,
    summarize_windows,
    thin_track,
)
from kinds.fishfinder.values import Depth, Fix, WaterTemp
from kinds.fishfinder.sim.voyage import plan_fleet

EARTH_R = 6_371_008.8
T0 = datetime(2025, 3, 3, 0, 0, tzinfo=timezone.utc)
TOLERANCE_M = 20.0
# The filter measures in a flat plane at each kept fix; the check below measures in 3-D on the
# sphere. Over a segment of a few km the two differ by far less than this.
GEOMETRY_SLACK_M = 0.5


def ecef(lat, lon):
    la, lo = np.radians(lat), np.radians(lon)
    return EARTH_R * np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def deviations(t, lat, lon, kept):
    """For every fix: its distance from where the kept track puts the boat at the same time
    (linear in time between the kept fixes around it), and from the kept segment itself."""
    p = ecef(lat, lon)
    j = np.clip(np.searchsorted(t[kept], t, side="right") - 1, 0, kept.size - 2)
    a, b = p[kept[j]], p[kept[j + 1]]
    ta, tb = t[kept[j]], t[kept[j + 1]]
    f = ((t - ta) / (tb - ta))[:, None]
    synced = np.linalg.norm(p - (a + f * (b - a)), axis=1)
    ab = b - a
    u = np.clip(np.einsum("ij,ij->i", p - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12), 0, 1)
    cross = np.linalg.norm(p - (a + u[:, None] * ab), axis=1)
    return synced, cross


@pytest.fixture(scope="module")
def fleet_tracks():
    out = []
    for plan in plan_fleet(date(2025, 3, 3), np.random.default_rng(21)):
        t = np.arange(0.0, plan.duration_s, 1.0)
        s = plan.sample(t)
        out.append((plan.boat_id, t, s))
    return out


def test_thinned_track_stays_within_tolerance_and_keeps_under_a_twentieth(fleet_tracks):
    total_fixes = total_kept = 0
    for boat_id, t, s in fleet_tracks:
        kept = thin_track(t, s.lat, s.lon, tolerance_m=TOLERANCE_M)
        assert kept[0] == 0 and kept[-1] == t.size - 1, boat_id
        assert np.all(np.diff(kept) > 0), boat_id
        synced, cross = deviations(t, s.lat, s.lon, kept)
        assert synced.max() <= TOLERANCE_M + GEOMETRY_SLACK_M, boat_id
        assert cross.max() <= synced.max() + 1e-6, boat_id
        assert kept.size <= t.size / 20, boat_id
        assert np.diff(t[kept]).max() <= 300.0, boat_id
        total_fixes += t.size
        total_kept += kept.size
    assert total_kept <= total_fixes / 20


def test_streaming_thinner_sends_the_same_fixes_as_the_array_version(fleet_tracks):
    _, t, s = fleet_tracks[0]
    n = 4000
    fixes = [Fix(T0 + timedelta(seconds=float(t[i])), float(s.lat[i]), float(s.lon[i]), 3.0, 90.0) for i in range(n)]
    thinner = TrackThinner(tolerance_m=TOLERANCE_M)
    sent = [f for fix in fixes for f in thinner.push(fix)] + thinner.flush()
    kept = thin_track(t[:n], s.lat[:n], s.lon[:n], tolerance_m=TOLERANCE_M)
    assert [fixes.index(f) for f in sent] == kept.tolist()
    assert (thinner.seen, thinner.kept) == (n, len(sent))


def straight_run(speeds_m_s, heading_deg=45.0, lat0=-8.9, lon0=115.1):
    """A boat on one straight line at the given speed each second."""
    plane = LocalPlane(lat0, lon0)
    d = np.r_[0.0, np.cumsum(speeds_m_s)]
    h = math.radians(heading_deg)
    lat, lon = plane.to_latlon(d * math.sin(h), d * math.cos(h))
    return np.arange(d.size, dtype=float), lat, lon


def test_a_stop_on_a_straight_course_is_kept_but_a_steady_run_is_not():
    t, lat, lon = straight_run(np.full(250, 4.0))
    assert thin_track(t, lat, lon).tolist() == [0, t.size - 1]
    # Same line, but she lies still for two minutes halfway: a purely geometric filter would
    # drop that; the uplinked track must show where she was when.
    t, lat, lon = straight_run(np.r_[np.full(100, 4.0), np.zeros(120), np.full(100, 4.0)])
    kept = thin_track(t, lat, lon)
    synced, _ = deviations(t, lat, lon, kept)
    assert kept.size > 2
    assert synced.max() <= TOLERANCE_M + GEOMETRY_SLACK_M


def test_heartbeat_and_buffer_bound_the_gap_between_sent_fixes():
    t, lat, lon = straight_run(np.zeros(3600))  # a boat lying still for an hour
    kept = thin_track(t, lat, lon, max_interval_s=300.0)
    assert np.diff(t[kept]).max() <= 300.0
    assert kept.size >= 12
    kept = thin_track(t, lat, lon, max_interval_s=10_000.0, max_buffer=50)
    assert np.diff(kept).max() <= 51  # never more than max_buffer fixes held back


def test_a_rejected_fix_leaves_the_thinner_as_it_was():
    t, lat, lon = straight_run(np.r_[np.full(100, 4.0), np.zeros(120), np.full(100, 4.0)])
    fixes = [Fix(T0 + timedelta(seconds=float(t[i])), float(lat[i]), float(lon[i])) for i in range(t.size)]
    clean = TrackThinner()
    expected = [f for fix in fixes for f in clean.push(fix)] + clean.flush()
    thinner = TrackThinner()
    sent, rejected = [], 0
    for i, fix in enumerate(fixes):
        sent += thinner.push(fix)
        if i in (50, 150):
            for bad in (fixes[i], Fix(fix.ts + timedelta(seconds=0.5), 91.0, fix.lon),
                        Fix(fix.ts.replace(tzinfo=None) + timedelta(seconds=0.5), fix.lat, fix.lon),
                        Fix(fix.ts + timedelta(seconds=0.5), float("nan"), fix.lon)):
                with pytest.raises(ValueError):
                    thinner.push(bad)
                rejected += 1
    sent += thinner.flush()
    assert sent == expected and rejected == 8
    assert thinner.seen == len(fixes)


@pytest.mark.parametrize(
    "kwargs", [dict(tolerance_m=0.0), dict(tolerance_m=float("nan")), dict(max_interval_s=-1.0),
               dict(max_buffer=0), dict(max_buffer=True), dict(max_buffer=2.5)]
)
def test_bad_thinner_settings_are_value_errors(kwargs):
    with pytest.raises(ValueError):
        TrackThinner(**kwargs)
    with pytest.raises(ValueError):
        thin_track([0.0, 1.0], [-8.9, -8.9], [115.1, 115.1], **kwargs)


def test_bad_track_arrays_are_value_errors():
    with pytest.raises(ValueError, match="equal length"):
        thin_track([0.0, 1.0], [-8.9], [115.1, 115.1])
    with pytest.raises(ValueError, match="at least one"):
        thin_track([], [], [])
    with pytest.raises(ValueError, match="not after"):
        thin_track([0.0, 2.0, 1.0], [-8.9] * 3, [115.1] * 3)
    with pytest.raises(ValueError, match="out of range"):
        thin_track([0.0, 1.0], [-8.9, -95.0], [115.1, 115.1])
    with pytest.raises(ValueError, match="Fix"):
        TrackThinner().push((T0, -8.9, 115.1))  # type: ignore[arg-type]


# --- window summaries ---------------------------------------------------------------------------


def numpy_by_window(t, v, window_s):
    """The expected summaries, grouped one window at a time with plain numpy."""
    groups: dict[float, list[float]] = {}
    for ti, vi in zip(t, v):
        groups.setdefault(math.floor(ti / window_s) * window_s, []).append(vi)
    starts = sorted(groups)
    return (
        np.array(starts),
        np.array([len(groups[s]) for s in starts]),
        np.array([np.min(groups[s]) for s in starts]),
        np.array([np.max(groups[s]) for s in starts]),
        np.array([np.mean(groups[s]) for s in starts]),
    )


def test_window_summaries_equal_numpy_on_a_trips_depths_and_temperatures(fleet_tracks):
    _, t, s = fleet_tracks[4]
    epoch = T0.timestamp() + 37.0 + t  # windows do not start with the trip
    rng = np.random.default_rng(1)
    order = rng.permutation(t.size)  # readings may come in any order
    for values in (s.depth_m, s.temp_c):
        got = summarize_windows(epoch[order], values[order], 600.0)
        start, count, lo, hi, mean = numpy_by_window(epoch, values, 600.0)
        np.testing.assert_array_equal(got.start_s, start)
        np.testing.assert_array_equal(got.count, count)
        np.testing.assert_array_equal(got.min, lo)
        np.testing.assert_array_equal(got.max, hi)
        np.testing.assert_allclose(got.mean, mean, rtol=1e-12)
        assert got.count.sum() == t.size


def test_streaming_summaries_and_value_lists_match_the_array_summaries(fleet_tracks):
    _, t, s = fleet_tracks[6]
    n = 5000
    stamps = [T0 + timedelta(seconds=float(x)) for x in t[:n]]
    depths = [Depth(ts, float(d)) for ts, d in zip(stamps, s.depth_m)]
    temps = [WaterTemp(ts, float(c)) for ts, c in zip(stamps, s.temp_c)]
    for readings, values in ((depths, s.depth_m[:n]), (temps, s.temp_c[:n])):
        start, count, lo, hi, mean = numpy_by_window([ts.timestamp() for ts in stamps], values, 600.0)
        listed = summarize_readings(readings, 600.0)
        summarizer = WindowSummarizer(600.0)
        streamed = [w for ts, v in zip(stamps, values) for w in summarizer.add(ts, float(v))] + summarizer.flush()
        for got in (listed, streamed):
            assert [w.start.timestamp() for w in got] == start.tolist()
            assert [w.count for w in got] == count.tolist()
            assert [w.min for w in got] == lo.tolist() and [w.max for w in got] == hi.tolist()
            np.testing.assert_allclose([w.mean for w in got], mean, rtol=1e-12)
            assert all(w.start.utcoffset() == timedelta(0) and w.window_s == 600.0 for w in got)


def test_a_reading_on_a_window_boundary_opens_the_next_window():
    got = summarize_windows([599.999, 600.0, 1199.0], [1.0, 2.0, 3.0], 600.0)
    assert got.start_s.tolist() == [0.0, 600.0] and got.count.tolist() == [1, 2]


def test_bad_summary_input_is_a_value_error():
    with pytest.raises(ValueError, match="equal length"):
        summarize_windows([0.0, 1.0], [1.0], 600.0)
    with pytest.raises(ValueError, match="finite"):
        summarize_windows([0.0, 1.0], [1.0, float("nan")], 600.0)
    with pytest.raises(ValueError, match="finite"):
        summarize_windows([0.0, float("inf")], [1.0, 2.0], 600.0)
    for w in (0.0, -600.0, float("nan")):
        with pytest.raises(ValueError, match="window_s"):
            summarize_windows([0.0], [1.0], w)
        with pytest.raises(ValueError, match="window_s"):
            WindowSummarizer(w)
    with pytest.raises(ValueError, match="all Depth or all WaterTemp"):
        summarize_readings([Depth(T0, 5.0), WaterTemp(T0, 28.0)])  # type: ignore[list-item]


def test_streaming_summarizer_refuses_late_or_bad_readings_and_carries_on():
    s = WindowSummarizer(600.0)
    assert s.add(T0 + timedelta(seconds=10), 5.0) == []
    assert s.add(T0 + timedelta(seconds=700), 7.0)[0].count == 1  # first window closed
    for ts, v in ((T0 + timedelta(seconds=20), 1.0), (T0 + timedelta(seconds=710), float("nan")),
                  (datetime(2025, 3, 3, 0, 12), 1.0)):
        with pytest.raises(ValueError):
            s.add(ts, v)
    s.add(T0 + timedelta(seconds=720), 9.0)
    (last,) = s.flush()
    assert (last.count, last.min, last.max, last.mean) == (2, 7.0, 9.0, 8.0)
    assert s.flush() == []
