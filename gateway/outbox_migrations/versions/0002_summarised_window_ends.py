"""Where each device's summarised windows end, so that a restarted gateway never opens a window
before them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

Until now a restarted gateway rebuilt a device's open window from the journal alone and
aligned it to the ten-minute cadence, so after one-minute windows (an alert) it could start
before windows already sent: two summaries with the same window start, one of which a time
series store keeps. The gateway now records, in the transaction that queues a summary, where
the device's newest summarised window ends.

An outbox written before this revision does not know that end. Every journal reading is at or
after it (the journal keeps only readings of windows not yet summarised, and readings before a
summarised window's end were refused as late), so each device's earliest journal reading is
recorded instead: the rebuilt window starts there, never before a window already sent. A device
without journal readings gets no row until its next summary.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """CREATE TABLE IF NOT EXISTS summarised (
    device TEXT NOT NULL PRIMARY KEY,
    window_end REAL NOT NULL
) WITHOUT ROWID"""
    )
    op.execute("INSERT OR IGNORE INTO summarised (device, window_end) SELECT device, min(ts) FROM journal GROUP BY device")


def downgrade() -> None:
    raise NotImplementedError("not undone: the upgrade left a copy of the file beside it")
