"""The boats of `tepi demo`: fishing boats beside the rivers, each with its gateway on board.

What runs per boat is what a boat carries: its own small broker (the phone or router on board
bridging the fish-finder's NMEA multiplexer), the fish-finder (`BoatSimulation`, one boat,
MQTT), and its gateway (`EdgeGateway` with its own outbox) uplinking to the demo's central
broker. One shared broker for all would put every boat of a tenant on every gateway's device
subscription (`tepi/<tenant>/dev/+/up`), which no boat at sea has. A Mosquitto per boat costs
about a megabyte; without Mosquitto, an embedded amqtt per boat.

Time: each boat replays a day's trip (`kinds.fishfinder.sim.runner`) from shortly before it
reaches its fishing ground, `speed` times faster than real time, so schools come within
seconds; the trip is moved (`BoatSimulation.end_trips_now`) so that the boat comes home as
the replay meets the real clock. Its values carry GNSS times of the last hours (at 60x, a
six-hour trip is replayed in six minutes and stamped from six hours ago until now): the
default last 24 h of a track show it. The SOS repeats the gateway adds carry now.

The story (`BoatStory`): a school is found (ingest's state), the demo fisher of the first
boat's tenant reports a catch (POST /catches), the SOS of that boat is pressed, the tenant's
disaster office acknowledges it (POST /sos/{id}/acknowledge), and the boat's gateway sounds
"help acknowledged" on its local alarm topic.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import paho.mqtt.client as mqtt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from contract.clock import utcnow
from contract.topics import alarm_topic
from core.config import BrokerConfig, TepiConfig
from core.processes import EmbeddedBroker, Mosquitto
from kinds.fishfinder.sim.harbours import HARBOURS
from kinds.fishfinder.sim.voyage import DEFAULT_FLEET, PHASES, BoatDay, VoyagePlan
from tepi.boat_gateways import boat_gateway_config

if TYPE_CHECKING:
    from rich.console import Console

    from gateway.runtime import EdgeGateway
    from kinds.fishfinder.sim.runner import BoatSimulation

log = logging.getLogger("tepi.demo")

#: Three boats of Badung and one of Indramayu (`kinds.fishfinder.sim.voyage.DEFAULT_FLEET`).
DEMO_BOATS = ("jukung-kdg-01", "jukung-jbr-01", "kapal-bno-01", "perahu-krs-01")
#: Where a demo boat fishes instead of its usual ground: the three Badung boats share the ground
#: south of the Bukit, so the fishing grounds (published from three vessels on) have one to show,
#: and the Benoa boat's way there goes around the peninsula as the route planner's does.
DEMO_GROUNDS = {"kapal-bno-01": "selatan-bukit"}
#: Pings a boat sends per real second: enough that a school burst comes every ~10 simulated
#: minutes at 60x (`EchogramDecimation.for_speedup`), little enough for two cores.
PING_BUDGET_PER_REAL_S = 24.0
#: The story stops waiting for a fishing ground this long after the start.
GROUNDS_WAIT_S = 150.0
#: The story presses the SOS this long after the start if no school was found by then.
SOS_AFTER_S = 40.0
_FISHING = PHASES.index("fishing")


def fishing_starts(plan: VoyagePlan) -> datetime:
    """When the boat first fishes: the demo starts its trip a little before, so schools come soon."""
    t = np.arange(0.0, plan.duration_s, 30.0)
    fishing = np.flatnonzero(plan.sample(t).phase == _FISHING)
    return plan.departure + timedelta(seconds=float(t[fishing[0]] if fishing.size else 0.0))


@dataclass
class BoatSummary:
    """One boat's line of the closing table."""

    vessel: str
    tenant: str
    positions: int = 0
    schools: int = 0
    catches: int = 0
    sos: list[str] = field(default_factory=list)  # "incident 7: acknowledged"
    alarm: str = ""  # the newest SOS status its gateway sounded on board

    def line(self) -> str:
        sos = "; ".join(self.sos) or "no SOS"
        heard = f" (on board: {self.alarm})" if self.alarm else ""
        return f"{self.vessel} ({self.tenant}): {self.positions} positions, {self.schools} schools, {self.catches} catches, {sos}{heard}"


