"""`tepi`: the one console script. Each sub-command runs one part; `demo` runs them all."""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from pydantic import ValidationError

from core.config import ConfigError, IngestConfig, TepiConfig, load_config
from tepi.gateway_command import GatewayOptions, run_gateway, wait_for_signal
from core.logs import configure_logging
from core.runtime_tuning import tune_garbage_collector

if TYPE_CHECKING:
    from rich.console import Console

    from ingest.consumer import IngestWorker

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Tepi: edge telemetry for rivers, boats and offices.")
config_app = typer.Typer(no_args_is_help=True, help="Configuration commands.")
app.add_typer(config_app, name="config")


def _mount_subcommands() -> None:
    from tepi.admin_cli import admin_app
    from tepi.mqtt_security import mqtt_app

    app.add_typer(mqtt_app, name="mqtt", help="Broker credentials, ACLs and TLS from the device registry.")
    app.add_typer(admin_app, name="admin", help="Tenants, users, API keys and retention (platform operator).")


_mount_subcommands()
log = logging.getLogger("tepi")

def flag(names: str, help: str) -> Any:
    """A boolean option shown as the flag it is: typer's rich help gives every bool a `<bool>`
    column (typer 0.29), which reads as if it took a value (`--until-alert true` then fails
    with "unexpected extra argument")."""
    return typer.Option(names, help=help, metavar="")


ConfigOpt = Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config (default: $TEPI_CONFIG or config/tepi.yaml).")]
LogOpt = Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING or ERROR.")]
JsonOpt = Annotated[bool, flag("--json-logs/--text-logs", help="One JSON object per log line.")]


@cache
def console() -> Console:
    """Where commands print for people (stderr). rich is loaded on the first message: `tepi
    gateway` may run for months without printing one, and rich costs it ~2 MB."""
    from rich.console import Console

    return Console(stderr=True)


def _load(path: Path | None) -> TepiConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        console().print(f"[red]configuration error[/red]: {exc}")
        raise typer.Exit(2) from exc


@config_app.command("check")
def config_check(config: ConfigOpt = None) -> None:
    """Validate a configuration file and say what it defines: what the processes would refuse
    at start is an error (exit 2), such as a device on a platform its kind cannot bind or an
    invalid hazards or forecast file; a forecast file not written yet or expired is a warning."""
    from tepi.config_check import deployment_findings

    cfg = _load(config)
    findings = deployment_findings(cfg)
    for f in findings:
        colour = "red" if f.severity == "error" else "yellow"
        console().print(f"[{colour}]{f.severity}[/{colour}]: {f.message}", highlight=False, soft_wrap=True)
    errors = sum(f.severity == "error" for f in findings)
    if errors:
        console().print(f"[red]{errors} error{'s' if errors > 1 else ''}[/red]: fix the configuration before starting")
        raise typer.Exit(2)
    offices = getattr(cfg, "offices", [])  # a kind's section (badges), only when it declares any
    console().print(
        f"[green]ok[/green]: {len(cfg.tenants)} tenants, {len(cfg.stations)} stations, "
        + (f"{len(offices)} offices, " if offices else "")
        + f"{len(cfg.devices)} devices, gateway {cfg.gateway.id}"
    )


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="API port.")] = 8000,
    duration: Annotated[Optional[float], typer.Option(help="Stop after this many seconds and print a summary.")] = None,
    speed: Annotated[float, typer.Option(help="Simulated seconds per real second while the storm replays.")] = 600.0,
    workdir: Annotated[Path, typer.Option(help="Where the demo keeps its databases and outbox.")] = Path("var/demo"),
    until_alert: Annotated[bool, flag("--until-alert", help="Stop once the first Siaga alert is raised (a smoke check of this machine).")] = False,
    boats: Annotated[bool, flag("--boats/--no-boats", help="Fishing boats beside the rivers, each with its gateway on board.")] = True,
    boat_speed: Annotated[float, typer.Option(help="Simulated seconds per real second of the boats' trips.")] = 60.0,
    until_sos_acknowledged: Annotated[bool, flag(
        "--until-sos-acknowledged", help="Stop once a boat's SOS was acknowledged and its gateway sounded it on board (a smoke check).")] = False,
    office: Annotated[bool, flag("--office/--no-office", help="An office whose staff carry attendance badges (Indramayu's BKPSDM).")] = True,
    config: ConfigOpt = None,
    log_level: LogOpt = "WARNING",
    json_logs: JsonOpt = False,
) -> None:
    """Run everything on this machine: broker, simulators, gateway, ingest and API."""
    from tepi.demo import DemoError, run_demo

    if until_sos_acknowledged and not boats:
        raise typer.BadParameter("--until-sos-acknowledged waits for a boat's SOS: it cannot run with --no-boats", param_hint="--no-boats")
    configure_logging(log_level, json_logs)
    try:
        report = run_demo(
            _load(config), api_port=port, duration_s=duration, speed=speed, workdir=workdir, console=console(), until_alert=until_alert,
            boats=boats, boat_speed=boat_speed, until_sos_acknowledged=until_sos_acknowledged, office=office,
        )
    except DemoError as exc:
        console().print(f"[red]demo cannot run[/red]: {exc}")
        raise typer.Exit(1) from exc
    report.print(console())
    if until_alert and not report.alerts:
        console().print("[red]no Siaga alert was raised[/red]")
        raise typer.Exit(1)
    if until_sos_acknowledged and not any(b.alarm == "help acknowledged" for b in report.boats):
        console().print("[red]no boat's gateway sounded an acknowledged SOS[/red]")
        raise typer.Exit(1)


