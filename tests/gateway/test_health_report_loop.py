"""A real gateway with a one-second `health_every_s`: during an uplink outage its outbox holds one
health report, the latest, saying the link is down; once the link is back, ingest stores the
gateway's row with its device's battery and the frames it refused. Mosquitto, SQLite, nothing mocked."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from central.db import create_engine, prepare_database
from central.reach_models import GatewayHealth as Row
from contract.gateway_items import GatewayHealth
from contract.topics import device_topic
from core.config import BrokerConfig, IngestConfig, TepiConfig, with_local_services
from core.processes import Mosquitto, free_port
from core.testing import wait_until
from gateway.runtime import EdgeGateway
from ingest.consumer import IngestWorker
from kinds.awlr import wire

pytestmark = pytest.mark.integration


def health_reports(gw: EdgeGateway) -> list[GatewayHealth]:
    return [GatewayHealth.model_validate_json(e.body) for e in gw.outbox.peek(10_000) if b'"gateway_health"' in e.body]


def test_reports_wait_one_at_a_time_through_an_outage_and_reach_the_centre(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    uplink_port = free_port()  # nothing listens here yet: the uplink is down from the start
    cfg = with_local_services(default_config, mosquitto.port, tmp_path)
    gateway = cfg.gateway.model_copy(update={"health_every_s": 1.0, "uplink_broker": BrokerConfig(host="127.0.0.1", port=uplink_port)})
    cfg = cfg.model_copy(update={"gateway": gateway})
    tenant, gw_id = cfg.gateway.tenant, cfg.gateway.id
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="device-sim")
    device.connect("127.0.0.1", mosquitto.port)
    device.loop_start()
    gw = EdgeGateway(cfg)
    gw.start()
    assert gw.wait_ready()
    uplink_broker: Mosquitto | None = None
    worker: IngestWorker | None = None
    engine = create_engine(f"sqlite:///{tmp_path / 'central.db'}")
    prepare_database(engine, cfg)
    try:
        t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
        for i in range(3):
            frame = wire.AwlrFrame("depok", i, t0 + timedelta(seconds=20 * i), 130.0 + i, 12.3)
            device.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(frame), qos=1).wait_for_publish(5)
        device.publish(device_topic(tenant, "awlr-depok"), b"{not json", qos=1).wait_for_publish(5)

        def queued() -> float:
            return gw.registry.get_sample_value("tepi_gateway_items_queued_total", {"type": "gateway_health"}) or 0.0

        wait_until(lambda: queued() >= 3 and any(d.frames == 3 for r in health_reports(gw) for d in r.devices), what="three reports built")
        (waiting,) = health_reports(gw)  # three built, one kept
        assert not waiting.link_up and waiting.rejected_by_reason == {"not_json": 1}
        depok = next(d for d in waiting.devices if d.device == "awlr-depok")
        assert (depok.frames, depok.rejected_frames, depok.battery_v) == (3, 1, 12.3)

        uplink_broker = Mosquitto(port=uplink_port, workdir=tmp_path / "uplink").start()
        ingest = IngestConfig.model_validate(cfg.ingest.model_dump() | {"broker": BrokerConfig(port=uplink_port)})
        worker = IngestWorker(ingest, cfg, registry=CollectorRegistry(), engine=engine)
        worker.start()
        assert worker.wait_subscribed(10)

        def stored() -> Row | None:
            with Session(engine) as s:
                return s.scalars(sa.select(Row).where(Row.gateway == gw_id)).one_or_none()

        wait_until(lambda: (row := stored()) is not None and bool(row.link_up), timeout=30, what="a report with the link up, stored")
        row = stored()
        assert row is not None
        assert (row.tenant_id, row.report_every_s, row.rejected_frames, row.rejected_by_reason) == (tenant, 1.0, 1, {"not_json": 1})
        devices = {d["device"]: d for d in row.devices}
        assert (devices["awlr-depok"]["frames"], devices["awlr-depok"]["battery_v"]) == (3, 12.3)
        assert devices["awlr-katulampa"]["last_seen_at"] is None, "a device not heard since the start says so"
    finally:
        gw.stop()
        if worker is not None:
            worker.stop()
        device.loop_stop()
        if uplink_broker is not None:
            uplink_broker.close()
        engine.dispose()
