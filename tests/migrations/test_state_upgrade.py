"""A state database made before migrations existed (commit f93509f) upgrades with every row intact.

Each test starts from the databases in tests/migrations/f93509f, which f93509f's own code wrote
(tenants, users, API keys, alerts of every type and status, their events, processed ids and the
embedded level store), on SQLite and PostgreSQL.

When a revision after 0001 changes a table: keep these tests (they upgrade f93509f's database
through every revision to head), add the database as the previous release left it in a new
directory next to f93509f/ (made with that release's code, as make_fixture.py shows), run the
same checks from it, and assert what the revision itself promises (a new column's values, a
backfill) on top of "every row intact" for the columns that stay.

0002 only adds two columns to `alerts`, and 0001 is exactly f93509f's schema, so f93509f's
database is also the state 0002 starts from: its checks are the test of the alerts from before.
"""

from __future__ import annotations

import json
import os
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from earlier_releases import F93509F, restore_state, table_contents
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.main import StartupError, create_app
from api.settings import Settings
from api.testing import TEST_PUBLIC_BASE_URL
from central.db import Alert, AlertEvent, Base, check_schema, create_engine, prepare_database, upgrade_database, writer
from central.errors import SchemaBehind, SchemaUnrecognised
from kinds.awlr.ingest.forecast import RiverNetwork
from kinds.awlr.ingest.points import SqlPointSink
from central.schema import F93509F_TABLES, Upgrade, kind_state_modules, schema_version
from ingest.service import apply_batch
from ingest.testing import batch, siaga_change, summary
from tepi.admin_cli import admin_app
from core.config import TepiConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PEPPER = "f93509f-fixture-pepper-not-a-secret-0123456789"  # make_fixture.PEPPER
HEAD = "0007,bg0001,ff0005,wb0001"
KEYS = json.loads((F93509F / "keys.json").read_text())
kind_state_modules()  # the kinds' own tables join Base.metadata, as the revisions create them


def _production(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, auth_pepper=PEPPER, mode="production", level_store="sql",  # type: ignore[arg-type]
        public_base_url=TEST_PUBLIC_BASE_URL,  # type: ignore[arg-type]
    )


def _bearer(database_url: str, user: str) -> dict[str, str]:
    """Authorization with the key f93509f's code made for `user` in that backend's database."""
    return {"Authorization": f"Bearer {KEYS['sqlite' if database_url.startswith('sqlite') else 'postgresql'][user]}"}


