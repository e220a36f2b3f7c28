"""A wind limit of 0 is none registered, as a wave limit of 0 already was.

Revision ID: ff0005
Revises: ff0004
Create Date: 2026-12-29

Routes take a vessel's limits as registered and, where none is, the tenant's small-boat limits
(`core.config_model.SeaConfig.small_boat_wave_m` / `small_boat_wind_kn`, BMKG's 1.25 m and 15
kn by default; `kinds.fishfinder.api.route_service`). A wave limit of 0 always meant "none
registered"; ff0004 gave every vessel a wind limit of 15 kn instead, so a tenant that set its
own small-boat wind limit did not reach its boats. From here `vessels.wind_limit_kn` = 0 is
none registered, what `tepi admin vessel add/import` store when no limit is given, and every
15 kn ff0004 wrote becomes 0 (a boat registered with exactly 15 kn on purpose then reads the
tenant's limit, 15 kn unless the tenant says otherwise). The column's server default stays 15:
changing it on SQLite means rewriting the table's definition (see ff0003), and every insert
Tepi makes gives the value. Downgrading gives the unregistered ones ff0004's 15 kn back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ff0005"
down_revision = "ff0004"
branch_labels = None
depends_on = None

#: ff0004's stand-in for "none registered", knots.
FF0004_WIND_KN = 15.0


def upgrade() -> None:
    op.execute(sa.text("UPDATE vessels SET wind_limit_kn = 0 WHERE wind_limit_kn = :kn").bindparams(kn=FF0004_WIND_KN))


def downgrade() -> None:
    op.execute(sa.text("UPDATE vessels SET wind_limit_kn = :kn WHERE wind_limit_kn = 0").bindparams(kn=FF0004_WIND_KN))
