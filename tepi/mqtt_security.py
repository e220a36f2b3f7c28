"""MQTT security on a real Mosquitto: users, ACL and TLS generated from the device registry.

`setup_broker_security` writes, into one directory:

- `credentials.json` (0600): username -> password, role, tenant; what field teams provision;
- `passwd` (0600): Mosquitto 2.0's `$7$` password file for those users;
- `acl`: per-user grants (see `tepi.mqtt_auth` for who may do what);
- `tls/` with `--tls`: a test CA and a server certificate for localhost/127.0.0.1;
- `mosquitto.conf`: listeners plus `allow_anonymous false`, `password_file`, `acl_file`;
  `use_username_as_clientid` on every listener, so a credential can only ever open its own
  session (no takeover); queue limits sized by `tepi.mqtt_queues`; persistence, so queued
  QoS 1 messages survive a broker restart; `persistent_client_expiration`, so a session
  that never returns (a worker not retired) does not take its share of uplinks forever.

Re-running it keeps existing passwords (and the CA), so adding a device does not lock the rest
of the fleet out; `--rotate USER` or `--rotate-all` replaces passwords on purpose, though
`--rotate-all` leaves the boats enrolled under `boats/` alone (`rotation`). Mosquitto
re-reads `passwd` and `acl` on SIGHUP, but clients already connected stay connected: a revoked
or rotated user is cut off at its next CONNECT, so restart the broker to evict at once. A
changed `mosquitto.conf` (an upgrade, new limits or listeners) needs a restart: listeners and
their options, `use_username_as_clientid` among them, are "not reloaded on reload signal"
(mosquitto.conf(5)); `tepi mqtt setup` says when the file changed.
`mqtt_app` is mounted by the CLI as `tepi mqtt`.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Optional

import typer

from core.config import ConfigError, TepiConfig, load_config
from tepi.mqtt_auth import (
    DEFAULT_ITERATIONS,
    INGEST_SECRET,
    MqttCredential,
    MqttPrincipal,
    MqttSecurityError,
    hash_password,
    issue_credentials,
    principals,
    read_credentials,
    render_acl,
    render_password_file,
    verify_password,
    write_credentials,
    write_private,
)
from tepi.mqtt_queues import QUEUED_MESSAGE_OVERHEAD_BYTES, QueueLimits, size_queues
from tepi.mqtt_tls import CA_CERT, SERVER_CERT, SERVER_KEY, MosquittoTls, issue_test_tls

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "INGEST_SECRET",
    "MosquittoTls",
    "MqttCredential",
    "MqttPrincipal",
    "MqttSecurityError",
    "MqttSecurityFiles",
    "hash_password",
    "issue_credentials",
    "issue_test_tls",
    "mqtt_app",
    "principals",
    "render_acl",
    "render_password_file",
    "setup_broker_security",
    "verify_password",
]

PASSWORD_FILE = "passwd"
ACL_FILE = "acl"
CREDENTIALS_FILE = "credentials.json"
CONF_FILE = "mosquitto.conf"
TLS_DIR = "tls"
DEFAULT_PERSISTENCE_DIR = Path("/var/lib/mosquitto")  # Debian's, owned by the mosquitto user
#: Listener options of every listener: the client id is the username, so one credential
#: cannot connect with another's client id and erase its session (mosquitto.conf(5)).
LISTENER_OPTIONS = ("use_username_as_clientid true",)
SESSION_EXPIRY_MIN_DAYS = 7
SESSION_EXPIRY_OUTAGES = 4

log = logging.getLogger("tepi.mqtt")


@dataclass(frozen=True)
class MqttSecurityFiles:
    """Where one broker's security material lives; `Mosquitto(auth=..., tls=files.tls)` uses it."""

    directory: Path
    tls: MosquittoTls | None = None

    @property
    def password_file(self) -> Path:
        return self.directory / PASSWORD_FILE

    @property
    def acl_file(self) -> Path:
        return self.directory / ACL_FILE

    @property
    def credentials_file(self) -> Path:
        return self.directory / CREDENTIALS_FILE

    @property
    def conf_file(self) -> Path:
        return self.directory / CONF_FILE

    @classmethod
    def at(cls, directory: Path) -> "MqttSecurityFiles":
        """The files a previous `setup_broker_security` left in `directory`."""
        tls_dir = directory / TLS_DIR
        tls = None
        if (tls_dir / SERVER_CERT).exists():
            tls = MosquittoTls(ca_cert=tls_dir / CA_CERT, server_cert=tls_dir / SERVER_CERT, server_key=tls_dir / SERVER_KEY)
        return cls(directory=directory, tls=tls)

    def auth_conf(self) -> list[str]:
        """Global mosquitto.conf lines: passwords required, ACL enforced, on every listener."""
        return [
            "allow_anonymous false",
            f"password_file {self.password_file.resolve()}",
            f"acl_file {self.acl_file.resolve()}",
        ]

    def broker_conf(self, persistence_dir: Path | None) -> list[str]:
        """The generated global settings (auth, queue limits, persistence), as `mosquitto.conf`
        has them, for a broker that opens its own listeners (`core.processes.Mosquitto`).

        `persistence_dir` replaces the generated persistence location; None drops persistence.
        """
        try:
            text = self.conf_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise MqttSecurityError(f"cannot read {self.conf_file}: {exc.strerror}") from exc
        lines: list[str] = []
        for line in text.splitlines():
            if line.startswith("listener "):
                break
            if not line or line.startswith("#") or line.startswith("per_listener_settings"):
                continue
            if line.startswith(("persistence", "autosave_interval")):
                if persistence_dir is None:
                    continue
                if line.startswith("persistence_location"):
                    line = f"persistence_location {persistence_dir.resolve()}/"
            lines.append(line)
        return lines

    def listener_options(self) -> list[str]:
        return list(LISTENER_OPTIONS)

    def credentials(self) -> dict[str, MqttCredential]:
        return read_credentials(self.credentials_file)

    def credential(self, username: str) -> MqttCredential:
        """One user's password, for provisioning a device or configuring a gateway; a gateway id
        or `ingest` names the password its connections share."""
        credentials = self.credentials()
        found = credentials.get(username) or next((c for c in credentials.values() if c.secret == username), None)
        if found is None:
            raise MqttSecurityError(f"no MQTT user {username!r} in {self.credentials_file}")
        return found


