"""Offline alerts: the pure decisions, the check on both databases, and the worker's periodic run.

An offline alert clears only on a reading taken after the station fell silent: issue 18's replay
saw a gateway flush a silent station's stale last window ten minutes on, which cleared the alert
as data_returned, and a new alert opened three minutes later; both went out in the CAP feed.
"""

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
from central.db import Alert, AlertEvent, Station, create_engine, prepare_database, writer
from kinds.awlr.ingest.offline import (
    Liveness,
    alerting_rules,
    back_online,
    check_offline,
    device_time_at,
    silent_after,
    silent_stations,
)
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, summary
from core.config import BrokerConfig, TepiConfig
from kinds.awlr.config import AlertingConfig
from contract.topics import uplink_topic
from core.processes import Mosquitto
from contract.uplink_batch import encode_batch

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


def test_the_station_clock_at_opening_and_what_shows_a_station_back() -> None:
    seen = T0 + timedelta(minutes=9, seconds=59)  # newest reading; device time is a replay of January
    assert device_time_at(NOW + timedelta(minutes=3), seen, NOW) == seen + timedelta(minutes=3)
    assert device_time_at(NOW, seen, NOW + timedelta(seconds=5)) == seen, "never before the newest reading"
    assert device_time_at(NOW, None, NOW) is None
    assert device_time_at(NOW, seen, None) is None
    opened = seen + timedelta(minutes=3)
    assert back_online(opened, opened + timedelta(seconds=1))
    assert not back_online(opened, opened)
    assert not back_online(opened, seen + timedelta(minutes=1)), "the last window, flushed late"
    assert not back_online(opened, None)
    assert back_online(None, None), "opened before the station's clock was kept: anything clears, as before"


def arrive(
    engine: Engine, station: str, now: datetime, window: int = 0, window_s: int = 600, siaga: int = 4,
    mean_cm: float | None = 130.0,
) -> None:
    """Ingest receives at `now` the summary of window `window` (of `window_s`) from T0, device time."""
    start = T0 + timedelta(seconds=window_s * window)
    item = summary(station, start, mean_cm, window_s=window_s, siaga=siaga, first_seq=window * 10)
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([item]), SqlPointSink(s), now=now)


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

    # Device time is long past (a replay), but runs on: this window was taken after the alert opened.
    arrive(engine, "depok", NOW + timedelta(minutes=50), window=5)
    (alert,) = offline_alerts(engine)
    assert (alert.status, alert.clear_reason, alert.cleared_by) == ("cleared", "data_returned", "gateway:gw-ciliwung")
    assert alert.cleared_at == NOW + timedelta(minutes=50)
    with Session(engine) as s:
        kinds = s.execute(sa.select(AlertEvent.kind, AlertEvent.who).where(AlertEvent.alert_id == alert.id)).all()
    assert [tuple(k) for k in kinds] == [("opened", "system"), ("cleared", "gateway:gw-ciliwung")]


def public_events(engine: Engine) -> list[tuple[str, int, str]]:
    """(kind, revision, station) of every offline alert event: each a CAP message of the public feed."""
    with Session(engine) as s:
        rows = s.execute(
            sa.select(AlertEvent.kind, AlertEvent.revision, AlertEvent.station_id)
            .where(AlertEvent.alert_type == "offline")
            .order_by(AlertEvent.seq)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_a_late_flush_of_the_last_window_does_not_clear_the_alert_nor_open_another(
    engine: Engine, default_config: TepiConfig
) -> None:
    """Issue 18's sequence at Siaga 3 (1-minute windows, silent after 3 minutes)."""
    minute = timedelta(minutes=1)
    for k in range(10):  # device minute k reaches ingest at NOW + k + 1 minutes
        arrive(engine, "katulampa", NOW + (k + 1) * minute, window=k, window_s=60, siaga=3, mean_cm=150.0 + 3 * k)
    # The sensor stops during minute 10; ingest last heard at NOW + 10 min.
    assert check(engine, default_config, NOW + 12 * minute) == []
    assert check(engine, default_config, NOW + 13 * minute) == ["katulampa"]
    (alert,) = offline_alerts(engine)
    # Its newest reading (T0 + 9:59) plus the 3 minutes ingest waited.
    assert alert.opened_device_at == T0 + 10 * minute - timedelta(seconds=1) + 3 * minute

    # Ten minutes on the gateway closes the silent device's window (minute 10) and sends it.
    arrive(engine, "katulampa", NOW + 20 * minute, window=10, window_s=60, siaga=3, mean_cm=180.0)
    (alert,) = offline_alerts(engine)
    assert (alert.status, alert.clear_reason) == ("active", None)
    assert alert.last_level_cm == 181.0, "the late window still shows the river's last known level"
    for later in (23, 24, 30):
        assert check(engine, default_config, NOW + later * minute) == [], "no second alert"
    assert public_events(engine) == [("opened", 1, "katulampa")], "one CAP message, no flapping"

    # The sensor is back: a window taken after the alert opened clears it.
    arrive(engine, "katulampa", NOW + 41 * minute, window=40, window_s=60, siaga=3, mean_cm=200.0)
    (alert,) = offline_alerts(engine)
    assert (alert.status, alert.clear_reason, alert.cleared_at) == ("cleared", "data_returned", NOW + 41 * minute)
    assert (alert.last_level_cm, alert.last_level_at) == (201.0, T0 + 41 * minute - timedelta(seconds=1))
    assert check(engine, default_config, NOW + 42 * minute) == []
    assert public_events(engine) == [("opened", 1, "katulampa"), ("cleared", 2, "katulampa")]
    with Session(engine) as s:
        cleared = s.scalars(sa.select(AlertEvent).where(AlertEvent.kind == "cleared")).one()
    assert cleared.payload["detail"]["newest_reading_at"] == (T0 + 41 * minute - timedelta(seconds=1)).isoformat()


def test_a_window_of_doubtful_readings_taken_after_the_silence_shows_the_station_back(
    engine: Engine, default_config: TepiConfig
) -> None:
    """QC passing nothing is no silence: the sensor is talking, if doubtfully (its Siaga alerts say so)."""
    arrive(engine, "depok", NOW)
    assert check(engine, default_config, NOW + timedelta(minutes=31)) == ["depok"]
    arrive(engine, "depok", NOW + timedelta(minutes=40), window=1, mean_cm=None)  # taken before: stays
    assert [a.status for a in offline_alerts(engine)] == ["active"]
    arrive(engine, "depok", NOW + timedelta(minutes=60), window=6, mean_cm=None)
    (alert,) = offline_alerts(engine)
    assert (alert.status, alert.clear_reason) == ("cleared", "data_returned")
    assert alert.last_level_cm == 131.0, "no good reading since: the last good one"


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
        b = batch([summary("katulampa", T0 + timedelta(minutes=10 * window), 40.0, first_seq=10 * window)])
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
        publish(4)  # taken 40 minutes after the first, as the station's clock runs on
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
