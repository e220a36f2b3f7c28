"""`tepi admin user password` / `email`, `user create --email`: the operator gives people what the
console needs, and the person then signs in with it."""

from __future__ import annotations

from api_people import DKI, OFFICER, ClientFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from central.accounts import find_user
from tepi.admin_cli import admin_app

PASSWORD = "air naik di manggarai"


def test_a_password_from_stdin_signs_the_user_in(
    operator: CliRunner, engine: Engine, keys: dict, make_client: ClientFactory
) -> None:
    result = operator.invoke(admin_app, ["user", "password", DKI, OFFICER, "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with Session(engine) as s:
        stored = find_user(s, DKI, OFFICER).password_hash
    assert stored is not None and stored.startswith("$argon2id$")
    browser = make_client(as_user=None, level_store="sql")
    signed = browser.post("/api/v1/session", json={"tenant": DKI, "name": OFFICER, "password": PASSWORD})
    assert signed.status_code == 200, signed.text


def test_a_prompted_password_is_asked_twice(operator: CliRunner, engine: Engine, keys: dict) -> None:
    mismatch = operator.invoke(admin_app, ["user", "password", DKI, OFFICER], input=f"{PASSWORD}\nsomething else\n" * 3)
    assert mismatch.exit_code != 0
    ok = operator.invoke(admin_app, ["user", "password", DKI, OFFICER], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert ok.exit_code == 0, ok.output
    assert PASSWORD not in ok.output  # not echoed


def test_a_refused_password_changes_nothing(operator: CliRunner, engine: Engine, keys: dict) -> None:
    for weak, why in (("short", "at least 12"), ("Password2026!", "most common"), ("pusdalops rocks!", "user's name")):
        result = operator.invoke(admin_app, ["user", "password", DKI, OFFICER, "--password-stdin"], input=weak + "\n")
        assert result.exit_code == 2 and why in result.output, result.output
    with Session(engine) as s:
        assert find_user(s, DKI, OFFICER).password_hash is None


def test_an_unknown_user_is_an_error(operator: CliRunner, engine: Engine, keys: dict) -> None:
    result = operator.invoke(admin_app, ["user", "password", DKI, "Nobody", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 1 and "does not exist" in result.output


def test_email_on_create_set_and_removed(operator: CliRunner, engine: Engine, keys: dict) -> None:
    made = operator.invoke(
        admin_app,
        ["user", "create", "--tenant", DKI, "--name", "Operator Pintu Air", "--role", "disaster_office", "--email", "pintuair@jakarta.go.id"],
    )
    assert made.exit_code == 0, made.output
    with Session(engine) as s:
        assert find_user(s, DKI, "Operator Pintu Air").email == "pintuair@jakarta.go.id"
    assert operator.invoke(admin_app, ["user", "email", DKI, OFFICER, "pusdalops@jakarta.go.id"]).exit_code == 0
    bad = operator.invoke(admin_app, ["user", "email", DKI, OFFICER, "not an address"])
    assert bad.exit_code == 1 and "not an email address" in bad.output
    # What the notifier would refuse is refused here too, or escalations would never reach them.
    for refused in ("pusdalops@bpbd_jakarta.go.id", "pusdalöps@jakarta.go.id", "a" * 65 + "@jakarta.go.id"):
        answer = operator.invoke(admin_app, ["user", "email", DKI, OFFICER, refused])
        assert answer.exit_code == 1 and "email address" in answer.output, refused
    created = operator.invoke(
        admin_app, ["user", "create", "--tenant", DKI, "--name", "Operator Pluit", "--role", "viewer", "--email", "pluit@jakarta_go.id"]
    )
    assert created.exit_code == 1 and "email address" in created.output
    with Session(engine) as s:
        assert find_user(s, DKI, OFFICER).email == "pusdalops@jakarta.go.id"
    assert operator.invoke(admin_app, ["user", "email", DKI, OFFICER]).exit_code == 0
    with Session(engine) as s:
        assert find_user(s, DKI, OFFICER).email is None


def test_disabling_a_user_ends_their_console_sessions(
    operator: CliRunner, engine: Engine, keys: dict, make_client: ClientFactory
) -> None:
    assert operator.invoke(admin_app, ["user", "password", DKI, OFFICER, "--password-stdin"], input=PASSWORD + "\n").exit_code == 0
    browser = make_client(as_user=None, level_store="sql")
    cookie = browser.post("/api/v1/session", json={"tenant": DKI, "name": OFFICER, "password": PASSWORD}).cookies["tepi_session"]
    with Session(engine) as s:
        user_id = find_user(s, DKI, OFFICER).id
    assert operator.invoke(admin_app, ["user", "disable", str(user_id)]).exit_code == 0
    assert browser.get("/api/v1/me", headers={"Cookie": f"tepi_session={cookie}"}).status_code == 401
