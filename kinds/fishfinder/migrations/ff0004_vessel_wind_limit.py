"""A vessel's wind limit, for safe routes.

Revision ID: ff0004
Revises: ff0003
Create Date: 2026-12-28

* `vessels.wind_limit_kn` (not null, default 15): the strongest wind (knots) the boat should
  be out in. Routes keep a boat out of forecast weather above its wave or wind limit
  (`kinds.fishfinder.sea_weather`). Vessels registered before get 15 kn, BMKG's limit for
  small fishing boats (its maritime warnings count wind above 15 knots as dangerous for them,
  https://maritim.bmkg.go.id; `core.config_model.SeaConfig.small_boat_wind_kn`), until an
  operator registers their own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ff0004"
down_revision = "ff0003"
branch_labels = None
depends_on = None

#: BMKG's small-boat wind limit, knots: what vessels registered before this revision get.
SMALL_BOAT_WIND_KN = 15.0


def upgrade() -> None:
    op.add_column(
        "vessels",
        sa.Column("wind_limit_kn", sa.Double(), nullable=False, server_default=sa.text(str(SMALL_BOAT_WIND_KN))),
    )


def downgrade() -> None:
    op.drop_column("vessels", "wind_limit_kn")
