"""Opening an outbox file that a crash, a full disk or a bad SD card left damaged.

SQLite already discards torn WAL frames by their checksums; what remains is a main file that is
not a database any more, or whose pages are partly garbage. Then the damaged file is moved
aside (never deleted: an operator may want it), a fresh outbox is created, and every row that
can still be read from the old one is copied over.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gateway import outbox_legacy as legacy

log = logging.getLogger(__name__)

Row = tuple[object, ...]

#: Per table: the query of the current layout's rows, as `Outbox` inserts them.
_TABLES = {
    "outbox": "SELECT item_id, priority, body, created_at, kind, type, origin, at FROM outbox ORDER BY seq",
    "journal": "SELECT device, ts, seq, body FROM journal",
    "dropped": "SELECT kind, type, origin, count, first_at, last_at FROM dropped",
    # Layout 0002 on: a file of an older layout has no such table, and none is read from it.
    "summarised": "SELECT device, window_end FROM summarised",
}


def _legacy_item(row: Row) -> Row:
    item_id, priority, body, created_at = row
    kind, item_type, origin, at = legacy.item_columns(bytes(body), float(created_at))  # type: ignore[arg-type]
    return item_id, legacy.priority(int(priority)), legacy.current_body(bytes(body), kind), created_at, kind, item_type, origin, at  # type: ignore[arg-type, call-overload]


#: Per table of a layout before 0003 (told by a column only it had): its query, and the
#: conversion of its rows to the current layout's (`gateway.outbox_legacy`, as revision 0003).
_LEGACY_TABLES: dict[str, tuple[str, str, Callable[[Row], Row]]] = {
    "outbox": ("created_at", "SELECT item_id, priority, body, created_at FROM outbox ORDER BY seq", _legacy_item),
    "journal": ("level", "SELECT device, ts, seq, level, battery FROM journal", lambda r: legacy.journal_row(*r)),  # type: ignore[arg-type]
    "dropped": ("station", "SELECT station, device, count, first_window, last_window FROM dropped", lambda r: legacy.dropped_row(*r)),  # type: ignore[arg-type]
}


@dataclass(frozen=True)
class Salvage:
    moved_to: Path
    rows: dict[str, list[tuple[object, ...]]]
    error: str


def is_healthy(path: Path) -> str | None:
    """None when the file opens and passes SQLite's quick check, else what is wrong."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if result == "ok" else str(result)


def salvage(path: Path, error: str) -> Salvage:
    """Move the damaged file (and its WAL) aside and read out what is still readable."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    moved = path.with_name(f"{path.name}.corrupt-{stamp}")
    shutil.move(str(path), moved)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            shutil.move(str(side), moved.with_name(moved.name + suffix))
    work = _padded_copy(moved)
    rows: dict[str, list[tuple[object, ...]]] = {}
    try:
        legacy_tables = _tables_of_legacy_layout(work)
        for table, query in _TABLES.items():
            if table in legacy_tables:
                _column, legacy_query, convert = _LEGACY_TABLES[table]
                rows[table] = [convert(r) for r in _read_what_you_can(work, legacy_query)]
            else:
                rows[table] = _read_what_you_can(work, query)
    finally:
        for leftover in (work, work.with_name(work.name + "-wal"), work.with_name(work.name + "-shm")):
            leftover.unlink(missing_ok=True)
    log.error(
        f"outbox file was damaged ({error}); moved aside to {moved.name}, recovered "
        f"{len(rows['outbox'])} queued items and {len(rows['journal'])} journal readings",
        extra={"path": str(path), "moved_to": str(moved), "error": error},
    )
    return Salvage(moved, rows, error)


def _tables_of_legacy_layout(path: Path) -> set[str]:
    """Tables the damaged file has in a layout before 0003 (salvage reads the file as it is, before
    any upgrade). A schema it cannot read at all is taken as current: nothing is read then."""
    found: set[str] = set()
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.DatabaseError:
        return found
    try:
        for table, (column, _query, _convert) in _LEGACY_TABLES.items():
            try:
                columns = {r[1] for r in db.execute(f"PRAGMA table_info({table})")}
            except sqlite3.DatabaseError:
                continue
            if column in columns and (table != "outbox" or "kind" not in columns):
                found.add(table)
    finally:
        db.close()
    return found


def _padded_copy(path: Path) -> Path:
    """A copy extended to the size its header declares: a file cut short by a power loss then
    reads as zeroed pages at the end instead of failing on the first lookup, so the b-tree
    pages before the cut can still be read."""
    data = path.read_bytes()
    work = path.with_name(path.name + ".salvage")
    if len(data) >= 100 and data.startswith(b"SQLite format 3\0"):
        page_size = struct.unpack(">H", data[16:18])[0]
        page_size = 65536 if page_size == 1 else page_size
        pages = struct.unpack(">I", data[28:32])[0]
        data += b"\0" * max(0, page_size * pages - len(data))
    work.write_bytes(data)
    wal = path.with_name(path.name + "-wal")
    if wal.exists():
        shutil.copy(wal, work.with_name(work.name + "-wal"))
    return work


def _read_what_you_can(path: Path, query: str) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.DatabaseError:
        return out
    try:
        cur = db.execute(query)
        while True:
            try:
                row = cur.fetchone()
            except sqlite3.DatabaseError:
                break  # a damaged page: keep what came before it
            if row is None:
                break
            out.append(tuple(row))
    except sqlite3.DatabaseError:
        pass
    finally:
        db.close()
    return out
