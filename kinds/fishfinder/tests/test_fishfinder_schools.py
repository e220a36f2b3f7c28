"""School detection: scored against the simulator's truth, and the block and streaming forms
agreeing ping for ping."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from kinds.fishfinder.sim.echogram_sim import Scene, SceneSpec, TrueObject, simulate_scene
from kinds.fishfinder.edge.schools import DetectionSettings, FixTrack, School, SchoolDetector, detect_bottom, detect_schools
from kinds.fishfinder.values import Fix, Ping

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)
BIN_M = 0.1
QUIET = SceneSpec(school_gap_s=1e9, single_fish_per_min=0, plankton_layers=(0, 0))


def scene(seed: int, n: int = 1200, spec: SceneSpec = SceneSpec(), **kw) -> Scene:
    return simulate_scene(np.random.default_rng(seed), n, T0, spec, **kw)


def overlaps(d: School, o: TrueObject) -> bool:
    """Same time and same depth, both at least in part."""
    return d.start <= o.end and o.start <= d.end and d.top_m < o.bottom_m and o.top_m < d.bottom_m


def block(scene: Scene, fixes: FixTrack | None = None, settings: DetectionSettings | None = None) -> list[School]:
    return detect_schools(scene.sv_db, scene.times_s, scene.spec.bin_m, scene.spec.range_start_m, fixes, settings)


def streamed(pings: list[Ping], fixes: list[Fix] = (), chunk_pings: int = 20, max_school_pings: int = 240, settings: DetectionSettings | None = None) -> tuple[list[School], int]:
    """Pings and fixes fed in time order, as a boat sends them; the schools and the most pings held."""
    det = SchoolDetector(settings, chunk_pings=chunk_pings, max_school_pings=max_school_pings)
    events = sorted([(p.ts, 1, p) for p in pings] + [(f.ts, 0, f) for f in fixes], key=lambda e: (e[0], e[1]))
    out, held = [], 0
    for _, kind, v in events:
        if kind:
            out += det.push(v)
            held = max(held, det.held_pings)
        else:
            det.push_fix(v)
    return out + det.flush(), held


def echogram(n_pings: int = 60, n_bins: int = 300, level: float = -100.0) -> tuple[np.ndarray, np.ndarray]:
    """A quiet echogram, 2 pings/s from T0, no seabed in range."""
    return np.full((n_pings, n_bins), level, np.float32), T0.timestamp() + 0.5 * np.arange(n_pings)


def track(times_s: np.ndarray, lat0: float = -8.75, lon0: float = 115.17, dlat: float = 1e-5, dlon: float = 2e-5) -> list[Fix]:
    """A boat steaming in a straight line off Bali, one fix per second."""
    return [Fix(datetime.fromtimestamp(float(t), timezone.utc), lat0 + dlat * (t - times_s[0]), lon0 + dlon * (t - times_s[0])) for t in times_s]


@pytest.mark.parametrize("looks", [3.0, 1.0], ids=["bins-of-3-looks", "raw-rayleigh"])
def test_precision_and_recall_against_the_simulated_truth(looks):
    detected = true_pos = truths = found = split = 0
    for seed in range(40):
        s = scene(seed, 1200, SceneSpec(speckle_looks=looks))
        got = block(s)
        detected += len(got)
        true_pos += sum(any(overlaps(d, o) for o in s.schools) for d in got)
        truths += len(s.schools)
        hits = [sum(overlaps(d, o) for d in got) for o in s.schools]
        found += sum(h > 0 for h in hits)
        split += sum(h > 1 for h in hits)
    precision, recall = true_pos / detected, found / truths
    print(f"\nschools ({looks} looks): {truths} true, {detected} detected, precision {precision:.3f}, recall {recall:.3f}, split {split}")
    assert truths > 400
    assert precision >= 0.9 and recall >= 0.9, (precision, recall)
    assert split <= 0.02 * truths


def test_plankton_layers_and_single_fish_are_not_reported():
    spec = SceneSpec(school_gap_s=1e9, single_fish_per_min=30, plankton_layers=(2, 2))
    fish = layers = 0
    for seed in range(12):
        s = scene(seed, 1200, spec)
        fish, layers = fish + len(s.single_fish), layers + len(s.plankton)
        assert block(s) == []
    assert fish > 2000 and layers >= 12
    for seed in range(12):  # and among schools: nothing reported that is only fish or plankton
        s = scene(seed)
        for d in block(s):
            assert any(overlaps(d, o) for o in s.schools), d


def test_the_seabed_is_found_and_never_reported_as_a_school():
    for seed in range(10):
        s = scene(seed, 1200, QUIET, bottom_m=None if seed % 2 else np.linspace(4.0, 45.0, 1200))
        assert block(s) == []
        found = detect_bottom(s.sv_db, BIN_M)
        assert np.all((found > s.bottom_m - 0.25) & (found < s.bottom_m + 0.15))
    for seed in range(10):
        s = scene(seed)
        for d in block(s):
            rows = (s.times_s >= d.start.timestamp()) & (s.times_s <= d.end.timestamp())
            assert d.bottom_m <= s.bottom_m[rows].min() - 0.3  # the 0.5 m margin, less the seabed's error


def test_no_bottom_mask_when_no_echo_reaches_the_bottom_threshold():
    sv, t = echogram()
    sv[:, 200:206] = -40.0  # a strong layer, but not a seabed
    assert np.all(np.isnan(detect_bottom(sv, BIN_M)))
    (school,) = detect_schools(sv, t, BIN_M)
    assert school.top_m == pytest.approx(20.0) and school.pings == 60


def test_surface_zone_echoes_are_not_schools():
    sv, t = echogram()
    sv[:, 5:19] = -40.0  # 0.5-1.9 m: bubbles
    sv[:, 19:30] = -50.0  # 1.9-3.0 m: a school right under the zone
    (school,) = detect_schools(sv, t, BIN_M)
    assert school.top_m == pytest.approx(2.0) and school.bottom_m == pytest.approx(3.0)


def test_a_school_is_described_by_its_times_depths_and_linear_mean_sv():
    sv, t = echogram()
    sv[10:20, 100:110] = -40.0
    sv[10:20, 100:110:2] = -60.0  # every other sample 100x weaker
    (s,) = detect_schools(sv, t, BIN_M)
    assert (s.start.timestamp(), s.end.timestamp()) == (t[10], t[19])
    assert s.middle == s.start + (s.end - s.start) / 2
    assert (s.top_m, s.bottom_m, s.thickness_m, s.pings) == pytest.approx((10.0, 11.0, 1.0, 10))
    assert s.mean_sv_db == pytest.approx(10 * np.log10((1e-4 + 1e-6) / 2), abs=1e-4)  # -42.97, not -50
    assert s.start.tzinfo is not None and s.lat is None and s.lon is None


def test_minimum_height_and_length_are_configurable():
    sv, t = echogram()
    sv[5:7, 100:120] = -40.0  # 2 pings
    sv[20:40, 150:154] = -40.0  # 0.4 m
    sv[45:55, 200:210] = -40.0  # 5 pings, 1 m
    assert [s.top_m for s in detect_schools(sv, t, BIN_M)] == pytest.approx([20.0])
    loose = DetectionSettings(min_height_m=0.3, min_pings=2)
    assert [s.top_m for s in detect_schools(sv, t, BIN_M, settings=loose)] == pytest.approx([10.0, 15.0, 20.0])


def test_position_comes_from_the_fixes_around_the_middle_time_or_none():
    sv, t = echogram(200)
    sv[10:21, 100:110] = -45.0  # middle at t[15]
    sv[150:161, 100:110] = -45.0  # middle at t[155], in a GNSS outage
    fix_times = np.arange(t[0] - 0.3, t[-1], 1.0)
    fixes = [f for f in track(fix_times) if not (t[125] < f.ts.timestamp() < t[199])]
    a, b = detect_schools(sv, t, BIN_M, fixes=FixTrack.from_fixes(fixes))
    expected = track(np.array([fix_times[0], t[15]]))[1]
    assert (a.lat, a.lon) == pytest.approx((expected.lat, expected.lon), abs=1e-9)
    assert b.lat is None and b.lon is None
    near = DetectionSettings(max_fix_gap_s=20.0)  # the last fix before the outage is 15-16 s away, the next 22: the first is used as it is
    _, b = detect_schools(sv, t, BIN_M, fixes=FixTrack.from_fixes(fixes), settings=near)
    last_before = max((f for f in fixes if f.ts.timestamp() <= t[125]), key=lambda f: f.ts)
    assert (b.lat, b.lon) == (last_before.lat, last_before.lon)


def test_streaming_gives_the_schools_of_the_block_function():
    filling = DetectionSettings(max_vertical_gap_m=0.2, min_height_m=0.3, min_pings=2)  # more, smaller schools
    for seed in range(6):
        s = scene(seed, 1000, SceneSpec(speckle_looks=1.0 if seed % 2 else 3.0))
        settings = filling if seed >= 4 else None
        fix_times = np.arange(s.times_s[0] - 0.5, s.times_s[-1] + 1, 1.0)
        fixes = [f for f in track(fix_times) if not (s.times_s[300] < f.ts.timestamp() < s.times_s[700])]
        expected = block(s, FixTrack.from_fixes(fixes), settings)
        assert any(x.lat is None for x in expected) and any(x.lat is not None for x in expected)
        for chunk in (1, 7, 20) if seed in (0, 5) else (7, 20):
            got, held = streamed(list(s.pings()), fixes, chunk_pings=chunk, settings=settings)
            assert sorted(got, key=lambda x: (x.start, x.top_m)) == expected
            assert held <= 240 + chunk


def test_a_school_across_two_chunks_is_reported_once_when_it_ends():
    sv, t = echogram(60)
    sv[15:31, 100:120] = -45.0  # chunks of 20: pings 0-19 and 20-39
    pings = [Ping(datetime.fromtimestamp(float(x), timezone.utc), k, BIN_M, row) for k, (x, row) in enumerate(zip(t, sv))]
    det = SchoolDetector(chunk_pings=20)
    reported = {k: det.push(p) for k, p in enumerate(pings)}
    assert [k for k, r in reported.items() if r] == [39]  # held at ping 19, closed with the chunk ending at 39
    (school,) = reported[39]
    assert school.pings == 16 and det.flush() == []
    assert [school] == detect_schools(sv, t, BIN_M)


def test_an_endless_layer_is_reported_in_pieces_with_bounded_memory():
    sv, t = echogram(1000)
    sv[:, 100:120] = -50.0
    pings = [Ping(datetime.fromtimestamp(float(x), timezone.utc), k, BIN_M, row) for k, (x, row) in enumerate(zip(t, sv))]
    got, held = streamed(pings, chunk_pings=20, max_school_pings=100)
    assert held <= 120
    assert all(s.pings <= 120 for s in got)
    assert sum(s.pings for s in got) == 1000
    assert all(a.end < b.start for a, b in zip(got, got[1:]))


def test_a_pause_or_a_range_change_ends_a_school():
    sv, t = echogram(40)
    sv[:, 100:120] = -50.0
    t[20:] += 60.0  # the sounder was off for a minute
    assert [s.pings for s in detect_schools(sv, t, BIN_M)] == [20, 20]
    pings = [Ping(datetime.fromtimestamp(float(x), timezone.utc), k, BIN_M, row) for k, (x, row) in enumerate(zip(t, sv))]
    assert [s.pings for s in streamed(pings, chunk_pings=7)[0]] == [20, 20]
    det = SchoolDetector(chunk_pings=50)
    for p in pings[:10]:
        assert det.push(p) == []
    rescaled = Ping(pings[10].ts, 10, 0.2, sv[10, :150])  # the skipper doubled the range
    (ended,) = det.push(rescaled)
    assert ended.pings == 10 and ended.end == pings[9].ts


def test_nan_is_no_echo():
    sv, t = echogram()
    sv[10:20, 100:110] = -45.0
    sv[10:20:2, 104] = np.nan  # holes: the school stays whole, the holes are not part of it
    sv[30:50, 150:170] = np.nan
    (school,) = detect_schools(sv, t, BIN_M)
    assert school.pings == 10 and school.mean_sv_db == pytest.approx(-45.0, abs=1e-4)
    assert detect_schools(np.full((10, 50), np.nan), t[:10], BIN_M) == []


def test_vertical_gaps_can_be_filled():
    sv, t = echogram()
    sv[10:20, 100:110] = -45.0
    sv[10:20, 104] = np.nan  # a hole right across: two parts, of which only the lower is 0.5 m tall
    assert [s.top_m for s in detect_schools(sv, t, BIN_M)] == pytest.approx([10.5])
    (school,) = detect_schools(sv, t, BIN_M, settings=DetectionSettings(max_vertical_gap_m=0.1))
    assert (school.top_m, school.bottom_m) == pytest.approx((10.0, 11.0))
    assert school.mean_sv_db == pytest.approx(-45.0 + 10 * np.log10(0.9), abs=1e-4)  # the filled gap counts as no echo


@pytest.mark.parametrize(
    "call",
    [
        lambda sv, t: detect_schools(sv[0], t, BIN_M),  # 1-D
        lambda sv, t: detect_schools(sv, t[:-1], BIN_M),  # a time short
        lambda sv, t: detect_schools(sv, t[::-1], BIN_M),  # times going back
        lambda sv, t: detect_schools(sv, np.where(np.arange(len(t)) == 3, t[2], t), BIN_M),  # a repeated time
        lambda sv, t: detect_schools(sv, np.where(np.arange(len(t)) == 3, np.nan, t), BIN_M),
        lambda sv, t: detect_schools(sv, t, 0.0),
        lambda sv, t: detect_schools(sv, t, BIN_M, range_start_m=-1.0),
        lambda sv, t: detect_schools(np.where(sv > -101, np.inf, sv), t, BIN_M),
        lambda sv, t: detect_schools(sv.astype(str), t, BIN_M),
        lambda sv, t: detect_schools(sv[:0], t[:0], BIN_M),
        lambda sv, t: DetectionSettings(bottom_threshold_db=-80.0),
        lambda sv, t: DetectionSettings(min_pings=0),
        lambda sv, t: DetectionSettings(surface_zone_m=float("nan")),
        lambda sv, t: FixTrack(t, np.zeros_like(t), np.zeros(3)),
        lambda sv, t: FixTrack(t[::-1], np.zeros_like(t), np.zeros_like(t)),
        lambda sv, t: FixTrack(t, np.full_like(t, 95.0), np.zeros_like(t)),
        lambda sv, t: SchoolDetector(chunk_pings=0),
    ],
)
def test_bad_input_is_a_value_error(call):
    sv, t = echogram(20)
    with pytest.raises(ValueError):
        call(sv, t)


def test_a_rejected_ping_or_fix_leaves_the_stream_as_it_was():
    s = scene(11, 1000)
    pings = list(s.pings())
    fixes = track(np.arange(s.times_s[0], s.times_s[-1], 1.0))
    expected = block(s, FixTrack.from_fixes(fixes))
    det = SchoolDetector(chunk_pings=9)
    fix_iter, got = iter(fixes), []
    next_fix = next(fix_iter, None)
    for k, p in enumerate(pings):
        while next_fix is not None and next_fix.ts <= p.ts:
            det.push_fix(next_fix)
            next_fix = next(fix_iter, None)
        got += det.push(p)
        if k % 50 == 10:
            for bad in (p, Ping(p.ts - timedelta(seconds=3), p.seq, p.bin_m, p.sv_db), Ping(p.ts.replace(tzinfo=None), p.seq, p.bin_m, p.sv_db), Ping(p.ts + timedelta(seconds=0.1), p.seq, p.bin_m, p.sv_db[None, :])):
                with pytest.raises(ValueError):
                    det.push(bad)
            with pytest.raises(ValueError):
                det.push_fix(Fix(p.ts - timedelta(seconds=30), 0.0, 0.0))
    got += det.flush()
    assert got == expected and len(expected) >= 5


def test_fixes_of_the_same_second_keep_the_last():
    ts = T0 + timedelta(seconds=1)
    fixes = FixTrack.from_fixes([Fix(T0, 1.0, 2.0), Fix(ts, 1.5, 2.5), Fix(ts, 1.6, 2.6)])
    assert fixes.times_s.tolist() == [T0.timestamp(), ts.timestamp()] and fixes.lat.tolist() == [1.0, 1.6]


# -- deep water: the seabed out of range, TVG-amplified noise rising past the school threshold
DEEP = SceneSpec(n_bins=500, bin_m=0.2)  # a small boat's 100 m range (sim.boat.SounderSettings)
BOAT = DetectionSettings(min_height_m=1.0)  # as the boat's gateway runs it (edge.processor)


def deep_scene(seed: int, spec: SceneSpec, n: int = 1200) -> Scene:
    return scene(seed, n, spec, bottom_m=np.full(n, 400.0))  # off the Bukit: hundreds of metres


def noise_sv_db(spec: SceneSpec, depth_m: float) -> float:
    """The simulator's noise floor at a depth (its model, echogram_sim._add_noise)."""
    return spec.noise_db_re_1m + 20 * np.log10(depth_m) + 2 * spec.absorption_db_per_m * depth_m


