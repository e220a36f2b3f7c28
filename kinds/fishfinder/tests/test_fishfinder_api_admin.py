"""`tepi admin vessel add`: a registered vessel shows up for its owner in the API, and running
the same enrolment again changes nothing while a different one is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from api_people import DKI, ClientFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.testing import TEST_PEPPER
from core.config import TepiConfig
from kinds.fishfinder.home_ports import HOME_PORTS
from kinds.fishfinder.state import Vessel
from tepi.admin_cli import admin_app
from tepi.mqtt_security import setup_broker_security


def test_a_vessel_added_by_the_operator_is_its_fisher_s(
    database_url: str, engine: Engine, keys: dict[tuple[str, str], str], make_client: ClientFactory,
    monkeypatch: pytest.MonkeyPatch, default_config: TepiConfig, tmp_path: Path,
) -> None:
    for name in list(os.environ):
        if name.startswith("TEPI_"):
            monkeypatch.delenv(name)
    env = {"TEPI_DATABASE_URL": database_url, "TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_MODE": "production"}
    runner = CliRunner()
    mqtt_dir = tmp_path / "mqtt"
    setup_broker_security([default_config], mqtt_dir, persistence_dir=tmp_path / "unused")

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(admin_app, list(args), env=env)
        return result.exit_code, result.output

    users = {line.split("\t")[2]: line.split("\t")[0] for line in run("user", "list", "--tenant", DKI)[1].splitlines()}
    fisher_id, officer_id = users["Fisher DKI"], users["Petugas Pusdalops"]
    args = ["vessel", "add", "km-bahari", "--tenant", DKI, "--name", "KM Bahari", "--home-port", "Muara Angke",
            "--home-lat", "-6.105", "--home-lon", "106.775",  # no port of home_ports.py: given (approximate)
            "--gateway", "gw-km-bahari", "--gt", "5", "--speed-kn", "8", "--fuel-l-per-h", "6", "--wave-limit-m", "1.25",
            "--mqtt-dir", str(mqtt_dir)]
    code, out = run(*args, "--owner", fisher_id)
    assert code == 0, out
    assert out.splitlines()[0] == f"registered vessel km-bahari in {DKI} (gateway gw-km-bahari)"
    files = {p.name: p.read_bytes() for p in mqtt_dir.iterdir() if p.is_file()}
    code, out = run(*args, "--owner", fisher_id)
    assert code == 0 and "is registered already: nothing changed" in out and "already in" in out, out
    assert "reload the broker" not in out
    assert {p.name: p.read_bytes() for p in mqtt_dir.iterdir() if p.is_file()} == files, "a second run changes nothing"

    code, out = run(*args)
    assert code == 1 and "registered already with another owner_user: nothing changed" in out
    code, out = run(*[a.replace("gw-km-bahari", "gw-lain") for a in args], "--owner", fisher_id)
    assert code == 1 and "registered with gateway 'gw-km-bahari', not 'gw-lain'" in out
    code, out = run(*[a.replace("km-bahari", "km-lain") for a in args], "--owner", officer_id)
    assert code == 1 and "not a fisher" in out
    code, out = run(*[a.replace("km-bahari", "km-lain") for a in args], "--speed-kn", "-3")
    assert code == 2 and "--speed-kn must be zero or more" in out, out  # refused before the database is opened
    code, out = run(*[a.replace("km-bahari", "km-lain") for a in args if a not in ("--home-lon", "106.775")])
    assert code == 2 and "both home_lat and home_lon" in out
    with Session(engine) as s:
        assert s.scalars(sa.select(Vessel.id)).all() == ["km-bahari"], "a refused enrolment registers nothing"
        assert "gw-lain" not in (mqtt_dir / "acl").read_text()

    mine = make_client(as_user=(DKI, "Fisher DKI"), level_store="sql").get("/api/v1/vessels").json()["data"]
    assert [(v["id"], v["name"], v["home_port"]) for v in mine] == [("km-bahari", "KM Bahari", "Muara Angke")]


def test_the_home_position_is_given_or_the_port_s_documented_one(
    database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, default_config: TepiConfig, tmp_path: Path
) -> None:
    for name in [n for n in os.environ if n.startswith("TEPI_")]:
        monkeypatch.delenv(name)
    env = {"TEPI_DATABASE_URL": database_url, "TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_MODE": "production"}
    mqtt_dir = tmp_path / "mqtt"
    setup_broker_security([default_config], mqtt_dir, persistence_dir=tmp_path / "unused")

    def add(vessel: str, port: str, *more: str) -> tuple[int, str]:
        result = CliRunner().invoke(admin_app, ["vessel", "add", vessel, "-t", "kab-badung", "-n", vessel.upper(),
                                                "--home-port", port, "--mqtt-dir", str(mqtt_dir), *more], env=env)
        return result.exit_code, result.output

    code, out = add("km-benoa", "benoa", "--mqtt-dir", str(tmp_path / "no-broker-here"))
    assert code == 1 and "set up the central broker first (`tepi mqtt setup --out" in out
    with Session(engine) as s:
        assert s.get(Vessel, "km-benoa") is None, "no vessel without its gateway's users"
    assert add("km-benoa", "benoa")[0] == 0
    assert add("km-kdg", "Pantai Kedonganan", "--home-lat", "-8.757", "--home-lon", "115.169")[0] == 0
    code, out = add("km-none", "PPI Tanpa Nama")  # a port Tepi knows no position of, none given: no overdue alert could come
    assert code == 2 and "no home position: 'PPI Tanpa Nama' is not a port whose position Tepi knows" in out, out
    code, out = add("km-kdg", "Pantai Kedonganan", "--home-lat", "-8.7", "--home-lon", "115.169")
    assert code == 1 and "another home position" in out
    code, out = add("km-x", "PPI X", "--home-lat", "115.2", "--home-lon", "-8.7")
    assert code == 2 and "not on the globe" in out
    with Session(engine) as s:
        homes = {v.id: (v.home_lat, v.home_lon) for v in s.scalars(sa.select(Vessel))}
    assert homes == {"km-benoa": HOME_PORTS["benoa"].position, "km-kdg": (-8.757, 115.169)}
