"""`tepi demo`: the whole system on one machine with embedded defaults.

Broker (Mosquitto if installed, else the embedded amqtt), the simulated Ciliwung chain on
both transports (a pty for Katulampa, MQTT for the others), gateway, ingest (SQLite) and the
API. The storm replays accelerated so that a Siaga alert shows within seconds. Beside the
rivers, fishing boats of Badung and Indramayu, each with its gateway on board (`demo_boats`):
a school is found, a catch reported, an SOS pressed, acknowledged and sounded on board. And an
office of Indramayu whose staff carry attendance badges (`demo_office`): its morning checked
in, a late arrival and a replayed badge caught.
"""

from __future__ import annotations

import fcntl
import shutil
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text

from kinds.awlr.siaga import SiagaLevel
from core.config import TepiConfig, with_local_services
from core.processes import EmbeddedBroker, Mosquitto

if TYPE_CHECKING:
    import uvicorn
    from starlette.types import ASGIApp

    from api.settings import Settings
    from central.accounts import DemoLogin
    from central.notify.settings import NotifySettings
    from tepi.demo_boats import BoatStory, BoatSummary
    from tepi.demo_office import OfficeStory

#: Held (`fcntl.flock`) by the demo running in a directory, for its whole life; never deleted,
#: so a second demo finds the same file locked.
LOCK_NAME = ".lock"
#: How long the API may take to start before the demo gives up.
API_START_S = 30.0
#: How often the demo's gateways report their health (a deployment's default is 300 s): the
#: console's device health page fills within half a minute of the start, not five.
DEMO_HEALTH_EVERY_S = 30.0


class DemoError(Exception):
    """The demo cannot run: its API port is taken, another demo runs in its directory, the
    notifier's settings in the environment are invalid, or its API did not start. Said before
    anything of a running demo is touched."""


@dataclass
class DemoReport:
    seconds: float = 0.0
    broker: str = ""
    readings_in: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    bytes_in: int = 0
    summaries_queued: int = 0
    events_queued: int = 0
    items_uplinked: int = 0
    bytes_uplinked: int = 0
    outbox_left: int = 0
    alerts: list[dict[str, object]] = field(default_factory=list)
    first_alert_after_s: float | None = None
    boats: list[BoatSummary] = field(default_factory=list)
    story: list[str] = field(default_factory=list)
    #: The office's verdict, printed once as it happened (`OfficeStory`), kept for callers, not reprinted.
    office: str = ""

    def print(self, console: Console) -> None:
        t = Table(title=f"Tepi demo: {self.seconds:.0f} s on {self.broker}", show_header=False)
        t.add_row("readings accepted", f"{self.readings_in:,}")
        t.add_row("frames rejected", ", ".join(f"{k} {v}" for k, v in sorted(self.rejected.items()) if v) or "0")
        t.add_row("summaries queued / events queued", f"{self.summaries_queued:,} / {self.events_queued:,}")
        t.add_row("items forwarded (acknowledged)", f"{self.items_uplinked:,}")
        t.add_row("bytes in from devices", f"{self.bytes_in:,}")
        ratio = f" (1/{self.bytes_in / self.bytes_uplinked:.1f})" if self.bytes_uplinked else ""
        t.add_row("bytes uplinked", f"{self.bytes_uplinked:,}{ratio}")
        t.add_row("left in outbox", f"{self.outbox_left:,}")
        first = f"{self.first_alert_after_s:.1f} s after start" if self.first_alert_after_s is not None else "none"
        t.add_row("alerts raised", f"{len(self.alerts)} (first {first})")
        for a in self.alerts:
            # Text, not markup: rich would take "[active]" for a style tag and print nothing.
            t.add_row("", Text(alert_line(a)))
        if self.boats:
            t.add_row("boats (positions received, schools, catches, SOS)", f"{len(self.boats)}")
            for b in self.boats:
                t.add_row("", Text(b.line()))
        console.print(t)


