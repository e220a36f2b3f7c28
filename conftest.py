"""Shared fixtures: real Mosquitto, VictoriaMetrics and PostgreSQL, on loopback, per test session.

The API fixtures (a state store with the river story, users with keys, clients) are a plugin,
`tests/api/api_fixtures.py`, so that the API tests of each kind (`kinds/<name>/tests`) use the
same ones as the generic API tests; its directory is put on the import path, so tests import
its neighbours (`api_people`, `river_story`) by name wherever they live.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.config import TepiConfig, load_config
from core.processes import Mosquitto, VictoriaMetrics

_API_TEST_SUPPORT = str(Path(__file__).parent / "tests" / "api")
if _API_TEST_SUPPORT not in sys.path:
    sys.path.insert(0, _API_TEST_SUPPORT)
pytest_plugins = ["api_fixtures"]

POSTGRES_URL = os.environ.get("TEPI_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def default_config() -> TepiConfig:
    return load_config()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh broker per test: fault tests stop and restart it."""
    if not Mosquitto.available():
        pytest.fail("mosquitto is not installed: run `make test`, which installs it")
    broker = Mosquitto(workdir=tmp_path / "mosquitto").start()
    yield broker
    broker.close()


@pytest.fixture(scope="session")
def victoria_metrics(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaMetrics]:
    if not VictoriaMetrics.available():
        pytest.fail("victoria-metrics is not installed: run `make test`, which installs it")
    vm = VictoriaMetrics(workdir=tmp_path_factory.mktemp("vm")).start()
    yield vm
    vm.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every state-store test runs on the embedded default and on the production database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}")
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Expose each phase's report on the test item, so fixtures can dump process logs on failure."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
