"""The state store itself: preparation by processes starting together, UTC on both backends."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.db import Station, Tenant, check_schema, create_engine, prepare_database, writer
from central.errors import SchemaUnrecognised
from core.config import TepiConfig

WIB = timezone(timedelta(hours=7))


def test_concurrent_preparation_does_not_race(database_url: str, default_config: TepiConfig) -> None:
    engines = [create_engine(database_url) for _ in range(4)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(engines))

    def prepare(engine: sa.Engine) -> None:
        try:
            barrier.wait()
            prepare_database(engine, default_config)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=prepare, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert errors == []
        assert check_schema(engines[0]).up_to_date
        with Session(engines[0]) as s:
            assert s.scalar(sa.select(sa.func.count()).select_from(Tenant)) == len(default_config.tenants)
            assert s.scalar(sa.select(sa.func.count()).select_from(Station)) == len(default_config.stations)
    finally:
        for e in engines:
            e.dispose()


def test_timestamps_come_back_as_utc_whatever_zone_they_were_written_in(
    database_url: str, default_config: TepiConfig
) -> None:
    engine = create_engine(database_url)
    try:
        prepare_database(engine, default_config)
        written = datetime(2025, 1, 20, 7, 0, tzinfo=WIB)
        with Session(writer(engine)) as s, s.begin():
            station = s.get(Station, "katulampa")
            assert station is not None
            station.last_seen_at = written
        with Session(engine) as s:
            st = s.get(Station, "katulampa")
            assert st is not None and st.last_seen_at is not None
            assert st.last_seen_at == written
            assert st.last_seen_at.utcoffset() == timedelta(0)
            # Comparisons in SQL use UTC too: 06:30 WIB is 23:30 UTC the day before.
            earlier = datetime(2025, 1, 20, 6, 30, tzinfo=WIB)
            assert s.scalars(sa.select(Station.id).where(Station.last_seen_at > earlier)).all() == ["katulampa"]
    finally:
        engine.dispose()


def test_registry_sync_updates_names_and_keeps_state(database_url: str, default_config: TepiConfig) -> None:
    engine = create_engine(database_url)
    try:
        prepare_database(engine, default_config)
        with Session(writer(engine)) as s, s.begin():
            st = s.get(Station, "depok")
            assert st is not None
            st.last_level_cm = 222.0
        renamed = default_config.model_copy(
            update={
                "stations": [
                    s.model_copy(update={"name": "Pos Depok"}) if s.id == "depok" else s
                    for s in default_config.stations
                ]
            }
        )
        prepare_database(engine, renamed)
        with Session(engine) as s:
            st = s.get(Station, "depok")
            assert st is not None
            assert (st.name, st.last_level_cm) == ("Pos Depok", 222.0)
    finally:
        engine.dispose()


def test_a_database_of_an_older_version_is_refused_with_an_explanation(
    tmp_path: Path, default_config: TepiConfig
) -> None:
    # The alerts table as the first release created it: no lifecycle columns, no schema version.
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alerts (id INTEGER PRIMARY KEY, status VARCHAR(16))"))
    with pytest.raises(SchemaUnrecognised, match=r"no schema version.*alerts lacks .*closed_at.*cannot be upgraded"):
        prepare_database(engine, default_config)
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == ["alerts"], "nothing was created or changed"
    assert list(tmp_path.glob("*.bak")) == [], "nothing to back up: nothing was changed"
    engine.dispose()
