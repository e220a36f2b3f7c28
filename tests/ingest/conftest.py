"""Fixtures of the ingest tests: a prepared state store on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine

from central.db import prepare_database
from core.config import TepiConfig

if TYPE_CHECKING:
    from conftest import StateTemplates


@pytest.fixture
def engine(database_url: str, default_config: TepiConfig, state_templates: StateTemplates) -> Iterator[Engine]:
    """The test's own state store, prepared (schema and registry): a copy of one prepared once."""
    eng = state_templates.engine(
        database_url, ("prepared", default_config.model_dump_json()), lambda e: prepare_database(e, default_config)
    )
    yield eng
    state_templates.release(eng)
