"""`tepi admin employee` and `tepi admin badge` as an operator runs them, on SQLite and
PostgreSQL: a staff list imported (or, with a bad row, not at all), a user linked, a badge issued
with its key shown once and never again, revoked, and the key secret required and checked."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from badge_central_world import INDRAMAYU, KANTOR, NIP_DINI, WORLD
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.testing import TEST_PEPPER
from central.db import create_engine
from kinds.badge.keys import DEMO_SECRET, KeySeal
from kinds.badge.state import Badge, Employee
from tepi.admin_cli import admin_app

SECRET = "the-operator-s-badge-key-secret-0123456789abcdef"
NIP_EKO = "199001012015031002"
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def admin(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Run]:
    for name in list(os.environ):
        if name.startswith("TEPI_"):
            monkeypatch.delenv(name)
    config = tmp_path / "tepi.yaml"
    config.write_text(yaml.safe_dump(WORLD))
    runner = CliRunner()
    base = {"TEPI_DATABASE_URL": database_url, "TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_MODE": "production",
            "TEPI_BADGE_KEY_SECRET": SECRET}  # fmt: skip

    def run(*args: str, **env: str | None) -> tuple[int, str, str]:
        result = runner.invoke(admin_app, ["-c", str(config), *args], env={**base, **env})
        return result.exit_code, result.stdout, result.stderr

    yield run


def _csv(tmp_path: Path, text: str) -> str:
    path = tmp_path / "pegawai.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _employees(database_url: str) -> list[tuple[str, str, int | None]]:
    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            return [(e.nip, e.office_id, e.user_id) for e in s.scalars(sa.select(Employee).order_by(Employee.nip))]
    finally:
        engine.dispose()


def test_a_staff_list_imports_whole_or_not_at_all_and_a_user_is_linked(admin: Run, database_url: str, tmp_path: Path) -> None:
    bad = _csv(tmp_path, f"nip,name,office\n{NIP_DINI},Dini Kartika,{KANTOR}\n{NIP_EKO[:-1]},Eko,{KANTOR}\n")
    code, out, err = admin("employee", "import", bad, "--tenant", INDRAMAYU)
    assert code == 1 and f"rejected {bad}:3: NIP '{NIP_EKO[:-1]}' is not 18 digits" in err
    assert "1 rows rejected: nothing registered" in err and _employees(database_url) == []

    good = _csv(tmp_path, f"nip,name,office,schedule\n{NIP_DINI},Dini Kartika,{KANTOR},\n{NIP_EKO},Eko,{KANTOR},shift-pagi\n")
    assert admin("employee", "import", good, "--tenant", INDRAMAYU)[:2] == (0, f"registered 2 employees in {INDRAMAYU}; 0 already registered as in the file\n")
    assert "0 employees" in admin("employee", "import", good, "--tenant", INDRAMAYU)[1], "again: nothing changes"

    code, user_id, _ = admin("user", "create", "--tenant", INDRAMAYU, "--name", "Dini Kartika", "--role", "employee")
    assert code == 0
    code, out, _ = admin("employee", "link", "--tenant", INDRAMAYU, "--user", "Dini Kartika", "--nip", NIP_DINI)
    assert code == 0 and f"is employee {NIP_DINI} of office {KANTOR}" in out
    assert _employees(database_url)[0] == (NIP_DINI, KANTOR, int(user_id))
    code, _, err = admin("employee", "link", "--tenant", INDRAMAYU, "--user", "Dini Kartika", "--nip", NIP_EKO)
    assert code == 1 and "linked to employee" in err


def test_a_badge_s_key_is_shown_once_stored_sealed_and_the_badge_revoked(admin: Run, database_url: str) -> None:
    assert admin("employee", "add", "--tenant", INDRAMAYU, "--nip", NIP_DINI, "--name", "Dini Kartika", "--office", KANTOR)[0] == 0
    code, out, err = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI)
    assert code == 0, err
    printed = dict(line.split("\t") for line in out.splitlines())
    assert printed.keys() == {"badge", "format", "identity_key", "k", "epoch"} and printed["k"] == "10"
    badge, key = printed["badge"], bytes.fromhex(printed["identity_key"])
    assert len(key) == 16 and "shown this once" in err

    engine = create_engine(database_url)
    try:
        with Session(engine) as s:
            row = s.get(Badge, badge)
            assert row is not None and row.identity_key_enc is not None and key not in row.identity_key_enc
            assert KeySeal(SECRET).open(row.identity_key_enc, badge) == key
    finally:
        engine.dispose()
    code, listed, _ = admin("badge", "list", "--tenant", INDRAMAYU)
    assert code == 0 and listed.startswith(f"{badge}\teid\t{NIP_DINI}\t{KANTOR}\t") and printed["identity_key"] not in listed

    code, _, err = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI, "--format", "ibeacon")
    assert code == 1 and f"has badge {badge} in use" in err
    assert admin("badge", "revoke", badge, "--tenant", INDRAMAYU)[:2] == (0, f"revoked badge {badge}\n")
    # Her office requires EID: a static badge would never give her presence there, so none is issued.
    for fmt in ("ibeacon", "uid"):
        code, _, err = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI, "--format", fmt)
        assert code == 1 and f"office {KANTOR} requires EID badges" in err and "issue --format eid" in err, err
    code, out, _ = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI)
    assert code == 0 and {line.split("\t")[0] for line in out.splitlines()} == {"badge", "format", "identity_key", "k", "epoch"}
    assert admin("badge", "list", "--tenant", INDRAMAYU)[1].count("\n") == 1
    assert "revoked" in admin("badge", "list", "--tenant", INDRAMAYU, "--all")[1]

    code, out, _ = admin("employee", "leave", "--tenant", INDRAMAYU, "--nip", NIP_DINI)
    assert code == 0 and "revoked" in out and admin("badge", "list", "--tenant", INDRAMAYU)[1] == ""


def test_issuing_needs_the_key_secret_and_refuses_the_demo_one_in_production(admin: Run) -> None:
    admin("employee", "add", "--tenant", INDRAMAYU, "--nip", NIP_DINI, "--name", "Dini Kartika", "--office", KANTOR)
    code, out, err = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI, TEPI_BADGE_KEY_SECRET=None)
    assert (code, out) == (2, "") and "TEPI_BADGE_KEY_SECRET is required outside demo mode" in err
    code, _, err = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI, TEPI_BADGE_KEY_SECRET=DEMO_SECRET)
    assert code == 2 and "public demo value" in err
    assert admin("badge", "list", "--tenant", INDRAMAYU)[1] == "", "nothing issued"


@pytest.mark.parametrize("k", ["7", "15"])
def test_issuing_refuses_a_rotation_exponent_outside_8_to_12_saying_why(admin: Run, k: str) -> None:
    admin("employee", "add", "--tenant", INDRAMAYU, "--nip", NIP_DINI, "--name", "Dini Kartika", "--office", KANTOR)
    code, out, err = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI, "--k", k)
    assert (code, out) == (2, "") and f"k {k} is outside 8..12" in err and "replay" in err
    assert admin("badge", "list", "--tenant", INDRAMAYU)[1] == "", "nothing issued"
    code, out, err = admin("badge", "issue", "--tenant", INDRAMAYU, "--employee", NIP_DINI, "--k", "12")
    assert code == 0 and "k\t12" in out.splitlines(), err
