"""An uplink payload as ingest reads it (schema 4, `contract.envelope`): `UplinkBatch`, its
items as JSON objects and its record blocks as bytes, both still of their kinds. Each kind's
ingest side reads its own (`kinds.<name>.ingest.HANDLER`, numpy for records): this module knows
no kind. Payloads of older schemas are converted at the door (`contract.legacy_uplink`).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from contract.envelope import CODE_SIZE, MAX_INFLATED_BYTES, MAX_UPLINK_BYTES, SCHEMA_VERSION
from contract.ids import MAX_MESSAGE_ID
from contract.legacy_uplink import to_v4, with_kinds
from contract.records import record_type

#: Items, and records of one block, in one message at most.
MAX_ITEMS = 20_000
MAX_RECORDS = 10_000

_Name = Annotated[str, Field(min_length=1, max_length=64)]


class MessageError(ValueError):
    """An uplink payload is not a valid `UplinkBatch`."""


class UnknownRecordType(MessageError):
    """A block of records of a type no kind of this build registered: its size, and so where
    the next block starts, is unknown (the message is refused whole)."""


@dataclass(frozen=True, slots=True, eq=False)
class RecordBlock:
    """`n` records of one kind and type: `data` holds their `n` pair numbers (uint32, LE), then
    the records (`size` bytes each); `pairs` are the series they name by number."""

    kind: str
    type: str
    n: int
    pairs: list[tuple[str, str]]
    data: bytes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordBlock):
            return NotImplemented
        return (self.kind, self.type, self.n, self.pairs, self.data) == (other.kind, other.type, other.n, other.pairs, other.data)


class _BlockHeader(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: _Name
    type: _Name
    n: int = Field(ge=1, le=MAX_RECORDS, strict=True)
    pairs: list[tuple[_Name, _Name]] = Field(min_length=1, max_length=MAX_RECORDS)


class _Header(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = Field(min_length=1, max_length=64)
    gateway: str = Field(min_length=1, max_length=64)
    #: The message's id for ingest's `UplinkAck`; absent from gateways that wait for none.
    msg: int | None = Field(default=None, ge=0, le=MAX_MESSAGE_ID, strict=True)
    sent_at: AwareDatetime
    #: Objects, each naming its `kind` and `type`; a kind's handler validates the rest.
    items: list[dict[str, Any]] = Field(default_factory=list, max_length=MAX_ITEMS)
    v: Literal[4] = SCHEMA_VERSION

    @field_validator("items", mode="before")
    @classmethod
    def _kinds(cls, items: Any) -> Any:
        # Items written before kinds had a name (an outbox not upgraded yet) get theirs.
        if type(items) is list and any(type(i) is dict and "kind" not in i for i in items):
            items = with_kinds(items)
        return items

    @field_validator("items")
    @classmethod
    def _named(cls, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for item in items:
            if type(item.get("kind")) is not str or type(item.get("type")) is not str:
                raise ValueError("every uplink item names its kind and type")
        return items


class _RecordsHeader(_Header):
    blocks: list[_BlockHeader] = Field(min_length=1, max_length=16)


class UplinkBatch(_Header):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    blocks: list[RecordBlock] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> UplinkBatch:
        if not self.items and not self.blocks:
            raise ValueError("an uplink batch carries at least one item or record")
        return self


def decode_batch(payload: bytes) -> UplinkBatch:
    """Parse and validate one uplink payload (JSON, or zlib-compressed JSON; any schema, as
    schema 4); any problem is a `MessageError`."""
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
        if inflater.unused_data:
            raise MessageError(f"{len(inflater.unused_data)} bytes after the compressed payload")
    head, nul, rest = payload.partition(b"\x00")
    try:
        header, data = to_v4(json.loads(head), rest if nul else None)
        if data is None:
            return UplinkBatch.model_validate(header)
        checked = _RecordsHeader.model_validate(header)
        return UplinkBatch(
            tenant=checked.tenant, gateway=checked.gateway, msg=checked.msg, sent_at=checked.sent_at, items=checked.items,
            blocks=_split(checked.blocks, data),
        )
    except ValidationError as exc:
        raise MessageError(f"invalid uplink batch: {exc.errors(include_url=False)[:3]}") from exc
    except MessageError:
        raise
    except (ValueError, RecursionError) as exc:  # JSON, an old schema, the records
        raise MessageError(f"invalid uplink batch: {exc}") from exc


def _split(headers: list[_BlockHeader], data: bytes) -> list[RecordBlock]:
    """The bytes after the NUL, block by block, each its size by its registered record type."""
    blocks = []
    at = 0
    for h in headers:
        record = record_type(h.kind, h.type)
        if record is None:
            raise UnknownRecordType(f"records of kind {h.kind!r} and type {h.type!r} are of no kind this ingest knows")
        size = h.n * (CODE_SIZE + record.size)
        if at + size > len(data):
            raise MessageError(f"{len(data) - at} bytes of {h.kind}/{h.type} records do not hold {h.n} records")
        blocks.append(RecordBlock(h.kind, h.type, h.n, list(h.pairs), data[at : at + size]))
        at += size
    if at != len(data):
        raise MessageError(f"{len(data) - at} bytes after the last block of records")
    return blocks


def message_id_of(payload: bytes) -> int | None:
    """The `msg` id of a payload `decode_batch` refused, if its header still names one, so
    ingest can acknowledge it as rejected and the gateway stops sending it; None otherwise.
    Never raises: whatever the payload holds, the answer is an id or None."""
    try:
        if payload[:1] == b"\x78":
            inflater = zlib.decompressobj()
            payload = inflater.decompress(payload[:MAX_UPLINK_BYTES], MAX_INFLATED_BYTES)
        head = payload.partition(b"\x00")[0]
        msg = json.loads(head).get("msg")
    except (zlib.error, ValueError, AttributeError, RecursionError):
        return None
    return msg if type(msg) is int and 0 <= msg <= MAX_MESSAGE_ID else None


def encode_batch(batch: UplinkBatch) -> bytes:
    """A batch as its schema-4 payload (tests, tools; the gateway joins stored bodies instead)."""
    head = batch.model_dump_json(exclude={"blocks"}).encode()
    if not batch.blocks:
        return head
    blocks = json.dumps(
        [{"kind": b.kind, "type": b.type, "n": b.n, "pairs": [list(p) for p in b.pairs]} for b in batch.blocks], separators=(",", ":")
    ).encode()
    return b"".join((head[:-1], b',"blocks":', blocks, b"}\x00", *(b.data for b in batch.blocks)))
