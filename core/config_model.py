"""The generic part of the deployment configuration: what every deployment has, whatever its
device kinds (tenants, devices, gateway, ingest, API, retention, broker queues).

A kind's own top-level sections (the river stations of `awlr`, ...) live in its folder, as a
subclass of `CoreConfig` (`kinds.<name>.config.CONFIG`); `core.config` composes the model a file
is validated against from this one and those of the registered kinds. It is a module of its own,
below `core.config`, so a kind's configuration can build on it while `core.config` asks the
registry for the kinds' parts: neither waits for the other to be imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


class ConfigSection(BaseModel):
    """A part of the configuration file: unknown keys are refused (a typo is an error, not a
    default), values are frozen once loaded."""

    # `.inf` and `.nan` are valid YAML floats; a threshold or interval of infinity would silently
    # turn a check off, so the file refuses them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DeviceConfig(ConfigSection):
    """A field device: its kind names a folder in `kinds/` (`kinds.KINDS`).

    `platform` is what the device is mounted on: a river station (awlr) or a vessel
    (fishfinder). Which it must be is the kind's business: the gateway asks the kind to check
    the binding at start (`DeviceKind.processor`), since vessels are registered centrally, not
    in this file. A platform the file declares with its tenant (a station, a buoy:
    `CoreConfig.platform_tenant`) must be the gateway's tenant's. YAML may still say `station:` (the name before devices were mounted on
    boats); giving both is refused as an unknown field."""

    id: Identifier
    kind: Identifier
    platform: Identifier = Field(validation_alias=AliasChoices("platform", "station"))
    transport: Literal["serial", "mqtt"]

    @property
    def station(self) -> str:
        """The platform by its older name (callers written when every device was on a station)."""
        return self.platform


class BrokerConfig(ConfigSection):
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


class OutboxConfig(ConfigSection):
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


#: Ceiling of any device payload the gateway takes, whatever the kind or the file says.
MAX_DEVICE_PAYLOAD_BYTES = 1_048_576
DEFAULT_DEVICE_PAYLOAD_BYTES = 4096


class GatewayConfig(ConfigSection):
    id: Identifier
    tenant: Identifier
    max_future_skew_s: float = Field(default=300.0, ge=0, description="Reject readings this far ahead of the gateway clock.")
    max_payload_bytes: int | None = Field(
        default=None, ge=128, le=MAX_DEVICE_PAYLOAD_BYTES,
        description="Largest payload taken from a device. Default: 4096 bytes, or what a device's kind may "
        "legitimately send when that is more (a BLE scanner's batch of everything it heard in a second).",
    )
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
            "nothing at all, the wait doubles after each resend, up to 30 minutes. A distress call waits 10 s "
            "and never backs off (gateway.uplink.DISTRESS_ACK_TIMEOUT_S)."
        ),
    )
    health_every_s: float = Field(
        default=300.0, ge=1, le=86_400,
        description="How often the gateway tells the centre how it is doing (a `gateway_health` item: uptime, "
        "outbox depth, uplink, frames refused, each device's last frame and battery). The console calls a gateway "
        "stale after three intervals without a report.",
    )
    outbox: OutboxConfig = OutboxConfig()
    serial_ports: dict[Identifier, str] = Field(
        default_factory=dict, description="device id -> serial port path (pty in the simulator)."
    )
    serial_baud: int = 9600

    def payload_limit(self, kind_max_bytes: int) -> int:
        """The largest payload taken from a device of a kind that may send `kind_max_bytes`:
        `max_payload_bytes` when the file sets it, else the default raised to the kind's."""
        if self.max_payload_bytes is not None:
            return self.max_payload_bytes
        return min(max(DEFAULT_DEVICE_PAYLOAD_BYTES, kind_max_bytes), MAX_DEVICE_PAYLOAD_BYTES)

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


class TsdbConfig(ConfigSection):
    """An InfluxDB v2 compatible write endpoint (VictoriaMetrics, InfluxDB 2/3)."""

    url: str
    org: str = "tepi"
    bucket: str = "tepi"
    token: str = ""
    query_url: str | None = Field(default=None, description="PromQL base URL if it differs from url.")


class IngestConfig(ConfigSection):
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


class ApiConfig(ConfigSection):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)


