"""Offline alerts: the pure decision, the check on both databases, and the worker's periodic run."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ingest.consumer import IngestWorker
from ingest.db import Alert, AlertEvent, Station, create_engine, prepare_database, writer
from ingest.offline import Liveness, alerting_rules, check_offline, silent_after, silent_stations
from ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, summary
from tepi.config import AlertingConfig, BrokerConfig, TepiConfig
from tepi.messages import uplink_topic
from tepi.processes import Mosquitto
from tepi.uplink_batch import encode_batch

T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)  # device time: the simulator replays the past
NOW = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)  # ingest's wall clock
ALERTING = AlertingConfig(summary_every_s=600, summary_every_s_alert=60, offline_after_intervals=3)


def test_silence_is_measured_in_the_interval_the_station_reports_at() -> None:
    assert silent_after(ALERTING, 4) == timedelta(minutes=30)
    assert silent_after(ALERTING, None) == timedelta(minutes=30)
    assert silent_after(ALERTING, 3) == timedelta(minutes=3)  # in a flood: reports every minute
    assert silent_after(ALERTING, 1) == timedelta(minutes=3)


def test_silent_stations_given_last_arrivals_and_now() -> None:
    since = NOW - timedelta(days=1)
    stations = [
        Liveness("fresh", NOW - timedelta(minutes=29), timedelta(minutes=30)),
        Liveness("silent", NOW - timedelta(minutes=30), timedelta(minutes=30)),
        Liveness("flooding", NOW - timedelta(minutes=4), timedelta(minutes=3)),
        Liveness("never-seen", None, timedelta(minutes=30)),
    ]
    assert silent_stations(stations, NOW, since) == ["silent", "flooding"]
    # Just restarted after a day down: every station gets its full interval before it counts.
    assert silent_stations(stations, NOW, NOW - timedelta(minutes=10)) == ["flooding"]
    assert silent_stations(stations, NOW, NOW) == []


def arrive(engine: Engine, station: str, now: datetime, window: int = 0) -> None:
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([summary(station, T0 + timedelta(minutes=10 * window), 130.0)]), SqlPointSink(s), now=now)


def check(engine: Engine, config: TepiConfig, now: datetime) -> list[str]:
    with Session(writer(engine)) as s, s.begin():
        return check_offline(s, alerting_rules(config), now, watching_since=NOW - timedelta(days=1))


def offline_alerts(engine: Engine) -> list[Alert]:
    with Session(engine) as s:
        return list(s.scalars(sa.select(Alert).where(Alert.type == "offline").order_by(Alert.id)))


def test_offline_alert_is_raised_once_and_cleared_when_data_returns(engine: Engine, default_config: TepiConfig) -> None:
    arrive(engine, "depok", NOW)
    arrive(engine, "katulampa", NOW + timedelta(minutes=20))
    assert check(engine, default_config, NOW + timedelta(minutes=29)) == []
    assert check(engine, default_config, NOW + timedelta(minutes=31)) == ["depok"]  # manggarai: never seen
    assert check(engine, default_config, NOW + timedelta(minutes=35)) == []  # already open: no duplicate
    (alert,) = offline_alerts(engine)
    assert (alert.station_id, alert.status, alert.severity) == ("depok", "active", "warning")
    assert alert.opened_at == NOW + timedelta(minutes=31)
    assert alert.last_arrival_at == NOW
    assert alert.last_level_cm == 131.0  # what was last known of the river there

    arrive(engine, "depok", NOW + timedelta(minutes=50), window=1)  # device time is long past: it is alive
    (alert,) = offline_alerts(engine)
    assert (alert.status, alert.clear_reason, alert.cleared_by) == ("cleared", "data_returned", "gateway:gw-ciliwung")
    assert alert.cleared_at == NOW + timedelta(minutes=50)
    with Session(engine) as s:
        kinds = s.execute(sa.select(AlertEvent.kind, AlertEvent.who).where(AlertEvent.alert_id == alert.id)).all()
    assert [tuple(k) for k in kinds] == [("opened", "system"), ("cleared", "gateway:gw-ciliwung")]


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_worker_checks_periodically_on_its_own_clock(
    mosquitto: Mosquitto, tmp_path: Path, default_config: TepiConfig
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'offline.db'}")
    prepare_database(engine, default_config)
    clock = FakeClock(NOW)
    ingest = default_config.ingest.model_copy(update={"broker": BrokerConfig(port=mosquitto.port), "batch_wait_ms": 5})
    worker = IngestWorker(
        ingest, default_config, registry=CollectorRegistry(), engine=engine, clock=clock, offline_check_s=0.05
    )
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="offline-test-gw")
    publisher.connect("127.0.0.1", mosquitto.port)
    publisher.loop_start()

    def publish(window: int) -> None:
        b = batch([summary("katulampa", T0 + timedelta(minutes=10 * window), 40.0)])
        publisher.publish(uplink_topic("dki-jakarta", "gw-ciliwung"), encode_batch(b), qos=1).wait_for_publish(5)

    worker.start()
    try:
        assert worker.wait_subscribed(10)
        publish(0)
        assert wait_for(lambda: arrived(engine))
        assert offline_alerts(engine) == []
        clock.now = NOW + timedelta(minutes=31)
        assert wait_for(lambda: [a.status for a in offline_alerts(engine)] == ["active"])
        clock.now = NOW + timedelta(minutes=40)
        publish(1)
        assert wait_for(lambda: [a.status for a in offline_alerts(engine)] == ["cleared"])
        assert offline_alerts(engine)[0].cleared_at == NOW + timedelta(minutes=40)
    finally:
        worker.stop()
        publisher.disconnect()
        publisher.loop_stop()
        engine.dispose()


def arrived(engine: Engine) -> bool:
    with Session(engine) as s:
        return s.scalar(sa.select(Station.last_arrival_at).where(Station.id == "katulampa")) == NOW


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
