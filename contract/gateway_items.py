"""Uplink items about the gateway itself rather than any device kind's readings.

Their `kind` is "gateway", a name reserved for these (no device kind may take it): generic code
handles them, on the gateway and at ingest."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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
