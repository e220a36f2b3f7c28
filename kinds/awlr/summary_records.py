"""Level summaries on the uplink as fixed-width binary records (uplink schema 3, and the
`awlr`/`summary` blocks of schema 4).

Why: as JSON rows (schema 2) a summary cost ingest 21 Python objects and their conversion to
arrays, about 9 µs of ingest CPU a summary measured in `bench/ingest.py`: more than
VictoriaMetrics spends storing it, on the same two cores. As a record of little-endian
integers and floats (`RECORD_FIELDS`, derived from `COLUMNS`, so both sides read one
declaration) a whole batch becomes columns with one `numpy.frombuffer` in ingest
(`kinds.awlr.ingest.summary_rows.rows_from_records`), and the gateway packs a summary once, when it is
stored, with `struct`: this module is plain Python, the gateway's side of the format.

* Outbox body (gateway): `RECORD_MARK`, the record, then `["station","device"]` as JSON (names
  need no escaping rules of their own). Null statistics are NaN; a non-finite value is never
  packed (`encode_record` refuses it, and the summary travels as an object for ingest to count
  and refuse, as before).
* Uplink payload (`contract.envelope`, schema 4): a block `{"kind":"awlr","type":"summary",
  "n","pairs"}` in the JSON header, and after its NUL byte `n` pair numbers (uint32,
  little-endian) and the `n` records. The envelope joins the bodies without decoding them: it
  learns the mark, kind, type and size from `contract.records`, where this module registers
  them at import.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from typing import Any

from contract.envelope import CODE_SIZE
from contract.records import register_record
from kinds.awlr.summary_columns import COLUMNS, LEVEL, STR

#: The numeric values of `COLUMNS` (all but station and device), in order, little-endian, 8
#: bytes each: column -> (struct code, offset in the record).
RECORD_FIELDS: dict[str, tuple[str, int]] = {
    name: ("d" if kind == LEVEL else "q", 8 * k)
    for k, (name, kind) in enumerate((name, kind) for name, kind in COLUMNS if kind != STR)
}
_PACK = struct.Struct("<" + "".join(code for code, _ in RECORD_FIELDS.values()))
RECORD_SIZE = _PACK.size
#: First byte of a summary stored as a record; rows start with `[`, objects with `{`.
RECORD_MARK = b"\x03"
#: Where a stored record's names begin.
RECORD_END = 1 + RECORD_SIZE
#: The uplink block of summaries: kind and type as in every uplink item.
KIND, TYPE = "awlr", "summary"
SUMMARY_RECORD = register_record(RECORD_MARK, KIND, TYPE, RECORD_SIZE)
__all__ = ["CODE_SIZE", "RECORD_END", "RECORD_FIELDS", "RECORD_MARK", "RECORD_SIZE", "SUMMARY_RECORD", "encode_record", "is_record", "record_origin"]
_WINDOW_START = struct.Struct("<q")


def encode_record(values: Sequence[Any]) -> bytes:
    """One summary as the gateway stores it; `values` in `COLUMNS` order (times as µs, null
    statistics as None). `ValueError` for a non-finite number or one out of range."""
    if len(values) != len(COLUMNS):
        raise ValueError(f"a summary has {len(COLUMNS)} values, not {len(values)}")
    station, device, *numbers = values
    if any(type(v) is float and not math.isfinite(v) for v in numbers):
        raise ValueError("a summary value is not finite")
    try:
        packed = _PACK.pack(*[math.nan if v is None else v for v in numbers])
    except struct.error as exc:
        raise ValueError(f"a summary value does not fit its record: {exc}") from exc
    return RECORD_MARK + packed + json.dumps([station, device], separators=(",", ":")).encode()


def is_record(body: bytes) -> bool:
    return body[:1] == RECORD_MARK


def record_origin(body: bytes) -> tuple[str, str, int]:
    """(station, device, window start in µs) of a stored record."""
    station, device = json.loads(body[RECORD_END:])
    (window_start_us,) = _WINDOW_START.unpack_from(body, 1 + RECORD_FIELDS["window_start_us"][1])
    return station, device, window_start_us
