"""The badge API's attendance records over a real state store (SQLite): daily records with
late arrival, early leave, holidays and leave as the rules decide them, the board of a day, the
monthly recap and its CSV export, corrections with their reason, days counted in the tenant's
zone, and who may read whose records (an employee never another's: 404 as an unknown NIP)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from badge_api_world import HAURGEULIS, KANTOR, NIP, UNKNOWN_NIP, World, build_world, views_of

from kinds.badge.attendance_recap import RECAP_CSV_HEADER

DINI, EKO, SARI = NIP["Dini Kartika"], NIP["Eko Prasetyo"], NIP["Sari Staf"]
FEB = {"from": "2026-02-01", "to": "2026-02-28"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    yield from build_world(tmp_path_factory.mktemp("badge-api"))


def _days(world: World, who: str, nip: str, **span: str) -> dict[str, dict[str, Any]]:
    response = world.get(who, f"/api/v1/attendance/employees/{nip}/days", **(span or FEB))
    assert response.status_code == 200, response.text
    return {d["date"]: d for d in response.json()["data"]}


def test_an_employee_s_days_follow_the_rules(world: World) -> None:
    days = _days(world, "Dini Kartika", DINI)

    def brief(day: str) -> tuple[Any, ...]:
        d = days[day]
        return d["status"], d["first_in"], d["last_out"], d["late_min"], d["early_leave_min"], d["late_band"], d["early_leave_band"]

    assert brief("2026-02-02") == ("present", "2026-02-02T00:25:00Z", "2026-02-02T09:05:00Z", 0, 0, 0, 0)
    assert brief("2026-02-03") == ("late", "2026-02-03T00:52:00Z", "2026-02-03T09:10:00Z", 22, 0, 1, 0)
    assert brief("2026-02-04") == ("present", "2026-02-04T00:20:00Z", "2026-02-04T08:00:00Z", 0, 60, 0, 2)
    assert days["2026-02-05"]["status"] == "leave"  # approved cuti
    assert days["2026-02-06"]["status"] == "absent"
    assert days["2026-02-07"]["status"] == "day_off" and days["2026-02-07"]["hours"] is None
    # Out for lunch: first in, last out, and the hours without the gap.
    assert (days["2026-02-09"]["first_in"], days["2026-02-09"]["last_out"], days["2026-02-09"]["worked_min"]) == (
        "2026-02-09T00:28:00Z", "2026-02-09T09:02:00Z", 272 + 182,
    )
    # Two offices of the tenant in one day make one day.
    assert (days["2026-02-11"]["status"], days["2026-02-11"]["first_in"], days["2026-02-11"]["last_out"]) == (
        "present", "2026-02-11T00:30:00Z", "2026-02-11T09:00:00Z",
    )
    # In on a holiday: recorded, counted in hours, still a holiday.
    assert (days["2026-02-16"]["status"], days["2026-02-16"]["worked_min"]) == ("holiday", 120)
    assert days["2026-02-17"]["status"] == "holiday"
    assert days["2026-02-02"]["hours"] == "07:30-16:00" and days["2026-02-06"]["hours"] == "07:30-16:30"
    assert len(days) == 28


def test_days_are_counted_in_the_tenant_s_zone(world: World) -> None:
    """Badung is in WITA: 07:45 there is 23:45 UTC the day before, and 15 minutes late."""
    response = world.get("I Wayan Sudarma", f"/api/v1/attendance/employees/{NIP['I Wayan Sudarma']}/days", **{"from": "2026-02-02", "to": "2026-02-03"})
    body = response.json()
    assert body["timezone"] == "Asia/Makassar"
    mon, tue = body["data"]
    assert (mon["date"], mon["status"]) == ("2026-02-02", "absent")
    assert (tue["date"], tue["status"], tue["first_in"], tue["late_min"]) == ("2026-02-03", "late", "2026-02-02T23:45:00Z", 15)


def test_the_monthly_recap_counts_the_month(world: World) -> None:
    body = world.get("Sari Staf", f"/api/v1/attendance/employees/{DINI}/monthly", month="2026-02").json()
    recap = body["recap"]
    # 20 weekdays, two of them holidays; on time 2nd, 4th, 9th, 11th; late 3rd; leave 5th.
    assert (recap["working_days"], recap["on_time"], recap["late"], recap["leave"], recap["absent"]) == (18, 4, 1, 1, 12)
    assert (recap["tl1"], recap["psw2"], recap["late_minutes_total"], recap["early_leave_days"]) == (1, 1, 22, 1)
    assert recap["worked_minutes"] == sum(d["worked_min"] for d in body["days"])
    assert (body["timezone"], len(body["days"])) == ("Asia/Jakarta", 28)


def test_the_board_of_a_day_is_a_staff_admin_s_office(world: World) -> None:
    board = world.get("Sari Staf", "/api/v1/attendance/daily", date="2026-02-03").json()
    assert board["office"] == KANTOR and board["timezone"] == "Asia/Jakarta"
    rows = {r["nip"]: r for r in board["data"]}
    assert set(rows) == {DINI, EKO, SARI, NIP["Rina Staf"]}
    assert (rows[DINI]["status"], rows[DINI]["late_min"], rows[EKO]["status"]) == ("late", 22, "absent")
    assert board["totals"] == {"absent": 3, "late": 1} and board["count"] == 4
    # The other office: 404 to her, as an office that does not exist; its own staff_admin sees it.
    other = world.get("Sari Staf", "/api/v1/attendance/daily", date="2026-02-03", office=HAURGEULIS)
    missing = world.get("Sari Staf", "/api/v1/attendance/daily", date="2026-02-03", office="no-such-office")
    assert other.status_code == missing.status_code == 404
    budi = world.get("Budi Staf", "/api/v1/attendance/daily", date="2026-02-03").json()
    assert {r["nip"]: r["status"] for r in budi["data"]} == {NIP["Hadi Susanto"]: "present", NIP["Budi Staf"]: "absent"}
    # The admin: every office of the tenant, or one.
    admin = world.get("Admin Indramayu", "/api/v1/attendance/daily", date="2026-02-03").json()
    assert admin["office"] is None and admin["count"] == 6
    assert world.get("Admin Indramayu", "/api/v1/attendance/daily", date="2026-02-03", office=HAURGEULIS).json()["count"] == 2


def test_the_monthly_csv_is_the_recap(world: World) -> None:
    response = world.get("Sari Staf", "/api/v1/attendance/monthly", month="2026-02", format="csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert f"rekap-{KANTOR}-2026-02.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert tuple(rows[0]) == RECAP_CSV_HEADER
    as_json = {r["nip"]: r for r in world.get("Sari Staf", "/api/v1/attendance/monthly", month="2026-02").json()["data"]}
    assert {r["nip"] for r in rows} == set(as_json) == {DINI, EKO, SARI, NIP["Rina Staf"]}
    dini = next(r for r in rows if r["nip"] == DINI)
    for column in RECAP_CSV_HEADER[3:]:
        assert float(dini[column]) == as_json[DINI][column], column
    assert (dini["name"], dini["office"]) == ("Dini Kartika", KANTOR)


def test_an_employee_reads_only_their_own_records(world: World) -> None:
    """Another's NIP is a 404 exactly as an unknown one: NIPs cannot be probed."""
    for path in ("/api/v1/attendance/employees/{}/days", "/api/v1/attendance/employees/{}/monthly", "/api/v1/employees/{}"):
        other = world.get("Eko Prasetyo", path.format(DINI), month="2026-02")
        missing = world.get("Eko Prasetyo", path.format(UNKNOWN_NIP), month="2026-02")
        assert other.status_code == missing.status_code == 404, path
        assert other.json()["detail"].replace(DINI, "N") == missing.json()["detail"].replace(UNKNOWN_NIP, "N")
    assert world.get("Eko Prasetyo", f"/api/v1/employees/{EKO}").json()["nip"] == EKO
    # Nor a board or recap, nor another tenant's employee for anyone.
    assert world.get("Eko Prasetyo", "/api/v1/attendance/daily").status_code == 403
    assert world.get("Admin Badung", f"/api/v1/attendance/employees/{DINI}/days", **FEB).status_code == 404
    assert world.get("Budi Staf", f"/api/v1/attendance/employees/{DINI}/days", **FEB).status_code == 404
    assert world.get("Viewer Indramayu", f"/api/v1/attendance/employees/{DINI}/days", **FEB).status_code == 403


