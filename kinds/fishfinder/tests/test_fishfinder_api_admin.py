"""`tepi admin vessel add`: a registered vessel shows up for its owner in the API."""

from __future__ import annotations

import os

import pytest
from api_people import DKI, ClientFactory
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from api.testing import TEST_PEPPER
from tepi.admin_cli import admin_app


def test_a_vessel_added_by_the_operator_is_its_fisher_s(
    database_url: str, engine: Engine, keys: dict[tuple[str, str], str], make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("TEPI_"):
            monkeypatch.delenv(name)
    env = {"TEPI_DATABASE_URL": database_url, "TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_MODE": "production"}
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(admin_app, list(args), env=env)
        return result.exit_code, result.output

    users = {line.split("\t")[2]: line.split("\t")[0] for line in run("user", "list", "--tenant", DKI)[1].splitlines()}
    fisher_id, officer_id = users["Fisher DKI"], users["Petugas Pusdalops"]
    args = ["vessel", "add", "km-bahari", "--tenant", DKI, "--name", "KM Bahari", "--home-port", "Muara Angke",
            "--gateway", "gw-km-bahari", "--gt", "5", "--speed-kn", "8", "--fuel-l-per-h", "6", "--wave-limit-m", "1.25"]
    assert run(*args, "--owner", fisher_id) == (0, f"registered vessel km-bahari in {DKI} (gateway gw-km-bahari)\n")
    code, out = run(*args)
    assert code == 1 and "registered already" in out
    code, out = run(*[a.replace("km-bahari", "km-lain") for a in args], "--owner", officer_id)
    assert code == 1 and "not a fisher" in out
    code, out = run(*[a.replace("km-bahari", "km-lain") for a in args], "--speed-kn", "-3")
    assert code == 1 and "speed_kn" in out

    mine = make_client(as_user=(DKI, "Fisher DKI"), level_store="sql").get("/api/v1/vessels").json()["data"]
    assert [(v["id"], v["name"], v["home_port"]) for v in mine] == [("km-bahari", "KM Bahari", "Muara Angke")]
