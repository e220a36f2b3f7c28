"""Alembic environment of the gateway outbox's layout (see gateway/outbox_layout.py, which runs it
only when the layout is behind: the gateway does not load Alembic on a normal start).

The outbox is plain SQLite written with the `sqlite3` module, so revisions use `op.execute`
with SQL text and there is no metadata to compare against. New revision:

    alembic -n outbox revision --rev-id 0002 -m "what changes"
"""

from __future__ import annotations

from alembic import context

from core.migrations import run_migrations

run_migrations(context, None)
