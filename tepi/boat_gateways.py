"""The configuration of a fishing boat's own gateway, as `tepi demo` runs it and `tepi mqtt
setup` derives its users from, and its enrolment on the central broker (`tepi admin vessel add`).

A boat is out of coverage for days, so its gateway is on board (kinds/fishfinder/README.md),
with the fish-finder on the boat's own broker (a phone or router bridging the NMEA
multiplexer) and its outbox on board: one deployment, one `TepiConfig`, per boat. The fish-
finder's platform is the vessel, registered centrally (`kinds.fishfinder.state.register_vessel`),
not listed here: the configuration has no stations.

`grant_on_central_broker` adds the boat's MQTT users to the security files `tepi mqtt setup`
wrote for the central broker, exactly as setup derives them from the boat's configuration
(`tepi.mqtt_auth.principals`: its gateway's three connections sharing the gateway's password,
its fish-finder), keeping every other user and password as they are, and keeps the boat's configuration
without password in `DIR/boats/`, which every later setup includes (so a re-run never locks a
boat out) and which marks those users as the boat's: a boat never takes over a user the
deployment already has (a river gateway's or device's id).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from core.config import BrokerConfig, BrokerQueueConfig, DeviceConfig, GatewayConfig, OutboxConfig, TepiConfig
from tepi.mqtt_auth import (
    MqttCredential,
    MqttPrincipal,
    MqttSecurityError,
    hash_password,
    issue_credentials,
    principals,
    read_credentials,
    render_acl,
    verify_password,
    write_credentials,
    write_private,
)

log = logging.getLogger("tepi.mqtt")

#: A boat's device link carries one fish-finder's payload a second; a burst is at most a few
#: minutes of them replayed by the bridge after its Wi-Fi dropped (a Tepi assumption).
BOAT_BROKER_QUEUE = BrokerQueueConfig(peak_readings_per_s=10.0, peak_duration_s=60.0)
#: A boat's outbox: days of tracks, schools and summaries at ~30 KB an hour (README) fit many
#: times over; a Tepi choice sized for a small gateway's flash.
BOAT_OUTBOX_BYTES = 64 * 1024 * 1024


def boat_gateway_id(vessel: str) -> str:
    """The on-board gateway of `vessel`: where its SOS answers go (`Vessel.gateway_id`)."""
    return f"gw-{vessel}"


def boat_gateway_config(
    base: TepiConfig,
    vessel: str,
    tenant: str,
    *,
    device: str | None = None,
    local_broker: BrokerConfig | None = None,
    uplink_broker: BrokerConfig | None = None,
    outbox: Path | None = None,
    gateway: str | None = None,
) -> TepiConfig:
    """The deployment of one boat: its fish-finder `device` (default: named as the vessel, as
    the boat simulator publishes it) on MQTT, mounted on `vessel`, and the gateway on board of
    `tenant` (`gateway`, default `boat_gateway_id`). Tenants, ingest and the rest come from
    `base`; a `ValueError` (pydantic's) for an id that is no identifier or a tenant `base` does
    not have."""
    gateway_config = GatewayConfig(
        id=gateway or boat_gateway_id(vessel), tenant=tenant,
        local_broker=local_broker or base.gateway.local_broker, uplink_broker=uplink_broker or base.gateway.uplink_broker,
        outbox=OutboxConfig(path=outbox or Path("var/boats") / vessel / "outbox.db", max_bytes=BOAT_OUTBOX_BYTES),
        summary_linger_s=base.gateway.summary_linger_s,
    )
    return TepiConfig.model_validate({
        **{k: getattr(base, k) for k in ("tenants", "ingest", "api", "retention")},
        "stations": [],
        "devices": [DeviceConfig(id=device or vessel, kind="fishfinder", platform=vessel, transport="mqtt")],
        "gateway": gateway_config,
        "broker_queue": BOAT_BROKER_QUEUE,
    })


def boat_gateway_yaml(boat: TepiConfig, uplink_password: str | None = None) -> str:
    """The YAML the boat runs with `tepi gateway --config`, loadable by `core.config.load_config`:
    its tenant, device, gateway and queue sizing, with `uplink_password` as the central broker's
    password when given (then the file is a secret: write it 0600). Nothing of the centre the
    boat does not need leaves with it: no other tenant, no ingest or API settings (the database
    URL, the TSDB token and ingest's broker password are the centre's)."""
    import yaml

    gateway = boat.gateway
    if uplink_password is not None:
        gateway = gateway.model_copy(update={"uplink_broker": gateway.uplink_broker.model_copy(update={"password": uplink_password})})
    own = boat.model_copy(update={"tenants": [t for t in boat.tenants if t.id == gateway.tenant], "gateway": gateway})
    data = own.model_dump(mode="json", exclude={"ingest", "api", "simulation"}, exclude_defaults=True)
    head = f"# The gateway on board {', '.join(d.platform or d.id for d in boat.devices)}: `tepi gateway --config <this file>`.\n"
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class BrokerGrant:
    """What `grant_on_central_broker` did: the boat's MQTT users, the password's name
    (`tepi mqtt show-credentials --out DIR <secret>`) and the files it changed (none: the
    users were there with these grants)."""

    users: tuple[str, ...]
    secret: str
    changed: tuple[Path, ...]


def grant_on_central_broker(directory: Path, boat: TepiConfig) -> BrokerGrant:
    """Give the boat's users their passwords and ACL grants in the security files of `tepi mqtt
    setup --out directory`, as setup would with the boat's configuration added; idempotent
    (an existing password is kept, a file is rewritten only when it changes). The files are
    written credentials first, as setup does, so a failure part way is repaired by a re-run.
    `MqttSecurityError` when there are no such files, or a username or password name is
    already another role's or tenant's."""
    from tepi.mqtt_security import MqttSecurityFiles  # the CLI module: loaded only when granting

    files = MqttSecurityFiles(directory=directory)
    if not files.credentials_file.exists():
        raise MqttSecurityError(f"no {files.credentials_file}: set up the central broker first (`tepi mqtt setup --out {directory}`)")
    existing = read_credentials(files.credentials_file)
    users = boat_users(existing, boat, enrolled_users(directory, boat.gateway.id))
    # The boat's configuration without password first, kept for every later `tepi mqtt setup`
    # and as the record that these users are this boat's: a failure after it is repaired by a
    # re-run (its users are then its own), and setup alone would create them as well.
    _keep_enrolled(directory, boat)
    issued = issue_credentials(users, existing)
    credentials = {**existing, **issued}
    changed = []
    if credentials != existing:
        write_credentials(files.credentials_file, credentials)
        changed.append(files.credentials_file)
    passwd = _read_text(files.password_file)
    lines = dict(line.split(":", 1) for line in passwd.splitlines() if ":" in line)
    for user, credential in issued.items():
        if user not in lines or not verify_password(credential.password, lines[user]):
            lines[user] = hash_password(credential.password)
    new_passwd = "".join(f"{user}:{encoded}\n" for user, encoded in lines.items())
    if new_passwd != passwd:
        write_private(files.password_file, new_passwd)
        changed.append(files.password_file)
    acl = _read_text(files.acl_file)
    new_acl = merge_acl(acl, users)
    if new_acl != acl:
        write_private(files.acl_file, new_acl)
        changed.append(files.acl_file)
    grant = BrokerGrant(users=tuple(p.username for p in users), secret=boat.gateway.id, changed=tuple(changed))
    log.info(
        "boat gateway on the central broker",
        extra={"directory": str(directory), "gateway": boat.gateway.id, "users": len(users), "files_changed": len(changed)},
    )
    return grant


def merge_acl(acl: str, users: list[MqttPrincipal]) -> str:
    """`acl` (as `render_acl` writes it: a header, then one block per user, blank lines between)
    with the blocks of `users` added, or replacing theirs; every other block as it was."""
    chunks = acl.rstrip("\n").split("\n\n") if acl.strip() else render_acl([]).rstrip("\n").split("\n\n")
    blocks = {_acl_user(chunk): i for i, chunk in enumerate(chunks) if _acl_user(chunk)}
    for p in users:
        block = render_acl([p]).rstrip("\n").split("\n\n", 1)[1]
        if p.username in blocks:
            chunks[blocks[p.username]] = block
        else:
            blocks[p.username] = len(chunks)
            chunks.append(block)
    return "\n\n".join(chunks) + "\n"


def _acl_user(chunk: str) -> str | None:
    return next((line.split(None, 1)[1] for line in chunk.splitlines() if line.startswith("user ")), None)


def _keep_enrolled(directory: Path, boat: TepiConfig) -> None:
    from tepi.mqtt_security import ENROLLED_DIR

    kept = directory / ENROLLED_DIR / f"{boat.gateway.id}.yaml"
    text = boat_gateway_yaml(boat)
    if _read_text(kept) != text:
        write_private(kept, text)


def enrolled_users(directory: Path, gateway: str) -> frozenset[str]:
    """The MQTT users an earlier enrolment of gateway `gateway` gave it (its kept configuration
    under `directory`): the only existing users enrolling that boat again may find there."""
    from tepi.mqtt_security import ENROLLED_DIR

    from core.config import ConfigError, load_config

    kept = directory / ENROLLED_DIR / f"{gateway}.yaml"
    if not kept.exists():
        return frozenset()
    try:
        return frozenset(p.username for p in principals([load_config(kept)]) if p.role != "ingest")
    except ConfigError as exc:
        raise MqttSecurityError(f"cannot read the enrolled boat {kept}: {exc}") from exc


def boat_users(existing: dict[str, MqttCredential], boat: TepiConfig, own: frozenset[str] = frozenset()) -> list[MqttPrincipal]:
    """The boat's MQTT users on the central broker whose users are `existing` (ingest's are the
    centre's already); `MqttSecurityError` when one of its usernames or password names is
    already another role's or tenant's there, or when a username exists that is not one of
    `own` (what this boat's earlier enrolment gave it, `enrolled_users`): a gateway or device id
    the deployment already uses would otherwise have its grants replaced by the boat's (a river
    gateway reading one fish-finder, its password in the boat's file). Nothing is written: a
    fleet's import checks every boat with it before it grants any."""
    users = [p for p in principals([boat]) if p.role != "ingest"]
    _refuse_clashes(users, existing)
    taken = sorted(p.username for p in users if p.username in existing and p.username not in own)
    if taken:
        raise MqttSecurityError(
            f"MQTT user {taken[0]!r} exists on the central broker already (a gateway or device of the deployment): "
            "choose another gateway or vessel id"
        )
    return users


def _refuse_clashes(users: list[MqttPrincipal], existing: dict[str, MqttCredential]) -> None:
    """One password must never carry two sets of rights (`mqtt_auth.principals` refuses the same)."""
    for p in users:
        for c in existing.values():
            if (c.username == p.username or (c.secret or c.username) == p.secret_name) and (c.role, c.tenant) != (p.role, p.tenant):
                raise MqttSecurityError(
                    f"MQTT user {c.username!r} on the central broker is a {c.role} of {c.tenant}; the boat's "
                    f"{p.username!r} would be a {p.role} of {p.tenant}: choose another gateway or device id"
                )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise MqttSecurityError(f"cannot read {path}: {exc.strerror}") from exc