class _Boat:
    """One boat's broker, fish-finder, gateway and the alarm it sounds."""

    def __init__(self, day: BoatDay, cfg: TepiConfig, broker: Mosquitto | EmbeddedBroker) -> None:
        self.day, self.cfg, self.broker = day, cfg, broker
        self.sim: BoatSimulation | None = None
        self.gateway: EdgeGateway | None = None
        self.alarms: list[dict[str, Any]] = []
        self._listener: mqtt.Client | None = None
        self._lock = threading.Lock()

    def listen_to_alarm(self) -> None:
        """Stand in for the wheelhouse display: the retained SOS status the gateway sounds."""
        gw = self.cfg.gateway
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"demo-display-{self.day.boat_id}")
        topic = f"{alarm_topic(gw.tenant, gw.id)}/{self.day.boat_id}/sos_status"
        client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        client.on_message = self._on_alarm
        client.connect("127.0.0.1", self.broker.port)
        client.loop_start()
        self._listener = client

    def _on_alarm(self, _client: object, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            state = json.loads(msg.payload)
        except ValueError:
            return
        with self._lock:
            self.alarms.append(state)

    def heard(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.alarms)

    def stop(self) -> None:
        if self.sim is not None:
            self.sim.stop()
        if self.gateway is not None:
            self.gateway.stop(flush_timeout=5)
        if self._listener is not None:
            self._listener.loop_stop()
            self._listener.disconnect()
        self.broker.close()


class BoatFleet:
    """The demo's boats: `register` them centrally, `start`, `press_sos`, `stop`."""

    def __init__(self, base: TepiConfig, workdir: Path, central_port: int, speed: float, boats: tuple[str, ...] = DEMO_BOATS) -> None:
        days = {b.boat_id: b for b in DEFAULT_FLEET}
        self.base, self.workdir, self.central_port, self.speed = base, workdir, central_port, speed
        self.days = [replace(days[b], ground=DEMO_GROUNDS.get(b, days[b].ground)) for b in boats]
        self.boats: dict[str, _Boat] = {}

    def register(self, database_url: str) -> None:
        """Register the boats in the state store (as `tepi admin vessel add` would), each owned by
        a fisher (`_owner`): the tenant's demo fisher, whose key the demo prints, owns the first."""
        from central.db import create_engine, writer
        from kinds.fishfinder.state import register_vessel
        from tepi.boat_gateways import boat_gateway_id

        engine = create_engine(database_url)
        try:
            with Session(writer(engine)) as s, s.begin():
                for day in self.days:
                    owner = self._owner(s, day)
                    harbour = HARBOURS[day.harbour]
                    register_vessel(
                        s, vessel_id=day.boat_id, tenant=day.tenant, name=day.boat_id.replace("-", " ").upper(),
                        home_port=harbour.name, gateway_id=boat_gateway_id(day.boat_id),
                        # A small outboard boat: its transit speed, ~4 l/h, BMKG's small-boat wave limit.
                        speed_kn=sum(day.transit_kn) / 2, fuel_l_per_h=4.0, wave_limit_m=1.25,
                        now=utcnow(), owner_user=owner, home=harbour.offing,  # where its simulated trips end
                    )
        finally:
            engine.dispose()

    def _owner(self, session: Session, day: BoatDay) -> int | None:
        """The fisher who owns `day`'s boat: the tenant's demo fisher (whose key the demo prints)
        for its first boat, a fisher of its own for each other one, as boats of one harbour
        belong to different families (and fishing grounds count people, not boats)."""
        from central.models import ROLE_FISHER, User

        first = next(d for d in self.days if d.tenant == day.tenant)
        name = "demo-fisher" if day is first else f"demo-fisher-{day.boat_id}"
        owner = session.scalar(sa.select(User.id).where(User.tenant_id == day.tenant, User.name == name))
        if owner is None:
            user = User(tenant_id=day.tenant, name=name, role=ROLE_FISHER, created_at=utcnow())
            session.add(user)
            session.flush()
            owner = user.id
        return owner

    def start(self) -> None:
        from gateway.runtime import EdgeGateway
        from kinds.fishfinder.sim.runner import BoatSimulation, BoatSimulationConfig
        from tepi.demo import with_demo_health

        central = BrokerConfig(host="127.0.0.1", port=self.central_port)
        for day in self.days:
            root = self.workdir / "boats" / day.boat_id
            sized = boat_gateway_config(self.base, day.boat_id, day.tenant, uplink_broker=central, outbox=root / "outbox.db")
            broker: Mosquitto | EmbeddedBroker
            if Mosquitto.available():
                broker = Mosquitto(workdir=root / "mosquitto", persistence=False, sized_for=[sized]).start()
            else:
                broker = EmbeddedBroker().start()
            cfg = with_demo_health(boat_gateway_config(
                self.base, day.boat_id, day.tenant, local_broker=BrokerConfig(host="127.0.0.1", port=broker.port),
                uplink_broker=central, outbox=root / "outbox.db",
            ))
            boat = self.boats[day.boat_id] = _Boat(day, cfg, broker)
            boat.gateway = EdgeGateway(cfg)
            boat.gateway.start()
            boat.gateway.wait_ready()
            boat.listen_to_alarm()
            sim = BoatSimulation(BoatSimulationConfig(
                fleet=(day,), speedup=self.speed, transport="mqtt", broker_port=broker.port,
                ping_budget_per_real_s=PING_BUDGET_PER_REAL_S,
            ))
            sim.end_trips_now(fishing_starts(sim.boats[day.boat_id].plan) - timedelta(minutes=3))
            boat.sim = sim.start()

    def press_sos(self, vessel: str) -> None:
        sim = self.boats[vessel].sim
        assert sim is not None
        sim.press_sos(vessel, "undesignated")

    def heard(self, vessel: str) -> list[dict[str, Any]]:
        return self.boats[vessel].heard()

    def stop(self) -> None:
        for boat in self.boats.values():
            try:
                boat.stop()
            except Exception:  # one boat's failure must not leave the others running
                log.exception("stopping a demo boat failed", extra={"boat": boat.day.boat_id})

    def summaries(self, database_url: str) -> list[BoatSummary]:
        """What the centre holds of each boat, and what its gateway last sounded."""
        from central.db import create_engine
        from central.models import Alert
        from kinds.fishfinder.state import SchoolSighting, VesselPosition

        out = []
        engine = create_engine(database_url)
        try:
            with Session(engine) as s:
                for day in self.days:
                    v = day.boat_id
                    summary = BoatSummary(v, day.tenant)
                    summary.positions = s.scalar(sa.select(sa.func.count()).where(VesselPosition.vessel_id == v)) or 0
                    summary.schools = s.scalar(sa.select(sa.func.count()).where(SchoolSighting.vessel_id == v)) or 0
                    summary.catches = _catches(s, v)
                    incidents = s.execute(
                        sa.select(Alert.id, Alert.status).where(Alert.kind == "fishfinder", Alert.type == "sos", Alert.subject == v).order_by(Alert.id)
                    )
                    summary.sos = [f"SOS incident {i}: {status}" for i, status in incidents]
                    heard = self.boats[v].heard() if v in self.boats else []
                    summary.alarm = heard[-1].get("message", "") if heard else ""
                    out.append(summary)
        finally:
            engine.dispose()
        return out


def _catches(session: Session, vessel: str) -> int:
    try:
        from kinds.fishfinder.catches import Catch
    except ImportError:  # a build without the catch register
        return 0
    return session.scalar(sa.select(sa.func.count()).where(Catch.vessel_id == vessel)) or 0


@dataclass
class BoatStory:
    """The scripted story, one step per `advance` (called every half second by the demo)."""

    fleet: BoatFleet
    database_url: str
    started: float
    vessel: str = DEMO_BOATS[0]
    step: str = "school"
    incident: int | None = None
    school: tuple[float | None, float | None] | None = None
    log: list[str] = field(default_factory=list)

    #: The sea part, beside the SOS story: "grounds" (waiting for a published ground), "route"
    #: (the story boat's way there), "done".
    sea_step: str = "grounds"
    ground: dict[str, Any] | None = None
    _next_grounds_at: float = 0.0

    @property
    def done(self) -> bool:
        return self.step == "done" and self.sea_step == "done"

    def advance(self, http: httpx.Client, base: str, keys: dict[str, str], console: Console) -> None:
        tenant = next(d.tenant for d in self.fleet.days if d.boat_id == self.vessel)
        self._advance_sea(http, base, keys.get(f"{tenant}/fisher", ""), console)
        if self.step == "school":
            self.school = self._first_school()
            if self.school is not None or time.monotonic() - self.started > SOS_AFTER_S:
                if self.school is not None:
                    self._say(console, f"[cyan]school found[/cyan] by {self.vessel} at {self.school[0]:.4f}, {self.school[1]:.4f}"
                              if self.school[0] is not None else f"[cyan]school found[/cyan] by {self.vessel}")
                self.step = "catch"
        elif self.step == "catch":
            lat, lon = self.school if self.school and self.school[0] is not None else (-8.85, 115.15)
            port = next(d.harbour for d in self.fleet.days if d.boat_id == self.vessel)
            body = {"species": "tongkol", "weight_kg": 42.5, "lat": lat, "lon": lon, "caught_at": utcnow().isoformat(),
                    "port": port, "vessel": self.vessel, "price_idr_per_kg": 32000}
            r = _post(http, f"{base}/catches", keys.get(f"{tenant}/fisher", ""), body)
            self._say(console, f"[cyan]catch reported[/cyan] by the demo fisher: 42.5 kg tongkol ({r})")
            self.step = "sos"
        elif self.step == "sos":
            self.fleet.press_sos(self.vessel)
            self._say(console, f"[red]SOS pressed[/red] on {self.vessel}")
            self.step = "incident"
        elif self.step == "incident":
            key = keys.get(f"{tenant}/disaster_office", "")
            try:
                data = http.get(f"{base}/sos", headers={"Authorization": f"Bearer {key}"}).json().get("data") or []
            except (Exception,):  # noqa: BLE001 - the API is polled again in half a second
                return
            open_ = [i for i in data if i.get("vessel") == self.vessel and i.get("status") == "open"]
            if open_:
                self.incident = int(open_[0]["id"])
                r = _post(http, f"{base}/sos/{self.incident}/acknowledge", key, {"note": "Basarnas boat on its way"})
                self._say(console, f"[yellow]SOS incident {self.incident} acknowledged[/yellow] by the disaster office ({r})")
                self.step = "alarm"
        elif self.step == "alarm":
            if any(a.get("status") == "acknowledged" for a in self.fleet.heard(self.vessel)):
                self._say(console, f"[green]{self.vessel}'s gateway sounds 'help acknowledged'[/green] on board")
                self.step = "done"

    def _advance_sea(self, http: httpx.Client, base: str, key: str, console: Console) -> None:
        """The fisher asks where the fish are (published once three boats' sightings meet) and
        the way there for the story boat: the route the planner gives, with its verdict."""
        now = time.monotonic()
        auth = {"Authorization": f"Bearer {key}"}
        if self.sea_step == "grounds" and now >= self._next_grounds_at:
            self._next_grounds_at = now + 2.0
            try:
                features = http.get(f"{base}/fishing-grounds", headers=auth).json().get("features") or []
            except (httpx.HTTPError, ValueError, AttributeError):
                return
            if features:
                self.ground = max(features, key=lambda f: f["properties"]["score"])
                p = self.ground["properties"]
                self._say(console, f"[cyan]fishing ground[/cyan] {p['ground_id']} published: {p['vessels']} boats' sightings, "
                          f"centre {p['centre_lat']:.3f}, {p['centre_lon']:.3f} ({len(features)} ground(s); {base}/fishing-grounds)")
                self.sea_step = "route"
            elif now - self.started > GROUNDS_WAIT_S:
                self._say(console, "no fishing ground published yet (fewer than three boats' sightings together)")
                self.sea_step = "done"
        elif self.sea_step == "route" and self.ground is not None:
            day = next(d for d in self.fleet.days if d.boat_id == self.vessel)
            lat, lon = HARBOURS[day.harbour].offing
            params = {"from": f"{lat},{lon}", "to": self.ground["id"], "vessel": self.vessel}
            try:
                r = http.get(f"{base}/routes", params=params, headers=auth)
                body = r.json()
            except (httpx.HTTPError, ValueError):
                return
            if r.status_code == 200:
                p = body["properties"]
                why = "; ".join(reason["text"] for reason in p["reasons"]) or "within the boat's limits"
                fuel = f", fuel {p['fuel_l']:.1f} l with reserve" if p.get("fuel_l") is not None else ""
                self._say(console, f"[cyan]route[/cyan] for {self.vessel} from {HARBOURS[day.harbour].name} to {self.ground['id']}: "
                          f"{p['distance_km']:.1f} km ({p['distance_nm']:.1f} nm), {p['duration_h']:.1f} h{fuel}; "
                          f"[bold]{p['verdict']}[/bold]: {why}")
            else:
                self._say(console, f"route for {self.vessel}: HTTP {r.status_code} {body.get('detail', '')}")
            self.sea_step = "done"

    def _first_school(self) -> tuple[float | None, float | None] | None:
        from central.db import create_engine
        from kinds.fishfinder.state import SchoolSighting

        engine = create_engine(self.database_url)
        try:
            with Session(engine) as s:
                row = s.execute(sa.select(SchoolSighting.lat, SchoolSighting.lon).where(SchoolSighting.vessel_id == self.vessel).limit(1)).first()
        finally:
            engine.dispose()
        return None if row is None else (row[0], row[1])

    def _say(self, console: Console, text: str) -> None:
        self.log.append(text)
        console.print(f"  {time.monotonic() - self.started:5.1f} s  {text}", soft_wrap=True)


def _post(http: httpx.Client, url: str, key: str, body: dict[str, Any]) -> str:
    """POST as `key`; the status, or the error, in a few words for the console."""
    try:
        r = http.post(url, json=body, headers={"Authorization": f"Bearer {key}"})
    except Exception as exc:  # noqa: BLE001 - reported on the console, the story goes on
        return f"failed: {type(exc).__name__}"
    return f"HTTP {r.status_code}"
