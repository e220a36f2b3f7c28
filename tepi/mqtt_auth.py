"""Who may connect to the Tepi brokers and what each may touch, derived from the device registry.

Every MQTT connection is a principal with one role and its own username, which the generated
broker config also makes its client id (`use_username_as_clientid`): so no credential can take
over another's session, whose queued QoS 1 messages Mosquitto would otherwise erase.

- a field `device` is its registry id and writes its own topic, under the tenant of its
  platform (a river station's; a vessel's is its on-board gateway's: `device_tenant`);
- a `gateway` has three connections, `<gw>.devices` (reads its own devices' topics, each
  named: not the tenant's wildcard, which would let any boat, whose password is in its YAML,
  follow every other boat of the tenant),
  `<gw>.uplink` (writes its uplink, reads its downlink: ingest's acks and, for a boat's
  gateway, the SOS status) and `<gw>.alarms` (writes its local alarms): dots never
  occur in registry ids, so these names collide with no device;
- `ingest` workers are `ingest.1`..`ingest.N` (`ingest.workers`), each reading all uplinks and
  writing all downlinks (the acks of what it stored).

The gateway's device link and ingest also read the broker's dropped-message count
(`core.broker_drops`), which says nothing about any tenant.

Passwords belong to a *secret*: a device's own id, a gateway's id shared by its three
connections, or `ingest` shared by the workers. The connections of one secret always run from
one configuration file on one host, so separate passwords would add provisioning steps and no
protection, while the separate usernames still bind each session and narrow each ACL. The
ACL is rendered per user from the registry, never as `%u` patterns, so a device can only write
under the tenant of its own platform: a device of kab-badung cannot inject readings into
dki-jakarta by reusing its id.

Passwords are random (`secrets.token_urlsafe`), stored once in a 0600 JSON file, and hashed for
Mosquitto's own `$7$` (PBKDF2-SHA512) password file with hashlib, so no subprocess per user.
Nothing here logs a password; `MqttCredential` hides it from `repr` too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from core.broker_drops import DROPPED_TOPIC
from core.config import GATEWAY_LINKS, ConfigError, DeviceConfig, IngestConfig, TepiConfig
from contract.topics import DOWNLINK_FILTER, UPLINK_FILTER, alarm_topic, device_topic_filter, downlink_topic, uplink_topic

Role = Literal["device", "gateway", "ingest"]

INGEST_SECRET = "ingest"

# Mosquitto 2.0's format: `user:$7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>`.
_PBKDF2_ID = 7
_SALT_BYTES = 12  # what mosquitto_passwd uses
# mosquitto_passwd's default. Stretching protects guessable human passwords; ours carry 256
# random bits, so more iterations would only cost broker CPU on every reconnect storm after a
# power cut, when hundreds of devices CONNECT at once.
DEFAULT_ITERATIONS = 101
_PASSWORD_BYTES = 32


class MqttSecurityError(Exception):
    """Broker credentials, ACL or TLS material cannot be generated, read or written."""


@dataclass(frozen=True)
class MqttPrincipal:
    """One MQTT user and the topic filters it may read and write; everything else is denied."""

    username: str
    role: Role
    tenant: str | None  # None: all tenants (ingest)
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()
    note: str = ""
    secret: str = ""  # whose password this user logs in with; empty: its own

    @property
    def secret_name(self) -> str:
        return self.secret or self.username


@dataclass(frozen=True)
class MqttCredential:
    """A principal's password as handed to the field team; `repr` never shows the password."""

    username: str
    role: Role
    tenant: str | None
    password: str = field(repr=False)
    secret: str = ""  # the gateway or `ingest` whose password this user shares; empty: its own


