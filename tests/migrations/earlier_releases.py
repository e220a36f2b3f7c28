"""Databases as an earlier Tepi left them, for upgrade tests: `tests/migrations/<commit>/`.

f93509f is the last release without schema versions (see f93509f/make_fixture.py for how its
files were made); 25e3753 the last with outbox layout 0001, 18987c1 the last with 0002. When a revision changes a table or
the outbox layout, add the state before it the same way (a directory named after the commit,
made with that commit's code) and let the upgrade tests start from each directory in turn.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

F93509F = Path(__file__).with_name("f93509f")
#: The outbox of the last release before layout 0002 (see 25e3753/make_fixture.py).
C25E3753 = Path(__file__).with_name("25e3753")
#: The outbox of the last release before layout 0003 (see 18987c1/make_fixture.py).
C18987C1 = Path(__file__).with_name("18987c1")
#: Tables f93509f created; every row of each must survive every upgrade.
STATE_TABLES = ("tenants", "stations", "users", "api_keys", "alerts", "alert_events", "processed_messages",
                "level_points")  # fmt: skip


def restore_state(directory: Path, database_url: str) -> None:
    """Put the state database of `directory` where `database_url` points (an empty schema)."""
    url = sa.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        shutil.copy(directory / "state.db", url.database)
        return
    schema = url.query["options"].split("search_path=")[1]  # type: ignore[union-attr]
    dumped = (directory / "state.postgresql.sql").read_text()
    lines = [
        line
        for line in dumped.splitlines()
        if not line.startswith(("\\", "CREATE SCHEMA ")) and "set_config('search_path'" not in line
    ]
    sql = "\n".join(lines).replace("tepi_f93509f.", f'"{schema}".')
    engine = sa.create_engine(database_url)
    raw = engine.raw_connection()
    try:
        raw.cursor().execute(sql)  # several statements, no parameters: sent as one simple query
        raw.commit()
    finally:
        raw.close()
        engine.dispose()


def table_contents(
    engine: Engine, tables: tuple[str, ...] = STATE_TABLES, columns: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table as the driver returns it (no model types in between), in key order.

    `columns` names the columns to read per table (all by default): an upgraded database read
    with the columns it had before (`central.schema.F93509F_TABLES`) must read as it did.
    """

    def select(t: str) -> str:
        names = ", ".join(columns[t]) if columns is not None and t in columns else "*"
        return f"SELECT {names} FROM {t} ORDER BY 1"

    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(sa.text(select(t)))] for t in tables}
