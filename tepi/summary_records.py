"""Level summaries on the uplink as fixed-width binary records (uplink schema 3).

Why: as JSON rows (schema 2) a summary cost ingest 21 Python objects and their conversion to
arrays, about 9 µs of ingest CPU a summary measured in `bench/ingest.py`: more than
VictoriaMetrics spends storing it, on the same two cores. As a record of little-endian
integers and floats (`RECORD`, derived from `COLUMNS`, so both sides read one declaration) a
whole batch becomes columns with one `numpy.frombuffer`, and the gateway packs a summary once,
when it is stored, with `struct`.

* Outbox body (gateway): `RECORD_MARK`, the record, then `["station","device"]` as JSON (names
  need no escaping rules of their own). Null statistics are NaN; a non-finite value is never
  packed (`encode_record` refuses it, and the summary travels as an object for ingest to count
  and refuse, as before).
* Uplink payload: a JSON header (tenant, gateway, events as objects, the distinct
  (station, device) pairs, `n`), one NUL byte (JSON text never holds one), then `n` pair
  numbers (uint32, little-endian) and the `n` records (`join_records` builds the part after the
  header without decoding the bodies).
* Ingest: `rows_from_records` validates the block as `SummaryRows.from_rows` validates rows.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from tepi.summary_rows import COLUMNS, INTEGER_COLUMNS, LEVEL_COLUMNS, MAX_ROWS, SummaryRows, check_integers, names_with_rows

#: The numeric values of `COLUMNS` (all but station and device), in order, little-endian.
RECORD = np.dtype([(name, "<f8" if kind == "level" else "<i8") for name, kind in COLUMNS if kind != "str"])
_PACK = struct.Struct("<" + "".join("d" if kind == "level" else "q" for name, kind in COLUMNS if kind != "str"))
#: First byte of a summary stored as a record; rows start with `[`, objects with `{`.
RECORD_MARK = b"\x03"
#: Where a stored record's names begin.
RECORD_END = 1 + RECORD.itemsize
_CODE = np.dtype("<u4")

_WIDTH = len(RECORD.names)
#: Places of the integer and of the level columns in a record.
_INT_AT = np.array([RECORD.names.index(name) for name in INTEGER_COLUMNS], dtype=np.intp)
_LEVEL_AT = np.array([RECORD.names.index(name) for name in LEVEL_COLUMNS], dtype=np.intp)

assert _PACK.size == RECORD.itemsize == 8 * _WIDTH  # one layout, two readers, 8 bytes a value


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
    (window_start_us,) = struct.unpack_from("<q", body, 1 + RECORD.fields["window_start_us"][1])
    return station, device, window_start_us


def join_records(bodies: Sequence[bytes]) -> tuple[list[bytes], bytes]:
    """Stored records as an uplink block: the distinct names parts (JSON arrays, in the order
    of their numbers) and the bytes after the header's NUL (pair numbers, then records)."""
    pairs: dict[bytes, int] = {}
    codes = [pairs.setdefault(b[RECORD_END:], len(pairs)) for b in bodies]
    block = b"".join((np.array(codes, dtype=_CODE).tobytes(), *(b[1:RECORD_END] for b in bodies)))
    return list(pairs), block


def rows_from_records(pairs: Sequence[tuple[str, str]], block: bytes, n: int) -> SummaryRows:
    """Columns of `n` records and their pair numbers (`block`); names come from `pairs`, already
    validated. `ValueError` names the first problem, as `SummaryRows.from_rows` does.

    NaN is null; an infinite value marks its row `non_finite`, refused by ingest one by one."""
    if not 0 <= n <= MAX_ROWS:
        raise ValueError(f"a batch carries 0 to {MAX_ROWS} summaries, not {n}")
    if len(block) != n * (_CODE.itemsize + RECORD.itemsize):
        raise ValueError(f"{len(block)} bytes of summaries do not hold {n} records")
    codes = np.frombuffer(block, dtype=_CODE, count=n)
    if n and int(codes.max()) >= len(pairs):
        raise ValueError(f"a summary refers to station pair {int(codes.max())} of {len(pairs)}")
    # Every value is 8 bytes: the records as a matrix, read as integers and as floats, and the
    # columns of each kind taken in one step (a copy, in native byte order).
    start = n * _CODE.itemsize
    as_int = np.frombuffer(block, dtype="<i8", count=n * _WIDTH, offset=start).reshape(n, _WIDTH)
    as_float = np.frombuffer(block, dtype="<f8", count=n * _WIDTH, offset=start).reshape(n, _WIDTH)
    int_block = np.take(as_int.T, _INT_AT, axis=0).astype(np.int64, copy=False)
    level_block = np.take(as_float.T, _LEVEL_AT, axis=0).astype(np.float64, copy=False)
    check_integers(int_block)
    which = codes.tolist()
    stations = [p[0] for p in pairs]
    devices = [p[1] for p in pairs]
    values: dict[str, Any] = {"station": list(map(stations.__getitem__, which)), "device": list(map(devices.__getitem__, which))}
    values.update(zip(INTEGER_COLUMNS, int_block))
    values.update(zip(LEVEL_COLUMNS, level_block))
    out = SummaryRows(**values, non_finite=np.isinf(level_block).any(axis=0), station_numbers=_station_numbers(stations, codes))
    out.check_order()
    return out


def _station_numbers(stations: list[str], codes: npt.NDArray[np.uint32]) -> tuple[list[str], npt.NDArray[np.intp]]:
    """The distinct stations with rows, and each row's number among them, from the pairs'
    stations and the rows' pair numbers (a station may come with two devices, and a pair may
    have no rows)."""
    names = list(dict.fromkeys(stations))
    if len(names) == len(stations):  # a device per station, as usual: pair numbers are station numbers
        rows = codes.astype(np.intp)
    else:
        number = {name: k for k, name in enumerate(names)}
        rows = np.array([number[s] for s in stations], dtype=np.intp)[codes]
    return names_with_rows(names, rows)