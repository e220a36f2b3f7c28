"""The river's level store for the lifetime of an API app, and the dependency routes ask it from.

The store (the TSDB when one is configured, else the embedded `level_points`) is the river's:
the generic app knows nothing of it. The kind's router carries this lifespan, which FastAPI
runs inside the app's own once the router is mounted (after the app has checked or prepared the
database, before the first request), so a store that cannot be used stops the start-up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session, sessionmaker

from api.errors import StartupError
from api.settings import Settings
from core.config import TepiConfig
from kinds.awlr.api.levels import LevelStore, PromLevelStore, SqlLevelStore

log = logging.getLogger(__name__)


def build_level_store(config: TepiConfig, settings: Settings, sessions: sessionmaker[Session]) -> LevelStore:
    """The TSDB when one is configured (or demanded), else the embedded `level_points`."""
    query_url = settings.effective_query_url(config)
    if settings.level_store == "tsdb" and query_url is None:
        raise StartupError("level_store=tsdb but no TSDB URL in settings (TEPI_TSDB_URL) or config (ingest.tsdb)")
    if settings.level_store != "sql" and query_url is not None:
        return PromLevelStore(query_url, timeout_s=settings.tsdb_timeout_s)
    return SqlLevelStore(sessions)


@asynccontextmanager
async def level_store_lifespan(app: FastAPI) -> AsyncIterator[None]:
    store = build_level_store(app.state.config, app.state.settings, sessionmaker(bind=app.state.engine))
    app.state.awlr_level_store = store
    log.info("river level store ready", extra={"level_store": store.source})
    try:
        yield
    finally:
        store.close()


def get_level_store(request: Request) -> LevelStore:
    store: LevelStore = request.app.state.awlr_level_store
    return store


LevelStoreDep = Annotated[LevelStore, Depends(get_level_store)]
