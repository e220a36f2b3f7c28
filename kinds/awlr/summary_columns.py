"""The columns of a level summary on the uplink, declared once for the gateway's encoders and
ingest's decoders, in plain Python: the gateway packs summaries without numpy, which only
ingest needs to read them as columns (`kinds.awlr.ingest.summary_rows`).

A row is `[station, device, window_start_us, window_end_us, count, rejected, min_cm, max_cm,
mean_cm, last_cm, qc_good, qc_suspect, qc_fail, qc_missing, suspect_min_cm, suspect_max_cm,
last_ts_us, first_seq, last_seq, siaga, battery_v]`: times in integer microseconds since the
Unix epoch (UTC, exact), statistics as numbers or null. The item id is not sent: it is
`summary_id(gateway, station, window_start, first_seq)`, which ingest derives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
#: 9999-12-31T23:59:59Z: the last instant a `datetime` can hold.
MAX_TIME_US = 253_402_300_799_000_000
MAX_ROWS = 10_000
MAX_NAME = 64

STR, TIME, COUNT, LEVEL, SIAGA = "str", "time", "count", "level", "siaga"

#: The row layout: (column, kind). Append only, and only with a new schema version.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("station", STR),
    ("device", STR),
    ("window_start_us", TIME),
    ("window_end_us", TIME),
    ("count", COUNT),
    ("rejected", COUNT),
    ("min_cm", LEVEL),
    ("max_cm", LEVEL),
    ("mean_cm", LEVEL),
    ("last_cm", LEVEL),
    ("qc_good", COUNT),
    ("qc_suspect", COUNT),
    ("qc_fail", COUNT),
    ("qc_missing", COUNT),
    ("suspect_min_cm", LEVEL),
    ("suspect_max_cm", LEVEL),
    ("last_ts_us", TIME),
    ("first_seq", COUNT),
    ("last_seq", COUNT),
    ("siaga", SIAGA),
    ("battery_v", LEVEL),
)
WIDTH = len(COLUMNS)
_INT64_MAX = 2**63 - 1
#: The values an integer column may hold, by kind.
LIMITS = {TIME: (0, MAX_TIME_US), COUNT: (0, _INT64_MAX), SIAGA: (1, 4)}
#: Names of the integer columns and of the level columns, in `COLUMNS` order.
INTEGER_COLUMNS = tuple(name for name, kind in COLUMNS if kind in LIMITS)
LEVEL_COLUMNS = tuple(name for name, kind in COLUMNS if kind == LEVEL)


def micros(at: datetime) -> int:
    """Microseconds since the epoch, exactly (a float timestamp would round)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: summaries carry UTC-aware times")
    return (at - EPOCH) // _US


def from_micros(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def summary_id(gateway: str, station: str, window_start: datetime, first_seq: int | None = None) -> str:
    """Same window and same first reading: same id. A gateway restarted mid-window sends the
    rest of that window with another first reading, so it is not mistaken for a duplicate."""
    start_s = micros(window_start) // 1_000_000  # exact, as for rows
    return f"{gateway}:{station}:s:{start_s}" if first_seq is None else row_id(gateway, station, start_s, first_seq)


def row_id(gateway: str, station: str, start_s: int, first_seq: int) -> str:
    """`summary_id` from a row's values (the window start in whole seconds)."""
    return f"{gateway}:{station}:s:{start_s}:{first_seq}"


def encode_row(values: Sequence[Any]) -> bytes:
    """One summary as its positional JSON row (schema 2); `values` in `COLUMNS` order (times as µs)."""
    if len(values) != WIDTH:
        raise ValueError(f"a summary row has {WIDTH} values, not {len(values)}")
    return json.dumps(list(values), separators=(",", ":"), allow_nan=False).encode()
