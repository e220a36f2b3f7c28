"""Days the badge API must not get wrong, over a real state store (SQLite), in a WIT tenant
(Kota Jayapura, UTC+9) that keeps presence events 30 days:

- a badge left in the office from Monday to Friday makes Monday an unclosed day (no check-out,
  for staff administration to correct) and Tuesday to Friday absent, the same on the daily
  board, the employee's days and the monthly recap and its CSV (the allowance is paid on these);
- days whose presence events retention deleted read `unavailable`, never `absent`;
- "today" is Jayapura's day even late in the UTC day: pending, not absent, until its midnight.

The clock is fixed at Tuesday 10 March 2026, 12:00 WIT, unless a test moves it.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from badge_api_world import World
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from api.main import create_app
from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL
from central.accounts import create_key, create_user
from central.db import create_engine, prepare_database, writer
from central.retention import enforce_retention
from core.config import RetentionConfig, TepiConfig, parse_config
from kinds.badge.api import attendance_data
from kinds.badge.state import LEAVE_APPROVED, LeaveRequest, PresenceEvent
from kinds.badge.staff import NewEmployee, add_employee, link_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

JAYAPURA, KANTOR = "kota-jayapura", "bkpsdm-jayapura"
WIT = ZoneInfo("Asia/Jayapura")
#: Tuesday 10 March 2026, 12:00 WIT.
NOW = datetime(2026, 3, 10, 3, 0, tzinfo=timezone.utc)
PEOPLE = {  # name -> (role, NIP)
    "Admin Jayapura": ("admin", None),
    "Markus Staf": ("staff_admin", "198101012006041001"),
    "Yohana Wonda": ("employee", "199002022015032002"),
    "Agus Kogoya": ("employee", "198803032012121003"),
}
NIP = {name: nip for name, (_role, nip) in PEOPLE.items() if nip}
YOHANA, AGUS = NIP["Yohana Wonda"], NIP["Agus Kogoya"]


def wit(month: int, day: int, hhmm: str) -> datetime:
    return datetime(2026, month, day, int(hhmm[:2]), int(hhmm[3:]), tzinfo=WIT).astimezone(timezone.utc)


def _config() -> TepiConfig:
    return parse_config({
        "tenants": [{"id": JAYAPURA, "name": "Pemerintah Kota Jayapura"}], "stations": [], "devices": [],
        "gateway": {"id": "gw-bkpsdm-jayapura", "tenant": JAYAPURA},
        "offices": [{"id": KANTOR, "tenant": JAYAPURA, "name": "BKPSDM Kota Jayapura", "lat": -2.5337, "lon": 140.7181}],
        "attendance": [{"tenant": JAYAPURA, "timezone": "Asia/Jayapura", "retention_days": 30}],
    })  # fmt: skip


def _stays() -> list[tuple[str, datetime, datetime | None]]:
    """Yohana's badge in a desk drawer from Monday 2 March 07:30 until Friday 10:05 (its check-out:
    last heard); Agus on time every weekday of 2-6 February (the 4th on leave) and 2-6 March, and
    in at 07:20 on Wednesday 11 March, still inside."""
    stays: list[tuple[str, datetime, datetime | None]] = [("Yohana Wonda", wit(3, 2, "07:30"), wit(3, 6, "10:05"))]
    for month, first in ((2, 2), (3, 2)):
        for d in range(first, first + 5):
            if (month, d) != (2, 4):
                stays.append(("Agus Kogoya", wit(month, d, "07:20"), wit(month, d, "16:35" if d == first + 4 else "16:05")))
    stays.append(("Agus Kogoya", wit(3, 11, "07:20"), None))
    return stays


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('badge-api-days') / 'state.db'}"
    config, engine = _config(), create_engine(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(attendance_data, "utcnow", lambda: NOW)
        try:
            prepare_database(engine, config)
            keys: dict[str, str] = {}
            ids: dict[str, int] = {}
            with Session(writer(engine)) as s, s.begin():
                for name, (role, nip) in PEOPLE.items():
                    user = create_user(s, JAYAPURA, name, role)
                    keys[name] = create_key(s, TEST_PEPPER.encode(), user.id)[1]
                    if nip is not None:
                        person = NewEmployee(nip=nip, name=name, office=KANTOR)
                        ids[name] = add_employee(s, JAYAPURA, person, wit(1, 1, "00:00"), ["pns-5-hari"])[0].id
                        link_user(s, JAYAPURA, user, nip)
                n = 0
                for who, check_in, check_out in _stays():
                    for event, at in (("check_in", check_in), ("check_out", check_out)):
                        if at is None:
                            continue
                        n += 1
                        s.add(PresenceEvent(
                            item_id=f"gw:{KANTOR}:{n}", tenant_id=JAYAPURA, office_id=KANTOR, badge_id=f"b{ids[who]:012x}",
                            employee_id=ids[who], event=event, at=at, decided_at=at, rssi_dbm=-65.0, distance_m=2.0, scanners=2,
                            device=f"{KANTOR}-scanner-1", gateway="gw-bkpsdm-jayapura", received_at=at + timedelta(minutes=1),
                        ))  # fmt: skip
                s.add(LeaveRequest(
                    tenant_id=JAYAPURA, employee_id=ids["Agus Kogoya"], kind="cuti", first_day=date(2026, 2, 4), last_day=date(2026, 2, 4),
                    reason="Urusan keluarga", status=LEAVE_APPROVED, requested_at=wit(2, 2, "08:00"), decided_at=wit(2, 2, "09:00"),
                ))  # fmt: skip
            settings = Settings(database_url=url, auth_pepper=TEST_PEPPER, public_base_url=TEST_PUBLIC_BASE_URL)  # type: ignore[arg-type]
            with TestClient(create_app(config, settings, registry=CollectorRegistry())) as client:
                yield World(client=client, engine=engine, keys=keys, employee_ids=ids)
        finally:
            engine.dispose()


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _days(world: World, nip: str, first: str, last: str) -> dict[str, dict[str, Any]]:
    body = _ok(world.get("Markus Staf", f"/api/v1/attendance/employees/{nip}/days", **{"from": first, "to": last}))
    return {d["date"]: d for d in body["data"]}


def _recap_row(world: World, month: str, nip: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The employee's row of the office's monthly recap, as JSON and in the CSV."""
    rows = {r["nip"]: r for r in _ok(world.get("Markus Staf", "/api/v1/attendance/monthly", month=month))["data"]}
    response = world.get("Markus Staf", "/api/v1/attendance/monthly", month=month, format="csv")
    assert response.status_code == 200
    csv_rows = {r["nip"]: r for r in csv.DictReader(io.StringIO(response.text))}
    return rows[nip], csv_rows[nip]


