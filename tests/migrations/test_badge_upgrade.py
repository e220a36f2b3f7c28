"""A state database of the release before attendance badges (central 0004, the fish-finder's
ff0005, the buoy's wb0001, with rows in every table f93509f made and a fisheries-office user)
gains the role `employee` (central 0005) and the badge kind's tables (bg0001) with every row
intact, and goes back again, on SQLite and PostgreSQL. Whichever branch changes the role
constraint first, the roles the other admitted stay."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from earlier_releases import table_contents
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from central.db import upgrade_database
from central.role_constraint import current_roles
from central.schema import F93509F_TABLES, MIGRATIONS, kind_branches, schema_version
from core.migrations import alembic_config

T0 = datetime(2027, 1, 4, 1, 0, tzinfo=timezone.utc)
BADGE_TABLES = (
    "offices", "attendance_tenants", "employees", "badges", "presence_events", "security_events",
    "leave_requests", "attendance_corrections", "activities", "record_views",
)  # fmt: skip
HEAD = "0007,bg0001,ff0005,wb0001"


def _alembic(engine: Engine, step: str, target: str) -> None:
    from alembic import command

    with engine.begin() as conn:
        getattr(command, step)(alembic_config(MIGRATIONS, conn, kind_branches()), target)


def _release_before_badges(engine: Engine) -> None:
    """f93509f's database upgraded as the release before badges left it, with a fisheries office."""
    _alembic(engine, "stamp", "0001")
    for target in ("0004", "ff0005", "wb0001"):
        _alembic(engine, "upgrade", target)
    _add_user(engine, 50, "Dinas Perikanan", "fisheries_office")


def _add_user(engine: Engine, user_id: int, name: str, role: str) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO users (id, tenant_id, name, role, created_at) VALUES (:id, 'dki-jakarta', :name, :role, :t)"
        ), {"id": user_id, "name": name, "role": role, "t": T0})  # fmt: skip


def test_the_release_before_badges_upgrades_keeping_every_row_and_admits_employees(f93509f_state: Engine) -> None:
    _release_before_badges(f93509f_state)
    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "0004,ff0005,wb0001"
    before = table_contents(f93509f_state, columns=F93509F_TABLES)
    with pytest.raises(IntegrityError):
        _add_user(f93509f_state, 51, "Pegawai Dini", "employee")

    upgrade = upgrade_database(f93509f_state)

    assert (upgrade.before, upgrade.after) == ("0004,ff0005,wb0001", HEAD)
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before
    _add_user(f93509f_state, 51, "Pegawai Dini", "employee")
    with f93509f_state.begin() as conn:  # an office, its employee linked to that user, a badge, a leave request
        conn.execute(sa.text(
            "INSERT INTO offices (id, tenant_id, name, lat, lon, require_eid) "
            "VALUES ('bpbd-dki', 'dki-jakarta', 'Kantor BPBD DKI', -6.18, 106.83, true)"
        ))  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO employees (id, tenant_id, nip, name, office_id, user_id, created_at) "
            "VALUES (1, 'dki-jakarta', '198503122010011004', 'Dini', 'bpbd-dki', 51, :t)"
        ), {"t": T0})  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO badges (id, tenant_id, employee_id, format, k, epoch, issued_at) "
            "VALUES ('b0123456789ab', 'dki-jakarta', 1, 'eid', 10, 1798000000, :t)"
        ), {"t": T0})  # fmt: skip
        conn.execute(sa.text(
            "INSERT INTO leave_requests (tenant_id, employee_id, kind, first_day, last_day, reason, status, requested_at) "
            "VALUES ('dki-jakarta', 1, 'cuti', :d, :d, 'keluarga', 'requested', :t)"
        ), {"d": date(2027, 1, 8), "t": T0})  # fmt: skip
    with pytest.raises(IntegrityError), f93509f_state.begin() as conn:  # one badge in use per employee
        conn.execute(sa.text(
            "INSERT INTO badges (id, tenant_id, employee_id, format, issued_at) "
            "VALUES ('b0123456789ac', 'dki-jakarta', 1, 'ibeacon', :t)"
        ), {"t": T0})  # fmt: skip
    assert upgrade_database(f93509f_state).changed is False


def test_the_badge_branch_and_0005_go_back_once_no_user_is_an_employee(f93509f_state: Engine) -> None:
    _release_before_badges(f93509f_state)
    before = table_contents(f93509f_state, columns=F93509F_TABLES)
    upgrade_database(f93509f_state)
    _add_user(f93509f_state, 51, "Pegawai Dini", "employee")

    _alembic(f93509f_state, "downgrade", "badge@base")
    with f93509f_state.connect() as conn:
        assert not set(BADGE_TABLES) & set(sa.inspect(conn).get_table_names())
    with pytest.raises(RuntimeError, match="1 users have the employee role"):
        _alembic(f93509f_state, "downgrade", "0004")
    with f93509f_state.begin() as conn:
        conn.execute(sa.text("DELETE FROM users WHERE id = 51"))
    _alembic(f93509f_state, "downgrade", "0004")

    with f93509f_state.connect() as conn:
        assert schema_version(conn).current == "0004,ff0005,wb0001"
        assert current_roles(conn) == ("admin", "disaster_office", "fisher", "fisheries_office", "staff_admin", "viewer")
    assert table_contents(f93509f_state, columns=F93509F_TABLES) == before
    assert upgrade_database(f93509f_state).after == HEAD


def test_0005_before_ff0002_keeps_the_fisheries_office_role_and_after_it_too(f93509f_state: Engine) -> None:
    """Alembic runs independent branches in no promised order: a database whose central branch
    reached 0005 before the fish-finder's ff0002 ran (or after) admits both roles."""
    _alembic(f93509f_state, "stamp", "0001")
    _alembic(f93509f_state, "upgrade", "0005")
    with f93509f_state.connect() as conn:
        assert "employee" in current_roles(conn) and "fisheries_office" not in current_roles(conn)

    upgrade_database(f93509f_state)

    with f93509f_state.connect() as conn:
        assert current_roles(conn) == (
            "admin", "disaster_office", "employee", "fisher", "fisheries_office", "staff_admin", "viewer",
        )  # fmt: skip
    _add_user(f93509f_state, 50, "Dinas Perikanan", "fisheries_office")
    _add_user(f93509f_state, 51, "Pegawai Dini", "employee")
    with pytest.raises(IntegrityError):
        _add_user(f93509f_state, 52, "Nobody", "superuser")
