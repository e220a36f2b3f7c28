"""The flood wave: timing along the Ciliwung, attenuation, base flow, published rises."""

from __future__ import annotations

import numpy as np
import pytest

from kinds.awlr.sim.hydrograph import (
    flood_wave,
    peak_hour,
    river_levels,
    station_level,
    wave_arrival_hours,
)
from kinds.awlr.siaga import classify_siaga
from core.config import TepiConfig
from kinds.awlr.config import Downstream, StationScenario

MINUTE_H = 1.0 / 60.0
HOURS = np.arange(0.0, 24.0, MINUTE_H)


def _peak_time(levels: np.ndarray) -> float:
    return float(HOURS[int(np.argmax(levels))])


def test_peaks_travel_downstream_with_the_configured_lag(default_config: TepiConfig) -> None:
    sim = default_config.simulation
    assert sim is not None
    levels = river_levels(HOURS, sim, default_config.stations)
    kat, dep, man = (_peak_time(levels[s]) for s in ("katulampa", "depok", "manggarai"))
    assert kat == pytest.approx(sim.storm_start_h + sim.rise_h, abs=MINUTE_H)
    # Katulampa -> Depok is published as 4-5 h; Katulampa -> Manggarai as 6-12 h: midpoints.
    assert dep - kat == pytest.approx(4.5, abs=MINUTE_H)
    assert man - kat == pytest.approx(9.0, abs=MINUTE_H)
    assert kat < dep < man
    assert peak_hour(sim, default_config.stations, "depok") == pytest.approx(dep, abs=MINUTE_H)


def test_a_station_reached_only_through_a_chain_sums_the_legs(default_config: TepiConfig) -> None:
    kat = default_config.station("katulampa")
    only_depok = [d for d in kat.downstream if d.station == "depok"]
    ciliwung = [s for s in default_config.stations if s.river == "Ciliwung"]
    stations = [kat.model_copy(update={"downstream": only_depok})] + [s for s in ciliwung if s.id != "katulampa"]
    arrival = wave_arrival_hours(stations)
    assert arrival == {"katulampa": 0.0, "depok": 4.5, "manggarai": 4.5 + 6.0}


def test_each_station_peaks_at_its_own_scenario_peak(default_config: TepiConfig) -> None:
    sim = default_config.simulation
    assert sim is not None
    levels = river_levels(HOURS, sim, default_config.stations)
    for station_id, scenario in sim.stations.items():
        assert levels[station_id].max() == pytest.approx(scenario.peak_cm, abs=0.5)
    lower = sim.model_copy(update={"stations": {**sim.stations, "depok": StationScenario(base_cm=130, peak_cm=200)}})
    assert river_levels(HOURS, lower, default_config.stations)["depok"].max() == pytest.approx(200, abs=0.5)


def test_every_station_sits_at_base_flow_until_the_wave_arrives(default_config: TepiConfig) -> None:
    sim = default_config.simulation
    assert sim is not None
    levels = river_levels(HOURS, sim, default_config.stations)
    arrival = wave_arrival_hours(default_config.stations)
    for station_id, scenario in sim.stations.items():
        before = HOURS <= sim.storm_start_h + arrival[station_id]
        assert before.any()
        np.testing.assert_allclose(levels[station_id][before], scenario.base_cm)
        assert levels[station_id][~before].min() > scenario.base_cm - 1e-9
    # And it returns to base once the recession is over.
    after = HOURS >= sim.storm_start_h + sim.rise_h + sim.fall_h
    np.testing.assert_allclose(levels["katulampa"][after], sim.stations["katulampa"].base_cm)


def test_katulampa_rises_like_the_published_storm_and_reaches_siaga_1(default_config: TepiConfig) -> None:
    sim = default_config.simulation
    assert sim is not None
    fine = np.arange(0.0, 10.0, 1.0 / 3600.0)
    kat = river_levels(fine, sim, default_config.stations)["katulampa"]
    t80 = fine[np.argmax(kat >= 80)]
    t140 = fine[np.argmax(kat >= 140)]
    minutes = (t140 - t80) * 60
    assert 10 < minutes < 35, f"80 -> 140 cm took {minutes:.1f} min; published: 22 min"
    siaga = classify_siaga(kat, default_config.station("katulampa").thresholds.bounds())
    # Normal, then each alert in turn up to Awas (Siaga 1), then back down.
    changes = [int(siaga[0])] + [int(b) for a, b in zip(siaga[:-1], siaga[1:]) if a != b]
    assert changes == [4, 3, 2, 1, 2, 3, 4]


def test_the_wave_has_no_jumps() -> None:
    shape = flood_wave(HOURS, arrival_h=1.0, rise_h=1.5, fall_h=6.0)
    assert shape.min() == 0.0 and shape.max() == pytest.approx(1.0, abs=1e-4)
    assert np.abs(np.diff(shape)).max() < 0.02  # per minute: smooth at start, peak and end


@pytest.mark.parametrize(
    "hours, arrival, rise, fall",
    [
        ([0.0, float("nan")], 0.0, 1.0, 1.0),
        ([0.0, float("inf")], 0.0, 1.0, 1.0),
        (["soon"], 0.0, 1.0, 1.0),
        ([0.0], 0.0, 0.0, 1.0),
        ([0.0], 0.0, 1.0, -2.0),
        ([0.0], float("nan"), 1.0, 1.0),
    ],
)
def test_bad_wave_input_is_a_value_error(hours: list[object], arrival: float, rise: float, fall: float) -> None:
    with pytest.raises(ValueError):
        flood_wave(hours, arrival, rise, fall)  # type: ignore[arg-type]


def test_a_peak_below_base_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="peak_cm"):
        station_level([0.0, 1.0], StationScenario(base_cm=100, peak_cm=50), 0.0, 1.0, 1.0)


def test_rivers_flowing_in_circles_are_a_value_error(default_config: TepiConfig) -> None:
    man = default_config.station("manggarai")
    loop = man.model_copy(
        update={"downstream": [Downstream(station="katulampa", travel_hours=(1, 2), source="test")]}
    )
    stations = [s for s in default_config.stations if s.id != "manggarai"] + [loop]
    with pytest.raises(ValueError, match="circles"):
        wave_arrival_hours(stations)
    with pytest.raises(ValueError, match="not in the list"):
        wave_arrival_hours([default_config.station("katulampa")])
    with pytest.raises(ValueError, match="unknown station"):
        peak_hour(default_config.simulation, default_config.stations, "angke-hulu")  # type: ignore[arg-type]
