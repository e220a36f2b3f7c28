"""The rate-of-rise warning warns before the thresholds on the published rises, stays quiet in a
normal month, and the gateway's tracker gives the answers of its vectorised twin.

The targets (issue 18) are scored as `bench/rise_warning.py` scores them, through the gateway's
`LevelProcessor` with the shipped configuration, on fixed seeds."""

from __future__ import annotations

import math
import re
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bench.rise_scoring import OBSERVED_RISES, T0, lead_min, measured, observed_rises, ramp, score_month, warnings
from kinds.awlr.edge.processor import LevelProcessor
from kinds.awlr.edge.reading import LevelReading as Reading
from kinds.awlr.edge.rise import rate_of_rise, rise_warning
from kinds.awlr.edge.rise_tracker import RateOfRiseTracker
from core.config import ConfigError, TepiConfig, parse_config
from kinds.awlr.config import StationConfig
from kinds.awlr.items import RateOfRise

SEEDS = range(5)
MINUTE = 60.0
T0_S = 1_700_000_000.0
nan = math.nan
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _lead(station: StationConfig, series_name: str, level_cm: float, seed: int) -> float | None:
    """Minutes from the first warning to the true level reaching `level_cm`."""
    series = ramp() if series_name == "ramp" else observed_rises()[series_name]
    t, true = series.sampled()
    events = warnings(station, t, measured(true, np.random.default_rng(seed)))
    return lead_min(events, series.reaches_s(level_cm))


# --- the committed series ------------------------------------------------------------------------


def test_the_scoring_series_holds_the_published_rises_and_names_a_source_for_every_point() -> None:
    text = OBSERVED_RISES.read_text()
    cited = set(re.findall(r"^#\s+(\S+-\d{4})\s", text, flags=re.MULTILINE))
    assert {"okezone-2024", "kbr-2018", "tirto-2018", "antara-2023"} <= cited
    for line in text.splitlines()[1:]:
        if line.startswith("#") or line.startswith("series,"):
            continue
        kind, source = line.split(",")[3:5]
        assert kind == "assumed" or (kind == "published" and set(source.split()) <= cited), line
    rises = observed_rises()
    kat, dep = rises["katulampa"], rises["depok"]

    def minutes_between(series, low: float, high: float) -> float:
        return (series.reaches_s(high) - series.reaches_s(low + 1e-9)) / MINUTE + 0.0

    # Katulampa 80 -> 140 cm in 22 min and 180 -> 240 cm in an hour; Depok 130 -> 305 cm in an hour.
    assert kat.levels_cm[1] == 80 and kat.levels_cm[2] == 140 and kat.minutes[2] - kat.minutes[1] == 22
    assert minutes_between(kat, 180, 240) == pytest.approx(60, abs=1e-3)
    assert minutes_between(dep, 130, 305) == pytest.approx(60, abs=1e-3)


# --- the targets, through the gateway's processor ------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_a_240_cm_per_h_rise_from_50_cm_is_warned_of_before_siaga_3(default_config: TepiConfig, seed: int) -> None:
    """Katulampa's Siaga 3 (80 cm) comes 7.5 minutes into the ramp, between two readings."""
    lead = _lead(default_config.station("katulampa"), "ramp", 80.0, seed)
    assert lead is not None and lead >= 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_the_observed_katulampa_rise_is_warned_of_15_minutes_before_siaga_2(default_config: TepiConfig, seed: int) -> None:
    lead = _lead(default_config.station("katulampa"), "katulampa", 150.0, seed)
    assert lead is not None and lead >= 15


def test_the_long_window_alone_warned_too_late_for_those_targets(default_config: TepiConfig) -> None:
    """Why the short window: with it out of reach, the warning comes after Siaga 3 on the ramp."""
    katulampa = default_config.station("katulampa")
    alerting = katulampa.alerting.model_copy(update={"rate_of_rise_short_cm_per_h": 1e9})
    long_only = katulampa.model_copy(update={"alerting": alerting})
    assert (_lead(long_only, "ramp", 80.0, 0) or -1) < 0
    assert (_lead(long_only, "katulampa", 150.0, 0) or 0) < 15


@pytest.mark.parametrize("seed", SEEDS)
def test_the_observed_depok_rise_is_warned_of_before_siaga_3(default_config: TepiConfig, seed: int) -> None:
    lead = _lead(default_config.station("depok"), "depok", 200.0, seed)
    assert lead is not None and lead >= 10


