"""Versions of the state database's schema: recognise, check and upgrade (Alembic revisions in
`central/migrations/versions`).

* A database with `alembic_version` is at the revision stamped there.
* A database without it but with Tepi's tables was made by commit f93509f or earlier, before
  migrations: when its tables and columns are exactly f93509f's it is stamped as the baseline
  revision (which creates exactly that schema) and upgraded from there; anything else is refused,
  as guessing would mean migrating data from a layout nobody wrote a revision for.
* An empty database is brought to head by running the revisions, so the revisions are what
  every fresh deployment and every test runs.

Callers run `upgrade_schema` inside a transaction that holds the preparation lock (see
`central.db.prepare_database`): workers starting together upgrade once, the others wait and then
find the schema current. A SQLite file is copied (`<file>.<revision>-<UTC time>.bak`) before an
upgrade changes a database that holds data; on PostgreSQL the whole upgrade is one transaction,
so a failure changes nothing, and backups are the operator's (pg_dump) as for any upgrade.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa

from central.errors import SchemaBehind, SchemaUnrecognised
from core import migrations
from kinds import KINDS, kind_names, unregistered_kinds

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
#: The revision that creates exactly what commit f93509f's `create_all` created.
BASELINE = "0001"
#: Tepi's tables and their columns as f93509f created them; never changes (see BASELINE).
F93509F_TABLES: dict[str, tuple[str, ...]] = {
    "alert_events": ("seq", "alert_id", "tenant_id", "station_id", "alert_type", "kind", "revision", "at",
                     "recorded_at", "who", "payload"),
    "alerts": ("id", "tenant_id", "station_id", "type", "severity", "siaga", "peak_siaga", "rate_cm_per_h", "status",
               "revision", "opened_at", "updated_at", "acknowledged_at", "acknowledged_by", "cleared_at", "cleared_by",
               "clear_reason", "closed_at", "closed_by", "last_level_cm", "upstream_station_id", "upstream_siaga",
               "upstream_level_cm", "expected_from", "expected_until", "last_arrival_at"),
    "api_keys": ("id", "tenant_id", "user_id", "key_hash", "created_at", "revoked_at"),
    "level_points": ("item_id", "tenant_id", "station_id", "gateway", "window_start", "window_end", "mean_cm", "min_cm",
                     "max_cm", "last_cm", "count", "qc_suspect", "qc_fail", "qc_missing"),
    "processed_messages": ("item_id", "tenant_id", "gateway", "processed_at"),
    "stations": ("id", "tenant_id", "name", "river", "lat", "lon", "siaga3_cm", "siaga2_cm", "siaga1_cm",
                 "thresholds_source", "last_level_cm", "last_siaga", "first_seen_at", "last_seen_at",
                 "siaga_changed_at", "rise_changed_at", "last_arrival_at"),
    "tenants": ("id", "name"),
    "users": ("id", "tenant_id", "name", "role", "created_at", "disabled_at"),
}  # fmt: skip



@functools.cache
def kind_branches() -> tuple[Path, ...]:
    """The `migrations/` folders of the registered kinds that have one (without importing the
    kinds: their packages are only located)."""
    out = []
    for name in kind_names():
        spec = find_spec(KINDS[name])
        for root in (spec.submodule_search_locations or []) if spec else []:
            folder = Path(root) / "migrations"
            if folder.is_dir():
                out.append(folder)
    return tuple(out)


@functools.cache
def kind_state_modules() -> tuple[ModuleType, ...]:
    """The registered kinds' `state` modules (their tables, on `central.models.Base`), imported:
    for whatever needs every table's model (schema comparisons, retention)."""
    out = []
    for name in kind_names():
        module = f"{KINDS[name]}.state"
        if find_spec(module) is not None:
            out.append(import_module(module))
    return tuple(out)


def heads() -> str:
    """This code's head revisions, as `SchemaVersion.head` shows them."""
    return ",".join(migrations.head_revisions(MIGRATIONS, kind_branches()))


UPGRADE_HINT = "run `tepi admin db upgrade` (or start ingest, which upgrades at start)"


