"""A state database at the fish-finder's ff0002 (vessels, tracks, schools, SOS calls, catches,
contact requests) upgrades to the kind's head (ff0003: home positions; ff0004: wind limits; ff0005: a wind limit of
0 is none registered) with
every row intact, on SQLite and PostgreSQL.

The ff0002 database is made the way test_state_upgrade makes release 0002's: f93509f's
database (tests/migrations/f93509f) upgraded by the revisions to ff0002, then the kind's rows
written as ff0002's tables take them (plain SQL, no models of this version in between).
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from earlier_releases import table_contents
from sqlalchemy.engine import Engine

from central.db import upgrade_database
from central.schema import MIGRATIONS, kind_branches, schema_version
from core.migrations import alembic_config

#: The fish-finder's tables as ff0002 created them, with their columns then ("end" quoted: an SQL keyword).
FF0002_TABLES: dict[str, tuple[str, ...]] = {
    "vessels": ("id", "tenant_id", "name", "owner_user", "home_port", "gt", "speed_kn", "fuel_l_per_h", "wave_limit_m",
                "gateway_id", "expected_return_at", "silent_limit_s", "at_sea", "last_lat", "last_lon", "last_fix_at",
                "created_at"),
    "vessel_positions": ("id", "tenant_id", "vessel_id", "ts", "lat", "lon", "sog", "cog", "distress"),
    "school_sightings": ("item_id", "tenant_id", "vessel_id", "gateway", "start", '"end"', "lat", "lon", "top_m",
                         "bottom_m", "mean_sv_db", "pings"),
    "sos_calls": ("item_id", "alert_id", "tenant_id", "vessel_id", "gateway", "press", "repeat", "ts", "lat", "lon",
                  "nature", "active", "received_at", "status_sent"),
    "catches": ("id", "tenant_id", "fisher_id", "vessel_id", "species", "weight_kg", "lat", "lon", "caught_at",
                "price_idr_per_kg", "port", "for_sale", "created_at"),
    "catch_contact_requests": ("id", "tenant_id", "catch_id", "from_user_id", "message", "created_at"),
}  # fmt: skip
T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
#: (vessel, home port as registered, the home position ff0003 gives it).
VESSELS = (
    ("km-benoa", "Pelabuhan Benoa (fishing port, west side)", (-8.7394, 115.2083)),
    ("km-kedonganan", " Kedonganan ", (-8.7570, 115.1690)),
    ("km-karangsong", "PELABUHAN PERIKANAN KARANGSONG", (-6.3100, 108.3700)),
    ("km-angke", "Muara Angke", (None, None)),
)


def _ff0002_database(engine: Engine) -> None:
    """Upgrade to ff0002 (0003 comes with it), then write rows into every table of the kind."""
    from alembic import command

    with engine.begin() as conn:  # f93509f's database is revision 0001 unstamped
        config = alembic_config(MIGRATIONS, conn, kind_branches())
        command.stamp(config, "0001")
        command.upgrade(config, "ff0002")
    with engine.begin() as conn:
        for i, (vessel, port, _) in enumerate(VESSELS):
            conn.execute(sa.text(
                "INSERT INTO vessels (id, tenant_id, name, owner_user, home_port, gt, speed_kn, fuel_l_per_h, "
                "wave_limit_m, gateway_id, expected_return_at, silent_limit_s, at_sea, last_lat, last_lon, last_fix_at, "
                "created_at) VALUES (:id, 'dki-jakarta', :name, 3, :port, 4.5, 7.0, 5.5, 1.5, :gw, :due, 21600, :at_sea, "
                "-8.8, 115.3, :t, :t)"
            ), {"id": vessel, "name": vessel.upper(), "port": port, "gw": f"gw-{vessel}", "due": T0 if i % 2 else None,
                "at_sea": bool(i % 2), "t": T0})  # fmt: skip
            conn.execute(sa.text(
                "INSERT INTO vessel_positions (tenant_id, vessel_id, ts, lat, lon, sog, cog, distress) "
                "VALUES ('dki-jakarta', :v, :t, -8.8, 115.3, :sog, 180.0, :distress)"
            ), {"v": vessel, "t": T0, "sog": 5.0 if i else None, "distress": i == 1})  # fmt: skip
            conn.execute(sa.text(
                'INSERT INTO school_sightings (item_id, tenant_id, vessel_id, gateway, start, "end", lat, lon, top_m, '
                "bottom_m, mean_sv_db, pings) VALUES (:id, 'dki-jakarta', :v, :gw, :t, :t, -8.81, 115.31, 12.0, 18.5, "
                "-55.5, 40)"
            ), {"id": f"school-{vessel}", "v": vessel, "gw": f"gw-{vessel}", "t": T0})  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO sos_calls (item_id, alert_id, tenant_id, vessel_id, gateway, press, repeat, ts, lat, lon, "
            "nature, active, received_at, status_sent) VALUES ('sos-1', 1, 'dki-jakarta', 'km-benoa', 'gw-km-benoa', "
            "1, 0, :t, -8.8, 115.3, 'sinking', true, :t, 'received')"
        ), {"t": T0})  # fmt: skip
        for n, (vessel, price) in enumerate((("km-benoa", 42000), (None, None)), start=1):
            conn.execute(sa.text(
                "INSERT INTO catches (id, tenant_id, fisher_id, vessel_id, species, weight_kg, lat, lon, caught_at, "
                "price_idr_per_kg, port, for_sale, created_at) VALUES (:id, 'dki-jakarta', 3, :v, 'tongkol', 12.5, "
                "-8.8, 115.3, :t, :price, 'Benoa', :sale, :t)"
            ), {"id": n, "v": vessel, "t": T0, "price": price, "sale": price is not None})  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO catch_contact_requests (id, tenant_id, catch_id, from_user_id, message, created_at) "
            "VALUES (1, 'dki-jakarta', 1, 2, 'Masih ada 10 kg?', :t)"
        ), {"t": T0})  # fmt: skip


def test_an_ff0002_database_upgrades_keeping_every_row_and_gives_known_ports_their_position(
    f93509f_state: Engine,
) -> None:
    _ff0002_database(f93509f_state)
    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "ff0002"  # 0003 is what ff0002 depends on
    before = table_contents(f93509f_state, tuple(FF0002_TABLES), FF0002_TABLES)
    assert {t: len(rows) for t, rows in before.items()} == {
        "vessels": 4, "vessel_positions": 4, "school_sightings": 4, "sos_calls": 1, "catches": 2,
        "catch_contact_requests": 1,
    }  # fmt: skip

    upgrade = upgrade_database(f93509f_state)

    assert (upgrade.before, upgrade.after) == ("ff0002", "0007,bg0001,ff0005,wb0001")
    assert table_contents(f93509f_state, tuple(FF0002_TABLES), FF0002_TABLES) == before
    with f93509f_state.connect() as conn:
        homes = {v: (lat, lon) for v, lat, lon in conn.execute(sa.text("SELECT id, home_lat, home_lon FROM vessels"))}
    assert homes == {vessel: home for vessel, _, home in VESSELS}
    with f93509f_state.connect() as conn:  # ff0004's 15 kn stand-in is none registered (0) from ff0005
        winds = dict(conn.execute(sa.text("SELECT id, wind_limit_kn FROM vessels")).all())
    assert winds == {vessel: 0.0 for vessel, _, _ in VESSELS}
    with f93509f_state.begin() as conn:  # a catch's position can now be erased
        conn.execute(sa.text("UPDATE catches SET lat = NULL, lon = NULL WHERE id = 1"))
    assert upgrade_database(f93509f_state).changed is False


def test_ff0003_goes_back_to_ff0002_while_no_catch_lost_its_position(f93509f_state: Engine) -> None:
    from alembic import command

    _ff0002_database(f93509f_state)
    before = table_contents(f93509f_state, tuple(FF0002_TABLES), FF0002_TABLES)
    upgrade_database(f93509f_state)
    with f93509f_state.begin() as conn:
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "ff0002")
    assert table_contents(f93509f_state, tuple(FF0002_TABLES), FF0002_TABLES) == before
    upgrade_database(f93509f_state)
    with f93509f_state.begin() as conn:
        conn.execute(sa.text("UPDATE catches SET lat = NULL, lon = NULL WHERE id = 1"))
    with pytest.raises(RuntimeError, match="no position"), f93509f_state.begin() as conn:
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "ff0002")


def test_ff0004_goes_back_to_ff0003_and_up_again_keeping_every_row(f93509f_state: Engine) -> None:
    """A wind limit registered at ff0004 goes with the column; every ff0002 row stays through
    down and up, and vessels get none registered again."""
    from alembic import command

    _ff0002_database(f93509f_state)
    before = table_contents(f93509f_state, tuple(FF0002_TABLES), FF0002_TABLES)
    upgrade_database(f93509f_state)
    with f93509f_state.begin() as conn:
        conn.execute(sa.text("UPDATE vessels SET wind_limit_kn = 20 WHERE id = 'km-benoa'"))
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "ff0003")
    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "0007,bg0001,ff0003,wb0001"  # the other branches stay where they are
        columns = {c["name"] for c in sa.inspect(conn).get_columns("vessels")}
    assert "wind_limit_kn" not in columns
    assert table_contents(f93509f_state, tuple(FF0002_TABLES), FF0002_TABLES) == before
    assert upgrade_database(f93509f_state).after == "0007,bg0001,ff0005,wb0001"
    with f93509f_state.connect() as conn:  # ff0004's 15 kn, none registered from ff0005
        assert set(conn.scalars(sa.text("SELECT wind_limit_kn FROM vessels"))) == {0.0}


def test_ff0005_reads_ff0004_s_stand_in_as_none_registered_and_goes_back(f93509f_state: Engine) -> None:
    """At ff0004 every vessel has 15 kn (its stand-in) unless registered otherwise: ff0005 makes
    the stand-in 0 (none registered: routes take the tenant's small-boat limit) and keeps a
    registered 20 kn; down again, the unregistered get 15 kn back."""
    from alembic import command

    _ff0002_database(f93509f_state)
    upgrade_database(f93509f_state)
    with f93509f_state.begin() as conn:
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "ff0004")
        conn.execute(sa.text("UPDATE vessels SET wind_limit_kn = 20 WHERE id = 'km-benoa'"))
    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "0007,bg0001,ff0004,wb0001"
        assert set(conn.scalars(sa.text("SELECT wind_limit_kn FROM vessels WHERE id != 'km-benoa'"))) == {15.0}
    assert upgrade_database(f93509f_state).after == "0007,bg0001,ff0005,wb0001"
    with f93509f_state.connect() as conn:
        winds = dict(conn.execute(sa.text("SELECT id, wind_limit_kn FROM vessels")).all())
    assert winds == {vessel: 20.0 if vessel == "km-benoa" else 0.0 for vessel, _, _ in VESSELS}
    with f93509f_state.begin() as conn:
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "ff0004")
    with f93509f_state.connect() as conn:
        winds = dict(conn.execute(sa.text("SELECT id, wind_limit_kn FROM vessels")).all())
    assert winds == {vessel: 20.0 if vessel == "km-benoa" else 15.0 for vessel, _, _ in VESSELS}
