"""A gateway's reports of readings its site broker dropped: one gateway_health alert, counted once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import Alert, AlertEvent, Station, writer
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import ApplyResult, apply_batch
from ingest.testing import batch
from contract.envelope import encode_uplink
from contract.gateway_items import BrokerDrops, SummariesDropped
from contract.items import PRIORITY_ROUTINE
from contract.uplink_batch import decode_batch
from core.config import BrokerConfig
from gateway.outbox import Outbox
from gateway.stored_item import StoredItem
from gateway.uplink import Uplink
from prometheus_client import CollectorRegistry

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"


def report(minute: int, dropped: int, total: int, *, since: int | None = None, active: bool = True) -> BrokerDrops:
    until = T0 + timedelta(minutes=minute)
    return BrokerDrops(
        id=f"{GW}:broker_drops:{int(until.timestamp() * 1000)}", station="depok", active=active, dropped=dropped,
        broker_total=total, since=None if since is None else T0 + timedelta(minutes=since), until=until,
    )


def apply(engine: Engine, *items: BrokerDrops, tenant: str = "dki-jakarta") -> ApplyResult:
    with Session(writer(engine)) as s, s.begin():
        return apply_batch(s, batch(list(items), tenant=tenant, gateway=GW), SqlPointSink(s))  # type: ignore[list-item]


def health(engine: Engine) -> tuple[list[Alert], list[AlertEvent]]:
    with Session(engine) as s:
        alerts = list(s.scalars(sa.select(Alert).where(Alert.type == "gateway_health").order_by(Alert.id)))
        events = list(s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_type == "gateway_health").order_by(AlertEvent.seq)))
        return alerts, events


def test_drops_open_one_alert_per_gateway_counted_once_across_gateway_restarts(engine: Engine) -> None:
    # The gateway starts after an outage and reads the broker's count: 40 dropped since it started.
    first = apply(engine, report(0, 40, 40))
    assert first.site_broker_drops == {GW: 40} and first.alerts == {"opened": 1}
    # It restarts and reads the same count again: nothing new, no alert change.
    again = apply(engine, report(5, 40, 40))
    assert again.site_broker_drops == {} and again.alerts == {}
    # Drops go on while it runs: reported as increases.
    more = apply(engine, report(6, 12, 52, since=5))
    assert more.site_broker_drops == {GW: 12} and more.alerts == {"updated": 1}
    # Restarted again: of the broker's 60, 8 are new.
    assert apply(engine, report(9, 60, 60)).site_broker_drops == {GW: 8}
    alerts, events = health(engine)
    assert [(a.tenant_id, a.station_id, a.severity, a.status) for a in alerts] == [("dki-jakarta", "depok", "warning", "active")]
    assert [(e.kind, e.who, e.payload["detail"]["gateway"], e.payload["detail"]["dropped"]) for e in events] == [
        ("opened", f"gateway:{GW}", GW, 40), ("updated", f"gateway:{GW}", GW, 12), ("updated", f"gateway:{GW}", GW, 8),
    ]
    assert events[1].payload["detail"]["since"] == (T0 + timedelta(minutes=5)).isoformat()


def test_drops_stopped_clears_the_alert_and_new_drops_open_another(engine: Engine) -> None:
    apply(engine, report(0, 40, 40))
    cleared = apply(engine, report(10, 0, 40, since=0, active=False))
    assert cleared.alerts == {"cleared": 1}
    apply(engine, report(30, 3, 43, since=20))
    alerts, _ = health(engine)
    assert [(a.status, a.clear_reason) for a in alerts] == [("cleared", "drops_stopped"), ("active", None)]


def test_a_late_drops_stopped_report_does_not_clear_newer_drops(engine: Engine) -> None:
    apply(engine, report(30, 3, 3))
    assert apply(engine, report(20, 0, 3, since=5, active=False)).alerts == {}
    alerts, _ = health(engine)
    assert [a.status for a in alerts] == ["active"]


def test_a_broker_restart_between_gateway_runs_counts_its_whole_new_count(engine: Engine) -> None:
    apply(engine, report(0, 40, 40))
    assert apply(engine, report(5, 7, 7)).site_broker_drops == {GW: 7}  # 7 < 40: the broker started again


def test_a_report_is_no_sign_of_the_station_and_cannot_reach_another_tenant(engine: Engine) -> None:
    result = apply(engine, report(0, 40, 40), tenant="kab-badung")
    assert result.rejected == {"foreign_station": 1}
    assert health(engine) == ([], [])
    apply(engine, report(1, 40, 40))
    with Session(engine) as s:
        depok = s.get(Station, "depok")
        assert depok is not None and depok.last_arrival_at is None  # a drop report is not data from the river


def _with_vessels(engine: Engine) -> None:
    from kinds.fishfinder.state import register_vessel

    with Session(writer(engine)) as s, s.begin():
        register_vessel(s, vessel_id="km-bahari", tenant="dki-jakarta", name="KM Bahari", home_port="Muara Angke", gateway_id=BOAT, now=T0)
        register_vessel(s, vessel_id="km-badung", tenant="kab-badung", name="KM Badung", home_port="Benoa", gateway_id="gw-b", now=T0)


BOAT = "gw-kapal-1"


def test_every_series_evicted_on_a_boat_is_reported_and_stored_with_its_own_count(engine: Engine, tmp_path: Path) -> None:
    _with_vessels(engine)
    # A boat gateway's full outbox evicts tracks and sea summaries of one vessel: two series.
    box = Outbox(tmp_path / "outbox.db", max_bytes=5000)
    for k in range(40):
        for item_type in ("track", "sea_summary"):
            body = b'{"kind":"fishfinder","x":"' + b"x" * 200 + b'"}'
            box.put([StoredItem(f"{BOAT}:km-bahari:{item_type}:{k}", PRIORITY_ROUTINE, "fishfinder", item_type, "km-bahari/ff1", 1.7e9 + 600 * k, body)])
    kept = {e.item_id for e in box.peek(1000)}
    evicted = {t: sum(f"{BOAT}:km-bahari:{t}:{k}" not in kept for k in range(40)) for t in ("track", "sea_summary")}
    assert all(evicted.values()), "both series lost items"
    up = Uplink(box, BrokerConfig(port=1), "dki-jakarta", BOAT, CollectorRegistry())
    up._report_drops()
    bodies = [e.body for e in box.peek(1000) if b"summaries_dropped" in e.body]
    box.close()
    reports = [SummariesDropped.model_validate_json(b) for b in bodies]
    assert sorted(r.count for r in reports) == sorted(evicted.values())
    with Session(writer(engine)) as s, s.begin():
        result = apply_batch(s, decode_batch(encode_uplink("dki-jakarta", BOAT, bodies, T0, msg=1)), SqlPointSink(s))
    assert result.rejected == {}
    assert result.stored == 2
    assert result.dropped_at_edge == {"km-bahari": sum(evicted.values())}


def test_a_boat_gateway_s_broker_drops_alert_its_vessel_and_unknown_platforms_stay_rejected(engine: Engine) -> None:
    _with_vessels(engine)

    def boat_report(minute: int, vessel: str = "km-bahari", **kw: object) -> BrokerDrops:
        r = report(minute, 5, 5 + minute, **kw)  # type: ignore[arg-type]
        return r.model_copy(update={"station": vessel, "id": f"{BOAT}:{vessel}:broker_drops:{minute}"})

    def apply_boat(*items: BrokerDrops) -> ApplyResult:
        with Session(writer(engine)) as s, s.begin():
            return apply_batch(s, batch(list(items), gateway=BOAT), SqlPointSink(s))  # type: ignore[list-item]

    opened = apply_boat(boat_report(0), boat_report(1, "km-nobody"), boat_report(2, "km-badung"))
    assert opened.rejected == {"unknown_station": 1, "foreign_vessel": 1}
    assert opened.alerts == {"opened": 1} and opened.site_broker_drops == {BOAT: 5}
    assert apply_boat(boat_report(3, since=0)).alerts == {"updated": 1}
    assert apply_boat(boat_report(10, since=3, active=False)).alerts == {"cleared": 1}
    alerts, events = health(engine)
    assert [(a.tenant_id, a.kind, a.subject, a.station_id, a.status) for a in alerts] == [
        ("dki-jakarta", "fishfinder", "km-bahari", None, "cleared")]
    assert [(e.kind, e.payload["detail"].get("gateway"), e.payload["detail"].get("dropped")) for e in events] == [
        ("opened", BOAT, 5), ("updated", BOAT, 5), ("cleared", None, None)]
