"""An uplink payload as ingest reads it: `UplinkBatch`, events as objects and summaries as
columns (`kinds.awlr.ingest.summary_rows`, numpy). The gateway only writes payloads (`contract.envelope`), so
this side of the contract, and numpy with it, stays out of the gateway's process.
"""

from __future__ import annotations

import dataclasses
import json
import zlib
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from contract.envelope import JSON_SCHEMA_VERSION, MAX_INFLATED_BYTES, MAX_UPLINK_BYTES
from contract.gateway_items import BrokerDrops, SummariesDropped
from contract.ids import MAX_MESSAGE_ID
from kinds.awlr.items import LevelSummary, QcCounts, RateOfRise, SiagaChange, UplinkItem, summary_values
from kinds.awlr.summary_columns import MAX_ROWS, from_micros
from kinds.awlr.ingest.summary_rows import SummaryRows, rows_from_records


class MessageError(ValueError):
    """An uplink payload is not a valid `UplinkBatch`."""



class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = Field(min_length=1, max_length=64)
    gateway: str = Field(min_length=1, max_length=64)
    #: The message's id for ingest's `UplinkAck`; absent from gateways that wait for none.
    msg: int | None = Field(default=None, ge=0, le=MAX_MESSAGE_ID, strict=True)
    sent_at: AwareDatetime
    items: list[UplinkItem] = Field(default_factory=list, max_length=10_000)


_Name = Annotated[str, Field(min_length=1, max_length=64)]


class _RecordsHeader(_Envelope):
    """The JSON before the NUL byte of a schema 3 payload: `n` summary records follow, each
    naming one of `pairs` (station, device) by its place."""

    v: Literal[3]
    n: int = Field(ge=1, le=MAX_ROWS, strict=True)
    pairs: list[tuple[_Name, _Name]] = Field(min_length=1, max_length=MAX_ROWS)


class UplinkBatch(_Envelope):
    v: Literal[1, 2, 3] = JSON_SCHEMA_VERSION
    summaries: SummaryRows = Field(default_factory=SummaryRows.empty)

    @model_validator(mode="after")
    def _not_empty(self) -> UplinkBatch:
        if not self.items and not len(self.summaries):
            raise ValueError("an uplink batch carries at least one item or summary")
        objects = [item for item in self.items if isinstance(item, LevelSummary)]
        if objects:
            # Summaries sent as objects must fit the columns ingest stores (int64 counts, times
            # since 1970, windows in order): refused here, as an invalid row is, rather than
            # failing every time ingest tries to store the batch.
            summary_rows(objects)
        return self


def summary_rows(summaries: Sequence[LevelSummary]) -> SummaryRows:
    """Summaries given as objects (schema 1, tests) as columns, keeping their ids."""
    rows = SummaryRows.from_rows([summary_values(s) for s in summaries])
    return dataclasses.replace(rows, ids=[s.id for s in summaries])


def summary_at(rows: SummaryRows, i: int, gateway: str) -> LevelSummary:
    """Row `i` as a `LevelSummary` of `gateway` (for the few rows that need one)."""

    def level(col: Any) -> float | None:
        v = float(col[i])
        return None if v != v else v  # NaN is null here; non-finite rows never get this far

    return LevelSummary(
        id=rows.item_id(i, gateway),
        station=rows.station[i],
        device=rows.device[i],
        window_start=from_micros(rows.window_start_us[i]),
        window_end=from_micros(rows.window_end_us[i]),
        count=int(rows.count[i]),
        rejected=int(rows.rejected[i]),
        min_cm=level(rows.min_cm),
        max_cm=level(rows.max_cm),
        mean_cm=level(rows.mean_cm),
        last_cm=level(rows.last_cm),
        qc=QcCounts(
            good=int(rows.qc_good[i]), suspect=int(rows.qc_suspect[i]),
            fail=int(rows.qc_fail[i]), missing=int(rows.qc_missing[i]),
        ),
        suspect_min_cm=level(rows.suspect_min_cm),
        suspect_max_cm=level(rows.suspect_max_cm),
        last_ts=from_micros(rows.last_ts_us[i]),
        first_seq=int(rows.first_seq[i]),
        last_seq=int(rows.last_seq[i]),
        siaga=int(rows.siaga[i]),
        battery_v=level(rows.battery_v),
    )


def every_item(batch: UplinkBatch) -> list[LevelSummary | SiagaChange | RateOfRise | SummariesDropped | BrokerDrops]:
    """A batch's items, its summary rows as `LevelSummary` objects after them (tests, tools)."""
    rows = batch.summaries
    return [*batch.items, *(summary_at(rows, i, batch.gateway) for i in range(len(rows)))]


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
        if inflater.unused_data:
            raise MessageError(f"{len(inflater.unused_data)} bytes after the compressed payload")
    head, nul, block = payload.partition(b"\x00")
    try:
        if not nul:
            return UplinkBatch.model_validate_json(payload)
        header = _RecordsHeader.model_validate_json(head)
        rows = rows_from_records(header.pairs, block, header.n)
        return UplinkBatch(
            v=header.v, tenant=header.tenant, gateway=header.gateway, msg=header.msg, sent_at=header.sent_at, items=header.items,
            summaries=rows,
        )
    except ValidationError as exc:
        raise MessageError(f"invalid uplink batch: {exc.errors(include_url=False)[:3]}") from exc
    except ValueError as exc:  # the records after the header
        raise MessageError(f"invalid uplink batch: {exc}") from exc


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
    return batch.model_dump_json(exclude_none=False).encode()
