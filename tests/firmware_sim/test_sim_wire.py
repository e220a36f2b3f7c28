"""What the simulator puts on the wire is what the gateway decodes: one format, both sides."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinds.awlr.sim.faults import FaultPlan
from kinds.awlr.sim.recorder import AwlrRecorder, battery_volts, encode_frame, reading_frame
from kinds.awlr.wire import MAX_SENTENCE_BYTES, AwlrFrame, decode_json, decode_sentence
from gateway.errors import FrameRejected
from core.config import TepiConfig

# Short enough that the longest sentence still fits the NMEA limit of 82 bytes.
stations = st.from_regex(r"[a-z0-9][a-z0-9_-]{0,11}", fullmatch=True)
times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(timezone.utc)
)
levels = st.floats(min_value=-500.0, max_value=5000.0, allow_nan=False)
volts = st.floats(min_value=0.0, max_value=30.0, allow_nan=False)
seqs = st.integers(min_value=0, max_value=10**9)


def _as_wire_declares(station: str, seq: int, ts: datetime, level: float, battery: float) -> AwlrFrame:
    """Whole seconds, level to 0.1 cm and battery to 0.01 V, as `wire.FIELDS` declares."""
    return AwlrFrame(station, seq, ts.replace(microsecond=0), round(level, 1), round(battery, 2))


@settings(max_examples=300, deadline=None)
@given(stations, seqs, times, levels, volts)
def test_serial_round_trip(station: str, seq: int, ts: datetime, level: float, battery: float) -> None:
    line = encode_frame(reading_frame(station, seq, ts, level, battery), "serial")
    assert len(line) <= MAX_SENTENCE_BYTES
    assert decode_sentence(line) == _as_wire_declares(station, seq, ts, level, battery)


@settings(max_examples=300, deadline=None)
@given(stations, seqs, times, levels, volts)
def test_json_round_trip(station: str, seq: int, ts: datetime, level: float, battery: float) -> None:
    payload = encode_frame(reading_frame(station, seq, ts, level, battery), "mqtt")
    assert decode_json(payload) == _as_wire_declares(station, seq, ts, level, battery)


@settings(max_examples=100, deadline=None)
@given(times)
def test_both_transports_carry_the_same_timestamp(ts: datetime) -> None:
    frame = reading_frame("depok", 1, ts, 200.0, 12.5)
    assert decode_sentence(encode_frame(frame, "serial")).ts == decode_json(encode_frame(frame, "mqtt")).ts


def test_unknown_transport_and_naive_time_are_value_errors() -> None:
    frame = reading_frame("depok", 1, datetime(2025, 1, 1, tzinfo=timezone.utc), 1.0, 12.0)
    with pytest.raises(ValueError):
        encode_frame(frame, "lora")
    with pytest.raises(ValueError):
        reading_frame("depok", 1, datetime(2025, 1, 1), 1.0, 12.0)


def test_battery_charges_by_day_in_wib() -> None:
    noon_wib = datetime(2025, 1, 15, 5, 0, tzinfo=timezone.utc)
    midnight_wib = datetime(2025, 1, 15, 17, 0, tzinfo=timezone.utc)
    assert battery_volts(noon_wib) > 13.5 > 12.5 > battery_volts(midnight_wib) > 12.0


EPOCH = datetime(2025, 1, 15, 0, 0, tzinfo=timezone.utc)


def _recorder(config: TepiConfig, device_id: str, plan: FaultPlan, seed: int = 1) -> AwlrRecorder:
    device = next(d for d in config.devices if d.id == device_id)
    assert config.simulation is not None
    return AwlrRecorder(device, config.simulation, 0.0, EPOCH, plan, np.random.default_rng(seed))


def test_recorder_sends_every_slot_in_order_with_increasing_seq(default_config: TepiConfig) -> None:
    rec = _recorder(default_config, "awlr-katulampa", FaultPlan())
    first = rec.take_until(EPOCH + timedelta(minutes=30, seconds=59))
    assert [t.seq for t in first] == list(range(31))
    assert rec.take_until(EPOCH + timedelta(minutes=30, seconds=59)) == []
    later = rec.take_until(EPOCH + timedelta(hours=3), limit=50)
    assert [t.seq for t in later] == list(range(31, 81))
    assert rec.next_due == EPOCH + timedelta(minutes=81)
    rest = rec.take_until(EPOCH + timedelta(hours=3))
    assert [t.seq for t in rest] == list(range(81, 181))
    for tx in first + later + rest:
        frame = decode_sentence(tx.payload or b"")
        assert (frame.station, frame.seq, frame.ts) == ("katulampa", tx.seq, tx.ts)
    peak = max(decode_sentence(tx.payload or b"").level_cm for tx in first + later + rest)
    assert peak > 200, "the storm in the default scenario reaches Siaga 1 at Katulampa"


def test_a_dropout_uses_up_its_sequence_number(default_config: TepiConfig) -> None:
    rec = _recorder(default_config, "awlr-depok", FaultPlan(dropout_probability=0.3))
    txs = rec.take_until(EPOCH + timedelta(hours=5), limit=1000)
    dropped = [t for t in txs if t.payload is None]
    assert dropped and all(t.faults == ("dropout",) for t in dropped)
    received = [decode_json(t.payload).seq for t in txs if t.payload is not None]
    assert received == sorted(received) and len(received) + len(dropped) == 301
    assert set(range(301)) - set(received) == {t.seq for t in dropped}


def test_every_garbled_serial_payload_is_rejected_for_its_recorded_reason(default_config: TepiConfig) -> None:
    rec = _recorder(default_config, "awlr-katulampa", FaultPlan(garbage_probability=0.5))
    txs = rec.take_until(EPOCH + timedelta(hours=2))
    garbled = 0
    for tx in txs:
        assert tx.payload is not None
        if tx.faults:
            garbled += 1
            with pytest.raises(FrameRejected) as err:
                decode_sentence(tx.payload)
            assert (err.value.reason,) == tx.faults
        else:
            assert decode_sentence(tx.payload).seq == tx.seq
    assert 30 < garbled < 90


def test_same_seed_same_bytes(default_config: TepiConfig) -> None:
    plan = FaultPlan(noise_cm=1.0, spike_probability=0.05, dropout_probability=0.05, garbage_probability=0.05)
    until = EPOCH + timedelta(hours=4)
    a = _recorder(default_config, "awlr-depok", plan, seed=3).take_until(until)
    b = _recorder(default_config, "awlr-depok", plan, seed=3).take_until(until)
    assert a == b
    assert a != _recorder(default_config, "awlr-depok", plan, seed=4).take_until(until)
