"""What people ask of the badge API over a real state store (SQLite): activity entries linked
to their attendance day, leave requested and decided (never by the requester), the staff list
and its all-or-nothing CSV import, and spoofing attempts with names for staff administration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from badge_api_world import HAURGEULIS, KANTOR, MANGUPURA, NIP, UNKNOWN_NIP, World, build_world, views_of

DINI, EKO, SARI = NIP["Dini Kartika"], NIP["Eko Prasetyo"], NIP["Sari Staf"]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("badge-api-requests"))


def _activity(**over: Any) -> dict[str, Any]:
    return {"date": "2026-02-03", "start": "08:00", "end": "10:30", "description": "Verifikasi berkas kenaikan pangkat",
            "output": "12 berkas", **over}  # fmt: skip


def test_an_activity_is_linked_to_its_attendance_day(world: World) -> None:
    made = world.post("Dini Kartika", "/api/v1/activities", _activity())
    assert made.status_code == 201, made.text
    entry = made.json()
    assert (entry["nip"], entry["date"], entry["started_at"], entry["ended_at"]) == (DINI, "2026-02-03", "2026-02-03T01:00:00Z", "2026-02-03T03:30:00Z")
    assert (entry["attendance"]["status"], entry["attendance"]["late_min"], entry["attendance"]["activities"]) == ("late", 22, 1)
    # The day's record counts it, and her list shows it with the day.
    day = world.get("Dini Kartika", f"/api/v1/attendance/employees/{DINI}/days", **{"from": "2026-02-03", "to": "2026-02-03"}).json()["data"][0]
    assert day["activities"] == 1
    listed = world.get("Dini Kartika", "/api/v1/activities", **{"from": "2026-02-01", "to": "2026-02-28"}).json()
    assert [(a["id"], a["attendance"]["status"]) for a in listed["data"]] == [(entry["id"], "late")]
    # An absent day takes an entry too (the badge may have stayed home): the record says absent.
    absent = world.post("Dini Kartika", "/api/v1/activities", _activity(date="2026-02-06")).json()
    assert absent["attendance"]["status"] == "absent"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"date": "2026-02-16"}, "holiday"),
        ({"date": "2026-02-07"}, "a Saturday"),
        ({"date": "2026-03-04"}, "tomorrow"),
        ({"date": "2026-03-03", "start": "09:00", "end": "11:00"}, "not over yet (10:00 WIB now)"),
        ({"date": "2026-01-20"}, "more than 31 days back"),
        ({"start": "10:00", "end": "09:00"}, "ends before it starts"),
        ({"description": "  "}, "no description"),
        ({"nip": EKO}, "for someone else"),
        ({"date": "2026-02-30"}, "no such day"),
    ],
)
def test_bad_activities_are_refused(world: World, change: dict[str, Any], why: str) -> None:
    assert world.post("Eko Prasetyo", "/api/v1/activities", _activity(**change)).status_code == 422, why


def test_who_reads_whose_activities(world: World) -> None:
    world.post("Eko Prasetyo", "/api/v1/activities", _activity(date="2026-02-04", description="Rapat koordinasi"))
    world.post("Dini Kartika", "/api/v1/activities", _activity(date="2026-02-09", description="Menyusun laporan"))
    dini_id = world.employee_ids["Dini Kartika"]
    before = len(views_of(world.engine, dini_id))
    office = world.get("Sari Staf", "/api/v1/activities", **{"from": "2026-02-01", "to": "2026-02-28"}).json()
    assert {a["nip"] for a in office["data"]} >= {EKO}
    one = world.get("Sari Staf", "/api/v1/activities", nip=EKO, **{"from": "2026-02-01", "to": "2026-02-28"}).json()
    assert {a["nip"] for a in one["data"]} == {EKO}
    # Eko sees only his; Dini's NIP is a 404 to him, as an unknown one; Budi's office is elsewhere.
    assert {a["nip"] for a in world.get("Eko Prasetyo", "/api/v1/activities", **{"from": "2026-02-01"}).json()["data"]} == {EKO}
    assert world.get("Eko Prasetyo", "/api/v1/activities", nip=DINI).status_code == 404
    assert world.get("Eko Prasetyo", "/api/v1/activities", nip=UNKNOWN_NIP).status_code == 404
    assert world.get("Budi Staf", "/api/v1/activities", nip=EKO).status_code == 404
    assert world.get("Admin Indramayu", "/api/v1/activities", nip=EKO).status_code == 200
    assert world.post("Admin Indramayu", "/api/v1/activities", _activity()).status_code == 403  # linked to no employee
    # Sari's office-wide read is audited for each employee shown, Eko's own read of his is not.
    assert len(views_of(world.engine, dini_id)) > before


def test_leave_is_requested_approved_and_counts_in_the_days(world: World) -> None:
    asked = world.post("Eko Prasetyo", "/api/v1/leave", {"kind": "sakit", "first_day": "2026-03-09", "last_day": "2026-03-10", "reason": "Demam"})
    assert asked.status_code == 201, asked.text
    leave = asked.json()
    assert (leave["status"], leave["nip"], leave["decided_by"]) == ("requested", EKO, None)
    path = f"/api/v1/leave/{leave['id']}/approve"
    # Not an employee, not another office's staff_admin, not another tenant.
    assert world.post("Dini Kartika", path).status_code == 403
    assert world.post("Budi Staf", path).status_code == 404
    assert world.post("Admin Badung", path).status_code == 404
    waiting = world.get("Sari Staf", "/api/v1/leave", status="requested").json()["data"]
    assert leave["id"] in [r["id"] for r in waiting]
    approved = world.post("Sari Staf", path, {"note": "Semoga lekas sembuh"})
    assert approved.status_code == 200
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "Sari Staf")
    again = world.post("Rina Staf", f"/api/v1/leave/{leave['id']}/reject", {"note": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "leave_decided")
    days = world.get("Eko Prasetyo", f"/api/v1/attendance/employees/{EKO}/days", **{"from": "2026-03-09", "to": "2026-03-10"}).json()
    assert [d["status"] for d in days["data"]] == ["sick", "sick"]
    # Days a request covers cannot be asked for twice.
    twice = world.post("Eko Prasetyo", "/api/v1/leave", {"kind": "cuti", "first_day": "2026-03-10", "last_day": "2026-03-12", "reason": "Cuti"})
    assert (twice.status_code, twice.json()["code"]) == (409, "leave_overlaps")


def test_a_rejection_says_why_and_no_one_decides_their_own(world: World) -> None:
    mine = world.post("Sari Staf", "/api/v1/leave", {"kind": "dinas_luar", "first_day": "2026-03-16", "last_day": "2026-03-18", "reason": "Bimtek"}).json()
    own = world.post("Sari Staf", f"/api/v1/leave/{mine['id']}/approve")
    assert (own.status_code, own.json()["code"]) == (403, "forbidden")
    assert world.post("Rina Staf", f"/api/v1/leave/{mine['id']}/reject").status_code == 422  # no note
    rejected = world.post("Rina Staf", f"/api/v1/leave/{mine['id']}/reject", {"note": "Kuota bimtek penuh"}).json()
    assert (rejected["status"], rejected["decision_note"], rejected["decided_by"]) == ("rejected", "Kuota bimtek penuh", "Rina Staf")
    # Rejected days are free again; the employee lists only their own requests.
    assert world.post("Sari Staf", "/api/v1/leave", {"kind": "cuti", "first_day": "2026-03-16", "last_day": "2026-03-16", "reason": "Cuti"}).status_code == 201
    assert {r["nip"] for r in world.get("Dini Kartika", "/api/v1/leave").json()["data"]} <= {DINI}
    assert world.get("Dini Kartika", "/api/v1/leave", nip=EKO).status_code == 404
    assert world.post("Admin Indramayu", "/api/v1/leave", {"kind": "cuti", "first_day": "2026-03-20", "last_day": "2026-03-20", "reason": "x"}).status_code == 403


@pytest.mark.parametrize(
    "change",
    [{"kind": "liburan"}, {"last_day": "2026-03-01"}, {"first_day": "2026-01-01"}, {"last_day": "2027-06-01"}, {"reason": ""}, {"nip": DINI}],
)
def test_bad_leave_requests_are_refused(world: World, change: dict[str, Any]) -> None:
    body = {"kind": "cuti", "first_day": "2026-04-06", "last_day": "2026-04-07", "reason": "Cuti tahunan", **change}
    assert world.post("Hadi Susanto", "/api/v1/leave", body).status_code == 422


def test_the_staff_list_is_a_staff_admin_s_office(world: World) -> None:
    listed = world.get("Sari Staf", "/api/v1/employees").json()
    assert {e["office"] for e in listed["data"]} == {KANTOR} and listed["count"] == 4
    assert all(e["linked"] and e["active"] for e in listed["data"])
    assert world.get("Admin Indramayu", "/api/v1/employees").json()["count"] >= 6
    assert world.get("Sari Staf", "/api/v1/employees", office=HAURGEULIS).status_code == 404
    assert world.get("Eko Prasetyo", "/api/v1/employees").status_code == 403
    assert world.get("Admin Badung", f"/api/v1/employees/{DINI}").status_code == 404


def _import(world: World, who: str, text: str) -> Any:
    return world.client.post("/api/v1/employees/import", content=text.encode(), headers={
        "Authorization": f"Bearer {world.keys[who]}", "Content-Type": "text/csv"})  # fmt: skip


def test_the_csv_import_is_all_or_nothing(world: World) -> None:
    good = "nip,name,office,schedule\n199501012020011001,Fajar Nugraha,bkpsdm-indramayu,\n199602022021022002,Gita Lestari,bkpsdm-indramayu,pns-5-hari\n"
    bad = good + "12345,Tanpa NIP,bkpsdm-indramayu,\n199703032022031003,Kantor Asing,bpbd-badung,\n199501012020011001,Fajar Lagi,bkpsdm-indramayu,\n"
    refused = _import(world, "Sari Staf", bad)
    assert refused.status_code == 422
    lines = [(e["loc"][-1], e["msg"]) for e in refused.json()["detail"]]
    assert [line for line, _ in lines] == ["line 4", "line 5", "line 6"], lines
    assert world.get("Sari Staf", "/api/v1/employees/199501012020011001").status_code == 404  # nothing registered
    made = _import(world, "Sari Staf", "\ufeff" + good)  # a spreadsheet's byte-order mark
    assert made.status_code == 200, made.text
    assert made.json() == {"added": ["199501012020011001", "199602022021022002"], "unchanged": []}
    assert _import(world, "Sari Staf", good).json() == {"added": [], "unchanged": ["199501012020011001", "199602022021022002"]}
    fajar = world.get("Sari Staf", "/api/v1/employees/199501012020011001").json()
    assert (fajar["name"], fajar["office"], fajar["linked"], fajar["badge"]) == ("Fajar Nugraha", KANTOR, False, None)
    # A staff_admin imports into their own office only; the admin into any of the tenant's.
    elsewhere = "nip,name,office\n199804042023041004,Indra Wijaya,kec-haurgeulis\n"
    assert _import(world, "Sari Staf", elsewhere).status_code == 422
    assert _import(world, "Admin Indramayu", elsewhere).json()["added"] == ["199804042023041004"]
    assert _import(world, "Dini Kartika", elsewhere).status_code == 403
    assert _import(world, "Admin Indramayu", "nama,kantor\nx,y\n").status_code == 422
    assert _import(world, "Admin Indramayu", "").status_code == 422


def test_security_events_name_the_badge_holder_for_staff_administration(world: World) -> None:
    events = world.get("Sari Staf", "/api/v1/security-events").json()
    assert [(e["nip"], e["name"], e["reason"], e["office"]) for e in events["data"]] == [(DINI, "Dini Kartika", "eid_replayed", KANTOR)]
    assert world.get("Budi Staf", "/api/v1/security-events").json()["data"] == []
    assert world.get("Budi Staf", "/api/v1/security-events", office=KANTOR).status_code == 404
    assert [e["office"] for e in world.get("Admin Badung", "/api/v1/security-events").json()["data"]] == [MANGUPURA]
    assert world.get("Dini Kartika", "/api/v1/security-events").status_code == 403
    assert world.get("Sari Staf", "/api/v1/security-events", since="2026-03-03T00:00:00Z").json()["data"] == []
