"""Production by default, with no default secrets and no default public address: settings refuse,
`tepi api` exits saying what to set; only an explicit demo runs with demo secrets and demo keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from api_people import ClientFactory
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.services.auth import create_demo_keys
from api.main import create_app
from api.settings import DEMO_PEPPER, ServingSettings, Settings, SettingsError, load_settings
from api.testing import bearer
from central.db import writer
from core.config import TepiConfig
from core.processes import free_port, wait_for_port

GOOD = "a-production-pepper-of-at-least-32-chars-xyz"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TEPI_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"mode": "production"}, "TEPI_AUTH_PEPPER is required in production mode"),
        ({"mode": "production", "auth_pepper": DEMO_PEPPER}, "public demo value"),
        ({"mode": "production", "auth_pepper": "short"}, "at least 32 characters"),
        ({"mode": "demo", "auth_pepper": "short"}, "at least 32 characters"),
        ({"mode": "production", "auth_pepper": GOOD, "metrics_token": "short"}, "TEPI_METRICS_TOKEN"),
        ({}, "TEPI_AUTH_PEPPER is required in production mode, the default"),
        ({"public_base_url": "banjir.example.go.id"}, "absolute http"),
        ({"public_base_url": "ftp://banjir.example.go.id"}, "absolute http"),
        ({"public_base_url": "https:///api"}, "absolute http"),
        ({"public_base_url": "https://banjir.example.go.id/?x=1"}, "no query"),
        ({"public_base_url": "https://user:pw@banjir.example.go.id"}, "credentials"),
        ({"public_base_url": "https://banjir.example.go.id:http"}, "invalid port"),
        ({"trusted_proxies": "10.0.0.1/8"}, "trusted_proxies"),
        ({"trusted_proxies": "proxy.local"}, "trusted_proxies"),
    ],
)
def test_settings_refuse_missing_demo_or_weak_secrets(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**settings)  # type: ignore[arg-type]


def test_public_base_url_and_trusted_proxies_as_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEPI_AUTH_PEPPER", GOOD)
    monkeypatch.setenv("TEPI_PUBLIC_BASE_URL", " https://banjir.example.go.id/tepi/ ")
    monkeypatch.setenv("TEPI_TRUSTED_PROXIES", "10.0.0.7, 192.168.0.0/16,::1")
    settings = load_settings()
    assert settings.mode == "production"
    assert settings.public_base_url == "https://banjir.example.go.id/tepi"
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.7/32", "192.168.0.0/16", "::1/128"]
    monkeypatch.delenv("TEPI_TRUSTED_PROXIES")
    assert load_settings().trusted_proxies == ()  # none by default


def test_production_without_a_public_base_url_cannot_build_an_app(default_config: TepiConfig) -> None:
    with pytest.raises(SettingsError, match="TEPI_PUBLIC_BASE_URL is required in production mode"):
        create_app(default_config, Settings(auth_pepper=GOOD), registry=CollectorRegistry())  # type: ignore[arg-type]
    demo = create_app(default_config, Settings(mode="demo"), registry=CollectorRegistry())
    assert demo.state.public_base_url == f"http://{default_config.api.host}:{default_config.api.port}"


def test_production_with_its_own_pepper_and_demo_without_one() -> None:
    assert Settings(mode="production", auth_pepper=GOOD).pepper() == GOOD.encode()  # type: ignore[arg-type]
    assert Settings(mode="demo").pepper() == DEMO_PEPPER.encode()
    assert "**" in repr(Settings(mode="production", auth_pepper=GOOD))  # type: ignore[arg-type]
    assert GOOD not in repr(Settings(mode="production", auth_pepper=GOOD))  # type: ignore[arg-type]


def test_settings_refuse_non_finite_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """`TEPI_STREAM_POLL_S=inf` passes `gt=0` and would stop the alert stream from ever polling."""
    monkeypatch.setenv("TEPI_MODE", "demo")
    monkeypatch.setenv("TEPI_STREAM_POLL_S", "inf")
    with pytest.raises(SettingsError, match="TEPI_STREAM_POLL_S: Input should be a finite number"):
        load_settings()


def test_load_settings_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEPI_MODE", "production")
    with pytest.raises(SettingsError, match="TEPI_AUTH_PEPPER is required") as info:
        load_settings()
    assert "secrets.token_urlsafe" in str(info.value)
    monkeypatch.setenv("TEPI_AUTH_PEPPER", GOOD)
    assert load_settings().mode == "production"


def test_load_settings_names_every_missing_or_bad_setting_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An operator fixes the environment once, not once per attempt."""
    with pytest.raises(SettingsError) as info:
        load_settings(ServingSettings)
    assert "TEPI_AUTH_PEPPER is required in production mode" in str(info.value)
    assert "TEPI_PUBLIC_BASE_URL is required in production mode" in str(info.value)
    monkeypatch.setenv("TEPI_PUBLIC_BASE_URL", "banjir.example.go.id")
    monkeypatch.setenv("TEPI_METRICS_TOKEN", "short")
    monkeypatch.setenv("TEPI_MAX_POINTS", "1")
    with pytest.raises(SettingsError) as info:
        load_settings(ServingSettings)
    lines = str(info.value).splitlines()[1:]
    assert [line.split()[0].rstrip(":") for line in lines] == [
        "TEPI_PUBLIC_BASE_URL", "TEPI_MAX_POINTS", "TEPI_AUTH_PEPPER", "TEPI_METRICS_TOKEN"
    ], lines
    assert "TEPI_AUTH_PEPPER: TEPI_AUTH_PEPPER" not in str(info.value)  # each variable named once a line
    monkeypatch.setenv("TEPI_MODE", "demo")
    for name in ("TEPI_PUBLIC_BASE_URL", "TEPI_METRICS_TOKEN", "TEPI_MAX_POINTS"):
        monkeypatch.delenv(name)
    assert load_settings(ServingSettings).public_base_url is None  # demo: its own address, its own pepper
    monkeypatch.setenv("TEPI_MODE", "production")
    monkeypatch.setenv("TEPI_AUTH_PEPPER", GOOD)
    assert load_settings().pepper() == GOOD.encode()  # `tepi admin` hashes keys without a public URL


