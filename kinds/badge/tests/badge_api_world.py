"""The badge API's test world: two tenants (Indramayu in WIB, Badung in WITA), three offices,
staff with every attendance role linked to their employee rows, a February 2026 of presence
events, one app over SQLite per test module, and the clock fixed at Tuesday 3 March 2026, 10:00
WIB, so that "today" and "a past day" are the same on every run.

Dini's February at BKPSDM (schedule 07:30-16:00, Friday -16:30; holidays 16 and 17 February,
cuti bersama and Imlek per the SKB of 2025): on time Monday 2nd, 22 min late Tuesday 3rd, leaving
60 min early Wednesday 4th, on approved leave Thursday 5th, absent Friday 6th, out for lunch
Monday 9th, at both of the tenant's offices Wednesday 11th, in for two hours on the holiday of
the 16th; absent every other working day.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.main import create_app
from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL, bearer
from central.accounts import create_key, create_user
from central.db import create_engine, prepare_database, writer
from core.config import TepiConfig, parse_config
from kinds.badge.api import attendance_data
from kinds.badge.state import LEAVE_APPROVED, LeaveRequest, PresenceEvent, SecurityEventRecord
from kinds.badge.staff import NewEmployee, add_employee, link_user

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

INDRAMAYU, BADUNG = "kab-indramayu", "kab-badung"
KANTOR, HAURGEULIS, MANGUPURA = "bkpsdm-indramayu", "kec-haurgeulis", "bpbd-badung"
WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")
#: Tuesday 3 March 2026, 10:00 WIB: February is over.
NOW = datetime(2026, 3, 3, 3, 0, tzinfo=timezone.utc)
HIRED = datetime(2026, 1, 31, 17, 0, tzinfo=timezone.utc)  # 1 February 00:00 WIB
HOLIDAYS = [date(2026, 2, 16), date(2026, 2, 17)]

#: name -> (tenant, role, NIP, office); no NIP: a user linked to no employee.
PEOPLE: dict[str, tuple[str, str, str | None, str | None]] = {
    "Admin Indramayu": (INDRAMAYU, "admin", None, None),
    "Sari Staf": (INDRAMAYU, "staff_admin", "198001012005012001", KANTOR),
    "Rina Staf": (INDRAMAYU, "staff_admin", "198202022006042002", KANTOR),
    "Budi Staf": (INDRAMAYU, "staff_admin", "197903032003121003", HAURGEULIS),
    "Dini Kartika": (INDRAMAYU, "employee", "198503122010011004", KANTOR),
    "Eko Prasetyo": (INDRAMAYU, "employee", "199001012015031002", KANTOR),
    "Hadi Susanto": (INDRAMAYU, "employee", "199204042019031005", HAURGEULIS),
    "Viewer Indramayu": (INDRAMAYU, "viewer", None, None),
    "Admin Badung": (BADUNG, "admin", None, None),
    "I Wayan Sudarma": (BADUNG, "employee", "198807072012122001", MANGUPURA),
}
NIP = {name: nip for name, (_t, _r, nip, _o) in PEOPLE.items() if nip}
UNKNOWN_NIP = "199912312020121999"


def world_config() -> TepiConfig:
    return parse_config({
        "tenants": [{"id": INDRAMAYU, "name": "Pemerintah Kabupaten Indramayu"}, {"id": BADUNG, "name": "Pemerintah Kabupaten Badung"}],
        "stations": [], "devices": [],
        "gateway": {"id": "gw-bkpsdm", "tenant": INDRAMAYU},
        "offices": [
            {"id": KANTOR, "tenant": INDRAMAYU, "name": "BKPSDM Indramayu", "lat": -6.3273, "lon": 108.3249},
            {"id": HAURGEULIS, "tenant": INDRAMAYU, "name": "Kecamatan Haurgeulis", "lat": -6.4547, "lon": 107.9404},
            {"id": MANGUPURA, "tenant": BADUNG, "name": "BPBD Badung", "lat": -8.5853, "lon": 115.1742},
        ],
        "attendance": [
            {"tenant": INDRAMAYU, "timezone": "Asia/Jakarta", "holidays": [d.isoformat() for d in HOLIDAYS]},
            {"tenant": BADUNG, "timezone": "Asia/Makassar"},
        ],
    })  # fmt: skip


def wib(day: int, hhmm: str, month: int = 2) -> datetime:
    return datetime(2026, month, day, int(hhmm[:2]), int(hhmm[3:]), tzinfo=WIB).astimezone(timezone.utc)


#: (employee, office, check-in, check-out) in February 2026, WIB (Wayan's: WITA, see `story`).
DINI_STAYS = [
    (KANTOR, wib(2, "07:25"), wib(2, "16:05")),
    (KANTOR, wib(3, "07:52"), wib(3, "16:10")),
    (KANTOR, wib(4, "07:20"), wib(4, "15:00")),
    (KANTOR, wib(9, "07:28"), wib(9, "12:00")),
    (KANTOR, wib(9, "13:00"), wib(9, "16:02")),
    (KANTOR, wib(11, "07:30"), wib(11, "10:00")),
    (HAURGEULIS, wib(11, "10:40"), wib(11, "16:00")),
    (KANTOR, wib(16, "09:00"), wib(16, "11:00")),
]


@dataclass
class World:
    client: TestClient
    engine: Engine
    keys: dict[str, str] = field(default_factory=dict)
    employee_ids: dict[str, int] = field(default_factory=dict)

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=bearer(self.keys[who]))

    def post(self, who: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=body, headers=bearer(self.keys[who]), **kwargs)


def presence_event(employee_id: int, office: str, event: str, at: datetime, n: int) -> PresenceEvent:
    return PresenceEvent(
        item_id=f"gw-{office}:{office}:b{employee_id:012x}:{event}:{n}", tenant_id=INDRAMAYU if office != MANGUPURA else BADUNG,
        office_id=office, badge_id=f"b{employee_id:012x}", employee_id=employee_id, event=event, at=at,
        decided_at=at + timedelta(seconds=31), rssi_dbm=-66.0, distance_m=2.5, scanners=2, device=f"{office}-scanner-1",
        gateway=f"gw-{office}", received_at=at + timedelta(minutes=1),
    )


def story(s: Session, ids: dict[str, int]) -> None:
    """Presence, leave and security events of the world (see the module docstring)."""
    n = 0
    stays = [("Dini Kartika", *stay) for stay in DINI_STAYS]
    # Wayan in Badung: 07:45 WITA on Tuesday the 3rd is 23:45 UTC on the 2nd.
    wita_in = datetime(2026, 2, 3, 7, 45, tzinfo=WITA).astimezone(timezone.utc)
    stays.append(("I Wayan Sudarma", MANGUPURA, wita_in, wita_in + timedelta(hours=8, minutes=30)))
    stays.append(("Hadi Susanto", HAURGEULIS, wib(3, "07:10"), wib(3, "16:00")))
    for who, office, check_in, check_out in stays:
        for event, at in (("check_in", check_in), ("check_out", check_out)):
            n += 1
            s.add(presence_event(ids[who], office, event, at, n))
    s.add(LeaveRequest(
        tenant_id=INDRAMAYU, employee_id=ids["Dini Kartika"], kind="cuti", first_day=date(2026, 2, 5), last_day=date(2026, 2, 5),
        reason="Keperluan keluarga", status=LEAVE_APPROVED, requested_at=wib(2, "08:00"), decided_at=wib(2, "09:00"),
    ))  # fmt: skip
    for who, office, tenant in (("Dini Kartika", KANTOR, INDRAMAYU), ("I Wayan Sudarma", MANGUPURA, BADUNG)):
        at = wib(20, "08:00", month=2)
        s.add(SecurityEventRecord(
            item_id=f"gw-{office}:{office}:sec-eid_replayed:{who[:4]}", tenant_id=tenant, office_id=office,
            badge_id=f"b{ids[who]:012x}", employee_id=ids[who], reason="eid_replayed", source="gateway", at=NOW - timedelta(days=1),
            rssi_dbm=-70.0, eid_period_offset=-96, device=f"{office}-scanner-1", gateway=f"gw-{office}", received_at=at,
        ))  # fmt: skip


def fill_world(engine: Engine, config: TepiConfig) -> tuple[dict[str, str], dict[str, int]]:
    """The world's users with their keys, employees and story in an empty store: (keys by name,
    employee ids by name)."""
    prepare_database(engine, config)
    keys: dict[str, str] = {}
    ids: dict[str, int] = {}
    with Session(writer(engine)) as s, s.begin():
        for name, (tenant, role, nip, office) in PEOPLE.items():
            user = create_user(s, tenant, name, role)
            keys[name] = create_key(s, TEST_PEPPER.encode(), user.id)[1]
            if nip is not None:
                employee, _ = add_employee(s, tenant, NewEmployee(nip=nip, name=name, office=office or ""), HIRED, ["pns-5-hari"])
                link_user(s, tenant, user, nip)
                ids[name] = employee.id
        story(s, ids)
    return keys, ids


def world_settings(url: str) -> Settings:
    return Settings(database_url=url, auth_pepper=TEST_PEPPER, public_base_url=TEST_PUBLIC_BASE_URL)  # type: ignore[arg-type]


def build_world(tmp: Path) -> Iterator[World]:
    """The world's app and data; the badge API's clock fixed at `NOW` while it lasts."""
    import pytest

    url = f"sqlite:///{tmp / 'state.db'}"
    config = world_config()
    engine = create_engine(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(attendance_data, "utcnow", lambda: NOW)
        try:
            keys, ids = fill_world(engine, config)
            with TestClient(create_app(config, world_settings(url), registry=CollectorRegistry())) as client:
                yield World(client=client, engine=engine, keys=keys, employee_ids=ids)
        finally:
            engine.dispose()


def views_of(engine: Engine, employee_id: int) -> list[tuple[int, str]]:
    """(viewer user id, what) of the view audit rows about an employee, oldest first."""
    from kinds.badge.state import RecordView

    with Session(engine) as s:
        return [(r.viewer_user, r.what) for r in s.scalars(sa.select(RecordView).where(RecordView.subject_employee == employee_id).order_by(RecordView.id))]