class RetentionConfig(ConfigSection):
    """How long data is kept, per kind; enforced by the ingest worker and `tepi admin retention run`.

    Who acknowledged or closed an alert is personal data (UU 27/2022): after `alert_actor_days`
    the name is erased from the alert and its event history (the times stay). A vessel's
    positions (where a person was) go after `position_days`, the record of a message sent to
    someone (their address) after `notification_days`.
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
    notification_days: int = Field(
        default=90,
        ge=1,
        le=36500,
        description="Days to keep a record of a message sent or given up: its target is an email address or "
        "webhook URL (personal data).",
    )
    check_every_s: float = Field(default=3600.0, ge=1, description="How often the ingest worker enforces it.")


class BrokerQueueConfig(ConfigSection):
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


class SeaRegion(ConfigSection):
    """A tenant's waters as a latitude/longitude box (WGS 84, degrees): the part of the global
    land mask the API keeps for routing, and the area its marine answers cover."""

    south: float = Field(ge=-90, le=90)
    north: float = Field(ge=-90, le=90)
    west: float = Field(ge=-180, le=180)
    east: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not (self.south < self.north and self.west < self.east):
            raise ValueError("sea region: south must be below north and west below east")
        if self.north - self.south > 10 or self.east - self.west > 10:
            # A regency's waters span well under a degree or two; ten degrees of mask at 1/120
            # degree is 1.4 million cells, still routed in well under a second.
            raise ValueError("sea region: at most 10 degrees on a side")
        return self


class SeaConfig(ConfigSection):
    """A coastal tenant's sea: where its boats go, the forecasts and hazards routes respect,
    and the sea areas whose conditions raise `marine` alerts.

    A relative path is read from the folder of the configuration file that names it
    (`core.config.load_config`): the hazards and forecast files travel with the deployment's
    configuration, wherever a process is started from."""

    region: SeaRegion
    forecast_file: Path | None = Field(
        default=None,
        description="GeoJSON sea-area forecast the deployment keeps updated (core.sea_forecast); "
        "re-read when it changes. None: no forecast, so no route is ever 'go'.",
    )
    hazards_file: Path | None = Field(
        default=None, description="GeoJSON polygons boats must keep out of: reefs, restricted zones, shipping lanes."
    )
    alert_areas: list[str] = Field(
        default_factory=list,
        description="Forecast sea-area ids whose conditions raise marine alerts; empty: every area "
        "of the forecast that meets the region.",
    )
    small_boat_wave_m: float = Field(
        default=1.25, gt=0, le=9, description="BMKG: waves above 1.25 m are dangerous for fishing boats."
    )
    small_boat_wind_kn: float = Field(
        default=15.0, gt=0, le=100, description="BMKG: wind above 15 knots is dangerous for fishing boats."
    )
    timezone: Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"] = Field(
        default="Asia/Jakarta",
        description="The zone (WIB, WITA, WIT) in which marine alerts and routes tell local times; in a "
        "tenant, its own `timezone` unless set, and if set it must be the same (one tenant, one zone).",
    )
    share_grounds_with: list[Identifier] = Field(
        default_factory=list,
        description="Tenants whose fishing-ground answers may include this tenant's boats' sightings "
        "(never their identities). Empty: this tenant's boats inform only its own grounds.",
    )


    def with_files_under(self, folder: Path) -> Self:
        """The same sea with relative file paths made relative to `folder`."""
        files = {k: folder / v for k in ("forecast_file", "hazards_file") if (v := getattr(self, k)) is not None and not v.is_absolute()}
        return self.model_copy(update=files) if files else self


#: Indonesia's three zones, WIB, WITA and WIT (Keppres 41/1987).
TenantZone = Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]
DEFAULT_TENANT_ZONE: TenantZone = "Asia/Jakarta"


class EscalationConfig(ConfigSection):
    """Who is told, in turn, when an alert stays unacknowledged: the first person of `chain` after
    `after_min` minutes, the next after as many more, and so on until someone acknowledges."""

    after_min: float = Field(default=15.0, gt=0, le=1440, description="Minutes an alert may stay unacknowledged before the next person is told.")
    alert_types: list[str] = Field(
        default_factory=lambda: ["siaga", "rate_of_rise", "forecast", "sos", "overdue", "marine"],
        description="Alert types that escalate (operational gateway_health alerts do not by default).",
    )
    chain: list[str] = Field(min_length=1, description="User names of the tenant, in the order they are reached.")


class TenantConfig(ConfigSection):
    id: Identifier
    name: str
    timezone: TenantZone = Field(
        default=DEFAULT_TENANT_ZONE,
        description="The zone (WIB, WITA, WIT) of the tenant: the console shows its times in it, and its sea's.",
    )
    escalation: EscalationConfig | None = None
    sea: SeaConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _sea_in_the_tenants_zone(cls, data: Any) -> Any:
        """A sea section that names no zone is told in the tenant's (WITA for Badung without
        saying it twice)."""
        if not isinstance(data, dict) or data.get("sea") is None:
            return data
        sea, zone = data["sea"], data.get("timezone", DEFAULT_TENANT_ZONE)
        if isinstance(sea, dict) and "timezone" not in sea:
            return {**data, "sea": {**sea, "timezone": zone}}
        if isinstance(sea, SeaConfig) and "timezone" not in sea.model_fields_set:
            return {**data, "sea": sea.model_copy(update={"timezone": zone})}
        return data

    @model_validator(mode="after")
    def _one_zone(self) -> Self:
        """One tenant, one zone: a regency or province lies in one of WIB, WITA, WIT, so marine
        alerts in one zone and the console in another could only be a mistake in the file."""
        if self.sea is not None and self.sea.timezone != self.timezone:
            raise ValueError(
                f"tenant {self.id!r}: sea.timezone {self.sea.timezone} differs from the tenant's timezone "
                f"{self.timezone}: a tenant has one zone (set tenants[].timezone; sea.timezone may be left out)"
            )
        return self


@dataclass(frozen=True, slots=True)
class RegistryStation:
    """A station the configuration declares, as central's registry of stations keeps it
    (`central.db.sync_registry`): a kind whose platforms are configured stations lists its own
    (`CoreConfig.registry_stations`), so central reads no kind's section."""

    id: str
    tenant: str
    name: str
    river: str
    lat: float
    lon: float
    #: Lower bounds of the three alert levels, in cm, lowest first, and where they were published.
    bounds_cm: tuple[float, float, float]
    bounds_source: str


