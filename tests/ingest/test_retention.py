"""Retention: who acted on alerts is erased after `alert_actor_days`, bookkeeping rows deleted; injected clock."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.alerts import acknowledge, clear_alert, close, raise_siaga
from ingest.consumer import IngestWorker
from central.db import Alert, AlertEvent, LevelPoint, ProcessedMessage, Station, writer
from kinds.awlr.ingest.points import SqlPointSink
from central.retention import enforce_retention
from ingest.service import apply_batch
from ingest.testing import batch, siaga_change, summary
from core.config import BrokerConfig, RetentionConfig, TepiConfig
from core.processes import free_port

DAY0 = datetime(2025, 1, 20, tzinfo=timezone.utc)
D = timedelta(days=1)
POLICY = RetentionConfig(alert_actor_days=365, processed_messages_days=30)
OFFICER, HEAD = "Petugas Pusdalops", "Kepala Pusdalops"


def episode(engine: Engine) -> int:
    """Katulampa: opened day 0, acknowledged day 0 (with a note), updated day 10 while still
    acknowledged, cleared day 20, closed day 30 (with a note). Returns the alert id."""
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([siaga_change("katulampa", DAY0, 3, 95.0, siaga_from=4)]), SqlPointSink(s), now=DAY0)
        alert_id = s.scalars(sa.select(Alert.id)).one()
        acknowledge(s, alert_id, OFFICER, DAY0 + timedelta(hours=1), note="tim berangkat")
        station = s.get(Station, "katulampa")
        assert station is not None
        raise_siaga(s, station, 3, 120.0, DAY0 + 10 * D, "gateway:gw-ciliwung")  # same level: an update
        clear_alert(s, station, "siaga", 60.0, DAY0 + 20 * D, "gateway:gw-ciliwung")
        close(s, alert_id, HEAD, DAY0 + 30 * D, note="arsip")
    return alert_id


def snapshot(engine: Engine, alert_id: int) -> tuple[Alert, list[AlertEvent]]:
    with Session(engine) as s:
        alert = s.get(Alert, alert_id)
        events = list(s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.seq)))
        s.expunge_all()
    assert alert is not None
    return alert, events


def run(engine: Engine, now: datetime, policy: RetentionConfig = POLICY) -> dict[str, int]:
    with Session(writer(engine)) as s, s.begin():
        return enforce_retention(s, now, policy)


def names_in(events: list[AlertEvent]) -> set[str]:
    text = json.dumps([[e.who, e.payload] for e in events])
    return {n for n in (OFFICER, HEAD, "tim berangkat", "arsip") if n in text}


def test_who_acted_is_erased_a_retention_period_after_the_action(engine: Engine) -> None:
    alert_id = episode(engine)
    alert, events = snapshot(engine, alert_id)
    assert [e.kind for e in events] == ["opened", "acknowledged", "updated", "cleared", "closed"]
    assert names_in(events) == {OFFICER, HEAD, "tim berangkat", "arsip"}
    assert events[2].payload["alert"]["acknowledged_by"] == OFFICER  # a later event carries the actor too

    assert run(engine, DAY0 + 365 * D)["alert_actors"] == 0  # not yet a year after the acknowledgement
    assert names_in(snapshot(engine, alert_id)[1]) == {OFFICER, HEAD, "tim berangkat", "arsip"}

    counts = run(engine, DAY0 + 366 * D)  # the acknowledgement is older than a year; the closing is not
    assert (counts["alert_actors"], counts["alert_events"]) == (1, 4)
    alert, events = snapshot(engine, alert_id)
    assert (alert.acknowledged_by, alert.closed_by) == (None, HEAD)
    assert alert.acknowledged_at is not None  # that someone acted, and when, stays
    assert names_in(events) == {HEAD, "arsip"}
    assert events[1].who is None and events[1].payload["detail"] == {}
    assert [e.payload["alert"]["acknowledged_by"] for e in events] == [None] * 5
    assert events[4].who == HEAD

    counts = run(engine, DAY0 + (30 + 366) * D)
    assert (counts["alert_actors"], counts["alert_events"]) == (1, 1)
    alert, events = snapshot(engine, alert_id)
    assert (alert.acknowledged_by, alert.closed_by) == (None, None)
    assert names_in(events) == set()
    assert [e.who for e in events] == ["gateway:gw-ciliwung", None, "gateway:gw-ciliwung", "gateway:gw-ciliwung", None]
    assert run(engine, DAY0 + 1000 * D)["alert_events"] == 0  # nothing left to do


def test_idempotency_keys_and_level_points_expire(engine: Engine) -> None:
    with Session(writer(engine)) as s, s.begin():
        for day in range(3):
            b = batch([summary("depok", DAY0 + day * D, 130.0 + day), siaga_change("depok", DAY0 + day * D, 4, 130.0, seq=day)])
            apply_batch(s, b, SqlPointSink(s), now=DAY0 + day * D)

    def rows(table: type) -> int:
        with Session(engine) as s:
            return int(s.scalar(sa.select(sa.func.count()).select_from(table)) or 0)

    assert run(engine, DAY0 + 30 * D + timedelta(hours=1))["processed_messages"] == 1
    assert rows(ProcessedMessage) == 2 and rows(LevelPoint) == 3  # points kept for ever by default
    keep_a_month = RetentionConfig(processed_messages_days=30, level_points_days=31)
    assert run(engine, DAY0 + 33 * D, keep_a_month) == {
        "alert_actors": 0,
        "alert_events": 0,
        "notification_deliveries": 0,
        "processed_messages": 2,
        "web_sessions": 0,
        "level_points": 2,
    }
    assert (rows(ProcessedMessage), rows(LevelPoint)) == (0, 1)


def test_the_ingest_worker_enforces_retention_periodically(
    engine: Engine, database_url: str, default_config: TepiConfig
) -> None:
    alert_id = episode(engine)
    config = default_config.model_copy(update={"retention": POLICY.model_copy(update={"check_every_s": 0.1})})
    later = DAY0 + 500 * D
    worker = IngestWorker(
        config.ingest.model_copy(update={"broker": BrokerConfig(port=free_port()), "database_url": database_url}),
        config,
        registry=CollectorRegistry(),
        engine=engine,
        prepare_schema=False,
        clock=lambda: later,
        retention_first_s=0.0,
        offline_check_s=3600,
    )
    assert worker.enforce_retention() is not None  # callable on its own, never raises
    long_ago = DAY0 + 100 * D  # older than `later` minus a year
    with Session(writer(engine)) as s, s.begin():  # a new actor the periodic run must erase
        s.execute(sa.update(Alert).where(Alert.id == alert_id).values(closed_by=HEAD, closed_at=long_ago))
    worker.start()  # no broker listens: the loop still runs its periodic jobs
    try:
        deadline = time.monotonic() + 10
        while snapshot(engine, alert_id)[0].closed_by is not None:
            assert time.monotonic() < deadline, "the worker did not enforce retention"
            time.sleep(0.05)
    finally:
        worker.stop()


def sos_episode(engine: Engine) -> int:
    """A boat's SOS at sea on day 0 (its call's position in the call row, the alert event and
    the track), acknowledged by OFFICER and resolved by HEAD the same day. Returns the alert id."""
    from central.incidents import raise_subject_alert, resolve
    from kinds.fishfinder.state import SosCall, Vessel, VesselPosition, register_vessel

    with Session(writer(engine)) as s, s.begin():
        register_vessel(s, vessel_id="km-ret", tenant="dki-jakarta", name="KM Ret", home_port="Muara Angke", gateway_id="gw-ret", now=DAY0)
        vessel = s.get(Vessel, "km-ret")
        assert vessel is not None
        vessel.last_lat, vessel.last_lon, vessel.last_fix_at = -5.9, 106.8, DAY0
        s.add(VesselPosition(tenant_id="dki-jakarta", vessel_id="km-ret", ts=DAY0, lat=-5.9, lon=106.8, distress=True))
        alert, _ = raise_subject_alert(
            s, tenant="dki-jakarta", kind="fishfinder", subject="km-ret", alert_type="sos", severity="critical",
            at=DAY0, who="gateway:gw-ret", detail={"press": 1, "lat": -5.9, "lon": 106.8},
        )
        s.flush()
        s.add(SosCall(
            item_id="call-1", alert_id=alert.id, tenant_id="dki-jakarta", vessel_id="km-ret", gateway="gw-ret", press=1,
            repeat=0, ts=DAY0, lat=-5.9, lon=106.8, nature="sinking", active=True, received_at=DAY0, status_sent="received",
        ))
        acknowledge(s, alert.id, OFFICER, DAY0 + timedelta(minutes=5), note="tim berangkat")
        resolve(s, alert.id, HEAD, DAY0 + timedelta(hours=1), note="arsip")
        return alert.id


def sos_positions(engine: Engine, alert_id: int) -> list[object]:
    from kinds.fishfinder.state import SosCall, Vessel, VesselPosition

    with Session(engine) as s:
        vessel = s.get(Vessel, "km-ret")
        assert vessel is not None
        details = [e.payload.get("detail", {}) for e in s.scalars(sa.select(AlertEvent).where(AlertEvent.alert_id == alert_id))]
        return [
            *s.execute(sa.select(SosCall.lat, SosCall.lon)).one(),
            vessel.last_lat, vessel.last_lon,
            s.scalar(sa.select(sa.func.count()).select_from(VesselPosition)),
            *[d.get(k) for d in details for k in ("lat", "lon") if k in d],
        ]


def test_sos_resolver_and_positions_are_erased_like_other_personal_data(engine: Engine) -> None:
    alert_id = sos_episode(engine)
    alert, events = snapshot(engine, alert_id)
    assert (alert.cleared_by, alert.closed_by) == (HEAD, HEAD)
    assert sos_positions(engine, alert_id) == [-5.9, 106.8, -5.9, 106.8, 1, -5.9, 106.8]

    run(engine, DAY0 + 179 * D)
    assert sos_positions(engine, alert_id) == [-5.9, 106.8, -5.9, 106.8, 1, -5.9, 106.8]  # not yet 180 days
    counts = run(engine, DAY0 + 181 * D)
    assert counts["vessel_positions"] == 1 and counts["sos_call_positions"] == 1
    assert sos_positions(engine, alert_id) == [None, None, None, None, 0]
    assert names_in(snapshot(engine, alert_id)[1]) == {OFFICER, HEAD, "tim berangkat", "arsip"}  # a year for names

    run(engine, DAY0 + 366 * D)
    alert, events = snapshot(engine, alert_id)
    assert (alert.acknowledged_by, alert.cleared_by, alert.closed_by) == (None, None, None)
    assert alert.cleared_at is not None
    assert names_in(events) == set()
    assert [e.who for e in events] == ["gateway:gw-ret", None, None, None]
    assert run(engine, DAY0 + 1000 * D)["alert_events"] == 0


def test_position_retention_is_configurable(engine: Engine) -> None:
    alert_id = sos_episode(engine)
    run(engine, DAY0 + 31 * D, RetentionConfig(position_days=30))
    assert sos_positions(engine, alert_id) == [None, None, None, None, 0]
