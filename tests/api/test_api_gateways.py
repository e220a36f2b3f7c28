"""`GET /api/v1/gateways`: the tenant's gateways from their health reports, stale after three
missed reports; for the admin, the disaster office and viewers only."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from api_people import BADUNG_TENANT, DKI, ClientFactory
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.routes import gateways
from api.testing import TEST_PEPPER, bearer, issue_keys
from central.db import writer
from contract.gateway_items import DeviceHealth, GatewayHealth
from ingest.service import apply_batch
from ingest.testing import batch
from kinds.awlr.ingest.points import SqlPointSink

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)


def report(gateway: str, at: datetime, every_s: float = 300.0) -> GatewayHealth:
    return GatewayHealth(
        id=f"{gateway}:gateway_health:{int(at.timestamp() * 1000)}", gateway=gateway, at=at, every_s=every_s, uptime_s=3600.0,
        outbox_items=4, outbox_bytes=2048, link_up=True, rejected_frames=5, rejected_by_reason={"garbage": 2, "unknown_device": 3},
        devices=[
            DeviceHealth(device="awlr-depok", kind="awlr", platform="depok", last_seen_at=at - timedelta(seconds=20), frames=180,
                         rejected_frames=2, battery_v=12.4),
            DeviceHealth(device="awlr-manggarai", kind="awlr", platform="manggarai", last_seen_at=None, frames=0, rejected_frames=0),
        ],
    )


def store(engine: Engine, tenant: str, item: GatewayHealth, received_at: datetime) -> None:
    """As ingest stores a report that arrived at `received_at`."""
    with Session(writer(engine)) as s, s.begin():
        result = apply_batch(s, batch([item], tenant=tenant, gateway=item.gateway), SqlPointSink(s), now=received_at)
    assert result.stored == 1, result


@pytest.fixture
def reported(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> datetime:
    """DKI Jakarta's two gateways (one heard a minute ago, one silent for 16 minutes of its
    5-minute interval) and Badung's one; the API's clock stands at the returned time."""
    now = T0 + timedelta(hours=1)
    store(engine, DKI, report("gw-ciliwung", now - timedelta(minutes=1, seconds=5)), now - timedelta(minutes=1))
    store(engine, DKI, report("gw-pesanggrahan", now - timedelta(minutes=16)), now - timedelta(minutes=16))
    store(engine, BADUNG_TENANT, report("gw-badung", now - timedelta(minutes=1)), now - timedelta(minutes=1))
    monkeypatch.setattr(gateways, "utcnow", lambda: now)
    return now


def test_the_tenants_gateways_with_their_devices_and_which_are_stale(make_client: ClientFactory, reported: datetime) -> None:
    response = make_client().get("/api/v1/gateways")
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(g["gateway"], g["tenant"], g["stale"]) for g in body] == [("gw-ciliwung", DKI, False), ("gw-pesanggrahan", DKI, True)]
    ciliwung = body[0]
    assert ciliwung["last_seen_at"] == "2026-12-07T03:58:55Z" and ciliwung["received_at"] == "2026-12-07T03:59:00Z"
    assert (ciliwung["uptime_s"], ciliwung["outbox_items"], ciliwung["outbox_bytes"], ciliwung["link_up"]) == (3600.0, 4, 2048, True)
    assert (ciliwung["rejected_frames"], ciliwung["rejected_by_reason"], ciliwung["report_every_s"]) == (
        5, {"garbage": 2, "unknown_device": 3}, 300.0
    )
    assert ciliwung["devices"] == [
        {"device": "awlr-depok", "kind": "awlr", "platform": "depok", "last_seen_at": "2026-12-07T03:58:35Z", "frames": 180,
         "rejected_frames": 2, "battery_v": 12.4, "battery_pct": None},
        {"device": "awlr-manggarai", "kind": "awlr", "platform": "manggarai", "last_seen_at": None, "frames": 0,
         "rejected_frames": 0, "battery_v": None, "battery_pct": None},
    ]
    assert "badung" not in response.text, "another tenant's gateways never show"
    badung = make_client(as_user=(BADUNG_TENANT, "Admin Badung")).get("/api/v1/gateways").json()
    assert [g["gateway"] for g in badung] == ["gw-badung"]


def test_a_gateway_is_stale_after_three_of_its_own_intervals(
    make_client: ClientFactory, engine: Engine, reported: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A gateway that reports every minute was last heard 3 min 10 s ago: stale, where a five-minute one is not.
    store(engine, DKI, report("gw-fast", reported - timedelta(minutes=4), every_s=60.0), reported - timedelta(minutes=3, seconds=10))
    stale = {g["gateway"]: g["stale"] for g in make_client().get("/api/v1/gateways").json()}
    assert stale == {"gw-ciliwung": False, "gw-fast": True, "gw-pesanggrahan": True}
    monkeypatch.setattr(gateways, "utcnow", lambda: reported + timedelta(minutes=14))
    stale = {g["gateway"]: g["stale"] for g in make_client().get("/api/v1/gateways").json()}
    assert stale["gw-ciliwung"] is False, "15 minutes after its report, not yet"
    monkeypatch.setattr(gateways, "utcnow", lambda: reported + timedelta(minutes=14, seconds=1))
    assert {g["gateway"]: g["stale"] for g in make_client().get("/api/v1/gateways").json()}["gw-ciliwung"] is True


@pytest.mark.parametrize(("role", "status"), [("viewer", 200), ("admin", 200), ("fisher", 403), ("employee", 403), ("staff_admin", 403)])
def test_who_may_read_gateway_health(make_client: ClientFactory, engine: Engine, reported: datetime, role: str, status: int) -> None:
    key = issue_keys(engine, TEST_PEPPER, [(DKI, role, f"{role} gateways")])[(DKI, f"{role} gateways")]
    response = make_client().get("/api/v1/gateways", headers=bearer(key))
    assert response.status_code == status, response.text
    if status == 200:
        assert [g["gateway"] for g in response.json()] == ["gw-ciliwung", "gw-pesanggrahan"]
