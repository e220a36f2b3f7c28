"""Fixtures of the API tests: a state store filled through the ingest service, users with keys, clients.

The store holds DKI Jakarta's river story and Kabupaten Badung's (another tenant); clients act
as a DKI Jakarta user unless told otherwise, so every test also checks that Badung stays apart.

A plugin (registered by the repository's root conftest.py), not a conftest of tests/api: the
river's API tests in kinds/awlr/tests use the same fixtures. A conftest closer to a test
overrides a fixture of the same name (tests/ingest has its own `engine`). The heavy imports
(the app, ingest and the river's sink) happen when a fixture runs, so test runs that use none
of these (the gateway's) do not import them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from typing import TYPE_CHECKING

from api_people import DKI, OFFICER, PEOPLE, ClientFactory, app_settings
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, bearer, issue_keys, serve
from central.db import prepare_database, writer
from core.config import TepiConfig

if TYPE_CHECKING:
    from conftest import StateTemplates
    from fastapi.testclient import TestClient
    from typer.testing import CliRunner


def _test_client() -> type[TestClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette's notice about httpx vs httpx2
        from fastapi.testclient import TestClient
    return TestClient


@pytest.fixture
def engine(
    request: pytest.FixtureRequest, database_url: str, default_config: TepiConfig, state_templates: StateTemplates
) -> Iterator[Engine]:
    """The test's own state store with the river story, and `PEOPLE` with their keys when the test
    uses `keys`: a copy of the one built once per session for this configuration (`StateTemplates`)."""
    with_people = "keys" in request.fixturenames

    def build(eng: Engine) -> dict[tuple[str, str], str] | None:
        from river_story import alert_story, badung_story, depok_history, manggarai_history

        from ingest.service import apply_batch
        from kinds.awlr.ingest.points import SqlPointSink

        prepare_database(eng, default_config)
        with Session(writer(eng)) as s, s.begin():
            for b in [*alert_story(), depok_history(), manggarai_history(), badung_story()]:
                apply_batch(s, b, SqlPointSink(s))
        return issue_keys(eng, TEST_PEPPER, PEOPLE) if with_people else None

    state = "river story and people" if with_people else "river story"
    eng = state_templates.engine(database_url, (state, default_config.model_dump_json()), build)
    yield eng
    state_templates.release(eng)


@pytest.fixture
def keys(engine: Engine, state_templates: StateTemplates) -> dict[tuple[str, str], str]:
    """{(tenant, user name): API key} of `PEOPLE` (issued with the story: see `engine`)."""
    return dict(state_templates.result(engine))  # type: ignore[call-overload]


@pytest.fixture
def make_client(
    database_url: str, default_config: TepiConfig, engine: Engine, keys: dict[tuple[str, str], str]
) -> Iterator[ClientFactory]:
    """Starts an app (lifespan included) over the populated database with the given settings.

    `as_user=(tenant, name)` picks whose key the client sends (default: DKI's duty officer);
    `as_user=None` sends none. Clients asked for with the same settings are users of one app, as
    in a deployment (an app takes ~0.2 s to build and serve its first request): each sends its own
    key, through the event loop of the first, which runs the app's lifespan.
    """
    from api.main import create_app

    test_client = _test_client()
    running: dict[str, TestClient] = {}

    def make(as_user: tuple[str, str] | None = (DKI, OFFICER), **settings: object) -> TestClient:
        headers = bearer(keys[as_user]) if as_user is not None else None
        same = repr(sorted(settings.items()))
        if same in running:
            client = test_client(running[same].app, headers=headers)
            client.portal = running[same].portal
            return client
        app = create_app(default_config, app_settings(database_url, **settings), registry=CollectorRegistry())
        client = test_client(app, headers=headers)
        client.__enter__()
        running[same] = client
        return client

    yield make
    for c in running.values():
        c.__exit__(None, None, None)


@pytest.fixture
def client(make_client: ClientFactory) -> TestClient:
    return make_client(level_store="sql")


@pytest.fixture
def anonymous(make_client: ClientFactory) -> TestClient:
    return make_client(as_user=None, level_store="sql")


@pytest.fixture
def live_api(database_url: str, default_config: TepiConfig, engine: Engine) -> Iterator[str]:
    """The API on a real uvicorn (the stream never ends, so it needs a real server), polling fast."""
    from api.main import create_app

    settings = app_settings(database_url, stream_poll_s=0.05, stream_heartbeat_s=0.3)
    with serve(create_app(default_config, settings, registry=CollectorRegistry())) as url:
        yield url


@pytest.fixture
def officer(keys: dict[tuple[str, str], str]) -> dict[str, str]:
    """Headers of DKI Jakarta's duty officer."""
    return bearer(keys[(DKI, OFFICER)])


@pytest.fixture
def operator(database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """The platform operator at `tepi admin` on `engine`'s database: production mode with the
    API's pepper (what every admin command needs) and no other TEPI_ setting of the environment."""
    import os

    from typer.testing import CliRunner

    for name in [n for n in os.environ if n.startswith("TEPI_")]:
        monkeypatch.delenv(name)
    for name, value in {"TEPI_DATABASE_URL": database_url, "TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_MODE": "production"}.items():
        monkeypatch.setenv(name, value)
    return CliRunner()
