"""A vessel's home position; a catch's position can be erased.

Revision ID: ff0003
Revises: ff0002
Create Date: 2026-12-21

* `vessels.home_lat`, `vessels.home_lon` (nullable): where the vessel's home port is, for the
  overdue check (`kinds.fishfinder.ingest.overdue`), which until now looked the port up by name
  in the simulator's harbour table. Vessels registered with a home port of that table get the
  quay position the check used (`HOME_BEFORE_FF0003`, frozen here as it was). The check also
  took a boat within 1 km of the simulator's offing as home; only the quay is kept, so a
  Kedonganan boat (offing 1.35 km out) is home once it nears the quay. Any other vessel has none (at sea only as its owner declares)
  until an operator gives it (`tepi admin vessel add ... --home-lat --home-lon`).
* `catches.lat`, `catches.lon` become nullable: retention erases a catch's position after
  `retention.position_days` and keeps the rest (`kinds.fishfinder.state.enforce_retention`).
  On SQLite, as revision ff0002 did for a CHECK constraint and for the same reason (copying
  `catches` would drop a table `catch_contact_requests` references), the table's recorded
  definition is rewritten in place: removing a NOT NULL constraint changes nothing stored
  (https://www.sqlite.org/lang_altertable.html#otheralter).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ff0003"
down_revision = "ff0002"
branch_labels = None
depends_on = None

#: The home port names and keys the overdue check knew before this revision, and the quay
#: position it used for each (kinds/fishfinder/sim/harbours.py at ff0002).
HOME_BEFORE_FF0003: dict[tuple[str, str], tuple[float, float]] = {
    ("benoa", "pelabuhan benoa (fishing port, west side)"): (-8.7394, 115.2083),
    ("kedonganan", "pantai kedonganan (fish market beach)"): (-8.7570, 115.1690),
    ("jimbaran", "pantai jimbaran (fishing beach)"): (-8.7700, 115.1650),
    ("karangsong", "pelabuhan perikanan karangsong"): (-6.3100, 108.3700),
}
_CATCH_COLUMNS = ("lat", "lon")


def _catch_positions_nullable(nullable: bool) -> None:
    bind = op.get_bind()
    if not nullable:
        erased = bind.scalar(sa.text("SELECT count(*) FROM catches WHERE lat IS NULL OR lon IS NULL"))
        if erased:
            raise RuntimeError(f"{erased} catches have no position (erased by retention): they cannot be NOT NULL again")
    if bind.dialect.name != "sqlite":
        for column in _CATCH_COLUMNS:
            op.alter_column("catches", column, existing_type=sa.Double(), nullable=nullable)
        return
    sql = bind.scalar(sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'catches'"))
    for column in _CATCH_COLUMNS:
        strict, loose = f"\t{column} DOUBLE NOT NULL, \n", f"\t{column} DOUBLE, \n"
        old, new = (strict, loose) if nullable else (loose, strict)
        if sql is None or sql.count(old) != 1:
            raise RuntimeError(f"catches has no column definition {old.strip()!r}: not a schema this revision knows")
        sql = sql.replace(old, new)
    version = int(bind.scalar(sa.text("PRAGMA schema_version")))
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type = 'table' AND name = 'catches'"), {"sql": sql})
    bind.exec_driver_sql(f"PRAGMA schema_version = {version + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = [row[0] for row in bind.exec_driver_sql("PRAGMA integrity_check")]
    if problems != ["ok"]:
        raise RuntimeError(f"integrity check after changing catches' positions: {problems[:5]}")


def upgrade() -> None:
    op.add_column("vessels", sa.Column("home_lat", sa.Double(), nullable=True))
    op.add_column("vessels", sa.Column("home_lon", sa.Double(), nullable=True))
    vessels = sa.table("vessels", sa.column("home_port"), sa.column("home_lat"), sa.column("home_lon"))
    for names, (lat, lon) in HOME_BEFORE_FF0003.items():
        op.execute(
            vessels.update()
            .where(sa.func.lower(sa.func.trim(vessels.c.home_port)).in_(names))
            .values(home_lat=lat, home_lon=lon)
        )
    _catch_positions_nullable(True)


def downgrade() -> None:
    _catch_positions_nullable(False)
    op.drop_column("vessels", "home_lon")
    op.drop_column("vessels", "home_lat")