def schema_of(engine: Engine) -> dict[str, object]:
    """Tables with their columns, keys, indexes and constraints, as the database reports them."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        out: dict[str, object] = {}
        for t in sorted(inspector.get_table_names()):
            out[t] = {
                "columns": [(c["name"], str(c["type"]), c["nullable"], c.get("default"), c.get("autoincrement"))
                            for c in inspector.get_columns(t)],
                "pk": inspector.get_pk_constraint(t),
                "fks": sorted(inspector.get_foreign_keys(t), key=repr),
                "indexes": sorted(inspector.get_indexes(t), key=lambda i: i["name"]),
                "unique": sorted(inspector.get_unique_constraints(t), key=repr),
                "checks": sorted(inspector.get_check_constraints(t), key=repr),
            }  # fmt: skip
        if conn.dialect.name == "sqlite":
            # A table SQLite copied (revision 0003, batch mode) lists its constraints in the order
            # they were reflected: compare each statement's lines as a set.
            out["sqlite_master"] = sorted(
                (type_, name, table, sorted(l.strip(" ,\t") for l in (sql or "").splitlines()))
                for type_, name, table, sql in conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master")
            )
        text = json.dumps(out, default=str, sort_keys=True)  # index predicates as their SQL text
        if conn.dialect.name == "postgresql":
            # PostgreSQL prints a constraint's expression with casts placed by how it was written:
            # the same `status IN (...)` restored from pg_dump reads `ARRAY['a'::varchar::text]`
            # where create_all's reads `ARRAY['a'::varchar]::text[]`. Compare them without casts.
            text = re.sub(r"::(character varying|text)(\[\])?|[() ]", "", text)
        return json.loads(text)


def test_f93509f_database_upgrades_with_every_row_intact(f93509f_state: Engine) -> None:
    before = table_contents(f93509f_state, columns=F93509F_TABLES)
    assert {t: len(rows) for t, rows in before.items()} == {
        "tenants": 3, "stations": 4, "users": 6, "api_keys": 6, "alerts": 10, "alert_events": 26,
        "processed_messages": 8, "level_points": 19,
    }  # fmt: skip
    with pytest.raises(SchemaBehind, match="tepi admin db upgrade"):
        check_schema(f93509f_state)

    upgrade = upgrade_database(f93509f_state)

    assert (upgrade.before, upgrade.after) == (None, HEAD)
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before
    assert check_schema(f93509f_state).up_to_date
    assert upgrade_database(f93509f_state).changed is False, "a second upgrade does nothing"


def test_the_upgraded_schema_is_the_one_the_revisions_create_and_the_models_describe(
    f93509f_state: Engine, database_url: str, tmp_path: Path
) -> None:
    upgrade_database(f93509f_state)
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}" if database_url.startswith("sqlite") else None
    if fresh_url is None:  # PostgreSQL: a second schema beside the test's
        fresh_schema = sa.make_url(database_url).query["options"].split("=")[1] + "_fresh"  # type: ignore[union-attr]
        admin = create_engine(database_url)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{fresh_schema}"'))
        fresh_url = database_url.rsplit("%3D", 1)[0] + f"%3D{fresh_schema}"
    fresh = create_engine(fresh_url)
    try:
        assert upgrade_database(fresh).before is None
        assert schema_of(fresh) == schema_of(f93509f_state)
        with fresh.connect() as conn:  # and the models agree with the revisions (no missing revision)
            assert compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata) == []
    finally:
        fresh.dispose()
        if not database_url.startswith("sqlite"):
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{fresh_schema}" CASCADE'))
            admin.dispose()



def released_configuration(config: TepiConfig, before: dict[str, list[tuple[object, ...]]]) -> TepiConfig:
    """The shipped configuration as it was when the old database was written: tenants added
    since (Indramayu, for its boats) are left out, so a registry sync of it changes nothing."""
    known = {row[0] for row in before["tenants"]}
    return config.model_copy(update={"tenants": [t for t in config.tenants if t.id in known]})

def test_ingest_and_the_api_work_on_the_upgraded_database(
    f93509f_state: Engine, database_url: str, default_config: TepiConfig
) -> None:
    before = table_contents(f93509f_state, columns=F93509F_TABLES)
    default_config = released_configuration(default_config, before)
    prepare_database(f93509f_state, default_config)  # what ingest runs at start: upgrade, then registry
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before, (
        "the registry sync of the same configuration changes nothing"
    )

    ts = datetime(2025, 1, 22, 3, 0, tzinfo=timezone.utc)
    with Session(writer(f93509f_state)) as s, s.begin():
        result = apply_batch(
            s, batch([siaga_change("manggarai", ts, 3, 760.0, siaga_from=4, seq=900)], sent_at=ts), SqlPointSink(s),
            network=RiverNetwork.from_config(default_config), now=ts,
        )  # fmt: skip
    assert result.rejected_total == 0
    with Session(f93509f_state) as s:
        new = s.scalars(sa.select(Alert).where(Alert.station_id == "manggarai", Alert.type == "siaga")).one()
        assert new.id > max(r[0] for r in before["alerts"]), "ids continue after the old ones (PostgreSQL sequences)"
        assert s.scalars(sa.select(AlertEvent.seq).where(AlertEvent.alert_id == new.id)).one() == 27

    with TestClient(create_app(default_config, _production(database_url), registry=CollectorRegistry())) as api:
        officer = _bearer(database_url, "Petugas Pusdalops")
        me = api.get("/api/v1/me", headers=officer).json()
        assert (me["tenant"], me["name"], me["role"]) == ("dki-jakarta", "Petugas Pusdalops", "disaster_office")
        alerts = api.get("/api/v1/alerts", params={"limit": 100}, headers=officer).json()
        assert alerts["count"] == 11
        assert {(a["type"], a["status"]) for a in alerts["data"]} >= {
            ("siaga", "active"), ("siaga", "acknowledged"), ("siaga", "cleared"), ("siaga", "closed"),
            ("forecast", "acknowledged"), ("offline", "active"), ("rate_of_rise", "closed"),
        }  # fmt: skip
        closed = next(a for a in alerts["data"] if a["type"] == "rate_of_rise")
        history = api.get(f"/api/v1/alerts/{closed['id']}/events", headers=officer).json()
        assert [e["kind"] for e in history["data"]][-1] == "closed"
        levels = api.get("/api/v1/stations/depok/levels", headers=officer, params={
            "start": "2025-01-20T00:00:00Z", "end": "2025-01-20T02:00:00Z"}).json()  # fmt: skip
        assert len(levels["data"]) == 7, "the embedded level store's summaries read back"
        assert api.get("/api/v1/alerts", headers=_bearer(database_url, "Admin Badung")).json()["count"] == 0


def test_alerts_from_before_0002_keep_their_values_and_behave_as_they_did(
    f93509f_state: Engine, default_config: TepiConfig
) -> None:
    """0002 adds the time of an alert's level and an offline alert's station clock at opening,
    unknown (null) for the alerts already there: their open offline alerts clear on any data, as
    before 0002, and their open alerts take the level of the next reading, as new ones do."""
    prepare_database(f93509f_state, default_config)
    with f93509f_state.connect() as conn:
        added = conn.execute(sa.text("SELECT id, last_level_at, opened_device_at FROM alerts ORDER BY id")).all()
    assert [tuple(r) for r in added] == [(i, None, None) for i in range(1, 11)]

    window = datetime(2025, 1, 20, 9, 10, tzinfo=timezone.utc)  # device time before the offline alerts opened
    with Session(writer(f93509f_state)) as s, s.begin():
        apply_batch(
            s, batch([summary("depok", window, 181.0), summary("katulampa", window, 118.0, siaga=3)]),
            SqlPointSink(s), now=datetime(2025, 1, 22, 3, 0, tzinfo=timezone.utc),
        )  # fmt: skip
    with Session(f93509f_state) as s:
        alerts = {a.id: a for a in s.scalars(sa.select(Alert))}
    newest = window + timedelta(minutes=10) - timedelta(seconds=1)
    assert [(alerts[i].status, alerts[i].clear_reason) for i in (8, 9)] == [("cleared", "data_returned")] * 2
    katulampa_siaga = alerts[6]
    assert (katulampa_siaga.status, katulampa_siaga.revision) == ("acknowledged", 1)
    assert (katulampa_siaga.last_level_cm, katulampa_siaga.last_level_at) == (119.0, newest)
    assert alerts[10].status == "active", "Manggarai sent nothing"


def test_a_sqlite_database_is_copied_before_it_is_upgraded(tmp_path: Path) -> None:
    """PostgreSQL upgrades in one transaction (a failure changes nothing); its backups are pg_dump's."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    restore_state(F93509F, url)
    engine = create_engine(url)
    before = table_contents(engine)
    upgrade = upgrade_database(engine)
    assert upgrade.backup is not None and upgrade.backup.name.startswith("state.db.unversioned-")
    copy = create_engine(f"sqlite:///{upgrade.backup}")
    try:
        assert table_contents(copy) == before
        with copy.connect() as conn:
            assert schema_version(conn).current is None, "the copy is the database as it was"
        assert upgrade_database(engine).backup is None, "nothing to copy when nothing changes"
    finally:
        copy.dispose()
        engine.dispose()


