"""MQTT users, ACL and TLS generated from the registry, enforced by a real Mosquitto.

One broker for the module runs with the generated password file, ACL and TLS listener; it
serves two regencies (dki-jakarta from the shipped config, kab-badung built here), because
the point of the ACL is that one deployment's tenants cannot see or forge each other's data.

"Nothing delivered" is proved with a sentinel rather than a sleep: the denied message is sent
first and an allowed one after; Mosquitto routes in order, so once the sentinel arrives the
denied message would already have arrived too.
"""

from __future__ import annotations

import base64
import json
import queue
import time
import re
import ssl
import stat
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from typer.testing import CliRunner

from core.config import DEFAULT_CONFIG_PATH, DeviceConfig, GatewayConfig, TepiConfig
from kinds.awlr.config import SiagaThresholds, StationConfig
from contract.downlink import UplinkAck, encode_ack
from contract.topics import alarm_topic, device_subscription, device_topic, downlink_topic, uplink_subscription, uplink_topic
from tepi.boat_gateways import boat_gateway_config
from tepi.mqtt_auth import MqttCredential, write_credentials
from kinds.awlr.ingest.uplink import every_item
from tepi.mqtt_security import (
    MqttSecurityError,
    MqttSecurityFiles,
    hash_password,
    issue_test_tls,
    mqtt_app,
    principals,
    render_acl,
    setup_broker_security,
    verify_password,
)
from core.processes import Mosquitto

pytestmark = pytest.mark.integration

JAKARTA, BADUNG = "dki-jakarta", "kab-badung"
GW_JAKARTA, GW_BADUNG = "gw-ciliwung", "gw-badung"
DEPOK, MANGGARAI, KATULAMPA, TUKAD = "awlr-depok", "awlr-manggarai", "awlr-katulampa", "awlr-tukad-badung"
INGEST_1, INGEST_2 = "ingest.1", "ingest.2"
# Two boats of Badung, each with its fish-finder and its own gateway on board.
VESSEL_KDG, VESSEL_JBR = "jukung-kdg-01", "jukung-jbr-01"
FF_KDG, FF_JBR = "ff-kdg-01", "ff-jbr-01"
GW_KDG, GW_JBR = "gw-jukung-kdg-01", "gw-jukung-jbr-01"
NOT_AUTHORIZED = 0x87
TIMEOUT = 5.0


def badung_config(base: TepiConfig) -> TepiConfig:
    """A second regency with its own station, device and gateway (validated like a YAML file)."""
    return TepiConfig(
        tenants=base.tenants,
        stations=[
            StationConfig(
                id="tukad-badung", name="Pos Tukad Badung", river="Tukad Badung", tenant=BADUNG,
                lat=-8.66, lon=115.21, timezone="Asia/Makassar", sensor_span_cm=(0, 500),
                thresholds=SiagaThresholds(siaga3=150, siaga2=200, siaga1=250, source="test fixture, not published"),
            )
        ],
        devices=[DeviceConfig(id=TUKAD, kind="awlr", station="tukad-badung", transport="mqtt")],
        gateway=GatewayConfig(id=GW_BADUNG, tenant=BADUNG),
    )


@pytest.fixture(scope="module")
def configs(default_config: TepiConfig) -> list[TepiConfig]:
    two_workers = default_config.ingest.model_copy(update={"workers": 2})
    boats = [boat_gateway_config(default_config, v, BADUNG, device=d) for v, d in ((VESSEL_KDG, FF_KDG), (VESSEL_JBR, FF_JBR))]
    return [default_config.model_copy(update={"ingest": two_workers}), badung_config(default_config), *boats]


def link(gateway: str, name: str) -> str:
    """The MQTT user of one of a gateway's connections."""
    return f"{gateway}.{name}"


@pytest.fixture(scope="module")
def security(configs: list[TepiConfig], tmp_path_factory: pytest.TempPathFactory) -> MqttSecurityFiles:
    return setup_broker_security(configs, tmp_path_factory.mktemp("mqtt-security"), tls=True)


