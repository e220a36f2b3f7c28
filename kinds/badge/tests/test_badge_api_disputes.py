"""A badge heard at two far offices at once (`two_offices`: one side is a relayed EID) earns no
attendance through the badge API, over a real state store (SQLite), in a WIB tenant (Kabupaten
Sumedang) with BKPSDM and Dishub on one gateway and Kecamatan Jatinangor on another:

- Monday 2 March: a relay holds Ujang's badge in at Dishub 07:00-07:05, when Ujang shows up at
  BKPSDM; the gateway raises `two_offices` at both offices and checks the badge out at Dishub.
  Ujang's day is disputed and pending, with no first in from Dishub (nor late, nor absent);
- Tuesday 3 March: Ujang in at BKPSDM all day, a relay in at Jatinangor 10:00-10:30: the
  centre's own `two_offices` check (`kinds.badge.ingest.two_offices`) raises the event, which
  holds the day the same way;
- Neng, in at BKPSDM both days at the same times, with an unrelated `two_offices` of Ujang's
  badge and an `eid_replayed` of her own, reads present: only her badge's dispute holds her day;
- a correction by staff administration decides a disputed day and clears the flag.

The clock is fixed at Wednesday 4 March 2026, 10:00 WIB.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from badge_api_world import World
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from api.main import create_app
from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL
from central.accounts import create_key, create_user
from central.db import create_engine, prepare_database, writer
from core.config import TepiConfig, parse_config
from kinds.badge.api import attendance_data
from kinds.badge.ingest import two_offices
from kinds.badge.state import Office, PresenceEvent, SecurityEventRecord
from kinds.badge.staff import NewEmployee, add_employee, link_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

SUMEDANG = "kab-sumedang"
BKPSDM, DISHUB, JATINANGOR = "bkpsdm-sumedang", "dishub-sumedang", "kec-jatinangor"
GATEWAY = {BKPSDM: "gw-sumedang", DISHUB: "gw-sumedang", JATINANGOR: "gw-jatinangor"}
WIB = ZoneInfo("Asia/Jakarta")
#: Wednesday 4 March 2026, 10:00 WIB.
NOW = datetime(2026, 3, 4, 3, 0, tzinfo=timezone.utc)
PEOPLE = {  # name -> (role, NIP)
    "Asep Staf": ("staff_admin", "198001012005011001"),
    "Ujang Suryana": ("employee", "198702022011011002"),
    "Neng Rahayu": ("employee", "199103032015032003"),
}
NIP = {name: nip for name, (_role, nip) in PEOPLE.items()}
UJANG, NENG = NIP["Ujang Suryana"], NIP["Neng Rahayu"]


def wib(day: int, hhmm: str, seconds: int = 0) -> datetime:
    return datetime(2026, 3, day, int(hhmm[:2]), int(hhmm[3:]), seconds, tzinfo=WIB).astimezone(timezone.utc)


def _config() -> TepiConfig:
    return parse_config({
        "tenants": [{"id": SUMEDANG, "name": "Pemerintah Kabupaten Sumedang"}], "stations": [], "devices": [],
        "gateway": {"id": "gw-sumedang", "tenant": SUMEDANG},
        "offices": [  # BKPSDM-Dishub about 5.6 km, BKPSDM-Jatinangor about 19 km
            {"id": BKPSDM, "tenant": SUMEDANG, "name": "BKPSDM Kabupaten Sumedang", "lat": -6.8580, "lon": 107.9190},
            {"id": DISHUB, "tenant": SUMEDANG, "name": "Dinas Perhubungan Kabupaten Sumedang", "lat": -6.8130, "lon": 107.9420},
            {"id": JATINANGOR, "tenant": SUMEDANG, "name": "Kecamatan Jatinangor", "lat": -6.9290, "lon": 107.7700},
        ],
        "attendance": [{"tenant": SUMEDANG, "timezone": "Asia/Jakarta"}],
    })  # fmt: skip


def _badge(employee_id: int) -> str:
    return f"b{employee_id:012x}"


def _presence(ids: dict[str, int], who: str, office: str, event: str, at: datetime, n: int) -> PresenceEvent:
    return PresenceEvent(
        item_id=f"{GATEWAY[office]}:{office}:{n}", tenant_id=SUMEDANG, office_id=office, badge_id=_badge(ids[who]),
        employee_id=ids[who], event=event, at=at, decided_at=at + timedelta(seconds=31), rssi_dbm=-66.0, distance_m=2.5,
        scanners=2, device=f"{office}-scanner-1", gateway=GATEWAY[office], received_at=at + timedelta(minutes=1),
    )


def _gateway_event(ids: dict[str, int], who: str, reason: str, office: str, at: datetime, other: tuple[str, datetime] | None) -> SecurityEventRecord:
    return SecurityEventRecord(
        item_id=f"{GATEWAY[office]}:{office}:{reason}:{at.isoformat()}", tenant_id=SUMEDANG, office_id=office,
        badge_id=_badge(ids[who]), employee_id=ids[who], reason=reason, source="gateway", at=at, rssi_dbm=-70.0,
        other_office=other[0] if other else None, other_at=other[1] if other else None, distance_km=5.6 if other else None,
        eid_period_offset=None if other else -96, device=f"{office}-scanner-1", gateway=GATEWAY[office], received_at=at + timedelta(minutes=1),
    )


def story(s: Session, ids: dict[str, int]) -> None:
    """The module docstring's days, stored as ingest stores them (the centre's check after each
    presence event, in the order they arrive)."""
    arrivals = [
        # Monday: the relay first, then Ujang at BKPSDM once the gateway ended the dispute.
        ("Ujang Suryana", DISHUB, "check_in", wib(2, "07:00")),
        ("Neng Rahayu", BKPSDM, "check_in", wib(2, "07:02")),
        ("Ujang Suryana", DISHUB, "check_out", wib(2, "07:05")),
        ("Ujang Suryana", BKPSDM, "check_in", wib(2, "07:06", 30)),
        ("Ujang Suryana", BKPSDM, "check_out", wib(2, "16:05")),
        ("Neng Rahayu", BKPSDM, "check_out", wib(2, "16:10")),
        # Tuesday: Ujang at BKPSDM all day, a relay at Jatinangor (another gateway) mid-morning.
        ("Neng Rahayu", BKPSDM, "check_in", wib(3, "07:10")),
        ("Ujang Suryana", BKPSDM, "check_in", wib(3, "07:25")),
        ("Ujang Suryana", JATINANGOR, "check_in", wib(3, "10:00")),
        ("Ujang Suryana", JATINANGOR, "check_out", wib(3, "10:30")),
        ("Ujang Suryana", BKPSDM, "check_out", wib(3, "16:05")),
        ("Neng Rahayu", BKPSDM, "check_out", wib(3, "16:10")),
    ]
    offices = {o.id: o for o in s.scalars(sa.select(Office))}
    for n, (who, office, event, at) in enumerate(arrivals):
        row = _presence(ids, who, office, event, at, n)
        s.add(row)
        s.flush()
        two_offices.check(s, row, offices, at + timedelta(minutes=1))
    # Monday's gateway events: at Dishub (last heard there) and at BKPSDM, each naming the other.
    s.add(_gateway_event(ids, "Ujang Suryana", "two_offices", DISHUB, wib(2, "07:05"), (BKPSDM, wib(2, "07:05", 1))))
    s.add(_gateway_event(ids, "Ujang Suryana", "two_offices", BKPSDM, wib(2, "07:05", 1), (DISHUB, wib(2, "07:05"))))
    s.add(_gateway_event(ids, "Neng Rahayu", "eid_replayed", BKPSDM, wib(2, "10:00"), None))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('badge-api-disputes') / 'state.db'}"
    config, engine = _config(), create_engine(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(attendance_data, "utcnow", lambda: NOW)
        try:
            prepare_database(engine, config)
            keys: dict[str, str] = {}
            ids: dict[str, int] = {}
            with Session(writer(engine)) as s, s.begin():
                for name, (role, nip) in PEOPLE.items():
                    user = create_user(s, SUMEDANG, name, role)
                    keys[name] = create_key(s, TEST_PEPPER.encode(), user.id)[1]
                    ids[name] = add_employee(s, SUMEDANG, NewEmployee(nip=nip, name=name, office=BKPSDM), wib(1, "00:00"), ["pns-5-hari"])[0].id
                    link_user(s, SUMEDANG, user, nip)
                story(s, ids)
            settings = Settings(database_url=url, auth_pepper=TEST_PEPPER, public_base_url=TEST_PUBLIC_BASE_URL)  # type: ignore[arg-type]
            with TestClient(create_app(config, settings, registry=CollectorRegistry())) as client:
                yield World(client=client, engine=engine, keys=keys, employee_ids=ids)
        finally:
            engine.dispose()


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _days(world: World, nip: str) -> dict[str, dict[str, Any]]:
    body = _ok(world.get("Asep Staf", f"/api/v1/attendance/employees/{nip}/days", **{"from": "2026-03-02", "to": "2026-03-03"}))
    return {d["date"]: d for d in body["data"]}


def _recap_row(world: World, nip: str) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The employee's row of the office's March recap, as JSON and in the CSV, and the CSV's header."""
    rows = {r["nip"]: r for r in _ok(world.get("Asep Staf", "/api/v1/attendance/monthly", month="2026-03"))["data"]}
    response = world.get("Asep Staf", "/api/v1/attendance/monthly", month="2026-03", format="csv")
    assert response.status_code == 200
    reader = csv.DictReader(io.StringIO(response.text))
    csv_rows = {r["nip"]: r for r in reader}
    return rows[nip], csv_rows[nip], list(reader.fieldnames or [])