def _config_file(config: TepiConfig, tmp_path: Path) -> Path:
    config = config.model_copy(
        update={"ingest": config.ingest.model_copy(update={"database_url": f"sqlite:///{tmp_path / 's.db'}"})}
    )
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return path


def _tepi_api(path: Path, port: int, **env: str) -> subprocess.Popen[str]:
    """`tepi api` with exactly `env` of the TEPI_* variables (none inherited from the test run)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TEPI_")}
    return subprocess.Popen(
        [sys.executable, "-m", "tepi.cli", "api", "-c", str(path), "--port", str(port)],
        env=base | env,
        cwd=path.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize(
    ("env", "messages"),
    [
        ({}, ["TEPI_AUTH_PEPPER is required in production mode, the default", "TEPI_PUBLIC_BASE_URL is required"]),
        ({"TEPI_MODE": "production"}, ["TEPI_AUTH_PEPPER is required in production mode", "TEPI_PUBLIC_BASE_URL"]),
        ({"TEPI_AUTH_PEPPER": DEMO_PEPPER}, ["TEPI_AUTH_PEPPER is the public demo value", "TEPI_PUBLIC_BASE_URL"]),
        ({"TEPI_AUTH_PEPPER": GOOD}, ["TEPI_PUBLIC_BASE_URL is required in production mode"]),
        ({"TEPI_PUBLIC_BASE_URL": "https://banjir.example.go.id"}, ["TEPI_AUTH_PEPPER is required"]),
    ],
)
def test_tepi_api_refuses_to_start_without_production_secrets(
    default_config: TepiConfig, tmp_path: Path, env: dict[str, str], messages: list[str]
) -> None:
    """Every missing setting named in the one attempt, not one per attempt."""
    proc = _tepi_api(_config_file(default_config, tmp_path), free_port(), **env)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 2, output[-2000:]
    output = " ".join(output.split())  # rich wraps long lines
    assert "api cannot start" in output
    assert all(message in output for message in messages), output[-2000:]
    assert ("TEPI_PUBLIC_BASE_URL" in output) == ("TEPI_PUBLIC_BASE_URL" not in env), output[-2000:]
    assert "Traceback" not in output


def test_tepi_api_runs_with_demo_secrets_only_when_told(default_config: TepiConfig, tmp_path: Path) -> None:
    port = free_port()
    proc = _tepi_api(_config_file(default_config, tmp_path), port, TEPI_MODE="demo")
    try:
        wait_for_port(port, timeout=60, proc=proc)  # type: ignore[arg-type]
        feed = httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts/cap", headers={"Host": "evil.example"}, timeout=10)
        assert feed.status_code == 200
        # The demo's links point at the demo itself, whatever Host the request named.
        assert f'href="http://127.0.0.1:{port}/api/v1/alerts/cap"' in feed.text and "evil" not in feed.text
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def test_demo_keys_one_per_role_and_tenant(
    engine: Engine, default_config: TepiConfig, make_client: ClientFactory
) -> None:
    with Session(writer(engine)) as s, s.begin():
        keys = create_demo_keys(s, default_config, Settings(mode="demo"))
    roles = ("admin", "disaster_office", "employee", "fisher", "fisheries_office", "staff_admin", "viewer")
    assert set(keys) == {f"{t.id}/{r}" for t in default_config.tenants for r in roles}
    api = make_client(as_user=None, mode="demo", auth_pepper=None)  # demo mode's pepper, as the demo runs it
    for name, key in keys.items():
        tenant, role = name.split("/")
        me = api.get("/api/v1/me", headers=bearer(key)).json()
        assert (me["tenant"], me["role"], me["name"]) == (tenant, role, f"demo-{role}")
    # A second run (the demo printed the first keys already) replaces them.
    with Session(writer(engine)) as s, s.begin():
        again = create_demo_keys(s, default_config, Settings(mode="demo"))
    assert api.get("/api/v1/me", headers=bearer(keys["dki-jakarta/admin"])).status_code == 401
    assert api.get("/api/v1/me", headers=bearer(again["dki-jakarta/admin"])).status_code == 200


def test_no_demo_keys_outside_demo_mode(engine: Engine, default_config: TepiConfig) -> None:
    with Session(writer(engine)) as s, pytest.raises(RuntimeError, match="demo mode"):
        create_demo_keys(s, default_config, Settings(mode="production", auth_pepper=GOOD))  # type: ignore[arg-type]
