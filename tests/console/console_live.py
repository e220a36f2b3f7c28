"""A live deployment for the browser tests: two regencies, each with its gauges, its gateway and
its people, and everything between a device and the browser real.

    devices (MQTT, each its own generated login)
      -> Mosquitto configured by `setup_broker_security` (`tepi mqtt setup`: passwords, ACL, queues)
      -> `tepi gateway` x 2 (gw-ciliwung of DKI Jakarta, gw-badung of Kabupaten Badung)
      -> outbox -> uplink -> `tepi ingest` (SQLite state store; the notifier sends mail to the
         local SMTP server) -> `tepi api` in production mode, serving the console at `/`.

Each part is its own process started through the `tepi` CLI, as `tests/test_end_to_end.py`
starts them, on its generated login (`bench.core.deployed_credentials`, as `bench/alert_latency`
runs them). People sign in with passwords; machines (this fixture's own checks) use API keys.

A plain module (not conftest) so that tests import its names.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import yaml

from api.testing import TEST_PEPPER, bearer, issue_keys
from bench.core import DeployedBroker, deployed_broker, deployed_credentials, stop_processes
from central.db import create_engine, prepare_database
from contract.clock import utcnow
from contract.topics import device_topic
from core.config import TepiConfig, load_config, parse_config, with_local_services
from core.processes import free_port, wait_for_port
from core.testing import wait_until
from kinds.awlr import wire

DKI, BADUNG = "dki-jakarta", "kab-badung"
GW_DKI, GW_BADUNG = "gw-ciliwung", "gw-badung"
#: Badung's gauge gets a device and a gateway here (the shipped configuration declares the
#: station only).
BADUNG_STATION, BADUNG_DEVICE = "tukad-mati-kuta", "awlr-tukad-mati"
SMTP_FROM = "peringatan@tepi.example.go.id"


@dataclass(frozen=True)
class Person:
    """Someone who signs in to the console."""

    tenant: str
    role: str
    name: str
    password: str
    email: str


OFFICER = Person(DKI, "disaster_office", "Petugas Pusdalops", "Banjir-Katulampa-80cm", "petugas.pusdalops@bpbd.example.go.id")
SUPERVISOR = Person(DKI, "disaster_office", "Kepala Pusdalops", "Siaga-Dua-Manggarai!", "kepala.pusdalops@bpbd.example.go.id")
ADMIN = Person(DKI, "admin", "Admin BPBD DKI", "Pintu-Air-Depok-2025", "admin@bpbd.example.go.id")
VIEWER = Person(DKI, "viewer", "Layar Ruang Rapat", "Hanya-Melihat-Peta-7", "layar@bpbd.example.go.id")
BADUNG_OFFICER = Person(BADUNG, "disaster_office", "Petugas BPBD Badung", "Tukad-Mati-Kuta-150", "pusdalops@bpbd.badungkab.example.go.id")
PEOPLE = (OFFICER, SUPERVISOR, ADMIN, VIEWER, BADUNG_OFFICER)
#: DKI's escalation: an open Siaga alert nobody acknowledged goes to the next person of the chain,
#: every quarter of a minute here (15 by default) so that the test waits seconds.
ESCALATION_CHAIN = (OFFICER.name, SUPERVISOR.name)
ESCALATION_AFTER_MIN = 0.25

#: What of Badung's must never reach a page a DKI Jakarta user sees: its station (id, name,
#: river), its gateway and device, and its person.
BADUNG_SECRETS = (BADUNG_STATION, "Pos Tukad Mati Kuta", "Tukad Mati", GW_BADUNG, BADUNG_DEVICE, BADUNG_OFFICER.name)


def deployment_configs(broker_port: int, api_port: int, work: Path) -> tuple[TepiConfig, TepiConfig]:
    """The shipped deployment for DKI Jakarta's gateway (Katulampa's gauge on MQTT, so a test can
    be the device), DKI's escalation chain, and Badung's gateway with a device at its gauge. One
    file per gateway, as each site has its own; ingest and the API read DKI's (every tenant and
    station is in both)."""
    base = load_config().model_dump(mode="json")
    for tenant in base["tenants"]:
        if tenant["id"] == DKI:
            tenant["escalation"] = {"after_min": ESCALATION_AFTER_MIN, "alert_types": ["siaga"], "chain": list(ESCALATION_CHAIN)}
        if tenant["id"] == BADUNG:
            tenant["timezone"] = "Asia/Makassar"
    base["devices"] = [d | {"transport": "mqtt"} for d in base["devices"]]
    dki = with_local_services(parse_config(base), broker_port, work / GW_DKI, api_port=api_port)
    badung = base | {
        "devices": [{"id": BADUNG_DEVICE, "kind": "awlr", "platform": BADUNG_STATION, "transport": "mqtt"}],
        "gateway": base["gateway"] | {"id": GW_BADUNG, "tenant": BADUNG},
    }
    return dki, with_local_services(parse_config(badung), broker_port, work / GW_BADUNG, api_port=api_port)


class Device:
    """A field AWLR publishing its readings as itself (its generated MQTT login), one a minute
    of device time, with its own sequence numbers."""

    def __init__(self, broker: DeployedBroker, tenant: str, device: str, station: str) -> None:
        self.station, self.topic = station, device_topic(tenant, device)
        self.seq = 0
        self.last_at: datetime | None = None
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=device)
        self._client.username_pw_set(*broker.login(device))
        self._client.connect("127.0.0.1", broker.port)
        self._client.loop_start()

    def send(self, levels_cm: list[float], start: datetime | None = None) -> None:
        """Publish `levels_cm` a minute apart (device time) from `start`, else ending now if the
        last reading allows (a minute after it at the earliest). The gateway refuses readings
        more than `max_future_skew_s` (5 min) ahead of its clock: a few readings at a time."""
        if start is None:
            now = utcnow().replace(microsecond=0)
            start = max(now - timedelta(minutes=len(levels_cm) - 1), (self.last_at or now) + timedelta(minutes=1))
        ahead = start + timedelta(minutes=len(levels_cm) - 1) - utcnow()
        assert ahead < timedelta(seconds=285), f"device time {ahead} ahead of the gateway's clock: it would refuse the readings"
        at = start
        for level in levels_cm:
            frame = wire.AwlrFrame(self.station, self.seq, at.replace(microsecond=0), round(level, 1), 12.6)
            info = self._client.publish(self.topic, wire.encode_json(frame), qos=1)
            info.wait_for_publish(5)
            assert info.is_published(), f"{self.topic}: reading {self.seq} not published"
            self.seq, self.last_at = self.seq + 1, at
            at += timedelta(minutes=1)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@dataclass
class Processes:
    """`tepi` processes of the deployment, each logging to a file in `work`."""

    work: Path
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.work / f"{name}.log", "wb")  # noqa: SIM115 - the process writes it until stopped
        proc = subprocess.Popen([sys.executable, "-m", "tepi.cli", *args], stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.work)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.work / f"{name}.log").read_text(errors="replace")

    def wait_logged(self, name: str, message: str, timeout: float = 60) -> None:
        """Until process `name` logged `message` (the `msg` of one of its JSON log lines starts with it)."""
        def logged() -> bool:
            assert self.procs[name].poll() is None, f"{name} exited:\n{self.log(name)[-3000:]}"
            return any(_message(line).startswith(message) for line in self.log(name).splitlines())
        wait_until(logged, timeout, f"{name} to log {message!r}", every_s=0.1)

    def stop_all(self) -> None:
        stop_processes(list(self.procs.values()))

    def tails(self) -> str:
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in self.procs)


def _message(line: str) -> str:
    try:
        return str(json.loads(line).get("msg", ""))
    except (ValueError, AttributeError):
        return line


@dataclass
class LiveConsole:
    """The running deployment: where the console is, the devices, and a machine's API key per tenant."""

    base_url: str
    api: str
    config: TepiConfig
    processes: Processes
    devices: dict[str, Device]
    keys: dict[str, str]
    database_url: str

    def http(self, tenant: str = DKI) -> httpx.Client:
        """The API as a machine of `tenant` sees it (its admin's key)."""
        return httpx.Client(base_url=self.api, headers=bearer(self.keys[tenant]), timeout=10)

    def alerts(self, tenant: str = DKI, **params: Any) -> list[dict[str, Any]]:
        with self.http(tenant) as http:
            r = http.get("/alerts", params={"limit": 100, **params})
            r.raise_for_status()
            return list(r.json()["data"])

    def open_alert(self, station: str, kind: str = "siaga", tenant: str = DKI) -> dict[str, Any] | None:
        found = [a for a in self.alerts(tenant, status="active", type=kind) if a["station"] == station]
        return found[0] if found else None


