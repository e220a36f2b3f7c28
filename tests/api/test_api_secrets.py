"""No default secrets outside demo mode: settings refuse, `tepi api` exits; demo keys for the demo."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from api_people import ClientFactory
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.services.auth import create_demo_keys
from api.settings import DEMO_PEPPER, Settings, SettingsError, load_settings
from api.testing import bearer
from ingest.db import writer
from tepi.config import TepiConfig

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
    ],
)
def test_settings_refuse_missing_demo_or_weak_secrets(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**settings)  # type: ignore[arg-type]


def test_production_with_its_own_pepper_and_demo_without_one() -> None:
    assert Settings(mode="production", auth_pepper=GOOD).pepper() == GOOD.encode()  # type: ignore[arg-type]
    assert Settings(mode="demo").pepper() == DEMO_PEPPER.encode()
    assert "**" in repr(Settings(mode="production", auth_pepper=GOOD))  # type: ignore[arg-type]
    assert GOOD not in repr(Settings(mode="production", auth_pepper=GOOD))  # type: ignore[arg-type]


def test_load_settings_says_which_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEPI_MODE", "production")
    with pytest.raises(SettingsError, match="TEPI_AUTH_PEPPER is required") as info:
        load_settings()
    assert "secrets.token_urlsafe" in str(info.value)
    monkeypatch.setenv("TEPI_AUTH_PEPPER", GOOD)
    assert load_settings().mode == "production"


def test_tepi_api_exits_non_zero_in_production_without_a_pepper(default_config: TepiConfig, tmp_path: Path) -> None:
    config = default_config.model_copy(
        update={"ingest": default_config.ingest.model_copy(update={"database_url": f"sqlite:///{tmp_path / 's.db'}"})}
    )
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPI_")} | {"TEPI_MODE": "production"}
    proc = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "api", "-c", str(path)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    output = " ".join((proc.stdout + proc.stderr).split())  # rich wraps long lines
    assert "TEPI_AUTH_PEPPER is required in production mode" in output, output[-2000:]


def test_demo_keys_one_per_role_and_tenant(
    engine: Engine, default_config: TepiConfig, make_client: ClientFactory
) -> None:
    with Session(writer(engine)) as s, s.begin():
        keys = create_demo_keys(s, default_config, Settings(mode="demo"))
    roles = ("admin", "disaster_office", "fisher", "staff_admin", "viewer")
    assert set(keys) == {f"{t.id}/{r}" for t in default_config.tenants for r in roles}
    api = make_client(as_user=None, auth_pepper=None)  # demo mode's pepper, as the demo runs it
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