def setup_broker_security(
    configs: Sequence[TepiConfig],
    out: Path,
    *,
    tls: bool = False,
    hostnames: Sequence[str] = ("localhost",),
    ip_addresses: Sequence[str] = ("127.0.0.1",),
    rotate: Collection[str] | Literal["all"] = (),
    port: int = 1883,
    bind: str | None = "127.0.0.1",
    tls_port: int = 8883,
    iterations: int = DEFAULT_ITERATIONS,
    persistence_dir: Path = DEFAULT_PERSISTENCE_DIR,
) -> MqttSecurityFiles:
    """Write credentials, password file, ACL, optional TLS material and mosquitto.conf into `out`.

    The plain listener binds loopback by default because passwords cross it in clear; remote
    gateways and devices should use the TLS listener (`tls_port`, all interfaces).
    `persistence_dir` must be writable by the broker: Mosquitto saves its sessions and queued
    messages there when it stops and every `broker_queue.autosave_interval_s`.
    """
    users = principals(configs)
    files = MqttSecurityFiles(directory=out)
    existing = files.credentials() if files.credentials_file.exists() else {}
    issued = issue_credentials(users, existing, rotate)
    # Credentials first: if a later step fails, a re-run hashes the same passwords again.
    write_credentials(files.credentials_file, issued)
    write_private(files.password_file, render_password_file(issued.values(), iterations=iterations))
    write_private(files.acl_file, render_acl(users))
    if tls:
        files = MqttSecurityFiles(directory=out, tls=issue_test_tls(out / TLS_DIR, hostnames, ip_addresses))
    limits = size_queues(configs)
    autosave = min(c.broker_queue.autosave_interval_s for c in configs)
    conf = [
        "# Generated by `tepi mqtt setup`; run `mosquitto -c` on it or include it in the main config.",
        "per_listener_settings false",
        *files.auth_conf(),
        *limits.conf_lines(),
        "# Queued QoS 1 messages survive a restart (saved at exit); a crash loses at most the last autosave interval.",
        "persistence true",
        f"persistence_location {persistence_dir}/",
        f"autosave_interval {autosave}",
        "# A session away this long is not coming back (a retired ingest worker, one from before an upgrade):",
        "# its queue is freed, and a share-group member stops taking its share. Far above the outage budget.",
        f"persistent_client_expiration {session_expiry_days(configs)}d",
        "",
        f"listener {port}{' ' + bind if bind else ''}",
        *LISTENER_OPTIONS,
    ]
    if files.tls is not None:
        conf += ["", *files.tls.listener_conf(tls_port), *LISTENER_OPTIONS]
    try:
        files.conf_file.write_text("\n".join(conf) + "\n", encoding="utf-8")
    except OSError as exc:
        raise MqttSecurityError(f"cannot write {files.conf_file}: {exc.strerror}") from exc
    kept = sum(1 for u, c in issued.items() if u in existing and existing[u].password == c.password)
    log.info(
        "mqtt security files written",
        extra={
            "directory": str(out), "users": len(users), "new_passwords": len(issued) - kept, "tls": files.tls is not None,
            "max_queued_messages": limits.max_queued_messages, "sized_for": limits.largest.session,
            "queue_memory_mb": round(limits.memory_bytes / 1e6), "queue_memory_worst_mb": round(limits.worst_memory_bytes / 1e6),
            "queue_memory_ceiling_per_session_mb": round(limits.memory_ceiling_bytes / 1e6),
        },
    )
    return files


