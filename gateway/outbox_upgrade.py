"""Upgrading an outbox file's layout with its Alembic revisions (gateway/outbox_migrations).

Run as `python -m gateway.outbox_upgrade OUTBOX` by the gateway when its file is behind (see
`gateway.outbox_layout`), so Alembic and SQLAlchemy never stay in the gateway's memory. Prints
the path of the copy it made; on failure, the reason as the last line of stderr, exit status 1.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from gateway.errors import OutboxError
from gateway.outbox_layout import layout_version
from core import migrations

MIGRATIONS = Path(__file__).with_name("outbox_migrations")


def upgrade_layout(path: Path, version: str | None) -> Path:
    """Copy the file aside, then run the revisions after `version` (all of them for an
    unversioned f93509f file: the baseline only creates what is missing) in one transaction."""
    if version is not None and version not in migrations.known_revisions(MIGRATIONS):
        raise OutboxError(
            f"outbox {path} has layout revision {version!r}, which this gateway does not know (newest: "
            f"{migrations.head_revision(MIGRATIONS)!r}): it was written by a newer Tepi; run that version"
        )
    backup = migrations.backup_sqlite(path, version)
    engine = sa.create_engine(f"sqlite:///{path}", connect_args={"isolation_level": None})

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    try:
        with engine.connect() as conn, conn.begin():
            migrations.upgrade(conn, MIGRATIONS)
    except sa.exc.SQLAlchemyError as exc:
        raise OutboxError(f"upgrading outbox {path} failed (nothing was changed; copy at {backup}): {exc}") from exc
    finally:
        engine.dispose()
    return backup


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version, _columns = layout_version(db)
        finally:
            db.close()
        backup = upgrade_layout(path, version)
    except (OutboxError, sqlite3.DatabaseError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(backup)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
