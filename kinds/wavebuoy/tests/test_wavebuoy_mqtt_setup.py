"""`tepi mqtt setup` gives a buoy its own MQTT user like any device: on a real Mosquitto with the
generated users and ACL, the buoy's modem publishes its reports on its own device topic only,
and the shore gateway's device link reads them (and no other tenant's buoy)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
import pytest

from contract.topics import device_topic, uplink_topic
from core.config import parse_config
from core.processes import Mosquitto
from kinds.wavebuoy import wire
from kinds.wavebuoy.sim.runner import publish_reports, report_payload
from kinds.wavebuoy.sim.sea import reports
from tepi.mqtt_security import MqttSecurityFiles, setup_broker_security

pytestmark = pytest.mark.integration
NOT_AUTHORIZED = 0x87


def _site(tenant: str, gateway: str, device: str, buoy: str, lat: float, lon: float):  # type: ignore[no-untyped-def]
    return parse_config({
        "tenants": [{"id": "kab-badung", "name": "Kabupaten Badung"}, {"id": "kab-indramayu", "name": "Kabupaten Indramayu"}],
        "stations": [],
        "devices": [{"id": device, "kind": "wavebuoy", "platform": buoy, "transport": "mqtt"}],
        "gateway": {"id": gateway, "tenant": tenant},
        "buoys": [{"id": buoy, "tenant": tenant, "name": buoy, "lat": lat, "lon": lon}],
    })


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mosquitto, MqttSecurityFiles]]:
    configs = [
        _site("kab-badung", "gw-benoa", "wb-benoa-1", "wb-benoa", -8.80, 115.25),
        _site("kab-indramayu", "gw-karangsong", "wb-krs-1", "wb-karangsong", -6.25, 108.40),
    ]
    security = setup_broker_security(configs, tmp_path_factory.mktemp("mqtt-setup"))
    broker = Mosquitto(workdir=tmp_path_factory.mktemp("mosquitto"), persistence=False, auth=security).start()
    yield broker, security
    broker.close()


class _Client:
    def __init__(self, broker: Mosquitto, security: MqttSecurityFiles, user: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=user, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(user, security.credential(user).password)
        self.acks: dict[int, object] = {}
        self.cond = threading.Condition()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client.on_publish = lambda c, u, mid, rc, p: self._ack(mid, rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._ack(mid, rcs)
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _ack(self, mid: int, answer: object) -> None:
        with self.cond:
            self.acks[mid] = answer
            self.cond.notify_all()

    def wait(self, mid: int) -> object:
        with self.cond:
            assert self.cond.wait_for(lambda: mid in self.acks, 5.0)
            return self.acks.pop(mid)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_a_buoy_publishes_only_its_own_topic_and_its_gateway_reads_it(secured: tuple[Mosquitto, MqttSecurityFiles]) -> None:
    broker, security = secured
    link = _Client(broker, security, "gw-benoa.devices")
    buoy = _Client(broker, security, "wb-benoa-1")
    try:
        _, mid = link.client.subscribe("tepi/kab-badung/dev/+/up", qos=1)
        link.wait(mid)
        report = reports("wb-benoa", datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc), 60, 1)[0]
        for forged in (device_topic("kab-badung", "wb-other"), device_topic("kab-indramayu", "wb-krs-1"), uplink_topic("kab-badung", "gw-benoa")):
            rc = buoy.wait(buoy.client.publish(forged, report_payload(report), qos=1).mid)
            assert getattr(rc, "value", None) == NOT_AUTHORIZED, forged
        own = device_topic("kab-badung", "wb-benoa-1")
        rc = buoy.wait(buoy.client.publish(own, report_payload(report), qos=1).mid)
        assert not rc.is_failure  # type: ignore[attr-defined]
        msg = link.messages.get(timeout=5)
        assert msg.topic == own
        assembler = wire.ReportAssembler()
        assert [r for r in map(assembler.feed, msg.payload.splitlines(keepends=True)) if r] == [report]
    finally:
        buoy.close()
        link.close()


def test_the_simulator_logs_in_as_the_buoy_and_another_tenants_link_hears_nothing(secured: tuple[Mosquitto, MqttSecurityFiles]) -> None:
    broker, security = secured
    other = _Client(broker, security, "gw-karangsong.devices")
    try:
        _, mid = other.client.subscribe("tepi/kab-badung/dev/+/up", qos=1)
        other.wait(mid)
        sent = reports("wb-benoa", datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc), 60, 3)
        publish_reports("127.0.0.1", broker.port, "kab-badung", "wb-benoa-1", sent,
                        username="wb-benoa-1", password=security.credential("wb-benoa-1").password)
        with pytest.raises(queue.Empty):
            other.messages.get(timeout=1.0)
    finally:
        other.close()
