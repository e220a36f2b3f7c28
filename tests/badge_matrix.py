"""The badge kind's part of the authorisation matrix (tests/test_authz_matrix.py): each tenant's
office, its staff (the matrix's staff_admin and employee users linked to employee rows, and a
colleague of theirs linked to no one), a security event, and the requests' bodies and queries.

Offices and names carry the tenant's id, so the matrix's leak check (the other tenant's id
anywhere in an answer) sees another tenant's staff too.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import User, writer
from kinds.badge.state import LEAVE_REQUESTED, LeaveRequest, Office, SecurityEventRecord
from kinds.badge.staff import NewEmployee, add_employee, link_user

HIRED = datetime(2024, 1, 1, tzinfo=timezone.utc)
#: A NIP no tenant has: what another tenant's employee must look like.
MISSING_NIP = "199912312020121999"
_NIPS = {"dki-jakarta": ("198001012005012001", "198503122010011004", "199001012015031002"),
         "kab-badung": ("197903032003121003", "198807072012122001", "199204042019031005")}  # fmt: skip


def badge_objects(s: Session, tenant: str, users: dict[str, User]) -> dict[str, Any]:
    """The tenant's office with its staff_admin, employee and their colleague; a spoofing attempt."""
    office = f"{tenant}-kantor"
    s.add(Office(id=office, tenant_id=tenant, name=f"Kantor {tenant}", lat=-6.2, lon=106.8, require_eid=True))
    s.flush()
    staff_nip, own_nip, colleague_nip = _NIPS[tenant]
    ids = {}
    for nip, who in ((staff_nip, "staff_admin"), (own_nip, "employee"), (colleague_nip, None)):
        employee, _ = add_employee(s, tenant, NewEmployee(nip=nip, name=f"Pegawai {who or 'lain'} {tenant}", office=office), HIRED, ["pns-5-hari"])
        if who is not None:
            link_user(s, tenant, users[who], nip)
        ids[nip] = employee.id
    at = datetime.now(timezone.utc) - timedelta(hours=1)
    s.add(SecurityEventRecord(
        item_id=f"gw-{tenant}:{office}:sec:{tenant}", tenant_id=tenant, office_id=office, badge_id="b0123456789ab",
        employee_id=ids[own_nip], reason="eid_replayed", source="gateway", at=at, rssi_dbm=-70.0,
        device=f"{tenant}-scanner", gateway=f"gw-{tenant}", received_at=at,
    ))  # fmt: skip
    return {"nip": own_nip, "colleague_nip": colleague_nip, "office": office, "employee_id": ids[own_nip]}


def throwaway_leave(engine: Engine, employee_id: int, tenant: str) -> int:
    """A waiting leave request of the tenant's employee, for one approval or rejection."""
    first = date.today() + timedelta(days=400)
    with Session(writer(engine)) as s, s.begin():
        row = LeaveRequest(tenant_id=tenant, employee_id=employee_id, kind="cuti", first_day=first, last_day=first,
                           reason="Cuti", status=LEAVE_REQUESTED, requested_at=datetime.now(timezone.utc))  # fmt: skip
        s.add(row)
        s.flush()
        return row.id


def _last_working_day() -> date:
    """The latest weekday before today in WIB (the matrix's tenants keep the default schedule)."""
    day = datetime.now(ZoneInfo("Asia/Jakarta")).date() - timedelta(days=1)
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def badge_request(path: str, values: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(query, keyword arguments of the request: `json` or `content`) of a badge endpoint."""
    nip = values.get("nip")
    if path == "/api/v1/employees/import":
        row = f"19{secrets.randbelow(10**16):016d},Pegawai Baru,{values.get('office')}"
        return params, {"content": f"nip,name,office\n{row}\n".encode(), "headers": {"Content-Type": "text/csv"}}
    if path.endswith("/monthly"):
        return {**params, "month": (_last_working_day().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")}, {}
    if path == "/api/v1/attendance/corrections":
        return params, {"json": {"nip": nip, "date": _last_working_day().isoformat(), "status": "present", "reason": "Apel di luar kantor"}}
    if path == "/api/v1/activities" and values.get("method") == "POST":
        body = {"date": _last_working_day().isoformat(), "start": "08:00", "end": "09:00", "description": "Menyusun laporan"}
        return params, {"json": body}
    if path == "/api/v1/leave" and values.get("method") == "POST":
        first = date.today() + timedelta(days=30)  # each user asks once per world: no overlap
        return params, {"json": {"kind": "cuti", "first_day": first.isoformat(), "last_day": first.isoformat(), "reason": "Cuti"}}
    if path.endswith("/reject"):
        return params, {"json": {"note": "Tidak dapat disetujui"}}
    return params, {}
