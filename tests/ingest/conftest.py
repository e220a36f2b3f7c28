"""Fixtures of the ingest tests: a prepared state store on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from central.db import create_engine, prepare_database
from core.config import TepiConfig


@pytest.fixture
def engine(database_url: str, default_config: TepiConfig) -> Iterator[Engine]:
    eng = create_engine(database_url)
    prepare_database(eng, default_config)
    yield eng
    eng.dispose()
