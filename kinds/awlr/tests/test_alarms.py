"""Siaga with hysteresis and the rate of rise's slopes, on the published Ciliwung rises (the
rate-of-rise warning built on those slopes: test_rise_warning.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kinds.awlr.edge.alarms import RateOfRiseTracker, SiagaTracker, rate_of_rise, rise_warning, siaga_with_hysteresis
from kinds.awlr.edge.qc import QcConfig, QcFlag, run_qc
from kinds.awlr.siaga import classify_siaga

KATULAMPA = (80.0, 150.0, 200.0)
DEPOK = (200.0, 270.0, 350.0)
KATULAMPA_SPAN = (0.0, 400.0)
DEPOK_SPAN = (0.0, 600.0)
T0 = 1_700_000_000.0
MINUTE = 60.0
nan = float("nan")
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def minutes(n: int) -> np.ndarray:
    return T0 + MINUTE * np.arange(n)


def changes(states: np.ndarray) -> int:
    return int(np.count_nonzero(np.diff(states)))


def good_by_qc(levels: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    _, agg = run_qc(minutes(levels.size), levels, span, QcConfig())
    return agg == QcFlag.GOOD


def hydrograph(base_cm: float, peak_cm: float, steady_min: int, rise_min: int, after_min: int, noise_cm: float, seed: int) -> np.ndarray:
    """Steady, then a straight rise of `peak - base` in `rise_min` minutes, then steady at the peak."""
    rng = np.random.default_rng(seed)
    ramp = base_cm + (peak_cm - base_cm) * np.arange(1, rise_min + 1) / rise_min
    levels = np.concatenate([np.full(steady_min, base_cm), ramp, np.full(after_min, peak_cm)])
    return levels + rng.normal(0, noise_cm, levels.size)


# --- Siaga with hysteresis ---------------------------------------------------------------------


def test_raises_after_a_run_and_clears_below_the_margin() -> None:
    levels = [60, 79, 85, 155, 160, 210, 210, 210, 190, 150, 140, 74, 70, 70, 70]
    expected = [4, 4, 4, 4, 3, 2, 2, 1, 1, 1, 2, 2, 3, 4, 4]
    out = siaga_with_hysteresis(levels, np.ones(len(levels), bool), KATULAMPA, raise_after=3, clear_margin_cm=5)
    assert out.dtype == np.int8 and out.tolist() == expected


def test_a_jump_skips_levels_and_a_fall_clears_in_one_step() -> None:
    levels = [60, 210, 210, 210, 40, 40, 40]
    out = siaga_with_hysteresis(levels, np.ones(7, bool), KATULAMPA, raise_after=3, clear_margin_cm=5)
    assert out.tolist() == [4, 4, 4, 1, 1, 1, 4]


def test_non_good_readings_hold_the_state_without_breaking_the_run() -> None:
    levels = [85, 500, 86, nan, 87, 10, 10, 10]
    good = np.array([True, False, True, True, True, False, False, False])
    out = siaga_with_hysteresis(levels, good, KATULAMPA, raise_after=3, clear_margin_cm=5)
    assert out.tolist() == [4, 4, 4, 4, 3, 3, 3, 3]  # NaN marked good is still not a reading


def test_initial_level_holds_until_enough_good_readings() -> None:
    out = siaga_with_hysteresis([40, 40, 40], np.ones(3, bool), KATULAMPA, raise_after=3, clear_margin_cm=5, initial=2)
    assert out.tolist() == [2, 2, 4]
    assert siaga_with_hysteresis([], np.ones(0, bool), KATULAMPA, 3, 5).tolist() == []


@pytest.mark.parametrize(("centre", "initial"), [(80.0, 4), (75.0, 3)])
def test_hovering_at_a_bound_or_the_clear_line_changes_at_most_once(centre: float, initial: int) -> None:
    """Katulampa at 79..81 (and at 74..76 once raised): the raw class flaps, the alarm does not."""
    rng = np.random.default_rng(3)
    levels = np.round(centre + rng.uniform(-1, 1, 24 * 60), 1)
    good = good_by_qc(levels, KATULAMPA_SPAN)
    assert good.mean() > 0.99
    raw = classify_siaga(levels, KATULAMPA)
    assert changes(raw) > 100 or initial == 3
    out = siaga_with_hysteresis(levels, good, KATULAMPA, raise_after=3, clear_margin_cm=5, initial=initial)
    assert changes(out) <= 1
    tracker = SiagaTracker(KATULAMPA, raise_after=3, clear_margin_cm=5, level=initial)
    assert sum(tracker.update(v, g) is not None for v, g in zip(levels, good)) <= 1


def spiky_katulampa(seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    levels = 60.0 + rng.normal(0, 0.3, 12 * 60)
    levels[np.arange(17, levels.size, 41)] = 300.0  # isolated false echoes, debris or rain on a radar
    return levels


def test_isolated_spikes_raise_nothing() -> None:
    levels = spiky_katulampa()
    good = good_by_qc(levels, KATULAMPA_SPAN)
    assert not good[levels == 300.0].any()
    # QC alone stops them, even without a run requirement ...
    assert (siaga_with_hysteresis(levels, good, KATULAMPA, raise_after=1, clear_margin_cm=5) == 4).all()
    # ... and the run requirement alone stops them, even without QC.
    assert (siaga_with_hysteresis(levels, np.ones(levels.size, bool), KATULAMPA, raise_after=2, clear_margin_cm=5) == 4).all()
    tracker = SiagaTracker(KATULAMPA, raise_after=3, clear_margin_cm=5)
    assert all(tracker.update(v, g) is None for v, g in zip(levels, good))
    rates = rate_of_rise(minutes(levels.size), levels, good, 1800)
    assert np.nanmax(np.abs(rates)) < 5
    assert not rise_warning(minutes(levels.size), levels, good, 1800, 60).any()


def test_a_stuck_sensor_is_flagged_and_stops_informing_the_rate() -> None:
    """Katulampa sensor frozen at 95 cm during a rise: flagged after 1 h, FAIL after 2.5 h."""
    levels = np.concatenate([hydrograph(60, 95, 60, 60, 0, 0.3, seed=9), np.full(4 * 60, 95.0)])
    stuck_from = 120
    flags, agg = run_qc(minutes(levels.size), levels, KATULAMPA_SPAN, QcConfig())
    flat = flags["flat_line"][stuck_from:]
    assert (flat[:60] == QcFlag.GOOD).all() and flat[60] == QcFlag.SUSPECT and flat[150] == QcFlag.FAIL
    rates = rate_of_rise(minutes(levels.size), levels, agg == QcFlag.GOOD, 1800)
    # Once flagged readings fill the window, the rate is unknown, not "no rise".
    assert np.isnan(rates[stuck_from + 60 + 31 :]).all()


# --- rate of rise --------------------------------------------------------------------------------


def test_rate_of_rise_of_a_straight_line_is_exact_and_irregular_spacing_is_fine() -> None:
    t = T0 + np.array([0, 60, 90, 300, 310, 900, 1000, 1700, 1800, 2500])
    levels = 100 + (t - T0) * 0.02  # 72 cm/h
    rates = rate_of_rise(t, levels, np.ones(t.size, bool), 1800, min_points=3)
    assert np.isnan(rates[:5]).all()  # too short a span (less than half the window)
    np.testing.assert_allclose(rates[5:], 72.0, rtol=1e-9)
    falling = rate_of_rise(t, -levels, np.ones(t.size, bool), 1800)
    np.testing.assert_allclose(falling[5:], -72.0, rtol=1e-9)


def test_rate_of_rise_ignores_bad_readings_and_needs_enough_points() -> None:
    t = minutes(40)
    levels = 100 + np.arange(40) * 1.0  # 60 cm/h
    levels[[10, 20]] = 400.0
    good = np.ones(40, bool)
    good[[10, 20]] = False
    np.testing.assert_allclose(rate_of_rise(t, levels, good, 1800)[15:], 60.0, rtol=1e-9)
    sparse = np.zeros(40, bool)
    sparse[[0, 25]] = True
    assert np.isnan(rate_of_rise(t, levels, sparse, 1800, min_points=3)).all()
    assert rate_of_rise(t, levels, sparse, 1800, min_points=2)[25] == pytest.approx(60.0)


def test_depok_rate_alarm_fires_before_siaga_3() -> None:
    """Depok 130 -> 305 cm in an hour (published): the rise is visible well before 200 cm."""
    levels = hydrograph(130, 305, steady_min=120, rise_min=60, after_min=60, noise_cm=1.0, seed=11)
    t = minutes(levels.size)
    good = good_by_qc(levels, DEPOK_SPAN)
    assert good[120:180].all()  # a fast real rise passes QC
    alarm = rise_warning(t, levels, good, 1800, 60)
    assert not alarm[:120].any()
    first_alarm = int(np.argmax(alarm))
    first_raw_siaga3 = int(np.argmax(classify_siaga(levels, DEPOK) <= 3))
    siaga = siaga_with_hysteresis(levels, good, DEPOK, raise_after=3, clear_margin_cm=5)
    first_siaga3 = int(np.argmax(siaga <= 3))
    assert first_alarm < first_raw_siaga3 < first_siaga3
    assert first_raw_siaga3 - first_alarm >= 15  # minutes of warning before the river reaches 200 cm
    assert levels[first_alarm] < 160
    tracker = RateOfRiseTracker(window_s=1800, threshold_cm_per_h=60, clear_margin_cm_per_h=10)
    events = [(i, e) for i, (tt, v, g) in enumerate(zip(t, levels, good)) if (e := tracker.update(tt, v, g)) is not None]
    assert events[0] == (first_alarm, True)
    assert events[-1][1] is False and events[-1][0] > 180  # ends once the river stops rising


def test_katulampa_rise_is_an_alarm_although_siaga_never_changes() -> None:
    """Katulampa 80 -> 140 cm in 22 min stays Siaga 3 throughout: only the rate says "hurry"."""
    levels = hydrograph(80, 140, steady_min=60, rise_min=22, after_min=30, noise_cm=0.3, seed=13)
    t = minutes(levels.size)
    good = good_by_qc(levels, KATULAMPA_SPAN)
    # Already at the Siaga 3 bound; the noise below 80 cm does not clear it (margin 5 cm).
    siaga = siaga_with_hysteresis(levels, good, KATULAMPA, raise_after=3, clear_margin_cm=5, initial=3)
    assert set(siaga.tolist()) == {3}
    assert changes(classify_siaga(levels, KATULAMPA)) > 10
    rates = rate_of_rise(t, levels, good, 20 * MINUTE)
    assert rates[60 + 21] == pytest.approx(60 / 22 * 60, rel=0.05)  # 164 cm/h over the last 20 min
    alarm = rise_warning(t, levels, good, 1800, 60)
    assert 60 < int(np.argmax(alarm)) < 60 + 11  # within the first half of the 22 minutes


# --- incremental trackers equal the vectorised functions ---------------------------------------

levels_near_bounds = st.one_of(
    st.floats(0, 260, allow_nan=False),
    st.sampled_from([74.9, 75.0, 79.9, 80.0, 145.0, 149.9, 150.0, 195.0, 200.0, 250.0, nan]),
)


@PROPERTY
@given(
    readings=st.lists(st.tuples(levels_near_bounds, st.booleans()), max_size=80),
    raise_after=st.integers(1, 4),
    margin=st.sampled_from([0.0, 2.5, 5.0, 20.0]),
    initial=st.integers(1, 4),
)
def test_siaga_tracker_equals_vectorised(readings: list[tuple[float, bool]], raise_after: int, margin: float, initial: int) -> None:
    levels = np.array([v for v, _ in readings], dtype=float)
    good = np.array([g for _, g in readings], dtype=bool)
    expected = siaga_with_hysteresis(levels, good, KATULAMPA, raise_after, margin, initial)
    tracker = SiagaTracker(KATULAMPA, raise_after, margin, level=initial)
    states, previous = [], initial
    for v, g in readings:
        new = tracker.update(v, g)
        assert new is None or new != previous
        previous = tracker.level if new is None else new
        states.append(tracker.level)
    assert states == expected.tolist()


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: siaga_with_hysteresis([1.0], [True], (150.0, 80.0, 200.0), 3, 5),
        lambda: siaga_with_hysteresis([1.0], [True], KATULAMPA, 0, 5),
        lambda: siaga_with_hysteresis([1.0], [True], KATULAMPA, 3, -1),
        lambda: siaga_with_hysteresis([1.0], [True], KATULAMPA, 3, 5, initial=0),
        lambda: siaga_with_hysteresis([1.0, 2.0], [True], KATULAMPA, 3, 5),
        lambda: siaga_with_hysteresis([1.0], [1], KATULAMPA, 3, 5),
        lambda: SiagaTracker(KATULAMPA, 2.5, 5),  # type: ignore[arg-type]
        lambda: rate_of_rise([0.0, 0.0], [1.0, 2.0], [True, True], 1800),
        lambda: rate_of_rise([0.0, 1.0], [1.0, 2.0], [True, True], 0),
        lambda: rate_of_rise([0.0, 1.0], [1.0, 2.0], [True, True], 1800, min_points=1),
        lambda: rate_of_rise([0.0, 1.0], [1.0, 2.0], [True, True], 1800, min_span_s=3600),
        lambda: RateOfRiseTracker(1800, 60, -1),
    ],
)
def test_bad_input_raises_value_error(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


def test_rate_tracker_rejects_readings_out_of_order() -> None:
    tracker = RateOfRiseTracker(1800, 60)
    tracker.update(T0, 100.0, True)
    with pytest.raises(ValueError):
        tracker.update(T0, 101.0, True)
