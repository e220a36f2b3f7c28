"""`tepi admin vessel`: enrol a harbour's boats, each in one step with its gateway's MQTT
credentials and ACL grants on the central broker.

    tepi admin vessel add km-sinar-laut --tenant kab-badung --name "KM Sinar Laut" \\
        --home-port "Pelabuhan Benoa" --owner 7 --mqtt-dir /etc/tepi/mqtt \\
        --uplink-host mqtt.tepi.example.id --uplink-port 8883 --uplink-ca /etc/tepi/ca.crt \\
        --gateway-config km-sinar-laut.yaml
    tepi admin vessel import fleet.csv --mqtt-dir /etc/tepi/mqtt --gateway-configs boats/

A step registers the vessel (`kinds.fishfinder.state.ensure_vessel`), adds its on-board
gateway's users to the central broker's files that `tepi mqtt setup --out DIR` wrote
(`tepi.boat_gateways.grant_on_central_broker`: the same users and grants setup derives from the
boat's configuration, passwords kept), keeps that configuration without password in
`DIR/boats/<gateway>.yaml`, which every later `tepi mqtt setup --out DIR` includes (so a re-run
never locks a boat out), and, if asked, writes the YAML the boat runs with `tepi gateway
--config`, its MQTT password included (0600). Running it again changes nothing; a vessel
registered otherwise (another gateway, tenant or figures) is refused, naming what differs.

A fleet's CSV has a header row and one boat a row: `id`, `tenant`, `name`, `home_port`
(required) and `home_lat`, `home_lon`, `gateway`, `owner`, `gt`, `speed_kn`, `fuel_l_per_h`,
`wave_limit_m`, `wind_limit_kn` (empty or 0: none registered, routes take the tenant's
small-boat limits, BMKG's 1.25 m and 15 kn by default); the figures within
`kinds.fishfinder.sailing_figures.FIGURE_BOUNDS` (speed 60 kn, fuel 2000 l/h, waves 9 m, wind 64 kn). Every row is checked
before anything is written, the file's checks and the registration's (tenant, owner, gateway,
broker users) in one pass; every rejected row is named by its line and nothing is registered. A boat needs a home position, given or its port's
(`kinds.fishfinder.home_ports`): without one it is never counted at sea from its fixes, and no
overdue alert could come. Passwords are never printed (`tepi mqtt show-credentials`
shows one, as after `tepi mqtt setup`). A running Mosquitto re-reads passwd and acl on SIGHUP.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from core.config import BrokerConfig, TepiConfig

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tepi.boat_gateways import BrokerGrant

vessel_app = typer.Typer(no_args_is_help=True, help="Vessels carrying a fish-finder gateway, enrolled with their MQTT users.")

_ID = r"^[a-z0-9][a-z0-9_-]{0,62}$"
#: The fleet file's columns; the first four are required.
CSV_COLUMNS = ("id", "tenant", "name", "home_port", "home_lat", "home_lon", "gateway", "owner", "gt", "speed_kn",
               "fuel_l_per_h", "wave_limit_m", "wind_limit_kn")  # fmt: skip
_REQUIRED = CSV_COLUMNS[:4]
_FIGURES = ("gt", "speed_kn", "fuel_l_per_h", "wave_limit_m", "wind_limit_kn")
#: The sailing figures' help, shared by `vessel add` and `vessel set` (bounds:
#: `kinds.fishfinder.sailing_figures.FIGURE_BOUNDS`).
SPEED_HELP = "Cruising speed, knots (0..60)."
FUEL_HELP = "Fuel use at cruising speed, litres per hour (0..2000)."
WAVE_LIMIT_HELP = (
    "Highest waves the boat should go out in, m (0..9: BMKG's \"ekstrem\" ends at 9 m). 0: none registered, routes take "
    "the tenant's small-boat limit (sea.small_boat_wave_m, BMKG's 1.25 m by default)."
)
WIND_LIMIT_HELP = (
    "Strongest wind the boat should go out in, knots (0..64: hurricane force). 0: none registered, routes take the "
    "tenant's small-boat limit (sea.small_boat_wind_kn, BMKG's 15 kn by default)."
)
RELOAD_HINT = (
    "reload the broker: SIGHUP makes a running Mosquitto re-read passwd and acl (`systemctl reload mosquitto`, "
    "whose Debian unit sends it, or `kill -HUP <pid>`); clients already connected stay connected"
)

ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", "-c", help="YAML config (default: $TEPI_CONFIG or config/tepi.yaml).")
]
MqttDirOpt = Annotated[Path, typer.Option("--mqtt-dir", help="The central broker's security files (`tepi mqtt setup --out DIR`).")]
UplinkHostOpt = Annotated[Optional[str], typer.Option(help="The central broker as the boat reaches it (default: the config's uplink broker).")]
UplinkPortOpt = Annotated[Optional[int], typer.Option(help="Its port (default: the config's; 8883 for the TLS listener).")]
UplinkCaOpt = Annotated[Optional[Path], typer.Option(help="CA certificate file on the boat, to use the TLS listener.")]


@dataclass(frozen=True)
class Enrolment:
    """One boat to enrol, checked: ids, a home position on the globe (both or neither), figures."""

    vessel: str
    tenant: str
    name: str
    home_port: str
    gateway: str
    home: tuple[float, float] | None = None
    owner: int | None = None
    gt: float = 0.0
    speed_kn: float = 0.0
    fuel_l_per_h: float = 0.0
    wave_limit_m: float = 0.0
    wind_limit_kn: float = 0.0

    def __post_init__(self) -> None:
        for label, value in (("vessel id", self.vessel), ("gateway id", self.gateway), ("tenant", self.tenant)):
            if not re.match(_ID, value):
                raise ValueError(f"{label} {value!r} must match {_ID}")
        for label, value in (("name", self.name), ("home_port", self.home_port)):
            if not value.strip():
                raise ValueError(f"{label} is empty")
        from kinds.fishfinder.sailing_figures import check_figures

        check_figures(gt=self.gt, speed_kn=self.speed_kn, fuel_l_per_h=self.fuel_l_per_h,
                      wave_limit_m=self.wave_limit_m, wind_limit_kn=self.wind_limit_kn)  # fmt: skip
        if self.home is not None and not (-90 <= self.home[0] <= 90 and -180 <= self.home[1] <= 180):
            raise ValueError(f"home position {self.home[0]!r}, {self.home[1]!r} is not on the globe (lat -90..90, lon -180..180)")
        if self.home is None:
            from kinds.fishfinder.home_ports import home_port_position, known_ports

            if home_port_position(self.home_port) is None:
                raise ValueError(
                    f"no home position: {self.home_port!r} is not a port whose position Tepi knows ({known_ports()}), so "
                    "give it (--home-lat/--home-lon; home_lat, home_lon in a fleet file). A vessel without one is never "
                    "counted at sea from its fixes, so it would raise no overdue alert"
                )

    @classmethod
    def from_row(cls, row: dict[str, str]) -> Enrolment:
        """A row of a fleet's CSV (`CSV_COLUMNS`); `ValueError` naming the column at fault."""
        missing = [c for c in _REQUIRED if not (row.get(c) or "").strip()]
        if missing:
            raise ValueError(f"no {', '.join(missing)}")
        value = {k: (v or "").strip() for k, v in row.items()}
        vessel = value["id"]
        return cls(
            vessel=vessel, tenant=value["tenant"], name=value["name"], home_port=value["home_port"],
            gateway=value.get("gateway") or _boat_gateway_id(vessel),
            home=_home(_number(value, "home_lat"), _number(value, "home_lon")),
            owner=_owner(_number(value, "owner", integer=True)),
            **{f: _number(value, f) or 0.0 for f in _FIGURES},
        )


