"""Upgrading an outbox file's layout with its Alembic revisions (gateway/outbox_migrations).

Imported only when a file is behind (see `gateway.outbox_layout`): Alembic and SQLAlchemy
then stay loaded for the rest of that run, which the memory budget allows once per upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from gateway.errors import OutboxError
from tepi import migrations

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