@pytest.fixture(scope="module")
def broker(security: MqttSecurityFiles, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    if not Mosquitto.available():
        pytest.fail("mosquitto is not installed: run `make test`, which installs it")
    b = Mosquitto(workdir=tmp_path_factory.mktemp("mosquitto"), persistence=False, auth=security, tls=security.tls).start()
    yield b
    b.close()


class Probe:
    """A paho MQTT v5 client that records the broker's answers: CONNACK, SUBACK, PUBACK, messages."""

    def __init__(self, client_id: str, username: str | None, password: str | None) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.connack: queue.Queue[ReasonCode] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._acks: dict[int, object] = {}
        self._acked = threading.Condition()
        self.client.on_connect = lambda c, u, flags, rc, props: self.connack.put(rc)
        self.client.on_message = lambda c, u, msg: self.messages.put(msg)
        self.client.on_publish = lambda c, u, mid, rc, props: self._ack(mid, rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, props: self._ack(mid, rcs)

    def _ack(self, mid: int, answer: object) -> None:
        with self._acked:
            self._acks[mid] = answer
            self._acked.notify_all()

    def _wait_ack(self, mid: int) -> object:
        with self._acked:
            assert self._acked.wait_for(lambda: mid in self._acks, TIMEOUT), f"no acknowledgement for mid {mid}"
            return self._acks.pop(mid)

    def connect(self, port: int, host: str = "127.0.0.1") -> ReasonCode:
        self.client.connect(host, port, keepalive=10)
        self.client.loop_start()
        return self.connack.get(timeout=TIMEOUT)

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> ReasonCode:
        """Publish at QoS 1 and return the PUBACK reason (MQTT v5 reports ACL denials there)."""
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        answer = self._wait_ack(info.mid)
        assert isinstance(answer, ReasonCode)
        return answer

    def subscribe(self, topic_filter: str) -> list[ReasonCode]:
        _, mid = self.client.subscribe(topic_filter, qos=1)
        answer = self._wait_ack(mid)
        assert isinstance(answer, list)
        return answer

    def received_until(self, topic: str, payload: bytes) -> list[tuple[str, bytes]]:
        """Everything delivered up to and including the sentinel (`topic`, `payload`)."""
        seen: list[tuple[str, bytes]] = []
        while (topic, payload) not in seen:
            try:
                msg = self.messages.get(timeout=TIMEOUT)
            except queue.Empty:
                pytest.fail(f"sentinel {payload!r} on {topic} not delivered; got {seen}")
            seen.append((msg.topic, msg.payload))
        return seen

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect(broker: Mosquitto, security: MqttSecurityFiles, request: pytest.FixtureRequest) -> Iterator[Callable[..., Probe]]:
    """`connect(username)` logs in with the generated password and asserts CONNACK success."""
    made: list[Probe] = []

    def make(username: str, client_id: str | None = None) -> Probe:
        probe = Probe(client_id or f"{request.node.name[:40]}-{username}-{len(made)}", username, security.credential(username).password)
        made.append(probe)
        rc = probe.connect(broker.port)
        assert not rc.is_failure, f"{username} refused at CONNACK: {rc}"
        return probe

    yield make
    for probe in made:
        probe.close()


def granted(acks: list[ReasonCode]) -> bool:
    return all(not rc.is_failure for rc in acks)


# --- generated files -----------------------------------------------------------------------------


def test_password_hash_is_byte_compatible_with_mosquitto_passwd(tmp_path: Path) -> None:
    """Same salt and iterations: our `$7$` line equals mosquitto_passwd's; the broker tests
    below prove Mosquitto accepts ours (and refuses a wrong password)."""
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "probe", "s3cret-Password"], check=True)
    user, theirs = passwd.read_text().strip().split(":", 1)
    _, _, iterations, salt64, _ = theirs.split("$")
    assert user == "probe"
    assert hash_password("s3cret-Password", iterations=int(iterations), salt=base64.b64decode(salt64)) == theirs
    assert verify_password("s3cret-Password", theirs)
    assert not verify_password("s3cret-password", theirs)
    assert re.fullmatch(r"\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==", hash_password("x"))


