"""Build the databases of tests/migrations/f93509f with the code of commit f93509f.

Run once, from a checkout of f93509f (the last schema without migrations), with PostgreSQL
at $TEPI_TEST_POSTGRES (default: postgresql+psycopg://postgres@127.0.0.1:5432/test):

    mkdir /tmp/f93509f && git archive f93509f | tar -x -C /tmp/f93509f && cd /tmp/f93509f
    PYTHONPATH=$PWD python <this file> <output directory>

It writes, from one scenario run through f93509f's own ingest, alert and admin code:
`state.db` (SQLite), `state.postgresql.sql` (pg_dump of the same data in the schema
`tepi_f93509f`), `outbox.db` (a gateway outbox with summaries, events, journal rows and an
eviction record) and `keys.json` (the API keys it created, hashed with `PEPPER`).
The committed files are what the upgrade tests start from; this script documents how they
were made and is not run by the tests (it only works against f93509f's code).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.services.auth import create_key, create_tenant, create_user, revoke_key
from gateway.outbox import PRIORITY_EVENT, Outbox
from ingest.alerts import acknowledge, close
from ingest.db import Alert, create_engine, prepare_database, writer
from ingest.forecast import RiverNetwork
from ingest.offline import alerting_rules, check_offline
from ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise, siaga_change, summary
from tepi.config import load_config
from tepi.messages import outbox_body

PEPPER = b"f93509f-fixture-pepper-not-a-secret-0123456789"
PG_SCHEMA = "tepi_f93509f"
T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)


def fill_state(url: str) -> dict[str, str]:
    """Tenants, users, keys, every alert type and status, events, processed ids, level points."""
    config = load_config()
    engine = create_engine(url)
    prepare_database(engine, config)
    network = RiverNetwork.from_config(config)

    def apply(items: list, now: datetime) -> None:
        with Session(writer(engine)) as s, s.begin():
            apply_batch(s, batch(items, sent_at=now), SqlPointSink(s), network=network, now=now)

    keys: dict[str, str] = {}
    with Session(writer(engine)) as s, s.begin():
        create_tenant(s, "kab-sumedang", "Kabupaten Sumedang")
        for tenant, name, role in [
            ("dki-jakarta", "Admin DKI", "admin"),
            ("dki-jakarta", "Petugas Pusdalops", "disaster_office"),
            ("dki-jakarta", "Nelayan Muara", "fisher"),
            ("kab-badung", "Admin Badung", "admin"),
            ("kab-sumedang", "Pengamat", "viewer"),
        ]:
            user = create_user(s, tenant, name, role, now=T0)
            _row, keys[name] = create_key(s, PEPPER, user.id, now=T0 + timedelta(minutes=1))
        staff = create_user(s, "dki-jakarta", "Staf Lama", "staff_admin", now=T0)
        old, _key = create_key(s, PEPPER, staff.id, now=T0)
        revoke_key(s, old.id, now=T0 + timedelta(days=2))
        staff.disabled_at = T0 + timedelta(days=2)

    # Ten-minute summaries of three gauges, then a flood at Katulampa with forecasts downstream.
    apply([summary(st, T0 + timedelta(minutes=10 * i), lvl + i, first_seq=10 * i)
           for st, lvl in [("katulampa", 60.0), ("depok", 150.0), ("manggarai", 600.0)] for i in range(6)]
          + [summary("depok", T0 + timedelta(minutes=60), None, first_seq=60)], T0 + timedelta(hours=1))
    t = T0 + timedelta(hours=1, minutes=5)
    apply([siaga_change("katulampa", t, 3, 95.0, siaga_from=4, seq=61)], t)
    apply([siaga_change("katulampa", t + timedelta(minutes=20), 2, 160.0, siaga_from=3, seq=81)], t)
    apply([rate_of_rise("depok", t + timedelta(minutes=25), True, 190.0, seq=85)], t)
    apply([rate_of_rise("depok", t + timedelta(minutes=55), False, 195.0, rate_cm_per_h=20.0, seq=115)], t)
    apply([siaga_change("depok", t + timedelta(hours=5), 3, 210.0, siaga_from=4, seq=400)], t + timedelta(hours=5))
    apply([siaga_change("depok", t + timedelta(hours=6), 4, 180.0, siaga_from=3, seq=460)], t + timedelta(hours=6))
    apply([siaga_change("katulampa", t + timedelta(hours=7), 4, 70.0, siaga_from=2, seq=500)], t + timedelta(hours=7))
    apply([siaga_change("katulampa", t + timedelta(hours=8), 3, 90.0, siaga_from=4, seq=560)], t + timedelta(hours=8))
    with Session(writer(engine)) as s, s.begin():
        check_offline(s, alerting_rules(config), T0 + timedelta(days=1), T0)
    with Session(writer(engine)) as s, s.begin():
        alerts = list(s.scalars(sa.select(Alert).order_by(Alert.id)))
        for a in alerts:  # one alert stays cleared (katulampa's first Siaga), one active (offline)
            if a.status == "cleared" and (a.type, a.station_id) != ("siaga", "katulampa"):
                close(s, a.id, "Petugas Pusdalops", T0 + timedelta(days=1, hours=1), note="Banjir surut")
            elif a.status == "active" and a.type != "offline":
                acknowledge(s, a.id, "Admin DKI", T0 + timedelta(days=1, hours=2), note="Tim dikirim")
    with Session(engine) as s:
        seen = sorted({(a.type, a.status) for a in s.scalars(sa.select(Alert))})
        print(url.split("?")[0], "alerts (type, status):", seen, file=sys.stderr)
        for table in ("tenants", "users", "api_keys", "stations", "alerts", "alert_events", "processed_messages", "level_points"):
            print(f"  {table}: {s.scalar(sa.text(f'SELECT count(*) FROM {table}'))}", file=sys.stderr)
    engine.dispose()
    return keys


def fill_outbox(path: Path) -> None:
    """Summaries (one evicted when the bound was reached), events and journal readings."""
    box = Outbox(path, max_bytes=None)
    gw = "gw-ciliwung"
    items = [summary(st, T0 + timedelta(minutes=10 * i), 60.0 + i, gateway=gw, first_seq=10 * i)
             for st in ("katulampa", "depok") for i in range(4)]
    items.append(summary("manggarai", T0, None, gateway=gw))  # no good reading: statistics null
    events = [siaga_change("katulampa", T0 + timedelta(minutes=41), 3, 95.0, siaga_from=4, seq=41, gateway=gw),
              rate_of_rise("depok", T0 + timedelta(minutes=42), True, 190.0, seq=42, gateway=gw)]
    box.put([(s.id, 1, outbox_body(s, gw)) for s in items[:2]])
    box.max_bytes = box.stored_bytes  # the next commit evicts the oldest summary: a `dropped` row
    box.commit([(s.id, 1, outbox_body(s, gw)) for s in items[2:3]])
    box.max_bytes = None
    box.commit(
        [(e.id, PRIORITY_EVENT, outbox_body(e, gw)) for e in events] + [(s.id, 1, outbox_body(s, gw)) for s in items[3:]],
        readings=[("awlr-katulampa", (T0 + timedelta(minutes=40, seconds=k)).timestamp(), 400 + k, 94.5 + k, 12.6)
                  for k in range(3)] + [("awlr-depok", (T0 + timedelta(minutes=40)).timestamp(), 400, 191.0, None)],
    )
    box.close()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("state.db", "outbox.db"):
        for suffix in ("", "-wal", "-shm"):
            (out / f"{name}{suffix}").unlink(missing_ok=True)
    keys = fill_state(f"sqlite:///{out / 'state.db'}")
    pg = os.environ.get("TEPI_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    admin = sa.create_engine(pg)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
    pg_keys = fill_state(f"{pg}?options=-csearch_path%3D{PG_SCHEMA}")
    dsn = sa.make_url(pg)
    dump = subprocess.run(
        ["pg_dump", "-h", dsn.host or "127.0.0.1", "-p", str(dsn.port or 5432), "-U", dsn.username or "postgres",
         "-n", PG_SCHEMA, "--inserts", "--no-owner", "--no-privileges", dsn.database or "test"],
        check=True, capture_output=True, text=True,
    ).stdout
    (out / "state.postgresql.sql").write_text(dump)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA {PG_SCHEMA} CASCADE"))
    admin.dispose()
    fill_outbox(out / "outbox.db")
    for name in ("state.db", "outbox.db"):  # everything in the main file: no -wal to commit
        db = sqlite3.connect(out / name)
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.close()
    (out / "keys.json").write_text(json.dumps({"sqlite": keys, "postgresql": pg_keys}, indent=1, ensure_ascii=False) + "\n")
    shutil.rmtree(out / "__pycache__", ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