def _create_people(database_url: str, people: tuple[Person, ...]) -> None:
    """Users with passwords (and the address their mail goes to), as `tepi admin user` makes them."""
    from sqlalchemy.orm import Session

    from central import accounts
    from central.db import writer

    engine = create_engine(database_url)
    try:
        with Session(writer(engine)) as s, s.begin():
            for p in people:
                user = accounts.create_user(s, p.tenant, p.name, p.role)
                accounts.set_password(s, user, p.password, utcnow())
                accounts.set_email(s, user, p.email)
    finally:
        engine.dispose()


def _levels(start: float, step: float, n: int) -> list[float]:
    """A gauge's readings: a steady trend with a little wobble (never a flat line QC would doubt)."""
    return [start + step * i + (0.3 if i % 2 else -0.3) for i in range(n)]


#: The story every test starts from, a reading a minute for the last 45 minutes: Katulampa and
#: Manggarai normal, Depok slowly past its Siaga 3 bound (200 cm; an open alert nobody
#: acknowledges, so it escalates), Badung's Tukad Mati past its own (150 cm).
SEED_MINUTES = 45
SEED = {
    "awlr-katulampa": _levels(50.0, 0.0, SEED_MINUTES),
    "awlr-depok": _levels(190.0, 0.5, SEED_MINUTES),
    "awlr-manggarai": _levels(700.0, 0.1, SEED_MINUTES),
    BADUNG_DEVICE: _levels(140.0, 0.5, SEED_MINUTES),
}