def alert_line(alert: dict[str, object]) -> str:
    """One alert of the closing table, e.g. `katulampa: SIAGA II (peak SIAGA I), cleared: level_normal`,
    or for an alert about no station (a vessel's SOS) `jukung-kdg-01: sos, acknowledged`."""
    if alert.get("siaga_label") is None:
        return f"{alert.get('subject') or alert.get('station')}: {alert.get('type')}, {alert.get('status')}"
    line = f"{alert.get('station')}: {alert.get('siaga_label')}"
    peak, now = alert.get("peak_siaga"), alert.get("siaga")
    if isinstance(peak, int) and isinstance(now, int) and 1 <= peak < now:
        line += f" (peak {SiagaLevel(peak).label})"
    line += f", {alert.get('status')}"
    if alert.get("clear_reason"):
        line += f": {alert.get('clear_reason')}"
    return line



def _broker(workdir: Path) -> Mosquitto | EmbeddedBroker:
    if Mosquitto.available():
        return Mosquitto(workdir=workdir / "mosquitto").start()
    return EmbeddedBroker().start()


def _broker_name(broker: Mosquitto | EmbeddedBroker) -> str:
    return f"Mosquitto :{broker.port}" if isinstance(broker, Mosquitto) else f"embedded amqtt :{broker.port}"


def _demo_ingest(config: TepiConfig, broker: Mosquitto | EmbeddedBroker) -> TepiConfig:
    """The demo runs one ingest worker; on a broker without shared subscriptions it subscribes
    to the plain uplink topics, or its `$share/...` filter would match nothing and no alert
    would ever be raised."""
    if broker.shared_subscriptions:
        return config
    ingest = config.ingest.model_copy(update={"shared_subscription": False, "workers": 1, "worker": 1})
    return config.model_copy(update={"ingest": ingest})


def with_demo_health(config: TepiConfig) -> TepiConfig:
    """`config` with its gateway reporting its health every `DEMO_HEALTH_EVERY_S` (the boats'
    gateways are given it too; the office's takes it from the demo's, `office_gateway_config`)."""
    return config.model_copy(update={"gateway": config.gateway.model_copy(update={"health_every_s": DEMO_HEALTH_EVERY_S})})


def demo_notify_settings(settings: Settings) -> NotifySettings:
    """The notifier's settings from the environment (TEPI_SMTP_* reach a mail server from the demo
    too), with the demo API's pepper, so that webhooks subscribed in its console are signed and
    sent, and links to the demo's console. `NotifySettingsError` naming invalid variables."""
    from pydantic import SecretStr

    from central.notify.settings import load_notify_settings

    notify = load_notify_settings()
    return notify.model_copy(update={
        "auth_pepper": SecretStr(settings.pepper().decode()),
        "public_base_url": notify.public_base_url or settings.public_base_url,
    })


def run_demo(
    config: TepiConfig,
    api_port: int = 8000,
    duration_s: float | None = None,
    speed: float = 600.0,
    workdir: Path = Path("var/demo"),
    console: Console | None = None,
    until_alert: bool = False,
    boats: bool = True,
    boat_speed: float = 60.0,
    until_sos_acknowledged: bool = False,
    office: bool = True,
) -> DemoReport:
    """Run the demo until Ctrl-C, SIGTERM or `duration_s`; with `until_alert`, also stop once the
    first Siaga alert is in the API, with `until_sos_acknowledged` once the boat's gateway has
    sounded the acknowledgement of its SOS (smoke checks that the whole chain works here).
    `boat_speed` is the boats' simulated seconds per real second (`demo_boats`). With `office`,
    the badge office runs too (`demo_office`), and `until_sos_acknowledged` waits for its story.

    Raises `DemoError` when another demo runs in `workdir` or something listens on `api_port`
    (then nothing in `workdir` is touched), or when the API does not start."""
    if until_sos_acknowledged and not boats:
        raise ValueError("until_sos_acknowledged waits for a boat's SOS: it needs the boats")
    console = console or Console(stderr=True)
    # The API port and the directory are claimed before anything is touched: another demo may
    # run there, and a refused demo changes nothing (not even a directory for a busy port).
    api_socket = bind_api_port(config.api.host, api_port)
    try:
        lock = claim_workdir(workdir)
    except BaseException:
        api_socket.close()
        raise
    try:
        return _run_claimed(
            config, api_socket, api_port=api_port, duration_s=duration_s, speed=speed, workdir=workdir, console=console,
            until_alert=until_alert, boats=boats, boat_speed=boat_speed, until_sos_acknowledged=until_sos_acknowledged, office=office,
        )
    finally:
        api_socket.close()
        lock.close()  # releases the lock; the file stays


