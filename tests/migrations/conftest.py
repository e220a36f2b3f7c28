"""Fixtures of the upgrade tests: databases as an earlier release left them (see earlier_releases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from earlier_releases import F93509F, restore_state
from sqlalchemy.engine import Engine

from central.db import create_engine


@pytest.fixture
def f93509f_state(database_url: str) -> Iterator[Engine]:
    """An engine on a state database made by f93509f's code, on both backends."""
    restore_state(F93509F, database_url)
    engine = create_engine(database_url)
    yield engine
    engine.dispose()
