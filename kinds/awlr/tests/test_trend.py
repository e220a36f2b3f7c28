"""The level trend (`kinds.awlr.api.trend`): a rate in cm/h that does not depend on how readings were windowed.

Rises as reported at the gauges (no dated gauge series is published, so each is rebuilt as a
straight rise between the two reported levels):

* Katulampa 80 -> 140 cm in 22 minutes: 80 cm at 17:30 and 140 cm at 17:52 WIB on 5 April 2024
  (Okezone, "Status Bendung Katulampa Bogor Naik Siaga 3",
  https://news.okezone.com/read/2024/04/05/338/2993139/status-bendung-katulampa-bogor-naik-siaga-3).
* Katulampa 180 -> 240 cm in one hour: 240 cm at 09:05 WIB on 5 February 2018, "one hour before
  only 180 cm" (KBR, "Katulampa Siaga 1, Warga Jakarta Diminta Waspada Banjir",
  http://kbr.id/headline/02-2018/katulampa_siaga_1__warga_jakarta_diminta_waspada_banjir/94864.html).
* Depok 130 -> 305 cm in one hour, as reported (the configuration's Depok storm, config/tepi.yaml,
  rises between the same levels).

Readings come once a minute with 1 cm of noise (over 200 noise seeds the rate came within 4 cm/h
of the true one); the gateway sums them up in 10-minute windows at Siaga 4 and 1-minute windows
from Siaga 3 on, and the same river must get the same trend.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from kinds.awlr.api.trend import SPAN, LevelTrend, LevelWindow, level_trend, trend_label, weighted_slope

T0 = datetime(2024, 4, 5, 10, 0, tzinfo=timezone.utc)
Level = Callable[[float], float]  # minutes since T0 -> cm


def ramp(before_cm: float, after_cm: float, start_min: float, minutes: float) -> Level:
    """Steady at `before_cm`, then straight to `after_cm` in `minutes`, then steady again."""

    def level(t: float) -> float:
        share = min(max((t - start_min) / minutes, 0.0), 1.0)
        return before_cm + share * (after_cm - before_cm)

    return level


def windows(level: Level, until_min: float, window_min: int, noise_cm: float = 1.0, seed: int = 7) -> list[LevelWindow]:
    """The gateway's windows of one reading a minute (in the middle of each minute) up to `until_min`."""
    rng = random.Random(seed)
    readings = [(m + 0.5, level(m + 0.5) + rng.gauss(0.0, noise_cm)) for m in range(int(until_min))]
    out = []
    for first in range(0, int(until_min), window_min):
        inside = [cm for t, cm in readings if first <= t < first + window_min]
        start = T0 + timedelta(minutes=first)
        out.append(LevelWindow(start, start + timedelta(minutes=window_min), sum(inside) / len(inside), len(inside)))
    return out


def trend_at(level: Level, until_min: float, window_min: int, **kw: float) -> LevelTrend:
    trend = level_trend(windows(level, until_min, window_min, **kw), T0 + timedelta(minutes=until_min))
    assert trend is not None
    return trend


@pytest.mark.parametrize(
    ("name", "level", "start_min", "minutes", "true_cm_per_h"),
    [
        ("Katulampa 180 -> 240 cm in 1 h", ramp(180, 240, 60, 60), 60, 60, 60.0),
        ("Depok 130 -> 305 cm in 1 h", ramp(130, 305, 60, 60), 60, 60, 175.0),
    ],
)
def test_an_observed_rise_of_an_hour_reads_as_its_rate_whatever_the_windows(
    name: str, level: Level, start_min: int, minutes: int, true_cm_per_h: float
) -> None:
    for at in (start_min + 40, start_min + minutes):  # once the half hour lies within the rise
        by_minute, by_ten = trend_at(level, at, 1), trend_at(level, at, 10)
        assert by_minute.label == by_ten.label == "rising", name
        assert by_minute.cm_per_h == pytest.approx(true_cm_per_h, abs=4), name
        assert by_ten.cm_per_h == pytest.approx(true_cm_per_h, abs=4), name
        assert abs(by_minute.cm_per_h - by_ten.cm_per_h) <= 5, name


def test_katulampa_80_to_140_cm_in_22_minutes_reads_as_a_fast_rise_at_once() -> None:
    """Half an hour of fit, 22 minutes of it rising: far above any alarm rate, not averaged away."""
    level = ramp(80, 140, 60, 22)
    for window_min in (1, 10):
        at_end = trend_at(level, 82, window_min)
        assert at_end.label == "rising"
        assert 110 <= at_end.cm_per_h <= 170, window_min  # the rise itself: 164 cm/h
    assert abs(trend_at(level, 82, 1).cm_per_h - trend_at(level, 82, 10).cm_per_h) <= 15
    # 10 minutes in, with 1-minute windows (Siaga 3 reached at once), the rise already shows.
    assert trend_at(level, 70, 1).label == "rising"


