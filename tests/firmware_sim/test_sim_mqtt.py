"""MQTT devices against a real Mosquitto: valid JSON, increasing seq, survives a broker outage."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
import pytest

from kinds.awlr.sim.runner import Simulator
from kinds.awlr.wire import decode_json
from gateway.errors import FrameRejected
from core.config import TepiConfig
from contract.topics import device_from_topic, device_subscription
from core.processes import Mosquitto

pytestmark = pytest.mark.integration

MQTT_DEVICES = {"awlr-depok": "depok", "awlr-manggarai": "manggarai"}


class Subscriber:
    """A paho client that records every payload per device, like the gateway's MQTT source."""

    def __init__(self, port: int, tenant: str, clean_session: bool = True) -> None:
        self.payloads: dict[str, list[bytes]] = defaultdict(list)
        self._lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id="test-gateway", clean_session=clean_session
        )
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(device_subscription(tenant), qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(5), "subscription not acknowledged"

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        device = device_from_topic(msg.topic)
        assert device is not None, msg.topic
        with self._lock:
            self.payloads[device].append(msg.payload)

    def count(self, device: str) -> int:
        with self._lock:
            return len(self.payloads[device])

    def wait_for(self, expected: dict[str, int], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(self.count(d) < n for d, n in expected.items()):
            time.sleep(0.05)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_mqtt_devices_publish_valid_readings_with_increasing_seq(
    default_config: TepiConfig, mosquitto: Mosquitto, scenario  # type: ignore[no-untyped-def]
) -> None:
    # Default spike and dropout rates, plus enough cut JSON to see the rejections.
    config = scenario(lookback_h=2.0, spike_probability=0.01, dropout_probability=0.02, garbage_probability=0.05)
    sub = Subscriber(mosquitto.port, "dki-jakarta")
    sim = Simulator(config, speed=7200, broker_host="127.0.0.1", broker_port=mosquitto.port)
    try:
        sim.start()
        time.sleep(1.5)  # 2 h of history at 7200x takes 1 s
    finally:
        sim.stop()
    counters = sim.counters()
    sub.wait_for({d: counters.sent[d] for d in MQTT_DEVICES}, timeout=5)
    sub.close()

    not_json = 0
    for device, station in MQTT_DEVICES.items():
        assert sub.count(device) == counters.sent[device] >= 110, "QoS 1: everything sent arrives"
        frames = []
        for payload in sub.payloads[device]:
            try:
                frames.append(decode_json(payload))
            except FrameRejected as exc:
                assert exc.reason == "not_json"
                not_json += 1
                continue
            assert set(json.loads(payload)) == {"station", "seq", "ts", "level_cm", "battery_v"}
        seqs = [f.seq for f in frames]
        assert seqs == sorted(set(seqs)) and seqs[0] <= 2
        assert all(f.station == station for f in frames)
        assert all(f.ts <= datetime.now(timezone.utc) for f in frames)
        assert [f.ts for f in frames] == sorted(f.ts for f in frames)
    assert not_json == counters.faults.get("truncated_json", 0) > 0
    assert counters.faults.get("dropout", 0) > 0
    assert counters.dropped["awlr-depok"] == 0


def test_readings_sent_while_the_broker_is_down_arrive_after_it_returns(
    mosquitto: Mosquitto, scenario  # type: ignore[no-untyped-def]
) -> None:
    config = scenario(devices=["awlr-depok"], lookback_h=0.25)
    # A persistent session, so the broker queues for the subscriber whoever reconnects first.
    sub = Subscriber(mosquitto.port, "dki-jakarta", clean_session=False)
    mosquitto.stop()
    sim = Simulator(config, speed=3000, broker_host="127.0.0.1", broker_port=mosquitto.port)
    sim.start()
    try:
        time.sleep(0.5)  # caught up: 15 min of readings queued while the broker is down
        queued = sim.counters().sent["awlr-depok"]
        assert queued >= 15 and sub.count("awlr-depok") == 0
        mosquitto.start()
        sub.wait_for({"awlr-depok": queued}, timeout=8)
    finally:
        sim.stop()
        sub.close()
    seqs = [decode_json(p).seq for p in sub.payloads["awlr-depok"]]
    assert set(range(queued)) <= set(seqs), "nothing queued during the outage is lost"
