"""What a gateway sends to ingest: the uplink contract, declared once for both sides.

One MQTT message carries an `UplinkBatch` of one or more items. Every item has its own
deterministic `id` (gateway, station and window or reading), so a redelivered or regenerated
item is recognised by ingest and stored once.

This module is what the gateway needs: the items, how it stores them and wraps them into a
payload, and the topics. How ingest reads a payload back (`UplinkBatch`, summaries as numpy
columns) is `contract.uplink_batch`, which the gateway never imports.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from kinds.awlr.summary_columns import micros, summary_id
from kinds.awlr.summary_records import encode_record, is_record, join_records, record_origin

#: 3: level summaries travel as binary records after the JSON header (`kinds.awlr.summary_records`).
#: Ingest still takes schema 2, positional JSON rows in `summaries` (`kinds.awlr.summary_columns`), and
#: schema 1, summaries as objects among `items`: an older gateway, or an outbox written before.
SCHEMA_VERSION = 3
#: What a payload without summary records declares (events only): plain JSON, as schema 2.
JSON_SCHEMA_VERSION = 2
MAX_UPLINK_BYTES = 256 * 1024  # on the wire
MAX_INFLATED_BYTES = 1024 * 1024  # after decompression: a zip bomb stops here
COMPRESS_ABOVE_BYTES = 512


class _Item(BaseModel):
    # NaN and Infinity are written as such (not as null), so that ingest counts and refuses
    # them instead of storing a null statistic as valid.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

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
    """Sent at once when a fast rise starts (active) or ends; it can precede any Siaga change.

    `rate_cm_per_h` and `threshold_cm_per_h` are those of the window that decided (the gateway
    fits a long and a short one, `kinds.awlr.edge.rise_tracker`): at the start, a rate at or above its
    threshold; at the end, below it."""

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


class BrokerDrops(BaseModel):
    """The gateway's site broker dropped device messages (its queue for the gateway was full, as
    during a gateway outage longer than the queue bridges, or a burst): readings lost before the
    gateway saw them, each already acknowledged to its device. Read from the broker's own count
    (`core.broker_drops`); sent at once, ahead of summaries, at most once a minute while drops
    go on (`active`), and once more when they stopped for a while (`active` false).

    The broker counts drops of all its subscribers, not per device, so the report is about the
    gateway: `station` is only where the alert is filed (the gateway's first station).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["broker_drops"] = "broker_drops"
    id: str = Field(min_length=8, max_length=200)
    station: str = Field(min_length=1, max_length=64)
    active: bool = Field(description="True: messages were dropped; false: none for a while since the last report.")
    dropped: int = Field(ge=0, le=2**62, strict=True, description="Messages dropped in (`since`, `until`].")
    broker_total: int = Field(ge=0, le=2**62, strict=True, description="The broker's own count since it started.")
    since: AwareDatetime | None = Field(description="None: since the broker started (the gateway had no earlier count).")
    until: AwareDatetime


UplinkItem = Annotated[
    Union[LevelSummary, SiagaChange, RateOfRise, SummariesDropped, BrokerDrops], Field(discriminator="type")
]


def summary_values(s: LevelSummary) -> list[Any]:
    """A summary's values in `kinds.awlr.summary_columns.COLUMNS` order."""
    qc = s.qc
    return [
        s.station, s.device, micros(s.window_start), micros(s.window_end), s.count, s.rejected,
        s.min_cm, s.max_cm, s.mean_cm, s.last_cm, qc.good, qc.suspect, qc.fail, qc.missing,
        s.suspect_min_cm, s.suspect_max_cm, micros(s.last_ts), s.first_seq, s.last_seq, s.siaga, s.battery_v,
    ]


def outbox_body(item: LevelSummary | SiagaChange | RateOfRise | SummariesDropped | BrokerDrops, gateway: str) -> bytes:
    """How the gateway stores an item for the uplink: a summary as its binary record when its
    id is the one ingest derives, anything else as a JSON object."""
    if isinstance(item, LevelSummary) and item.id == summary_id(gateway, item.station, item.window_start, item.first_seq):
        try:
            return encode_record(summary_values(item))
        except ValueError:  # NaN or Infinity: sent as an object, for ingest to count and refuse
            pass
    return item.model_dump_json().encode()


def stored_summary_origin(body: bytes) -> tuple[str, str, float]:
    """(station, device, window start as Unix seconds) of a summary as the outbox stores it:
    a record, a positional row (schema 2) or a JSON object (schema 1), the last two written
    before an upgrade."""
    if is_record(body):
        station, device, start_us = record_origin(body)
        return station, device, start_us / 1_000_000
    value = json.loads(body)
    if isinstance(value, list):
        return value[0], value[1], value[2] / 1_000_000
    return value["station"], value["device"], datetime.fromisoformat(value["window_start"]).timestamp()


def encode_uplink(tenant: str, gateway: str, bodies: Sequence[bytes], sent_at: datetime, msg: int | None = None) -> bytes:
    """An uplink payload around stored outbox bodies, without decoding them again: records go
    after the header (schema 3), objects to `items`. Rows stored before the upgrade to schema
    3 are packed as records here; without any summary the payload is plain JSON. `msg` is the
    message's id, which ingest's `UplinkAck` names once it stored the message (None: a sender
    that waits for no acknowledgement, as gateways before it did)."""
    records = [b for b in bodies if is_record(b)]
    objects: list[bytes] = []
    if len(records) != len(bodies):
        if any(b[:1] == b"[" for b in bodies):  # rows stored before schema 3: packed, in their place
            bodies = [encode_record(json.loads(b)) if b[:1] == b"[" else b for b in bodies]
            records = [b for b in bodies if is_record(b)]
        objects = [b for b in bodies if not is_record(b)]
    if msg is not None and not 0 <= msg <= MAX_MESSAGE_ID:
        raise ValueError(f"uplink message id {msg} is outside 0..{MAX_MESSAGE_ID}")
    msg_field = "" if msg is None else f'"msg":{msg},'
    head = f'{{"tenant":"{tenant}","gateway":"{gateway}",{msg_field}"sent_at":"{sent_at.isoformat()}","items":['.encode()
    if not records:
        return b"".join((head, b",".join(objects), b'],"v":%d}' % JSON_SCHEMA_VERSION))
    pairs, block = join_records(records)
    return b"".join((
        head, b",".join(objects), b'],"v":%d,"n":%d,"pairs":[' % (SCHEMA_VERSION, len(records)),
        b",".join(pairs), b"]}\x00", block,
    ))


def uplink_topic(tenant: str, gateway: str) -> str:
    return f"tepi/{tenant}/gw/{gateway}/up"


#: Every gateway's uplink topic (`uplink_topic`) of every tenant.
UPLINK_FILTER = "tepi/+/gw/+/up"


def downlink_topic(tenant: str, gateway: str) -> str:
    """Where the centre talks to one gateway: ingest's `UplinkAck`s (QoS 1, the gateway's
    persistent session keeps them while it is away)."""
    return f"tepi/{tenant}/gw/{gateway}/down"


#: Every gateway's downlink topic (`downlink_topic`) of every tenant: what ingest writes.
DOWNLINK_FILTER = "tepi/+/gw/+/down"

#: Uplink message ids are unsigned 63-bit: JSON integers every side reads exactly.
MAX_MESSAGE_ID = 2**63 - 1


#: Message ids per list of one `UplinkAck`; ingest splits a larger batch's acks.
ACK_IDS_MAX = 10_000


class UplinkAck(BaseModel):
    """Ingest to a gateway: the uplink messages named in `stored` are in the central stores
    (state committed, points in the TSDB), or were before (a duplicate); those in `rejected`
    can never be stored (malformed, or claiming another gateway) and were counted centrally.
    Either way the gateway may forget their items: only then does it delete them, since the
    broker's PUBACK proves only that the broker had them, and a broker restart loses shared
    subscriptions (Mosquitto 2.0 restores plain ones only), so a message accepted with no
    subscriber is dropped silently.

    One ack names all messages of one gateway in one ingest batch. Compact on purpose: it
    travels on the gateway's (often metered) cellular link. Other downlink messages (SOS
    acknowledgements) will be told apart by `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["uplink_ack"] = "uplink_ack"
    stored: list[Annotated[int, Field(ge=0, le=MAX_MESSAGE_ID, strict=True)]] = Field(default_factory=list, max_length=ACK_IDS_MAX)
    rejected: list[Annotated[int, Field(ge=0, le=MAX_MESSAGE_ID, strict=True)]] = Field(default_factory=list, max_length=ACK_IDS_MAX)


def uplink_acks(stored: list[int], rejected: list[int]) -> list[UplinkAck]:
    """The acks naming these message ids: one, or several when a batch (ingest takes up to
    100,000 messages at once) holds more than `ACK_IDS_MAX` of one gateway's."""
    return [
        UplinkAck(stored=stored[i : i + ACK_IDS_MAX], rejected=rejected[i : i + ACK_IDS_MAX])
        for i in range(0, max(len(stored), len(rejected), 1), ACK_IDS_MAX)
    ]


def encode_ack(ack: UplinkAck) -> bytes:
    return ack.model_dump_json().encode()


def decode_downlink(payload: bytes) -> UplinkAck:
    """A downlink payload as its typed message; anything else is a `ValueError` (pydantic's
    `ValidationError` is one), a message without its `type` too: a later kind must never pass
    for an ack."""
    ack = UplinkAck.model_validate_json(payload)
    if "type" not in ack.model_fields_set:
        raise ValueError("a downlink message names its type")
    return ack


def uplink_subscription(share_group: str | None) -> str:
    """What ingest subscribes to: the shared subscription that spreads uplink messages over
    the workers of `share_group`, or, with None, the plain filter, for a broker without shared
    subscriptions (the embedded amqtt), where a `$share/...` filter matches nothing and a single
    worker must take every message itself."""
    if share_group is None:
        return UPLINK_FILTER
    return f"$share/{share_group}/{UPLINK_FILTER}"


def event_id(gateway: str, station: str, kind: str, ts: datetime, seq: int) -> str:
    return f"{gateway}:{station}:{kind}:{int(ts.timestamp() * 1000)}:{seq}"


def compress_payload(json_bytes: bytes) -> bytes:
    """zlib for payloads worth it; cellular uplinks are paid by the byte. JSON starts with `{`,
    zlib with 0x78, so the receiver tells them apart without a header."""
    if len(json_bytes) <= COMPRESS_ABOVE_BYTES:
        return json_bytes
    return zlib.compress(json_bytes, 6)


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