def test_users_acl_and_files_follow_the_registry(configs: list[TepiConfig], security: MqttSecurityFiles) -> None:
    users = {p.username: p for p in principals(configs)}
    # Serial devices never speak MQTT, so they get no password to leak.
    # Each connection its own user: a gateway's three, each ingest worker.
    gateways = {link(gw, name) for gw in (GW_JAKARTA, GW_BADUNG, GW_KDG, GW_JBR) for name in ("devices", "uplink", "alarms")}
    assert set(users) == {DEPOK, MANGGARAI, TUKAD, FF_KDG, FF_JBR, INGEST_1, INGEST_2} | gateways
    assert (users[TUKAD].role, users[TUKAD].tenant) == ("device", BADUNG)
    # A fish-finder's platform is a vessel, no configured station: the tenant of its boat's gateway.
    assert (users[FF_KDG].role, users[FF_KDG].tenant, users[FF_KDG].write) == ("device", BADUNG, (f"{device_topic(BADUNG, FF_KDG)}/#",))

    acl = security.acl_file.read_text()
    assert acl == render_acl(users[u] for u in sorted(users))
    assert (
        "\nuser gw-badung.devices\ntopic read tepi/kab-badung/dev/awlr-tukad-badung/up/#\n"
        "topic read $SYS/broker/publish/messages/dropped\n\n"
    ) in acl
    assert (
        "\nuser gw-jukung-kdg-01.devices\ntopic read tepi/kab-badung/dev/ff-kdg-01/up/#\n"
        "topic read $SYS/broker/publish/messages/dropped\n\n"
    ) in acl
    # No gateway reads its tenant's devices wholesale: a boat's password is in the boat's YAML.
    assert not any(ln.startswith("topic read") and "/dev/+" in ln for ln in acl.splitlines())
    assert (
        "\nuser gw-badung.uplink\ntopic read tepi/kab-badung/gw/gw-badung/down\n"
        "topic write tepi/kab-badung/gw/gw-badung/up\n\n"
    ) in acl
    assert "\nuser gw-badung.alarms\ntopic write tepi/kab-badung/gw/gw-badung/alarm/+/+\n\n" in acl
    assert "\nuser awlr-depok\ntopic write tepi/dki-jakarta/dev/awlr-depok/up/#\n" in acl
    assert "\nuser ff-kdg-01\ntopic write tepi/kab-badung/dev/ff-kdg-01/up/#\n" in acl
    assert "\nuser gw-jukung-kdg-01.uplink\ntopic read tepi/kab-badung/gw/gw-jukung-kdg-01/down\n" in acl
    assert (
        "\nuser ingest.2\ntopic read tepi/+/gw/+/up\ntopic read $SYS/broker/publish/messages/dropped\n"
        "topic write tepi/+/gw/+/down\n"
    ) in acl
    # Of the $SYS tree, only the dropped-message count, and only for those who act on it.
    assert {ln for ln in acl.splitlines() if "$SYS" in ln} == {"topic read $SYS/broker/publish/messages/dropped"}
    body = [ln for ln in acl.splitlines() if ln and not ln.startswith("#")]
    assert body[0].startswith("user "), "a topic line before any `user` would apply to anonymous clients"
    assert not any(ln.startswith(("pattern", "topic readwrite", "topic #")) for ln in body)

    creds = json.loads(security.credentials_file.read_text())
    badung = [creds[link(GW_BADUNG, name)] for name in ("devices", "uplink", "alarms")]
    assert all(c["role"] == "gateway" and c["tenant"] == BADUNG for c in badung)
    assert len({c["password"] for c in badung}) == 1, "a gateway's connections share its one password"
    assert creds[INGEST_1]["tenant"] is None and creds[INGEST_1]["password"] == creds[INGEST_2]["password"]
    assert creds[DEPOK]["password"] != creds[MANGGARAI]["password"]
    assert security.credential(GW_BADUNG).password == badung[0]["password"]
    assert security.tls is not None
    for secret in (security.credentials_file, security.password_file, security.tls.server_key, security.tls.ca_cert.with_name("ca.key")):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    assert security.credential(DEPOK).password not in repr(security.credential(DEPOK))


def test_rerun_keeps_passwords_unless_rotated(configs: list[TepiConfig], tmp_path: Path) -> None:
    """Adding a device must not lock the deployed fleet out; rotation is explicit."""
    first = setup_broker_security(configs[:1], tmp_path, tls=True).credentials()
    ca = (tmp_path / "tls" / "ca.crt").read_bytes()
    second = setup_broker_security(configs, tmp_path, tls=True, rotate=[MANGGARAI]).credentials()
    assert second[DEPOK].password == first[DEPOK].password
    assert second[MANGGARAI].password != first[MANGGARAI].password
    assert TUKAD in second and TUKAD not in first
    assert (tmp_path / "tls" / "ca.crt").read_bytes() == ca, "devices already trust this CA"
    third = setup_broker_security(configs[1:], tmp_path).credentials()
    assert DEPOK not in third, "a device removed from the registry loses its password"
    rotated = setup_broker_security(configs[1:], tmp_path, rotate=[GW_BADUNG]).credentials()
    assert {rotated[link(GW_BADUNG, n)].password for n in ("devices", "uplink", "alarms")} == {rotated[link(GW_BADUNG, "uplink")].password}
    assert rotated[link(GW_BADUNG, "uplink")].password != third[link(GW_BADUNG, "uplink")].password
    with pytest.raises(MqttSecurityError, match="unknown MQTT users: awlr-nowhere"):
        setup_broker_security(configs, tmp_path, rotate=["awlr-nowhere"])