def test_a_relay_that_started_first_gives_a_disputed_day_with_no_first_in_from_it(world: World) -> None:
    monday = _days(world, UJANG)["2026-03-02"]
    assert (monday["status"], monday["disputed"], monday["first_in"], monday["last_out"], monday["worked_min"]) == (
        "pending", True, None, None, 0,
    )
    assert (monday["late_min"], monday["early_leave_min"], monday["corrected"]) == (0, 0, False)
    board = _ok(world.get("Asep Staf", "/api/v1/attendance/daily", date="2026-03-02"))
    row = next(r for r in board["data"] if r["nip"] == UJANG)
    assert {k: row[k] for k in monday} == monday


def test_the_centres_own_two_offices_event_holds_the_day_the_same_way(world: World) -> None:
    with Session(world.engine) as s:
        raised = s.scalars(sa.select(SecurityEventRecord).where(SecurityEventRecord.source == "central")).all()
    assert [(e.reason, e.office_id, e.other_office) for e in raised] == [("two_offices", BKPSDM, JATINANGOR)]
    tuesday = _days(world, UJANG)["2026-03-03"]
    assert (tuesday["status"], tuesday["disputed"], tuesday["first_in"], tuesday["worked_min"]) == ("pending", True, None, 0)


def test_an_honest_day_beside_another_badge_s_dispute_is_unaffected(world: World) -> None:
    days = _days(world, NENG)
    assert [(d["status"], d["disputed"], d["first_in"]) for d in days.values()] == [
        ("present", False, "2026-03-02T00:02:00Z"),
        ("present", False, "2026-03-03T00:10:00Z"),
    ]
    assert days["2026-03-02"]["worked_min"] == 9 * 60 + 8


