"""Rows an outbox held before layout 0003, in the form of that layout: used by its revision
(`outbox_migrations/versions/0003_generic_items.py`) and by salvage of a damaged older file
(`outbox_recovery`), which reads the file as it is, before any upgrade.

Before layout 0003 the gateway ran one device kind, the river's (AWLR), and gateway-level
reports: every row is one of theirs. So this module, and only it, reads river bodies: summary
records, positional rows (uplink schema 2) and JSON objects, through `kinds.awlr`, imported
when a legacy row is met (never on a normal start), since that is the code that wrote them.
"""

from __future__ import annotations

import json
import shutil
import struct
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.errors import OutboxError

#: Items about the gateway itself (`contract.gateway_items`); anything else was the river's.
GATEWAY_TYPES = frozenset({"summaries_dropped", "broker_drops"})
#: The river's journal body as layout 0003 introduced it (`kinds.awlr.edge.reading`): the
#: level, then the battery voltage when known, little-endian doubles. Frozen here: a later
#: change of the river's encoding must not change what this revision wrote.
_LEVEL = struct.Struct("<d")
_LEVEL_BATTERY = struct.Struct("<dd")
#: A body that is none of the above (no Tepi wrote one): kept and sent as it is.
UNKNOWN = ("", "", "")


def priority(old: int) -> int:
    """Layouts before 0003: 0 event, 1 summary; from 0003 `contract.items`: 1 event, 2 routine."""
    return old + 1


def journal_body(level: float, battery: float | None) -> bytes:
    return _LEVEL.pack(level) if battery is None else _LEVEL_BATTERY.pack(level, battery)


def journal_row(device: str, ts: float, seq: int, level: float, battery: float | None) -> tuple[str, float, int, bytes]:
    return device, ts, seq, journal_body(level, battery)


def dropped_row(station: str, device: str, count: int, first: float, last: float) -> tuple[str, str, str, int, float, float]:
    """Evictions were of river summaries, counted per station."""
    return "awlr", "summary", f"{station}/{device}", count, first, last


def item_columns(body: bytes, created_at: float) -> tuple[str, str, str, float]:
    """(kind, type, origin, at) of a stored body; an unreadable one gets empty names and its
    time of storing, and stays queued."""
    from kinds.awlr.summary_records import is_record, record_origin

    if is_record(body):
        try:
            station, device, start_us = record_origin(body)
        except (ValueError, struct.error):  # a record cut short (salvage of a damaged file)
            return (*UNKNOWN, created_at)
        return "awlr", "summary", f"{station}/{device}", start_us / 1_000_000
    try:
        value = json.loads(body)
    except ValueError:
        return (*UNKNOWN, created_at)
    if isinstance(value, list) and len(value) > 2 and isinstance(value[2], int):  # a positional summary row
        return "awlr", "summary", f"{value[0]}/{value[1]}", value[2] / 1_000_000
    if not isinstance(value, dict):
        return (*UNKNOWN, created_at)
    item_type = str(value.get("type", ""))
    kind = "gateway" if item_type in GATEWAY_TYPES else "awlr"
    station, device = value.get("station", ""), value.get("device")
    origin = f"{station}/{device}" if device else str(station)
    return kind, item_type, origin, _time(value, created_at)


def _time(value: dict[str, Any], default: float) -> float:
    for key in ("window_start", "ts", "last_window_start", "until"):
        if isinstance(value.get(key), str):
            try:
                return datetime.fromisoformat(value[key]).timestamp()
            except ValueError:
                break
    return default


def current_body(body: bytes, kind: str) -> bytes:
    """The body a current gateway would have stored: a JSON object names its kind (uplink
    schema 4), a positional row is a summary record. Everything else is kept byte for byte."""
    if body[:1] == b"{" and kind:
        try:
            value = json.loads(body)
        except ValueError:
            return body
        if isinstance(value, dict) and value and "kind" not in value:
            return b'{"kind":' + json.dumps(kind).encode() + b"," + body[1:]
        return body
    if body[:1] == b"[":
        from kinds.awlr.summary_records import encode_record

        try:
            return encode_record(json.loads(body))
        except ValueError:  # a value no record holds: left as the row it was
            return body
    return body


#: Rows the 0003 upgrade converts at a time: its memory is this many rows' bodies (a summary
#: record is under 200 bytes, an event object under 1 KB: well under a megabyte), whatever the
#: size of the outbox (a default 512 MB outbox holds about 3 million rows).
CHUNK_ROWS = 2000
#: Bytes of free disk the 0003 upgrade needs per byte of the outbox file: the rebuilt tables,
#: about as large as the old ones (a body gains a few bytes at most), and SQLite's journal of
#: the one transaction the upgrade is, which can hold as much again (in WAL mode, every new
#: page), plus a margin for SQLite's temporary files.
UPGRADE_SPACE_FACTOR = 2
UPGRADE_SPACE_MARGIN = 8 * 1024 * 1024


def check_free_space(path: Path, file_bytes: int) -> None:
    """`OutboxError` before anything changes when the disk holding the outbox has too little
    free for the upgrade: running out in the middle would roll back only after filling the
    disk the gateway shares with its logs and journal."""
    needed = UPGRADE_SPACE_FACTOR * file_bytes + UPGRADE_SPACE_MARGIN
    free = shutil.disk_usage(path.parent).free
    if free < needed:
        raise OutboxError(
            f"upgrading outbox {path} needs about {needed // 2**20} MiB free on its disk, only {free // 2**20} MiB are: "
            "free some space (or move the outbox) and start the gateway again; nothing was changed"
        )