def test_upgrade_from_one_user_per_gateway_keeps_its_password(configs: list[TepiConfig], tmp_path: Path) -> None:
    """Before each connection had its own user, a gateway logged in as its id and ingest as
    `ingest`: their passwords carry over, so an upgrade re-provisions nothing."""
    old = {
        GW_BADUNG: MqttCredential(GW_BADUNG, "gateway", BADUNG, "old-gateway-password"),
        "ingest": MqttCredential("ingest", "ingest", None, "old-ingest-password"),
    }
    write_credentials(tmp_path / "credentials.json", old)
    new = setup_broker_security(configs[1:], tmp_path).credentials()
    assert new[link(GW_BADUNG, "devices")].password == "old-gateway-password"
    assert new[INGEST_1].password == "old-ingest-password"
    assert GW_BADUNG not in new and "ingest" not in new


def test_generated_conf_binds_client_ids_sizes_queues_and_persists(configs: list[TepiConfig], tmp_path: Path) -> None:
    """Every listener ties client id to username; the queue holds the largest session's worst
    backlog (here ingest's, which holds the gateways' replayed outboxes) and grows with the
    registry; queued messages are saved to a location the operator chose; a session away far
    longer than the outage budget expires."""
    conf = setup_broker_security(configs, tmp_path, tls=True, persistence_dir=tmp_path / "db").conf_file.read_text()
    listeners = conf.split("\nlistener ")[1:]
    assert len(listeners) == 2 and all("\nuse_username_as_clientid true" in lst for lst in listeners)
    assert f"\npersistence true\npersistence_location {tmp_path / 'db'}/\nautosave_interval 30\n" in conf
    assert "\npersistent_client_expiration 7d\n" in conf

    def queued(text: str) -> int:
        return int(re.search(r"^max_queued_messages (\d+)$", text, re.M).group(1))

    base = configs[0]
    peak = base.broker_queue.peak_readings_per_s * base.broker_queue.peak_duration_s
    assert queued(conf) >= 2 * peak, "the whole peak burst fits, with the margin"
    assert "\nmax_inflight_messages 1000\n" in conf and "\nmax_queued_bytes 0" not in conf
    longer = base.model_copy(update={"broker_queue": base.broker_queue.model_copy(update={"outage_s": 86_400.0})})
    more = setup_broker_security([longer, *configs[1:]], tmp_path / "longer").conf_file.read_text()
    assert queued(more) > queued(conf), "a longer outage budget needs a longer queue"
    assert "\npersistent_client_expiration 7d\n" in more, "at least a week"
    month = base.model_copy(update={"broker_queue": base.broker_queue.model_copy(update={"outage_s": 30 * 86_400.0})})
    expiring = setup_broker_security([month], tmp_path / "month").conf_file.read_text()
    assert "\npersistent_client_expiration 120d\n" in expiring, "expiry stays far above the outage budget"


def test_a_device_on_a_station_that_is_not_configured_gets_no_user(configs: list[TepiConfig]) -> None:
    """An AWLR's platform must be a configured station (its kind's check, as at gateway start):
    it is refused, not given rights under the gateway's tenant as a vessel's device is."""
    lost = configs[1].model_copy(update={"devices": [DeviceConfig(id="awlr-lost", kind="awlr", station="nowhere", transport="mqtt")]})
    with pytest.raises(MqttSecurityError, match="awlr-lost.*nowhere"):
        principals([lost])


def test_same_id_with_two_roles_is_refused(configs: list[TepiConfig]) -> None:
    clash = configs[1].model_copy(update={"gateway": GatewayConfig(id=DEPOK, tenant=BADUNG)})
    with pytest.raises(MqttSecurityError, match="awlr-depok"):
        principals([configs[0], clash])


# --- enforcement by Mosquitto --------------------------------------------------------------------


