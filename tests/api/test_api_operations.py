"""/healthz, /metrics and the OpenAPI documents."""

from __future__ import annotations

import re

import pytest
from api_people import METRICS_TOKEN, app_settings
from fastapi.testclient import TestClient

from api.main import create_app
from central.db import create_engine
from core.config import TepiConfig
from core.processes import free_port


def test_healthz_checks_the_database(client: TestClient) -> None:
    assert client.get("/api/v1/healthz").json() == {"status": "ok", "database": "ok"}
    assert client.get("/healthz").status_code == 200
    app = client.app
    healthy = app.state.engine  # type: ignore[attr-defined]
    app.state.engine = create_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")  # type: ignore[attr-defined]
    try:
        r = client.get("/api/v1/healthz")
        assert r.status_code == 503
        assert r.json() == {"status": "unavailable", "database": "unavailable"}
        # Other endpoints say so clearly too, instead of a bare 500.
        down = client.get("/api/v1/stations")
        assert down.status_code == 503
        assert down.json()["code"] == "database_unavailable"
    finally:
        app.state.engine.dispose()  # type: ignore[attr-defined]
        app.state.engine = healthy  # type: ignore[attr-defined]


def test_metrics_count_requests_by_endpoint(client: TestClient) -> None:
    client.get("/api/v1/stations")
    client.get("/api/v1/stations/nope/levels")
    scraper = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    r = client.get("/api/v1/metrics", headers=scraper)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'tepi_api_requests_total{endpoint="read_stations",method="GET",status="200"} 1.0' in text
    assert 'tepi_api_requests_total{endpoint="read_levels",method="GET",status="404"} 1.0' in text
    assert client.get("/metrics", headers=scraper).text.startswith("# HELP")


def test_metrics_take_the_metrics_token_not_an_api_key(client: TestClient, anonymous: TestClient) -> None:
    # Metrics span tenants: even a tenant admin's key is the wrong credential.
    assert client.get("/metrics").status_code == 403
    none = anonymous.get("/metrics")
    assert none.status_code == 401 and none.headers["www-authenticate"] == 'Bearer realm="tepi"'
    wrong = anonymous.get("/metrics", headers={"Authorization": "Bearer " + "x" * 40})
    assert wrong.status_code == 401 and "invalid_token" in wrong.headers["www-authenticate"]


def test_openapi_and_docs(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/stations",
        "/api/v1/stations/{station_id}/levels",
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}/ack",
        "/api/v1/alerts/{alert_id}/close",
        "/api/v1/alerts/{alert_id}/events",
        "/api/v1/alerts/{alert_id}/cap",
        "/api/v1/alerts/stream",
        "/api/v1/alerts/cap",
    } <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


@pytest.mark.parametrize(("page", "assets"), [("/docs", {"swagger-ui-bundle.js", "swagger-ui.css"}), ("/redoc", {"redoc.standalone.js"})])
def test_docs_pages_load_nothing_from_other_hosts(client: TestClient, page: str, assets: set[str]) -> None:
    """Swagger UI came from a CDN: without internet (a disaster office's closed network, a
    demo laptop offline) /docs was a blank page."""
    html = client.get(page).text
    assert "://" not in html  # no absolute URL: no CDN, no validator badge, no web fonts
    urls = re.findall(r'(?:src|href)="([^"]*)"', html) + re.findall(r"url: '([^']*)'", html)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert {u.rsplit("/", 1)[-1] for u in urls} >= assets
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        assert len(r.content) > 100, url
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts and all("javascript" in client.get(u).headers["content-type"] for u in scripts)
    if page == "/docs":
        assert '"validatorUrl": null' in html
        # Swagger UI 5 or later: version 4 cannot render FastAPI's OpenAPI 3.1 schema.
        bundle = client.get(next(u for u in scripts if u.endswith("swagger-ui-bundle.js"))).text
        major = int(re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle).group(1))  # type: ignore[union-attr]
        assert major >= 5 and client.get("/api/v1/openapi.json").json()["openapi"].startswith("3.1")


def test_apps_built_twice_share_the_default_registry(default_config: TepiConfig, database_url: str) -> None:
    # The CLI and the demo build apps without a registry; a second app must not clash with the first.
    first = create_app(default_config, app_settings(database_url))
    second = create_app(default_config, app_settings(database_url))
    assert first.state.registry is second.state.registry