def test_the_api_refuses_a_schema_that_is_behind_until_the_operator_upgrades(
    f93509f_state: Engine, database_url: str, default_config: TepiConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [n for n in os.environ if n.startswith("TEPI_")]:
        monkeypatch.delenv(name)
    app = create_app(default_config, _production(database_url), registry=CollectorRegistry())
    with pytest.raises(StartupError, match=rf"revision f93509f \(unversioned\).*needs {HEAD}.*tepi admin db upgrade"):
        with TestClient(app):
            pass

    env = {"TEPI_DATABASE_URL": database_url}  # schema commands need no secrets, only the database
    runner = CliRunner()
    current = runner.invoke(admin_app, ["db", "current"], env=env)
    assert current.exit_code == 1 and "database: none (unversioned, f93509f)" in current.stdout
    upgraded = runner.invoke(admin_app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"schema upgraded from none (unversioned or new) to {HEAD}" in upgraded.stdout
    assert runner.invoke(admin_app, ["db", "upgrade"], env=env).stdout == f"schema already at {HEAD}\n"
    assert runner.invoke(admin_app, ["db", "current"], env=env).exit_code == 0

    with TestClient(create_app(default_config, _production(database_url), registry=CollectorRegistry())) as api:
        assert api.get("/api/v1/me", headers=_bearer(database_url, "Admin DKI")).status_code == 200


def test_a_schema_no_revision_made_is_refused_and_left_alone(f93509f_state: Engine, default_config: TepiConfig) -> None:
    with f93509f_state.begin() as conn:
        conn.execute(sa.text("ALTER TABLE alerts ADD COLUMN hand_made INTEGER"))
    before = table_contents(f93509f_state)
    with pytest.raises(SchemaUnrecognised, match="alerts has unexpected columns hand_made.*cannot be upgraded automatically"):
        prepare_database(f93509f_state, default_config)
    assert table_contents(f93509f_state) == before
    with f93509f_state.connect() as conn:
        assert "alembic_version" not in sa.inspect(conn).get_table_names()


def test_a_database_a_newer_tepi_upgraded_is_refused(database_url: str, default_config: TepiConfig) -> None:
    engine = create_engine(database_url)
    try:
        prepare_database(engine, default_config)
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE alembic_version SET version_num = '0099' WHERE version_num = 'ff0005'"))
        for step in (lambda: prepare_database(engine, default_config), lambda: check_schema(engine)):
            with pytest.raises(SchemaUnrecognised, match="revision '0099', which this version of Tepi does not know"):
                step()
    finally:
        engine.dispose()


def test_workers_starting_together_upgrade_once(
    f93509f_state: Engine, database_url: str, default_config: TepiConfig
) -> None:
    before = table_contents(f93509f_state, columns=F93509F_TABLES)
    default_config = released_configuration(default_config, before)
    engines = [create_engine(database_url) for _ in range(4)]
    barrier = threading.Barrier(len(engines))

    def start(engine: Engine) -> Upgrade | Exception:
        barrier.wait()
        try:
            return prepare_database(engine, default_config)
        except Exception as exc:  # noqa: BLE001 - asserted below
            return exc

    with ThreadPoolExecutor(len(engines)) as pool:
        results = list(pool.map(start, engines))
    for e in engines:
        e.dispose()
    assert all(isinstance(r, Upgrade) and r.after == HEAD for r in results), results
    assert [r.changed for r in results if isinstance(r, Upgrade)].count(True) == 1, "one upgraded, three waited"
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before


def test_a_0002_database_upgrades_to_alerts_of_any_kind_with_every_row_kept(f93509f_state: Engine) -> None:
    """0003: every alert and event of a river station keeps its values and becomes kind 'awlr'
    with its station as subject; the event log's sequence goes on after its old numbers."""
    from alembic import command

    from central.schema import MIGRATIONS, kind_branches
    from core.migrations import alembic_config

    with f93509f_state.begin() as conn:  # the database as release 0002 left it
        config = alembic_config(MIGRATIONS, conn, kind_branches())
        command.stamp(config, "0001")
        command.upgrade(config, "0002")
    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "0002"
    before = table_contents(f93509f_state, columns=F93509F_TABLES)
    with f93509f_state.connect() as conn:
        max_seq = conn.scalar(sa.text("SELECT max(seq) FROM alert_events"))

    upgrade = upgrade_database(f93509f_state)

    assert (upgrade.before, upgrade.after) == ("0002", HEAD)
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before
    with f93509f_state.connect() as conn:
        alerts = conn.execute(sa.text("SELECT kind, subject, station_id FROM alerts")).all()
        events = conn.execute(sa.text("SELECT alert_kind, subject, station_id FROM alert_events")).all()
    assert alerts and all(kind == "awlr" and subject == station for kind, subject, station in alerts)
    assert events and all(kind == "awlr" and subject == station for kind, subject, station in events)
    with Session(writer(f93509f_state)) as session, session.begin():
        alert = session.scalars(sa.select(Alert).order_by(Alert.id)).first()
        assert alert is not None
        session.add(AlertEvent(
            alert_id=alert.id, tenant_id=alert.tenant_id, station_id=alert.station_id, alert_type=alert.type,
            alert_kind=alert.kind, subject=alert.subject, kind="updated", revision=alert.revision,
            at=alert.opened_at, recorded_at=alert.opened_at, who="test", payload={},
        ))
        session.flush()
        newest = session.scalar(sa.select(sa.func.max(AlertEvent.seq)))
    assert newest is not None and newest > max_seq, "a new event never takes an old event's sequence number"


def test_a_0003_database_upgrades_to_one_open_alert_per_tenant_with_every_row_kept(f93509f_state: Engine) -> None:
    """0004: the one-open index gains the tenant. Every alert stays; two tenants may then each
    have an open alert of the same kind, subject and type (a sea area both watch), one tenant
    still only one."""
    from alembic import command
    from sqlalchemy.exc import IntegrityError

    from central.schema import MIGRATIONS, kind_branches
    from core.migrations import alembic_config

    with f93509f_state.begin() as conn:  # the database as release 0003 left it
        config = alembic_config(MIGRATIONS, conn, kind_branches())
        command.stamp(config, "0001")
        command.upgrade(config, "0003")
    before = table_contents(f93509f_state, columns=F93509F_TABLES)

    def open_marine(tenant: str) -> None:
        with f93509f_state.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO alerts (tenant_id, kind, subject, type, severity, siaga, peak_siaga, status, revision, "
                "opened_at, updated_at) VALUES (:t, 'wavebuoy', 'selat-badung', 'marine', 'minor', 4, 4, 'active', 1, :at, :at)"
            ), {"t": tenant, "at": datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)})

    open_marine("dki-jakarta")
    with pytest.raises(IntegrityError):  # 0003: one open alert per subject, whatever the tenant
        open_marine("kab-badung")

    upgrade = upgrade_database(f93509f_state)

    assert (upgrade.before, upgrade.after) == ("0003", HEAD)
    after = table_contents(f93509f_state, columns=F93509F_TABLES)
    assert {t: rows for t, rows in after.items() if t != "alerts"} == {t: rows for t, rows in before.items() if t != "alerts"}
    assert set(before["alerts"]) < set(after["alerts"]) and len(after["alerts"]) == len(before["alerts"]) + 1
    open_marine("kab-badung")  # 0004: the neighbour's own alert of the same sea area
    with pytest.raises(IntegrityError):
        open_marine("kab-badung")
    with f93509f_state.connect() as conn:
        assert conn.scalar(sa.text("SELECT count(*) FROM alerts WHERE subject = 'selat-badung'")) == 2