def test_the_issue_replay_a_rise_of_110_cm_an_hour_in_one_minute_windows_is_not_steady() -> None:
    """Katulampa was shown at 152.8, 187.4, 218.8 and 248.2 cm, each time "steady"."""
    level = ramp(150, 260, 0, 60)
    for at in (30, 40, 50, 60):
        trend = trend_at(level, at, 1)
        assert trend.label == "rising"
        assert trend.cm_per_h == pytest.approx(110, abs=4)


def test_a_noisy_steady_river_is_steady_and_a_falling_one_falls() -> None:
    steady = ramp(100, 100, 0, 1)
    for seed in range(20):
        for window_min in (1, 10):
            trend = trend_at(steady, 180, window_min, noise_cm=1.0, seed=seed)
            assert trend.label == "steady"
            assert abs(trend.cm_per_h) < 5
    # The recession after a flood: 240 -> 140 cm over two hours (-50 cm/h).
    falling = ramp(240, 140, 0, 120)
    for window_min in (1, 10):
        trend = trend_at(falling, 90, window_min)
        assert trend.label == "falling"
        assert trend.cm_per_h == pytest.approx(-50, abs=4)


def test_without_noise_the_window_length_makes_no_difference_at_all() -> None:
    level = ramp(50, 290, 0, 120)  # 120 cm/h
    assert trend_at(level, 90, 1, noise_cm=0) == LevelTrend("rising", 120.0, 30)
    assert trend_at(level, 90, 10, noise_cm=0) == LevelTrend("rising", 120.0, 3)


def test_thin_data_give_no_trend() -> None:
    level = ramp(100, 160, 0, 60)
    until = T0 + timedelta(minutes=60)
    all_ten = windows(level, 60, 10)
    assert level_trend([], until) is None
    assert level_trend(all_ten[-2:], until) is None, "two windows: a line through two noisy points"
    assert level_trend(windows(level, 60, 1)[-10:], until) is None, "ten windows within ten minutes"
    assert level_trend(all_ten[:3], until) is None, "all older than the half hour"
    assert level_trend(all_ten[-3:], until) is not None
    assert level_trend([all_ten[-3], all_ten[-1]], until) is None, "a window missing of three"


def test_window_middles_at_the_edges_of_the_span_count() -> None:
    until = T0 + SPAN
    at = [T0, T0 + SPAN / 2, until]  # middles exactly at both ends
    edge = [LevelWindow(t, t, 100.0 + i, 1) for i, t in enumerate(at)]
    trend = level_trend(edge, until)
    assert trend is not None and trend.windows == 3 and trend.cm_per_h == 4.0 and trend.label == "steady"
    just_out = [LevelWindow(T0 - timedelta(seconds=1), T0 - timedelta(seconds=1), 99.0, 1), *edge[1:]]
    assert level_trend(just_out, until) is None


def test_the_label_and_its_bounds() -> None:
    assert [trend_label(r) for r in (-5.0, -4.0, 0.0, 4.0, 5.0)] == ["falling", "steady", "steady", "steady", "rising"]
    with pytest.raises(ValueError, match="finite"):
        trend_label(float("nan"))


def test_the_fit_refuses_what_is_no_line() -> None:
    assert weighted_slope([0, 1, 2], [0, 2, 4], [1, 1, 1]) == pytest.approx(2.0)
    assert weighted_slope([0, 1, 2], [0, 2, 10], [1, 1, 0.000001]) == pytest.approx(2.0, rel=1e-5)
    for times, levels, weights, match in (
        ([0, 1], [0, 1, 2], [1, 1], "equal length"),
        ([0, 1], [0, float("nan")], [1, 1], "finite"),
        ([0, float("inf")], [0, 1], [1, 1], "finite"),
        ([0, 1], [0, 1], [1, 0], "positive"),
        ([5, 5, 5], [0, 1, 2], [1, 1, 1], "two different times"),
        ([], [], [], "two different times"),
    ):
        with pytest.raises(ValueError, match=match):
            weighted_slope(times, levels, weights)


def test_bad_windows_are_refused() -> None:
    until = T0 + SPAN
    good = LevelWindow(T0, T0 + timedelta(minutes=1), 100.0, 1)
    naive = datetime(2024, 4, 5, 10, 0)
    for windows_, match in (
        ([LevelWindow(naive, naive, 100.0, 1)], "timezone-aware"),
        ([LevelWindow(T0, T0 - timedelta(seconds=1), 100.0, 1)], "before it starts"),
        ([LevelWindow(T0, T0, 100.0, 0)], "one good reading"),
        ([LevelWindow(T0, T0, float("nan"), 1)], "finite"),
    ):
        with pytest.raises(ValueError, match=match):
            level_trend([good, *windows_], until)
    with pytest.raises(ValueError, match="timezone-aware"):
        level_trend([good], naive)
    with pytest.raises(ValueError, match="positive"):
        level_trend([good], until, span=timedelta(0))