def test_stays_are_paired_within_each_local_day() -> None:
    """A lost check-out on Monday (a gateway restarted) does not swallow Tuesday: Tuesday's check-in
    starts Tuesday's stay, Monday's stays open (for the rules to cut at midnight), and a check-out
    whose check-in was on the day before starts nothing. Whatever span is read, a day's stays are
    the same."""
    events = [
        (KANTOR, "check_in", wit(3, 2, "07:30")),
        (KANTOR, "check_in", wit(3, 3, "07:40")),
        (KANTOR, "check_out", wit(3, 3, "16:00")),
        (KANTOR, "check_in", wit(3, 4, "20:00")),
        (KANTOR, "check_out", wit(3, 5, "01:00")),
    ]
    stays = attendance_data.pair_stays(events, WIT)
    assert stays == [(wit(3, 2, "07:30"), None), (wit(3, 3, "07:40"), wit(3, 3, "16:00")), (wit(3, 4, "20:00"), None)]
    assert attendance_data.stays_on(stays, date(2026, 3, 3), WIT) == [(wit(3, 3, "07:40"), wit(3, 3, "16:00"))]
    assert attendance_data.stays_on(stays, date(2026, 3, 5), WIT) == []
    for first in range(2, 6):  # read from a later day on: the days read have the same stays
        later = attendance_data.pair_stays([e for e in events if e[2] >= wit(3, first, "00:00")], WIT)
        assert later == [s for s in stays if s[0] >= wit(3, first, "00:00")]


