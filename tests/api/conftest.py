"""Fixtures of the API tests: a state store filled through the ingest service, and a client."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator

import pytest
from prometheus_client import CollectorRegistry
from river_story import alert_story, depok_history, manggarai_history
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.main import create_app
from api.settings import Settings
from api.testing import serve
from ingest.db import create_engine, prepare_database, writer
from ingest.points import SqlPointSink
from ingest.service import apply_batch
from tepi.config import TepiConfig

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice about httpx vs httpx2
    from fastapi.testclient import TestClient


@pytest.fixture
def engine(database_url: str, default_config: TepiConfig) -> Iterator[Engine]:
    eng = create_engine(database_url)
    prepare_database(eng, default_config)
    with Session(writer(eng)) as s, s.begin():
        for b in [*alert_story(), depok_history(), manggarai_history()]:
            apply_batch(s, b, SqlPointSink(s))
    yield eng
    eng.dispose()


ClientFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(database_url: str, default_config: TepiConfig, engine: Engine) -> Iterator[ClientFactory]:
    """Starts an app (lifespan included) over the populated database with the given settings."""
    clients: list[TestClient] = []

    def make(**settings: object) -> TestClient:
        settings_ = Settings(database_url=database_url, **settings)  # type: ignore[arg-type]
        app = create_app(default_config, settings_, registry=CollectorRegistry())
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client(level_store="sql")


@pytest.fixture
def live_api(database_url: str, default_config: TepiConfig, engine: Engine) -> Iterator[str]:
    """The API on a real uvicorn (the stream never ends, so it needs a real server), polling fast."""
    settings = Settings(database_url=database_url, stream_poll_s=0.05, stream_heartbeat_s=0.3)
    with serve(create_app(default_config, settings, registry=CollectorRegistry())) as url:
        yield url