def session_expiry_days(configs: Sequence[TepiConfig]) -> int:
    """Days before Mosquitto removes an offline persistent session: at least a week and four
    outage budgets, so no session the queues are sized to bridge ever expires."""
    outage_s = max(c.broker_queue.outage_s for c in configs)
    return max(SESSION_EXPIRY_MIN_DAYS, math.ceil(SESSION_EXPIRY_OUTAGES * outage_s / 86_400))


# --- `tepi mqtt ...` ---------------------------------------------------------------------------

mqtt_app = typer.Typer(no_args_is_help=True, help="MQTT users, ACL and TLS for Mosquitto, from the device registry.")


@cache
def _console() -> Console:
    """rich on the first message only (`tepi.cli.console`); soft wrap: paths stay copy-pastable."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


#: Under a setup's `--out`: configurations of gateways enrolled one by one after setup (a boat's,
#: written by `tepi admin vessel add`), without passwords. Every later setup includes them, so
#: re-running it never locks out a gateway it was not told about (a boat at sea cannot be
#: handed a new password).
ENROLLED_DIR = "boats"


def enrolled_configs(out: Path) -> list[Path]:
    """The enrolled gateways' configuration files under `out`, in a stable order."""
    return sorted((out / ENROLLED_DIR).glob("*.yaml"))


def enrolled_secrets(boats: Sequence[TepiConfig]) -> set[str]:
    """The password names (`MqttPrincipal.secret_name`) of the enrolled boats: each one's gateway
    and fish-finder; ingest's, derived from every configuration, are the centre's."""
    return {p.secret_name for p in principals(boats) if p.role != "ingest"} if boats else set()