def as_options(message: str) -> str:
    """A message naming the sailing figures as fields (`wave_limit_m`, the fleet file's columns)
    with the command's options instead (`--wave-limit-m`)."""
    return re.sub(r"\b(gt|speed_kn|fuel_l_per_h|wave_limit_m|wind_limit_kn)\b", lambda m: "--" + m[1].replace("_", "-"), message)


def _boat_gateway_id(vessel: str) -> str:
    from tepi.boat_gateways import boat_gateway_id

    return boat_gateway_id(vessel)


def _number(row: dict[str, str], column: str, integer: bool = False) -> float | None:
    text = row.get(column) or ""
    if not text:
        return None
    try:
        number = int(text) if integer else float(text)
    except ValueError:
        raise ValueError(f"{column} {text!r} is not {'a whole number' if integer else 'a number'}") from None
    if not math.isfinite(number):
        raise ValueError(f"{column} {text!r} is not a finite number")
    return number


def _owner(number: float | None) -> int | None:
    return None if number is None else int(number)


def _home(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if (lat is None) != (lon is None):
        raise ValueError("give both home_lat and home_lon, or neither")
    return None if lat is None or lon is None else (lat, lon)


def read_fleet(path: Path) -> tuple[list[tuple[str, Enrolment]], list[str]]:
    """The boats of a fleet's CSV, each with where it is (`<file>:<line>`, a row named by the line
    it ends on, the header being line 1), and every rejected row as `<file>:<line>: <why>`."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # utf-8-sig: a spreadsheet's BOM
            reader = csv.DictReader(f)
            unknown = sorted(set(reader.fieldnames or ()) - set(CSV_COLUMNS))
            absent = [c for c in _REQUIRED if c not in (reader.fieldnames or ())]
            if unknown or absent:
                why = "; ".join(x for x in (
                    f"unknown columns {', '.join(unknown)}" if unknown else "",
                    f"missing columns {', '.join(absent)}" if absent else "",
                ) if x)  # fmt: skip
                return [], [f"{path}:1: {why} (columns: {', '.join(CSV_COLUMNS)})"]
            boats, rejected, seen, gateways = [], [], {}, {}
            for row in reader:
                where = f"{path}:{reader.line_num}"
                if None in row:
                    rejected.append(f"{where}: more fields than the header has")
                    continue
                try:
                    boat = Enrolment.from_row(row)
                except ValueError as exc:
                    rejected.append(f"{where} (vessel {(row.get('id') or '?').strip()!r}): {exc}")
                    continue
                if boat.vessel in seen:
                    rejected.append(f"{where}: vessel {boat.vessel!r} again (first on line {seen[boat.vessel]})")
                    continue
                if boat.gateway in gateways:  # one gateway's users and kept configuration serve one boat
                    rejected.append(f"{where}: gateway {boat.gateway!r} again (first on line {gateways[boat.gateway]})")
                    continue
                seen[boat.vessel] = gateways[boat.gateway] = reader.line_num
                boats.append((where, boat))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [f"{path}: cannot read it as CSV: {exc}"]
    if not boats and not rejected:
        rejected.append(f"{path}: no boats (a header row, then one boat a row)")
    return boats, rejected


def _line_of(rejection: str, path: Path) -> int:
    """The line a rejection of `path` names (`<path>:<line>...`), to list them in file order."""
    found = re.match(r":(\d+)", rejection.removeprefix(str(path)))
    return int(found.group(1)) if found else 0


def _uplink(cfg: TepiConfig, host: str | None, port: int | None, ca: Path | None) -> BrokerConfig:
    central = cfg.gateway.uplink_broker
    return BrokerConfig(host=host or central.host, port=port or central.port, tls_ca_file=ca or central.tls_ca_file)


def _enrol(session: Session, cfg: TepiConfig, boat: Enrolment, uplink: BrokerConfig) -> tuple[str, TepiConfig]:
    """Register `boat` (or find it registered as asked) and build its gateway's configuration;
    `ValueError` saying why not."""
    import sqlalchemy as sa

    from central.accounts import get_user
    from central.errors import UserNotFound
    from central.models import ROLE_FISHER, Tenant
    from contract.clock import utcnow
    from core.config import TenantConfig
    from kinds.fishfinder.state import Vessel, ensure_vessel
    from tepi.boat_gateways import boat_gateway_config

    tenant = session.get(Tenant, boat.tenant)
    if tenant is None:
        raise ValueError(f"tenant {boat.tenant!r} does not exist")
    other = session.scalar(sa.select(Vessel.id).where(Vessel.gateway_id == boat.gateway, Vessel.id != boat.vessel).limit(1))
    if other is not None:
        raise ValueError(f"gateway {boat.gateway!r} is on board vessel {other!r} already: give this boat its own (gateway)")
    if boat.owner is not None:
        try:
            user = get_user(session, boat.owner, boat.tenant)
        except UserNotFound:
            raise ValueError(f"user {boat.owner} is not a user of {boat.tenant}") from None
        if user.role != ROLE_FISHER:
            raise ValueError(f"user {boat.owner} is a {user.role}, not a fisher")
    _, status = ensure_vessel(
        session, vessel_id=boat.vessel, tenant=boat.tenant, name=boat.name, home_port=boat.home_port,
        gateway_id=boat.gateway, now=utcnow(), gt=boat.gt, speed_kn=boat.speed_kn, fuel_l_per_h=boat.fuel_l_per_h,
        wave_limit_m=boat.wave_limit_m, wind_limit_kn=boat.wind_limit_kn, owner_user=boat.owner, home=boat.home,
    )
    base = cfg
    if all(t.id != boat.tenant for t in cfg.tenants):  # a tenant made with `tepi admin tenant create` only
        base = cfg.model_copy(update={"tenants": [*cfg.tenants, TenantConfig(id=tenant.id, name=tenant.name)]})
    config = boat_gateway_config(
        base, boat.vessel, boat.tenant, gateway=boat.gateway, local_broker=BrokerConfig(), uplink_broker=uplink
    )
    return status, config


def _grant(mqtt_dir: Path, boat: TepiConfig) -> BrokerGrant:
    """The boat's users on the central broker, its password-free configuration kept beside them
    for the next `tepi mqtt setup` (`grant_on_central_broker`); `MqttSecurityError` on failure."""
    from tepi.boat_gateways import grant_on_central_broker

    return grant_on_central_broker(mqtt_dir, boat)


def _write_gateway_config(path: Path, mqtt_dir: Path, boat: TepiConfig) -> bool:
    """The boat's own YAML with its central password (0600); False when it was there as is."""
    from tepi.boat_gateways import boat_gateway_yaml
    from tepi.mqtt_auth import write_private
    from tepi.mqtt_security import MqttSecurityFiles

    text = boat_gateway_yaml(boat, MqttSecurityFiles(directory=mqtt_dir).credential(boat.gateway.id).password)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    write_private(path, text)
    return True


def _say_status(boat: Enrolment, status: str) -> None:
    from kinds.fishfinder.state import HOME_SET, REGISTERED

    at = f"{boat.vessel} in {boat.tenant} (gateway {boat.gateway})"
    if status == REGISTERED:
        typer.echo(f"registered vessel {at}")
    elif status == HOME_SET:
        typer.echo(f"vessel {at} was registered without a home position: set it")
    else:
        typer.echo(f"vessel {at} is registered already: nothing changed")


def _say_grants(mqtt_dir: Path, grants: list[BrokerGrant]) -> None:
    changed = sorted({p.name for g in grants for p in g.changed})
    for g in grants:
        verb = "added to" if g.changed else "already in"
        typer.echo(f"MQTT users {', '.join(g.users)} {verb} {mqtt_dir}; password: `tepi mqtt show-credentials --out {mqtt_dir} {g.secret}`")
    if changed:
        typer.echo(f"changed {', '.join(changed)}: {RELOAD_HINT}")


def _fail(message: str, code: int = 1) -> typer.Exit:
    from tepi.admin_cli import _fail as fail

    return fail(message, code)


def _reject(rows: list[str], message: str, code: int = 1) -> typer.Exit:
    for line in rows:
        typer.echo(f"rejected {line}", err=True)
    return _fail(message, code)


@vessel_app.command("add")
def vessel_add(
    ctx: typer.Context,
    vessel_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. km-sinar-laut (lowercase, digits, - and _).")],
    tenant: Annotated[str, typer.Option("--tenant", "-t", help="Tenant id.")],
    name: Annotated[str, typer.Option("--name", "-n", help='As painted on the hull, e.g. "KM Sinar Laut".')],
    home_port: Annotated[str, typer.Option("--home-port", help=(
        'e.g. "Pelabuhan Benoa": a port Tepi knows (kinds/fishfinder/home_ports.py; any case, with or without '
        '"Pelabuhan", "PPN", "PPI") gives the home position; for any other, give --home-lat/--home-lon.'))],
    mqtt_dir: MqttDirOpt,
    home_lat: Annotated[Optional[float], typer.Option(help=(
        "Home port latitude (WGS 84); default: the known port's. Required for another port: without a home "
        "position a vessel is never counted at sea from its fixes (no overdue alert)."))] = None,
    home_lon: Annotated[Optional[float], typer.Option(help="Home port longitude (WGS 84).")] = None,
    gateway: Annotated[Optional[str], typer.Option("--gateway", "-g", help="Id of the gateway on board (default gw-<ID>).")] = None,
    owner: Annotated[Optional[int], typer.Option("--owner", help="User id of the owning fisher (sees track and catches).")] = None,
    gt: Annotated[float, typer.Option("--gt", help="Gross tonnage.")] = 0.0,
    speed_kn: Annotated[float, typer.Option("--speed-kn", help=SPEED_HELP)] = 0.0,
    fuel_l_per_h: Annotated[float, typer.Option("--fuel-l-per-h", help=FUEL_HELP)] = 0.0,
    wave_limit_m: Annotated[float, typer.Option("--wave-limit-m", help=WAVE_LIMIT_HELP)] = 0.0,
    wind_limit_kn: Annotated[float, typer.Option("--wind-limit-kn", help=WIND_LIMIT_HELP)] = 0.0,
    gateway_config: Annotated[Optional[Path], typer.Option(help="Also write the YAML the boat runs (`tepi gateway --config`), password included, 0600.")] = None,
    uplink_host: UplinkHostOpt = None,
    uplink_port: UplinkPortOpt = None,
    uplink_ca: UplinkCaOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Register a vessel of a tenant and give its on-board gateway its MQTT users and grants on
    the central broker, in one step; running it again changes nothing. In production (the
    default) it needs the API's TEPI_AUTH_PEPPER set, as every `tepi admin` command."""
    from tepi.admin_cli import _config, _session
    from tepi.mqtt_auth import MqttSecurityError

    try:
        boat = Enrolment(
            vessel=vessel_id, tenant=tenant, name=name, home_port=home_port, gateway=gateway or _boat_gateway_id(vessel_id),
            home=_home(home_lat, home_lon), owner=owner, gt=gt, speed_kn=speed_kn, fuel_l_per_h=fuel_l_per_h,
            wave_limit_m=wave_limit_m, wind_limit_kn=wind_limit_kn,
        )
    except ValueError as exc:
        raise _fail(as_options(str(exc)), 2) from exc
    with _session(_config(ctx, config)) as (session, cfg):
        try:
            status, boat_config = _enrol(session, cfg, boat, _uplink(cfg, uplink_host, uplink_port, uplink_ca))
            grant = _grant(mqtt_dir, boat_config)
            written = gateway_config is not None and _write_gateway_config(gateway_config, mqtt_dir, boat_config)
        except (ValueError, MqttSecurityError) as exc:  # the transaction rolls back: no vessel without its users
            raise _fail(str(exc)) from exc
    _say_status(boat, status)
    _say_grants(mqtt_dir, [grant])
    if gateway_config is not None:
        typer.echo(f"gateway config for the boat {'written to' if written else 'unchanged in'} {gateway_config} (holds its MQTT password; 0600)")


@vessel_app.command("import")
def vessel_import(
    ctx: typer.Context,
    fleet: Annotated[Path, typer.Argument(metavar="FILE.csv", help=f"A header row ({', '.join(CSV_COLUMNS)}), then a boat a row.")],
    mqtt_dir: MqttDirOpt,
    gateway_configs: Annotated[Optional[Path], typer.Option(help="Also write each boat's YAML here, as <id>.yaml (passwords included, 0600).")] = None,
    uplink_host: UplinkHostOpt = None,
    uplink_port: UplinkPortOpt = None,
    uplink_ca: UplinkCaOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Enrol a fleet from a CSV file as `vessel add` enrols one boat: every row is checked first,
    and a rejected row (named by its line) registers nothing; importing it again changes nothing.
    In production (the default) it needs the API's TEPI_AUTH_PEPPER set, as every `tepi admin` command."""
    from tepi.admin_cli import _config, _session
    from tepi.boat_gateways import boat_users, enrolled_users
    from tepi.mqtt_auth import MqttSecurityError
    from tepi.mqtt_security import MqttSecurityFiles

    boats, rejected = read_fleet(fleet)
    if not boats:
        raise _reject(rejected, f"{len(rejected)} rows rejected: nothing registered", 2)
    done: list[tuple[Enrolment, str, TepiConfig]] = []
    with _session(_config(ctx, config)) as (session, cfg):
        uplink = _uplink(cfg, uplink_host, uplink_port, uplink_ca)
        try:
            central = MqttSecurityFiles(directory=mqtt_dir).credentials()
        except MqttSecurityError as exc:
            raise _fail(f"{exc}: nothing registered (set up the central broker first: `tepi mqtt setup --out {mqtt_dir}`)") from exc
        # The rows the file's own checks passed, now against the registry and the broker's users,
        # in the same pass: every rejected row is named at once, whatever made it so.
        claimed: dict[str, str] = {}  # MQTT username -> the vessel of the file that takes it
        for where, boat in boats:
            try:  # what a rejected row wrote, if anything, rolls back with the rest
                status, boat_config = _enrol(session, cfg, boat, uplink)
                users = boat_users(central, boat_config, enrolled_users(mqtt_dir, boat_config.gateway.id))
                clash = next((claimed[n] for p in users for n in (p.username, p.secret_name) if n in claimed), None)
                if clash is not None:
                    raise ValueError(f"its MQTT users clash with vessel {clash!r} of this file: give it another id or gateway")
            except (ValueError, MqttSecurityError) as exc:
                rejected.append(f"{where} (vessel {boat.vessel!r}): {exc}")
                continue
            claimed.update((name, boat.vessel) for p in users for name in (p.username, p.secret_name))
            done.append((boat, status, boat_config))
        if rejected:  # the transaction rolls back: no vessel is registered
            raise _reject(sorted(rejected, key=lambda r: _line_of(r, fleet)), f"{len(rejected)} rows rejected: nothing registered")
        try:
            grants = [_grant(mqtt_dir, boat_config) for _, _, boat_config in done]
            written = [
                _write_gateway_config(gateway_configs / f"{boat.vessel}.yaml", mqtt_dir, boat_config)
                for boat, _, boat_config in done
            ] if gateway_configs is not None else []  # fmt: skip
        except MqttSecurityError as exc:
            raise _fail(f"{exc}: nothing registered") from exc
    for boat, status, _ in done:
        _say_status(boat, status)
    _say_grants(mqtt_dir, grants)
    if gateway_configs is not None:
        typer.echo(f"gateway configs for the boats in {gateway_configs} ({sum(written)} written; they hold MQTT passwords, 0600)")