def _run_claimed(
    config: TepiConfig, api_socket: socket.socket, *, api_port: int, duration_s: float | None, speed: float, workdir: Path,
    console: Console, until_alert: bool, boats: bool, boat_speed: float, until_sos_acknowledged: bool, office: bool,
) -> DemoReport:
    """`run_demo` once its API port and directory are its own."""
    from api.main import build_routes, create_app
    from api.settings import Settings, local_base_url
    from kinds.awlr.sim.runner import Simulator
    from gateway.runtime import EdgeGateway
    from ingest.consumer import IngestWorker
    from contract.clock import utcnow
    from tepi.demo_boats import BoatFleet, BoatStory
    from tepi.demo_office import DemoOffice, OfficeStory, with_demo_office
    from tepi.demo_sea import with_demo_forecasts
    from central.notify.settings import NotifySettingsError

    # The demo's secrets are public and its links point at itself; only the demo runs this way.
    settings = Settings(mode="demo", public_base_url=local_base_url(config.api.host, api_port))
    try:
        notify = demo_notify_settings(settings)
    except NotifySettingsError as exc:
        raise DemoError(str(exc)) from None
    _stop_on_sigterm()
    # A demo starts from nothing: the simulated storm replays the same hours every run.
    clear_workdir(workdir)
    report = DemoReport()
    broker = _broker(workdir)
    port, report.broker = broker.port, _broker_name(broker)
    link_dir = workdir / "sim"
    serial = {d.id: str(link_dir / d.id) for d in config.devices if d.transport == "serial"}
    cfg = _demo_ingest(with_local_services(with_demo_health(config), port, workdir, api_port=api_port, serial_ports=serial), broker)
    cfg = with_demo_forecasts(cfg, workdir / "sea", utcnow())  # a current forecast, as a deployment's feed keeps it
    cfg = with_demo_office(cfg) if office else cfg
    started = time.monotonic()
    sim = Simulator(cfg, speed, "127.0.0.1", port, link_dir=link_dir)
    gw = ingest = server = None
    fleet = BoatFleet(cfg, workdir, port, boat_speed) if boats else None
    story: BoatStory | None = None
    bureau = DemoOffice(cfg, workdir, port) if office and any(o.id == "bkpsdm" for o in getattr(cfg, "offices", [])) else None
    office_story: OfficeStory | None = None
    api_thread: threading.Thread | None = None
    try:
        # The simulated ports exist before the gateway opens them; nothing is sent until
        # `sim.start`, after the receivers: a reading published before anyone subscribed is gone.
        sim.open()
        ingest = IngestWorker(cfg.ingest, cfg, notify_settings=notify)
        ingest.start()
        gw = EdgeGateway(cfg)
        gw.start()
        gw.wait_ready()
        ingest.wait_subscribed()
        keys, logins = _demo_keys(cfg, settings)
        if fleet is not None:
            fleet.register(cfg.ingest.database_url)  # before any boat uplinks: its items name its vessel
            fleet.start()
            story = BoatStory(fleet, cfg.ingest.database_url, started)
        if bureau is not None:
            bureau.register(cfg.ingest.database_url, utcnow())  # before its gateway reports: the roster is ready
            bureau.start()
            office_story = OfficeStory(bureau)
        sim.start()
        app = create_app(cfg, settings)
        build_routes(app)
        server, api_thread = serve_api(app, api_socket)
        base = f"http://{cfg.api.host}:{api_port}/api/v1"
        site = local_base_url(cfg.api.host, api_port)
        console.print(f"[bold]Tepi demo[/bold]: the console at [bold]{site}/[/bold]; Ctrl-C stops.", soft_wrap=True)
        console.print(f"  {report.broker}; API {base} (docs at {site}/docs)", soft_wrap=True)
        for device, path in sim.serial_paths().items():
            console.print(f"  serial device {device} on {path}", soft_wrap=True)
        console.print("  demo API keys (send as 'Authorization: Bearer <key>'; shown once):")
        for who, key in sorted(keys.items()):
            console.print(f"    {who:<32} {key}", soft_wrap=True)
        console.print(f"  public river status, no key: {base}/public/stations", soft_wrap=True)
        console.print(f"  console sign-in at {site}/ (tenant, name, password; new at each start):", soft_wrap=True)
        for login in logins:
            console.print(f"    {login.tenant:<14} {login.name:<24} {login.password}", soft_wrap=True, markup=False)
        watch_key = keys.get(f"{cfg.gateway.tenant}/disaster_office", "")
        for boat_id, boat in (fleet.boats.items() if fleet else ()):
            console.print(f"  boat {boat_id}: gateway {boat.cfg.gateway.id} on board, its broker :{boat.broker.port}", soft_wrap=True)
        if bureau is not None:
            console.print(f"  {bureau.intro()}", soft_wrap=True)
        _watch(base, started, duration_s, report, console, watch_key, until_alert, story, keys, until_sos_acknowledged, office_story)
    except KeyboardInterrupt:
        console.print("stopping…")
    finally:
        sim.halt()  # quiet, its ports still there: the gateway closes them without a warning
        if fleet is not None:
            fleet.stop()
        if bureau is not None:
            bureau.stop()
        if gw is not None:
            gw.stop(flush_timeout=5)
            _collect_gateway(gw, report)
        sim.stop()
        if ingest is not None:
            time.sleep(0.5)  # let the last acknowledged items land
            ingest.stop()
        if server is not None:
            server.should_exit = True
            if api_thread:
                api_thread.join(5)
        broker.close()
    if fleet is not None:
        report.boats = fleet.summaries(cfg.ingest.database_url)
        report.story = story.log if story is not None else []
    report.office = office_story.line if office_story is not None else ""
    report.seconds = time.monotonic() - started
    return report


