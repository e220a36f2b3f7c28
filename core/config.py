"""Deployment configuration: one YAML file, validated by pydantic before anything starts.

The file names components (stations, device kinds, transports); the device registry in
`gateway.devices` finds the code for each kind. Validation happens once, at load time, so a
typo in a threshold is a start-up error with a line of explanation, not a wrong alert at 3 a.m.
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from kinds.awlr.qc_config import QcConfig
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, model_validator

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parent.parent / "config" / "tepi.yaml"
CONFIG_ENV = "TEPI_CONFIG"

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


class _Strict(BaseModel):
    # `.inf` and `.nan` are valid YAML floats; a threshold or interval of infinity would silently
    # turn a check off, so the file refuses them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SiagaThresholds(_Strict):
    """Lower bounds (cm) of Siaga 3, 2 and 1; anything below `siaga3` is Siaga 4 (normal).

    A level equal to a bound belongs to the higher alert, which is the safe side where the
    published tables overlap (e.g. Katulampa "≤80" vs "80–150").
    """

    siaga3: float
    siaga2: float
    siaga1: float
    source: str = Field(min_length=3, description="Where these numbers were published.")

    @model_validator(mode="after")
    def _increasing(self) -> "SiagaThresholds":
        if not (self.siaga3 < self.siaga2 < self.siaga1):
            raise ValueError("thresholds must increase: siaga3 < siaga2 < siaga1")
        return self

    def bounds(self) -> tuple[float, float, float]:
        return (self.siaga3, self.siaga2, self.siaga1)


class Downstream(_Strict):
    station: Identifier
    travel_hours: tuple[float, float] = Field(description="Published (min, max) travel time.")
    source: str = Field(min_length=3)


class AlertingConfig(_Strict):
    """How the edge turns good readings into alarms and how often it reports."""

    raise_after: int = Field(default=2, ge=1, le=60, description="Consecutive good readings at a level before it is raised.")
    clear_margin_cm: float = Field(default=5.0, ge=0, description="A level clears only below its bound minus this.")
    rate_of_rise_cm_per_h: float = Field(
        default=60.0, gt=0, description="Slope over `rate_of_rise_window_s` that warns of a rise before a threshold is crossed."
    )
    rate_of_rise_window_s: float = Field(default=1800.0, ge=60, description="The long window: calm, catches a sustained rise.")
    rate_of_rise_short_cm_per_h: float = Field(
        default=100.0, gt=0, description="Slope over `rate_of_rise_short_window_s` that warns: higher, as a short fit is noisier."
    )
    rate_of_rise_short_window_s: float = Field(
        default=600.0, ge=60, description="The short window: sees a sudden rise soon (kinds.awlr.edge.rise_tracker explains both)."
    )
    rate_of_rise_clear_margin_cm_per_h: float = Field(
        default=10.0, ge=0, description="The warning ends once every slope is below its threshold less this."
    )
    summary_every_s: int = Field(default=600, ge=1, le=86400, description="Summary interval at Siaga 4.")
    summary_every_s_alert: int = Field(default=60, ge=1, le=86400, description="Summary interval at Siaga 3 or worse.")
    offline_after_intervals: int = Field(
        default=3, ge=1, le=1000, description="Summary intervals without any uplink before central raises an offline alert."
    )

    @model_validator(mode="after")
    def _intervals(self) -> "AlertingConfig":
        if self.summary_every_s_alert > self.summary_every_s:
            raise ValueError("summary_every_s_alert must not exceed summary_every_s")
        if not self.rate_of_rise_short_window_s < self.rate_of_rise_window_s:
            raise ValueError("rate_of_rise_short_window_s must be shorter than rate_of_rise_window_s")
        return self


class StationConfig(_Strict):
    """A river gauge site, with the published thresholds that the disaster office acts on."""

    id: Identifier
    name: str
    river: str
    tenant: Identifier
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    timezone: Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"] = "Asia/Jakarta"
    thresholds: SiagaThresholds
    sensor_span_cm: tuple[float, float] = Field(
        description="What the sensor can physically report; outside it a reading is rejected."
    )
    resolution_cm: float = Field(
        default=0.1,
        gt=0,
        le=100,
        description="The smallest level step the station reports; the API rounds levels to it, so a mean shows "
        "no more digits than the gauge has. Default 0.1 cm: what the AWLR wire format carries ($PTAWL and JSON "
        "levels have one decimal, kinds/awlr/wire.py).",
    )
    downstream: list[Downstream] = []
    qc: QcConfig = QcConfig()
    alerting: AlertingConfig = AlertingConfig()

    @model_validator(mode="after")
    def _span(self) -> "StationConfig":
        lo, hi = self.sensor_span_cm
        if not lo < hi:
            raise ValueError("sensor_span_cm must be (low, high) with low < high")
        if self.qc.user_span_cm is not None and not (lo <= self.qc.user_span_cm[0] and self.qc.user_span_cm[1] <= hi):
            raise ValueError("qc.user_span_cm must lie within sensor_span_cm")
        return self


class DeviceConfig(_Strict):
    """A field device: its kind names a folder in `kinds/` (`kinds.KINDS`).

    `platform` is what the device is mounted on: a river station (awlr) or a vessel
    (fishfinder). Which it must be is the kind's business: the gateway asks the kind to check
    the binding at start (`DeviceKind.processor`), since vessels are registered centrally, not
    in this file. YAML may still say `station:` (the name before devices were mounted on
    boats); giving both is refused as an unknown field."""

    id: Identifier
    kind: Identifier
    platform: Identifier = Field(validation_alias=AliasChoices("platform", "station"))
    transport: Literal["serial", "mqtt"]

    @property
    def station(self) -> str:
        """The platform by its older name (callers written when every device was on a station)."""
        return self.platform


class BrokerConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    tls_ca_file: Path | None = Field(default=None, description="CA to verify the broker with; set it to use the TLS listener.")

    def apply_to(self, client: "mqtt.Client", username: str | None = None) -> None:
        """Credentials and TLS on a paho client: the one place every Tepi MQTT client gets them.

        Tepi's own processes pass `username`, the MQTT user of that one connection (see
        `GatewayConfig.mqtt_user`, `IngestConfig.mqtt_user`): the generated broker config binds
        client id to username, so each connection logs in as itself, never as `self.username`.
        """
        user = username or self.username
        if user:
            client.username_pw_set(user, self.password)
        if self.tls_ca_file is not None:
            client.tls_set(ca_certs=str(self.tls_ca_file))


class OutboxConfig(_Strict):
    path: Path = Path("var/gateway/outbox.db")
    max_bytes: int = Field(default=512 * 1024 * 1024, ge=16 * 1024, description="Bound on stored item bytes; beyond it the oldest routine summaries are evicted.")


GatewayLink = Literal["devices", "uplink", "alarms"]
GATEWAY_LINKS: tuple[GatewayLink, ...] = ("devices", "uplink", "alarms")


def _no_username(where: str, broker: BrokerConfig, users: str) -> None:
    """Tepi's processes log in as one MQTT user per connection (the generated broker config
    ties client id to username); a configured username would put connections on one id,
    where each would disconnect the other."""
    if broker.username is not None:
        raise ValueError(f"{where}.username must not be set: these connections log in as {users} (set only the password)")


class GatewayConfig(_Strict):
    id: Identifier
    tenant: Identifier
    max_future_skew_s: float = Field(default=300.0, ge=0, description="Reject readings this far ahead of the gateway clock.")
    max_payload_bytes: int = Field(default=4096, ge=128, le=1_048_576)
    device_rate_per_s: float = Field(default=100.0, gt=0, description="Average frames per second one device may send; excess is dropped and counted.")
    device_burst: float = Field(default=1000.0, ge=1, description="Frames a device may send at once above its rate.")
    local_broker: BrokerConfig = BrokerConfig()
    uplink_broker: BrokerConfig = BrokerConfig()
    uplink_inflight: int = Field(default=200, ge=1, le=65535)
    summary_linger_s: float = Field(default=2.0, ge=0, le=600, description="Summaries wait up to this long to share an uplink message; events never wait.")
    uplink_ack_timeout_s: float = Field(
        default=60.0, gt=0, le=3600,
        description=(
            "An uplink message the broker acknowledged but ingest has not, this long after, is sent again. "
            "Ingest acks within a second or two when well; a minute covers its retries of a slow TSDB write and "
            "a backlog in its queue, so a healthy centre is rarely sent anything twice over a paid cellular link, "
            "while a message lost to a central broker restart goes again within a minute. While ingest acks "
            "nothing at all, the wait doubles after each resend, up to 30 minutes."
        ),
    )
    outbox: OutboxConfig = OutboxConfig()
    serial_ports: dict[Identifier, str] = Field(
        default_factory=dict, description="device id -> serial port path (pty in the simulator)."
    )
    serial_baud: int = 9600

    @model_validator(mode="after")
    def _own_users(self) -> "GatewayConfig":
        users = ", ".join(self.mqtt_user(link) for link in GATEWAY_LINKS)
        _no_username("local_broker", self.local_broker, users)
        _no_username("uplink_broker", self.uplink_broker, users)
        return self

    def mqtt_user(self, link: GatewayLink) -> str:
        """MQTT username and client id of one of the gateway's connections, e.g.
        `gw-ciliwung.devices`: registry ids have no dots, so it names no device."""
        return f"{self.id}.{link}"


class TsdbConfig(_Strict):
    """An InfluxDB v2 compatible write endpoint (VictoriaMetrics, InfluxDB 2/3)."""

    url: str
    org: str = "tepi"
    bucket: str = "tepi"
    token: str = ""
    query_url: str | None = Field(default=None, description="PromQL base URL if it differs from url.")


class IngestConfig(_Strict):
    broker: BrokerConfig = BrokerConfig()
    workers: int = Field(default=1, ge=1, le=64, description="Ingest workers sharing the uplinks; `tepi mqtt setup` makes one MQTT user for each.")
    worker: int = Field(default=1, ge=1, le=64, description="Which worker this process is (`tepi ingest --worker N`).")
    share_group: Identifier = "ingest"
    shared_subscription: bool = Field(
        default=True,
        description="Subscribe as a member of `share_group` ($share/...). False only for a broker without MQTT "
        "shared subscriptions (the embedded amqtt of `tepi demo`): there a $share filter matches nothing, so the "
        "single worker subscribes to the plain uplink topics; refused with more than one worker, as each would "
        "then store every uplink.",
    )
    database_url: str = "sqlite:///var/tepi.db"
    tsdb: TsdbConfig | None = None
    batch_max: int = Field(default=500, ge=1, le=100_000)
    batch_wait_ms: int = Field(default=50, ge=0, le=10_000)

    @model_validator(mode="after")
    def _own_user(self) -> "IngestConfig":
        if self.worker > self.workers:
            raise ValueError(f"worker {self.worker} does not exist: workers is {self.workers}")
        if not self.shared_subscription and self.workers > 1:
            raise ValueError(
                f"shared_subscription false needs workers 1, not {self.workers}: without a share group "
                "every worker would receive, store and alert on every uplink"
            )
        _no_username("broker", self.broker, f"{self.mqtt_user(1)}..{self.mqtt_user(self.workers)}")
        return self

    @staticmethod
    def mqtt_user(worker: int) -> str:
        """MQTT username and client id of ingest worker `worker` (1-based), e.g. `ingest.2`."""
        return f"ingest.{worker}"

    @property
    def client_id(self) -> str:
        return self.mqtt_user(self.worker)

    @property
    def uplink_share_group(self) -> str | None:
        """The share group ingest subscribes in, None for the plain uplink topics (`contract.topics.uplink_subscription`)."""
        return self.share_group if self.shared_subscription else None


class ApiConfig(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class RetentionConfig(_Strict):
    """How long data is kept, per kind; enforced by the ingest worker and `tepi admin retention run`.

    Who acknowledged or closed an alert is personal data (UU 27/2022): after `alert_actor_days`
    the name is erased from the alert and its event history (the times stay). A vessel's
    positions (where a person was) go after `position_days`.
    """

    alert_actor_days: int = Field(default=365, ge=1, le=36500, description="Days to keep who acted on an alert.")
    processed_messages_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days to keep idempotency keys; longer than any outage a gateway outbox bridges.",
    )
    level_points_days: int | None = Field(
        default=None, ge=1, description="Days to keep the embedded level series (null: keep for ever)."
    )
    position_days: int = Field(
        default=180,
        ge=1,
        le=36500,
        description="Days to keep where a vessel was (tracks, SOS call positions, last fix): personal data.",
    )
    contact_message_days: int = Field(
        default=90,
        ge=1,
        le=36500,
        description="Days to keep a buyer's contact request to a fisher (the message and who sent it): personal data.",
    )
    check_every_s: float = Field(default=3600.0, ge=1, description="How often the ingest worker enforces it.")


class BrokerQueueConfig(_Strict):
    """What `tepi mqtt setup` sizes the broker's per-session queues for (`tepi.mqtt_queues`).

    A full queue makes Mosquitto drop QoS 1 messages silently after it has PUBACKed them, so the
    queue must hold the worst backlog a session can see: a peak burst of readings while the
    gateway is away for `outage_s`, times `margin`.
    """

    peak_readings_per_s: float = Field(default=20_000.0, gt=0, description="Burst of device readings one gateway's broker must absorb.")
    peak_duration_s: float = Field(default=10.0, gt=0, description="How long that burst lasts.")
    outage_s: float = Field(default=600.0, ge=60, description="How long a gateway or ingest may be away without losing what queues for it.")
    margin: float = Field(default=2.0, ge=1.0, le=100.0, description="Factor on the computed backlog.")
    autosave_interval_s: int = Field(default=30, ge=1, le=86_400, description="Seconds between saves of the broker's queues to disk (a crash loses at most this much).")


class TenantConfig(_Strict):
    id: Identifier
    name: str


class StationScenario(_Strict):
    """How the simulator drives one station: dry-season base level and this storm's peak."""

    base_cm: float
    peak_cm: float
    noise_cm: float = Field(default=1.0, ge=0)


