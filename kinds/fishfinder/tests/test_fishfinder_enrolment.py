"""Enrolling boats: `tepi admin vessel add` gives the boat's gateway its users and grants on a real
Mosquitto running what `tepi mqtt setup` generated (after the SIGHUP it asks for), writes the
YAML the boat runs, and `tepi admin vessel import` enrols a fleet's CSV, naming rejected rows."""

from __future__ import annotations

import queue
import signal
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.reasoncodes import ReasonCode
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from contract.topics import downlink_topic, uplink_topic
from core.config import TepiConfig, load_config
from core.processes import Mosquitto
from kinds.fishfinder.state import Vessel
from tepi.admin_cli import admin_app
from tepi.mqtt_security import MqttSecurityFiles, setup_broker_security

BADUNG = "kab-badung"
GW = "gw-km-uji"
NOT_AUTHORIZED = 0x87
TIMEOUT = 10.0


@pytest.fixture
def central(default_config: TepiConfig, tmp_path: Path) -> MqttSecurityFiles:
    """The central broker's files as `tepi mqtt setup -c config/tepi.yaml` writes them."""
    return setup_broker_security([default_config], tmp_path / "mqtt", persistence_dir=tmp_path / "unused")


def _admin(runner: CliRunner, *args: str) -> tuple[int, str]:
    result = runner.invoke(admin_app, list(args))
    return result.exit_code, result.output


