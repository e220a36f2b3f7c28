"""Alerts keep the time of the level they show, and offline alerts the station's clock at opening.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07

* `alerts.last_level_at`: the device time of `last_level_cm`, which open alerts now keep at the
  station's newest reading (issue 18: an alert showed 202.4 cm while the river stood at 250).
* `alerts.opened_device_at`: for an offline alert, the station's clock when it opened; only a
  reading taken after it clears the alert, so a gateway flushing a silent station's stale last
  window no longer clears it (issue 18: the offline alert flapped).

Both are null for the rows already there: their times were never recorded, and guessing them
would put words in old alerts' mouths. Null means unknown: an open alert then takes the next
reading's level, and an open offline alert clears on anything that arrives, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Timestamps: `central.models.UtcDateTime` stores them as this type on both backends.
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("alerts", sa.Column("last_level_at", TIMESTAMP, nullable=True))
    op.add_column("alerts", sa.Column("opened_device_at", TIMESTAMP, nullable=True))


def downgrade() -> None:
    op.drop_column("alerts", "opened_device_at")
    op.drop_column("alerts", "last_level_at")
