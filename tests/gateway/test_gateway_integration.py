"""The gateway against a real Mosquitto and a real pseudo-terminal: nothing mocked."""

from __future__ import annotations

import json
import os
import threading
import tty
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from kinds.awlr import wire
from gateway.runtime import EdgeGateway
from core.config import TepiConfig, with_local_services
from contract.downlink import UplinkAck, encode_ack
from contract.topics import alarm_topic, device_topic, downlink_topic, uplink_topic
from core.processes import Mosquitto, free_port
from core.testing import wait_until
from contract.uplink_batch import UplinkBatch, decode_batch
from kinds.awlr.ingest.uplink import every_item

pytestmark = pytest.mark.integration


class UplinkRecorder:
    """A subscriber standing in for ingest: records every uplink item by id and acknowledges
    each message to its gateway as ingest does once it stored it."""

    def __init__(self, port: int, topic: str) -> None:
        self.items: dict[str, object] = {}
        self.order: list[str] = []
        self.messages = 0
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="recorder", clean_session=False)
        self.client.reconnect_delay_set(1, 2)
        self.subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        batch: UplinkBatch = decode_batch(msg.payload)
        with self._lock:
            self.messages += 1
            for item in every_item(batch):
                if item.id not in self.items:
                    self.order.append(item.id)
                self.items[item.id] = item
        if batch.msg is not None:
            client.publish(downlink_topic(batch.tenant, batch.gateway), encode_ack(UplinkAck(stored=[batch.msg])), qos=1)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[mqtt.Client]:
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="device-sim")
    c.connect("127.0.0.1", mosquitto.port)
    c.loop_start()
    yield c
    c.loop_stop()
    c.disconnect()


def _value(gw: EdgeGateway, name: str, **labels: str) -> float:
    return gw.registry.get_sample_value(name, labels) or 0.0


def test_serial_and_mqtt_readings_reach_the_uplink(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path, pty_pair: tuple[int, str], publisher: mqtt.Client
) -> None:
    master, slave_path = pty_pair
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, serial_ports={"awlr-katulampa": slave_path}, summary_every_s=60)
    tenant, gw_id = cfg.gateway.tenant, cfg.gateway.id
    recorder = UplinkRecorder(mosquitto.port, uplink_topic(tenant, gw_id))
    gw = EdgeGateway(cfg)
    gw.start()
    assert gw.wait_ready()
    try:
        t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
        # Rises of at most 26 cm per 30 s pass QC's 1 cm/s rate-of-change test; the last opens a sixth window.
        levels = [40, 60, 79, 85, 105, 125, 150, 160, 175, 201, 180]
        # Serial: good sentences interleaved with line noise, a bad checksum and a cut-off line.
        for i, level in enumerate(levels):
            os.write(master, wire.encode_sentence(wire.AwlrFrame("katulampa", i, t0 + timedelta(seconds=30 * i), level, 12.5)))
            if i == 3:
                os.write(master, b"\x00\xffnoise\r\n$PTAWL,katulampa,99,20261123T000000Z,1.0,12.00*00\r\n$PTAWL,katul\r\n")
        # MQTT: depok readings, plus a non-JSON payload, an unknown device and a bogus level.
        for i in range(7):  # the seventh opens a fourth window
            frame = wire.AwlrFrame("depok", i, t0 + timedelta(seconds=30 * i), 130.0 + 20 * i, 12.1)
            publisher.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(frame), qos=1)
        publisher.publish(device_topic(tenant, "awlr-depok"), b"{not json", qos=1)
        publisher.publish(device_topic(tenant, "awlr-unknown"), b"{}", qos=1)
        bogus = wire.AwlrFrame("depok", 100, t0 + timedelta(seconds=400), 9999.0, 12.1)
        publisher.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(bogus), qos=1)

        def summaries(station: str) -> list:
            return [i for i in recorder.items.values() if getattr(i, "type", "") == "summary" and i.station == station]

        wait_until(lambda: len(summaries("katulampa")) >= 5 and len(summaries("depok")) >= 3, what="summaries")
        events = [i for i in recorder.items.values() if i.type == "siaga_change" and i.station == "katulampa"]
        # Raised on the second consecutive good reading at a level (raise_after: 2); the lone
        # 201 cm reading is not enough for Siaga 1.
        assert [(e.siaga_from, e.siaga_to, e.level_cm) for e in sorted(events, key=lambda e: e.ts)] == [
            (4, 3, 105), (3, 2, 160)
        ]
        k = sorted(summaries("katulampa"), key=lambda s: s.window_start)
        assert sum(s.count for s in k) == len(levels) - 1
        assert [s.max_cm for s in k] == [60, 85, 125, 160, 201]
        assert all(s.qc.good == s.count for s in k)
        d = summaries("depok")
        assert sum(s.count for s in d) == 6
        assert _value(gw, "tepi_gateway_rejected_total", reason="garbage") == 1
        assert _value(gw, "tepi_gateway_rejected_total", reason="checksum") == 1
        assert _value(gw, "tepi_gateway_rejected_total", reason="truncated") == 1
        assert _value(gw, "tepi_gateway_rejected_total", reason="not_json") == 1
        assert _value(gw, "tepi_gateway_rejected_total", reason="unknown_device") == 1
        assert _value(gw, "tepi_gateway_rejected_total", reason="out_of_range") == 1
        assert _value(gw, "tepi_gateway_readings_total", platform="katulampa") == len(levels)
        wait_until(lambda: gw.outbox.depth() == 0, what="outbox drained")
    finally:
        gw.stop()
        recorder.close()