def test_reading_another_s_records_is_audited(world: World, tmp_path: Path) -> None:
    eko_id = world.employee_ids["Eko Prasetyo"]
    before = views_of(world.engine, eko_id)
    _days(world, "Eko Prasetyo", EKO)  # his own: not audited
    assert views_of(world.engine, eko_id) == before
    world.get("Sari Staf", f"/api/v1/attendance/employees/{EKO}/monthly", month="2026-02")
    _days(world, "Admin Indramayu", EKO)
    assert [what for _, what in views_of(world.engine, eko_id)[len(before):]] == ["monthly", "days"]
    seen = world.get("Eko Prasetyo", "/api/v1/attendance/views").json()["data"]
    assert [(v["viewer"], v["what"], v["nip"]) for v in seen[:2]] == [("Admin Indramayu", "days", EKO), ("Sari Staf", "monthly", EKO)]
    assert all(v["nip"] == EKO for v in seen)
    # Someone else's audit is as closed as their records.
    assert world.get("Eko Prasetyo", "/api/v1/attendance/views", nip=DINI).status_code == 404
    assert {v["nip"] for v in world.get("Admin Indramayu", "/api/v1/attendance/views", nip=EKO).json()["data"]} == {EKO}


def test_a_correction_with_its_reason_makes_the_day_and_is_kept(world: World) -> None:
    eko_id = world.employee_ids["Eko Prasetyo"]
    body = {"nip": EKO, "date": "2026-02-06", "first_in": "07:31", "last_out": "16:30", "reason": "Kartu tertinggal di rumah"}
    made = world.post("Sari Staf", "/api/v1/attendance/corrections", body)
    assert made.status_code == 201, made.text
    record = made.json()["record"]
    assert (record["status"], record["first_in"], record["late_min"], record["corrected"]) == ("late", "2026-02-06T00:31:00Z", 1, True)
    assert (record["correction_reason"], record["corrected_by"]) == ("Kartu tertinggal di rumah", "Sari Staf")
    # A later correction (the newest applies) excuses the minute; both stay on file.
    again = world.post("Rina Staf", "/api/v1/attendance/corrections", {**body, "status": "present", "reason": "Apel pagi di lapangan"})
    assert again.status_code == 201
    day = _days(world, "Eko Prasetyo", EKO)["2026-02-06"]
    assert (day["status"], day["late_min"], day["corrected_by"], day["correction_reason"]) == ("present", 0, "Rina Staf", "Apel pagi di lapangan")
    assert made.json()["id"] < again.json()["id"]
    # The employee sees the correction on his day, not as a view of his records.
    assert all(v[1] != "corrections" for v in views_of(world.engine, eko_id))


