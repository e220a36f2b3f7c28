"""Readings a broker drops are seen: real Mosquitto on the config `tepi mqtt setup` writes.

The gateway is away while a device publishes more QoS 1 readings than the broker queues for
it: every reading gets its PUBACK, and the broker drops the rest. When the gateway is back,
its metric and log show the drops, and the disaster office of the gateway's tenant, and only
that tenant, sees a gateway_health alert in the API and its stream, never in the public CAP
feed. Ingest reads the central broker's count the same way.
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from prometheus_client import CollectorRegistry

from api.main import create_app
from api.settings import Settings
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL, bearer, issue_keys, parse_sse, serve
from kinds.awlr import wire
from gateway.runtime import EdgeGateway
from ingest.consumer import IngestWorker
from central.db import create_engine
from ingest.testing import batch, summary
from core.config import BrokerConfig, BrokerQueueConfig, OutboxConfig, TepiConfig, with_local_services
from contract.topics import device_topic, uplink_topic
from tepi.mqtt_queues import size_queues
from tepi.mqtt_security import MqttSecurityFiles, setup_broker_security
from core.processes import Mosquitto, free_port, wait_for_port
from core.testing import wait_until
from contract.uplink_batch import encode_batch

pytestmark = pytest.mark.integration

#: The generated queue for this test's budget: no burst, a one-minute outage and the smallest
#: gateway outbox, so it is `size_queues`' floor (Mosquitto's default of 1,000) and a few
#: thousand readings overflow it.
SMALL_BUDGET = BrokerQueueConfig(peak_readings_per_s=0.001, peak_duration_s=1, outage_s=60, margin=1)
SMALL_OUTBOX = OutboxConfig(max_bytes=16 * 1024)


class GeneratedBroker:
    """Mosquitto on the mosquitto.conf `setup_broker_security` wrote for a small queue budget,
    with a 1 s `sys_interval` (default 10 s) appended so the test does not wait for the $SYS tree."""

    def __init__(self, configs: list[TepiConfig], directory: Path) -> None:
        self.port = free_port()
        configs = [
            c.model_copy(update={"broker_queue": SMALL_BUDGET, "gateway": c.gateway.model_copy(update={"outbox": SMALL_OUTBOX})})
            for c in configs
        ]
        self.queue = size_queues(configs).max_queued_messages
        (directory / "data").mkdir(parents=True)
        self.files: MqttSecurityFiles = setup_broker_security(
            configs, directory, port=self.port, persistence_dir=directory / "data"
        )
        extra = ["sys_interval 1"] + (["user root"] if os.geteuid() == 0 else [])
        conf = directory / "test.conf"
        conf.write_text(self.files.conf_file.read_text() + "\n".join(extra) + "\n")
        self.log = directory / "mosquitto.log"
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=open(self.log, "ab"))
        wait_for_port(self.port, proc=self.proc)

    def login(self, secret: str) -> BrokerConfig:
        """What a gateway or ingest config holds: the broker and the password of `secret` (a
        gateway id or `ingest`); the process names its connections' users itself."""
        return BrokerConfig(port=self.port, password=self.files.credential(secret).password)

    def client(self, username: str) -> mqtt.Client:
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=username)
        c.username_pw_set(username, self.files.credential(username).password)
        c.connect("127.0.0.1", self.port)
        c.loop_start()
        return c

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture
def site_broker(default_config: TepiConfig, tmp_path: Path) -> Iterator[GeneratedBroker]:
    broker = GeneratedBroker([default_config], tmp_path / "site")
    yield broker
    broker.close()