def test_a_badge_left_in_the_office_all_week_reads_the_same_everywhere(world: World) -> None:
    """Monday is present with no check-out (flagged), Tuesday to Friday absent: on the board of
    each day, in her days and in her month, never "present from 00:00"."""
    days = _days(world, YOHANA, "2026-03-02", "2026-03-06")
    month = {d["date"]: d for d in _ok(world.get("Markus Staf", f"/api/v1/attendance/employees/{YOHANA}/monthly", month="2026-03"))["days"]}
    for day, record in days.items():
        board = _ok(world.get("Markus Staf", "/api/v1/attendance/daily", date=day))
        row = next(r for r in board["data"] if r["nip"] == YOHANA)
        assert {k: row[k] for k in record} == record == month[day], day
    monday = days["2026-03-02"]
    assert (monday["status"], monday["first_in"], monday["last_out"], monday["unclosed"]) == ("present", "2026-03-01T22:30:00Z", None, True)
    assert (monday["early_leave_min"], monday["early_leave_band"]) == (0, 0)
    assert {d: r["status"] for d, r in days.items() if d != "2026-03-02"} == dict.fromkeys(["2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"], "absent")
    assert all(r["first_in"] is None and r["worked_min"] == 0 and not r["unclosed"] for d, r in days.items() if d != "2026-03-02")
    # The recap the allowance is paid on: one day in, flagged; absent the rest of the week and Monday 9th; today pending.
    recap, csv_row = _recap_row(world, "2026-03", YOHANA)
    assert (recap["on_time"], recap["absent"], recap["pending"], recap["unclosed_days"], recap["unavailable"]) == (1, 5, 1, 1, 0)
    assert (csv_row["absent"], csv_row["unclosed_days"]) == ("5", "1")
    # Agus, in and out every day that week, has no day flagged.
    assert [r["unclosed"] for r in _days(world, AGUS, "2026-03-02", "2026-03-06").values()] == [False] * 5


def test_a_correction_of_the_last_out_settles_an_unclosed_day(world: World) -> None:
    body = {"nip": YOHANA, "date": "2026-03-02", "last_out": "16:02", "reason": "Lupa membawa kartu pulang; keluar 16.02 (buku tamu)"}
    made = world.post("Markus Staf", "/api/v1/attendance/corrections", body)
    assert made.status_code == 201, made.text
    record = made.json()["record"]
    assert (record["unclosed"], record["last_out"], record["early_leave_min"], record["corrected"]) == (False, "2026-03-02T07:02:00Z", 0, True)
    assert _recap_row(world, "2026-03", YOHANA)[0]["unclosed_days"] == 0


def test_days_past_retention_are_unavailable_not_absent(world: World) -> None:
    """30 days kept, asked at 12:00 WIT on 10 March: the events of 1-8 February may be gone. Those
    days read unavailable (approved leave and days off still read as such), before and after
    the retention pass deletes them; from the 9th on the days are judged."""
    def february() -> tuple[dict[str, dict[str, Any]], dict[str, Any], dict[str, str]]:
        return (_days(world, AGUS, "2026-02-01", "2026-02-28"), *_recap_row(world, "2026-02", AGUS))

    before = february()
    days, recap, csv_row = before
    assert [days[f"2026-02-0{d}"]["status"] for d in range(1, 10)] == [
        "day_off", "unavailable", "unavailable", "leave", "unavailable", "unavailable", "day_off", "day_off", "absent",
    ]
    assert days["2026-02-02"]["first_in"] is None and days["2026-02-02"]["worked_min"] == 0
    assert (recap["working_days"], recap["unavailable"], recap["leave"], recap["absent"], recap["on_time"]) == (20, 4, 1, 15, 0)
    assert (csv_row["unavailable"], csv_row["absent"]) == ("4", "15")
    board = _ok(world.get("Markus Staf", "/api/v1/attendance/daily", date="2026-02-03"))
    assert board["totals"] == {"unavailable": 3}
    with Session(writer(world.engine)) as s, s.begin():
        assert enforce_retention(s, NOW, RetentionConfig())["presence_events"] == 8  # Agus's 2, 3, 5 and 6 February
    assert february() == before


