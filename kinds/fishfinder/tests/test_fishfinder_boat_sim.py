"""The boat simulator: a boat's instruments follow its voyage, its echogram its seabed and its
fishing ground, its SOS button gives distress sentences the gateway decodes, and the runner
delivers all of it over a pty (read back with pyserial) and over MQTT (a real Mosquitto)."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import numpy as np
import paho.mqtt.client as mqtt
import pytest
import serial

from contract.topics import device_topic
from gateway.errors import FrameRejected
from kinds.fishfinder.sim.boat import (
    CANCEL_REPEATS, DISTRESS_REPEAT_S, FULL, BoatInstruments, EchogramDecimation, SosPress, SounderSettings,
)
from kinds.fishfinder.sim.runner import BoatSimulation, BoatSimulationConfig
from kinds.fishfinder.sim.voyage import DEFAULT_FLEET, plan_fleet
from kinds.fishfinder.values import Depth, Distress, Fix, Ping, WaterTemp
from kinds.fishfinder.decoder import InstrumentDecoder

DAY = date(2026, 3, 1)
FLEET = {b.boat_id: b for b in DEFAULT_FLEET}
KRS = FLEET["perahu-krs-01"]  # Java Sea: the bottom is always within the sounder's 100 m
BNO = FLEET["kapal-bno-01"]  # Badung Strait: it drops to hundreds of metres
FAST = SounderSettings(bins=100, bin_m=1.0)  # a coarse echogram: a whole trip's schools quickly


def plan(boat, day=DAY, seed=3):
    return plan_fleet(day, np.random.default_rng(seed), (boat,))[0]


def metres_apart(lat1, lon1, lat2, lon2) -> float:
    dy = (lat2 - lat1) * 111_320.0
    dx = (lon2 - lon1) * 111_320.0 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


def decode_all(lines: list[bytes], received_at: datetime) -> tuple[list, InstrumentDecoder]:
    decoder, values = InstrumentDecoder(), []
    for line in lines:
        try:
            value = decoder.decode(line, received_at)
        except FrameRejected:
            continue
        if value is not None:
            values.append(value)
    return values, decoder


def test_fixes_depths_and_temperatures_follow_the_plan():
    p = plan(BNO)
    boat = BoatInstruments(p, 11)
    secs = np.linspace(0, boat.last_second - 30, 12).astype(int)
    for first in secs.tolist():
        values = boat.seconds(first, 30)
        track = p.sample(np.arange(first, first + 30, dtype=float))
        for i, second in enumerate(values):
            fix = next(v for v in second if isinstance(v, Fix))
            assert fix.ts == p.departure + timedelta(seconds=first + i)
            assert (fix.lat, fix.lon) == pytest.approx((track.lat[i], track.lon[i]), abs=1e-9)
            depths = [v.depth_m for v in second if isinstance(v, Depth)]
            if track.depth_m[i] < boat.sounder.range_m:
                assert depths == pytest.approx([track.depth_m[i]])
            else:  # the sounder has lost the bottom
                assert depths == []
            assert [v.temp_c for v in second if isinstance(v, WaterTemp)] == pytest.approx([track.temp_c[i]])
            assert sum(isinstance(v, Ping) for v in second) == 2
    assert boat.seconds(0, 1) == BoatInstruments(p, 11).seconds(0, 1)[:1]  # same seed, same values
    with pytest.raises(ValueError):
        boat.seconds(boat.last_second, 2)  # after arrival the instruments are off


def test_the_echogram_seabed_follows_the_plans_depth_and_vanishes_beyond_range():
    p = plan(BNO)
    boat = BoatInstruments(p, 5)
    t = np.arange(0, boat.last_second, 60, dtype=float)
    depth = p.sample(t).depth_m
    shallow = int(t[np.argmax((depth > 10) & (depth < 80))])
    deep = int(t[np.argmax(depth > 130)])
    assert depth.min() < 80 and depth.max() > 130  # the trip crosses both
    for first, on_range in ((shallow, True), (deep, False)):
        pings = [v for second in boat.seconds(first, 20) for v in second if isinstance(v, Ping)]
        truth = p.sample([(q.ts - p.departure).total_seconds() for q in pings]).depth_m
        assert len(pings) == 40
        for ping, bottom in zip(pings, truth):
            water = ping.sv_db[int(3 / ping.bin_m):]  # below the surface bubbles
            if on_range:  # the seabed is the strongest echo, where the plan puts the bottom
                assert (np.argmax(water) + int(3 / ping.bin_m)) * ping.bin_m == pytest.approx(bottom, abs=1.0)
            else:  # no seabed echo within the range: nothing near its -20 to -10 dB
                assert water.max() < -25


@pytest.fixture(scope="module")
def thinned_trip():
    """A whole Java Sea trip's schools with the echogram thinned as for a 600x run (the scenes
    are the same as unthinned: decimation only picks which pings go out)."""
    boat = BoatInstruments(plan(KRS), 2, FAST, decimation=EchogramDecimation.for_speedup(600, FAST.ping_rate_hz))
    return boat, boat.schools(0, boat.last_second + 1)


def test_schools_crowd_the_fishing_ground_and_are_in_the_pings(thinned_trip):
    thin, schools = thinned_trip
    p, boat = thin.plan, BoatInstruments(thin.plan, 2, FAST)
    t = np.arange(0, boat.last_second + 1, 10, dtype=float)
    fishing_h = np.mean(p.sample(t).phase == 3) * boat.last_second / 3600
    transit_h = boat.last_second / 3600 - fishing_h
    on_ground = [s for s in schools if s.phase == "fishing"]
    assert len(on_ground) / fishing_h > 10 * max(1.0, len(schools) - len(on_ground)) / transit_h
    for s in on_ground:
        assert metres_apart(*p.ground.centre, s.lat, s.lon) <= p.ground.radius_m
    for s in on_ground[:: max(1, len(on_ground) // 15)]:  # the truth is what the sounder shows: echoes above -70 dB there
        first = boat.second_of(s.start)
        pings = [v for sec in boat.seconds(first, boat.second_of(s.end) - first + 1) for v in sec if isinstance(v, Ping)]
        inside = [q for q in pings if s.first_seq <= q.seq <= s.last_seq]
        rows = slice(int(s.top_m / FAST.bin_m), int(math.ceil(s.bottom_m / FAST.bin_m)))
        assert inside and max(float(np.max(q.sv_db[rows])) for q in inside) > -70


def test_sos_presses_decode_to_the_press_with_the_position_of_its_time():
    p = plan(KRS)
    press_at = p.departure + timedelta(seconds=3000, milliseconds=400)
    release_at = press_at + timedelta(seconds=45)
    second_press = release_at + timedelta(seconds=200)
    presses = (SosPress(press_at, "sinking", release_at), SosPress(second_press, "mob"))
    boat = BoatInstruments(p, 4, presses=presses)
    first = boat.second_of(press_at) - 5
    count = boat.second_of(second_press) - first + 25
    lines = boat.lines(first, count)
    values, decoder = decode_all([line.wire for line in lines], p.departure)
    distress = [v for v in values if isinstance(v, Distress)]
    fixes = {f.ts: f for f in values if isinstance(f, Fix)}
    start1 = press_at.replace(microsecond=0)
    expected = (
        [(start1 + timedelta(seconds=k), 1, "sinking", True) for k in range(0, 45, DISTRESS_REPEAT_S)]
        + [(start1 + timedelta(seconds=45 + k * DISTRESS_REPEAT_S), 1, "sinking", False) for k in range(CANCEL_REPEATS)]
        + [(second_press.replace(microsecond=0) + timedelta(seconds=k), 2, "mob", True) for k in range(0, 25, DISTRESS_REPEAT_S)]
    )
    assert [(d.ts, d.seq, d.nature, d.active) for d in distress] == expected
    for d in distress:
        track = p.sample([(d.ts - p.departure).total_seconds()])
        assert (d.lat, d.lon) == pytest.approx((track.lat[0], track.lon[0]), abs=2e-6)  # NMEA's 0.0001'
        assert (d.lat, d.lon) == pytest.approx((fixes[d.ts].lat, fixes[d.ts].lon), abs=1e-9)
    assert decoder.counts["distress"] == len(expected)
    with pytest.raises(ValueError):
        BoatInstruments(p, 4, presses=(SosPress(press_at, "fire"), SosPress(second_press, "mob")))  # first never released
    with pytest.raises(ValueError):
        boat.with_press(SosPress(p.departure - timedelta(hours=1)))  # moored: the fish-finder is off


def test_decimation_keeps_whole_schools_and_a_sparse_background(thinned_trip):
    thin, schools = thinned_trip
    full = BoatInstruments(thin.plan, 2, FAST)
    assert EchogramDecimation.for_speedup(2, 2.0) == FULL
    whole = [s for s in schools if s.full_rate]
    assert whole and len(whole) < len(schools)
    s = whole[len(whole) // 2]
    first = thin.second_of(s.start) - 10
    sent = {v.seq for sec in thin.seconds(first, 60) for v in sec if isinstance(v, Ping)}
    assert set(range(s.first_seq, s.last_seq + 1)) <= sent
    everything = [v for sec in full.seconds(0, 1200) for v in sec if isinstance(v, Ping)]
    kept = [v for sec in thin.seconds(0, 1200) for v in sec if isinstance(v, Ping)]
    assert len(kept) * 600 / 1200 <= 8 * 1.5 < len(everything) * 600 / 1200  # within the budget, roughly


def _run_config(boat, speedup: float, **kw) -> tuple[BoatSimulationConfig, SosPress]:
    day = (datetime.now(timezone.utc) - timedelta(days=2)).date()
    p = plan(boat, day, seed=9)
    press = SosPress(p.departure + timedelta(seconds=3600 + 150), "fire")
    config = BoatSimulationConfig(
        fleet=(boat,), day=day, seed=9, speedup=speedup, start=p.departure + timedelta(seconds=3600),
        presses={boat.boat_id: (press,)}, **kw)
    return config, press


def test_a_pty_run_is_read_back_through_pyserial_and_decoded():
    config, press = _run_config(KRS, 120.0, transport="serial")
    sim = BoatSimulation(config).open()
    port = serial.Serial(sim.serial_paths()[KRS.boat_id], 38400, timeout=0.2)
    received: list[bytes] = []
    reading = threading.Event()
    reading.set()

    def read() -> None:
        while reading.is_set():
            received.append(port.read(max(1, port.in_waiting)))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        sim.start()
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline and not sim.errors:
            time.sleep(0.1)
    finally:
        time.sleep(0.3)  # let the reader empty the pty before the simulation closes it
        reading.clear()
        reader.join(2)
        sim.stop()
        port.close()
    assert not sim.errors
    counters = sim.counters()[KRS.boat_id]
    values, decoder = decode_all(b"".join(received).splitlines(), datetime.now(timezone.utc))
    kinds = Counter(type(v) for v in values)
    assert kinds[Fix] >= 2 * 100 and kinds[Depth] >= 2 * 100 and kinds[WaterTemp] >= 100 and kinds[Ping] >= 2
    assert decoder.counts["ping"] == counters.pings and counters.dropped == 0
    distress = [v for v in values if isinstance(v, Distress)]
    assert distress and {(d.seq, d.nature, d.active) for d in distress} == {(1, "fire", True)}
    assert distress[0].ts == press.at.replace(microsecond=0)
    p = sim.boats[KRS.boat_id].plan
    for f in values:
        if isinstance(f, Fix):
            track = p.sample([(f.ts - p.departure).total_seconds()])
            assert (f.lat, f.lon) == pytest.approx((track.lat[0], track.lon[0]), abs=2e-6)


def test_an_mqtt_run_delivers_decodable_lines_per_second(mosquitto):
    config, press = _run_config(KRS, 600.0, transport="mqtt", broker_port=mosquitto.port)
    payloads: list[bytes] = []
    subscribed = threading.Event()
    client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="test-boat-sim")
    client.on_message = lambda c, u, msg: payloads.append(msg.payload)
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()
    client.subscribe(device_topic(FLEET["perahu-krs-01"].tenant, KRS.boat_id), qos=1)
    assert subscribed.wait(5)
    sim = BoatSimulation(config)
    try:
        sim.start()
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not sim.errors:
            time.sleep(0.1)
        sim.release_sos(KRS.boat_id)
        sim.press_sos(KRS.boat_id, "adrift")
        time.sleep(0.5)
    finally:
        sim.stop()
        time.sleep(0.3)
        client.loop_stop()
        client.disconnect()
    assert not sim.errors
    counters = sim.counters()[KRS.boat_id]
    assert len(payloads) == counters.seconds > 600  # one payload a simulated second
    values, decoder = decode_all([line for pl in payloads for line in pl.splitlines()], datetime.now(timezone.utc))
    assert decoder.counts["ping"] == counters.pings > 0
    kinds = Counter(type(v) for v in values)
    assert kinds[Fix] == 2 * counters.seconds and kinds[WaterTemp] == counters.seconds
    natures = {(d.seq, d.nature, d.active) for d in values if isinstance(d, Distress)}
    # The scheduled press, its release and the demo's button.
    assert natures == {(1, "fire", True), (1, "fire", False), (2, "adrift", True)}


def test_at_4800_baud_the_line_carries_nmea_and_distress_but_no_echogram():
    p = plan(KRS)
    press = SosPress(p.departure + timedelta(seconds=600), "collision")
    boat = BoatInstruments(p, 4, SounderSettings(baud=4800), presses=(press,))
    lines = boat.lines(595, 30)
    assert not any(line.wire.startswith((b"$PTEPE", b"!AIVDM")) for line in lines)
    values, _ = decode_all([line.wire for line in lines], p.departure)
    assert Counter(type(v) for v in values) == {Fix: 60, Depth: 60, WaterTemp: 30, Distress: 3}
    assert sum(len(line.wire) for line in lines) / 30 < 480  # what 4,800 baud carries in a second


def test_trips_moved_to_end_now_come_home_as_the_replay_meets_the_real_clock():
    """The demo replayed yesterday: its boats were 33 hours in the past, so a track's default
    last 24 h showed nothing. Moved, the last boat arrives as the accelerated clock meets the
    real one: every value of the replay is recent and none in the future."""
    now = datetime(2026, 12, 7, 9, 26, 0, 500000, tzinfo=timezone.utc)
    press = SosPress(datetime.combine(DAY, datetime.min.time(), timezone.utc) + timedelta(hours=1), "sinking")
    config = BoatSimulationConfig(fleet=(KRS, BNO), day=DAY, speedup=60.0, presses={"perahu-krs-01": (press,)})
    sim = BoatSimulation(config, now_fn=lambda: now)
    before = sim.boats
    start = before["kapal-bno-01"].plan.departure + timedelta(hours=1)
    by = sim.end_trips_now(start)
    after = sim.boats
    assert sim.start_time == start + by <= now
    last_home = max(b.plan.arrival for b in after.values())
    replay_s = (last_home - sim.start_time).total_seconds()
    assert abs((last_home - now).total_seconds() - replay_s / 60.0) <= 1.0, "home as the clock meets real time"
    assert (now - sim.start_time) < timedelta(hours=24)
    for boat_id, b in after.items():
        assert b.plan.departure == before[boat_id].plan.departure + by
        assert b.seconds(600, 1)[0][0].lat == before[boat_id].seconds(600, 1)[0][0].lat, "the same trip, later"
    assert after["perahu-krs-01"].presses == (SosPress(press.at + by, "sinking"),)
