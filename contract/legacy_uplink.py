"""Uplink payloads of schemas 1 to 3 as schema 4, at ingest's door.

Why: a gateway in the field that is not upgraded yet keeps sending its schema during a rolling
upgrade, and its outbox holds messages of it; converting them once, here, leaves everything
downstream knowing schema 4 only. A pure function over the decoded JSON header and the bytes
after its NUL; `ValueError` for what no schema allows.

The old schemas, as their gateways wrote them (frozen: they never change again):

* 1: `{"tenant","gateway","sent_at","items":[objects],"v":1}`, level summaries among the items.
* 2: as 1, `"v":2` (or no `v`), summaries also as positional rows in `"summaries":[[...]]`
  (`SCHEMA2_COLUMNS`), whose ids ingest derives (`summary_row_id`).
* 3: as 2 without `summaries`; `"n"` and `"pairs"` in the header, then a NUL byte, `n` uint32
  pair numbers and `n` summary records: exactly the `awlr`/`summary` block of schema 4.

Items of those schemas carry no `kind`: it follows from their `type` (`KIND_OF_TYPE`).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

#: The kind of every item type the old schemas had.
KIND_OF_TYPE: dict[str, str] = {
    "summary": "awlr",
    "siaga_change": "awlr",
    "rate_of_rise": "awlr",
    "summaries_dropped": "gateway",
    "broker_drops": "gateway",
}

#: A schema-2 summary row, in order (times in integer µs since the Unix epoch, UTC).
SCHEMA2_COLUMNS: tuple[str, ...] = (
    "station", "device", "window_start_us", "window_end_us", "count", "rejected", "min_cm", "max_cm",
    "mean_cm", "last_cm", "qc_good", "qc_suspect", "qc_fail", "qc_missing", "suspect_min_cm",
    "suspect_max_cm", "last_ts_us", "first_seq", "last_seq", "siaga", "battery_v",
)
_INTEGERS = frozenset({"window_start_us", "window_end_us", "count", "rejected", "qc_good", "qc_suspect", "qc_fail", "qc_missing", "last_ts_us", "first_seq", "last_seq", "siaga"})
_LEVELS = ("min_cm", "max_cm", "mean_cm", "last_cm", "suspect_min_cm", "suspect_max_cm", "battery_v")
_LEVEL_TYPES = frozenset({int, float, type(None)})
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_ROWS = 10_000


def to_v4(header: dict[str, Any], after_nul: bytes | None) -> tuple[dict[str, Any], bytes | None]:
    """A decoded payload header of schema 1, 2 or 3 (and the bytes after its NUL, None if it
    had none) as the schema-4 header and bytes that carry the same items and records. A header
    of schema 4 comes back as it is."""
    if type(header) is not dict:
        raise ValueError("an uplink header is a JSON object")
    v = header.get("v", 2)
    if v == 4 and type(v) is int:
        return header, after_nul
    if type(v) is not int or v not in (1, 2, 3):
        raise ValueError(f"unknown uplink schema {v!r}")
    out = {k: header[k] for k in ("tenant", "gateway", "msg", "sent_at") if k in header}
    extra = set(header) - {"tenant", "gateway", "msg", "sent_at", "items", "v", "summaries", "n", "pairs"}
    if extra:
        raise ValueError(f"unknown fields {sorted(extra)} in an uplink of schema {v}")
    out["items"] = with_kinds(header.get("items", []))
    out["v"] = 4
    if v == 3:
        if after_nul is None or "summaries" in header:
            raise ValueError("a schema-3 uplink carries its summaries as records after a NUL byte")
        out["blocks"] = [{"kind": "awlr", "type": "summary", "n": header.get("n"), "pairs": header.get("pairs")}]
        return out, after_nul
    if after_nul is not None or "n" in header or "pairs" in header:
        raise ValueError(f"a schema-{v} uplink is JSON alone")
    rows = header.get("summaries", [])
    if v == 1 and rows:
        raise ValueError("a schema-1 uplink carries summaries among its items")
    out["items"].extend(summary_objects(rows, header.get("gateway")))
    return out, None


def with_kinds(items: Any) -> Any:
    """Old items with the `kind` their `type` implies (items that name theirs keep it; an
    unknown type is left without one, for ingest to count as of an unknown kind)."""
    if type(items) is not list:
        return items
    out = []
    for item in items:
        if type(item) is dict and "kind" not in item and item.get("type") in KIND_OF_TYPE:
            item = {"kind": KIND_OF_TYPE[item["type"]], **item}
        out.append(item)
    return out


def summary_row_id(gateway: str, station: str, window_start_us: int, first_seq: int) -> str:
    """The id a schema-2 row's summary has: the one its gateway derived, as ingest did."""
    return f"{gateway}:{station}:s:{window_start_us // 1_000_000}:{first_seq}"


def summary_objects(rows: Any, gateway: Any) -> list[dict[str, Any]]:
    """Schema-2 rows as summary items (the objects of schema 1, with `kind`)."""
    if type(rows) is not list or len(rows) > MAX_ROWS:
        raise ValueError(f"summaries must be a list of at most {MAX_ROWS} rows")
    if rows and type(gateway) is not str:
        raise ValueError("an uplink names its gateway")
    out = []
    for row in rows:
        if type(row) is not list or len(row) != len(SCHEMA2_COLUMNS):
            raise ValueError(f"every summary row must be a list of {len(SCHEMA2_COLUMNS)} values")
        v = dict(zip(SCHEMA2_COLUMNS, row))
        if any(type(v[name]) is not int for name in _INTEGERS):  # bool is not int here, nor 1.0
            raise ValueError("counts, sequence numbers, times and siaga must be integers")
        if any(type(v[name]) not in _LEVEL_TYPES for name in _LEVELS):
            raise ValueError("levels and battery voltage must be numbers or null")
        if type(v["station"]) is not str:
            raise ValueError("station must be text")
        out.append({
            "kind": "awlr", "type": "summary",
            "id": summary_row_id(gateway, v["station"], v["window_start_us"], v["first_seq"]),
            "station": v["station"], "device": v["device"],
            "window_start": _time(v["window_start_us"]), "window_end": _time(v["window_end_us"]),
            "count": v["count"], "rejected": v["rejected"],
            "min_cm": v["min_cm"], "max_cm": v["max_cm"], "mean_cm": v["mean_cm"], "last_cm": v["last_cm"],
            "qc": {"good": v["qc_good"], "suspect": v["qc_suspect"], "fail": v["qc_fail"], "missing": v["qc_missing"]},
            "suspect_min_cm": v["suspect_min_cm"], "suspect_max_cm": v["suspect_max_cm"],
            "last_ts": _time(v["last_ts_us"]), "first_seq": v["first_seq"], "last_seq": v["last_seq"],
            "siaga": v["siaga"], "battery_v": v["battery_v"],
        })
    return out


def _time(us: int) -> str:
    try:
        return (_EPOCH + timedelta(microseconds=us)).isoformat()
    except OverflowError as exc:
        raise ValueError(f"a time of {us} µs since 1970 is out of range") from exc