def test_nothing_is_lost_while_the_uplink_broker_is_down(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    """Uplink on its own broker: stop it, keep reading, restart it; every summary arrives once."""
    uplink_broker = Mosquitto(workdir=tmp_path / "uplink").start()
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, summary_every_s=60)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"uplink_broker": cfg.gateway.uplink_broker.model_copy(update={"port": uplink_broker.port})})})
    tenant = cfg.gateway.tenant
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="device-sim")
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    recorder = UplinkRecorder(uplink_broker.port, uplink_topic(tenant, cfg.gateway.id))
    gw = EdgeGateway(cfg)
    gw.start()
    assert gw.wait_ready()
    t0 = (datetime.now(timezone.utc) - timedelta(hours=3)).replace(second=0, microsecond=0)
    seq = 0

    def send(n: int) -> None:
        nonlocal seq
        for _ in range(n):
            frame = wire.AwlrFrame("manggarai", seq, t0 + timedelta(seconds=20 * seq), 600.0 + seq % 7, 12.0)
            pub.publish(device_topic(tenant, "awlr-manggarai"), wire.encode_json(frame), qos=1).wait_for_publish(5)
            seq += 1

    try:
        send(30)  # 10 minutes of readings
        wait_until(lambda: len(recorder.items) >= 9, what="first summaries")
        uplink_broker.stop()
        wait_until(lambda: not gw.uplink.connected, what="uplink noticed the outage")
        send(60)  # 20 more minutes, all buffered in the outbox
        wait_until(lambda: gw.outbox.depth() >= 19, what="outbox filling")
        uplink_broker.start()  # same port, same persistence dir
        send(3)  # closes the last full window
        wait_until(lambda: gw.outbox.depth() == 0, timeout=30, what="outbox drained after reconnect")
        wait_until(lambda: sum(getattr(i, "count", 0) for i in recorder.items.values()) >= 90, what="all summaries")
        summaries = [i for i in recorder.items.values() if i.type == "summary"]
        assert sum(s.count for s in summaries) == 90
        assert sorted(s.first_seq for s in summaries) == list(range(0, 90, 3))
    finally:
        gw.stop()
        recorder.close()
        pub.loop_stop()
        uplink_broker.close()


