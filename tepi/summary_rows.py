"""Level summaries on the uplink as positional rows, and in ingest as columns.

A gateway back from a day offline replays tens of thousands of summaries, and ingest must
store them about as fast as the TSDB takes points. As JSON objects, every summary costs ingest
a dict with its keys and a validated model, several times the TSDB's own cost per point; as a
positional array (`COLUMNS`, declared once here for the gateway's encoder and ingest's decoder)
it costs one list, four times fewer bytes, and validation runs once per column with numpy.
Events stay JSON objects (`tepi.messages`): they are few and each one matters on its own.

A row is `[station, device, window_start_us, window_end_us, count, rejected, min_cm, max_cm,
mean_cm, last_cm, qc_good, qc_suspect, qc_fail, qc_missing, suspect_min_cm, suspect_max_cm,
last_ts_us, first_seq, last_seq, siaga, battery_v]`: times in integer microseconds since the
Unix epoch (UTC, exact), statistics as numbers or null. The item id is not sent: it is
`summary_id(gateway, station, window_start, first_seq)`, which ingest derives.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import chain
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
#: 9999-12-31T23:59:59Z: the last instant a `datetime` can hold.
MAX_TIME_US = 253_402_300_799_000_000
MAX_ROWS = 10_000
MAX_NAME = 64

_STR, _TIME, _COUNT, _LEVEL, _SIAGA = "str", "time", "count", "level", "siaga"

#: The row layout: (column, kind). Append only, and only with a new schema version.
COLUMNS: tuple[tuple[str, str], ...] = (
    ("station", _STR),
    ("device", _STR),
    ("window_start_us", _TIME),
    ("window_end_us", _TIME),
    ("count", _COUNT),
    ("rejected", _COUNT),
    ("min_cm", _LEVEL),
    ("max_cm", _LEVEL),
    ("mean_cm", _LEVEL),
    ("last_cm", _LEVEL),
    ("qc_good", _COUNT),
    ("qc_suspect", _COUNT),
    ("qc_fail", _COUNT),
    ("qc_missing", _COUNT),
    ("suspect_min_cm", _LEVEL),
    ("suspect_max_cm", _LEVEL),
    ("last_ts_us", _TIME),
    ("first_seq", _COUNT),
    ("last_seq", _COUNT),
    ("siaga", _SIAGA),
    ("battery_v", _LEVEL),
)
_WIDTH = len(COLUMNS)
_INT_TYPES = {int}
_LEVEL_TYPES = {float, int, type(None)}
_INT64_MAX = 2**63 - 1
_LIMITS = {_TIME: (0, MAX_TIME_US), _COUNT: (0, _INT64_MAX), _SIAGA: (1, 4)}
#: (position in a row, column) by kind.
_TEXT = [(i, name) for i, (name, kind) in enumerate(COLUMNS) if kind == _STR]
_LEVELS = [(i, name) for i, (name, kind) in enumerate(COLUMNS) if kind == _LEVEL]
_INTEGER = [(i, name) for i, (name, kind) in enumerate(COLUMNS) if kind in _LIMITS]
_INT_LOW = np.array([_LIMITS[COLUMNS[i][1]][0] for i, _ in _INTEGER], dtype=np.int64)
_INT_HIGH = np.array([_LIMITS[COLUMNS[i][1]][1] for i, _ in _INTEGER], dtype=np.int64)
#: Names of the integer columns and of the level columns, in `COLUMNS` order.
INTEGER_COLUMNS = tuple(name for _, name in _INTEGER)
LEVEL_COLUMNS = tuple(name for _, name in _LEVELS)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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
    return f"{gateway}:{station}:s:{start_s}" if first_seq is None else _row_id(gateway, station, start_s, first_seq)


def _row_id(gateway: str, station: str, start_s: int, first_seq: int) -> str:
    """`summary_id` from a row's values (the window start in whole seconds)."""
    return f"{gateway}:{station}:s:{start_s}:{first_seq}"


def encode_row(values: Sequence[Any]) -> bytes:
    """One summary as its positional JSON row; `values` in `COLUMNS` order (times as µs)."""
    if len(values) != _WIDTH:
        raise ValueError(f"a summary row has {_WIDTH} values, not {len(values)}")
    return json.dumps(list(values), separators=(",", ":"), allow_nan=False).encode()


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
        if rows and (set(map(type, rows)) != {list} or set(map(len, rows)) != {_WIDTH}):
            raise ValueError(f"every summary row must be a list of {_WIDTH} values")
        columns: list[Any] = list(zip(*rows)) if rows else [()] * _WIDTH
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
        return [_row_id(gateway, s, w, q) for s, w, q in zip(self.station, starts, self.first_seq.tolist())]

    def item_id(self, i: int, gateway: str) -> str:
        """The item id of row `i` alone (as `item_ids`, without building the others)."""
        if self.ids is not None:
            return self.ids[i]
        return _row_id(gateway, self.station[i], int(self.window_start_us[i]) // 1_000_000, int(self.first_seq[i]))

    def to_rows(self) -> list[list[Any]]:
        """JSON-ready rows (null for NaN statistics), as the gateway sends them."""
        cols: list[list[Any]] = []
        for name, kind in COLUMNS:
            col = getattr(self, name)
            if kind == _STR:
                cols.append(col)
            elif kind == _LEVEL:
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
