"""What a gateway sends to ingest: the uplink contract, declared once for both sides.

One MQTT message carries an `UplinkBatch` of one or more items. Every item has its own
deterministic `id` (gateway, station and window or reading), so a redelivered or regenerated
item is recognised by ingest and stored once.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timezone
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION = 1
MAX_UPLINK_BYTES = 256 * 1024  # on the wire
MAX_INFLATED_BYTES = 1024 * 1024  # after decompression: a zip bomb stops here
COMPRESS_ABOVE_BYTES = 512


class MessageError(ValueError):
    """An uplink payload is not a valid `UplinkBatch`."""


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=8, max_length=200)
    station: str = Field(min_length=1, max_length=64)
    device: str = Field(min_length=1, max_length=64)


class QcCounts(BaseModel):
    """Readings of a window by QARTOD verdict, so suspect data stays visible centrally."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    good: int = Field(default=0, ge=0)
    suspect: int = Field(default=0, ge=0)
    fail: int = Field(default=0, ge=0)
    missing: int = Field(default=0, ge=0, description="Readings the device numbered but never delivered (seq gaps).")


class LevelSummary(_Item):
    """Statistics of the GOOD readings of one station over one window, plus what was not good.

    `count` and the statistics cover good readings only; a window where nothing was good still
    produces a summary (statistics null) so that central sees the station is alive but doubtful.
    """

    type: Literal["summary"] = "summary"
    window_start: AwareDatetime
    window_end: AwareDatetime
    count: int = Field(ge=0, description="Good readings behind the statistics.")
    rejected: int = Field(default=0, ge=0, description="Frames from this device rejected in the window.")
    min_cm: float | None
    max_cm: float | None
    mean_cm: float | None
    last_cm: float | None
    qc: QcCounts = QcCounts()
    suspect_min_cm: float | None = None
    suspect_max_cm: float | None = None
    last_ts: AwareDatetime
    first_seq: int = Field(ge=0)
    last_seq: int = Field(ge=0)
    siaga: int = Field(ge=1, le=4, description="Siaga level of the last reading.")
    battery_v: float | None = None


class SiagaChange(_Item):
    """Sent at once, ahead of summaries, when a station's Siaga level changes."""

    type: Literal["siaga_change"] = "siaga_change"
    ts: AwareDatetime
    seq: int = Field(ge=0)
    level_cm: float
    siaga_from: int | None = Field(ge=1, le=4, description="None for the first reading after start.")
    siaga_to: int = Field(ge=1, le=4)


class RateOfRise(_Item):
    """Sent at once when a fast rise starts (active) or ends; it can precede any Siaga change."""

    type: Literal["rate_of_rise"] = "rate_of_rise"
    ts: AwareDatetime
    seq: int = Field(ge=0)
    level_cm: float
    rate_cm_per_h: float | None
    threshold_cm_per_h: float
    active: bool


class SummariesDropped(_Item):
    """The gateway's outbox reached its size bound during an outage and evicted the oldest
    routine summaries of this station (never events); sent once the link is back."""

    type: Literal["summaries_dropped"] = "summaries_dropped"
    count: int = Field(ge=1)
    first_window_start: AwareDatetime
    last_window_start: AwareDatetime
    reason: Literal["outbox_full"] = "outbox_full"


UplinkItem = Annotated[Union[LevelSummary, SiagaChange, RateOfRise, SummariesDropped], Field(discriminator="type")]


class UplinkBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = SCHEMA_VERSION
    tenant: str = Field(min_length=1, max_length=64)
    gateway: str = Field(min_length=1, max_length=64)
    sent_at: AwareDatetime
    items: list[UplinkItem] = Field(min_length=1, max_length=10_000)


def uplink_topic(tenant: str, gateway: str) -> str:
    return f"tepi/{tenant}/gw/{gateway}/up"


def uplink_subscription(share_group: str) -> str:
    """The shared subscription that spreads uplink messages over ingest workers."""
    return f"$share/{share_group}/tepi/+/gw/+/up"


def summary_id(gateway: str, station: str, window_start: datetime, first_seq: int | None = None) -> str:
    """Same window and same first reading: same id. A gateway restarted mid-window sends the
    rest of that window with another first reading, so it is not mistaken for a duplicate."""
    base = f"{gateway}:{station}:s:{int(window_start.timestamp())}"
    return base if first_seq is None else f"{base}:{first_seq}"


def event_id(gateway: str, station: str, kind: str, ts: datetime, seq: int) -> str:
    return f"{gateway}:{station}:{kind}:{int(ts.timestamp() * 1000)}:{seq}"


def compress_payload(json_bytes: bytes) -> bytes:
    """zlib for payloads worth it; cellular uplinks are paid by the byte. JSON starts with `{`,
    zlib with 0x78, so the receiver tells them apart without a header."""
    if len(json_bytes) <= COMPRESS_ABOVE_BYTES:
        return json_bytes
    return zlib.compress(json_bytes, 6)


def decode_batch(payload: bytes) -> UplinkBatch:
    """Parse and validate one uplink payload (JSON, or zlib-compressed JSON); any problem is a
    `MessageError`."""
    if len(payload) > MAX_UPLINK_BYTES:
        raise MessageError(f"payload of {len(payload)} bytes exceeds {MAX_UPLINK_BYTES}")
    if payload[:1] == b"\x78":
        inflater = zlib.decompressobj()
        try:
            payload = inflater.decompress(payload, MAX_INFLATED_BYTES)
        except zlib.error as exc:
            raise MessageError(f"corrupt compressed payload: {exc}") from exc
        if inflater.unconsumed_tail or not inflater.eof:
            raise MessageError(f"compressed payload is truncated or inflates beyond {MAX_INFLATED_BYTES} bytes")
    try:
        return UplinkBatch.model_validate_json(payload)
    except ValidationError as exc:
        raise MessageError(f"invalid uplink batch: {exc.errors(include_url=False)[:3]}") from exc


def encode_batch(batch: UplinkBatch) -> bytes:
    return batch.model_dump_json(exclude_none=False).encode()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def device_topic(tenant: str, device: str) -> str:
    """Where a field device publishes its readings on the gateway's local broker."""
    return f"tepi/{tenant}/dev/{device}/up"


def device_subscription(tenant: str) -> str:
    return f"tepi/{tenant}/dev/+/up"


def device_from_topic(topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == "tepi" and parts[2] == "dev" and parts[4] == "up":
        return parts[3]
    return None


def alarm_topic(tenant: str, gateway: str) -> str:
    """Local alarm channel for sirens and displays; works without uplink."""
    return f"tepi/{tenant}/gw/{gateway}/alarm"
