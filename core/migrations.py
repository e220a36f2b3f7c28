"""Alembic plumbing shared by the two versioned stores: the state database and the gateway outbox.

Each store has its own Alembic environment in its package (`central/migrations`,
`gateway/outbox_migrations`), shipped as package data and found next to the code, so an
installed wheel upgrades without an `alembic.ini`. Tepi always passes its own connection,
already inside the transaction (and lock) it wants the upgrade to run in.
"""

from __future__ import annotations

import functools
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError

log = logging.getLogger(__name__)


def alembic_config(
    script_location: Path, connection: sa.Connection | None = None, branches: tuple[Path, ...] = ()
) -> Config:
    """`branches`: further folders of revisions (e.g. a device kind's own tables), beside the
    environment's `versions/`; each is a branch of its own, so the store then has several heads."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if branches:
        config.set_main_option("path_separator", "os")
        config.set_main_option("version_locations", os.pathsep.join(str(p) for p in (script_location / "versions", *branches)))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision(script_location: Path) -> str:
    """The newest revision of an environment (one head: revisions form a line, not branches)."""
    head = ScriptDirectory.from_config(alembic_config(script_location)).get_current_head()
    if head is None:
        raise RuntimeError(f"no revisions in {script_location}")
    return head


@functools.cache
def head_revisions(script_location: Path, branches: tuple[Path, ...] = ()) -> tuple[str, ...]:
    """Every head of an environment with branches (`alembic_config`), sorted."""
    heads = ScriptDirectory.from_config(alembic_config(script_location, branches=branches)).get_heads()
    if not heads:
        raise RuntimeError(f"no revisions in {script_location}")
    return tuple(sorted(heads))


@functools.cache  # the revision files do not change while a process runs; reading them takes ~10 ms
def known_revisions(script_location: Path, branches: tuple[Path, ...] = ()) -> frozenset[str]:
    script = ScriptDirectory.from_config(alembic_config(script_location, branches=branches))
    return frozenset(s.revision for s in script.walk_revisions())


def revision_owners(
    script_location: Path, branches: tuple[Path, ...], others: Mapping[str, Path], revisions: Iterable[str]
) -> dict[str, str]:
    """Which of `others` (name -> a folder of revisions this environment does not run, e.g. of a
    device kind the build does not register) holds each of `revisions`: revision -> name, for
    those found. Why: a database stamped with such a revision is otherwise indistinguishable from
    one a newer release upgraded, and the two need opposite remedies. A folder whose revisions do
    not fit this environment (e.g. they depend on revisions this code lacks) answers nothing."""
    wanted = set(revisions)
    owners: dict[str, str] = {}
    for name, folder in others.items():
        try:
            found = known_revisions(script_location, (*branches, folder)) & wanted
        except (CommandError, RevisionError):
            continue
        owners.update(dict.fromkeys(sorted(found - owners.keys()), name))
    return owners


def current_revision(conn: sa.Connection) -> str | None:
    """The revision stamped in the database; None when it has never been stamped."""
    return MigrationContext.configure(conn).get_current_revision()


def missing_revisions(script_location: Path, branches: tuple[Path, ...], stamped: tuple[str, ...]) -> frozenset[str]:
    """Revisions not yet applied to a database stamped at `stamped`: those every head needs
    (itself, its ancestors and dependencies) that no stamped revision needs. With dependencies
    across branches Alembic stamps only the revisions nothing else applied depends on, so
    comparing the stamp with the heads would not tell."""
    script = ScriptDirectory.from_config(alembic_config(script_location, branches=branches))

    def needed(revisions: tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        stack = list(revisions)
        while stack:
            rev = script.get_revision(stack.pop())
            if rev is None or rev.revision in out:
                continue
            out.add(rev.revision)
            for down in (rev.down_revision, rev.dependencies):
                stack.extend((down,) if isinstance(down, str) else (down or ()))
        return out

    return frozenset(needed(head_revisions(script_location, branches)) - needed(stamped))


def current_heads(conn: sa.Connection) -> tuple[str, ...]:
    """The revisions stamped in a database with branches, sorted; empty when never stamped."""
    return tuple(sorted(MigrationContext.configure(conn).get_current_heads()))


def upgrade(conn: sa.Connection, script_location: Path, *, stamp: str | None = None, branches: tuple[Path, ...] = ()) -> None:
    """Stamp `stamp` first (an unversioned store recognised as that revision), then upgrade every
    branch to its head, all on `conn` in its current transaction."""
    config = alembic_config(script_location, conn, branches)
    if stamp is not None:
        command.stamp(config, stamp)
    command.upgrade(config, "heads")


def run_migrations(context: Any, target_metadata: sa.MetaData | None) -> None:
    """The body of both env.py files: on Tepi's connection, or on `-x url=...` from the alembic CLI."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(context, connection, target_metadata)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("give the database: alembic -n state -x url=sqlite:////tmp/scratch.db ...")
    engine = sa.create_engine(url)
    with engine.connect() as conn, conn.begin():
        _run(context, conn, target_metadata)
    engine.dispose()


def _run(context: Any, connection: sa.Connection, target_metadata: sa.MetaData | None) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite alters a table by copying it; "batch" mode writes revisions that do so.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def backup_sqlite(path: Path, revision: str | None) -> Path:
    """A consistent copy of a SQLite file (WAL included) beside it, before an upgrade changes it.

    Taken with SQLite's online backup, so it is consistent even while another connection holds
    the write lock (the upgrade's own, which has not written yet). Named after the revision it
    holds, so an operator can tell which Tepi version reads it.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.{revision or 'unversioned'}-{stamp}.bak")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    finally:
        source.close()
    log.info(
        "backed up the database before upgrading its schema",
        extra={"path": str(path), "backup": str(target), "revision": revision},
    )
    return target
