"""Alerts of any kind: `kind` and `subject` on alerts and their events; alerts without a station.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08

Until now every alert was a river station's. A boat's SOS incident or an overdue vessel is an
alert of kind `fishfinder` whose subject is a vessel, not a station (issue 19, decision 2), so:

* `alerts.kind` (default 'awlr') and `alerts.subject` (the platform: station or vessel id),
  backfilled from `station_id` for every alert already there; `alerts.station_id` nullable.
* `alert_events.alert_kind` and `alert_events.subject`, the same for the event log. The event
  table's own `kind` column already names the change (opened, acknowledged, ...), so the alert's
  kind is `alert_kind` there, next to `alert_type`; `alert_events.station_id` nullable.
* At most one open alert per (kind, subject, type), instead of per (station, type): for the
  river the same rule, as its subject is its station.

SQLite alters a column's nullability only by copying the table (Alembic's batch mode): the
one-open index is dropped first and made again after, as its partial WHERE clause must not
depend on reflection; the event log is moved aside meanwhile (see `_park_events`) and keeps its
AUTOINCREMENT counter (its sequence is a stream cursor).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OPEN_SQL = sa.text("status IN ('active', 'acknowledged')")


TIMESTAMP = sa.DateTime(timezone=True)
_OLD_EVENT_COLUMNS = (
    "seq, alert_id, tenant_id, station_id, alert_type, kind, revision, at, recorded_at, who, payload"
)


def upgrade() -> None:
    op.drop_index("uq_alerts_one_open_per_station_type", table_name="alerts")
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        events_sequence = _park_events()
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="awlr"))
        batch.add_column(sa.Column("subject", sa.String(64), nullable=True))
    op.execute("UPDATE alerts SET subject = station_id")
    with op.batch_alter_table("alerts") as batch:
        batch.alter_column("subject", existing_type=sa.String(64), nullable=False)
        batch.alter_column("station_id", existing_type=sa.String(64), nullable=True)
    op.create_index(
        "uq_alerts_one_open_per_subject_type", "alerts", ["kind", "subject", "type"], unique=True,
        sqlite_where=_OPEN_SQL, postgresql_where=_OPEN_SQL,
    )
    op.create_index("ix_alerts_kind_subject", "alerts", ["kind", "subject"])
    if sqlite:
        _restore_events(events_sequence)
        return
    op.add_column("alert_events", sa.Column("alert_kind", sa.String(32), nullable=False, server_default="awlr"))
    op.add_column("alert_events", sa.Column("subject", sa.String(64), nullable=True))
    op.execute("UPDATE alert_events SET subject = station_id")
    op.alter_column("alert_events", "subject", existing_type=sa.String(64), nullable=False)
    op.alter_column("alert_events", "station_id", existing_type=sa.String(64), nullable=True)


def _park_events() -> int | None:
    """SQLite: move the event log aside (a plain copy, no foreign key) and drop its table.

    Copying `alerts` means dropping it, and SQLite refuses to drop a table other rows refer to
    while foreign keys are enforced (they are, and cannot be switched off inside the upgrade's
    transaction). Returns the log's AUTOINCREMENT counter, which dropping the table forgets."""
    bind = op.get_bind()
    sequence = bind.scalar(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'alert_events'"))
    op.execute(f"CREATE TABLE _alert_events_0003 AS SELECT {_OLD_EVENT_COLUMNS} FROM alert_events")
    op.drop_index("ix_alert_events_alert_seq", table_name="alert_events")
    op.drop_table("alert_events")
    return int(sequence) if sequence is not None else None


def _restore_events(sequence: int | None) -> None:
    op.create_table(
        "alert_events",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=True),
        sa.Column("alert_type", sa.String(length=32), nullable=False),
        sa.Column("alert_kind", sa.String(length=32), nullable=False, server_default="awlr"),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("who", sa.String(length=200), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('opened', 'updated', 'escalated', 'acknowledged', 'cleared', 'closed', 'forecast_refined', 'cancelled')",
            name="ck_alert_events_kind",
        ),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_alert_events_alert_seq", "alert_events", ["alert_id", "seq"], unique=False)
    op.execute(
        f"INSERT INTO alert_events ({_OLD_EVENT_COLUMNS}, alert_kind, subject) "
        f"SELECT {_OLD_EVENT_COLUMNS}, 'awlr', station_id FROM _alert_events_0003 ORDER BY seq"
    )
    op.drop_table("_alert_events_0003")
    if sequence is not None:
        # Sequence numbers are stream cursors: never hand out one an earlier event had.
        op.execute(f"DELETE FROM sqlite_sequence WHERE name = 'alert_events'")
        op.execute(f"INSERT INTO sqlite_sequence (name, seq) VALUES ('alert_events', {int(sequence)})")


def downgrade() -> None:
    raise NotImplementedError("0003 is not undone: restore the backup taken before the upgrade")
