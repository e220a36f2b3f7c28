"""The durable outbox: what the gateway has accepted but ingest has not yet acknowledged.

SQLite in WAL mode on local disk. An item is deleted only after the uplink broker
acknowledged the MQTT message that carried it (QoS 1 PUBACK), so a process kill, a power cut
or a week without uplink loses nothing that was committed here. Events (priority 0) leave
before routine summaries (priority 1).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import OutboxError

PRIORITY_EVENT = 0
PRIORITY_SUMMARY = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority, seq);
CREATE TABLE IF NOT EXISTS journal (
    device TEXT NOT NULL,
    ts REAL NOT NULL,
    seq INTEGER NOT NULL,
    level REAL NOT NULL,
    battery REAL,
    PRIMARY KEY (device, ts)
) WITHOUT ROWID;
"""

JournalRow = tuple[str, float, int, float, "float | None"]  # device, ts (epoch s), seq, level, battery


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    seq: int
    item_id: str
    priority: int
    body: bytes


class Outbox:
    """Thread-safe: sources' worker thread puts, the uplink thread reads and acknowledges."""

    def __init__(self, path: Path | str, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise OutboxError(f"cannot open outbox {self.path}: {exc}") from exc
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def put(self, items: Iterable[tuple[str, int, bytes]]) -> int:
        """Store (item_id, priority, body) rows in one transaction; an id already present is kept once."""
        return self.commit(items)

    def commit(
        self,
        items: Iterable[tuple[str, int, bytes]],
        readings: Sequence[JournalRow] = (),
        summarised: Sequence[tuple[str, float]] = (),
    ) -> int:
        """One transaction: new uplink items, accepted readings of still-open windows (the
        journal), and journal entries (device, before ts) that a summary now covers. So after a
        kill the gateway either has a reading in the journal or in a queued summary, never neither.
        Returns how many new items were stored."""
        rows = [(item_id, prio, body, time.time()) for item_id, prio, body in items]
        if not (rows or readings or summarised):
            return 0
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT OR IGNORE INTO outbox (item_id, priority, body, created_at) VALUES (?, ?, ?, ?)", rows
                )
                added = self._db.total_changes - before
                self._db.executemany("INSERT OR IGNORE INTO journal VALUES (?, ?, ?, ?, ?)", readings)
                self._db.executemany("DELETE FROM journal WHERE device = ? AND ts < ?", summarised)
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise OutboxError(f"outbox write failed: {exc}") from exc
            if rows:
                self._changed.notify_all()
            return added

    def journal(self) -> list[JournalRow]:
        """Readings accepted before a restart whose window was not yet summarised, oldest first per device."""
        with self._lock:
            return [tuple(r) for r in self._db.execute("SELECT device, ts, seq, level, battery FROM journal ORDER BY device, ts")]  # type: ignore[misc]

    def peek(self, limit: int, skip: Sequence[int] | set[int] = ()) -> list[OutboxEntry]:
        """The next entries to send, events first, oldest first, leaving out `skip` (in flight)."""
        with self._lock:
            cur = self._db.execute(
                "SELECT seq, item_id, priority, body FROM outbox ORDER BY priority, seq LIMIT ?", (limit + len(skip),)
            )
            skipped = set(skip)
            return [OutboxEntry(*row) for row in cur if row[0] not in skipped][:limit]

    def ack(self, seqs: Sequence[int]) -> None:
        if not seqs:
            return
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
                self._db.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise OutboxError(f"outbox delete failed: {exc}") from exc

    def depth(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def wait_for_items(self, timeout: float) -> None:
        """Block until something is put (or timeout): lets the uplink sleep instead of polling."""
        with self._changed:
            self._changed.wait(timeout)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.DatabaseError:
            pass
