"""Sensor and link faults: reproducible, at the configured rates, and recognised by the gateway."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import numpy as np
import pytest

from kinds.awlr.sim import faults
from kinds.awlr.sim.recorder import encode_frame, reading_frame
from kinds.awlr.wire import decode_json, decode_sentence
from gateway.errors import FrameRejected
from core.config import TepiConfig

N = 200_000


def _pipeline(seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = np.linspace(40.0, 230.0, 2_000)
    x = faults.add_noise(x, 1.5, rng)
    x, spiked = faults.inject_spikes(x, 0.05, rng)
    x, frozen, _ = faults.apply_stuck(x, faults.StuckSensor(), 0.01, (5, 20), rng)
    return x, spiked, frozen, faults.fault_mask(x.size, 0.05, rng)


def test_the_same_seed_replays_the_same_faults() -> None:
    for a, b in zip(_pipeline(7), _pipeline(7)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(_pipeline(7)[0], _pipeline(8)[0])


def test_noise_has_the_configured_spread() -> None:
    rng = np.random.default_rng(1)
    noisy = faults.add_noise(np.full(N, 100.0), 2.0, rng)
    assert noisy.mean() == pytest.approx(100.0, abs=0.05)
    assert noisy.std() == pytest.approx(2.0, rel=0.02)
    np.testing.assert_array_equal(faults.add_noise([1.0, 2.0], 0.0, rng), [1.0, 2.0])


def test_spike_rate_and_size_match_the_plan() -> None:
    rng = np.random.default_rng(2)
    base = np.full(N, 100.0)
    out, hit = faults.inject_spikes(base, 0.01, rng, magnitude_cm=(30.0, 150.0))
    assert hit.mean() == pytest.approx(0.01, rel=0.1)
    jump = np.abs(out - base)
    assert jump[hit].min() >= 30.0 and jump[hit].max() <= 150.0
    assert (jump[~hit] == 0).all()
    # Both directions: debris reads high, a lost echo reads low.
    assert (out[hit] > 100).any() and (out[hit] < 100).any()


@pytest.mark.parametrize("p", [0.0, 0.005, 0.05, 1.0])
def test_dropout_rate_matches_the_probability(p: float) -> None:
    mask = faults.fault_mask(N, p, np.random.default_rng(3))
    assert mask.size == N
    assert mask.mean() == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / N) + 1e-12)


def test_a_stuck_sensor_repeats_its_last_value_for_the_stretch() -> None:
    rng = np.random.default_rng(4)
    rising = np.arange(100.0, 400.0)
    out, frozen, state = faults.apply_stuck(rising, faults.StuckSensor(), 0.02, (10, 10), rng)
    assert frozen.any()
    starts = np.flatnonzero(frozen & ~np.roll(frozen, 1))
    for s in starts:
        assert s > 0
        run = out[s : s + 10]
        assert (run == out[s - 1]).all(), "frozen at the value reported just before"
        assert frozen[s : s + 10].all()
    np.testing.assert_array_equal(out[~frozen], rising[~frozen])
    assert state.last_cm == out[-1]


def test_a_stuck_stretch_continues_into_the_next_batch() -> None:
    state = faults.StuckSensor(remaining=3, value_cm=55.5, last_cm=55.5)
    out, frozen, after = faults.apply_stuck([60.0, 61.0, 62.0, 63.0, 64.0], state, 0.0, (1, 1), np.random.default_rng(5))
    np.testing.assert_array_equal(out, [55.5, 55.5, 55.5, 63.0, 64.0])
    np.testing.assert_array_equal(frozen, [True, True, True, False, False])
    assert after.remaining == 0 and after.last_cm == 64.0


def test_no_stuck_probability_leaves_levels_alone() -> None:
    x = np.linspace(0, 10, 50)
    out, frozen, _ = faults.apply_stuck(x, faults.StuckSensor(), 0.0, (1, 5), np.random.default_rng(6))
    np.testing.assert_array_equal(out, x)
    assert not frozen.any()


def _sentence(seq: int) -> bytes:
    ts = datetime(2025, 1, 15, 3, 4, 5, tzinfo=timezone.utc)
    return encode_frame(reading_frame("katulampa", seq, ts, 187.3, 12.61), "serial")


def test_every_damaged_line_is_rejected_by_the_gateway_for_the_reason_injected() -> None:
    rng = np.random.default_rng(9)
    seen: set[str] = set()
    for seq in range(600):
        kind, line = faults.corrupt_line(_sentence(seq), rng)
        assert line.endswith(b"\r\n") and line.count(b"\n") == 1, "one damaged frame stays one line"
        with pytest.raises(FrameRejected) as err:
            decode_sentence(line)
        assert err.value.reason == kind
        seen.add(kind)
    assert seen == set(faults.SERIAL_LINK_FAULTS)


def test_cut_json_is_rejected_as_not_json() -> None:
    rng = np.random.default_rng(10)
    ts = datetime(2025, 1, 15, 3, 4, 5, tzinfo=timezone.utc)
    payload = encode_frame(reading_frame("depok", 1, ts, 301.0, 12.5), "mqtt")
    for _ in range(200):
        kind, cut = faults.corrupt_json(payload, rng)
        assert kind == "truncated_json" and len(cut) < len(payload)
        with pytest.raises(FrameRejected) as err:
            decode_json(cut)
        assert err.value.reason == "not_json"


def test_plan_from_the_scenario_counts_stuck_stretches_in_readings(default_config: TepiConfig) -> None:
    sim = default_config.simulation
    assert sim is not None
    plan = faults.FaultPlan.from_simulation(sim, "depok", stuck_seconds=(3600, 9000))
    assert plan.stuck_readings == (60, 150)  # interval 60 s: the QARTOD flat-line limits
    assert plan.noise_cm == sim.stations["depok"].noise_cm
    assert plan.spike_probability == sim.spike_probability
    with pytest.raises(ValueError, match="no scenario"):
        faults.FaultPlan.from_simulation(sim, "karet")


@pytest.mark.parametrize(
    "call",
    [
        lambda rng: faults.add_noise([1.0], -1.0, rng),
        lambda rng: faults.inject_spikes([1.0], 1.5, rng),
        lambda rng: faults.inject_spikes([1.0], 0.1, rng, magnitude_cm=(0.0, 5.0)),
        lambda rng: faults.fault_mask(-1, 0.1, rng),
        lambda rng: faults.fault_mask(10, -0.1, rng),
        lambda rng: faults.apply_stuck([[1.0]], faults.StuckSensor(), 0.1, (1, 2), rng),
        lambda rng: faults.apply_stuck([1.0], faults.StuckSensor(), 0.1, (3, 2), rng),
        lambda rng: faults.corrupt_line(b"hello\r\n", rng),
        lambda rng: faults.corrupt_json(b"{", rng),
        lambda rng: faults.FaultPlan(dropout_probability=2.0),
    ],
)
def test_bad_fault_input_is_a_value_error(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        call(np.random.default_rng(0))
