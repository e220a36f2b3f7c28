"""The outbox file's layout and its version, read with plain `sqlite3`.

The layout is versioned with Alembic revisions (`gateway/outbox_migrations/versions`) stamped
in the file's `alembic_version` table, like the state database's schema. The gateway has a
tight memory budget, so it never loads Alembic (and SQLAlchemy, together 23 MB of RSS) itself:
a new file gets `LAYOUT` and the head stamp directly (a test keeps that equal to running the
revisions), a current one is recognised by one query, and a file that is behind is upgraded by
a short-lived child process (`python -m gateway.outbox_upgrade`).

A revision that changes the outbox's columns must also teach `gateway.outbox_recovery` to read
the old layout: a damaged file is salvaged as it is, before any upgrade.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

from gateway.errors import OutboxError

log = logging.getLogger(__name__)

#: Revision that `LAYOUT` is; the head of outbox_migrations (tests/migrations checks they agree).
HEAD = "0003"
#: Tables and columns of an outbox written before layouts were versioned (commit f93509f).
F93509F_TABLES: dict[str, tuple[str, ...]] = {
    "outbox": ("seq", "item_id", "priority", "body", "created_at"),
    "journal": ("device", "ts", "seq", "level", "battery"),
    "dropped": ("station", "device", "count", "first_window", "last_window"),
}

#: The tables of layout 0003 on (revision 0003 creates them with these very statements).
OUTBOX_TABLE = """CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at REAL NOT NULL,
    kind TEXT NOT NULL,
    type TEXT NOT NULL,
    origin TEXT NOT NULL,
    at REAL NOT NULL
)"""
OUTBOX_ORDER = "CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority, seq)"
#: A reading's body is its kind's (`DeviceKind.journal_body`). Keyed by time and number: a
#: device that restarts numbers from 0 again, and some kinds send several readings a second.
JOURNAL_TABLE = """CREATE TABLE IF NOT EXISTS journal (
    device TEXT NOT NULL,
    ts REAL NOT NULL,
    seq INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (device, ts, seq)
) WITHOUT ROWID"""
DROPPED_TABLE = """CREATE TABLE IF NOT EXISTS dropped (
    kind TEXT NOT NULL,
    type TEXT NOT NULL,
    origin TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_at REAL NOT NULL,
    last_at REAL NOT NULL,
    PRIMARY KEY (kind, type, origin)
) WITHOUT ROWID"""

LAYOUT = f"""
{OUTBOX_TABLE};
{OUTBOX_ORDER};
{JOURNAL_TABLE};
{DROPPED_TABLE};
CREATE TABLE IF NOT EXISTS summarised (
    device TEXT NOT NULL PRIMARY KEY,
    window_end REAL NOT NULL
) WITHOUT ROWID;
"""
#: Alembic's version table, exactly as Alembic creates it on SQLite.
_VERSION_TABLE = (
    "CREATE TABLE alembic_version (\n\tversion_num VARCHAR(32) NOT NULL, \n\t"
    "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n)"
)


def layout_version(db: sqlite3.Connection) -> tuple[str | None, dict[str, set[str]]]:
    """(stamped revision or None, {outbox table present: its columns})."""
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    version = None
    if "alembic_version" in tables:
        row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        version = None if row is None else str(row[0])
    columns = {t: {r[1] for r in db.execute(f"PRAGMA table_info({t})")} for t in F93509F_TABLES if t in tables}
    return version, columns


def prepare_layout(path: Path) -> Path | None:
    """Create the layout in a new file, or upgrade an older one; returns the backup an upgrade made.

    Called before the outbox opens the file, so nothing else uses it meanwhile (one gateway
    process owns its outbox).
    """
    db = sqlite3.connect(str(path), isolation_level=None)
    try:
        version, columns = layout_version(db)
        if version == HEAD:
            return None
        if version is None and not columns:
            db.execute("BEGIN IMMEDIATE")
            for statement in (*LAYOUT.split(";")[:-1], _VERSION_TABLE):
                db.execute(statement)
            db.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (HEAD,))
            db.execute("COMMIT")
            return None
    finally:
        db.close()
    if version is None:
        _refuse_unknown(path, columns)
    if getattr(sys, "frozen", False):  # no interpreter to start: upgrade here, at the memory's expense
        from gateway.outbox_upgrade import upgrade_layout

        backup = upgrade_layout(path, version)
    else:
        backup = _upgrade_in_child(path)
    log.warning(
        "outbox layout upgraded; the file as it was is kept beside it",
        extra={"path": str(path), "from": version or "f93509f", "to": HEAD, "backup": str(backup)},
    )
    return backup


def _upgrade_in_child(path: Path) -> Path:
    import subprocess

    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gateway.outbox_upgrade", str(path)], capture_output=True, text=True, timeout=600
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OutboxError(f"cannot upgrade outbox {path}: {exc}") from exc
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"]
        raise OutboxError(lines[-1])
    return Path(proc.stdout.strip())


def _refuse_unknown(path: Path, columns: dict[str, set[str]]) -> None:
    wrong = [
        f"{table} has columns {', '.join(sorted(have))}"
        for table, have in sorted(columns.items())
        if have != set(F93509F_TABLES[table])
    ]
    if wrong:
        raise OutboxError(
            f"outbox {path} has no layout version and is not one Tepi wrote ({'; '.join(wrong)}): move it aside "
            "(the gateway then starts a new one) and deliver what it holds by hand"
        )
