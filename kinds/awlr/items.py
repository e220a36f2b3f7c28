"""The river kind's uplink items: level summaries, Siaga changes and rate-of-rise events."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contract.gateway_items import BrokerDrops, SummariesDropped
from contract.items import _Item
from kinds.awlr.summary_columns import micros, summary_id
from kinds.awlr.summary_records import encode_record, is_record, record_origin


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
    kind: Literal["awlr"] = "awlr"
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
    kind: Literal["awlr"] = "awlr"
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
    kind: Literal["awlr"] = "awlr"
    ts: AwareDatetime
    seq: int = Field(ge=0)
    level_cm: float
    rate_cm_per_h: float | None
    threshold_cm_per_h: float
    active: bool


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