@pytest.mark.parametrize(("station_id", "base_cm"), [("katulampa", 40.0), ("depok", 130.0), ("manggarai", 640.0)])
def test_a_normal_month_raises_at_most_one_false_warning(default_config: TepiConfig, station_id: str, base_cm: float) -> None:
    """30 days at a reading a minute: rain rises below Siaga 3, a spike a day through QC."""
    month = score_month(default_config.station(station_id), base_cm, seed=0)
    assert month.highest_cm < month.siaga3_cm
    assert month.false_warnings <= 1


def test_a_spike_through_the_processor_raises_no_warning(default_config: TepiConfig) -> None:
    """A false echo 55 cm high passes the rate-of-change test (under 1 cm/s) and reaches the
    tracker as good (its spike test waits for the next reading); without the processor's
    `settle`, the next reading would confirm the slope it made (150, then 105 cm/h)."""
    station = default_config.station("katulampa")
    p = LevelProcessor("gw", station, "awlr-katulampa")
    rng = np.random.default_rng(4)
    levels = np.round(60 + rng.normal(0, 1, 90), 1)
    levels[60] += 55
    out = []
    for i, x in enumerate(levels):
        p.accept(Reading("awlr-katulampa", i, T0 + timedelta(minutes=i), float(x), 12.5))
        out += p.process()
    assert not [i for i in out if isinstance(i, RateOfRise)]


def test_a_warning_event_names_the_window_that_started_it(default_config: TepiConfig) -> None:
    t, true = ramp().sampled()
    first = next(e for e in warnings(default_config.station("katulampa"), t, measured(true, np.random.default_rng(0))) if e.active)
    assert first.threshold_cm_per_h == default_config.station("katulampa").alerting.rate_of_rise_short_cm_per_h
    assert first.rate_cm_per_h is not None and first.rate_cm_per_h >= first.threshold_cm_per_h


# --- the tracker ---------------------------------------------------------------------------------


def test_one_reading_never_starts_a_warning_and_the_end_waits_for_a_second() -> None:
    tracker = RateOfRiseTracker(1800, 60, 10)
    t = T0_S
    levels = [100.0] * 20 + [100 + 3 * k for k in range(1, 15)] + [142.0] * 40
    events = [(i, e) for i, x in enumerate(levels) if (e := tracker.update(t + MINUTE * i, x, True)) is not None]
    (start, on), (end, off) = events
    assert on is True and off is False
    # The short slope reached 100 cm/h at one reading and the warning came at the next.
    replay, calls = RateOfRiseTracker(1800, 60, 10), []
    for i, x in enumerate(levels):
        replay.update(t + MINUTE * i, x, True)
        calls.append(replay.short_rate_cm_per_h >= 100 or replay.long_rate_cm_per_h >= 60)
    assert start == calls.index(True) + 1
    assert end > 34  # after the river stopped rising, once both slopes fell below the margin


def test_settle_takes_a_spike_back_out() -> None:
    """Fed as good and settled as bad, a spike leaves the tracker as if it had never been good."""
    t0 = T0_S
    rng = np.random.default_rng(2)
    levels = 100 + rng.normal(0, 1, 60)
    settled, clean = RateOfRiseTracker(1800, 60, 10), RateOfRiseTracker(1800, 60, 10)
    for i, x in enumerate(levels):
        spike = i == 40
        assert settled.update(t0 + MINUTE * i, x + (200 if spike else 0), True) is None
        clean.update(t0 + MINUTE * i, x, not spike)
        settled.settle(not spike)
        assert (settled.long_rate_cm_per_h, settled.short_rate_cm_per_h) == pytest.approx((clean.long_rate_cm_per_h, clean.short_rate_cm_per_h), nan_ok=True)
    assert not settled.active