def test_device_reaches_its_gateway_only_on_its_own_topic(connect: Callable[..., Probe]) -> None:
    gateway = connect(link(GW_JAKARTA, "devices"))
    assert granted(gateway.subscribe(device_subscription(JAKARTA)))
    depok = connect(DEPOK)
    own = device_topic(JAKARTA, DEPOK)

    for forged in (device_topic(JAKARTA, MANGGARAI), device_topic(BADUNG, DEPOK), uplink_topic(JAKARTA, GW_JAKARTA)):
        rc = depok.publish(forged, b"forged")
        assert rc.value == NOT_AUTHORIZED, f"{forged}: {rc}"
    rc = depok.publish(own, b"reading")
    assert not rc.is_failure, rc

    assert gateway.received_until(own, b"reading") == [(own, b"reading")]


def test_a_device_may_publish_below_its_own_topic_and_no_other(connect: Callable[..., Probe]) -> None:
    """A third-party BLE scanner (Theengs Gateway) publishes one message per device heard at
    `<its topic>/<MAC>`: below its own topic it reaches its gateway; below another's it is refused."""
    gateway = connect(link(GW_JAKARTA, "devices"))
    assert granted(gateway.subscribe(device_subscription(JAKARTA)))
    depok = connect(DEPOK)
    below = f"{device_topic(JAKARTA, DEPOK)}/AA:BB:CC:DD:EE:FF"
    for forged in (f"{device_topic(JAKARTA, MANGGARAI)}/AA:BB:CC:DD:EE:FF", f"{device_topic(BADUNG, DEPOK)}/x"):
        rc = depok.publish(forged, b"forged")
        assert rc.value == NOT_AUTHORIZED, f"{forged}: {rc}"
    assert not depok.publish(below, b"one device heard").is_failure
    assert gateway.received_until(below, b"one device heard") == [(below, b"one device heard")]


def test_a_fish_finder_publishes_only_its_own_topic_to_its_boats_gateway(connect: Callable[..., Probe]) -> None:
    gateway = connect(link(GW_KDG, "devices"))
    assert granted(gateway.subscribe(device_subscription(BADUNG)))
    finder = connect(FF_KDG)
    own = device_topic(BADUNG, FF_KDG)
    for forged in (device_topic(BADUNG, FF_JBR), device_topic(BADUNG, TUKAD), device_topic(JAKARTA, FF_KDG),
                   uplink_topic(BADUNG, GW_KDG), downlink_topic(BADUNG, GW_KDG), f"{alarm_topic(BADUNG, GW_KDG)}/{VESSEL_KDG}/sos_status"):
        rc = finder.publish(forged, b"$PTEPD,1,sinking,A")
        assert rc.value == NOT_AUTHORIZED, f"{forged}: {rc}"
    assert not finder.publish(own, b"$GPRMC").is_failure
    assert gateway.received_until(own, b"$GPRMC") == [(own, b"$GPRMC")]


def test_a_boats_device_link_reads_its_own_fish_finder_and_no_other_boat_s(connect: Callable[..., Probe]) -> None:
    """Every boat's YAML holds its gateway's password: with it, no other boat's positions (personal
    data) may be read, whatever the filter; its own fish-finder still reaches it, as do the river
    gateway's own devices."""
    kdg, jbr, river = (connect(link(gw, "devices")) for gw in (GW_KDG, GW_JBR, GW_BADUNG))
    for topic_filter in (device_subscription(BADUNG), device_topic(BADUNG, FF_JBR), "tepi/+/dev/+/up", "#"):
        assert granted(kdg.subscribe(topic_filter)), "Mosquitto 2.0 grants the SUBACK and filters at delivery"
        assert granted(river.subscribe(topic_filter))
    assert granted(jbr.subscribe(device_subscription(BADUNG)))

    other, own, tukad = device_topic(BADUNG, FF_JBR), device_topic(BADUNG, FF_KDG), device_topic(BADUNG, TUKAD)
    assert not connect(FF_JBR).publish(other, b"$GPRMC,jbr").is_failure
    assert jbr.received_until(other, b"$GPRMC,jbr") == [(other, b"$GPRMC,jbr")], "its own boat's device link reads it"
    assert not connect(FF_KDG).publish(own, b"$GPRMC,kdg").is_failure
    assert not connect(TUKAD).publish(tukad, b"river reading").is_failure
    assert {m for m in kdg.received_until(own, b"$GPRMC,kdg")} == {(own, b"$GPRMC,kdg")}
    assert {m for m in river.received_until(tukad, b"river reading")} == {(tukad, b"river reading")}


