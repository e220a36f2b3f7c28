"""Nothing accepted is lost at the broker, with the Mosquitto config `tepi mqtt setup` generates.

Mosquitto PUBACKs a QoS 1 reading and then drops it silently once the subscriber's queue is
full, so the device has no reason to send it again. These tests count readings published by
devices (each with its own credential) against those accounted in the gateway's summaries at
the uplink (good + suspect + fail per window, no sequence gaps):

- overload: many devices offer tens of thousands of readings as fast as a raw publisher can,
  far faster than the gateway drains them;
- outage: the gateway is away while 500 devices send 10 readings each (a 10-minute outage at
  one reading a minute, compressed), and the broker restarts meanwhile;
- takeover: a device's credential tries the client ids of ingest and of the gateway's device
  link, whose sessions hold queued messages.
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from bench.mqtt_raw import RawPublisher, build_packets
from kinds.awlr import wire
from core.config import (
    BrokerConfig,
    DeviceConfig,
    GatewayConfig,
    TenantConfig,
    TepiConfig,
    with_local_services,
)
from kinds.awlr.config import SiagaThresholds, StationConfig
from contract.downlink import UplinkAck, encode_ack
from contract.topics import device_subscription, device_topic, downlink_topic, uplink_topic
from kinds.awlr.items import LevelSummary
from tepi.mqtt_security import setup_broker_security
from core.processes import Mosquitto
from core.testing import wait_until
from contract.uplink_batch import decode_batch
from kinds.awlr.ingest.uplink import every_item

pytestmark = pytest.mark.integration

TENANT, GATEWAY = "fleet", "gw-fleet"
INGEST = "ingest.1"


def fleet(n: int) -> TepiConfig:
    """`n` stations with one MQTT AWLR each, behind one gateway."""
    stations = [
        StationConfig(
            id=f"st{i:04d}", name=f"Station {i}", river="Test", tenant=TENANT, lat=-6.2, lon=106.8,
            sensor_span_cm=(0, 600), thresholds=SiagaThresholds(siaga3=200, siaga2=270, siaga1=350, source="test fixture"),
        )
        for i in range(n)
    ]
    devices = [DeviceConfig(id=f"awlr-{i:04d}", kind="awlr", station=f"st{i:04d}", transport="mqtt") for i in range(n)]
    return TepiConfig(
        tenants=[TenantConfig(id=TENANT, name="Test regency")], stations=stations, devices=devices,
        gateway=GatewayConfig(id=GATEWAY, tenant=TENANT),
    )


class Site:
    """A broker running the generated config, the gateway as deployed, and an uplink tally."""

    def __init__(self, tmp_path: Path, n_devices: int) -> None:
        self.tmp_path = tmp_path
        registry = fleet(n_devices)
        self.security = setup_broker_security([registry], tmp_path / "security", persistence_dir=tmp_path / "unused")
        self.broker = Mosquitto(workdir=tmp_path / "broker", auth=self.security).start()
        cfg = with_local_services(registry, self.broker.port, tmp_path, summary_every_s=60, device_rate_per_s=1e6)
        secured = BrokerConfig(port=self.broker.port, password=self.security.credential(GATEWAY).password)
        self.cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"local_broker": secured, "uplink_broker": secured})})
        self.config_path = tmp_path / "tepi.yaml"
        self.config_path.write_text(yaml.safe_dump(self.cfg.model_dump(mode="json")))
        self.log = tmp_path / "gateway.log"
        self.gateway: subprocess.Popen[bytes] | None = None
        self.tally = UplinkTally(self.broker.port, self.security.credential(INGEST).password)

    def start_gateway(self) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        self.gateway = subprocess.Popen(
            [sys.executable, "-m", "tepi.main", "gateway", "-c", str(self.config_path)],
            stdout=open(self.log, "ab"), stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "listening for devices" in self.log.read_text()[offset:], 30, "gateway subscribed")

    def stop_gateway(self) -> None:
        if self.gateway is not None and self.gateway.poll() is None:
            self.gateway.send_signal(signal.SIGTERM)
            self.gateway.wait(30)

    def publish(self, readings: int, t0: datetime, step: timedelta) -> int:
        """Every device publishes `readings` readings at QoS 1 on its own connection, plus one
        an hour later that closes its last window; returns the readings to account for.

        All devices at once, as a fleet does: one device after the other, each would wait ~40 ms
        for its PUBACKs (Nagle's algorithm at the broker against the client's delayed ACK)."""
        credentials = self.security.credentials()
        messages: list[tuple[str, str, bytes]] = []
        for d in self.cfg.devices:
            station = d.station
            frames = [
                wire.AwlrFrame(station, k, t0 + k * step, 150.0 + 0.2 * (k % 9), 12.6) for k in range(readings)
            ] + [wire.AwlrFrame(station, readings, t0 + readings * step + timedelta(hours=1), 150.0, 12.6)]
            topic = device_topic(TENANT, d.id)
            messages += [(d.id, topic, wire.encode_json(f)) for f in frames]
        packets, size = build_packets(messages, qos=1)
        pub = RawPublisher(self.broker.port, {d.id: (d.id, credentials[d.id].password) for d in self.cfg.devices})
        try:
            stats = pub.publish(packets, size, qos=1)
        finally:
            pub.close()
        assert not pub.closed_by_broker, f"the broker closed the connections of {pub.closed_by_broker}"
        assert stats.acked == len(packets), f"the broker acknowledged {stats.acked} of {len(packets)}"
        return readings * len(self.cfg.devices)

    def close(self) -> None:
        self.stop_gateway()
        self.tally.close()
        self.broker.close()


class UplinkTally:
    """Ingest's stand-in (its own user, persistent session): readings accounted in summaries."""

    def __init__(self, port: int, password: str) -> None:
        self.summaries: dict[str, LevelSummary] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=INGEST, clean_session=False)
        self.client.username_pw_set(INGEST, password)
        self.client.reconnect_delay_set(1, 2)
        subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(uplink_topic(TENANT, GATEWAY), qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert subscribed.wait(10), "uplink tally subscribed"

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        batch = decode_batch(msg.payload)
        with self._lock:
            for item in every_item(batch):
                if isinstance(item, LevelSummary):
                    self.summaries[item.id] = item  # a redelivered message counts once
        if batch.msg is not None:  # acknowledged as ingest does, or the gateway sends it again
            client.publish(downlink_topic(batch.tenant, batch.gateway), encode_ack(UplinkAck(stored=[batch.msg])), qos=1)

    def accounted(self) -> int:
        with self._lock:
            return sum(s.qc.good + s.qc.suspect + s.qc.fail for s in self.summaries.values())

    def missing(self) -> int:
        with self._lock:
            return sum(s.qc.missing for s in self.summaries.values())

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def site_of(tmp_path: Path) -> Iterator[Callable[[int], Site]]:
    made: list[Site] = []

    def make(n_devices: int) -> Site:
        made.append(Site(tmp_path, n_devices))
        return made[-1]

    yield make
    for site in made:
        site.close()


def past_minute(hours: int) -> datetime:
    return (datetime.now(timezone.utc) - timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_overload_far_beyond_the_gateway_loses_nothing(site_of: Callable[[int], Site]) -> None:
    """100 devices x 400 readings (40,000, forty times Mosquitto's default queue) offered at
    once: the broker queues what the gateway cannot take yet, and every reading is accounted."""
    site = site_of(100)
    site.start_gateway()
    published = site.publish(400, past_minute(24), timedelta(seconds=1))
    wait_until(lambda: site.tally.accounted() >= published, 60, f"{published} readings accounted upstream")
    assert site.tally.accounted() == published
    assert site.tally.missing() == 0


def test_gateway_outage_and_broker_restart_lose_nothing(site_of: Callable[[int], Site]) -> None:
    """A 10-minute outage at 500 devices x one reading a minute, compressed: the gateway's
    persistent session queues 5,000 readings, which survive a broker restart (persistence in
    the generated config) and all reach the uplink once the gateway is back."""
    site = site_of(500)
    site.start_gateway()  # its device-link session exists from now on
    site.stop_gateway()
    published = site.publish(10, past_minute(24), timedelta(minutes=1))
    site.broker.restart()
    site.start_gateway()
    wait_until(lambda: site.tally.accounted() >= published, 60, f"{published} readings accounted upstream")
    assert site.tally.accounted() == published
    assert site.tally.missing() == 0


class Session:
    """A paho client that records its messages and whether the broker ever dropped it."""

    def __init__(self, port: int, username: str, password: str, client_id: str, clean: bool = False) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.dropped = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
        self.client.username_pw_set(username, password)
        connected = threading.Event()
        self.client.on_connect = lambda *_: connected.set()
        self.client.on_disconnect = lambda *_: self.dropped.set()
        self.client.on_message = lambda c, u, msg: self.messages.put(msg)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert connected.wait(10), f"{username} connected"

    def subscribe(self, topic_filter: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_: done.set()
        self.client.subscribe(topic_filter, qos=1)
        assert done.wait(10)

    def publish(self, topic: str, payload: bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(10)

    def received(self, n: int) -> list[bytes]:
        return [self.messages.get(timeout=10).payload for _ in range(n)]

    def close(self) -> None:
        self.client.on_disconnect = None
        self.client.disconnect()
        self.client.loop_stop()


def test_a_device_credential_cannot_take_over_ingest_or_the_gateway(tmp_path: Path) -> None:
    """A device connects with the client ids of ingest and of the gateway's device link. Its
    client id is replaced by its username, so neither victim is disconnected or loses its
    session: ingest's queued uplinks and the gateway's queued readings all arrive."""
    registry = fleet(2)
    security = setup_broker_security([registry], tmp_path / "security", persistence_dir=tmp_path / "unused")
    broker = Mosquitto(workdir=tmp_path / "broker", persistence=False, auth=security).start()
    password = security.credential
    sessions: list[Session] = []

    def connect(username: str, client_id: str | None = None, clean: bool = False) -> Session:
        sessions.append(Session(broker.port, username, password(username).password, client_id or username, clean))
        return sessions[-1]

    try:
        ingest = connect(INGEST)
        ingest.subscribe(uplink_topic(TENANT, GATEWAY))
        ingest.close()  # away: the broker queues uplinks for its session
        devices = connect(f"{GATEWAY}.devices")
        devices.subscribe(device_subscription(TENANT))
        devices.close()  # away too: readings queue for the device link
        uplink, device = connect(f"{GATEWAY}.uplink"), connect("awlr-0000", clean=True)
        for n in range(3):
            uplink.publish(uplink_topic(TENANT, GATEWAY), f"uplink {n}".encode())
            device.publish(device_topic(TENANT, "awlr-0000"), f"reading {n}".encode())

        devices = connect(f"{GATEWAY}.devices")  # back, connected while the attack runs
        assert devices.received(3) == [f"reading {n}".encode() for n in range(3)]
        for victim in (INGEST, f"{GATEWAY}.devices", "tepi-ingest-1", f"tepi-gw-{GATEWAY}-devices"):
            connect("awlr-0001", client_id=victim, clean=True)  # clean start would erase a session
        device.publish(device_topic(TENANT, "awlr-0000"), b"reading 3")
        assert devices.received(1) == [b"reading 3"]
        assert not devices.dropped.is_set(), "the gateway's device link was disconnected"

        ingest = connect(INGEST)
        assert ingest.received(3) == [f"uplink {n}".encode() for n in range(3)]
    finally:
        for s in sessions:
            s.close()
        broker.close()