def publish_all(client: mqtt.Client, topic: str, payloads: list[bytes]) -> None:
    """QoS 1, each acknowledged by the broker: from the publisher's side nothing is lost."""
    for payload in payloads:
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        assert info.is_published()


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def test_readings_dropped_at_the_site_broker_reach_the_tenant_as_a_gateway_health_alert(
    default_config: TepiConfig, site_broker: GeneratedBroker, mosquitto: Mosquitto, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = with_local_services(default_config, site_broker.port, tmp_path, summary_every_s=60)
    gw_id, tenant = cfg.gateway.id, cfg.gateway.tenant
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={
        "local_broker": site_broker.login(gw_id), "uplink_broker": BrokerConfig(port=mosquitto.port),
    })})
    database_url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = create_engine(database_url)
    ingest = IngestWorker(
        cfg.ingest.model_copy(update={"broker": BrokerConfig(port=mosquitto.port), "batch_wait_ms": 5}),
        cfg, registry=CollectorRegistry(), engine=engine,
    )
    ingest.start()
    assert ingest.wait_subscribed(10)
    keys = issue_keys(engine, TEST_PEPPER, [(tenant, "disaster_office", "Petugas Pusdalops"), ("kab-badung", "disaster_office", "Petugas Badung")])
    office, other_office = bearer(keys[(tenant, "Petugas Pusdalops")]), bearer(keys[("kab-badung", "Petugas Badung")])
    settings = Settings(database_url=database_url, mode="production", auth_pepper=TEST_PEPPER, public_base_url=TEST_PUBLIC_BASE_URL)  # type: ignore[arg-type]

    # The gateway's persistent session exists, then the gateway goes away.
    first = EdgeGateway(cfg)
    first.start()
    assert first.wait_ready()
    first.stop()
    device = site_broker.client("awlr-depok")
    t0 = (datetime.now(timezone.utc) - timedelta(hours=1)).replace(second=0, microsecond=0)
    readings = [wire.encode_json(wire.AwlrFrame("depok", i, t0 + timedelta(seconds=30 * i), 120.0, 12.1)) for i in range(3 * site_broker.queue)]
    publish_all(device, device_topic(tenant, "awlr-depok"), readings)
    device.disconnect()
    device.loop_stop()

    back = EdgeGateway(cfg)
    with caplog.at_level(logging.WARNING), serve(create_app(cfg, settings, registry=CollectorRegistry())) as url:
        back.start()
        try:
            def accounted() -> float:
                received = metric(back.registry, "tepi_gateway_frames_total", transport="mqtt")
                return received + metric(back.registry, "tepi_gateway_broker_dropped_messages_total")

            # Every published reading is either received or counted as dropped by the broker.
            wait_until(lambda: accounted() == len(readings), what="readings received or counted as dropped")
            dropped = int(metric(back.registry, "tepi_gateway_broker_dropped_messages_total"))
            assert dropped >= len(readings) - site_broker.queue - 1  # the queue (plus at most one in flight) got through
            assert metric(back.registry, "tepi_gateway_broker_dropped_count") == dropped
            warnings = [r for r in caplog.records if r.getMessage().startswith("MQTT broker dropped messages")]
            # One warning (rate-limited), at the first count seen. Mosquitto refreshes $SYS once per
            # sys_interval, so the gateway may first read a count retained mid-burst, then the rest.
            ((broker, first_increase, first_total),) = [(r.broker, r.dropped, r.broker_total) for r in warnings]
            assert broker == "site" and 0 < first_increase == first_total <= dropped

            api = f"{url}/api/v1"
            with httpx.Client(timeout=10, headers=office) as http:
                def health_alerts() -> list[dict]:
                    return http.get(f"{api}/alerts", params={"type": "gateway_health"}).json()["data"]

                wait_until(lambda: len(health_alerts()) == 1, what="gateway_health alert at the API")
                (alert,) = health_alerts()
                assert (alert["tenant"], alert["station"], alert["status"], alert["severity"]) == (tenant, "depok", "active", "warning")
                (opened,) = http.get(f"{api}/alerts/{alert['id']}/events").json()["data"]
                assert opened["who"] == f"gateway:{gw_id}"
                assert opened["detail"]["gateway"] == gw_id and 0 < opened["detail"]["dropped"] <= dropped
                with http.stream("GET", f"{api}/alerts/stream", params={"after": 0, "type": "gateway_health"}) as stream:
                    event = next(m.json() for m in parse_sse(stream.iter_lines()) if m.data_lines)
                assert (event["kind"], event["alert"]["id"], event["detail"]) == ("opened", alert["id"], opened["detail"])
                # Operational, not a public warning: no CAP message, not in the feed.
                assert http.get(f"{api}/alerts/{alert['id']}/cap").status_code == 404
                assert b"gateway_health" not in http.get(f"{api}/alerts/cap").content
            other = httpx.get(f"{api}/alerts", headers=other_office, timeout=10).json()
            assert other["count"] == 0
        finally:
            back.stop()
            ingest.stop()
            engine.dispose()


def test_ingest_counts_uplinks_the_central_broker_dropped(
    default_config: TepiConfig, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ingest away, a gateway publishes more uplinks than the broker queues for ingest's session."""
    central = GeneratedBroker([default_config], tmp_path / "central")
    cfg = default_config.ingest.model_copy(update={
        "broker": central.login("ingest"), "database_url": f"sqlite:///{tmp_path / 'state.db'}", "batch_wait_ms": 5,
    })
    try:
        first = IngestWorker(cfg, default_config, registry=CollectorRegistry())
        first.start()
        assert first.wait_subscribed(10)
        first.stop()
        gw = central.client(default_config.gateway.mqtt_user("uplink"))
        t0 = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(second=0, microsecond=0)
        uplinks = [encode_batch(batch([summary("depok", t0 + timedelta(minutes=i), 100.0)])) for i in range(3 * central.queue)]
        publish_all(gw, uplink_topic(default_config.gateway.tenant, default_config.gateway.id), uplinks)
        gw.disconnect()
        gw.loop_stop()

        registry = CollectorRegistry()
        back = IngestWorker(cfg, default_config, registry=registry)
        with caplog.at_level(logging.WARNING, logger="ingest.consumer"):
            back.start()
            try:
                stored = lambda: metric(registry, "tepi_ingest_items_stored_total", type="summary")  # noqa: E731
                dropped = lambda: metric(registry, "tepi_ingest_broker_dropped_messages_total")  # noqa: E731
                wait_until(lambda: stored() + dropped() == len(uplinks), what="uplinks stored or counted as dropped")
                assert dropped() >= len(uplinks) - central.queue - 1
            finally:
                back.stop()
        assert any(r.getMessage().startswith("MQTT broker dropped messages") and r.broker == "central" for r in caplog.records)
    finally:
        central.close()
