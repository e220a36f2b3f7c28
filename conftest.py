"""Shared fixtures: real Mosquitto, VictoriaMetrics and PostgreSQL, on loopback, per test session.

The API fixtures (a state store with the river story, users with keys, clients) are a plugin,
`tests/api/api_fixtures.py`, so that the API tests of each kind (`kinds/<name>/tests`) use the
same ones as the generic API tests; its directory is put on the import path, so tests import
its neighbours (`api_people`, `river_story`) by name wherever they live.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from core.config import TepiConfig, load_config
from core.processes import Mosquitto, VictoriaMetrics

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

_API_TEST_SUPPORT = str(Path(__file__).parent / "tests" / "api")
if _API_TEST_SUPPORT not in sys.path:
    sys.path.insert(0, _API_TEST_SUPPORT)
pytest_plugins = ["api_fixtures", "console_fixtures"]

POSTGRES_URL = os.environ.get("TEPI_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def default_config() -> TepiConfig:
    return load_config()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh broker per test: fault tests stop and restart it."""
    if not Mosquitto.available():
        pytest.fail("mosquitto is not installed: run `make test`, which installs it")
    broker = Mosquitto(workdir=tmp_path / "mosquitto").start()
    yield broker
    broker.close()


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    if not VictoriaMetrics.available():
        pytest.fail("victoria-metrics is not installed: run `make test`, which installs it")
    vm = VictoriaMetrics(workdir=tmp_path_factory.mktemp("vm")).start()
    yield vm
    vm.close()


#: For transactions that only make or unmake test databases: one lost to a crash of PostgreSQL
#: loses nothing of value, and not waiting for the disk saves milliseconds on each of hundreds.
_NO_FSYNC = "SET LOCAL synchronous_commit = off"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Engine]:
    """One connection pool to PostgreSQL for making and dropping the tests' schemas (a connection
    per test took longer than the schema itself)."""
    import sqlalchemy as sa

    admin = sa.create_engine(POSTGRES_URL)
    yield admin
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: Engine) -> Iterator[str]:
    """Every state-store test runs on the embedded default and on the production database: an
    empty one of its own (a file in its folder; a schema of PostgreSQL database `test`)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with postgres_admin.begin() as conn:
            conn.execute(sa.text(_NO_FSYNC))
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with postgres_admin.begin() as conn:  # IF EXISTS: `StateTemplates` may have renamed it away for reuse
        conn.execute(sa.text(_NO_FSYNC))
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@dataclass
class _PostgresTemplate:
    """A populated schema's rows and sequence values, to put a used copy back as it was built."""

    built_at: float
    tables: list[Any]  # sqlalchemy.Table, reflected, parents before children
    rows: dict[str, list[dict[str, Any]]]
    sequences: dict[str, tuple[int, bool]]
    structure: list[tuple[Any, ...]]
    #: What the build returned (e.g. the API keys it issued): the copies hold the same.
    result: object = None
    #: Schemas holding exactly the built state, under names of their own, ready for a test.
    spares: list[str] = field(default_factory=list)