def test_the_recap_counts_disputed_days_in_the_csv_s_last_column(world: World) -> None:
    recap, csv_row, header = _recap_row(world, UJANG)
    # Monday and Tuesday held, today (Wednesday, nobody in yet) pending as ever; none on time, none absent.
    assert (recap["disputed_days"], recap["pending"], recap["on_time"], recap["absent"], recap["worked_minutes"]) == (2, 3, 0, 0, 0)
    assert (header[-1], csv_row["disputed_days"]) == ("disputed_days", "2")
    assert _recap_row(world, NENG)[0]["disputed_days"] == 0


def test_a_correction_decides_a_disputed_day_and_clears_the_flag(world: World) -> None:
    body = {"nip": UJANG, "date": "2026-03-03", "first_in": "07:25", "last_out": "16:05",
            "reason": "Hadir di BKPSDM sepanjang hari (apel pagi, CCTV); kartu direlai di Jatinangor"}  # fmt: skip
    made = world.post("Asep Staf", "/api/v1/attendance/corrections", body)
    assert made.status_code == 201, made.text
    record = made.json()["record"]
    assert (record["disputed"], record["status"], record["first_in"], record["worked_min"], record["corrected"]) == (
        False, "present", "2026-03-03T00:25:00Z", 8 * 60 + 40, True,
    )
    assert _days(world, UJANG)["2026-03-03"] == record
    assert _recap_row(world, UJANG)[0]["disputed_days"] == 1  # Monday still waits