@app.command()
def sim(
    broker_port: Annotated[int, typer.Option(help="Broker for MQTT devices.")] = 1883,
    broker_host: Annotated[str, typer.Option()] = "127.0.0.1",
    speed: Annotated[float, typer.Option(help="60 = one simulated hour per real minute.")] = 60.0,
    link_dir: Annotated[Path, typer.Option(help="Symlinks to the serial ptys, one per device.")] = Path("var/sim"),
    duration: Annotated[Optional[float], typer.Option()] = None,
    config: ConfigOpt = None,
    log_level: LogOpt = "INFO",
    json_logs: JsonOpt = False,
) -> None:
    """Simulate the configured field devices (serial ptys and MQTT)."""
    from firmware_sim.errors import SimulatorError
    from kinds.awlr.sim.runner import run_simulator

    configure_logging(log_level, json_logs)
    cfg = _load(config)
    try:
        counters = run_simulator(cfg, speed, broker_host, broker_port, link_dir, duration)
    except SimulatorError as exc:
        console().print(f"[red]simulator failed[/red]: {exc}")
        raise typer.Exit(1) from exc
    console().print(counters)


@app.command()
def gateway(
    config: ConfigOpt = None,
    metrics_port: Annotated[int, typer.Option(help="Prometheus metrics port (0: off).")] = 0,
    log_level: LogOpt = "INFO",
    json_logs: JsonOpt = True,
) -> None:
    """Run the edge gateway: read devices, summarise, store and forward."""
    code = run_gateway(GatewayOptions(config, metrics_port, log_level, json_logs))
    if code:
        raise typer.Exit(code)


def _retire(worker: IngestWorker) -> None:
    """A worker that is offline but still subscribed keeps receiving its share of the uplinks
    into a queue no one reads (Mosquitto 2.0 routes shared messages to offline persistent
    members), so a worker leaves the group this way before it is removed."""
    from ingest.errors import BrokerError

    try:
        worker.retire()
    except BrokerError as exc:
        worker.stop()
        console().print(f"[red]cannot retire {worker.config.client_id}[/red]: {exc}")
        raise typer.Exit(1) from exc
    console().print(f"[green]ok[/green]: {worker.config.client_id} left the share group; lower ingest.workers now")


@app.command()
def ingest(
    config: ConfigOpt = None,
    worker: Annotated[Optional[int], typer.Option(help="Which ingest worker this is, 1..ingest.workers; each logs in as its own MQTT user ingest.N.")] = None,
    metrics_port: Annotated[int, typer.Option(help="Prometheus metrics port (0: off).")] = 0,
    retire: Annotated[bool, flag(
        "--retire", help="Take this worker's queued uplinks, leave the share group and exit: run it for the highest worker before lowering ingest.workers."
    )] = False,
    log_level: LogOpt = "INFO",
    json_logs: JsonOpt = True,
) -> None:
    """Run one ingest worker of the shared subscription."""
    from prometheus_client import start_http_server

    from ingest.consumer import IngestWorker
    from central.errors import SchemaError
    from central.notify.settings import NotifySettingsError, load_notify_settings

    configure_logging(log_level, json_logs)
    cfg = _load(config)
    try:
        icfg = cfg.ingest if worker is None else IngestConfig.model_validate(cfg.ingest.model_dump() | {"worker": worker})
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"], param_hint="--worker") from exc
    try:
        notify = load_notify_settings()  # TEPI_SMTP_*, TEPI_NOTIFY_EVERY_S, ...: said like the API's settings
    except NotifySettingsError as exc:
        console().print(f"[red]ingest cannot start[/red]: {exc}")
        raise typer.Exit(2) from exc
    worker = IngestWorker(icfg, cfg, notify_settings=notify)
    if metrics_port:
        start_http_server(metrics_port, addr="127.0.0.1", registry=worker.registry)
    tune_garbage_collector()
    try:
        worker.start()  # upgrades the state database's schema first when it is behind
    except SchemaError as exc:
        console().print(f"[red]ingest cannot start[/red]: {exc}")
        raise typer.Exit(2) from exc
    if retire:
        _retire(worker)
        return
    stop = threading.Event()
    wait_for_signal(stop)
    worker.stop()


@app.command()
def api(
    config: ConfigOpt = None,
    host: Annotated[Optional[str], typer.Option()] = None,
    port: Annotated[Optional[int], typer.Option()] = None,
    log_level: LogOpt = "INFO",
    json_logs: JsonOpt = True,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs). Production unless TEPI_MODE=demo."""
    import uvicorn

    from api.main import build_routes, create_app
    from api.settings import ServingSettings, SettingsError, load_settings, local_base_url

    configure_logging(log_level, json_logs)
    cfg = _load(config)
    host, port = host or cfg.api.host, port or cfg.api.port
    try:
        settings = load_settings(ServingSettings)
        if settings.mode == "demo" and settings.public_base_url is None:
            settings = settings.model_copy(update={"public_base_url": local_base_url(host, port)})
        application = create_app(cfg, settings)
    except (SettingsError, ValueError) as exc:
        console().print(f"[red]api cannot start[/red]: {exc}")
        raise typer.Exit(2) from exc
    build_routes(application)
    # Open SSE streams would otherwise hold a graceful shutdown; clients resume by Last-Event-ID.
    # Proxy headers are the app's business (TEPI_TRUSTED_PROXIES): uvicorn's own handling would
    # trust X-Forwarded-For from 127.0.0.1 by default.
    uvicorn.run(
        application,
        host=host,
        port=port,
        log_config=None,
        timeout_graceful_shutdown=5,
        proxy_headers=False,
        forwarded_allow_ips="",
    )


if __name__ == "__main__":  # pragma: no cover
    app()
