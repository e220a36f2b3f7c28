"""What a staff_admin's reach hides over the badge API (SQLite): the CSV import says that a NIP
is registered at another office without saying who or where, and a staff_admin whose employee
row has left manages no office any more while still reading their own records. A world of its
own: a departure changes it for every later test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from badge_api_world import HAURGEULIS, INDRAMAYU, KANTOR, NIP, NOW, World, build_world
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER
from central.accounts import create_key, create_user
from central.db import writer
from kinds.badge.state import Employee

BUDI, HADI, EKO = NIP["Budi Staf"], NIP["Hadi Susanto"], NIP["Eko Prasetyo"]
FEB = {"from": "2026-02-02", "to": "2026-02-06"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("badge-api-reach"))


def _import(world: World, who: str, text: str) -> Any:
    return world.client.post("/api/v1/employees/import", content=text.encode(), headers={
        "Authorization": f"Bearer {world.keys[who]}", "Content-Type": "text/csv"})  # fmt: skip


def _messages(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    return [e["msg"] for e in response.json()["detail"]]


def test_a_staff_admin_s_import_does_not_say_who_is_registered_at_another_office(world: World) -> None:
    # Hadi works at Haurgeulis; Sari manages BKPSDM and lists his NIP under another name.
    row = f"nip,name,office\n{HADI},Hadi Baru,{KANTOR}\n"
    [told] = _messages(_import(world, "Sari Staf", row))
    assert told == f"NIP {HADI} is registered elsewhere in {INDRAMAYU}"
    assert "Hadi Susanto" not in told and HAURGEULIS not in told
    # Within her office she is told what differs (she can read that employee anyway).
    [own] = _messages(_import(world, "Sari Staf", f"nip,name,office\n{EKO},Eko P.,{KANTOR}\n"))
    assert "name 'Eko Prasetyo', not 'Eko P.'" in own
    # The tenant's admin reaches every office: the detail.
    [admin] = _messages(_import(world, "Admin Indramayu", row))
    assert "name 'Hadi Susanto'" in admin and f"office '{HAURGEULIS}'" in admin


def test_a_staff_admin_who_left_manages_no_office_and_still_reads_their_own_records(world: World) -> None:
    days = f"/api/v1/attendance/employees/{HADI}/days"
    assert world.get("Budi Staf", days, **FEB).status_code == 200, "Budi manages Haurgeulis, Hadi's office"
    assert world.get("Budi Staf", "/api/v1/attendance/daily", date="2026-02-03").json()["count"] == 2

    with Session(writer(world.engine)) as s, s.begin():
        budi = s.get(Employee, world.employee_ids["Budi Staf"])
        assert budi is not None
        budi.left_at = NOW - timedelta(days=1)

    assert world.get("Budi Staf", days, **FEB).status_code == 404
    assert world.get("Budi Staf", f"/api/v1/employees/{HADI}").status_code == 404
    for path, params in (("/api/v1/attendance/daily", {"date": "2026-02-03"}), ("/api/v1/employees", {}),
                         ("/api/v1/attendance/monthly", {"month": "2026-02"}), ("/api/v1/security-events", {})):  # fmt: skip
        refused = world.get("Budi Staf", path, **params)
        assert refused.status_code == 403 and "left" in refused.text, (path, refused.text)
        assert refused.json()["code"] == "left_staff", "a code the console words in its reader's language"
    assert _import(world, "Budi Staf", f"nip,name,office\n199804042023041004,Indra Wijaya,{HAURGEULIS}\n").status_code == 403
    # His own records: still his to read.
    own = world.get("Budi Staf", f"/api/v1/employees/{BUDI}")
    assert own.status_code == 200 and own.json()["active"] is False
    assert world.get("Budi Staf", f"/api/v1/attendance/employees/{BUDI}/days", **FEB).status_code == 200


def test_a_staff_admin_linked_to_no_employee_is_told_so_by_code(world: World) -> None:
    """A staff_admin is made before `tepi admin employee link` is run for them: no office is theirs
    to manage yet, and the 403 says why with a code (the console explains what to do)."""
    with Session(writer(world.engine)) as s, s.begin():
        user = create_user(s, INDRAMAYU, "Staf Baru", "staff_admin")
        world.keys["Staf Baru"] = create_key(s, TEST_PEPPER.encode(), user.id)[1]
    refused = world.get("Staf Baru", "/api/v1/attendance/daily")
    assert (refused.status_code, refused.json()["code"]) == (403, "not_linked")
    assert "tepi admin employee link" in refused.json()["detail"]