class StateTemplates:
    """The state store a fixture builds for every test (migrations, registry, a story), built once
    and copied: migrating an empty database takes 0.2 s on SQLite and 0.5 s on PostgreSQL (its DDL),
    for each of hundreds of tests.

    * SQLite: the file built once per session is copied to the test's database path.
    * PostgreSQL: the schema one test built is, after that test, emptied and refilled with the rows
      and sequence values it had when built (with the same columns, indexes and constraints, else
      it is dropped), then renamed and lent to the next test, whose own empty schema it replaces
      under the same name: so `database_url` still names the test's database.

    Each test still gets a database of its own in the state the fixture built; the first test that
    asks for a state builds its own, as one with a configuration of its own does. A template is
    built afresh when older than `MAX_AGE_S`, so what the build stamped with the clock (arrival
    times, users' `created_at`) is never much older than in a database built for the test.
    """

    MAX_AGE_S = 60.0

    def __init__(self, workdir: Path, admin: Engine) -> None:
        self._workdir = workdir
        self._admin = admin
        self._files: dict[Hashable, tuple[Path, float, object]] = {}
        self._postgres: dict[Hashable, _PostgresTemplate | None] = {}
        self._lent: dict[int, tuple[Hashable, _PostgresTemplate | None, str]] = {}
        self._seen: set[tuple[str, Hashable]] = set()
        self._results: dict[int, object] = {}

    def engine(self, url: str, key: Hashable, build: Callable[[Engine], object]) -> Engine:
        """An engine on `url` (a new, empty database), whose database is in the state `build`
        (which populates an empty database through the engine it is given) makes; `key` names
        that state, config included. What `build` returned is `result(engine)`. Hand the engine
        back with `release`."""
        import sqlalchemy as sa

        from central.db import create_engine

        backend = sa.make_url(url).get_backend_name()
        path = Path(sa.make_url(url).database or "") if backend == "sqlite" else None
        if (backend, key) in self._seen and path is not None and not path.exists():
            template, _built_at, result = self._sqlite_template(key, build)
            shutil.copyfile(template, path)
            eng = create_engine(url)
        elif (backend, key) in self._seen and backend == "postgresql":
            eng, result = self._postgres_engine(url, key, build)
        else:  # perhaps the only test with this state: no template
            self._seen.add((backend, key))
            eng = create_engine(url)
            result = build(eng)
        self._results[id(eng)] = result
        return eng

    def result(self, eng: Engine) -> object:
        """What the build of `eng`'s state returned."""
        return self._results[id(eng)]

    def release(self, eng: Engine) -> None:
        """Dispose of an engine of `engine`; a PostgreSQL copy is put back as built, for the next test."""
        eng.dispose()
        self._results.pop(id(eng), None)
        lent = self._lent.pop(id(eng), None)
        if lent is None:
            return
        key, template, schema = lent
        if template is None or self._postgres.get(key) is not template:
            return  # a stale template's copy: the test's fixture drops it
        try:
            template.spares.append(self._restore(template, schema))
        except Exception:  # noqa: BLE001  (the copy is simply not reused; `database_url` drops it)
            pass

    def close(self) -> None:
        for template in self._postgres.values():
            if template is not None:
                self._drop_spares(template)

    def _drop_spares(self, template: _PostgresTemplate) -> None:
        import sqlalchemy as sa

        if not template.spares:
            return
        with self._admin.begin() as conn:
            for spare in template.spares:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{spare}" CASCADE'))
        template.spares.clear()

    def _fresh(self, built_at: float) -> bool:
        return time.monotonic() - built_at < self.MAX_AGE_S

    def _sqlite_template(self, key: Hashable, build: Callable[[Engine], object]) -> tuple[Path, float, object]:
        from central.db import create_engine

        known = self._files.get(key)
        if known is not None and self._fresh(known[1]):
            return known
        path = self._workdir / f"state-{uuid.uuid4().hex[:12]}.db"
        eng = create_engine(f"sqlite:///{path}")
        result = build(eng)
        eng.dispose()
        with sqlite3.connect(path) as db:  # everything in the file itself, none in the WAL
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._files[key] = (path, time.monotonic(), result)
        return self._files[key]

    def _postgres_engine(self, url: str, key: Hashable, build: Callable[[Engine], object]) -> tuple[Engine, object]:
        import sqlalchemy as sa

        from central.db import create_engine

        schema = _postgres_schema(url)
        template = self._postgres.get(key)
        if template is not None and not self._fresh(template.built_at):
            self._drop_spares(template)
        if template is not None and self._fresh(template.built_at) and template.spares:
            spare = template.spares.pop()
            with self._admin.begin() as conn:
                conn.execute(sa.text(_NO_FSYNC))
                conn.execute(sa.text(f'DROP SCHEMA "{schema}"'))  # the test's, still empty
                conn.execute(sa.text(f'ALTER SCHEMA "{spare}" RENAME TO "{schema}"'))
            eng = create_engine(url)
            self._lent[id(eng)] = (key, template, schema)
            return eng, template.result
        eng = create_engine(url)
        result = build(eng)
        if template is None or not self._fresh(template.built_at):
            template = self._postgres[key] = self._capture(eng, schema, result)
        self._lent[id(eng)] = (key, template, schema)
        return eng, result

    def _capture(self, eng: Engine, schema: str, result: object) -> _PostgresTemplate | None:
        import sqlalchemy as sa

        with eng.connect() as conn:
            metadata = sa.MetaData()
            metadata.reflect(conn)
            tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
            if any(c.computed is not None or (c.identity is not None and c.identity.always) for t in tables for c in t.columns):
                return None  # columns that refuse explicit values: not worth a special case yet
            rows = {t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in tables}
            names = conn.scalars(sa.text("SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()"))
            sequences = {n: tuple(conn.execute(sa.text(f'SELECT last_value, is_called FROM "{n}"')).one()) for n in names}
        with self._admin.connect() as conn:
            structure = _postgres_structure(conn, schema)
        return _PostgresTemplate(time.monotonic(), tables, rows, sequences, structure, result)  # type: ignore[arg-type]

    def _restore(self, template: _PostgresTemplate, schema: str) -> str:
        """Empty the used copy `schema`, refill it as built, rename it a spare (one transaction)."""
        import sqlalchemy as sa

        spare = f"t_spare_{uuid.uuid4().hex[:12]}"
        with self._admin.begin() as conn:
            conn.execute(sa.text(_NO_FSYNC))
            conn.execute(sa.text("SET LOCAL lock_timeout = '5s'"))
            if _postgres_structure(conn, schema) != template.structure:
                raise RuntimeError(f"schema {schema} was changed by its test")
            conn.execute(sa.text(f'SET LOCAL search_path TO "{schema}"'))
            for table in reversed(template.tables):  # a few rows each: faster than TRUNCATE
                conn.execute(table.delete())
            for table in template.tables:
                if template.rows[table.name]:
                    conn.execute(table.insert(), template.rows[table.name])
            for name, (value, called) in template.sequences.items():
                conn.execute(sa.text("SELECT setval(CAST(:seq AS regclass), :value, :called)"), {"seq": f'"{name}"', "value": value, "called": called})
            conn.execute(sa.text(f'ALTER SCHEMA "{schema}" RENAME TO "{spare}"'))
        return spare


