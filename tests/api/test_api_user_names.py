"""User names read as what they are: NFC, nothing invisible or reordering, no look-alike of another user.

A name is what alert actions record as who acted; with U+202E or U+200B a second user could look
exactly like `demo-admin` (issue 17). Every way a name enters is tried: the API and `tepi admin`.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from api_people import DKI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from api.testing import TEST_PEPPER, bearer
from central.db import writer
from central.models import User
from tepi.admin_cli import admin_app

USERS = "/api/v1/users"


@pytest.fixture
def admin(keys: dict[tuple[str, str], str]) -> dict[str, str]:
    return bearer(keys[(DKI, "Admin DKI")])


def names(engine: Engine) -> list[str]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(User.name).where(User.tenant_id == DKI).order_by(User.id)))


# Refused before any query: on the embedded database only (storing and comparing names, below, on both).
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("name", "refused"),
    [
        ("demo\u202eadmin", "U+202E (RIGHT-TO-LEFT OVERRIDE, category Cf) at position 5"),
        ("demo-\u200badmin", "U+200B (ZERO WIDTH SPACE, category Cf) at position 6"),
        ("\u2066Admin DKI\u2069", "U+2066 (LEFT-TO-RIGHT ISOLATE, category Cf)"),
        ("Admin\u00adDKI", "U+00AD (SOFT HYPHEN, category Cf)"),
        ("Admin\tDKI", "U+0009 (a control character, category Cc)"),
        ("Admin\u2028DKI", "category Zl"),
        ("Admin\u2029DKI", "category Zp"),
        ("Admin\ue000DKI", "category Co"),
        ("Admin\u0378DKI", "category Cn"),
        # Unicode's Default_Ignorable_Code_Point whatever the category, and the blank braille pattern
        ("demo-\u034fadmin", "U+034F (COMBINING GRAPHEME JOINER, invisible: Default_Ignorable_Code_Point) at position 6"),
        ("demo-admin\ufe0f", "U+FE0F (VARIATION SELECTOR-16, invisible: Default_Ignorable_Code_Point) at position 11"),
        ("demo-\U000e0100admin", "U+E0100 (VARIATION SELECTOR-17, invisible"),
        ("demo-admin\u115f", "U+115F (HANGUL CHOSEONG FILLER, invisible"),
        ("demo-admin\u1160", "U+1160 (HANGUL JUNGSEONG FILLER, invisible"),
        ("demo-admin\u3164", "U+3164 (HANGUL FILLER, invisible"),
        ("demo-admin\uffa0", "U+FFA0 (HALFWIDTH HANGUL FILLER, invisible"),
        ("demo-admin\u17b4", "U+17B4 (KHMER VOWEL INHERENT AQ, invisible"),
        ("demo-admin\u180b", "U+180B (MONGOLIAN FREE VARIATION SELECTOR ONE, invisible"),
        ("demo-admin\u2800", "U+2800 (BRAILLE PATTERN BLANK, blank: displays as empty space) at position 11"),
    ],
)
def test_invisible_and_control_characters_are_refused_saying_which(
    anonymous: TestClient, admin: dict[str, str], engine: Engine, name: str, refused: str
) -> None:
    before = names(engine)
    r = anonymous.post(USERS, json={"name": name, "role": "admin"}, headers=admin)
    assert r.status_code == 422, r.text
    message = r.json()["detail"][0]["msg"]
    assert "may not contain control or invisible formatting characters" in message and refused in message
    assert names(engine) == before


def test_visible_marks_letters_and_symbols_are_still_names(
    anonymous: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    """The refusal is of what displays as nothing, not of scripts: Hangul, Khmer with its vowel
    signs, Mongolian, braille dots and combining accents stay allowed."""
    for name in ("\ud55c\uad6d\uc5b4 \uc0ac\uc6a9\uc790", "\u179f\u17bb\u1781", "\u182e\u1823\u1829", "\u2801\u2803", "Jo\u0308rg \u2603"):
        r = anonymous.post(USERS, json={"name": name, "role": "viewer"}, headers=admin)
        assert r.status_code == 201, (name, r.text)
    assert names(engine)[-1] == "J\u00f6rg \u2603"


def test_names_are_stored_nfc_and_an_nfc_equivalent_is_a_duplicate(
    anonymous: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    decomposed = "Jose\u0301 Sitompul"  # e + COMBINING ACUTE ACCENT
    made = anonymous.post(USERS, json={"name": decomposed, "role": "viewer"}, headers=admin)
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Jos\u00e9 Sitompul" and names(engine)[-1] == "Jos\u00e9 Sitompul"
    for same in ("Jos\u00e9 Sitompul", decomposed):
        again = anonymous.post(USERS, json={"name": same, "role": "admin"}, headers=admin)
        assert again.status_code == 409 and again.json()["code"] == "exists"


@pytest.mark.parametrize(
    "lookalike",
    [
        "\uff21\uff44\uff4d\uff49\uff4e \uff24\uff2b\uff29",  # full-width "Admin DKI"
        "admin dki",
        "Admin\u00a0DKI",  # no-break space
        "Admin   DKI",
    ],
)
def test_a_name_that_reads_like_another_users_is_a_duplicate(
    anonymous: TestClient, admin: dict[str, str], engine: Engine, lookalike: str
) -> None:
    before = names(engine)
    r = anonymous.post(USERS, json={"name": lookalike, "role": "admin"}, headers=admin)
    assert r.status_code == 409, r.text
    assert names(engine) == before
    # Unique per tenant: Badung's "Admin Badung" does not keep DKI from having one.
    assert anonymous.post(USERS, json={"name": "Admin Badung", "role": "viewer"}, headers=admin).status_code == 201


def test_existing_names_are_not_rewritten_yet_still_guard_their_lookalikes(
    anonymous: TestClient, admin: dict[str, str], engine: Engine
) -> None:
    old = "Rene\u0301 Lama"  # stored before names were normalised
    with Session(writer(engine)) as s, s.begin():
        s.execute(sa.insert(User).values(tenant_id=DKI, name=old, role="viewer", created_at=sa.func.now()))
    r = anonymous.post(USERS, json={"name": "Ren\u00e9 Lama", "role": "admin"}, headers=admin)
    assert r.status_code == 409
    assert old in names(engine) and "Ren\u00e9 Lama" not in names(engine)


def test_tepi_admin_refuses_the_same_names(
    database_url: str, engine: Engine, keys: dict[tuple[str, str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in list(os.environ):
        if var.startswith("TEPI_"):
            monkeypatch.delenv(var)
    env = {"TEPI_DATABASE_URL": database_url, "TEPI_AUTH_PEPPER": TEST_PEPPER}
    runner = CliRunner()

    def create(name: str) -> tuple[int, str]:
        result = runner.invoke(admin_app, ["user", "create", "--tenant", DKI, "--name", name, "--role", "admin"], env=env)
        return result.exit_code, result.output

    before = names(engine)
    code, output = create("demo\u202eadmin")
    assert code == 1 and "U+202E (RIGHT-TO-LEFT OVERRIDE" in output
    code, output = create("Admin\u200bDKI")
    assert code == 1 and "U+200B (ZERO WIDTH SPACE" in output
    code, output = create("demo-admin\u3164")
    assert code == 1 and "U+3164 (HANGUL FILLER" in output
    code, output = create("ADMIN DKI")
    assert code == 1 and "exists already" in output
    code, output = create("Admin\udcffDKI")  # an argument's undecodable byte arrives as a lone surrogate
    assert code == 1 and "category Cs" in output
    tenant = runner.invoke(admin_app, ["tenant", "create", "kab-x", "Kabupaten\u202eX"], env=env)
    assert tenant.exit_code == 1 and "U+202E" in tenant.output
    assert names(engine) == before
    assert create("Jose\u0301 Admin")[0] == 0 and names(engine)[-1] == "Jos\u00e9 Admin"