class Client:
    """A paho MQTT v5 client that reports CONNACK and PUBACK reasons and keeps what it receives."""

    def __init__(self, port: int, username: str, password: str) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=username, protocol=mqtt.MQTTv5)
        self.client.username_pw_set(username, password)
        self.connack: queue.Queue[ReasonCode] = queue.Queue()
        self.acks: queue.Queue[object] = queue.Queue()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client.on_connect = lambda c, u, flags, rc, props: self.connack.put(rc)
        self.client.on_publish = lambda c, u, mid, rc, props: self.acks.put(rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, props: self.acks.put(rcs)
        self.client.on_message = lambda c, u, msg: self.messages.put(msg)
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        self.accepted = not self.connack.get(timeout=TIMEOUT).is_failure

    def publish(self, topic: str, payload: bytes) -> ReasonCode:
        self.client.publish(topic, payload, qos=1)
        answer = self.acks.get(timeout=TIMEOUT)
        assert isinstance(answer, ReasonCode)
        return answer

    def subscribe(self, topic: str) -> list[ReasonCode]:
        self.client.subscribe(topic, qos=1)
        answer = self.acks.get(timeout=TIMEOUT)
        assert isinstance(answer, list)
        return answer

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(central: MqttSecurityFiles, tmp_path: Path) -> Iterator[Mosquitto]:
    if not Mosquitto.available():
        pytest.fail("mosquitto is not installed: run `make test`, which installs it")
    b = Mosquitto(workdir=tmp_path / "mosquitto", persistence=False, auth=central).start()
    yield b
    b.close()


def _connect_after_reload(port: int, username: str, password: str) -> Client:
    """Mosquitto re-reads passwd and acl when its loop sees the SIGHUP: log in once it has."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        client = Client(port, username, password)
        if client.accepted or time.monotonic() > deadline:
            return client
        client.close()
        time.sleep(0.1)


def test_an_added_boat_s_gateway_logs_in_and_uses_only_its_own_topics_after_the_reload(
    operator: CliRunner, central: MqttSecurityFiles, broker: Mosquitto, tmp_path: Path
) -> None:
    before = Client(broker.port, f"{GW}.uplink", "not-yet-a-password")
    assert not before.accepted
    before.close()
    boat_yaml = tmp_path / "boat" / "km-uji.yaml"
    code, out = _admin(operator, "vessel", "add", "km-uji", "-t", BADUNG, "-n", "KM Uji", "--home-port", "benoa",
                       "--mqtt-dir", str(central.directory), "--gateway-config", str(boat_yaml),
                       "--uplink-host", "mqtt.tepi.example.id", "--uplink-port", "8883")  # fmt: skip
    assert code == 0, out
    assert "reload the broker" in out and f"tepi mqtt show-credentials --out {central.directory} {GW}" in out
    password = central.credential(GW).password
    assert password not in out, "the password is never printed"

    boat = load_config(boat_yaml)
    assert stat.S_IMODE(boat_yaml.stat().st_mode) == 0o600
    assert (boat.gateway.id, boat.gateway.tenant, [t.id for t in boat.tenants]) == (GW, BADUNG, [BADUNG])
    assert (boat.gateway.uplink_broker.host, boat.gateway.uplink_broker.port) == ("mqtt.tepi.example.id", 8883)
    assert boat.gateway.uplink_broker.password == password
    assert [(d.id, d.kind, d.platform) for d in boat.devices] == [("km-uji", "fishfinder", "km-uji")]
    assert "database_url" not in boat_yaml.read_text() and "ingest" not in boat_yaml.read_text()
    kept = load_config(central.directory / "boats" / f"{GW}.yaml")
    assert kept.gateway.uplink_broker.password is None, "the copy for `tepi mqtt setup` holds no password"

    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGHUP)
    uplink = _connect_after_reload(broker.port, f"{GW}.uplink", password)
    ingest = Client(broker.port, "ingest.1", central.credential("ingest").password)
    try:
        assert uplink.accepted and ingest.accepted
        own_down = downlink_topic(BADUNG, GW)
        assert all(not rc.is_failure for rc in uplink.subscribe(own_down))
        assert not ingest.publish(own_down, b'{"type":"uplink_ack"}').is_failure
        assert uplink.messages.get(timeout=TIMEOUT).topic == own_down
        assert not uplink.publish(uplink_topic(BADUNG, GW), b"{}").is_failure
        for foreign in (uplink_topic(BADUNG, "gw-ciliwung"), uplink_topic("dki-jakarta", GW), own_down):
            assert uplink.publish(foreign, b"{}").value == NOT_AUTHORIZED, foreign
    finally:
        uplink.close()
        ingest.close()


def test_a_fleet_file_with_a_bad_row_registers_nothing_and_names_the_row(
    operator: CliRunner, central: MqttSecurityFiles, engine: Engine, tmp_path: Path
) -> None:
    fleet = tmp_path / "fleet.csv"
    rows = [
        "id,tenant,name,home_port,home_lat,home_lon,gt,speed_kn",
        "jukung-01,kab-badung,Jukung Satu,Pantai Kedonganan,-8.757,115.169,1.5,6",
        "jukung-02,kab-badung,Jukung Dua,Pelabuhan Benoa,,,2,7",
        "jukung-03,kab-badung,Jukung Tiga,Pantai Jimbaran,-8.77,,1,5",
        "jukung-04,kab-nowhere,Jukung Empat,Pantai Jimbaran,-8.77,115.165,1,5",
        "jukung-05,kab-badung,Jukung Lima,Pantai Jimbaran,,,1,5",
    ]
    fleet.write_text("\n".join(rows) + "\n")
    files = {p.name: p.read_bytes() for p in central.directory.iterdir() if p.is_file()}

    code, out = _admin(operator, "vessel", "import", str(fleet), "--mqtt-dir", str(central.directory))
    assert code == 1
    named = [line for line in out.splitlines() if line.startswith("rejected ")]
    assert named == [
        f"rejected {fleet}:4 (vessel 'jukung-03'): give both home_lat and home_lon, or neither",
        f"rejected {fleet}:5 (vessel 'jukung-04'): tenant 'kab-nowhere' does not exist",
        f"rejected {fleet}:6 (vessel 'jukung-05'): no home position: 'Pantai Jimbaran' is not a port whose position "
        "Tepi knows (benoa (Pelabuhan Benoa (fishing port, west side))), so give it (--home-lat/--home-lon; home_lat, "
        "home_lon in a fleet file). A vessel without one is never counted at sea from its fixes, so it would raise no "
        "overdue alert",
    ], "every rejected row at once, a registration's own checks (the tenant) in the same pass as the file's"
    assert "3 rows rejected: nothing registered" in out
    with Session(engine) as s:
        assert s.scalars(sa.select(Vessel.id)).all() == []
    assert {p.name: p.read_bytes() for p in central.directory.iterdir() if p.is_file()} == files

    fleet.write_text("\n".join(rows[:3] + [rows[3].replace("-8.77,,", "-8.77,115.165,")]) + "\n")
    code, out = _admin(operator, "vessel", "import", str(fleet), "--mqtt-dir", str(central.directory),
                       "--gateway-configs", str(tmp_path / "boats"))  # fmt: skip
    assert code == 0, out
    assert [line for line in out.splitlines() if line.startswith("registered")] == [
        f"registered vessel jukung-0{i} in kab-badung (gateway gw-jukung-0{i})" for i in (1, 2, 3)
    ]
    assert {c.username for c in central.credentials().values() if c.tenant == BADUNG} >= {
        "gw-jukung-01.uplink", "gw-jukung-02.uplink", "gw-jukung-03.uplink"
    }
    assert sorted(p.name for p in (tmp_path / "boats").iterdir()) == ["jukung-01.yaml", "jukung-02.yaml", "jukung-03.yaml"]
    assert load_config(tmp_path / "boats" / "jukung-02.yaml").gateway.id == "gw-jukung-02"
    with Session(engine) as s:
        homes = {v.id: (v.home_lat, v.home_lon, v.gt) for v in s.scalars(sa.select(Vessel))}
    assert homes == {"jukung-01": (-8.757, 115.169, 1.5), "jukung-02": (-8.7394, 115.2083, 2.0),
                     "jukung-03": (-8.77, 115.165, 1.0)}  # fmt: skip

    enrolled = {p.name: p.read_bytes() for p in central.directory.iterdir() if p.is_file()}
    code, out = _admin(operator, "vessel", "import", str(fleet), "--mqtt-dir", str(central.directory))
    assert code == 0 and out.count("is registered already: nothing changed") == 3, out
    assert {p.name: p.read_bytes() for p in central.directory.iterdir() if p.is_file()} == enrolled


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("id,tenant,name\nkm-a,kab-badung,A\n", ":1: missing columns home_port"),
        ("id,tenant,name,home_port,colour\n", ":1: unknown columns colour"),
        ("id,tenant,name,home_port,gt\nkm-a,kab-badung,A,Benoa,berat\n", ":2 (vessel 'km-a'): gt 'berat' is not a number"),
        ("id,tenant,name,home_port\nKM A,kab-badung,A,Benoa\n", ":2 (vessel 'KM A'): vessel id 'KM A' must match"),
        ("id,tenant,name,home_port\nkm-a,kab-badung,A,Benoa\nkm-a,kab-badung,B,Benoa\n", ":3: vessel 'km-a' again (first on line 2)"),
        ("id,tenant,name,home_port\nkm-a,kab-badung,A,Benoa,extra\n", ":2: more fields than the header has"),
        ("id,tenant,name,home_port,home_lat,home_lon\nkm-a,kab-badung,A,Benoa,nan,1\n", "home_lat 'nan' is not a finite number"),
        ("id,tenant,name,home_port\n", ": no boats"),
        ("id,tenant,name,home_port,gateway\nkm-a,kab-badung,A,Benoa,gw-x\nkm-b,kab-badung,B,Benoa,gw-x\n",
         ":3: gateway 'gw-x' again (first on line 2)"),
        ("id,tenant,name,home_port\nkm-a,kab-badung,A,Pantai Jimbaran\n",
         ":2 (vessel 'km-a'): no home position: 'Pantai Jimbaran' is not a port whose position Tepi knows (benoa ("),
    ],
)
def test_a_rejected_row_is_named_with_why(text: str, why: str, tmp_path: Path) -> None:
    from tepi.vessel_cli import read_fleet

    fleet = tmp_path / "fleet.csv"
    fleet.write_text(text)
    boats, rejected = read_fleet(fleet)
    assert any(line.startswith(str(fleet)) and why in line for line in rejected), rejected


def test_a_known_port_is_found_as_operators_write_it_and_any_other_needs_a_position(tmp_path: Path) -> None:
    from kinds.fishfinder.home_ports import HOME_PORTS, home_port_position
    from tepi.vessel_cli import read_fleet

    fleet = tmp_path / "fleet.csv"
    fleet.write_text("id,tenant,name,home_port\n" + "".join(
        f"km-{i},kab-badung,KM {i},{port}\n" for i, port in enumerate(("Pelabuhan Benoa", "PPN  benoa", "PPI Benoa", "BENOA"))
    ))  # fmt: skip
    boats, rejected = read_fleet(fleet)
    assert rejected == [] and len(boats) == 4
    assert {home_port_position(boat.home_port) for _, boat in boats} == {HOME_PORTS["benoa"].position}
    assert home_port_position("Pelabuhan") is None and home_port_position("Benoa Harbour") is None


def test_vessel_add_takes_its_help_s_example_port_and_refuses_a_boat_without_a_home(
    operator: CliRunner, central: MqttSecurityFiles, engine: Engine
) -> None:
    """Without a home position a vessel is never at sea by its fixes: no overdue alert would come."""
    add = ["vessel", "add", "km-uji", "-t", BADUNG, "-n", "KM Uji", "--mqtt-dir", str(central.directory)]
    code, out = _admin(operator, *add, "--home-port", "Pantai Jimbaran")
    assert code == 2 and "no home position: 'Pantai Jimbaran' is not a port whose position Tepi knows (benoa (" in out, out
    assert "--home-lat/--home-lon" in out and "overdue alert" in out
    code, out = _admin(operator, *add, "--home-port", "Pelabuhan Benoa")  # as the help's example writes it
    assert code == 0, out
    with Session(engine) as s:
        vessel = s.get(Vessel, "km-uji")
        assert vessel is not None and (vessel.home_port, vessel.home_lat, vessel.home_lon) == ("Pelabuhan Benoa", -8.7394, 115.2083)
    code, out = _admin(operator, "vessel", "add", "km-lain", "-t", BADUNG, "-n", "KM Lain", "--mqtt-dir", str(central.directory),
                       "--home-port", "benoa", "--gateway", GW)  # fmt: skip
    assert code == 1 and f"gateway '{GW}' is on board vessel 'km-uji' already" in out, out


def test_the_boat_gets_exactly_the_users_and_grants_setup_derives_and_nobody_else_changes(
    central: MqttSecurityFiles, default_config: TepiConfig, tmp_path: Path
) -> None:
    from tepi.boat_gateways import boat_gateway_config, grant_on_central_broker
    from tepi.mqtt_auth import MqttSecurityError

    before = central.credentials()
    boat = boat_gateway_config(default_config, "km-uji", BADUNG)
    grant = grant_on_central_broker(central.directory, boat)
    assert grant.users == (f"{GW}.alarms", f"{GW}.devices", f"{GW}.uplink", "km-uji") and grant.secret == GW
    assert {f.name for f in grant.changed} == {"credentials.json", "passwd", "acl"}
    after = central.credentials()
    assert {u: c for u, c in after.items() if u in before} == before, "every other user keeps its password"
    assert len({after[u].password for u in grant.users if u.startswith(GW)}) == 1, "the gateway's links share one"

    both = setup_broker_security([default_config, boat], tmp_path / "setup", persistence_dir=tmp_path / "unused")

    def blocks(files: MqttSecurityFiles) -> set[str]:
        return set(files.acl_file.read_text().rstrip("\n").split("\n\n"))

    assert blocks(central) == blocks(both)
    assert {(c.username, c.role, c.tenant, c.secret) for c in after.values()} == {
        (c.username, c.role, c.tenant, c.secret) for c in both.credentials().values()
    }
    passwd = {line.split(":")[0] for line in central.password_file.read_text().splitlines()}
    assert passwd == set(after)
    assert grant_on_central_broker(central.directory, boat).changed == ()

    clash = boat_gateway_config(default_config, "km-lain", BADUNG, device="awlr-depok")  # a river device's id
    with pytest.raises(MqttSecurityError, match="'awlr-depok' on the central broker is a device of dki-jakarta"):
        grant_on_central_broker(central.directory, clash)


def test_re_running_mqtt_setup_after_enrolment_keeps_the_boat_s_users_and_password(
    operator: CliRunner, central: MqttSecurityFiles, default_config: TepiConfig, tmp_path: Path
) -> None:
    """A boat at sea cannot be handed a new password: the operator's next `tepi mqtt setup` (same
    `--out`, only the central configuration named) keeps every enrolled boat as it was."""
    from tepi.mqtt_security import mqtt_app

    code, out = _admin(operator, "vessel", "add", "km-uji", "-t", BADUNG, "-n", "KM Uji", "--home-port", "benoa",
                       "--mqtt-dir", str(central.directory))  # fmt: skip
    assert code == 0, out
    enrolled = central.credentials()
    acl = set(central.acl_file.read_text().rstrip("\n").split("\n\n")[1:])  # grants, after the header
    central_yaml = tmp_path / "central.yaml"
    central_yaml.write_text(default_config.model_dump_json(), encoding="utf-8")

    result = CliRunner().invoke(mqtt_app, ["setup", "--out", str(central.directory), "-c", str(central_yaml),
                                           "--persistence-dir", str(tmp_path / "unused")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 gateways from" in result.output
    again = central.credentials()
    assert {u: c.password for u, c in again.items()} == {u: c.password for u, c in enrolled.items()}
    assert f"{GW}.uplink" in again and set(central.acl_file.read_text().rstrip("\n").split("\n\n")[1:]) == acl

    (central.directory / "boats" / f"{GW}.yaml").unlink()  # without the kept copy the boat would be gone
    result = CliRunner().invoke(mqtt_app, ["setup", "--out", str(central.directory), "-c", str(central_yaml),
                                           "--persistence-dir", str(tmp_path / "unused")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"{GW}.uplink" not in central.credentials()


def test_rotate_all_leaves_the_enrolled_boats_passwords_unless_named(
    operator: CliRunner, central: MqttSecurityFiles, default_config: TepiConfig, tmp_path: Path
) -> None:
    """`--rotate-all` after a leak rotates the centre's own users; a boat at sea cannot be handed a
    new password, so an enrolled boat's changes only when named with `--rotate`."""
    from tepi.mqtt_security import mqtt_app

    code, out = _admin(operator, "vessel", "add", "km-uji", "-t", BADUNG, "-n", "KM Uji", "--home-port", "benoa",
                       "--mqtt-dir", str(central.directory))  # fmt: skip
    assert code == 0, out
    before = central.credentials()
    central_yaml = tmp_path / "central.yaml"
    central_yaml.write_text(default_config.model_dump_json(), encoding="utf-8")
    setup = ["setup", "--out", str(central.directory), "-c", str(central_yaml), "--persistence-dir", str(tmp_path / "unused")]

    result = CliRunner().invoke(mqtt_app, [*setup, "--rotate-all"])
    assert result.exit_code == 0, result.output
    assert "--rotate-all leaves a boat's alone" in result.output and "rotated enrolled" not in result.output
    after = central.credentials()
    boat = {f"{GW}.uplink", f"{GW}.devices", f"{GW}.alarms", "km-uji"}
    assert {u: after[u].password for u in boat} == {u: before[u].password for u in boat}
    assert all(after[u].password != c.password for u, c in before.items() if u not in boat), "everyone else rotated"

    result = CliRunner().invoke(mqtt_app, [*setup, "--rotate-all", "--rotate", GW])
    assert result.exit_code == 0, result.output
    assert f"rotated enrolled {GW}:" in result.output
    again = central.credentials()
    assert again[f"{GW}.uplink"].password != after[f"{GW}.uplink"].password
    assert again["km-uji"].password == after["km-uji"].password, "only what was named"