def rotation(
    configs: Sequence[TepiConfig], boats: Sequence[TepiConfig], named: Collection[str], *, everyone: bool
) -> Collection[str] | Literal["all"]:
    """What `setup_broker_security` rotates: the `named` users; with `everyone`, also every
    password but the enrolled `boats`' (a boat at sea cannot be handed a new one), which only a
    name rotates."""
    if not everyone:
        return named
    if not boats:
        return "all"
    return {p.secret_name for p in principals(configs)} - enrolled_secrets(boats) | set(named)


def _unique_paths(paths: list[Path | None]) -> list[Path | None]:
    """Each file once, even when also named with `-c` (as the README once advised)."""
    seen: set[Path | None] = set()
    unique = []
    for p in paths:
        key = p.resolve() if p is not None else None
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


_ROLE_NAMES = {"device": ("device", "devices"), "gateway": ("gateway connection", "gateway connections"), "ingest": ("ingest worker", "ingest workers")}
OutOpt = Annotated[Path, typer.Option("--out", help="Directory of the broker's security files.")]


@mqtt_app.command("setup")
def setup_command(
    out: OutOpt,
    config: Annotated[
        Optional[list[Path]],
        typer.Option("--config", "-c", help="Deployment YAML; repeat for one broker serving several gateways."),
    ] = None,
    tls: Annotated[bool, typer.Option("--tls/--no-tls", help="Also write a test CA, a server certificate and a TLS listener.")] = False,
    hostname: Annotated[Optional[list[str]], typer.Option(help="DNS name in the server certificate (repeatable; default localhost).")] = None,
    ip: Annotated[Optional[list[str]], typer.Option(help="IP address in the server certificate (repeatable; default 127.0.0.1).")] = None,
    port: Annotated[int, typer.Option(help="Plain listener port.")] = 1883,
    bind: Annotated[str, typer.Option(help="Plain listener address; passwords cross it in clear.")] = "127.0.0.1",
    tls_port: Annotated[int, typer.Option(help="TLS listener port (all interfaces).")] = 8883,
    rotate: Annotated[Optional[list[str]], typer.Option(help="Give this user a new password (repeatable); also an enrolled boat's gateway.")] = None,
    rotate_all: Annotated[bool, typer.Option(help=(
        f"New passwords for everyone but the gateways enrolled in OUT/{ENROLLED_DIR} (`tepi admin vessel add`), "
        "whose boats may be at sea and cannot be handed one: name those with --rotate."))] = False,
    persistence_dir: Annotated[Path, typer.Option(help="Where the broker saves sessions and queued messages; writable by it.")] = DEFAULT_PERSISTENCE_DIR,
) -> None:
    """Write credentials, password file, ACL and mosquitto.conf; passwords are never printed."""
    given = list(config) if config else [None]
    enrolled = enrolled_configs(out)
    try:
        loaded = {p: load_config(p) for p in _unique_paths([*given, *enrolled])}
    except ConfigError as exc:
        _console().print(f"[red]configuration error[/red]: {exc}")
        raise typer.Exit(2) from exc
    configs = list(loaded.values())
    boats = [cfg for p, cfg in loaded.items() if p is not None and p.resolve() in {e.resolve() for e in enrolled}]
    try:
        previous = MqttSecurityFiles(directory=out)
        previous_conf = _read_if_there(previous.conf_file)
        before = previous.credentials() if previous.credentials_file.exists() else {}
        files = setup_broker_security(
            configs, out, tls=tls,
            hostnames=hostname if hostname is not None else ("localhost",),
            ip_addresses=ip if ip is not None else ("127.0.0.1",),
            rotate=rotation(configs, boats, rotate or (), everyone=rotate_all),
            port=port, bind=bind, tls_port=tls_port, persistence_dir=persistence_dir,
        )
        after = files.credentials()
        roles = Counter(c.role for c in after.values())
        limits = size_queues(configs)
        conf_changed = previous_conf not in (None, _read_if_there(files.conf_file))
    except MqttSecurityError as exc:
        _console().print(f"[red]cannot set up MQTT security[/red]: {exc}")
        raise typer.Exit(1) from exc
    counts = ", ".join(f"{n} {_ROLE_NAMES[role][n != 1]}" for role, n in sorted(roles.items()))
    _console().print(f"[green]ok[/green]: {sum(roles.values())} MQTT users ({counts}) in {out}")
    if enrolled:
        rotated = sorted({c.secret or u for u, c in after.items() if u in before and before[u].password != c.password}
                         & enrolled_secrets(boats))  # fmt: skip
        _console().print(
            f"  enrolled     {len(enrolled)} gateways from {out / ENROLLED_DIR} (`tepi admin vessel add`) kept"
            + (", with their passwords: --rotate-all leaves a boat's alone, as a boat at sea cannot be handed a new "
               "one (name it with --rotate to rotate it)" if rotate_all else "")
        )  # fmt: skip
        if rotated:
            _console().print(
                f"[yellow]rotated enrolled[/yellow] {', '.join(rotated)}: each boat locked out until it runs its new "
                "YAML (`tepi admin vessel add ... --gateway-config FILE` writes it)"
            )
    _console().print(f"  credentials  {files.credentials_file} (0600; `tepi mqtt show-credentials --out {out} USER`)")
    _console().print(f"  password     {files.password_file}")
    _console().print(f"  acl          {files.acl_file}")
    if files.tls is not None:
        _console().print(f"  tls          {files.tls.ca_cert} (give to clients), {files.tls.server_cert}, {files.tls.server_key}")
    _console().print(f"  mosquitto    {files.conf_file}")
    _print_limits(limits)
    if conf_changed:
        _console().print(
            "[yellow]restart the broker[/yellow]: mosquitto.conf changed, and Mosquitto does not reload listeners "
            "or use_username_as_clientid on SIGHUP (mosquitto.conf(5))"
        )
    elif previous_conf is not None:
        _console().print("  reload       mosquitto.conf is unchanged: SIGHUP makes a running broker re-read passwd and acl")
    _console().print(f"  a broker running as user 'mosquitto' needs: chown mosquitto: on passwd, acl, the server key and {persistence_dir}")
    if files.tls is None and bind not in ("127.0.0.1", "::1", "localhost"):
        _console().print("[yellow]warning[/yellow]: no TLS: passwords cross the network in clear (use --tls)")


