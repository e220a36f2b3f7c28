"""A state database from before the buoy kind (central 0003 and the fish-finder's ff0003, with
rows in every table of theirs) gains the kind's `wave_buoys` (revision wb0001) with every row
intact, and loses it again on a downgrade of the kind's branch, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from earlier_releases import table_contents
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import sync_registry, upgrade_database, writer
from central.schema import F93509F_TABLES, MIGRATIONS, kind_branches, schema_version
from core.config import parse_config
from core.migrations import alembic_config

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)
KEPT = {**F93509F_TABLES, "vessels": ("id", "tenant_id", "name", "home_lat", "home_lon"), "vessel_positions": ("id", "vessel_id", "ts", "lat")}


def _before_buoys(engine: Engine) -> None:
    from alembic import command

    with engine.begin() as conn:  # f93509f's database is revision 0001 unstamped
        config = alembic_config(MIGRATIONS, conn, kind_branches())
        command.stamp(config, "0001")
        command.upgrade(config, "ff0003")
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO vessels (id, tenant_id, name, owner_user, home_port, home_lat, home_lon, gt, speed_kn, "
            "fuel_l_per_h, wave_limit_m, gateway_id, silent_limit_s, at_sea, created_at) VALUES ('km-benoa', "
            "'dki-jakarta', 'KM BENOA', NULL, 'Benoa', -8.74, 115.21, 4.5, 7.0, 5.5, 1.5, 'gw-km-benoa', 21600, false, :t)"
        ), {"t": T0})  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO vessel_positions (tenant_id, vessel_id, ts, lat, lon, distress) "
            "VALUES ('dki-jakarta', 'km-benoa', :t, -8.8, 115.3, false)"
        ), {"t": T0})


def test_a_database_before_buoys_gains_their_table_with_every_row_intact_and_loses_it_on_downgrade(f93509f_state: Engine) -> None:
    from alembic import command

    _before_buoys(f93509f_state)
    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "ff0003"  # 0003 is what ff0003 depends on
    before = table_contents(f93509f_state, tuple(KEPT), KEPT)

    upgrade = upgrade_database(f93509f_state)

    assert (upgrade.before, upgrade.after) == ("ff0003", "0007,bg0001,ff0005,wb0001")
    assert table_contents(f93509f_state, tuple(KEPT), KEPT) == before
    config = parse_config({
        "tenants": [{"id": "dki-jakarta", "name": "BPBD Provinsi DKI Jakarta"}], "stations": [], "devices": [],
        "gateway": {"id": "gw-1", "tenant": "dki-jakarta"},
        "buoys": [{"id": "wb-seribu", "tenant": "dki-jakarta", "name": "Pulau Seribu", "lat": -5.75, "lon": 106.6}],
    })
    with Session(writer(f93509f_state)) as s, s.begin():
        sync_registry(s, config)
    assert table_contents(f93509f_state, ("wave_buoys",), {"wave_buoys": ("id", "tenant_id", "name", "lat", "lon", "observed_at")}) == {
        "wave_buoys": [("wb-seribu", "dki-jakarta", "Pulau Seribu", -5.75, 106.6, None)],
    }
    assert upgrade_database(f93509f_state).changed is False

    with f93509f_state.begin() as conn:
        command.downgrade(alembic_config(MIGRATIONS, conn, kind_branches()), "wavebuoy@base")
    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "0007,bg0001,ff0005"  # 0007 (after 0006) and bg0001 depend on 0005; ff0005 on 0003 (through ff0004), not on 0004
        assert "wave_buoys" not in sa.inspect(conn).get_table_names()
    assert table_contents(f93509f_state, tuple(KEPT), KEPT) == before
