"""A simulated buoy's storm, end to end through real processes' code: the buoy publishes its
reports to a real Mosquitto, the shore gateway decodes, checks and summarises them and sends
limit events at once, the real ingest worker stores them; the buoy's state row follows the
storm (above the small-boat limits, then back below), broken frames are counted, and a buoy
another tenant declared is refused by ingest."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from central.db import create_engine, prepare_database, writer
from contract.clock import utcnow
from contract.envelope import encode_uplink
from contract.topics import uplink_topic
from core.config import BrokerConfig, IngestConfig, parse_config, with_local_services
from core.processes import Mosquitto
from core.testing import wait_until
from gateway.runtime import EdgeGateway
from ingest.consumer import IngestWorker
from kinds.wavebuoy.items import Observation, SmallBoatLimit, limit_id
from kinds.wavebuoy.sim.runner import publish_reports
from kinds.wavebuoy.sim.sea import reports
from kinds.wavebuoy.state import WaveBuoy, latest_observations
from kinds.wavebuoy.wire import checksum

TENANT, GW, DEVICE, BUOY = "kab-badung", "gw-benoa", "wb1", "wb-benoa"


def _config():  # type: ignore[no-untyped-def]
    return parse_config({
        "tenants": [{"id": TENANT, "name": "Kabupaten Badung"}, {"id": "kab-indramayu", "name": "Kabupaten Indramayu"}],
        "stations": [],
        "devices": [{"id": DEVICE, "kind": "wavebuoy", "platform": BUOY, "transport": "mqtt"}],
        "gateway": {"id": GW, "tenant": TENANT, "summary_linger_s": 0},
        "buoys": [
            {"id": BUOY, "tenant": TENANT, "name": "Benoa offshore", "lat": -8.80, "lon": 115.25},
            {"id": "wb-karangsong", "tenant": "kab-indramayu", "name": "Karangsong", "lat": -6.25, "lon": 108.40},
        ],
    })


def _buoy(engine) -> WaveBuoy:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return s.get(WaveBuoy, BUOY)  # type: ignore[return-value]


def test_a_storm_at_the_buoy_reaches_its_state_through_mosquitto_the_gateway_and_ingest(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cfg = with_local_services(_config(), mosquitto.port, tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path / 'central.db'}")
    prepare_database(engine, cfg)  # the buoys of the configuration become rows
    ingest = IngestConfig.model_validate(cfg.ingest.model_dump() | {"broker": BrokerConfig(port=mosquitto.port), "batch_wait_ms": 20})
    worker = IngestWorker(ingest, cfg, registry=CollectorRegistry(), engine=engine)
    gateway = EdgeGateway(cfg, local_alarms=False)
    worker.start()
    gateway.start()
    try:
        assert worker.wait_subscribed(10)
        time.sleep(1.0)  # the gateway's device link subscribes
        start = (utcnow() - timedelta(hours=13)).replace(second=0, microsecond=0)
        storm = reports(BUOY, start, 60, 13 * 60)  # a report a minute for 13 hours, the storm at 6 h
        broken = [b"$PTEPW,wb-benoa,1,20261207T030000Z,1.20,9.5,180,*00", b"\xff\xfe", f"$WIMWV,120.0,R,12.0,N,A*{checksum('WIMWV,120.0,R,12.0,N,A')}".encode()]
        publish_reports("127.0.0.1", mosquitto.port, TENANT, DEVICE, storm, extra=broken)

        last = storm[-1]
        wait_until(lambda: (b := _buoy(engine)).limit_changed_at is not None and b.limit_exceeded is False, timeout=60, what="the storm's end")
        buoy = _buoy(engine)
        over = [r for r in storm if r.hs_m > 1.25 or (r.wind_kn or 0) > 15]
        assert buoy.limit_changed_at > over[0].ts  # raised during the storm, cleared after it
        assert buoy.observed_at is not None and buoy.observed_at <= last.ts and buoy.hs_m is not None and buoy.hs_m <= 1.25
        wait_until(lambda: gateway.metrics.rejected.labels("checksum")._value.get() >= 1, what="the broken frames counted")
        assert gateway.metrics.rejected.labels("non_ascii")._value.get() >= 1
        assert gateway.metrics.rejected.labels("malformed")._value.get() >= 1
        with Session(engine) as s:
            box = (115.0, -9.0, 115.5, -8.5)
            assert [o.buoy for o in latest_observations(s, TENANT, box, timedelta(hours=14), utcnow())] == [BUOY]
            assert latest_observations(s, "kab-indramayu", box, timedelta(hours=14), utcnow()) == []
            assert latest_observations(s, TENANT, box, timedelta(seconds=1), buoy.observed_at + timedelta(hours=1)) == []

        # An event naming another tenant's buoy, sent by this tenant's gateway: refused, counted.
        at = datetime.now(timezone.utc)
        foreign = SmallBoatLimit(
            id=limit_id(GW, "wb-karangsong", at, True), buoy="wb-karangsong", device=DEVICE, exceeded=True, over=["wave"],
            wave_limit_m=1.25, wind_limit_kn=15.0,
            observation=Observation(at=at, hs_m=3.0, tp_s=9.0, wave_dir_deg=None, wind_kn=None, wind_dir_deg=None, gust_kn=None),
        )
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="forger")
        client.connect("127.0.0.1", mosquitto.port)
        client.loop_start()
        client.publish(uplink_topic(TENANT, GW), encode_uplink(TENANT, GW, [foreign.model_dump_json().encode()], utcnow(), msg=99), qos=1).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
        wait_until(lambda: worker.metrics.rejected.labels("foreign_buoy")._value.get() >= 1, what="the foreign buoy refused")
        with Session(writer(engine)) as s:
            assert s.scalars(sa.select(WaveBuoy.observed_at).where(WaveBuoy.id == "wb-karangsong")).one() is None
    finally:
        gateway.stop()
        worker.stop()
        engine.dispose()