def test_a_0005_database_upgrades_to_console_sign_in_and_reach_with_every_row_kept_and_goes_back(
    f93509f_state: Engine,
) -> None:
    """0006: users gain a password hash and an email (null: keys only, as before), and the console's
    tables arrive empty. Every row stays; downgrading drops only what 0006 added."""
    from alembic import command

    from central.schema import MIGRATIONS, kind_branches
    from core.migrations import alembic_config

    with f93509f_state.begin() as conn:  # the database as release 0005 left it
        config = alembic_config(MIGRATIONS, conn, kind_branches())
        command.stamp(config, "0001")
        command.upgrade(config, "0005")
    before = table_contents(f93509f_state, columns=F93509F_TABLES)

    upgrade = upgrade_database(f93509f_state)

    assert (upgrade.before, upgrade.after) == ("0005", HEAD)
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before
    with f93509f_state.connect() as conn:
        users = conn.execute(sa.text("SELECT password_hash, email FROM users")).all()
        assert users and all(row == (None, None) for row in users)
        for table in ("web_sessions", "subscriptions", "notification_deliveries", "gateway_health"):
            assert conn.scalar(sa.text(f"SELECT count(*) FROM {table}")) == 0

    with f93509f_state.begin() as conn:
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "0005")
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before
    with f93509f_state.connect() as conn:
        assert "web_sessions" not in sa.inspect(conn).get_table_names()
        assert "password_hash" not in {c["name"] for c in sa.inspect(conn).get_columns("users")}