def test_local_alarm_sounds_while_uplink_is_down_and_events_arrive_in_order_later(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    uplink_port = free_port()  # nothing listens here yet: the uplink is down from the start
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, summary_every_s=600)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"uplink_broker": cfg.gateway.uplink_broker.model_copy(update={"port": uplink_port})})})
    tenant, gw_id = cfg.gateway.tenant, cfg.gateway.id
    local: list[dict] = []
    siren = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="siren")
    siren.on_message = lambda c, u, m: local.append(json.loads(m.payload))
    siren.connect("127.0.0.1", mosquitto.port)
    siren.subscribe(f"{alarm_topic(tenant, gw_id)}/#", qos=1)
    siren.loop_start()
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="device-sim")
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    gw = EdgeGateway(cfg)
    gw.start()
    assert gw.wait_ready()
    uplink_broker = None
    try:
        t0 = (datetime.now(timezone.utc) - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
        # Depok rising 100 -> 371 cm at 4.6 cm/min (276 cm/h): a fast rise, then Siaga 3, 2 and 1.
        for i in range(60):
            frame = wire.AwlrFrame("depok", i, t0 + timedelta(minutes=i), 100.0 + 4.6 * i, 12.0)
            pub.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(frame), qos=1).wait_for_publish(5)
        wait_until(lambda: any(a.get("siaga") == 1 for a in local), what="a local Siaga 1 alarm")
        assert not gw.uplink.connected
        kinds = [(a["kind"], a.get("siaga", a.get("active"))) for a in local]
        assert kinds[0] == ("rate_of_rise", True), "the fast rise alarms first"
        assert [k for k in kinds if k[0] == "siaga_change"] == [("siaga_change", 3), ("siaga_change", 2), ("siaga_change", 1)]
        events_waiting = gw.outbox.depth()
        assert events_waiting >= 4
        uplink_broker = Mosquitto(port=uplink_port, workdir=tmp_path / "uplink").start()
        recorder = UplinkRecorder(uplink_port, uplink_topic(tenant, gw_id))
        wait_until(lambda: gw.outbox.depth() == 0, timeout=30, what="outbox drained")
        wait_until(lambda: len(recorder.items) >= events_waiting, what="items at the central broker")
        central = [recorder.items[i] for i in recorder.order if recorder.items[i].type != "summary"]
        assert [(e.type, getattr(e, "siaga_to", None)) for e in central] == [
            ("rate_of_rise", None), ("siaga_change", 3), ("siaga_change", 2), ("siaga_change", 1)
        ], "events arrive centrally in the order they happened"
        recorder.close()
    finally:
        gw.stop()
        siren.loop_stop()
        pub.loop_stop()
        if uplink_broker:
            uplink_broker.close()


def test_a_flooding_device_is_rate_limited_and_counted(default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path, publisher: mqtt.Client) -> None:
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, device_rate_per_s=5)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"device_burst": 20})})
    gw = EdgeGateway(cfg)
    gw.start()
    assert gw.wait_ready()
    try:
        t0 = datetime.now(timezone.utc) - timedelta(hours=2)
        for i in range(200):  # far faster than 5/s
            frame = wire.AwlrFrame("depok", i, t0 + timedelta(seconds=i), 150.0 + i * 0.01, 12.0)
            publisher.publish(device_topic(cfg.gateway.tenant, "awlr-depok"), wire.encode_json(frame), qos=1)
        frame = wire.AwlrFrame("manggarai", 0, t0, 600.0, 12.0)
        publisher.publish(device_topic(cfg.gateway.tenant, "awlr-manggarai"), wire.encode_json(frame), qos=1)
        wait_until(lambda: _value(gw, "tepi_gateway_frames_total", transport="mqtt") >= 201, what="all frames seen")
        limited = _value(gw, "tepi_gateway_rejected_total", reason="rate_limited")
        accepted = _value(gw, "tepi_gateway_readings_total", platform="depok")
        assert accepted + limited == 200
        assert 20 <= accepted <= 40, "the burst and what the rate refilled"
        assert _value(gw, "tepi_gateway_readings_total", platform="manggarai") == 1, "other devices unaffected"
    finally:
        gw.stop()
