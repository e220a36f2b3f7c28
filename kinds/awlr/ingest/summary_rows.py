"""Level summaries in ingest as columns, from positional rows (schema 2) or binary records
(schema 3).

A gateway back from a day offline replays tens of thousands of summaries, and ingest must
store them about as fast as the TSDB takes points. As JSON objects, every summary costs ingest
a dict with its keys and a validated model, several times the TSDB's own cost per point; as
columns (`kinds.awlr.summary_columns.COLUMNS`, declared once for the gateway's encoder and this
decoder) validation runs once per column with numpy. Events stay JSON objects
(`kinds.awlr.items`): they are few and each one matters on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

from kinds.awlr.summary_columns import COLUMNS, INTEGER_COLUMNS, LEVEL, LEVEL_COLUMNS, LIMITS, MAX_NAME, MAX_ROWS, STR, WIDTH, row_id
from kinds.awlr.summary_records import CODE_SIZE, RECORD_FIELDS, RECORD_SIZE

#: (position in a row, column) by kind.
_TEXT = [(i, name) for i, (name, kind) in enumerate(COLUMNS) if kind == STR]
_LEVELS = [(i, name) for i, (name, kind) in enumerate(COLUMNS) if kind == LEVEL]
_INTEGER = [(i, name) for i, (name, kind) in enumerate(COLUMNS) if kind in LIMITS]
_INT_LOW = np.array([LIMITS[COLUMNS[i][1]][0] for i, _ in _INTEGER], dtype=np.int64)
_INT_HIGH = np.array([LIMITS[COLUMNS[i][1]][1] for i, _ in _INTEGER], dtype=np.int64)
_INT_TYPES = {int}
_LEVEL_TYPES = {float, int, type(None)}

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False, slots=True)
class SummaryRows:
    """Summaries as columns: what ingest validates, folds and writes without an object per row.

    Statistics are float64 with NaN for null. `non_finite` marks rows that carried NaN or
    Infinity (JSON admits them; no store does): ingest rejects those rows one by one.
    `ids` holds the ids of summaries that came as JSON objects (schema 1), whose ids need not
    follow `summary_id`; rows of schema 2 have none and derive theirs.
    """

    station: list[str]
    device: list[str]
    window_start_us: IntArray
    window_end_us: IntArray
    count: IntArray
    rejected: IntArray
    min_cm: FloatArray
    max_cm: FloatArray
    mean_cm: FloatArray
    last_cm: FloatArray
    qc_good: IntArray
    qc_suspect: IntArray
    qc_fail: IntArray
    qc_missing: IntArray
    suspect_min_cm: FloatArray
    suspect_max_cm: FloatArray
    last_ts_us: IntArray
    first_seq: IntArray
    last_seq: IntArray
    siaga: IntArray
    battery_v: FloatArray
    non_finite: BoolArray
    ids: list[str] | None = None
    #: The distinct stations, and each row's place among them, when the decoder had them
    #: already (records name (station, device) pairs by number): ingest then need not hash a
    #: station name per row. Every station named has rows.
    station_numbers: tuple[list[str], npt.NDArray[np.intp]] | None = None

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def empty(cls) -> SummaryRows:
        return cls.from_rows([])

    @classmethod
    def from_rows(cls, rows: Any) -> SummaryRows:
        """Validate decoded JSON rows; `ValueError` names the first problem (the whole batch is
        refused, as for any invalid item of it). Columns of a kind are checked together: one
        type scan and one numpy conversion for all integer columns, one for all levels."""
        if type(rows) is not list:
            raise ValueError("summaries must be a list of rows")
        if len(rows) > MAX_ROWS:
            raise ValueError(f"more than {MAX_ROWS} summaries in one batch")
        if rows and (set(map(type, rows)) != {list} or set(map(len, rows)) != {WIDTH}):
            raise ValueError(f"every summary row must be a list of {WIDTH} values")
        columns: list[Any] = list(zip(*rows)) if rows else [()] * WIDTH
        values: dict[str, Any] = {name: _names(name, columns[i]) for i, name in _TEXT}
        ints = [columns[i] for i, _ in _INTEGER]
        if rows and not set(map(type, chain.from_iterable(ints))) <= _INT_TYPES:  # bool is not int here, nor 1.0
            raise ValueError("counts, sequence numbers, times and siaga must be integers")
        try:
            int_block = np.array(ints, dtype=np.int64).reshape(len(ints), len(rows))
        except OverflowError as exc:
            raise ValueError("an integer is out of range") from exc
        check_integers(int_block)
        for k, (_i, name) in enumerate(_INTEGER):
            values[name] = int_block[k]
        levels = [columns[i] for i, _ in _LEVELS]
        if rows and not set(map(type, chain.from_iterable(levels))) <= _LEVEL_TYPES:
            raise ValueError("levels and battery voltage must be numbers or null")
        try:
            level_block = np.array(levels, dtype=np.float64).reshape(len(levels), len(rows))  # None becomes NaN
        except OverflowError as exc:  # an integer beyond float range
            raise ValueError("a level is out of range") from exc
        finite = np.isfinite(level_block)
        non_finite = np.zeros(len(rows), dtype=bool)
        for k in np.flatnonzero(~finite.all(axis=1)).tolist():  # NaN stands for null: was it sent as NaN?
            non_finite |= ~finite[k] & np.array([v is not None for v in levels[k]], dtype=bool)
        for k, (_i, name) in enumerate(_LEVELS):
            values[name] = level_block[k]
        out = cls(**values, non_finite=non_finite)
        out.check_order()
        return out

    def check_order(self) -> None:
        """`ValueError` for a window that ends before it starts or sequence numbers backwards."""
        if len(self) == 0:
            return
        if np.any(self.window_end_us < self.window_start_us):
            raise ValueError("a summary window ends before it starts")
        if np.any(self.last_seq < self.first_seq):
            raise ValueError("a summary's last_seq is before its first_seq")

    # -- access -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.station)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SummaryRows):
            return NotImplemented
        return self.to_rows() == other.to_rows() and self.ids == other.ids

    def take(self, index: npt.NDArray[Any]) -> SummaryRows:
        """The rows at `index` (positions, or a boolean mask), in that order."""
        pos = np.flatnonzero(index) if index.dtype == np.bool_ else index
        values: dict[str, Any] = {}
        for f in fields(self):
            col = getattr(self, f.name)
            if col is None or f.name == "station_numbers":
                values[f.name] = None  # recomputed from `station` where needed
            elif isinstance(col, list):
                values[f.name] = [col[i] for i in pos.tolist()]
            else:
                values[f.name] = col[pos]
        return type(self)(**values)

    def item_ids(self, gateway: str) -> list[str]:
        """The item id of every row (`summary_id`, unless the summary came with its own)."""
        if self.ids is not None:
            return list(self.ids)
        starts = (self.window_start_us // 1_000_000).tolist()
        return [row_id(gateway, s, w, q) for s, w, q in zip(self.station, starts, self.first_seq.tolist())]

    def item_id(self, i: int, gateway: str) -> str:
        """The item id of row `i` alone (as `item_ids`, without building the others)."""
        if self.ids is not None:
            return self.ids[i]
        return row_id(gateway, self.station[i], int(self.window_start_us[i]) // 1_000_000, int(self.first_seq[i]))

    def to_rows(self) -> list[list[Any]]:
        """JSON-ready rows (null for NaN statistics), as the gateway sends them."""
        cols: list[list[Any]] = []
        for name, kind in COLUMNS:
            col = getattr(self, name)
            if kind == STR:
                cols.append(col)
            elif kind == LEVEL:
                cols.append([None if v != v else v for v in col.tolist()])
            else:
                cols.append(col.tolist())
        return [list(r) for r in zip(*cols)]

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            serialization=core_schema.plain_serializer_function_ser_schema(lambda r: r.to_rows()),
        )

    @classmethod
    def _validate(cls, value: Any) -> SummaryRows:
        if isinstance(value, SummaryRows):
            return value
        return cls.from_rows(value)


def check_integers(block: IntArray) -> None:
    """`ValueError` unless every row of `block` (one per `INTEGER_COLUMNS`) is within its limits."""
    if block.shape[1]:
        bad = (block.min(axis=1) < _INT_LOW) | (block.max(axis=1) > _INT_HIGH)
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"{_INTEGER[k][1]} must be within {_INT_LOW[k]}..{_INT_HIGH[k]}")


def _names(name: str, col: Sequence[Any]) -> list[str]:
    """A batch names few stations and devices: lengths are checked once per distinct name."""
    if col and set(map(type, col)) != {str}:
        raise ValueError(f"{name} must be text")
    if col:
        lengths = set(map(len, set(col)))
        if min(lengths) < 1 or max(lengths) > MAX_NAME:
            raise ValueError(f"{name} must be 1 to {MAX_NAME} characters")
    return list(col)


def names_with_rows(names: list[str], codes: npt.NDArray[np.intp]) -> tuple[list[str], npt.NDArray[np.intp]]:
    """Of `names`, those some row refers to (`codes[i]` is row i's name), and the rows' numbers
    among them: a batch's station index after some stations or rows fell away."""
    present = np.bincount(codes, minlength=len(names)) > 0
    if present.all():
        return names, codes
    renumber = np.cumsum(present) - 1
    return [name for name, kept in zip(names, present.tolist()) if kept], renumber[codes]


#: A block of records, read as 8-byte values: the places of the integer and of the level columns.
_RECORD_NAMES = list(RECORD_FIELDS)
_RECORD_WIDTH = len(_RECORD_NAMES)
_INT_AT = np.array([_RECORD_NAMES.index(name) for name in INTEGER_COLUMNS], dtype=np.intp)
_LEVEL_AT = np.array([_RECORD_NAMES.index(name) for name in LEVEL_COLUMNS], dtype=np.intp)


def rows_from_records(pairs: Sequence[tuple[str, str]], block: bytes, n: int) -> SummaryRows:
    """Columns of `n` records (`kinds.awlr.summary_records`) and their pair numbers (`block`); names
    come from `pairs`, already validated. `ValueError` names the first problem, as
    `SummaryRows.from_rows` does.

    NaN is null; an infinite value marks its row `non_finite`, refused by ingest one by one."""
    if not 0 <= n <= MAX_ROWS:
        raise ValueError(f"a batch carries 0 to {MAX_ROWS} summaries, not {n}")
    if len(block) != n * (CODE_SIZE + RECORD_SIZE):
        raise ValueError(f"{len(block)} bytes of summaries do not hold {n} records")
    codes = np.frombuffer(block, dtype="<u4", count=n)
    if n and int(codes.max()) >= len(pairs):
        raise ValueError(f"a summary refers to station pair {int(codes.max())} of {len(pairs)}")
    # Every value is 8 bytes: the records as a matrix, read as integers and as floats, and the
    # columns of each kind taken in one step (a copy, in native byte order).
    start = n * CODE_SIZE
    as_int = np.frombuffer(block, dtype="<i8", count=n * _RECORD_WIDTH, offset=start).reshape(n, _RECORD_WIDTH)
    as_float = np.frombuffer(block, dtype="<f8", count=n * _RECORD_WIDTH, offset=start).reshape(n, _RECORD_WIDTH)
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