class CoreConfig(ConfigSection):
    """The sections every deployment has; a kind's configuration (`kinds.<name>.config.CONFIG`)
    subclasses it with its own top-level sections, their cross-references and the hooks below.

    The hooks are cooperative: an override adds its kind's part to `super()`'s, so the model
    composed of several kinds (`core.config.TepiConfig`) answers for all of them."""

    tenants: list[TenantConfig]
    devices: list[DeviceConfig]
    gateway: GatewayConfig
    ingest: IngestConfig = IngestConfig()
    api: ApiConfig = ApiConfig()
    retention: RetentionConfig = RetentionConfig()
    broker_queue: BrokerQueueConfig = BrokerQueueConfig()

    @model_validator(mode="after")
    def _references(self) -> Self:
        tenants = {t.id for t in self.tenants}
        unique_ids("tenant", [t.id for t in self.tenants])
        unique_ids("device", [d.id for d in self.devices])
        # A device's platform is checked by its kind at gateway start (a station for awlr, a
        # vessel registered centrally for fishfinder): see `DeviceConfig`. One the file declares
        # with its tenant must be the gateway's tenant's: the gateway writes every device's data
        # under its own tenant (`tepi mqtt setup` grants the device that tenant's topic), and
        # ingest refuses another tenant's platform from it. (A platform of an unknown tenant is
        # its kind's validator's to name.)
        for d in self.devices:
            owner = self.platform_tenant(d.platform)
            if owner is not None and owner in tenants and owner != self.gateway.tenant:
                raise ValueError(
                    f"device {d.id!r}: platform {d.platform!r} belongs to tenant {owner!r}, but gateway "
                    f"{self.gateway.id!r} serves {self.gateway.tenant!r}: a gateway reads only its own tenant's "
                    "devices (give the device to a gateway of that tenant)"
                )
        for tenant in self.tenants:
            for other in tenant.sea.share_grounds_with if tenant.sea else []:
                if other not in tenants or other == tenant.id:
                    raise ValueError(f"tenant {tenant.id!r}: share_grounds_with names {other!r}, not another tenant")
        if self.gateway.tenant not in tenants:
            raise ValueError(f"gateway {self.gateway.id!r}: unknown tenant {self.gateway.tenant!r}")
        return self

    def with_files_under(self, folder: Path) -> Self:
        """The same deployment with the relative paths of its tenants' sea files read from
        `folder` (the configuration file's own)."""
        tenants = [t.model_copy(update={"sea": t.sea.with_files_under(folder)}) if t.sea else t for t in self.tenants]
        return self.model_copy(update={"tenants": tenants})

    def registry_stations(self) -> list[RegistryStation]:
        """The stations this configuration declares, for central's registry; none here."""
        return []

    def platform_tenant(self, platform: str) -> str | None:
        """The tenant a platform the configuration declares belongs to (a river station, a
        buoy); None when the file declares no such platform (a vessel is registered centrally)."""
        return None

    def platform_timezone(self, platform: str) -> str | None:
        """The IANA zone a platform's local times are told in when the configuration says one
        (e.g. `Asia/Makassar`); None when it does not, or knows no such platform."""
        return None

    def platform_positions(self, tenant: str) -> list[tuple[float, float]]:
        """(lat, lon) of the tenant's platforms the configuration places (river stations, buoys,
        offices): where the console's basemap must reach (`api.console.basemap`). None here."""
        return []

    def with_summary_every(self, summary_every_s: int) -> Self:
        """The same deployment with its devices reporting a summary at least every
        `summary_every_s` (demo and tests that cannot wait ten minutes); unchanged here."""
        return self


def unique_ids(what: str, ids: list[str]) -> None:
    """`ValueError` naming the first id that occurs twice among `ids` (ids of `what`)."""
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"duplicate {what} id {i!r}")
        seen.add(i)
