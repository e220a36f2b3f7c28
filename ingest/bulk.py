"""Bulk INSERT and key lookup in the caller's transaction: what ingest does once per item.

A replayed backlog brings ~100k items in one transaction. Through the ORM, or even Core's
executemany (`session.execute(insert(table), [dict, ...])`), SQLAlchemy builds and processes a
parameter dict per row: that costs more than the database's own work, and the dicts, alive
until the statement ends, make the cyclic garbage collector scan the whole heap again. So:

* SQLite: the INSERT SQLAlchemy compiles for the table runs as the DBAPI's executemany
  (`exec_driver_sql`) with one tuple per row, every value through its column type's own bind
  processor (`UtcDateTime`, SQLite's DATETIME), constants processed once.
* PostgreSQL: `INSERT ... SELECT unnest(:col1), unnest(:col2), ...`, one array per column and
  chunk (psycopg's executemany of single-row INSERTs is ~2x slower), in Core, so errors are
  SQLAlchemy's as everywhere else.
* Other databases: Core's executemany.

Plain INSERT everywhere: a row whose key exists fails the statement and with it the
transaction, which is what the callers want (see `ingest.service._insert_processed`).

Looking keys up (`existing`) is the same story: SQLAlchemy processes each value of an expanding
IN; on PostgreSQL one array parameter (`= ANY(:keys)`) is several times faster than an IN list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

#: Keys per lookup statement: an IN list on SQLite (under the 999 bound parameters of old
#: builds; longer lists are no faster), an array on PostgreSQL.
KEYS_PER_IN_LIST = 500
KEYS_PER_ARRAY = 5000
#: Rows per INSERT ... SELECT unnest(...) on PostgreSQL.
ROWS_PER_ARRAY = 10_000


def insert_rows(
    session: Session,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    constants: Mapping[str, Any] | None = None,
    *,
    skip_existing: bool = False,
) -> None:
    """INSERT `rows` (values of `columns`, in that order) into `table`; `constants` for every row.

    Values are Python values, as for `session.execute(insert(table), ...)`. `skip_existing`:
    a row whose primary key is already stored is left out (ON CONFLICT DO NOTHING) instead of
    failing the statement.
    """
    if not rows:
        return
    constants = dict(constants or {})
    dialect = session.connection().dialect
    if dialect.name == "sqlite" and dialect.paramstyle == "qmark":
        _insert_driver(session, table, columns, rows, constants, skip_existing)
    elif dialect.name == "postgresql":
        _insert_unnest(session, table, columns, rows, constants, skip_existing)
    else:
        if skip_existing:
            raise NotImplementedError(f"skip_existing on {dialect.name}")
        session.execute(sa.insert(table), [dict(zip(columns, row, strict=True), **constants) for row in rows])


def _insert_statement(table: sa.Table, dialect_name: str, skip_existing: bool) -> Any:
    if not skip_existing:
        return sa.insert(table)
    insert = postgresql.insert if dialect_name == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def _insert_driver(
    session: Session,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    constants: dict[str, Any],
    skip_existing: bool,
) -> None:
    conn = session.connection()
    dialect = conn.dialect
    names = [*columns, *constants]
    statement = _insert_statement(table, "sqlite", skip_existing)
    compiled = statement.compile(dialect=dialect, column_keys=names)
    if list(compiled.positiontup or ()) != names:  # binds are named and ordered as the column keys
        session.execute(statement, [dict(zip(columns, row, strict=True), **constants) for row in rows])
        return
    processors = [_processor(table.c[name].type, dialect) for name in names]
    constant_processors = processors[len(columns) :]
    fixed = tuple(
        value if proc is None else proc(value)
        for value, proc in zip(constants.values(), constant_processors, strict=True)
    )
    per_row = [(i, proc) for i, proc in enumerate(processors[: len(columns)]) if proc is not None]
    params: list[tuple[Any, ...]]
    if per_row:
        params = []
        for row in rows:
            values = list(row)
            for i, proc in per_row:
                values[i] = proc(values[i])
            params.append((*values, *fixed))
    elif fixed:
        params = [(*row, *fixed) for row in rows]
    else:
        params = list(rows)
    conn.exec_driver_sql(compiled.string, params)


def _insert_unnest(
    session: Session,
    table: sa.Table,
    columns: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
    constants: dict[str, Any],
    skip_existing: bool,
) -> None:
    targets = [table.c[name] for name in columns]
    for start in range(0, len(rows), ROWS_PER_ARRAY):
        by_column = list(zip(*rows[start : start + ROWS_PER_ARRAY], strict=True))
        select = sa.select(
            *(
                sa.func.unnest(sa.bindparam(f"c{i}", list(values), type_=postgresql.ARRAY(column.type)))
                for i, (column, values) in enumerate(zip(targets, by_column, strict=True))
            ),
            *(
                sa.bindparam(f"k{i}", value, type_=table.c[name].type)
                for i, (name, value) in enumerate(constants.items())
            ),
        )
        session.execute(_insert_statement(table, "postgresql", skip_existing).from_select([*columns, *constants], select))


def _processor(type_: sa.types.TypeEngine[Any], dialect: sa.Dialect) -> Callable[[Any], Any] | None:
    return type_.dialect_impl(dialect).bind_processor(dialect)


def existing(session: Session, column: sa.Column[Any], keys: Sequence[Any]) -> set[Any]:
    """Which of `keys` are values of `column` (a table's column, of a type like String whose
    values come back from the database as they went in)."""
    found: set[Any] = set()
    unique = list(dict.fromkeys(keys))
    if not unique:
        return found
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name == "postgresql":
        array = postgresql.ARRAY(column.type)
        for i in range(0, len(unique), KEYS_PER_ARRAY):
            chunk = unique[i : i + KEYS_PER_ARRAY]
            stmt = sa.select(column).where(column == sa.any_(sa.bindparam("keys", chunk, type_=array)))
            found.update(conn.execute(stmt).scalars())
        return found
    impl = column.type.dialect_impl(dialect)
    raw = dialect.name == "sqlite" and dialect.paramstyle == "qmark" and impl.result_processor(dialect, None) is None
    proc = _processor(column.type, dialect)
    preparer = dialect.identifier_preparer
    name = preparer.quote(column.name)
    head = f"SELECT {name} FROM {preparer.format_table(column.table)} WHERE {name} IN ("
    for i in range(0, len(unique), KEYS_PER_IN_LIST):
        chunk = unique[i : i + KEYS_PER_IN_LIST]
        if raw:
            params = tuple(chunk) if proc is None else tuple(proc(k) for k in chunk)
            found.update(row[0] for row in conn.exec_driver_sql(head + ",".join("?" * len(chunk)) + ")", params))
        else:
            found.update(conn.execute(sa.select(column).where(column.in_(chunk))).scalars())
    return found