class SimulationConfig(_Strict):
    """A storm scenario for `firmware_sim`; times are simulated time."""

    interval_s: float = Field(default=60.0, gt=0, description="Seconds between readings of one device.")
    lookback_h: float = Field(default=12.0, ge=0, description="The simulated clock starts this far in the past and catches up with real time.")
    storm_start_h: float = Field(default=0.5, ge=0, description="Hours after the simulated start that the wave begins at the most upstream station.")
    rise_h: float = Field(default=1.5, gt=0)
    fall_h: float = Field(default=6.0, gt=0)
    spike_probability: float = Field(default=0.005, ge=0, le=1)
    dropout_probability: float = Field(default=0.005, ge=0, le=1)
    garbage_probability: float = Field(default=0.002, ge=0, le=1)
    seed: int = 7
    stations: dict[Identifier, StationScenario]


class TepiConfig(_Strict):
    tenants: list[TenantConfig]
    stations: list[StationConfig]
    devices: list[DeviceConfig]
    gateway: GatewayConfig
    ingest: IngestConfig = IngestConfig()
    api: ApiConfig = ApiConfig()
    retention: RetentionConfig = RetentionConfig()
    broker_queue: BrokerQueueConfig = BrokerQueueConfig()
    simulation: SimulationConfig | None = None

    @model_validator(mode="after")
    def _references(self) -> "TepiConfig":
        tenants = {t.id for t in self.tenants}
        stations = {s.id: s for s in self.stations}
        _unique("tenant", [t.id for t in self.tenants])
        _unique("station", [s.id for s in self.stations])
        _unique("device", [d.id for d in self.devices])
        for s in self.stations:
            if s.tenant not in tenants:
                raise ValueError(f"station {s.id!r}: unknown tenant {s.tenant!r}")
            for ds in s.downstream:
                if ds.station not in stations:
                    raise ValueError(f"station {s.id!r}: downstream station {ds.station!r} is not configured")
        # A device's platform is checked by its kind at gateway start (a station for awlr, a
        # vessel registered centrally for fishfinder): see `DeviceConfig`.
        if self.simulation is not None:
            for sid in self.simulation.stations:
                if sid not in stations:
                    raise ValueError(f"simulation: unknown station {sid!r}")
        if self.gateway.tenant not in tenants:
            raise ValueError(f"gateway {self.gateway.id!r}: unknown tenant {self.gateway.tenant!r}")
        return self

    def station(self, station_id: str) -> StationConfig:
        for s in self.stations:
            if s.id == station_id:
                return s
        raise KeyError(station_id)

    def device_station(self, device: DeviceConfig) -> StationConfig:
        """The river station a device is mounted on, for kinds whose platform is a station;
        a `ConfigError` naming the device when the configuration has no such station."""
        try:
            return self.station(device.platform)
        except KeyError:
            raise ConfigError(
                f"device {device.id!r} ({device.kind}): platform {device.platform!r} is no configured station"
            ) from None


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"duplicate {what} id {i!r}")
        seen.add(i)


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
        return TepiConfig.model_validate_json(as_json)
    except ValidationError as exc:
        raise ConfigError(f"{p}: {_invalid(exc)}") from exc


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
    stations = config.stations
    if summary_every_s is not None:
        stations = [
            s.model_copy(update={"alerting": s.alerting.model_copy(update={"summary_every_s": summary_every_s, "summary_every_s_alert": min(summary_every_s, s.alerting.summary_every_s_alert)})})
            for s in stations
        ]
    return config.model_copy(update={"gateway": gw, "ingest": ingest, "api": api, "stations": stations})
