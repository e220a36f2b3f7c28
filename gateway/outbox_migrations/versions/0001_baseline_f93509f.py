"""Baseline: the outbox layout of commit f93509f (the last one without a version).

Revision ID: 0001
Revises:
Create Date: 2026-12-06

f93509f created its tables with CREATE ... IF NOT EXISTS on every start; so does this revision,
so an unversioned outbox (f93509f's, or an older one lacking a table) is brought to the
baseline by running it. Never edit it: a layout change is a new revision, `HEAD` and `LAYOUT`
in gateway/outbox_layout.py follow it, and tests/migrations/test_outbox_upgrade.py extends the
upgrade from the previous state.
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL UNIQUE,
    priority INTEGER NOT NULL,
    body BLOB NOT NULL,
    created_at REAL NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS outbox_order ON outbox (priority, seq)",
    """CREATE TABLE IF NOT EXISTS journal (
    device TEXT NOT NULL,
    ts REAL NOT NULL,
    seq INTEGER NOT NULL,
    level REAL NOT NULL,
    battery REAL,
    PRIMARY KEY (device, ts)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS dropped (
    station TEXT NOT NULL PRIMARY KEY,
    device TEXT NOT NULL,
    count INTEGER NOT NULL,
    first_window REAL NOT NULL,
    last_window REAL NOT NULL
)""",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("the baseline is not undone: the upgrade left a copy of the file beside it")