@pytest.mark.parametrize(
    ("vessel", "gateway", "taken"),
    [("km-uji", "gw-ciliwung", "gw-ciliwung."), ("awlr-depok", "gw-km-uji", "awlr-depok")],
    ids=["a-river-gateway-s-id", "a-river-device-s-id"],
)
def test_a_boat_never_takes_over_users_the_deployment_already_has(
    operator: CliRunner, central: MqttSecurityFiles, vessel: str, gateway: str, taken: str
) -> None:
    """Enrolling a boat under the id of a river gateway or device of the same tenant would replace
    that user's grants with the boat's (the river gateway then reads one fish-finder: no Siaga
    alert) and hand its password to the boat's crew. Refused, and nothing changes."""
    before = {f: f.read_bytes() for f in (central.credentials_file, central.password_file, central.acl_file)}
    code, out = _admin(operator, "vessel", "add", vessel, "-t", "dki-jakarta", "-n", "KM Uji", "--home-port", "benoa",
                       "--gateway", gateway, "--mqtt-dir", str(central.directory))  # fmt: skip
    assert code != 0 and f"MQTT user '{taken}" in out and "exists on the central broker already" in out, out
    assert {f: f.read_bytes() for f in before} == before
    assert not (central.directory / "boats").exists() or not any((central.directory / "boats").iterdir())


