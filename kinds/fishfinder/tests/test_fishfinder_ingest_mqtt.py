"""End to end through the real ingest worker and a Mosquitto broker: a boat's SOS call uplinked
by its gateway comes back as `SosStatus` on the gateway's downlink topic; an acknowledgement
made on the state store reaches the boat through the worker's poll. Also the overdue rule."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from central.alerts import acknowledge
from central.db import create_engine, prepare_database, writer
from central.models import Alert
from contract.clock import utcnow
from contract.envelope import encode_uplink
from contract.topics import downlink_topic, uplink_topic
from core.config import BrokerConfig, IngestConfig, TepiConfig
from core.processes import Mosquitto
from ingest.consumer import IngestWorker
from kinds.fishfinder.ingest.overdue import PAST_RETURN, SILENT, overdue_reason
from kinds.fishfinder.items import DistressCall, distress_id
from kinds.fishfinder.state import register_vessel

TENANT, GW = "dki-jakarta", "gw-kapal-1"


def _wait(predicate, timeout: float = 15.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def test_a_distress_call_uplink_is_answered_on_the_gateway_downlink(tmp_path: Path, mosquitto: Mosquitto, default_config: TepiConfig) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'central.db'}")
    prepare_database(engine, default_config)
    with Session(writer(engine)) as s, s.begin():
        register_vessel(s, vessel_id="km-bahari", tenant=TENANT, name="KM Bahari", home_port="Muara Angke", gateway_id=GW, now=utcnow())
    heard: list[dict[str, object]] = []
    boat = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="boat-gateway")
    subscribed = threading.Event()
    boat.on_subscribe = lambda *_: subscribed.set()
    boat.on_message = lambda _c, _u, msg: heard.append(json.loads(msg.payload))
    boat.connect("127.0.0.1", mosquitto.port)
    boat.loop_start()
    boat.subscribe(downlink_topic(TENANT, GW), qos=1)
    assert subscribed.wait(10)
    ingest = IngestConfig.model_validate(default_config.ingest.model_dump() | {"broker": BrokerConfig(port=mosquitto.port), "batch_wait_ms": 20})
    worker = IngestWorker(ingest, default_config, registry=CollectorRegistry(), engine=engine, poll_s=0.2)
    worker.start()
    try:
        assert worker.wait_subscribed(10)
        call = DistressCall(id=distress_id(GW, "km-bahari", 1, datetime(2026, 1, 1, tzinfo=timezone.utc), 0), vessel="km-bahari", device="ff1", ts=utcnow(), press=1, repeat=0, lat=-5.9, lon=106.8)
        payload = encode_uplink(TENANT, GW, [call.model_dump_json().encode()], utcnow(), msg=7)
        boat.publish(uplink_topic(TENANT, GW), payload, qos=1).wait_for_publish(5)

        def statuses() -> list[object]:
            return [m["status"] for m in heard if m.get("type") == "sos_status"]

        assert _wait(lambda: statuses() == ["received"]), heard
        with Session(writer(engine)) as s, s.begin():
            incident = s.scalars(sa.select(Alert.id).where(Alert.kind == "fishfinder")).one()
            acknowledge(s, incident, "Petugas Basarnas", utcnow())
        assert _wait(lambda: statuses() == ["received", "acknowledged"]), heard
        answer = [m for m in heard if m.get("type") == "sos_status"][-1]
        assert (answer["vessel"], answer["press"], answer["incident"]) == ("km-bahari", 1, incident)
    finally:
        worker.stop()
        boat.disconnect()
        boat.loop_stop()
        engine.dispose()


T0 = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("at_sea", "expected_return", "last_fix", "now", "reason"),
    [
        (False, T0, T0, T0 + timedelta(days=2), None),  # in port: never overdue
        (True, T0 + timedelta(hours=8), T0, T0 + timedelta(hours=1), None),
        (True, T0 + timedelta(hours=8), T0 + timedelta(hours=8), T0 + timedelta(hours=9), PAST_RETURN),
        (True, None, T0, T0 + timedelta(hours=2, seconds=1), SILENT),
        (True, None, None, T0 + timedelta(hours=1), None),  # never heard, but watched only since T0
    ],
)
def test_overdue_when_past_return_or_silent_too_long(at_sea, expected_return, last_fix, now, reason) -> None:  # type: ignore[no-untyped-def]
    assert overdue_reason(at_sea=at_sea, expected_return_at=expected_return, last_fix_at=last_fix, silent_limit_s=7200,
                          watching_since=T0, now=now) == reason


def test_a_silence_limit_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="silent_limit_s"):
        overdue_reason(at_sea=True, expected_return_at=None, last_fix_at=None, silent_limit_s=0, watching_since=T0, now=T0)