def test_deep_water_noise_with_the_bottom_out_of_range_is_not_a_school():
    quiet = SceneSpec(n_bins=500, bin_m=0.2, school_gap_s=1e9, single_fish_per_min=0, plankton_layers=(0, 0))
    assert noise_sv_db(quiet, 90.0) > -70  # the premise: the noise floor passes the threshold at depth
    for seed in range(3):
        s = deep_scene(seed, quiet)
        raw = block(s, settings=DetectionSettings(min_height_m=1.0, snr_threshold_db=None))
        assert len(raw) > 20 and min(x.top_m for x in raw) > 50  # thresholding alone labels the noise
        assert block(s, settings=BOAT) == []
        assert block(s) == []
        assert streamed(list(s.pings()), settings=BOAT)[0] == []


def test_deep_schools_clear_of_the_noise_are_still_found():
    spec = SceneSpec(n_bins=500, bin_m=0.2, school_sv_db=(-55.0, -35.0), school_gap_s=20.0)
    clear, deep_clear, found_clear, detections, true_detections = 0, 0, 0, 0, 0
    for seed in range(4):
        s = deep_scene(seed, spec)
        found = block(s, settings=BOAT)
        detections += len(found)
        true_detections += sum(any(overlaps(d, o) for o in s.schools) for d in found)
        for o in s.schools:
            if o.sv_db - noise_sv_db(spec, o.bottom_m) >= 15.0:  # 5 dB to spare over the 10 dB SNR
                clear += 1
                deep_clear += o.bottom_m > 60.0
                found_clear += any(overlaps(d, o) for d in found)
    assert deep_clear >= 5  # the test looks where the noise is above -75 dB
    assert found_clear / clear >= 0.9
    assert true_detections / detections >= 0.9
