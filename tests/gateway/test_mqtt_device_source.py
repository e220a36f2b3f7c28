"""The MQTT device source reads ahead of paho (one `recv` for many packets): every frame still
arrives whole and in order, packets cut at any byte by the read-ahead included, and what the
gateway acknowledged is not delivered again."""

from __future__ import annotations

import select
import time

import paho.mqtt.client as mqtt
import pytest

from gateway.model import RawFrame
from gateway.sources import mqtt_devices
from gateway.sources.mqtt_devices import MqttDeviceSource
from core.config import BrokerConfig
from contract.topics import device_subscription, device_topic
from core.processes import Mosquitto

TENANT = "dki-jakarta"
CLIENT_ID = "tepi-gw-test-devices"


def subscribe_session(port: int) -> None:
    """The source's persistent session and subscription, so the broker keeps what is published."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=CLIENT_ID, clean_session=False)
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.subscribe(device_subscription(TENANT), qos=1)[1]
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


def publish(port: int, payloads: list[bytes]) -> None:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-devices-publisher")
    c.connect("127.0.0.1", port)
    c.loop_start()
    infos = [c.publish(device_topic(TENANT, f"awlr-{k % 7}"), p, qos=1) for k, p in enumerate(payloads)]
    for info in infos:
        info.wait_for_publish(10)
    c.disconnect()
    c.loop_stop()


def receive(port: int, expected: int, timeout: float = 20.0) -> list[RawFrame]:
    """Run the source as the gateway loop does, acknowledging each frame, until `expected`
    frames came (or `timeout`)."""
    frames: list[RawFrame] = []
    source = MqttDeviceSource(BrokerConfig(port=port), TENANT, CLIENT_ID)
    source.start(frames.append)
    deadline = time.monotonic() + timeout
    try:
        while len(frames) < expected and time.monotonic() < deadline:
            fd = source.fileno()
            if fd is not None and not source.has_buffered():
                select.select([fd], [fd] if source.wants_write() else [], [], 0.05)
            before = len(frames)
            source.service(True, 50)
            for f in frames[before:]:
                assert f.ack is not None
                f.ack()
        # The last PUBACKs go out and the broker has a moment to read them before the source
        # stops: closing at once lost the last ones now and then (redelivered on the next
        # connection, with or without read-ahead), which is not what this test is about.
        settle = time.monotonic() + 0.3
        while time.monotonic() < settle:
            fd = source.fileno()
            if fd is not None:
                select.select([fd], [], [], 0.05)
            source.service(True, 0)
    finally:
        source.stop()
    return frames


@pytest.mark.parametrize("read_ahead", [1, 7, 65_536], ids=["paho-alone", "cut-everywhere", "default"])
def test_frames_arrive_whole_in_order_and_once(mosquitto: Mosquitto, monkeypatch: pytest.MonkeyPatch, read_ahead: int) -> None:
    monkeypatch.setattr(mqtt_devices, "READ_AHEAD_BYTES", read_ahead)
    subscribe_session(mosquitto.port)
    # Sizes from a few bytes to past the read-ahead (a remaining length of three bytes).
    payloads = [(b"%05d:" % k) + b"x" * ((k * 37) % 300) for k in range(400)] + [b"big:" + b"y" * 70_000]
    publish(mosquitto.port, payloads)
    frames = receive(mosquitto.port, len(payloads))
    assert [f.payload for f in frames] == payloads
    assert [f.device_hint for f in frames] == [f"awlr-{k % 7}" for k in range(len(payloads))]
    assert receive(mosquitto.port, 1, timeout=1.0) == [], "every frame was acknowledged"
