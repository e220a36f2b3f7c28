"""Deployment configuration: one YAML file, validated by pydantic before anything starts.

The file names components (stations, device kinds, transports); the device registry in
`gateway.devices` finds the code for each kind. Validation happens once, at load time, so a
typo in a threshold is a start-up error with a line of explanation, not a wrong alert at 3 a.m.

The model is composed: the generic sections (`core.config_model.CoreConfig`) and the top-level
sections each registered kind adds (`kinds.config_models`, e.g. the river's `stations:` and
`simulation:` in `kinds.awlr.config`), so this module names no kind and the file users write is
the same whichever module its sections are declared in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError, create_model

import kinds
from core.config_model import (
    GATEWAY_LINKS,
    ApiConfig,
    BrokerConfig,
    BrokerQueueConfig,
    ConfigError,
    ConfigSection,
    CoreConfig,
    DeviceConfig,
    GatewayConfig,
    GatewayLink,
    Identifier,
    IngestConfig,
    OutboxConfig,
    RegistryStation,
    RetentionConfig,
    TenantConfig,
    TsdbConfig,
)

__all__ = [
    "CONFIG_ENV", "DEFAULT_CONFIG_PATH", "GATEWAY_LINKS", "ApiConfig", "BrokerConfig", "BrokerQueueConfig",
    "ConfigError", "ConfigSection", "CoreConfig", "DeviceConfig", "GatewayConfig", "GatewayLink", "Identifier",
    "IngestConfig", "OutboxConfig", "RegistryStation", "RetentionConfig", "TenantConfig", "TepiConfig", "TsdbConfig",
    "compose_config_model", "config_path", "load_config", "parse_config", "with_local_services",
]  # fmt: skip

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "tepi.yaml"
CONFIG_ENV = "TEPI_CONFIG"


def compose_config_model(models: Sequence[type[CoreConfig]]) -> type[CoreConfig]:
    """One model with the generic sections and those of every kind's model in `models` (each a
    subclass of `CoreConfig`): a class inheriting from all of them, so each kind's validators
    check its sections and its hooks answer for them. `TypeError` for a model that is not a
    `CoreConfig`: a kind registered with something else is a programming error."""
    for model in models:
        if not (isinstance(model, type) and issubclass(model, CoreConfig)):
            raise TypeError(f"a kind's configuration model must subclass core.config_model.CoreConfig, not {model!r}")
    return create_model(
        "TepiConfig",
        __base__=tuple(models) or CoreConfig,
        __module__=__name__,
        __doc__="The whole deployment configuration: the generic sections and those of the registered kinds.",
    )


if TYPE_CHECKING:

    class TepiConfig(CoreConfig):
        """What a type checker sees: the generic sections typed, the kinds' (added when this module
        is imported) as `Any`. Code of a kind that wants its sections typed annotates with its own
        model (e.g. `kinds.awlr.config.RiverConfig`), of which every `TepiConfig` is an instance."""

        def __getattr__(self, name: str) -> Any: ...

else:
    TepiConfig = compose_config_model(kinds.config_models())


def config_path(path: Path | str | None = None) -> Path:
    """The file to load: an explicit path, then $TEPI_CONFIG, then the shipped default."""
    if path is not None:
        return Path(path)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG_PATH


def parse_config(data: object) -> TepiConfig:
    """Parsed YAML (or any plain data) validated exactly as `load_config` validates a file."""
    as_json = _as_json(data)
    try:
        return TepiConfig.model_validate_json(as_json)
    except ValidationError as exc:
        raise _invalid(exc) from exc


def load_config(path: Path | str | None = None) -> TepiConfig:
    """The file at `path` (`config_path`), parsed and validated.

    The YAML parser's objects (nodes and marks, some forty times the size of the file: ~17 MB
    for 500 stations) are all gone before the configuration is built: it is validated from
    JSON text, not from the parsed objects, whose strings would otherwise be the
    configuration's own strings, scattered among that garbage, keeping ~12 MB of it resident
    for as long as a gateway runs."""
    p = config_path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read configuration {p}: {exc.strerror}") from exc
    import yaml  # here, not at module level: only loading a file needs it

    try:
        # libyaml's loader when present: a 500-device file parses ten times faster, and its
        # peak is lower, than with the pure-Python one.
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - a safe loader
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a timestamp such as 2024-02-30
        raise ConfigError(f"{p}: not valid YAML: {exc}") from exc
    try:
        as_json = _as_json(data)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
    del data, text  # gone before the configuration is built (see above)
    try:
        config = TepiConfig.model_validate_json(as_json)
    except ValidationError as exc:
        raise ConfigError(f"{p}: {_invalid(exc)}") from exc
    return config.with_files_under(p.resolve().parent)


def _as_json(data: object) -> str:
    """`data` as JSON text, refusing what JSON would silently change: a key that is not text
    (YAML reads `0012:` as the number 10 and `on:` as true, which JSON would turn into the keys
    "10" and "true") and values JSON has no type for (a date or time is read as its text)."""
    _refuse_keys_not_text(data, [])
    try:
        return json.dumps(data, default=_json_value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from exc


def _refuse_keys_not_text(data: object, where: list[str], within: frozenset[int] = frozenset()) -> None:
    if isinstance(data, (dict, list)):
        if id(data) in within:  # a YAML alias inside itself
            raise ConfigError(f"{'.'.join(where) or '<root>'}: a YAML alias that contains itself")
        within = within | {id(data)}
    if isinstance(data, dict):
        for key, value in data.items():
            if not isinstance(key, str):
                raise ConfigError(f"{'.'.join(where) or '<root>'}: the key {key!r:.60} is not text; quote it")
            _refuse_keys_not_text(value, [*where, key], within)
    elif isinstance(data, list):
        for i, value in enumerate(data):
            _refuse_keys_not_text(value, [*where, str(i)], within)


def _json_value(value: object) -> str:
    """YAML values that JSON has no type for: a date or time is read as its text."""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} value is not a configuration value: {value!r:.60}")


def _invalid(exc: ValidationError) -> ConfigError:
    lines = [f"  {'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()]
    return ConfigError("invalid configuration:\n" + "\n".join(lines))


def with_local_services(
    config: TepiConfig,
    broker_port: int,
    workdir: Path,
    database_url: str | None = None,
    tsdb: TsdbConfig | None = None,
    api_port: int | None = None,
    serial_ports: dict[str, str] | None = None,
    summary_every_s: int | None = None,
    device_rate_per_s: float | None = None,
) -> TepiConfig:
    """The same deployment pointed at services on this machine (demo and integration tests)."""
    broker = BrokerConfig(host="127.0.0.1", port=broker_port)
    gw = config.gateway.model_copy(
        update={
            "local_broker": broker,
            "uplink_broker": broker,
            "outbox": config.gateway.outbox.model_copy(update={"path": workdir / "outbox.db"}),
            "serial_ports": serial_ports if serial_ports is not None else config.gateway.serial_ports,
            "device_rate_per_s": device_rate_per_s or config.gateway.device_rate_per_s,
        }
    )
    ingest = config.ingest.model_copy(
        update={"broker": broker, "database_url": database_url or f"sqlite:///{workdir / 'tepi.db'}", "tsdb": tsdb}
    )
    api = config.api.model_copy(update={"port": api_port or config.api.port})
    if summary_every_s is not None:
        config = config.with_summary_every(summary_every_s)  # each kind shortens its own cadences
    return config.model_copy(update={"gateway": gw, "ingest": ingest, "api": api})