def principals(configs: Sequence[TepiConfig]) -> list[MqttPrincipal]:
    """All MQTT users of the deployments in `configs`, sorted by username.

    A `TepiConfig` describes one gateway, so a central broker serving many regencies is set up
    from one config per gateway; devices and gateways listed in several must agree on their
    tenant. Devices on `transport: serial` get no MQTT user: they never speak MQTT, and an
    unused credential is only something to leak.
    """
    if not configs:
        raise MqttSecurityError("no configuration given: nothing to derive MQTT users from")
    found: dict[str, MqttPrincipal] = {}
    for cfg in configs:
        own_devices: list[str] = []
        for dev in cfg.devices:
            if dev.transport != "mqtt":
                continue
            tenant, where = device_tenant(cfg, dev)
            own_devices.append(device_topic_filter(tenant, dev.id))
            _add(found, MqttPrincipal(
                username=dev.id, role="device", tenant=tenant,
                write=(device_topic_filter(tenant, dev.id),), note=f"{dev.kind} {where}",
            ))
        gw = cfg.gateway
        grants: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
            # Its own devices' topics, one by one, never the tenant's wildcard: every boat's
            # password travels in its YAML, and another boat's fish-finder says where a person is.
            "devices": ((*own_devices, DROPPED_TOPIC), ()),
            # Reads ingest's acks on its own downlink topic only: another gateway's acks would
            # make it delete items that were never stored.
            "uplink": ((downlink_topic(gw.tenant, gw.id),), (uplink_topic(gw.tenant, gw.id),)),
            "alarms": ((), (f"{alarm_topic(gw.tenant, gw.id)}/+/+",)),  # .../alarm/<station>/<kind>, retained
        }
        for link in GATEWAY_LINKS:
            read, write = grants[link]
            _add(found, MqttPrincipal(
                username=gw.mqtt_user(link), role="gateway", tenant=gw.tenant, read=read, write=write,
                note=f"{link} connection of {gw.id}", secret=gw.id,
            ))
    # One read filter covers `$share/<group>/...` too: Mosquitto checks the delivered topic.
    for worker in range(1, max(c.ingest.workers for c in configs) + 1):
        _add(found, MqttPrincipal(
            username=IngestConfig.mqtt_user(worker), role="ingest", tenant=None, read=(UPLINK_FILTER, DROPPED_TOPIC),
            write=(DOWNLINK_FILTER,),
            note=f"ingest worker {worker}", secret=INGEST_SECRET,
        ))
    secrets_of = {p.secret_name: p for p in found.values()}
    for p in found.values():
        owner = secrets_of.get(p.secret_name)
        if owner is not None and (owner.role, owner.tenant) != (p.role, p.tenant):
            raise MqttSecurityError(
                f"MQTT password {p.secret_name!r} would be both {owner.role} of {owner.tenant} "
                f"and {p.role} of {p.tenant}; rename one of them in the registry"
            )
    return [found[u] for u in sorted(found)]


def device_tenant(cfg: TepiConfig, dev: DeviceConfig) -> tuple[str, str]:
    """The tenant a device writes under, from its platform, and where it is (for the ACL note).

    A platform that is a configured river station gives the station's tenant. Any other
    platform is one the configuration does not list (a vessel, registered centrally): its
    device talks to the gateway on the same platform, which serves its own tenant, so the
    device writes under the gateway's tenant. Whether the kind accepts such a platform is the
    kind's own check (`DeviceKind.processor`, as at gateway start): an AWLR whose station is
    not configured is refused here too, instead of getting rights under some tenant.
    """
    for station in cfg.stations:
        if station.id == dev.platform:
            return station.tenant, f"at station {dev.platform}"
    from gateway.devices import device_kind  # the kind's edge side, only when a platform needs it
    from gateway.errors import GatewayError

    try:
        device_kind(dev.kind).processor(cfg, dev)
    except (ConfigError, GatewayError, ValueError) as exc:  # GatewayError: a kind this build lacks
        raise MqttSecurityError(f"device {dev.id!r}: {exc}") from exc
    return cfg.gateway.tenant, f"on {dev.platform} (platform of gateway {cfg.gateway.id})"


def _add(found: dict[str, MqttPrincipal], principal: MqttPrincipal) -> None:
    """Keep one principal per username; the same id with another role or tenant is an error,
    because one password would then carry two sets of rights."""
    seen = found.get(principal.username)
    if seen is None:
        found[principal.username] = principal
    elif (seen.role, seen.tenant) != (principal.role, principal.tenant):
        raise MqttSecurityError(
            f"MQTT username {principal.username!r} would be both {seen.role} of {seen.tenant} "
            f"and {principal.role} of {principal.tenant}; rename one of them in the registry"
        )
    else:  # a gateway named in two files serves the devices of both
        found[principal.username] = replace(
            seen, read=_union(seen.read, principal.read), write=_union(seen.write, principal.write)
        )


def _union(first: tuple[str, ...], then: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*first, *then)))


