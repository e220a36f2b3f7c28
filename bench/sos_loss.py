"""sos_loss: SOS presses a boat's broker PUBACKed against SOS calls recorded centrally, across
`kill -9` of the gateway on board, a cut uplink and a stopped central broker.

As deployed, every part a process of its own on loopback: the boat's fish-finder (the kind's
simulator, `kinds.fishfinder.sim.boat.BoatInstruments`, its NMEA lines and `$PTEPD` distress
sentences as `kinds.fishfinder.wire` encodes them, one MQTT payload per simulated second, QoS 1,
its generated login) → the boat's Mosquitto (`tepi mqtt setup`'s config for the boat) → `tepi
gateway` with the configuration `tepi.boat_gateways.boat_gateway_config` makes for the boat →
a TCP relay standing for the boat's cellular link (`LinkRelay`: cut drops every connection and
refuses new ones) → the central Mosquitto (`tepi mqtt setup`'s config) → `tepi ingest` (SQLite
state, no TSDB).

The button is pressed `presses` times, each press held `HOLD_S` simulated seconds (so one active
`$PTEPD` a press: the worst case, `DISTRESS_REPEAT_S` is 10) and released (the device then
sends its cancel), one every `GAP_S`: each press is an incident of its own (the cancel closes
it), and a distinct press number on `sos_calls`. Meanwhile faults, one after another from a
seeded random schedule, each restored after a random while: the gateway killed (SIGKILL) at a
random moment, or right after the broker PUBACKed a press, or while ingest is paused (SIGSTOP:
the uplink's window holds published calls ingest has not acknowledged), or twice (the second
time while it starts up and replays its journal), then restarted from its outbox; the link cut; the central broker stopped; a cut link with the gateway killed during it;
a stopped central broker with the gateway killed during it.

Counted once everything is restored and arrivals stop: a press is PUBACKed when the boat's
broker acknowledged a payload carrying its active `$PTEPD`; it is recorded when ingest stored an
active call (`SosCall`) of that press number. Lost = PUBACKed − recorded (target 0). Duplicates:
active calls beyond one a press (repeats, each its own item) and presses whose calls landed in
more than one incident (must be 0). Delivery after restore: per fault, from its restore to the last of the
presses PUBACKed before it that were stored after it; the next fault waits for them (at most
`DELIVERY_WAIT_S`), so each delay is one fault's.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import sqlalchemy as sa
import yaml
from sqlalchemy.orm import Session

from bench.core import (
    REPO, Context, Figure, Result, deployed_broker, deployed_credentials, device_logins, percentile, stop_processes, wait_settled, wait_until,
)
from central.db import create_engine, prepare_database, writer
from central.models import ALERT_TYPE_SOS, Alert
from contract.clock import utcnow
from contract.topics import device_topic
from core.config import BrokerConfig, TepiConfig, parse_config, with_local_services
from core.processes import free_port
from kinds.fishfinder.sim.boat import BoatInstruments, SosPress, SounderSettings, boat_seed
from kinds.fishfinder.sim.voyage import DEFAULT_FLEET, plan_fleet
from kinds.fishfinder.state import SosCall, register_vessel
from kinds.fishfinder.values import Distress
from tepi.boat_gateways import boat_gateway_config, boat_gateway_id

NAME = "sos_loss"
BOAT = DEFAULT_FLEET[0]
SPEEDUP = 5.0  # simulated seconds per real second: a press every GAP_S / SPEEDUP real seconds
FIRST_S = 3600  # the device starts an hour into the trip, at sea
HOLD_S, GAP_S = 3, 20  # simulated seconds a press is held; between presses
SETTLE_TIMEOUT_S, SETTLE_IDLE_S = 180.0, 45.0
DELIVERY_WAIT_S = 60.0  # after a restore, the next fault waits this long at most for the presses held back
FAULTS = ("kill", "kill_after_puback", "kill_inflight", "kill_twice", "link_cut", "central_down", "link_cut+kill", "central_down+kill")


class LinkRelay:
    """The boat's uplink as a TCP relay on a fixed loopback port: `cut` closes every connection
    and stops listening (the gateway sees its link drop and connects in vain), `restore` listens
    again. Bytes pass unchanged."""

    def __init__(self, target_port: int) -> None:
        self.target, self.port = target_port, free_port()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def restore(self) -> None:
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", self.port))
        srv.listen(16)
        self._listener = srv
        threading.Thread(target=self._accept, args=(srv,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            socks, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for s in [*socks, *([listener] if listener else [])]:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def _accept(self, srv: socket.socket) -> None:
        while True:
            try:
                a, _ = srv.accept()
            except OSError:
                return  # cut
            try:
                b = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                a.close()  # the central broker is down: the gateway's connect fails
                continue
            with self._lock:
                if self._listener is not srv:
                    a.close(), b.close()
                    return
                self._sockets += [a, b]
            for x, y in ((a, b), (b, a)):
                threading.Thread(target=self._pump, args=(x, y), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


@dataclass
class FishFinder:
    """The boat's fish-finder on its own MQTT connection: one payload a simulated second, in
    real time `SPEEDUP` times faster; remembers when the broker PUBACKed each press."""

    instruments: BoatInstruments
    port: int
    login: tuple[str, str]
    topic: str
    first: int
    seconds: int
    pubacked: dict[int, float] = field(default_factory=dict)  # press number -> wall time (epoch) of its PUBACK
    sent_presses: set[int] = field(default_factory=set)
    on_puback: list[threading.Event] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._mids: dict[int, list[int]] = {}
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.login[0], clean_session=True)
        self.client.username_pw_set(*self.login)
        self.client.max_inflight_messages_set(20)
        self.client.on_publish = self._acked
        self.done = threading.Event()

    def _acked(self, client: object, userdata: object, mid: int, reason: object, props: object) -> None:
        with self._lock:
            presses = self._mids.pop(mid, [])
            for p in presses:
                self.pubacked.setdefault(p, time.time())
            waiting = list(self.on_puback) if presses else []
        for ev in waiting:
            ev.set()

    def run(self) -> None:
        try:
            self._play()
        finally:
            self.done.set()

    def _play(self) -> None:
        self.client.connect("127.0.0.1", self.port)
        self.client.loop_start()
        t0 = time.monotonic()
        for k in range(self.seconds):
            delay = t0 + k / SPEEDUP - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            lines = self.instruments.lines(self.first + k, 1)
            presses = [ln.value.seq for ln in lines if isinstance(ln.value, Distress) and ln.value.active]
            with self._lock:
                info = self.client.publish(self.topic, b"".join(ln.wire for ln in lines), qos=1)
                if presses:
                    self._mids[info.mid] = presses
                    self.sent_presses.update(presses)
        deadline = time.monotonic() + 30
        while self._mids and time.monotonic() < deadline:
            time.sleep(0.1)
        self.client.disconnect()
        self.client.loop_stop()


class BoatGateway:
    """`tepi gateway` for the boat, as a process: started, killed with SIGKILL, started again."""

    def __init__(self, config_file: Path, work: Path, env: dict[str, str]) -> None:
        self.config_file, self.work, self.env = config_file, work, env
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = self.kills = 0
        self.log = work / "gateway.log"

    def start(self, wait: bool = False) -> None:
        before = self._listening()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "tepi.cli", "gateway", "-c", str(self.config_file), "--log-level", "INFO"],
                                         stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.work)
        self.starts += 1
        deadline = time.monotonic() + 60
        while wait and self._listening() == before and time.monotonic() < deadline:
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def _listening(self) -> int:
        return self.log.read_text(errors="replace").count("listening for devices") if self.log.exists() else 0


def boat_config(work: Path, local_port: int, central_port: int, relay_port: int) -> TepiConfig:
    base = with_local_services(parse_config({"tenants": [{"id": BOAT.tenant, "name": "Badung"}], "stations": [], "devices": [],
                                             "gateway": {"id": "gw-central", "tenant": BOAT.tenant}}), central_port, work)
    return boat_gateway_config(base, BOAT.boat_id, BOAT.tenant, local_broker=BrokerConfig(host="127.0.0.1", port=local_port),
                               uplink_broker=BrokerConfig(host="127.0.0.1", port=relay_port), outbox=work / "boat" / "outbox.db")


def recorded(db_url: str) -> list[tuple[int, int, datetime, bool]]:
    """(press, incident, received_at, active) of every call ingest stored: presses, repeats, cancels."""
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            return [tuple(r) for r in s.execute(sa.select(SosCall.press, SosCall.alert_id, SosCall.received_at, SosCall.active)
                                                 .where(SosCall.vessel_id == BOAT.boat_id))]  # type: ignore[misc]
    finally:
        engine.dispose()


def sos_incidents(db_url: str) -> dict[int, float | None]:
    """Every SOS incident of the boat centrally (`central.incidents`: an alert of type 'sos'),
    with when it was closed (epoch s; None: still open)."""
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            rows = s.execute(sa.select(Alert.id, Alert.closed_at).where(Alert.kind == "fishfinder", Alert.type == ALERT_TYPE_SOS,
                                                                        Alert.subject == BOAT.boat_id))
            return {i: None if at is None else epoch(at) for i, at in rows}
    finally:
        engine.dispose()


def epoch(at: datetime) -> float:
    """A time the state DB gave back (UTC, naive on SQLite) as epoch seconds."""
    return (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).timestamp()


def wait_for_log(path: Path, text: str, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return True
        time.sleep(0.1)
    return False


class Faults:
    """The fault schedule, run while the device presses: each fault, then its restore."""

    def __init__(self, rng: random.Random, gateway: BoatGateway, relay: LinkRelay, central: object, ingest: subprocess.Popen[bytes],
                 device: FishFinder) -> None:
        self.rng, self.gw, self.relay, self.central, self.ingest, self.device = rng, gateway, relay, central, ingest, device
        self.log: list[dict[str, object]] = []

    def run(self, kind: str) -> None:
        r, started = self.rng, time.time()
        down = r.uniform(0.5, 6.0)
        if kind == "kill_after_puback":
            ev = threading.Event()
            self.device.on_puback.append(ev)
            ev.wait(30)
            self.device.on_puback.remove(ev)
            self.gw.kill()
            time.sleep(down)
            self.gw.start()
        elif kind in ("kill", "kill_twice"):
            self.gw.kill()
            time.sleep(down)
            self.gw.start()
            if kind == "kill_twice":  # again while it starts up and replays its journal
                time.sleep(r.uniform(0.2, 2.0))
                self.gw.kill()
                self.gw.start()
        elif kind == "kill_inflight":
            self.ingest.send_signal(signal.SIGSTOP)  # published calls stay unacknowledged by ingest
            time.sleep(r.uniform(2.0, 6.0))
            self.gw.kill()
            time.sleep(down)
            self.gw.start()
            self.ingest.send_signal(signal.SIGCONT)
        elif kind.startswith(("link_cut", "central_down")):
            cut = kind.startswith("link_cut")
            self.relay.cut() if cut else self.central.stop()  # type: ignore[attr-defined]
            out = r.uniform(3.0, 15.0)
            if kind.endswith("+kill"):
                time.sleep(r.uniform(0.5, out))
                self.gw.kill()
                time.sleep(down)
                self.gw.start()
            time.sleep(out)
            self.relay.restore() if cut else self.central.start()  # type: ignore[attr-defined]
        self.log.append({"fault": kind, "at": started, "restored": time.time()})


def run(ctx: Context) -> Result:
    presses = ctx.scale(60, 12)
    seed = 19
    res = Result(NAME, f"{presses} SOS presses on a boat across gateway kill -9, link cuts and central broker stops: PUBACKed vs recorded")
    work = ctx.work / NAME
    shutil.rmtree(work, ignore_errors=True)
    (work / "boat").mkdir(parents=True)
    plan = next(p for p in plan_fleet((utcnow() - timedelta(days=1)).date(), np.random.default_rng(seed)) if p.boat_id == BOAT.boat_id)
    start = plan.departure + timedelta(seconds=FIRST_S)
    press_list = [SosPress(start + timedelta(seconds=5 + GAP_S * k), release=start + timedelta(seconds=5 + GAP_S * k + HOLD_S)) for k in range(presses)]
    instruments = BoatInstruments(plan, boat_seed(seed, BOAT.boat_id), SounderSettings(baud=4800), press_list)
    seconds = 5 + GAP_S * presses + 40  # the last cancel's repeats too
    env = {**os.environ, "TEPI_MODE": "demo", "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    sized = boat_config(work, 1, 1, 1)
    procs: list[subprocess.Popen[bytes]] = []
    with deployed_broker(work / "boat-broker", [sized]) as local, deployed_broker(work / "central-broker", [sized]) as central:
        relay = LinkRelay(central.port)
        relay.restore()
        cfg = deployed_credentials(boat_config(work, local.port, central.port, relay.port), local, central)
        (work / "tepi.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
        engine = create_engine(cfg.ingest.database_url)
        prepare_database(engine, cfg)
        with Session(writer(engine)) as s, s.begin():
            register_vessel(s, vessel_id=BOAT.boat_id, tenant=BOAT.tenant, name="KM Uji", home_port="Kedonganan",
                            gateway_id=boat_gateway_id(BOAT.boat_id), now=utcnow())
        engine.dispose()
        device_id = cfg.devices[0].id
        device = FishFinder(instruments, local.port, device_logins(local, [device_id])[device_id], device_topic(BOAT.tenant, device_id),
                            FIRST_S, seconds)
        gateway = BoatGateway(work / "tepi.yaml", work, env)
        try:
            with open(work / "ingest.log", "ab") as log:
                ingest = subprocess.Popen([sys.executable, "-m", "tepi.cli", "ingest", "-c", str(work / "tepi.yaml"), "--log-level", "INFO"],
                                          stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
            procs.append(ingest)
            if not wait_for_log(work / "ingest.log", "connected to broker"):
                raise RuntimeError("ingest did not connect")
            time.sleep(1.0)  # its subscription: from here on its session queues the boat's uplink, as deployed
            gateway.start(wait=True)  # its persistent session on the boat's broker exists from here on
            faults = Faults(random.Random(seed), gateway, relay, central, ingest, device)
            dev = threading.Thread(target=device.run, daemon=True)
            dev.start()
            t_start = time.monotonic()
            n = 0
            while not device.done.is_set():
                time.sleep(faults.rng.uniform(1.0, 5.0))
                if device.done.is_set():
                    break
                faults.run(FAULTS[n % len(FAULTS)])
                n += 1
                # The next fault once what this one held back is stored: each delay is its own.
                held = {p for p, t in dict(device.pubacked).items() if t < faults.log[-1]["restored"]}  # type: ignore[operator]
                wait_until(lambda: held <= {p for p, _i, _t, active in recorded(cfg.ingest.database_url) if active}, DELIVERY_WAIT_S, poll=0.2)
            dev.join()
            pressing_s = time.monotonic() - t_start
            acked = set(device.pubacked)
            how = wait_settled(lambda: len({p for p, _i, _t, active in recorded(cfg.ingest.database_url) if active}),
                               lambda v: v >= len(acked) and v >= presses, SETTLE_TIMEOUT_S, SETTLE_IDLE_S)
            every_call = recorded(cfg.ingest.database_url)
            incident_ids = sos_incidents(cfg.ingest.database_url)
        finally:
            if gateway.proc is not None:
                procs.append(gateway.proc)
            stop_processes(procs)
            relay.cut()
    calls = [(p, i, at) for p, i, at, active in every_call if active]
    got = {p for p, *_ in calls}
    lost = sorted(acked - got)
    incidents: dict[int, set[int]] = defaultdict(set)
    first_at: dict[int, float] = {}
    for p, incident, at in calls:
        incidents[p].add(incident)
        first_at[p] = min(first_at.get(p, float("inf")), epoch(at))
    cancel_at: dict[int, float] = {}
    for p, _i, at, active in every_call:
        if not active:
            cancel_at[p] = min(cancel_at.get(p, float("inf")), epoch(at))
    # A press whose incident closed before its own cancel arrived: its SOS was ended by another's.
    closed_early = sorted(p for p, i in incidents.items() if any(incident_ids.get(k) is not None and incident_ids[k] < cancel_at.get(p, float("inf"))  # type: ignore[operator]
                                                                  for k in i))
    split = sorted(p for p, i in incidents.items() if len(i) > 1)
    shared = len(got) - len(set().union(*incidents.values())) if incidents else 0
    phantom = sorted(set(incident_ids) - {i for _p, i, _t in calls})  # opened by a cancel alone
    after_restore: list[float] = []
    for k, f in enumerate(faults.log):  # the presses PUBACKed before the restore and stored after it
        waited = [first_at.get(p, float("inf")) - f["restored"] for p, t in device.pubacked.items() if t < f["restored"] < first_at.get(p, float("inf"))]  # type: ignore[operator]
        f["presses_held"], f["delivered_after_restore_s"] = len(waited), round(max(waited), 2) if waited else None
        if waited:
            after_restore.append(max(waited))
    res.figures.append(Figure("SOS presses lost (PUBACKed by the boat's broker, not recorded centrally)", len(lost), "presses", target="<= 0",
                              target_of="value", note=f"{len(acked)} PUBACKed, {len(got)} recorded; {len(faults.log)} faults, settle {how}"))
    res.figures.append(Figure("SOS presses in more than one incident", len(split), "presses", target="<= 0", target_of="value",
                              note=f"{len(calls) - len(got)} extra active calls (repeats); {shared} presses shared another's incident"))
    res.figures.append(Figure("SOS incidents without a press (a cancel alone)", len(phantom), "incidents", target="<= 0", target_of="value",
                              note=f"{len(incident_ids)} incidents for {len(got)} presses recorded"))
    res.figures.append(Figure("SOS presses whose incident closed before their own cancel arrived", len(closed_early), "presses", target="<= 0",
                              target_of="value", note="closed by another press's cancel"))
    res.figures.append(Figure("delivery after restore, worst fault", max(after_restore) if after_restore else None, "s",
                              note=f"median {percentile(after_restore, 50) or 0:.1f} s over {len(after_restore)} faults that held presses back"))
    res.details = {
        "presses": presses, "pubacked": len(acked), "sent": len(device.sent_presses), "recorded": len(got), "lost": lost,
        "active_calls": len(calls), "calls": len(every_call), "incidents": len(incident_ids), "phantom_incidents": phantom, "closed_early": closed_early,
        "split_presses": split, "gateway_starts": gateway.starts, "gateway_kills": gateway.kills,
        "pressing_s": round(pressing_s, 1), "settle": how, "faults": faults.log, "speedup": SPEEDUP, "hold_s": HOLD_S, "gap_s": GAP_S,
    }
    return res


if __name__ == "__main__":  # python -m bench.sos_loss [--quick]
    from bench.core import WORK_DIR

    r = run(Context(quick="--quick" in sys.argv, work=WORK_DIR))
    print(json.dumps({"figures": [{k: v for k, v in f.__dict__.items() if k in ("name", "value", "note")} for f in r.figures],
                      "details": r.details}, indent=1, default=str))
