"""`GET /employees/me`: a user linked to an employee learns their own record (the console's own
attendance view starts from its NIP); the admin, linked to none, and roles without self-service
are refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from badge_api_world import NIP, World, build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("badge-me"))


@pytest.mark.parametrize("who", ["Dini Kartika", "Sari Staf"])
def test_a_linked_user_reads_their_own_record(world: World, who: str) -> None:
    answer = world.get(who, "/api/v1/employees/me")
    assert answer.status_code == 200, answer.text
    assert (answer.json()["nip"], answer.json()["name"]) == (NIP[who], who)


@pytest.mark.parametrize("who", ["Admin Indramayu", "Viewer Indramayu"])
def test_others_are_refused(world: World, who: str) -> None:
    assert world.get(who, "/api/v1/employees/me").status_code == 403


def test_a_nip_is_still_read_by_nip(world: World) -> None:
    """`me` is declared before `/employees/{nip}`; the NIP route is unchanged."""
    assert world.get("Sari Staf", f"/api/v1/employees/{NIP['Dini Kartika']}").json()["nip"] == NIP["Dini Kartika"]