def render_acl(users: Iterable[MqttPrincipal]) -> str:
    """A Mosquitto `acl_file`: explicit per-user grants, no anonymous or `pattern` lines.

    With an acl_file, Mosquitto denies whatever is not granted, so the file lists only grants.
    Mosquitto 2.0 enforces `read` when a message is delivered (a subscription may be granted
    and still receive nothing) and `write` on PUBLISH (MQTT v5 clients get "not authorized").
    """
    lines = [
        "# Generated by `tepi mqtt setup` from the device registry: change the YAML, not this file.",
        "# Only what is granted below is allowed; clients without a password cannot connect.",
    ]
    for p in users:
        scope = f"of {p.tenant}" if p.tenant else "of all tenants"
        lines += ["", f"# {p.role} {scope}{'; ' + p.note if p.note else ''}", f"user {p.username}"]
        lines += [f"topic read {t}" for t in p.read]
        lines += [f"topic write {t}" for t in p.write]
    return "\n".join(lines) + "\n"


def hash_password(password: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """The `$7$` PBKDF2-SHA512 hash Mosquitto 2.0 verifies, byte-compatible with mosquitto_passwd."""
    if iterations < 1:
        raise MqttSecurityError("iterations must be at least 1")
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"${_PBKDF2_ID}${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """Check a password against a `$7$` hash as Mosquitto does (used to audit password files)."""
    try:
        _, kind, iterations, salt64, digest64 = encoded.split("$")
        if int(kind) != _PBKDF2_ID:
            return False
        salt, expected = base64.b64decode(salt64, validate=True), base64.b64decode(digest64, validate=True)
        actual = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def render_password_file(credentials: Iterable[MqttCredential], *, iterations: int = DEFAULT_ITERATIONS) -> str:
    """A Mosquitto `password_file`, one `user:$7$...` line per credential, fresh salts each time."""
    return "".join(f"{c.username}:{hash_password(c.password, iterations=iterations)}\n" for c in credentials)


def issue_credentials(
    users: Iterable[MqttPrincipal],
    existing: Mapping[str, MqttCredential] | None = None,
    rotate: Collection[str] | Literal["all"] = (),
) -> dict[str, MqttCredential]:
    """Passwords for `users`, one per secret: kept from `existing` unless rotated, random for newcomers.

    Re-running setup after adding one device must not lock every field device out until
    someone re-provisions it on site, so passwords survive unless explicitly rotated. Users
    no longer in the registry are dropped: the broker refuses them once it re-reads `passwd`
    (SIGHUP; a changed mosquitto.conf needs a restart, see tepi/MQTT.md).
    A secret's password is also kept from an older file where it was a username (`gw-ciliwung`
    or `ingest` before each connection had its own user), so upgrading re-provisions nothing.
    Rotating a username rotates its whole secret: its connections share one password.
    """
    users = list(users)
    existing = existing or {}
    secret_of = {p.username: p.secret_name for p in users}
    if rotate != "all":
        unknown = sorted(set(rotate) - set(secret_of) - set(secret_of.values()))
        if unknown:
            raise MqttSecurityError(f"cannot rotate unknown MQTT users: {', '.join(unknown)}")
        rotated = {secret_of.get(name, name) for name in rotate}
    kept: dict[str, str] = {}
    for user, old in existing.items():
        secret = old.secret or user
        if secret in secret_of.values() and rotate != "all" and secret not in rotated:
            kept.setdefault(secret, old.password)
    issued: dict[str, MqttCredential] = {}
    for p in users:
        password = kept.setdefault(p.secret_name, secrets.token_urlsafe(_PASSWORD_BYTES))
        issued[p.username] = MqttCredential(username=p.username, role=p.role, tenant=p.tenant, password=password, secret=p.secret)
    return issued


def read_credentials(path: Path) -> dict[str, MqttCredential]:
    """The credentials file written by `write_credentials` (username -> password, role, tenant)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            user: MqttCredential(
                username=user, role=entry["role"], tenant=entry["tenant"], password=entry["password"], secret=entry.get("secret", "")
            )
            for user, entry in data.items()
        }
    except OSError as exc:
        raise MqttSecurityError(f"cannot read MQTT credentials {path}: {exc.strerror}") from exc
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        # The message names the file, never its content: the content is passwords.
        raise MqttSecurityError(f"{path} is not a Tepi MQTT credentials file ({type(exc).__name__})") from exc


def write_credentials(path: Path, credentials: Mapping[str, MqttCredential]) -> None:
    """Write the credentials file readable by its owner only (0600)."""
    data = {
        user: {"password": c.password, "role": c.role, "tenant": c.tenant} | ({"secret": c.secret} if c.secret else {})
        for user, c in sorted(credentials.items())
    }
    write_private(path, json.dumps(data, indent=2) + "\n")


def write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a 0600 file: never briefly world-readable, never half written.

    The temporary file is created 0600 by `mkstemp` before any secret is written into it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise MqttSecurityError(f"cannot write {path}: {exc.strerror}") from exc
