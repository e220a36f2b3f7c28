"""A small attendance world for the centre's tests: two tenants, Indramayu's two offices 45 km
apart served by two gateways and an office of Badung, employees and their badges, in a state
store prepared as ingest prepares it (SQLite or PostgreSQL); and item builders."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import prepare_database, writer
from core.config import TepiConfig, parse_config
from ingest.service import apply_batch
from ingest.testing import batch
from kinds.badge.issuing import IssuedBadge, issue_badge
from kinds.badge.items import OfficeHealth, Presence, SecurityEvent, health_id, presence_id, security_id
from kinds.badge.keys import KeySeal
from kinds.badge.staff import NewEmployee, add_employee
from kinds.badge.state import Office

INDRAMAYU, BADUNG = "kab-indramayu", "kab-badung"
#: BKPSDM in Indramayu town, the Haurgeulis sub-district office (about 45 km west), and
#: Badung's BPBD in Mangupura.
KANTOR, HAURGEULIS, MANGUPURA = "bkpsdm-indramayu", "kec-haurgeulis", "bpbd-badung"
GW_KANTOR, GW_HAURGEULIS, GW_BADUNG = "gw-bkpsdm", "gw-haurgeulis", "gw-bpbd-badung"
NIP_DINI, NIP_EKO, NIP_WAYAN = "198503122010011004", "199001012015031002", "198807072012122001"
SEAL = KeySeal("a-test-secret-for-badge-identity-keys-0123456789")
T0 = datetime(2027, 1, 4, 0, 30, tzinfo=timezone.utc)  # Monday 07:30 WIB


#: The configuration, as a YAML file holds it.
WORLD: dict[str, Any] = {
    "tenants": [{"id": INDRAMAYU, "name": "Pemerintah Kabupaten Indramayu"}, {"id": BADUNG, "name": "Pemerintah Kabupaten Badung"}],
    "stations": [], "devices": [],
    "gateway": {"id": GW_KANTOR, "tenant": INDRAMAYU},
    "offices": [
        {"id": KANTOR, "tenant": INDRAMAYU, "name": "BKPSDM Indramayu", "lat": -6.3273, "lon": 108.3249},
        {"id": HAURGEULIS, "tenant": INDRAMAYU, "name": "Kecamatan Haurgeulis", "lat": -6.4547, "lon": 107.9404},
        {"id": MANGUPURA, "tenant": BADUNG, "name": "BPBD Badung", "lat": -8.5853, "lon": 115.1742, "require_eid": False},
    ],
    "attendance": [
        {"tenant": INDRAMAYU, "retention_days": 30, "schedules": [
            {"id": "pns-5-hari", "days": {"mon": "07:30-16:00", "tue": "07:30-16:00", "wed": "07:30-16:00",
                                         "thu": "07:30-16:00", "fri": "07:30-16:30"}},
            {"id": "shift-pagi", "days": {"mon": "06:00-14:00", "sat": "06:00-12:00"}},
        ]},
    ],
}  # fmt: skip


def world_config() -> TepiConfig:
    return parse_config(WORLD)


def prepared(engine: Engine, config: TepiConfig | None = None) -> TepiConfig:
    config = config or world_config()
    prepare_database(engine, config)
    return config


def staff(engine: Engine) -> dict[str, IssuedBadge]:
    """Dini and Eko at BKPSDM Indramayu with EID badges, Wayan at BPBD Badung with an iBeacon."""
    out = {}
    with Session(writer(engine)) as s, s.begin():
        for tenant, nip, name, office, fmt in (
            (INDRAMAYU, NIP_DINI, "Dini Kartika", KANTOR, "eid"), (INDRAMAYU, NIP_EKO, "Eko Prasetyo", KANTOR, "eid"),
            (BADUNG, NIP_WAYAN, "I Wayan Sudarma", MANGUPURA, "ibeacon"),
        ):  # fmt: skip
            add_employee(s, tenant, NewEmployee(nip=nip, name=name, office=office), T0 - timedelta(days=30), ["pns-5-hari"])
            out[nip] = issue_badge(s, tenant, nip, T0 - timedelta(days=30), SEAL, fmt=fmt)
        for issued in out.values():
            s.expunge(issued.badge)
    return out


def presence(office: str, gateway: str, badge: str, event: str, at: datetime) -> Presence:
    return Presence(
        id=presence_id(gateway, office, badge, event, at), office=office, device=f"{office}-scanner-1", badge=badge,
        event=event, at=at, decided_at=at + timedelta(seconds=31), rssi_dbm=-68.5, distance_m=2.8, scanners=2,
    )


def security(office: str, gateway: str, badge: str, reason: str, at: datetime) -> SecurityEvent:
    return SecurityEvent(
        id=security_id(gateway, office, badge, reason, at), office=office, device=f"{office}-scanner-1", badge=badge,
        reason=reason, at=at, rssi_dbm=-71.0, eid_period_offset=-96 if reason == "eid_replayed" else None,
    )


def health(office: str, gateway: str, window_end: datetime, roster_version: int) -> OfficeHealth:
    start = window_end - timedelta(minutes=5)
    return OfficeHealth(
        id=health_id(gateway, office, start), office=office, device=f"{office}-scanner-1", window_start=start,
        window_end=window_end, scanners=[], badges_heard=2, present=1, not_badges=14, roster_version=roster_version,
    )


def send(engine: Engine, items: list[Any], *, tenant: str = INDRAMAYU, gateway: str = GW_KANTOR, now: datetime | None = None) -> Any:
    """Apply one uplink batch through ingest's service, as the consumer does; its result."""
    now = now or T0 + timedelta(hours=1)
    with Session(writer(engine)) as s, s.begin():
        return apply_batch(s, batch(items, tenant=tenant, gateway=gateway, sent_at=now), None, now=now, badge_seal=SEAL)


def issued_before_eid_required(session: Session, office: str, issue: Callable[[], Any]) -> str:
    """The id of a badge `issue` makes while `office` does not require EID yet (its configuration
    turned `require_eid` on later): how a static badge comes to be held at such an office, since
    none is issued there."""
    row = session.get(Office, office)
    assert row is not None
    row.require_eid = False
    try:
        return str(issue().badge.id)
    finally:
        row.require_eid = True