@pytest.mark.parametrize(
    ("who", "change", "status"),
    [
        ("Sari Staf", {"reason": ""}, 422),
        ("Sari Staf", {"reason": None}, 422),
        ("Sari Staf", {"first_in": "7:31"}, 422),
        ("Sari Staf", {"first_in": "17:00", "last_out": "16:00"}, 422),
        ("Sari Staf", {"date": "2026-03-04"}, 422),  # tomorrow
        ("Sari Staf", {"status": "pending"}, 422),
        ("Sari Staf", {"nip": SARI}, 403),  # her own day
        ("Budi Staf", {}, 404),  # not his office
        ("Admin Badung", {}, 404),  # not his tenant
        ("Dini Kartika", {}, 403),  # an employee
        ("Sari Staf", {"nip": UNKNOWN_NIP}, 404),
    ],
)
def test_bad_corrections_are_refused(world: World, who: str, change: dict[str, Any], status: int) -> None:
    body = {"nip": EKO, "date": "2026-02-10", "first_in": "07:31", "reason": "Kartu rusak", **change}
    assert world.post(who, "/api/v1/attendance/corrections", body).status_code == status
    assert _days(world, "Eko Prasetyo", EKO)["2026-02-10"]["corrected"] is False


def test_spans_are_bounded(world: World) -> None:
    assert world.get("Dini Kartika", f"/api/v1/attendance/employees/{DINI}/days", **{"from": "2026-02-10", "to": "2026-02-01"}).status_code == 422
    assert world.get("Dini Kartika", f"/api/v1/attendance/employees/{DINI}/days", **{"from": "2025-01-01", "to": "2026-02-01"}).status_code == 422
    assert world.get("Sari Staf", "/api/v1/attendance/monthly", month="2026-13").status_code == 422
    future = world.get("Sari Staf", "/api/v1/attendance/monthly", month="2026-05").json()
    assert future["counted_until"] is None and all(r["working_days"] == 0 for r in future["data"])
