"""The durable outbox: what the gateway has accepted but ingest has not yet acknowledged.

SQLite in WAL mode on local disk. An item is deleted only after the uplink broker
acknowledged the MQTT message that carried it (QoS 1 PUBACK), so a process kill, a power cut
or a week without uplink loses nothing that was committed here. Items leave by priority
(`contract.items`: distress, then events, then routine summaries), oldest first.

The outbox knows no device kind: each row carries its item's kind, type, series (`origin`) and
time (`at`), written at insert from the kind's `StoredItem`, so eviction and its report never
parse a body; a journal reading is its kind's opaque bytes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from contract.items import PRIORITY_DISTRESS, PRIORITY_EVENT, PRIORITY_ROUTINE
from gateway.errors import OutboxError
from gateway.outbox_layout import prepare_layout
from gateway.outbox_recovery import Salvage, is_healthy, salvage
from gateway.stored_item import StoredItem

__all__ = ["PRIORITY_DISTRESS", "PRIORITY_EVENT", "PRIORITY_ROUTINE", "PRIORITY_SUMMARY", "Outbox", "OutboxEntry"]

#: The routine priority, by the name callers used when summaries were the only routine items.
PRIORITY_SUMMARY = PRIORITY_ROUTINE

#: SQLite's page cache for the outbox connection, in KiB (SQLite's default is 2000). The
#: gateway touches a few hot pages: the journal of open windows and the head of the queue.
#: The operating system caches the file anyway; a larger cache only grows the gateway's heap.
PAGE_CACHE_KIB = 256

_LENGTH_CHUNK = 256
_LENGTH_OF_SEQS = f"SELECT coalesce(sum(length(body)), 0) FROM outbox WHERE seq IN ({','.join('?' * _LENGTH_CHUNK)})"
_INSERT_ITEM = (
    "INSERT OR IGNORE INTO outbox (item_id, priority, body, created_at, kind, type, origin, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_READING = "INSERT OR IGNORE INTO journal (device, ts, seq, body) VALUES (?, ?, ?, ?)"
_DROPPED = (
    "INSERT INTO dropped VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT (kind, type, origin) DO UPDATE SET count = count + 1, "
    "first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)"
)
_SUMMARISED = (
    "INSERT INTO summarised (device, window_end) VALUES (?, ?) "
    "ON CONFLICT (device) DO UPDATE SET window_end = max(window_end, excluded.window_end)"
)
#: Where salvage found no end of a device's summarised windows: its earliest journal reading,
#: which no summarised window ends after (see outbox_migrations 0002).
_SUMMARISED_FROM_JOURNAL = "INSERT OR IGNORE INTO summarised (device, window_end) SELECT device, min(ts) FROM journal GROUP BY device"
JournalRow = tuple[str, float, int, bytes]  # device, ts (epoch s), seq, the kind's journal body


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    item_id: str
    priority: int
    body: bytes
    created_at: float = 0.0


@dataclass(frozen=True, slots=True)
class DroppedItems:
    """Routine items of one series evicted because the outbox reached its size bound during an
    outage: how many, and the span of their times (`StoredItem.at`, Unix seconds)."""

    kind: str
    type: str
    origin: str
    count: int
    first_at: float
    last_at: float


class Outbox:
    """Thread-safe: sources' worker thread commits, the uplink thread reads and acknowledges.

    Bounded by `max_bytes` of stored item bodies: when a commit goes over, the oldest routine
    items are evicted (events and alerts never are) and the eviction is remembered per series
    (kind, type, origin) until `take_dropped()` hands it to the uplink to report centrally. A
    latest-only item (a health report) replaces the unsent one before it instead of queueing.
    """

    def __init__(
        self,
        path: Path | str,
        synchronous: str = "FULL",
        max_bytes: int | None = None,
        on_evict: Callable[[int], object] | None = None,
    ) -> None:
        self.path = Path(path)
        self._on_evict = on_evict
        self.max_bytes = max_bytes
        self.salvaged: Salvage | None = None
        self.evicted = 0
        self.protected: frozenset[int] = frozenset()  # seqs in flight: delivered, maybe, so never evicted
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            problem = is_healthy(self.path)
            if problem is not None:
                self.salvaged = salvage(self.path, problem)
            #: The copy taken before this start upgraded the file's layout, if it did.
            self.upgrade_backup = prepare_layout(self.path)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            if self.salvaged is not None:
                self._restore(self.salvaged)
            self._bytes = int(self._db.execute("SELECT coalesce(sum(length(body)), 0) FROM outbox").fetchone()[0])
            # Kept in memory: the uplink asks after every send, and a count(*) is a table scan.
            self._count = int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])
            self._has_dropped = self._db.execute("SELECT EXISTS (SELECT 1 FROM dropped)").fetchone()[0] == 1
        except (sqlite3.DatabaseError, OSError) as exc:
            raise OutboxError(f"cannot open outbox {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self.on_items: Callable[[], object] | None = None  # the uplink's wake-up

    def _restore(self, s: Salvage) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        self._db.executemany(_INSERT_ITEM, s.rows["outbox"])
        self._db.executemany(_INSERT_READING, s.rows["journal"])
        self._db.executemany("INSERT OR IGNORE INTO dropped VALUES (?, ?, ?, ?, ?, ?)", s.rows["dropped"])
        self._db.executemany("INSERT OR IGNORE INTO summarised VALUES (?, ?)", s.rows["summarised"])
        self._db.execute(_SUMMARISED_FROM_JOURNAL)
        self._db.execute("COMMIT")

    @property
    def stored_bytes(self) -> int:
        return self._bytes

    def put(self, items: Iterable[StoredItem | tuple[str, int, bytes]]) -> int:
        """Store items in one transaction; an id already present is kept once. A bare
        (item_id, priority, body) has no kind, type or series: evicted, it is counted under
        an empty one (tests and tools that only move bytes)."""
        return self.commit(items)

    def commit(self, items: Iterable[StoredItem | tuple[str, int, bytes]], readings: Sequence[JournalRow] = ()) -> int:
        """One transaction: new uplink items, accepted readings of still-open windows (the
        journal), and, for each item that closes a device's window (`StoredItem.summarised`),
        the removal of the journal readings before that window's end, which the item now
        covers. So after a kill the gateway either has a reading in the journal or in a queued
        summary, never neither, and knows where each device's summarised windows end
        (`summarised_until`). Returns how many new items were stored."""
        now = time.time()
        rows = []
        summarised = []
        superseding: list[tuple[int, str, str, str, str]] = []
        for item in items:
            if type(item) is StoredItem:
                rows.append((item.item_id, item.priority, item.body, now, item.kind, item.type, item.origin, item.at))
                if item.summarised is not None:
                    summarised.append(item.summarised)
                if item.latest_only:
                    superseding.append((item.priority, item.kind, item.type, item.origin, item.item_id))
            else:
                item_id, priority, body = item  # type: ignore[misc]
                rows.append((item_id, priority, body, now, "", "", "", now))
        if not (rows or readings):
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                superseded, shrunk = self._supersede(superseding)
                added = grown = 0
                for row in rows:
                    if self._db.execute(_INSERT_ITEM, row).rowcount:
                        added += 1
                        grown += len(row[2])
                self._db.executemany(_INSERT_READING, readings)
                self._db.executemany("DELETE FROM journal WHERE device = ? AND ts < ?", summarised)
                self._db.executemany(_SUMMARISED, summarised)
                evicted, freed = self._evict(self._bytes + grown - shrunk)
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise OutboxError(f"outbox write failed: {exc}") from exc
            self._bytes += grown - freed - shrunk
            self._count += added - evicted - superseded
            self._has_dropped = self._has_dropped or evicted > 0
            self.evicted += evicted
            if evicted and self._on_evict is not None:
                self._on_evict(evicted)
        if added and self.on_items is not None:
            self.on_items()
        return added

    def _supersede(self, newer: list[tuple[int, str, str, str, str]]) -> tuple[int, int]:
        """Inside the caller's transaction: delete the unsent items that newer latest-only items
        replace (same priority, kind, type and origin; `StoredItem.latest_only`). Returns (items,
        bytes) deleted. Found through the (priority, seq) index: latest-only items wait among
        the events, which are few, never among a backlog of summaries. Rows in flight stay: the
        uplink counts them as waiting until their ack, which deletes them."""
        gone: list[tuple[int]] = []
        freed = 0
        for priority, kind, item_type, origin, item_id in newer:
            for seq, length in self._db.execute(
                "SELECT seq, length(body) FROM outbox WHERE priority = ? AND kind = ? AND type = ? AND origin = ? AND item_id != ?",
                (priority, kind, item_type, origin, item_id),
            ).fetchall():
                if seq not in self.protected:
                    gone.append((seq,))
                    freed += length
        self._db.executemany("DELETE FROM outbox WHERE seq = ?", gone)
        return len(gone), freed

    def _evict(self, size: int) -> tuple[int, int]:
        """Inside the caller's transaction: drop the oldest routine items until `size` fits,
        counting them per series from their columns (bodies are never read)."""
        if self.max_bytes is None or size <= self.max_bytes:
            return 0, 0
        count = freed = 0
        victims = self._db.execute(
            "SELECT seq, length(body), kind, type, origin, at FROM outbox WHERE priority >= ? ORDER BY seq", (PRIORITY_ROUTINE,)
        )
        gone: list[tuple[int]] = []
        dropped: list[tuple[str, str, str, float, float]] = []
        protected = self.protected
        for seq, length, kind, item_type, origin, at in victims:
            if size - freed <= self.max_bytes:
                break
            if seq in protected:
                continue
            gone.append((seq,))
            dropped.append((kind, item_type, origin, at, at))
            freed += length
            count += 1
        victims.close()
        self._db.executemany(_DROPPED, dropped)
        self._db.executemany("DELETE FROM outbox WHERE seq = ?", gone)
        return count, freed

    def take_dropped(self) -> list[DroppedItems]:
        """Hand over (and forget) what was evicted, for the uplink to report centrally."""
        if not self._has_dropped:
            return []  # the uplink asks before every send; most of the time nothing was evicted
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute("SELECT kind, type, origin, count, first_at, last_at FROM dropped ORDER BY 1, 2, 3").fetchall()
            self._db.execute("DELETE FROM dropped")
            self._db.execute("COMMIT")
            self._has_dropped = False
        return [DroppedItems(*r) for r in rows]

    def journal(self) -> list[JournalRow]:
        """Readings accepted before a restart whose window was not yet summarised, oldest first per device."""
        with self._lock:
            return [tuple(r) for r in self._db.execute("SELECT device, ts, seq, body FROM journal ORDER BY device, ts, seq")]  # type: ignore[misc]

    def summarised_until(self) -> dict[str, float]:
        """Per device, where its newest summarised window ends (epoch s): a restarted gateway
        opens no window before it."""
        with self._lock:
            return dict(self._db.execute("SELECT device, window_end FROM summarised"))

    def peek(self, limit: int, skip: Sequence[int] | set[int] = ()) -> list[OutboxEntry]:
        """The next entries to send, events first, oldest first, leaving out `skip` (in flight)."""
        with self._lock:
            cur = self._db.execute(
                "SELECT seq, item_id, priority, body, created_at FROM outbox ORDER BY priority, seq LIMIT ?",
                (limit + len(skip),),
            )
            skipped = set(skip)
            entries = [OutboxEntry(*row) for row in islice((r for r in cur if r[0] not in skipped), limit)]
            cur.close()  # rows past `limit` are never read, nor turned into entries
            return entries

    def head(self, skip: Sequence[int] | set[int] = ()) -> tuple[int, float] | None:
        """(priority, created_at) of the entry `peek` would return first, without reading any
        body: enough to decide whether to send now or let summaries linger."""
        with self._lock:
            cur = self._db.execute("SELECT seq, priority, created_at FROM outbox ORDER BY priority, seq LIMIT ?", (len(skip) + 1,))
            skipped = set(skip)
            first = next((row for row in cur if row[0] not in skipped), None)
            cur.close()
            return None if first is None else (first[1], first[2])

    def ack(self, seqs: Sequence[int]) -> int:
        """Delete the rows `seqs`; returns how many there were. Rows gone already (acked in
        another message) are skipped: deleting a stored row twice is harmless."""
        if not seqs:
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                freed = self._stored_length(seqs)
                deleted = self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs]).rowcount
                self._db.execute("COMMIT")
                self._bytes -= int(freed)
                self._count -= deleted
                return int(deleted)
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise OutboxError(f"outbox delete failed: {exc}") from exc

    def _stored_length(self, seqs: Sequence[int]) -> int:
        """Bytes of body stored under `seqs` (each counted once), by one statement of a fixed
        number of parameters: SQLite keeps every distinct statement text prepared (the
        connection caches 128), and an IN list sized to each acknowledgement made a new one,
        tens of KB each, for almost every call."""
        unique = sorted(set(seqs))
        total = 0
        for start in range(0, len(unique), _LENGTH_CHUNK):
            chunk = unique[start : start + _LENGTH_CHUNK]
            chunk += chunk[-1:] * (_LENGTH_CHUNK - len(chunk))  # a repeated id matches its row once
            total += int(self._db.execute(_LENGTH_OF_SEQS, chunk).fetchone()[0])
        return total

    def depth(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.DatabaseError:
            pass
