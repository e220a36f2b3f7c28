"""The river kind's part of an uplink batch, read and screened: its events as objects and its
summaries as columns (records of `awlr`/`summary` blocks with one `numpy.frombuffer` per block,
and summary objects of older gateways or tests as rows).

Ingest hands the kind its items and blocks (`ingest.kind_interface`); the rest of an uplink
(envelope, idempotency, tenants) is ingest's.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Union

import numpy as np
import numpy.typing as npt
from pydantic import Field, TypeAdapter, ValidationError

from contract.gateway_items import GatewayItem
from contract.uplink_batch import RecordBlock, UplinkBatch
from ingest.kind_interface import ScreenedPart
from kinds.awlr.ingest.summaries import StationIndex, SummaryPoints, screen
from kinds.awlr.ingest.summary_rows import SummaryRows, rows_from_records
from kinds.awlr.items import LevelSummary, QcCounts, RateOfRise, SiagaChange, summary_values
from kinds.awlr.summary_columns import from_micros
from kinds.awlr.summary_records import KIND, TYPE

_Item = Annotated[Union[LevelSummary, SiagaChange, RateOfRise], Field(discriminator="type")]
_ITEMS = TypeAdapter(list[_Item])
#: Whether the item models name their kind yet (`kind: "awlr"`); if not, it is dropped before
#: validation (the envelope has already dispatched by it).
_MODELS_NAME_KIND = "kind" in LevelSummary.model_fields

UNKNOWN_STATION = "unknown_station"
FOREIGN_STATION = "foreign_station"
NON_FINITE = "non_finite"


@dataclass
class AwlrUplink:
    """Events with their places, and summaries as columns with theirs."""

    events: list[tuple[int, SiagaChange | RateOfRise]] = field(default_factory=list)
    summaries: list[tuple[SummaryRows, npt.NDArray[np.int64]]] = field(default_factory=list)

    def stations(self) -> set[str]:
        out: set[str] = set()
        for rows, _ in self.summaries:
            out.update(StationIndex.of_rows(rows).names)
        return out


def read(items: Sequence[dict[str, Any]], places: Sequence[int], blocks: Sequence[tuple[int, RecordBlock]], gateway: str) -> AwlrUplink:
    """Validate the kind's items and blocks; `ValueError` names the first problem."""
    out = AwlrUplink()
    if items:
        try:
            models = _ITEMS.validate_python(items if _MODELS_NAME_KIND else [_without_kind(i) for i in items])
        except ValidationError as exc:
            raise ValueError(f"invalid {KIND} item: {exc.errors(include_url=False)[:3]}") from exc
        summary_places = []
        objects = []
        for place, item in zip(places, models):
            if isinstance(item, LevelSummary):
                summary_places.append(place)
                objects.append(item)
            else:
                out.events.append((place, item))
        if objects:
            # Summaries sent as objects must fit the columns ingest stores (int64 counts, times
            # since 1970, windows in order): refused here, as an invalid record is.
            out.summaries.append((summary_rows(objects), np.array(summary_places, dtype=np.int64)))
    for first, block in blocks:
        if block.type != TYPE:
            raise ValueError(f"no {KIND} records of type {block.type!r}")
        rows = rows_from_records(block.pairs, block.data, block.n)
        out.summaries.append((rows, np.arange(first, first + block.n, dtype=np.int64)))
    return out


def _without_kind(item: dict[str, Any]) -> dict[str, Any]:
    if "kind" not in item:
        return item
    return {k: v for k, v in item.items() if k != "kind"}


def screen_part(part: AwlrUplink, base: int, tenant: str, gateway: str, tenant_of: dict[str, str]) -> ScreenedPart:
    """Summaries of known stations of `tenant` with finite values; the rest counted by reason."""
    kept_parts = []
    rejected: Counter[str] = Counter()
    stored: Counter[str] = Counter()
    stations: set[str] = set()
    for rows, positions in part.summaries:
        kept = screen(rows, positions + base, tenant, tenant_of)
        for reason, n in ((UNKNOWN_STATION, kept.unknown_station), (FOREIGN_STATION, kept.foreign_station), (NON_FINITE, kept.non_finite)):
            if n:
                rejected[reason] += n
        if len(kept.rows):
            kept_parts.append(kept)
            stored[TYPE] += len(kept.rows)
            stations.update(kept.index.names)
    points = [SummaryPoints(tenant, gateway, kept.rows, kept.index) for kept in kept_parts]
    return ScreenedPart(points=points, series=kept_parts, stations=stations, rejected=rejected, stored=stored)


def summary_rows(summaries: Sequence[LevelSummary]) -> SummaryRows:
    """Summaries given as objects (older gateways, tests) as columns, keeping their ids."""
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


def batch_parts(batch: UplinkBatch) -> AwlrUplink:
    """The river kind's part of a whole batch (tests, tools): what ingest hands the handler."""
    places = [k for k, item in enumerate(batch.items) if item["kind"] == KIND]
    blocks = []
    at = len(batch.items)
    for block in batch.blocks:
        if block.kind == KIND:
            blocks.append((at, block))
        at += block.n
    return read([batch.items[k] for k in places], places, blocks, batch.gateway)


def batch_summaries(batch: UplinkBatch, part: AwlrUplink | None = None) -> SummaryRows:
    """All summaries of a batch as one set of rows, in the batch's order (tests, tools)."""
    part = part if part is not None else batch_parts(batch)
    parts = sorted(part.summaries, key=lambda p: int(p[1][0]) if len(p[1]) else 0)
    if len(parts) == 1:
        return parts[0][0]
    if not parts:
        return SummaryRows.empty()
    items = [summary_at(rows, i, batch.gateway) for rows, _ in parts for i in range(len(rows))]
    return summary_rows(items)


def every_item(batch: UplinkBatch) -> list[Any]:
    """A batch's river items as objects, events then every summary, and then the gateway's own
    reports (outbox full, broker drops, health) that travel beside them (tests, tools)."""
    part = batch_parts(batch)
    reports = [_GATEWAY_ITEM.validate_python(i) for i in batch.items if i.get("kind") == "gateway"]
    return [
        *(e for _, e in part.events),
        *(summary_at(rows, i, batch.gateway) for rows, _ in part.summaries for i in range(len(rows))),
        *reports,
    ]


_GATEWAY_ITEM: TypeAdapter[GatewayItem] = TypeAdapter(GatewayItem)


@dataclass
class RiverBatch:
    """A whole payload's river items as tests and tools look at them: the batch (schema 4),
    its events as objects and all its summaries as rows, in the batch's order."""

    batch: UplinkBatch
    events: list[SiagaChange | RateOfRise]
    summaries: SummaryRows


def read_uplink(payload: bytes | UplinkBatch) -> RiverBatch:
    """Decode (any schema) and read a payload as ingest does; `MessageError` for what ingest
    refuses as malformed."""
    from contract.uplink_batch import MessageError, decode_batch

    batch = payload if isinstance(payload, UplinkBatch) else decode_batch(payload)
    try:
        part = batch_parts(batch)
        return RiverBatch(batch, [e for _, e in part.events], batch_summaries(batch, part))
    except ValueError as exc:
        raise MessageError(f"invalid uplink batch: {exc}") from exc