def test_a_0006_gateway_health_row_upgrades_to_link_state_and_64_bit_counts_and_goes_back(f93509f_state: Engine) -> None:
    """0007: `gateway_health` gains `link_up` and `report_every_s` (null for a report stored
    before: unknown), and its counts take values past 2^31. The row stays through up and down."""
    from alembic import command

    from central.schema import MIGRATIONS, kind_branches
    from core.migrations import alembic_config

    columns = {"gateway_health": ("tenant_id", "gateway", "report_id", "reported_at", "outbox_items", "outbox_bytes",
                                  "rejected_frames", "rejected_by_reason", "devices")}
    with f93509f_state.begin() as conn:  # the database as 0006 left it, with one gateway's report
        config = alembic_config(MIGRATIONS, conn, kind_branches())
        command.stamp(config, "0001")
        command.upgrade(config, "0006")
        conn.execute(sa.text(
            "INSERT INTO gateway_health (tenant_id, gateway, report_id, reported_at, received_at, uptime_s, outbox_items, "
            "outbox_bytes, rejected_frames, rejected_by_reason, devices) VALUES ('dki-jakarta', 'gw-ciliwung', "
            "'gw-ciliwung:gateway_health:1', :at, :at, 60.0, 3, 4096, 2, '{\"garbage\": 2}', '[]')"
        ), {"at": datetime(2026, 12, 7, tzinfo=timezone.utc)})
    before = table_contents(f93509f_state, ("gateway_health",), columns)

    assert upgrade_database(f93509f_state).after == HEAD
    assert table_contents(f93509f_state, ("gateway_health",), columns) == before
    with f93509f_state.begin() as conn:
        assert conn.execute(sa.text("SELECT link_up, report_every_s FROM gateway_health")).all() == [(None, None)]
        conn.execute(sa.text("UPDATE gateway_health SET outbox_bytes = :big, rejected_frames = :big"), {"big": 3 * 2**31})
        assert conn.scalar(sa.text("SELECT outbox_bytes FROM gateway_health")) == 3 * 2**31
        conn.execute(sa.text("UPDATE gateway_health SET outbox_bytes = 4096, rejected_frames = 2"))

    with f93509f_state.begin() as conn:
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "0006")
    assert table_contents(f93509f_state, ("gateway_health",), columns) == before
    with f93509f_state.connect() as conn:
        assert not {"link_up", "report_every_s"} & {c["name"] for c in sa.inspect(conn).get_columns("gateway_health")}
