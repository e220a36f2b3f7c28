"""`tepi mqtt setup` gives each badge scanner its own MQTT user like any device: on a real
Mosquitto with the generated users and ACL, a scanner publishes on its own device topic only,
its office gateway's device link reads it (and no other tenant's scanner), and the roster ingest
sends on a gateway's downlink topic reaches that gateway alone."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from contract.topics import device_topic, device_topic_filter, downlink_topic, uplink_topic
from core.config import TepiConfig, parse_config
from core.processes import Mosquitto
from kinds.badge.items import BadgeRoster, RosterBadge
from tepi.mqtt_auth import principals
from tepi.mqtt_security import MqttSecurityFiles, setup_broker_security

pytestmark = pytest.mark.integration
NOT_AUTHORIZED = 0x87
INDRAMAYU, BADUNG = "kab-indramayu", "kab-badung"


def _office_gateway(tenant: str, gateway: str, office: str, scanners: list[str], lat: float, lon: float, outbox: Path) -> TepiConfig:
    return parse_config({
        "tenants": [{"id": INDRAMAYU, "name": "Kabupaten Indramayu"}, {"id": BADUNG, "name": "Kabupaten Badung"}],
        "stations": [],
        "devices": [{"id": s, "kind": "badge", "platform": office, "transport": "mqtt"} for s in scanners],
        "gateway": {"id": gateway, "tenant": tenant, "outbox": {"path": str(outbox / f"{gateway}.db")}},
        "offices": [{"id": office, "tenant": tenant, "name": office, "lat": lat, "lon": lon}],
    })


def _configs(outbox: Path) -> list[TepiConfig]:
    return [
        _office_gateway(INDRAMAYU, "gw-bkpsdm", "bkpsdm", ["scn-bkpsdm-lobby", "scn-bkpsdm-hall"], -6.33, 108.32, outbox),
        _office_gateway(BADUNG, "gw-bpbd-badung", "bpbd-badung", ["scn-bpbd-lobby"], -8.59, 115.17, outbox),
    ]


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Mosquitto, MqttSecurityFiles]]:
    security = setup_broker_security(_configs(tmp_path_factory.mktemp("outbox")), tmp_path_factory.mktemp("mqtt-setup"))
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

    def publish(self, topic: str, payload: bytes) -> object:
        return self.wait(self.client.publish(topic, payload, qos=1).mid)

    def subscribe(self, topic: str) -> None:
        _, mid = self.client.subscribe(topic, qos=1)
        self.wait(mid)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_every_scanner_has_its_own_user_under_its_office_gateway_s_tenant(
    secured: tuple[Mosquitto, MqttSecurityFiles], tmp_path: Path
) -> None:
    _, security = secured
    users = {p.username: p for p in principals(_configs(tmp_path))}
    for scanner, tenant in (("scn-bkpsdm-lobby", INDRAMAYU), ("scn-bkpsdm-hall", INDRAMAYU), ("scn-bpbd-lobby", BADUNG)):
        assert (users[scanner].role, users[scanner].write, users[scanner].read) == ("device", (device_topic_filter(tenant, scanner),), ())
    passwords = {s: security.credential(s).password for s in ("scn-bkpsdm-lobby", "scn-bkpsdm-hall", "scn-bpbd-lobby")}
    assert len(set(passwords.values())) == 3, "no scanner shares another's password"


def test_a_scanner_publishes_only_its_own_topic_and_its_gateway_reads_it(secured: tuple[Mosquitto, MqttSecurityFiles]) -> None:
    broker, security = secured
    link = _Client(broker, security, "gw-bkpsdm.devices")
    other_link = _Client(broker, security, "gw-bpbd-badung.devices")
    scanner = _Client(broker, security, "scn-bkpsdm-lobby")
    try:
        link.subscribe(f"tepi/{INDRAMAYU}/dev/+/up")
        other_link.subscribe(f"tepi/{INDRAMAYU}/dev/+/up")
        batch = b'{"scanner":"scn-bkpsdm-lobby","at":"2027-01-04T00:30:00Z","heard":[]}'
        for forged in (device_topic(INDRAMAYU, "scn-bkpsdm-hall"), device_topic(BADUNG, "scn-bpbd-lobby"),
                       uplink_topic(INDRAMAYU, "gw-bkpsdm"), downlink_topic(INDRAMAYU, "gw-bkpsdm")):  # fmt: skip
            assert getattr(scanner.publish(forged, batch), "value", None) == NOT_AUTHORIZED, forged
        own = device_topic(INDRAMAYU, "scn-bkpsdm-lobby")
        assert not scanner.publish(own, batch).is_failure  # type: ignore[attr-defined]
        assert link.messages.get(timeout=5).topic == own
        with pytest.raises(queue.Empty):
            other_link.messages.get(timeout=0.5)
    finally:
        for c in (scanner, link, other_link):
            c.close()


def test_a_roster_on_a_gateway_s_downlink_reaches_that_gateway_alone(secured: tuple[Mosquitto, MqttSecurityFiles]) -> None:
    broker, security = secured
    ingest = _Client(broker, security, "ingest.1")
    uplink = _Client(broker, security, "gw-bkpsdm.uplink")
    other = _Client(broker, security, "gw-bpbd-badung.uplink")
    try:
        uplink.subscribe(downlink_topic(INDRAMAYU, "gw-bkpsdm"))
        other.subscribe(f"tepi/{INDRAMAYU}/gw/+/down")  # refused by the ACL: it hears nothing of it
        roster = BadgeRoster(version=3, badges=[RosterBadge(badge="b0123456789ab", format="eid", identity_key="00" * 16, k=10, epoch=1_798_000_000)])
        assert not ingest.publish(downlink_topic(INDRAMAYU, "gw-bkpsdm"), roster.model_dump_json().encode()).is_failure  # type: ignore[attr-defined]
        got = uplink.messages.get(timeout=5)
        assert BadgeRoster.model_validate_json(got.payload) == roster
        with pytest.raises(queue.Empty):
            other.messages.get(timeout=0.5)
        assert getattr(uplink.publish(downlink_topic(INDRAMAYU, "gw-bkpsdm"), b"{}"), "value", None) == NOT_AUTHORIZED, (
            "a gateway cannot forge its own roster"
        )
    finally:
        for c in (ingest, uplink, other):
            c.close()