def claim_workdir(workdir: Path) -> IO[str]:
    """Lock `workdir` for this demo (the lock lasts while the returned file is open); a
    `DemoError` when another demo holds it."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / LOCK_NAME
    lock = path.open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        lock.close()
        raise DemoError(f"another demo is running in {workdir} (it holds {path}): stop it, or give this one its own --workdir") from exc
    return lock


def clear_workdir(workdir: Path) -> None:
    """Everything in `workdir` but its lock: the databases, outboxes and brokers of the last run."""
    for entry in workdir.iterdir():
        if entry.name == LOCK_NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def bind_api_port(host: str, port: int) -> socket.socket:
    """The API's socket, listening now (bound as uvicorn binds, with SO_REUSEADDR): a port in
    use is refused before the demo touches anything, and no one takes it between this check
    and the API's start (connections wait in the backlog until then)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen()  # listening at once: SO_REUSEADDR would let another bind a port merely bound
    except OSError as exc:
        sock.close()
        raise DemoError(f"the API port {host}:{port} is in use ({exc.strerror}): is a demo running? Choose another with --port") from exc
    return sock


def serve_api(app: ASGIApp, sock: socket.socket, timeout_s: float = API_START_S) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve `app` on `sock` in a thread, once it has started; a `DemoError` when it does not
    (its startup failed: uvicorn logs why), so the demo never runs on without its API."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3, proxy_headers=False))

    def run() -> None:
        try:
            server.run(sockets=[sock])
        except SystemExit:  # uvicorn's way out of a failed startup; `started` stays False
            pass

    thread = threading.Thread(target=run, name="api", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            thread.join(5)
            raise DemoError(f"the API did not start on {host}:{port}")
        thread.join(0.05)
    return server, thread


def _stop_on_sigterm() -> None:
    """SIGTERM (service managers, `kill`) stops the demo the same clean way as Ctrl-C."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _demo_keys(cfg: TepiConfig, settings: Settings) -> tuple[dict[str, str], list[DemoLogin]]:
    """Keys and console passwords for one user of each role in each tenant; only demo mode hands them out."""
    from sqlalchemy.orm import Session

    from api.services.auth import create_demo_keys
    from central.accounts import demo_logins, store_demo_logins
    from central.db import create_engine, writer
    from contract.clock import utcnow

    logins = demo_logins(cfg)  # hashed before the transaction: SQLite's write lock is not held meanwhile
    engine = create_engine(cfg.ingest.database_url)
    try:
        with Session(writer(engine)) as s, s.begin():
            keys = create_demo_keys(s, cfg, settings)
            store_demo_logins(s, logins, utcnow())
            return keys, logins
    finally:
        engine.dispose()


def _watch(
    base: str, started: float, duration_s: float | None, report: DemoReport, console: Console, key: str, until_alert: bool,
    story: BoatStory | None = None, keys: dict[str, str] | None = None, until_sos_acknowledged: bool = False,
    office: OfficeStory | None = None,
) -> None:
    deadline = None if duration_s is None else started + duration_s

    def finished() -> bool:
        # The SOS smoke check waits for the office's story too (it takes longer than the office's).
        return (not until_alert or bool(report.alerts)) and (not until_sos_acknowledged or (story is not None and story.done)) and (
            not until_sos_acknowledged or office is None or office.done) and (until_alert or until_sos_acknowledged)

    with httpx.Client(timeout=2.0, headers={"Authorization": f"Bearer {key}"}) as http:
        while (deadline is None or time.monotonic() < deadline) and not finished():
            time.sleep(0.5)
            if story is not None and not story.done:
                story.advance(http, base, keys or {}, console)
            if office is not None and not office.done:
                office.advance(http, base, keys or {}, console)
            try:
                alerts = http.get(f"{base}/alerts", params={"limit": 100, "type": "siaga"}).json()
            except (httpx.HTTPError, ValueError):
                continue
            items = alerts.get("data") if isinstance(alerts, dict) else None
            if items and report.first_alert_after_s is None:
                report.first_alert_after_s = time.monotonic() - started
                a = items[0]
                console.print(
                    f"[red]Siaga alert[/red] at {a.get('station')} ({a.get('siaga_label')}) "
                    f"{report.first_alert_after_s:.1f} s after start: {base}/alerts",
                    soft_wrap=True,
                )
            report.alerts = items or []


def _collect_gateway(gw: object, report: DemoReport) -> None:
    reg = gw.registry  # type: ignore[attr-defined]
    for metric in reg.collect():
        for s in metric.samples:
            if s.name == "tepi_gateway_readings_total":
                report.readings_in += int(s.value)
            elif s.name == "tepi_gateway_rejected_total":
                report.rejected[s.labels["reason"]] = int(s.value)
            elif s.name == "tepi_gateway_bytes_in_total":
                report.bytes_in += int(s.value)
            elif s.name == "tepi_gateway_items_queued_total":
                if s.labels["type"] == "summary":
                    report.summaries_queued += int(s.value)
                else:
                    report.events_queued += int(s.value)
            elif s.name == "tepi_gateway_uplinked_items_total":
                report.items_uplinked = int(s.value)
            elif s.name == "tepi_gateway_uplink_bytes_total":
                report.bytes_uplinked = int(s.value)
    report.outbox_left = gw.outbox_depth_at_stop  # type: ignore[attr-defined]
