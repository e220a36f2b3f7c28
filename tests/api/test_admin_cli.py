"""`tepi admin`: the platform operator onboards a tenant, its admin and a key; revokes; runs retention."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import typer
import yaml
from api_people import ClientFactory
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from api.testing import TEST_PEPPER, bearer
from tepi.admin_cli import admin_app
from core.config import TepiConfig


@pytest.fixture
def admin(database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in list(os.environ):
        if name.startswith("TEPI_"):
            monkeypatch.delenv(name)
    runner = CliRunner()
    env = {"TEPI_DATABASE_URL": database_url, "TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_MODE": "production"}

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(admin_app, list(args), env=env)
        assert result.exit_code == code, (result.output, result.exception)
        return result.stdout

    return run


def test_onboard_a_regency_then_revoke(admin, make_client: ClientFactory) -> None:  # type: ignore[no-untyped-def]
    assert "created tenant kab-sumedang" in admin("tenant", "create", "kab-sumedang", "Kabupaten Sumedang")
    assert "kab-sumedang\tKabupaten Sumedang" in admin("tenant", "list")
    user_id = admin("user", "create", "--tenant", "kab-sumedang", "--name", "Admin Sumedang", "--role", "admin").strip()
    key = admin("key", "create", "--user", user_id).strip()
    assert key.startswith("tepi_") and "\n" not in key  # only the key on stdout, for scripts
    by_name = admin("key", "create", "--user", "Admin Sumedang", "--tenant", "kab-sumedang").strip()

    api = make_client(as_user=None)
    me = api.get("/api/v1/me", headers=bearer(key)).json()
    assert (me["tenant"], me["role"], me["name"]) == ("kab-sumedang", "admin", "Admin Sumedang")
    # The new admin manages the new tenant, and sees nothing of the others.
    assert api.get("/api/v1/stations", headers=bearer(key)).json()["count"] == 0
    assert api.post("/api/v1/users", json={"name": "Operator", "role": "viewer"}, headers=bearer(key)).status_code == 201

    listed = admin("key", "list", "--tenant", "kab-sumedang")
    assert listed.count("\n") == 2 and key not in listed
    admin("key", "revoke", key.split("_")[1])
    assert api.get("/api/v1/me", headers=bearer(key)).status_code == 401
    assert api.get("/api/v1/me", headers=bearer(by_name)).status_code == 200
    admin("user", "disable", user_id)
    assert api.get("/api/v1/me", headers=bearer(by_name)).status_code == 401


def test_admin_refuses_what_the_api_would(admin) -> None:  # type: ignore[no-untyped-def]
    admin("tenant", "create", "kab-badung", "again", code=1)  # exists (from the configuration)
    admin("tenant", "create", "Kab Bad!", "x", code=1)
    admin("user", "create", "--tenant", "kab-nowhere", "--name", "x", "--role", "admin", code=1)
    admin("user", "create", "--tenant", "kab-badung", "--name", "x", "--role", "root", code=1)
    admin("key", "create", "--user", "nobody", code=2)
    admin("key", "create", "--user", "999999", code=1)
    admin("key", "revoke", "0123456789abcdef", code=1)


def test_retention_run_reports_counts(admin) -> None:  # type: ignore[no-untyped-def]
    counts = json.loads(admin("retention", "run", "--now", "2030-01-01T00:00:00+07:00"))
    assert set(counts) == {"alert_actors", "alert_events", "notification_deliveries", "processed_messages", "web_sessions", "level_points"}
    assert counts["processed_messages"] > 0  # the river story's keys are years old by then
    admin("retention", "run", "--now", "2030-01-01T00:00:00", code=2)


def _config_on(
    database_url: str, default_config: TepiConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[TepiConfig, Path]:
    """A config file whose database is `database_url`, and no TEPI_* variable set."""
    for name in list(os.environ):
        if name.startswith("TEPI_"):
            monkeypatch.delenv(name)
    config = default_config.model_copy(
        update={"ingest": default_config.ingest.model_copy(update={"database_url": database_url})}
    )
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return config, path


def test_mounted_as_tepi_admin_with_the_config_before_the_command(
    database_url: str, engine: Engine, default_config: TepiConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How `tepi` mounts it: `tepi admin -c FILE demo-key ...` (the benchmark asks for keys this way)."""
    config, path = _config_on(database_url, default_config, tmp_path, monkeypatch)
    tepi = typer.Typer()
    tepi.add_typer(admin_app, name="admin")
    runner = CliRunner()
    ask = ["admin", "-c", str(path), "demo-key", "--tenant", "dki-jakarta", "--role", "viewer"]
    unset = runner.invoke(tepi, ask)  # no TEPI_MODE: production, which has no demo keys (nor a pepper here)
    assert unset.exit_code == 2 and "TEPI_AUTH_PEPPER is required in production mode" in unset.output
    demo = runner.invoke(tepi, ask, env={"TEPI_MODE": "demo"})
    assert demo.exit_code == 0, demo.output
    # Where the key went, and how to reach a running demo's database (its key would be a 401 elsewhere).
    assert f"key stored in {database_url.split('://')[0]}" in demo.stderr and "TEPI_DATABASE_URL=sqlite:///var/demo/tepi.db" in demo.stderr
    key = demo.stdout.strip().splitlines()[-1]
    listed = runner.invoke(tepi, ["admin", "-c", str(path), "user", "list", "--tenant", "dki-jakarta"], env={"TEPI_MODE": "demo"})
    assert listed.exit_code == 0 and "viewer\tdemo-viewer" in listed.stdout
    production = runner.invoke(
        tepi,
        ["admin", "-c", str(path), "demo-key", "--tenant", "dki-jakarta", "--role", "viewer"],
        env={"TEPI_MODE": "production", "TEPI_AUTH_PEPPER": TEST_PEPPER},
    )
    assert production.exit_code == 2 and "demo mode" in production.output
    from api.main import create_app
    from api.settings import Settings

    demo_api = Settings(database_url=database_url, mode="demo")
    with TestClient(create_app(config, demo_api, registry=CollectorRegistry())) as api:
        me = api.get("/api/v1/me", headers=bearer(key)).json()
    assert (me["tenant"], me["role"], me["name"]) == ("dki-jakarta", "viewer", "demo-viewer")


def test_schema_commands_need_only_the_database(
    database_url: str, default_config: TepiConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`tepi admin db current` and `db upgrade` run with no secret set (an operator upgrading before
    the API's environment exists): the database is the config's, or TEPI_DATABASE_URL's over it."""
    _, path = _config_on(database_url, default_config, tmp_path, monkeypatch)
    runner = CliRunner()

    def db(command: str, **env: str) -> tuple[int, str]:
        result = runner.invoke(admin_app, ["-c", str(path), "db", command], env=env)
        return result.exit_code, result.output

    code, output = db("current")
    assert code == 1 and "database: none (new database)" in output and "TEPI_AUTH_PEPPER" not in output
    code, output = db("upgrade")
    assert code == 0 and "schema upgraded from none" in output, output
    code, output = db("current")
    database, this_tepi = (line.split(": ", 1)[1] for line in output.splitlines()[:2])
    assert code == 0 and database == this_tepi, output
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    code, output = db("current", TEPI_DATABASE_URL=elsewhere)
    assert code == 1 and "database: none (new database)" in output
