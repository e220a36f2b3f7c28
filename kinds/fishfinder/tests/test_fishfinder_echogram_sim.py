"""The echogram simulator: repeatable, and its echogram looks as the module docstring says."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from kinds.fishfinder.sim.echogram_sim import SCHOOL_ABOVE_BOTTOM_M, SCHOOL_MIN_DEPTH_M, SceneSpec, simulate_scene

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=timezone.utc)


def scene(seed: int, n: int = 1200, spec: SceneSpec = SceneSpec(), **kw):
    return simulate_scene(np.random.default_rng(seed), n, T0, spec, **kw)


def bin_of(depth_m: float, spec: SceneSpec = SceneSpec()) -> int:
    return int((depth_m - spec.range_start_m) / spec.bin_m)


def test_same_seed_same_scene_other_seed_other_scene():
    a, b, c = scene(7), scene(7), scene(8)
    assert np.array_equal(a.sv_db, b.sv_db) and a.schools == b.schools and a.single_fish == b.single_fish and a.plankton == b.plankton
    assert not np.array_equal(a.sv_db, c.sv_db)
    assert a.schools != c.schools


def test_pings_come_twice_a_second_as_ping_values():
    s = scene(1, 600)
    pings = list(s.pings())
    assert len(pings) == 600
    assert [p.seq for p in pings] == list(range(600))
    gaps = np.diff([p.ts.timestamp() for p in pings])
    assert np.all(gaps > 0)
    assert abs(gaps.mean() - 0.5) < 0.01 and gaps.max() <= 0.52 + 1e-6
    assert all(p.ts.tzinfo is not None and p.bin_m == 0.1 and p.sv_db.shape == (500,) for p in pings)
    assert pings[0].ts == T0
    assert [p.ts.timestamp() for p in pings] == s.times_s.tolist()
    assert np.array_equal(np.stack([p.sv_db for p in pings]), s.sv_db)
    assert not s.sv_db.flags.writeable


def test_seabed_is_strong_at_the_given_depth_with_a_tail_below():
    spec = SceneSpec(school_gap_s=1e9, single_fish_per_min=0, plankton_layers=(0, 0))
    bottom = np.linspace(12.0, 30.0, 400)  # the boat's own depth, following it
    s = scene(2, 400, spec, bottom_m=bottom)
    rows = np.arange(400)
    peak_bins = np.floor(bottom / spec.bin_m).astype(int)
    at_bottom = s.sv_db[rows, peak_bins]
    assert -22.0 < np.median(at_bottom) < -10.0
    below_1m = s.sv_db[rows, peak_bins + 10]
    below_3m = s.sv_db[rows, peak_bins + 30]
    above_1m = s.sv_db[rows, peak_bins - 10]
    assert np.median(at_bottom) - 16 < np.median(below_1m) < np.median(at_bottom) - 8  # 12 dB/m tail
    assert np.median(below_3m) < np.median(below_1m) - 18
    assert np.median(above_1m) < -80  # nothing but noise just above it
    strongest = np.argmax(s.sv_db[:, 30:], axis=1) + 30  # below the surface zone
    assert np.all((strongest >= peak_bins) & (strongest <= peak_bins + 8))  # in the first 0.8 m of the tail at worst


def test_no_seabed_echo_when_the_bottom_is_beyond_the_range():
    spec = SceneSpec(school_gap_s=1e9, single_fish_per_min=0, plankton_layers=(0, 0))
    s = scene(3, 200, spec, bottom_m=np.full(200, 80.0))  # 50 m range
    assert s.sv_db[:, bin_of(5.0):].max() < -55


def test_background_noise_rises_with_depth_about_minus_90_to_minus_80_below_25_m():
    spec = SceneSpec(school_gap_s=1e9, single_fish_per_min=0, plankton_layers=(0, 0))
    s = scene(4, 400, spec, bottom_m=np.full(400, 60.0))
    med = {d: float(np.median(s.sv_db[:, bin_of(d)])) for d in (5, 10, 25, 35, 49)}
    assert med[5] < med[10] < med[25] < med[35] < med[49]
    assert -92 < med[25] < -84 and -84 < med[49] < -76


def test_surface_ringing_and_bubbles_stay_in_the_first_two_metres():
    spec = SceneSpec(school_gap_s=1e9, single_fish_per_min=0, plankton_layers=(0, 0))
    s = scene(5, 600, spec)
    assert np.median(s.sv_db[:, 0]) > -30  # transducer ringing
    first_m = s.sv_db[:, bin_of(0.5)]
    assert np.percentile(first_m, 90) > -60  # bubbles, some of the time
    assert np.percentile(s.sv_db[:, bin_of(1.9)], 99) < -90  # just above the surface zone: noise only


def test_schools_sit_in_the_water_column_apart_in_time_at_their_level():
    spec = SceneSpec()
    total = 0
    for seed in range(10):
        s = scene(seed, 1200, spec)
        total += len(s.schools)
        for a, b in zip(s.schools, s.schools[1:]):
            assert b.first_ping > a.last_ping + spec.school_min_gap_s / spec.ping_interval_s - 1
        for o in s.schools:
            rows = np.arange(o.first_ping, o.last_ping + 1)
            assert o.top_m >= SCHOOL_MIN_DEPTH_M - spec.bin_m
            assert o.bottom_m <= s.bottom_m[rows].min() - SCHOOL_ABOVE_BOTTOM_M + spec.bin_m
            assert 0.9 <= o.bottom_m - o.top_m and o.last_ping - o.first_ping >= 4
            assert spec.school_sv_db[0] <= o.sv_db <= spec.school_sv_db[1]
            # Its level shows in the echogram: the strongest 0.5 m of the middle ping, averaged linearly.
            mid = s.sv_db[(o.first_ping + o.last_ping) // 2, bin_of(o.top_m) : bin_of(o.bottom_m)].astype(float)
            smoothed = 10 * np.log10(np.convolve(10 ** (mid / 10), np.ones(5) / 5, mode="valid"))
            assert abs(smoothed.max() - o.sv_db) < 4.0
    assert total > 80  # about one a minute: 30 s gaps on average, 5-30 s over each


def test_single_fish_are_small_and_apart_from_schools():
    fish = 0
    for seed in range(10):
        s = scene(seed)
        for f in s.single_fish:
            assert f.bottom_m - f.top_m <= 0.4 + 1e-9 and 1 <= f.last_ping - f.first_ping <= 6  # under the 0.5 m a school needs
            assert -55 <= f.sv_db <= -40
            assert not any(o.first_ping <= f.last_ping and f.first_ping <= o.last_ping and o.top_m < f.bottom_m and f.top_m < o.bottom_m for o in s.schools)
        fish += len(s.single_fish)
    assert fish > 500


def test_plankton_layers_are_weaker_than_the_school_threshold():
    spec = SceneSpec(school_gap_s=1e9, single_fish_per_min=0, plankton_layers=(2, 2))
    layers = 0
    for seed in range(10):
        s = scene(seed, 1200, spec)
        for p in s.plankton:
            assert p.sv_db < -74
            box = s.sv_db[p.first_ping : p.last_ping + 1, bin_of(p.top_m) : bin_of(p.bottom_m)]
            assert np.mean(box > -70) < 0.005  # its samples rarely pass the school threshold
            assert np.percentile(box, 99) > -85  # but it is there, above the noise
        layers += len(s.plankton)
    assert layers >= 10


@pytest.mark.parametrize(
    "call",
    [
        lambda: simulate_scene(np.random.default_rng(0), 0, T0),
        lambda: simulate_scene(np.random.default_rng(0), 10, T0.replace(tzinfo=None)),
        lambda: simulate_scene(0, 10, T0),  # type: ignore[arg-type]
        lambda: simulate_scene(np.random.default_rng(0), 10, T0, bottom_m=np.full(9, 20.0)),
        lambda: simulate_scene(np.random.default_rng(0), 10, T0, bottom_m=np.full(10, np.nan)),
        lambda: SceneSpec(bin_m=0.0),
        lambda: SceneSpec(ping_interval_s=0.03, ping_jitter_s=0.02),
        lambda: SceneSpec(bottom_m=(30.0, 20.0)) and simulate_scene(np.random.default_rng(0), 10, T0, SceneSpec(bottom_m=(30.0, 20.0))),
    ],
)
def test_bad_arguments_are_value_errors(call):
    with pytest.raises(ValueError):
        call()


def test_first_seq_and_start_time_carry_through():
    s = simulate_scene(np.random.default_rng(0), 5, T0 + timedelta(hours=1), first_seq=41)
    pings = list(s.pings())
    assert pings[0].seq == 41 and pings[-1].seq == 45 and pings[0].ts == T0 + timedelta(hours=1)