@dataclass(frozen=True)
class SchemaVersion:
    """Where a database stands: its stamped revision (None: never stamped) and this code's head."""

    current: str | None
    head: str
    #: No Tepi table at all: a new database.
    empty: bool
    #: Revisions of this code the database lacks (with kind branches, `current` can differ from
    #: `head` and still be up to date: see `core.migrations.missing_revisions`).
    missing: frozenset[str] = frozenset()

    @property
    def up_to_date(self) -> bool:
        return self.current is not None and not self.missing


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade_schema` did: from which revision (None: new or unversioned) to which."""

    before: str | None
    after: str
    backup: Path | None = None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def schema_version(conn: sa.Connection) -> SchemaVersion:
    """The database's revision; `SchemaUnrecognised` when it is not one this code can upgrade."""
    head = heads()
    stamped = migrations.current_heads(conn)
    current = ",".join(stamped) or None
    if current is not None:
        unknown = sorted(set(stamped) - migrations.known_revisions(MIGRATIONS, kind_branches()))
        if unknown:
            raise _unknown_stamp(current, head, unknown)
        missing = migrations.missing_revisions(MIGRATIONS, kind_branches(), stamped)
        # Alembic stamps no revision another applied one depends on: all applied reads as `head`.
        return SchemaVersion(current if missing else head, head, empty=False, missing=missing)
    inspector = sa.inspect(conn)
    present = set(inspector.get_table_names()) & set(F93509F_TABLES)
    if not present:
        return SchemaVersion(None, head, empty=True, missing=frozenset(migrations.known_revisions(MIGRATIONS, kind_branches())))
    problems = [f"no table {t}" for t in sorted(set(F93509F_TABLES) - present)]
    for table in sorted(present):
        have = {c["name"] for c in inspector.get_columns(table)}
        want = set(F93509F_TABLES[table])
        if have - want:
            problems.append(f"{table} has unexpected columns {', '.join(sorted(have - want))}")
        if want - have:
            problems.append(f"{table} lacks {', '.join(sorted(want - have))}")
    if problems:
        raise SchemaUnrecognised(
            "the state database has Tepi tables but no schema version, and they are not those of the first "
            f"versioned release (f93509f): {'; '.join(problems)}. It cannot be upgraded automatically: start "
            "from a new database, or bring these tables to f93509f's layout by hand and start again."
        )
    return SchemaVersion(None, head, empty=False, missing=frozenset(migrations.known_revisions(MIGRATIONS, kind_branches())))


def _unknown_stamp(current: str, head: str, unknown: list[str]) -> SchemaUnrecognised:
    """Why a database is stamped with revisions this code does not know, and what to do: a revision
    of a kind this build does not register (found in the folder of a kind left unregistered) needs
    that kind back, not a newer Tepi; a revision found nowhere may be either."""
    folders = {name: folder / "migrations" for name, folder in unregistered_kinds().items() if (folder / "migrations").is_dir()}
    owners = migrations.revision_owners(MIGRATIONS, kind_branches(), folders, unknown)
    kinds = ", ".join(kind_names())
    problems = [
        f"revision {', '.join(repr(r) for r in unknown if owners.get(r) == kind)} is of the device kind {kind!r}, which "
        f"this build of Tepi does not register (its kinds: {kinds}): the database holds that kind's tables. Register "
        "the kind again (its line in KINDS, kinds/__init__.py) or run the build that has it; to retire the kind, first "
        "downgrade its branch to base with that build (which drops its tables), then start this one"
        for kind in sorted(set(owners.values()))
    ]
    rest = [r for r in unknown if r not in owners]
    if rest:
        problems.append(
            f"revision {', '.join(repr(r) for r in rest)}, which this version of Tepi does not know (its newest is "
            f"{head!r}), is of a newer Tepi or of a device kind this build does not register (its kinds: {kinds}). "
            "Run that version or restore the backup taken before the upgrade; or register the kind again (its folder "
            "in kinds/ and its line in KINDS, kinds/__init__.py)"
        )
    return SchemaUnrecognised(f"the state database is at schema revision {current!r}: {'; '.join(problems)}.")


def require_current(conn: sa.Connection) -> SchemaVersion:
    """For processes that only read and write (the API in production): refuse a schema not at head."""
    version = schema_version(conn)
    if version.empty:
        raise SchemaBehind(f"the state database has no tables yet: {UPGRADE_HINT}")
    if not version.up_to_date:
        raise SchemaBehind(
            f"the state database is at schema revision {version.current or 'f93509f (unversioned)'}, this version "
            f"of Tepi needs {version.head}: {UPGRADE_HINT}"
        )
    return version


def upgrade_schema(conn: sa.Connection) -> Upgrade:
    """Bring the schema to head on `conn`, in the caller's transaction (which holds the lock)."""
    version = schema_version(conn)
    if version.up_to_date:
        return Upgrade(version.current, version.head)
    backup = None
    database = conn.engine.url.database
    if conn.dialect.name == "sqlite" and not version.empty and database and database != ":memory:":
        backup = migrations.backup_sqlite(Path(database), version.current)
    unversioned = version.current is None and not version.empty
    migrations.upgrade(conn, MIGRATIONS, stamp=BASELINE if unversioned else None, branches=kind_branches())
    log.info(
        "state database schema upgraded",
        extra={"from": version.current or ("f93509f" if unversioned else "empty"), "to": version.head},
    )
    return Upgrade(version.current, version.head, backup)