def test_today_in_wit_late_in_the_utc_day_is_jayapura_s_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 22:59 UTC on 10 March it is 07:59 on Wednesday 11 March in Jayapura: the board's today
    is the 11th, Agus (in at 07:20) is inside, the others are pending, not absent; the 10th is over."""
    monkeypatch.setattr(attendance_data, "utcnow", lambda: datetime(2026, 3, 10, 22, 59, tzinfo=timezone.utc))
    board = _ok(world.get("Markus Staf", "/api/v1/attendance/daily"))
    rows = {r["nip"]: r for r in board["data"]}
    assert board["date"] == "2026-03-11"
    assert (rows[AGUS]["status"], rows[AGUS]["last_out"], rows[AGUS]["worked_min"], rows[AGUS]["unclosed"]) == ("present", None, 39, False)
    assert rows[YOHANA]["status"] == rows[NIP["Markus Staf"]]["status"] == "pending"
    mine = _ok(world.get("Yohana Wonda", f"/api/v1/attendance/employees/{YOHANA}/days"))
    assert mine["last_day"] == "2026-03-11"
    assert [(d["date"], d["status"]) for d in mine["data"][-2:]] == [("2026-03-10", "absent"), ("2026-03-11", "pending")]
    monthly = _ok(world.get("Markus Staf", "/api/v1/attendance/monthly", month="2026-03"))
    assert monthly["counted_until"] == "2026-03-11"
    assert {r["nip"]: r["pending"] for r in monthly["data"]} == {NIP["Markus Staf"]: 1, YOHANA: 1, AGUS: 0}


def test_before_work_starts_the_board_says_so_and_names_the_last_working_day(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Monday 9 March at 06:30 WIT nobody is in yet, and nobody is late: the board says work
    starts at 07:30 WIT and that Friday the 6th was the last working day (the weekend skipped),
    for the console to offer; at 08:00 it has started. A Sunday's board has no start."""
    monkeypatch.setattr(attendance_data, "utcnow", lambda: wit(3, 9, "06:30"))
    early = _ok(world.get("Markus Staf", "/api/v1/attendance/daily"))
    assert (early["date"], early["before_start"], early["previous_working_day"]) == ("2026-03-09", True, "2026-03-06")
    assert datetime.fromisoformat(early["work_starts"]) == wit(3, 9, "07:30")
    monkeypatch.setattr(attendance_data, "utcnow", lambda: wit(3, 9, "08:00"))
    assert _ok(world.get("Markus Staf", "/api/v1/attendance/daily"))["before_start"] is False
    sunday = _ok(world.get("Markus Staf", "/api/v1/attendance/daily", date="2026-03-08"))
    assert (sunday["work_starts"], sunday["before_start"], sunday["previous_working_day"]) == (None, False, "2026-03-06")


def test_days_before_registration_are_not_absent(world: World) -> None:
    """Registered on Wednesday 4 March (a mid-month rollout): Monday 2 and Tuesday 3 March are no
    day of hers, on her days, the boards and the recap the allowance is paid on; from the 4th on
    the days are judged."""
    nip = "199505052020122005"
    with Session(writer(world.engine)) as s, s.begin():
        add_employee(s, JAYAPURA, NewEmployee(nip=nip, name="Ribka Rollout", office=KANTOR), wit(3, 4, "10:00"), ["pns-5-hari"])
    days = _days(world, nip, "2026-03-02", "2026-03-06")
    assert {d: r["status"] for d, r in days.items()} == dict.fromkeys(["2026-03-04", "2026-03-05", "2026-03-06"], "absent")
    for day in ("2026-03-02", "2026-03-03"):
        board = _ok(world.get("Markus Staf", "/api/v1/attendance/daily", date=day))
        assert nip not in {r["nip"] for r in board["data"]} and board["count"] == sum(board["totals"].values()) == 3, day
    recap, csv_row = _recap_row(world, "2026-03", nip)
    assert (recap["working_days"], recap["absent"], recap["pending"], recap["unavailable"]) == (5, 4, 1, 0)
    assert csv_row["absent"] == "4"
