"""The `users.role` check constraint, for revisions that admit or retire a role.

Why a shared function: more than one branch of revisions changes the set of roles (central
0005 adds `employee`; a kind's branch may add its own, as fishfinder's ff0002 adds
`fisheries_office`), and Alembic runs independent branches in no promised order. A revision
that rewrote the constraint to a fixed list would take away the roles another branch admitted
before it ran; so each revision reads the roles the constraint admits now, adds or removes its
own, and writes them back sorted (the order `central.models.ROLES` keeps).

SQLite cannot alter a constraint, and copying `users` (Alembic's batch mode) would drop a table
that API keys and other tables reference while foreign keys are enforced (they cannot be
switched off inside the upgrade's transaction). A constraint that only admits more values
changes nothing stored, so on SQLite the table's recorded definition is rewritten in place, as
SQLite documents for changing CHECK constraints
(https://www.sqlite.org/lang_altertable.html#otheralter: writable_schema, schema_version bumped,
integrity check). Removing a role is refused while a user has it.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

CONSTRAINT = "ck_users_role"
_IN_LIST = re.compile(r"role IN \(([^)]*)\)")
_QUOTED = re.compile(r"'([a-z_]+)'")


def current_roles(conn: sa.Connection) -> tuple[str, ...]:
    """The roles `users.role`'s check constraint admits now, sorted."""
    if conn.dialect.name == "sqlite":
        m = _IN_LIST.search(_sqlite_users_sql(conn))
        if m is None:
            raise RuntimeError("users has no role check constraint: not a schema Tepi's revisions made")
        return tuple(sorted(_QUOTED.findall(m[1])))
    definition = conn.scalar(
        sa.text(
            "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c WHERE c.conname = :name "
            "AND c.conrelid = to_regclass('users')"
        ),
        {"name": CONSTRAINT},
    )
    if definition is None:
        raise RuntimeError("users has no role check constraint: not a schema Tepi's revisions made")
    return tuple(sorted(set(_QUOTED.findall(definition))))


def admit_role(conn: sa.Connection, role: str) -> None:
    """Let `users.role` take `role` too (nothing happens when it already does)."""
    roles = current_roles(conn)
    if role not in roles:
        _write(conn, tuple(sorted({*roles, role})))


def retire_role(conn: sa.Connection, role: str) -> None:
    """Stop `users.role` taking `role`; `RuntimeError` while a user has it (give them another first)."""
    left = conn.scalar(sa.text("SELECT count(*) FROM users WHERE role = :role"), {"role": role})
    if left:
        raise RuntimeError(f"{left} users have the {role} role: give them another role first")
    roles = current_roles(conn)
    if role in roles:
        _write(conn, tuple(r for r in roles if r != role))


def _sqlite_users_sql(conn: sa.Connection) -> str:
    sql = conn.scalar(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'"))
    if sql is None:
        raise RuntimeError("no users table")
    return str(sql)


def _in_list(roles: tuple[str, ...]) -> str:
    """`role IN ('a', 'b')`, as `central.models` writes it (a tuple's repr)."""
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def _write(conn: sa.Connection, after: tuple[str, ...]) -> None:
    if conn.dialect.name != "sqlite":
        conn.exec_driver_sql(f"ALTER TABLE users DROP CONSTRAINT {CONSTRAINT}")
        conn.exec_driver_sql(f"ALTER TABLE users ADD CONSTRAINT {CONSTRAINT} CHECK ({_in_list(after)})")
        return
    sql = _sqlite_users_sql(conn)
    matches = list(_IN_LIST.finditer(sql))
    if len(matches) != 1:
        raise RuntimeError("users has not exactly one role check constraint: not a schema Tepi's revisions made")
    m = matches[0]
    new = sql[: m.start()] + _in_list(after) + sql[m.end():]
    version = int(conn.scalar(sa.text("PRAGMA schema_version")))
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'users'"), {"sql": new})
    conn.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise RuntimeError(f"integrity check after changing users.role's constraint: {problems[:5]}")