def test_a_fleet_file_whose_rows_clash_with_each_other_registers_nothing_and_writes_nothing(
    operator: CliRunner, central: MqttSecurityFiles, tmp_path: Path
) -> None:
    """Row 2's gateway is named as row 1's vessel (whose fish-finder user carries that name):
    both cannot have it. Checked before anything is written."""
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("id,tenant,name,home_port,gateway\nkm-satu,kab-badung,KM Satu,benoa,gw-satu\n"
                     "km-dua,kab-badung,KM Dua,benoa,km-satu\n", encoding="utf-8")  # fmt: skip
    before = {f: f.read_bytes() for f in (central.credentials_file, central.password_file, central.acl_file)}
    code, out = _admin(operator, "vessel", "import", str(fleet), "--mqtt-dir", str(central.directory))
    assert code != 0 and "clash with vessel 'km-satu'" in out and "nothing registered" in out, out
    assert {f: f.read_bytes() for f in before} == before


def test_a_vessel_s_wind_limit_is_registered_or_none(
    operator: CliRunner, central: MqttSecurityFiles, engine: Engine, tmp_path: Path
) -> None:
    """`--wind-limit-kn` and the fleet file's `wind_limit_kn` register the boat's limit (routes
    avoid forecast wind above it); left out or 0, none is registered (0: routes take the tenant's
    small-boat limit, as for the wave limit); a negative one is refused."""
    mqtt_dir = str(central.directory)
    code, out = _admin(operator, "vessel", "add", "km-angin", "-t", BADUNG, "-n", "KM Angin", "--home-port", "benoa",
                       "--mqtt-dir", mqtt_dir, "--wind-limit-kn", "18")  # fmt: skip
    assert code == 0, out
    fleet = tmp_path / "fleet.csv"
    fleet.write_text(
        "id,tenant,name,home_port,wind_limit_kn\n"
        "jukung-11,kab-badung,Jukung Sebelas,Pelabuhan Benoa,12.5\n"
        "jukung-12,kab-badung,Jukung Duabelas,Pelabuhan Benoa,\n"
    )
    code, out = _admin(operator, "vessel", "import", str(fleet), "--mqtt-dir", mqtt_dir)
    assert code == 0, out
    with Session(engine) as s:
        winds = {v.id: v.wind_limit_kn for v in s.scalars(sa.select(Vessel))}
    assert winds == {"km-angin": 18.0, "jukung-11": 12.5, "jukung-12": 0.0}
    fleet.write_text("id,tenant,name,home_port,wind_limit_kn\njukung-13,kab-badung,Jukung Tigabelas,Pelabuhan Benoa,-3\n")
    code, out = _admin(operator, "vessel", "import", str(fleet), "--mqtt-dir", mqtt_dir)
    assert code != 0 and "wind_limit_kn must be zero or more" in out and "nothing registered" in out, out