def _postgres_schema(url: str) -> str:
    import sqlalchemy as sa

    options = sa.make_url(url).query.get("options", "")
    return str(options).removeprefix("-csearch_path=")


def _postgres_structure(conn: Any, schema: str) -> list[tuple[Any, ...]]:
    """What a test could change in a schema besides rows: its relations (tables, indexes,
    sequences) and their columns, constraints, types, and the stamped revision."""
    import sqlalchemy as sa

    query = """
        SELECT 'relation', c.relname, c.relkind::text, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::text
          FROM pg_class c LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
         WHERE c.relnamespace = CAST(:s AS regnamespace)
        UNION ALL
        SELECT 'constraint', conrelid::regclass::text, conname, pg_get_constraintdef(oid), '', ''
          FROM pg_constraint WHERE connamespace = CAST(:s AS regnamespace)
        UNION ALL
        SELECT 'type', typname, '', '', '', '' FROM pg_type WHERE typnamespace = CAST(:s AS regnamespace)
    """
    out = [tuple(str(v).replace(schema, "<schema>") for v in row) for row in conn.execute(sa.text(query), {"s": f'"{schema}"'})]
    out += [("revision", r, "", "", "", "") for r in conn.scalars(sa.text(f'SELECT version_num FROM "{schema}".alembic_version'))]
    return sorted(out)


@pytest.fixture(scope="session")
def state_templates(tmp_path_factory: pytest.TempPathFactory, postgres_admin: Engine) -> Iterator[StateTemplates]:
    templates = StateTemplates(tmp_path_factory.mktemp("state-templates"), postgres_admin)
    yield templates
    templates.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Expose each phase's report on the test item, so fixtures can dump process logs on failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