def _print_limits(limits: QueueLimits) -> None:
    largest = limits.largest
    _console().print(
        f"  queues       max_queued_messages {limits.max_queued_messages} (largest session {largest.session}: "
        f"{largest.messages} messages x {limits.margin:g}), max_queued_bytes {limits.max_queued_bytes}, "
        f"max_inflight_messages {limits.max_inflight_messages}; limits apply to each session"
    )
    _console().print(
        f"  memory       whole broker ({limits.session_count} sessions, ingest workers sharing one backlog): about "
        f"{limits.memory_bytes / 1e6:.0f} MB with every queue full, {limits.worst_memory_bytes / 1e6:.0f} MB at worst "
        f"(~{QUEUED_MESSAGE_OVERHEAD_BYTES} B per message plus its payload); the limits allow "
        f"{limits.memory_ceiling_bytes / 1e6:.0f} MB per session"
    )


def _read_if_there(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MqttSecurityError(f"cannot read {path}: {exc.strerror}") from exc


@mqtt_app.command("show-credentials")
def show_credentials_command(
    username: Annotated[str, typer.Argument(help="Device id, gateway id or 'ingest' (or one connection's user, e.g. gw-ciliwung.uplink).")],
    out: OutOpt,
) -> None:
    """Print one user's password on stdout (and nothing else), for provisioning a device."""
    try:
        credential = MqttSecurityFiles.at(out).credential(username)
    except MqttSecurityError as exc:
        _console().print(f"[red]error[/red]: {exc}")
        raise typer.Exit(1) from exc
    typer.echo(credential.password)