@contextmanager
def live_console(work: Path, smtp_port: int) -> Iterator[LiveConsole]:
    """Start the deployment in `work`, seed it, and yield it once both tenants' data is in the API."""
    api_port = free_port()
    with ExitStack() as stack:
        draft = deployment_configs(1, api_port, work)
        broker = stack.enter_context(deployed_broker(work / "broker", list(draft), persistence=True))
        dki, badung = (deployed_credentials(c, broker, broker) for c in deployment_configs(broker.port, api_port, work))
        for cfg in (dki, badung):
            (work / f"{cfg.gateway.id}.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
        database_url = dki.ingest.database_url
        engine = create_engine(database_url)
        prepare_database(engine, dki)  # as `tepi admin db upgrade` before the first start
        keys = issue_keys(engine, TEST_PEPPER, [(DKI, "admin", "Pemantau Uji DKI"), (BADUNG, "admin", "Pemantau Uji Badung")])
        engine.dispose()
        _create_people(database_url, PEOPLE)

        base_url = f"http://127.0.0.1:{api_port}"
        # Production, as deployed: the deployment's pepper, its address, its mail relay.
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEPI_")} | {
            "TEPI_AUTH_PEPPER": TEST_PEPPER,
            "TEPI_PUBLIC_BASE_URL": base_url,
            "TEPI_SMTP_HOST": "127.0.0.1",
            "TEPI_SMTP_PORT": str(smtp_port),
            "TEPI_SMTP_FROM": SMTP_FROM,
        }
        procs = Processes(work, env)
        stack.callback(procs.stop_all)
        dki_file, badung_file = str(work / f"{GW_DKI}.yaml"), str(work / f"{GW_BADUNG}.yaml")
        procs.start("ingest", "ingest", "-c", dki_file)
        api = procs.start("api", "api", "-c", dki_file, "--port", str(api_port))
        procs.wait_logged("ingest", "connected to broker")
        procs.start(GW_DKI, "gateway", "-c", dki_file)
        procs.start(GW_BADUNG, "gateway", "-c", badung_file)
        for gw in (GW_DKI, GW_BADUNG):
            procs.wait_logged(gw, "listening for devices")
            procs.wait_logged(gw, "uplink connected")
        wait_for_port(api_port, timeout=60, proc=api)

        devices = {d.id: Device(broker, DKI, d.id, d.platform) for d in dki.devices}
        devices[BADUNG_DEVICE] = Device(broker, BADUNG, BADUNG_DEVICE, BADUNG_STATION)
        for device in devices.values():
            stack.callback(device.close)
        start = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=SEED_MINUTES)
        for device_id, levels in SEED.items():
            devices[device_id].send(levels, start)

        live = LiveConsole(base_url, f"{base_url}/api/v1", dki, procs, devices, {DKI: keys[(DKI, "Pemantau Uji DKI")], BADUNG: keys[(BADUNG, "Pemantau Uji Badung")]}, database_url)
        try:
            wait_until(lambda: live.open_alert("depok") is not None, 90, "Depok's Siaga alert at the API", every_s=0.5)
            wait_until(lambda: live.open_alert(BADUNG_STATION, tenant=BADUNG) is not None, 90, "Tukad Mati's Siaga alert at the API", every_s=0.5)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{procs.tails()}") from exc
        yield live
