"""Uplink items about the gateway itself rather than any device kind's readings.

Their `kind` is "gateway", a name reserved for these (no device kind may take it): generic code
handles them, on the gateway and at ingest."""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from contract.items import _Item


class SummariesDropped(_Item):
    """The gateway's outbox reached its size bound during an outage and evicted the oldest
    routine items of one series (never events); sent once the link is back, one report per
    evicted series (kind, type, origin), its id naming all three. `station` is the series'
    platform: a river station, or a vessel (ingest files it through the kind that owns it)."""

    type: Literal["summaries_dropped"] = "summaries_dropped"
    kind: Literal["gateway"] = "gateway"
    count: int = Field(ge=1)
    first_window_start: AwareDatetime
    last_window_start: AwareDatetime
    reason: Literal["outbox_full"] = "outbox_full"


class BrokerDrops(BaseModel):
    """The gateway's site broker dropped device messages (its queue for the gateway was full, as
    during a gateway outage longer than the queue bridges, or a burst): readings lost before the
    gateway saw them, each already acknowledged to its device. Read from the broker's own count
    (`core.broker_drops`); sent at once, ahead of summaries, at most once a minute while drops
    go on (`active`), and once more when they stopped for a while (`active` false).

    The broker counts drops of all its subscribers, not per device, so the report is about the
    gateway: `station` is only where the alert is filed (the gateway's first platform with MQTT
    devices: a river station, or on a boat gateway its vessel, which ingest files through the
    kind that owns it).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["broker_drops"] = "broker_drops"
    kind: Literal["gateway"] = "gateway"
    id: str = Field(min_length=8, max_length=200)
    station: str = Field(min_length=1, max_length=64)
    active: bool = Field(description="True: messages were dropped; false: none for a while since the last report.")
    dropped: int = Field(ge=0, le=2**62, strict=True, description="Messages dropped in (`since`, `until`].")
    broker_total: int = Field(ge=0, le=2**62, strict=True, description="The broker's own count since it started.")
    since: AwareDatetime | None = Field(description="None: since the broker started (the gateway had no earlier count).")
    until: AwareDatetime


#: Devices one health report lists at most: 2,000 entries are about 400 kB of JSON, within what
#: ingest inflates (`contract.envelope.MAX_INFLATED_BYTES`); a gateway is sized for hundreds.
MAX_REPORTED_DEVICES = 2000
#: Rejection reasons one report names at most (the gateway has about thirty).
MAX_REPORTED_REASONS = 64

_Name = Annotated[str, Field(min_length=1, max_length=64)]
_Count = Annotated[int, Field(ge=0, le=2**62, strict=True)]


class DeviceHealth(BaseModel):
    """One configured device as its gateway saw it since the gateway started. `battery_v` and
    `battery_pct` are those of its last accepted reading that told them (null when its kind's
    readings carry none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device: _Name
    kind: _Name
    platform: _Name
    last_seen_at: AwareDatetime | None = Field(description="Gateway clock when its last accepted frame arrived; null: none since the start.")
    frames: _Count = Field(description="Frames with at least one accepted reading.")
    rejected_frames: _Count = Field(description="Frames (or lines of one) refused, whatever the reason.")
    battery_v: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    battery_pct: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)


class GatewayHealth(BaseModel):
    """How a gateway is doing, sent every `gateway.health_every_s` (default 5 minutes) so the
    centre knows it: uptime, outbox depth, whether its uplink was up, frames refused since it
    started (in all and by reason, devices it does not know included) and each configured
    device's last frame, counts and battery.

    Counts run from the gateway's start (a restart starts them at 0 again, and `uptime_s` says
    so). The report is a snapshot, not an event: a newer one replaces it, at the gateway's outbox
    (only the latest unsent report is kept) and centrally (ingest keeps each gateway's newest:
    by `uptime_s` within a run, whatever its clock did; by arrival across a restart). `link_up` is the uplink as it was when the report was built: one built during an
    outage arrives after it, saying so, with the backlog in `outbox_items`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["gateway_health"] = "gateway_health"
    kind: Literal["gateway"] = "gateway"
    id: str = Field(min_length=8, max_length=200)
    gateway: _Name
    at: AwareDatetime = Field(description="The gateway's clock when it built the report.")
    every_s: float = Field(gt=0, le=86_400, allow_inf_nan=False, description="How often the gateway reports.")
    uptime_s: float = Field(ge=0, allow_inf_nan=False)
    outbox_items: _Count
    outbox_bytes: _Count
    link_up: bool = Field(strict=True)
    rejected_frames: _Count
    rejected_by_reason: dict[_Name, _Count] = Field(max_length=MAX_REPORTED_REASONS)
    devices: list[DeviceHealth] = Field(max_length=MAX_REPORTED_DEVICES)


#: Any of the gateway's own items, told apart by `type`.
GatewayItem = Annotated[Union[SummariesDropped, BrokerDrops, GatewayHealth], Field(discriminator="type")]
GATEWAY_ITEMS: TypeAdapter[list[GatewayItem]] = TypeAdapter(list[GatewayItem])
