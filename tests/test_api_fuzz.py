"""Bounded property-based fuzzing of the whole API from its OpenAPI document (schemathesis).

Every operation gets generated requests, sent to a real server (uvicorn on loopback) over a
database holding two tenants' data, with a tenant admin's key (the role that may call every
authenticated endpoint). Each response must be: no 5xx, a status code the document lists for
the operation, the documented content type, headers and body schema. The live alert stream
never ends by design and is left out (its parameters are plain integers, tested elsewhere).

Bounded: `MAX_EXAMPLES` per operation keeps the run well under a minute.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, settings
from prometheus_client import CollectorRegistry
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from api import permissions
from api.main import create_app
from central.accounts import create_key, create_user
from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL, bearer, serve
from central.db import create_engine, prepare_database, writer
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise, siaga_change, summary
from core.config import load_config
from badge_matrix import badge_objects

POSTGRES_URL = os.environ.get("TEPI_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MAX_EXAMPLES = 25
METRICS_TOKEN = "fuzz-metrics-token-0123456789abcdefghijkl"
CONFIG = load_config()
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

# The document as the app serves it: building an app connects to nothing.
SCHEMA = schemathesis.openapi.from_dict(
    create_app(CONFIG, Settings(auth_pepper=TEST_PEPPER, public_base_url=TEST_PUBLIC_BASE_URL), registry=CollectorRegistry()).openapi()  # type: ignore[arg-type]
).exclude(path="/api/v1/alerts/stream")


#: Status codes answered, by operation (checked by the last test).
SEEN: dict[str, Counter[int]] = {}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, dict[str, str]]]]:
    """(base URL, headers with a key by role: DKI Jakarta's admin, and a fisher or an employee for
    what only fishers or staff may call) of a server over PostgreSQL with both tenants' data."""
    schema = f"f_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    engine = None
    try:
        engine = create_engine(url)
        prepare_database(engine, CONFIG)
        t0 = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=6)
        gw = "gw-badung"
        with Session(writer(engine)) as s, s.begin():
            for b in [
                batch([summary("depok", t0 + timedelta(minutes=10 * i), 150.0 + i) for i in range(12)]),
                batch([siaga_change("katulampa", t0, 3, 95.0, siaga_from=4, seq=1)]),
                batch([siaga_change("depok", t0, 3, 205.0, siaga_from=4, seq=2)]),
                batch([siaga_change("depok", t0 + timedelta(hours=1), 4, 190.0, siaga_from=3, seq=3)]),
                batch(
                    [rate_of_rise("tukad-mati-kuta", t0, True, 150.0, gateway=gw)], tenant="kab-badung", gateway=gw
                ),
            ]:
                apply_batch(s, b, SqlPointSink(s))
            users = {role: create_user(s, "dki-jakarta", f"Fuzz {role}", role) for role in ("admin", "fisher", "employee", "staff_admin")}
            keys = {role: create_key(s, TEST_PEPPER.encode(), user.id)[1] for role, user in users.items()}
            badge_objects(s, "dki-jakarta", users)  # an office, its staff linked to the users
        settings = Settings(
            database_url=url,
            auth_pepper=TEST_PEPPER,  # type: ignore[arg-type]
            public_base_url=TEST_PUBLIC_BASE_URL,
            metrics_token=METRICS_TOKEN,  # type: ignore[arg-type]
            public_burst=100_000,
            public_cache_s=0,
            level_store="sql",
        )
        with serve(create_app(CONFIG, settings, registry=CollectorRegistry())) as base:
            yield base, {role: bearer(key) for role, key in keys.items()}
    finally:
        if engine is not None:
            engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case: schemathesis.Case, api: tuple[str, dict[str, dict[str, str]]]) -> None:
    base, keys = api
    allowed = permissions.TABLE.get((case.operation.method.upper(), case.operation.path), ())
    # The admin, or who else may: an employee (their own records), else a fisher.
    role = "admin" if isinstance(allowed, str) or "admin" in allowed else "employee" if "employee" in allowed else "fisher"
    headers = keys[role]
    if case.path.endswith("/metrics"):
        headers = bearer(METRICS_TOKEN)
    response = case.call_and_validate(base_url=base, headers=headers, checks=CHECKS, timeout=10)
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    SEEN.setdefault(operation, Counter())[response.status_code] += 1


def test_the_fuzzer_got_past_authentication_everywhere() -> None:
    """Each operation was reached with valid credentials: not every answer a 401, 403 or 405.

    (Besides schema-valid requests, schemathesis also probes undocumented methods and requests
    without the credentials; those answers are checked like the rest.)
    """
    assert len(SEEN) == len(list(SCHEMA.get_all_operations())), sorted(SEEN)
    for operation, statuses in SEEN.items():
        assert set(statuses) - {401, 403, 405}, (operation, statuses)
    print("\nfuzzed: " + "; ".join(f"{op} {dict(sorted(st.items()))}" for op, st in sorted(SEEN.items())))