def test_a_boats_gateway_hears_only_its_own_sos_answers(connect: Callable[..., Probe]) -> None:
    """The SOS status a boat's gateway reads stops its repeats and sounds its alarm: another
    boat's `acknowledged` must never reach it, and only ingest may send one."""
    ingest = connect(INGEST_1)
    kdg, jbr = connect(link(GW_KDG, "uplink")), connect(link(GW_JBR, "uplink"))
    own, other = downlink_topic(BADUNG, GW_KDG), downlink_topic(BADUNG, GW_JBR)
    assert granted(kdg.subscribe(own))
    for topic_filter in (other, "tepi/kab-badung/gw/+/down", "#"):
        kdg.subscribe(topic_filter)
    assert granted(jbr.subscribe(other))
    answer = b'{"type":"sos_status","vessel":"jukung-jbr-01","press":1,"status":"acknowledged"}'
    assert not ingest.publish(other, answer).is_failure
    assert jbr.received_until(other, answer) == [(other, answer)]
    sentinel = b'{"type":"sos_status","vessel":"jukung-kdg-01","press":1,"status":"received"}'
    assert not ingest.publish(own, sentinel).is_failure
    assert all(topic == own for topic, _ in kdg.received_until(own, sentinel))
    for forger in (connect(FF_KDG), jbr, connect(link(GW_KDG, "alarms"))):
        assert forger.publish(own, answer).value == NOT_AUTHORIZED


@pytest.mark.parametrize(
    ("username", "password"),
    [(DEPOK, "not-the-password"), ("awlr-unknown", "whatever"), (KATULAMPA, "no-mqtt-user-for-serial"), (None, None)],
    ids=["wrong-password", "unknown-user", "serial-device", "anonymous"],
)
def test_connect_refused(broker: Mosquitto, username: str | None, password: str | None) -> None:
    """Mosquitto 2.0 answers every refusal with "Not authorized" (0x87), never 0x86, so a
    probe cannot tell an unknown user from a wrong password."""
    probe = Probe(f"refused-{username}", username, password)
    try:
        rc = probe.connect(broker.port)
    finally:
        probe.close()
    assert rc == ReasonCode(PacketTypes.CONNACK, "Not authorized"), rc


def test_gateway_cannot_read_another_tenants_devices(connect: Callable[..., Probe]) -> None:
    """Mosquitto 2.0's acl_file checks reads at delivery: the SUBACK may grant, nothing arrives."""
    jakarta = connect(link(GW_JAKARTA, "devices"))
    for topic_filter in (device_subscription(BADUNG), "tepi/+/dev/+/up", "tepi/#", "#"):
        jakarta.subscribe(topic_filter)
    badung = connect(link(GW_BADUNG, "devices"))
    assert granted(badung.subscribe(device_subscription(BADUNG)))

    tukad = device_topic(BADUNG, TUKAD)
    assert not connect(TUKAD).publish(tukad, b"badung reading").is_failure
    assert badung.received_until(tukad, b"badung reading") == [(tukad, b"badung reading")]

    depok = device_topic(JAKARTA, DEPOK)
    assert not connect(DEPOK).publish(depok, b"sentinel").is_failure
    seen = jakarta.received_until(depok, b"sentinel")
    assert all(topic.startswith(f"tepi/{JAKARTA}/") for topic, _ in seen), seen


def test_gateway_writes_only_its_uplink_and_alarms(connect: Callable[..., Probe]) -> None:
    """Each of a gateway's connections may do its own job only: the alarm connection cannot
    write uplinks, the uplink connection cannot write alarms, neither reads devices."""
    ingest = connect(INGEST_1)
    assert granted(ingest.subscribe(uplink_subscription("ingest")))
    gateway = connect(link(GW_JAKARTA, "uplink"))
    alarms = connect(link(GW_JAKARTA, "alarms"))

    alarm = f"{alarm_topic(JAKARTA, GW_JAKARTA)}/depok/siaga_change"
    assert not alarms.publish(alarm, b'{"siaga":3}', retain=True).is_failure
    assert gateway.publish(alarm, b'{"siaga":3}', retain=True).value == NOT_AUTHORIZED
    assert alarms.publish(uplink_topic(JAKARTA, GW_JAKARTA), b"forged").value == NOT_AUTHORIZED
    for forged in (
        uplink_topic(BADUNG, GW_BADUNG),
        uplink_topic(JAKARTA, "gw-other"),
        uplink_topic(BADUNG, GW_JAKARTA),
        f"{alarm_topic(BADUNG, GW_BADUNG)}/tukad-badung/siaga_change",
        device_topic(JAKARTA, DEPOK),
    ):
        rc = gateway.publish(forged, b"forged")
        assert rc.value == NOT_AUTHORIZED, f"{forged}: {rc}"
    own = uplink_topic(JAKARTA, GW_JAKARTA)
    assert not gateway.publish(own, b"batch").is_failure

    assert ingest.received_until(own, b"batch") == [(own, b"batch")]


