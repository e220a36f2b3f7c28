"""Alembic environment of the state database (see central/schema.py, which runs it).

Tepi hands its own connection in `config.attributes["connection"]`, inside a transaction that
holds the preparation lock, so an upgrade, the version stamp and the registry sync commit
together or not at all. From the command line (developers writing a revision):

    alembic -n state -x url=sqlite:////tmp/head.db upgrade head    # a scratch database at head
    alembic -n state -x url=sqlite:////tmp/head.db revision --autogenerate --rev-id 0002 -m "what changes"
"""

from __future__ import annotations

from alembic import context

from central.models import Base
from core.migrations import run_migrations

run_migrations(context, Base.metadata)