@st.composite
def timed_readings(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Readings at irregular spacing, with noise, outliers, NaN and bad flags."""
    n = draw(st.integers(0, 80))
    steps = draw(st.lists(st.sampled_from([30.0, 60.0, 60.0, 60.0, 300.0, 1200.0]), min_size=n, max_size=n))
    slope = draw(st.floats(-0.1, 0.1))
    noise = draw(st.lists(st.one_of(st.floats(-3, 3), st.floats(-300, 300), st.just(nan)), min_size=n, max_size=n))
    good = draw(st.lists(st.sampled_from([True, True, True, False]), min_size=n, max_size=n))
    t = T0_S + np.cumsum(np.array(steps))
    levels = 150 + slope * (t - T0_S) + np.array(noise, dtype=float)
    return t, levels, np.array(good, dtype=bool)


def rise_by_polyfit(t: np.ndarray, x: np.ndarray, good: np.ndarray, window_s: float, min_points: int) -> np.ndarray:
    """Independent oracle: numpy's polynomial fit over each trailing window."""
    out = np.full(t.size, nan)
    for i in range(t.size):
        sel = good & np.isfinite(x) & (t >= t[i] - window_s) & (t <= t[i])
        if sel.sum() >= min_points and np.ptp(t[sel]) >= window_s / 2:
            out[i] = np.polyfit(t[sel] - t[i], x[sel], 1)[0] * 3600
    return out


@PROPERTY
@given(series=timed_readings(), window_s=st.sampled_from([600.0, 1800.0, 3600.0]), min_points=st.integers(2, 5))
def test_rate_of_rise_equals_a_polynomial_fit(series: tuple[np.ndarray, np.ndarray, np.ndarray], window_s: float, min_points: int) -> None:
    t, x, good = series
    np.testing.assert_allclose(rate_of_rise(t, x, good, window_s, min_points=min_points), rise_by_polyfit(t, x, good, window_s, min_points), rtol=1e-6, atol=1e-6)


@PROPERTY
@given(
    series=timed_readings(),
    as_sensors_report=st.booleans(),
    windows=st.sampled_from([(1800.0, 600.0), (3600.0, 300.0), (600.0, 120.0)]),
    thresholds=st.tuples(st.floats(1, 200), st.floats(1, 400)),
    margin=st.floats(0, 30),
    confirm=st.integers(1, 3),
)
def test_tracker_equals_vectorised(
    series: tuple[np.ndarray, np.ndarray, np.ndarray], windows: tuple[float, float], thresholds: tuple[float, float],
    margin: float, confirm: int, as_sensors_report: bool,
) -> None:
    """Also with levels to a tenth of a cm, which the tracker's windows keep packed."""
    t, x, good = series
    if as_sensors_report:
        x = np.round(x, 1)
    (window, short), (threshold, short_threshold) = windows, thresholds
    tracker = RateOfRiseTracker(window, threshold, margin, short_window_s=short, short_threshold_cm_per_h=short_threshold, confirm=confirm)
    longs, shorts, active = [], [], []
    for tt, v, g in zip(t, x, good):
        before = tracker.active
        event = tracker.update(tt, v, g)
        assert event is (None if tracker.active == before else tracker.active)
        longs.append(tracker.long_rate_cm_per_h)
        shorts.append(tracker.short_rate_cm_per_h)
        active.append(tracker.active)
    expected_long, expected_short = rate_of_rise(t, x, good, window), rate_of_rise(t, x, good, short)
    np.testing.assert_allclose(longs, expected_long, rtol=1e-9, atol=1e-6)  # cm/h: a millionth, where float sums of levels in the thousands leave ~1e-9
    np.testing.assert_allclose(shorts, expected_short, rtol=1e-9, atol=1e-6)
    # The same decisions, unless a slope sits within rounding of a decision line.
    for rates, th in ((expected_long, threshold), (expected_short, short_threshold)):
        finite = rates[np.isfinite(rates)]
        assume(np.all(np.abs(finite - th) > 1e-6) and np.all(np.abs(finite - (th - margin)) > 1e-6))
    expected = rise_warning(
        t, x, good, window, threshold, clear_margin_cm_per_h=margin, short_window_s=short,
        short_threshold_cm_per_h=short_threshold, confirm=confirm,
    )
    assert active == expected.tolist()


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: RateOfRiseTracker(1800, 60, 10, short_window_s=1800),
        lambda: RateOfRiseTracker(1800, 0),
        lambda: RateOfRiseTracker(1800, 60, 10, short_threshold_cm_per_h=nan),
        lambda: RateOfRiseTracker(1800, 60, nan),
        lambda: RateOfRiseTracker(1800, 60, 10, confirm=0),
        lambda: RateOfRiseTracker(1800, 60, 10, short_window_s=0),
        lambda: rise_warning([0.0, 60.0], [1.0, 2.0], [True, True], 600, 60, short_window_s=600),
        lambda: rise_warning([0.0, 60.0], [1.0, 2.0], [True, True], 1800, -1),
    ],
)
def test_bad_arguments_raise_value_error(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


def test_the_configuration_refuses_a_short_window_not_shorter_than_the_long_one(default_config: TepiConfig) -> None:
    data = default_config.model_dump(mode="json")
    data["stations"][0]["alerting"] = {"rate_of_rise_window_s": 600, "rate_of_rise_short_window_s": 600}
    with pytest.raises(ConfigError, match="rate_of_rise_short_window_s must be shorter"):
        parse_config(data)