def test_acks_reach_only_their_gateway_and_only_ingest_sends_them(connect: Callable[..., Probe]) -> None:
    """A gateway deletes what an ack names: it must read its own downlink only (another
    gateway's acks name messages it never sent), and no device or gateway may forge one."""
    ingest = connect(INGEST_1)
    jakarta = connect(link(GW_JAKARTA, "uplink"))
    badung = connect(link(GW_BADUNG, "uplink"))
    own, other = downlink_topic(JAKARTA, GW_JAKARTA), downlink_topic(BADUNG, GW_BADUNG)
    assert granted(jakarta.subscribe(own))
    for topic_filter in (other, "tepi/+/gw/+/down", "tepi/#", "#"):
        jakarta.subscribe(topic_filter)  # the SUBACK may grant; the ACL is checked at delivery
    assert granted(badung.subscribe(other))

    ack = encode_ack(UplinkAck(stored=[1]))
    assert not ingest.publish(other, ack).is_failure
    assert badung.received_until(other, ack) == [(other, ack)]
    sentinel = encode_ack(UplinkAck(stored=[2]))
    assert not ingest.publish(own, sentinel).is_failure
    seen = jakarta.received_until(own, sentinel)
    assert all(topic == own for topic, _ in seen), f"the other gateway's downlink arrived: {seen}"

    forgers = {DEPOK: connect(DEPOK), "gateway uplink": jakarta, "gateway alarms": connect(link(GW_JAKARTA, "alarms"))}
    for who, forger in forgers.items():
        for topic in (own, other):
            assert forger.publish(topic, ack).value == NOT_AUTHORIZED, f"{who} -> {topic}"


def test_ingest_shares_uplinks_of_all_tenants_but_cannot_publish(connect: Callable[..., Probe]) -> None:
    workers = [connect(INGEST_1), connect(INGEST_2)]
    for w in workers:
        assert granted(w.subscribe(uplink_subscription("ingest")))
    sent = {
        uplink_topic(JAKARTA, GW_JAKARTA): connect(link(GW_JAKARTA, "uplink")),
        uplink_topic(BADUNG, GW_BADUNG): connect(link(GW_BADUNG, "uplink")),
    }
    for topic, gateway in sent.items():
        for n in range(4):
            assert not gateway.publish(topic, f"batch {n}".encode()).is_failure

    got: list[tuple[str, bytes]] = []
    while len(got) < 8:
        got += [(m.topic, m.payload) for w in workers for m in _drain(w, timeout=0.2)]
        assert len(got) <= 8, "a shared subscription delivers each uplink to one worker"
    assert sorted(got) == sorted((t, f"batch {n}".encode()) for t in sent for n in range(4))

    for forged in (uplink_topic(JAKARTA, GW_JAKARTA), device_topic(JAKARTA, DEPOK), "tepi/ingest/status"):
        assert workers[0].publish(forged, b"forged").value == NOT_AUTHORIZED, forged


def _drain(probe: Probe, timeout: float) -> list[mqtt.MQTTMessage]:
    out: list[mqtt.MQTTMessage] = []
    try:
        out.append(probe.messages.get(timeout=timeout))
        while True:
            out.append(probe.messages.get_nowait())
    except queue.Empty:
        return out


def test_tls_listener_trusts_only_the_generated_ca(
    broker: Mosquitto, security: MqttSecurityFiles, tmp_path: Path
) -> None:
    assert security.tls is not None
    password = security.credential(GW_BADUNG).password
    for host in ("127.0.0.1", "localhost"):  # IP and DNS subject alternative names
        probe = Probe(f"tls-{host}", link(GW_BADUNG, "uplink"), password)
        probe.client.tls_set(ca_certs=str(security.tls.ca_cert))
        try:
            assert not probe.connect(broker.tls_port, host=host).is_failure
        finally:
            probe.close()

    stranger = issue_test_tls(tmp_path / "other-ca")
    probe = Probe("tls-stranger", link(GW_BADUNG, "uplink"), password)
    probe.client.tls_set(ca_certs=str(stranger.ca_cert))
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate verify failed"):
        probe.client.connect("127.0.0.1", broker.tls_port)


