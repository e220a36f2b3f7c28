"""The outbox knows no device kind: rows say their item's kind, type, series and time; the
journal keeps a kind's opaque reading bodies; priorities are the items' own.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10

- outbox: new columns `kind`, `type`, `origin` (the series: "station/device" for the river) and
  `at` (the item's time: a summary's window start), filled by reading each stored body once
  here, so that eviction and its report never parse bodies again. Priorities become
  `contract.items`' (0 event -> 1, 1 summary -> 2; 0 is now distress). Bodies become what a
  current gateway stores (uplink schema 4): a JSON object gains its `"kind"`, a positional row
  (schema 2) becomes a summary record; records are kept byte for byte.
- journal: `body BLOB` (the river's level and battery, packed) instead of `level, battery`,
  keyed by (device, ts, seq).
- dropped: per (kind, type, origin) instead of per station.

Every row is kept; `seq` numbers and the AUTOINCREMENT counter too (the uplink orders by them).
Tables are rebuilt (SQLite cannot change a primary key in place): the old one is renamed aside,
the new one created with the very statement `gateway.outbox_layout` uses for a new file.

Rows are converted `legacy.CHUNK_ROWS` at a time, in key order, so memory does not grow with
the outbox (a full 512 MB outbox, read whole, would not fit a small gateway). Crash safety: the
whole upgrade is one SQLite transaction (`gateway.outbox_upgrade` runs every revision in one
`BEGIN IMMEDIATE`), so a crash or power loss midway leaves the old layout as it was; a copy of
the file is taken before, too. Free disk is checked first (`legacy.check_free_space`): too
little is a clear error before anything changed.
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

from gateway import outbox_legacy as legacy
from gateway.outbox_layout import DROPPED_TABLE, JOURNAL_TABLE, OUTBOX_ORDER, OUTBOX_TABLE

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    db = op.get_bind()
    files = {name: file for _seq, name, file in db.exec_driver_sql("PRAGMA database_list")}
    if files.get("main"):
        page_size = db.exec_driver_sql("PRAGMA page_size").scalar()
        page_count = db.exec_driver_sql("PRAGMA page_count").scalar()
        legacy.check_free_space(Path(files["main"]), int(page_size) * int(page_count))
    for table in ("outbox", "journal", "dropped"):
        op.execute(f"ALTER TABLE {table} RENAME TO {table}_0002")
    op.execute("DROP INDEX IF EXISTS outbox_order")
    for statement in (OUTBOX_TABLE, JOURNAL_TABLE, DROPPED_TABLE):
        op.execute(statement)

    last = -1  # seqs are positive
    while True:
        rows = db.exec_driver_sql(
            "SELECT seq, item_id, priority, body, created_at FROM outbox_0002 WHERE seq > ? ORDER BY seq LIMIT ?", (last, legacy.CHUNK_ROWS)
        ).fetchall()
        if not rows:
            break
        converted = []
        for seq, item_id, priority, body, created_at in rows:
            kind, item_type, origin, at = legacy.item_columns(bytes(body), created_at)
            converted.append((seq, item_id, legacy.priority(priority), legacy.current_body(bytes(body), kind), created_at, kind, item_type, origin, at))
        db.exec_driver_sql(
            "INSERT INTO outbox (seq, item_id, priority, body, created_at, kind, type, origin, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            converted,
        )
        last = rows[-1][0]
        del rows, converted
    # The counter of seqs ever given, not just the largest left: acknowledged rows' seqs stay unused.
    counter = db.exec_driver_sql("SELECT max(seq) FROM sqlite_sequence WHERE name IN ('outbox', 'outbox_0002')").scalar()
    if counter is not None:
        op.execute("DELETE FROM sqlite_sequence WHERE name = 'outbox'")
        db.exec_driver_sql("INSERT INTO sqlite_sequence (name, seq) VALUES ('outbox', ?)", (counter,))

    after: tuple[str, float] = ("", float("-inf"))  # keyset over the old journal's key (device, ts)
    while True:
        old = db.exec_driver_sql(
            "SELECT device, ts, seq, level, battery FROM journal_0002 WHERE (device, ts) > (?, ?) ORDER BY device, ts LIMIT ?",
            (*after, legacy.CHUNK_ROWS),
        ).fetchall()
        if not old:
            break
        db.exec_driver_sql("INSERT OR IGNORE INTO journal (device, ts, seq, body) VALUES (?, ?, ?, ?)", [legacy.journal_row(*r) for r in old])
        after = (old[-1][0], old[-1][1])
    dropped = [
        legacy.dropped_row(*r) for r in db.exec_driver_sql("SELECT station, device, count, first_window, last_window FROM dropped_0002")
    ]
    if dropped:
        db.exec_driver_sql("INSERT INTO dropped VALUES (?, ?, ?, ?, ?, ?)", dropped)

    for table in ("outbox", "journal", "dropped"):
        op.execute(f"DROP TABLE {table}_0002")
    op.execute(OUTBOX_ORDER)


def downgrade() -> None:
    raise NotImplementedError("not undone: the upgrade left a copy of the file beside it")