# --- `tepi mqtt ...` -----------------------------------------------------------------------------


def test_cli_setup_never_prints_passwords(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "broker"
    result = runner.invoke(mqtt_app, ["setup", "-c", str(DEFAULT_CONFIG_PATH), "--out", str(out), "--tls"])
    assert result.exit_code == 0, result.output
    assert "6 MQTT users (2 devices, 3 gateway connections, 1 ingest worker)" in result.output
    assert re.search(r"max_queued_messages \d+ \(largest session ingest.1: ", result.output)
    assert re.search(r"memory +whole broker \(2 sessions, .*about \d+ MB with every queue full, \d+ MB at worst", result.output)
    assert "restart the broker" not in result.output and "reload " not in result.output, "a first setup has nothing to reload"
    creds = MqttSecurityFiles.at(out).credentials()
    assert not any(c.password in result.output for c in creds.values())

    shown = runner.invoke(mqtt_app, ["show-credentials", "--out", str(out), DEPOK])
    assert shown.exit_code == 0 and shown.stdout == creds[DEPOK].password + "\n"
    missing = runner.invoke(mqtt_app, ["show-credentials", "--out", str(out), KATULAMPA])
    assert missing.exit_code == 1 and "no MQTT user 'awlr-katulampa'" in missing.output


def test_cli_setup_says_when_the_broker_must_restart(tmp_path: Path) -> None:
    """Mosquitto does not reload listeners or `use_username_as_clientid` on SIGHUP
    (mosquitto.conf(5)): a changed mosquitto.conf asks for a restart, an unchanged one only
    for the SIGHUP that re-reads passwd and acl."""
    runner = CliRunner()
    setup = ["setup", "-c", str(DEFAULT_CONFIG_PATH), "--out", str(tmp_path)]
    assert runner.invoke(mqtt_app, setup).exit_code == 0
    again = runner.invoke(mqtt_app, setup)
    assert again.exit_code == 0 and "restart the broker" not in again.output
    assert "mosquitto.conf is unchanged: SIGHUP makes a running broker re-read passwd and acl" in again.output
    moved = runner.invoke(mqtt_app, [*setup, "--port", "1884"])
    assert moved.exit_code == 0 and "restart the broker: mosquitto.conf changed" in moved.output


# --- Tepi's own clients on the secured broker ---------------------------------------------------


def test_gateway_runs_over_tls_with_its_own_credentials(
    broker: Mosquitto, security: MqttSecurityFiles, connect: Callable[..., Probe], default_config: TepiConfig, tmp_path: Path
) -> None:
    """The gateway reads its tenant's devices and uplinks, over TLS with its generated password;
    the ingest user receives the batch. Nothing anonymous, nothing in clear text."""
    from datetime import datetime, timedelta, timezone

    from kinds.awlr import wire
    from gateway.runtime import EdgeGateway
    from core.config import BrokerConfig, with_local_services
    from contract.uplink_batch import decode_batch

    assert security.tls is not None
    secured = BrokerConfig(
        host="127.0.0.1", port=broker.tls_port, password=security.credential(GW_JAKARTA).password, tls_ca_file=security.tls.ca_cert,
    )
    cfg = with_local_services(default_config, broker.tls_port, tmp_path, summary_every_s=60)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"local_broker": secured, "uplink_broker": secured})})
    ingest = connect(INGEST_1)
    assert granted(ingest.subscribe(uplink_subscription("ingest")))
    device = connect(DEPOK)
    gw = EdgeGateway(cfg)
    gw.start()
    try:
        assert gw.wait_ready(15), "the gateway subscribed over TLS"
        t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
        for i in range(4):  # 30 s apart: the fourth closes the first minute's window
            frame = wire.AwlrFrame("depok", i, t0 + timedelta(seconds=30 * i), 150.0 + i * 0.3, 12.0)
            assert not device.publish(device_topic(JAKARTA, DEPOK), wire.encode_json(frame)).is_failure
        items: list = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(i.type == "summary" for i in items):
            items += [item for m in _drain(ingest, timeout=1) for item in every_item(decode_batch(m.payload))]
        assert any(i.type == "summary" and i.station == "depok" and i.count == 2 for i in items), items
    finally:
        gw.stop()
