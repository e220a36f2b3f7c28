"""Delivery under faults, with real processes: every accepted reading ends up in exactly one
summary at the uplink broker, whatever was killed in between."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml

from kinds.awlr import wire
from core.config import TepiConfig, with_local_services
from contract.topics import device_topic, uplink_topic
from kinds.awlr.items import LevelSummary
from core.processes import Mosquitto

from core.testing import wait_until
from test_gateway_integration import UplinkRecorder

pytestmark = pytest.mark.integration


def covered_readings(summaries: list[LevelSummary]) -> list[int]:
    """Sequence numbers each summary accounts for; duplicates or gaps show up here."""
    seqs: list[int] = []
    for s in sorted(summaries, key=lambda s: s.first_seq):
        assert s.qc.good + s.qc.suspect + s.qc.fail + s.qc.missing == s.last_seq - s.first_seq + 1, s
        seqs.extend(range(s.first_seq, s.last_seq + 1))
    return seqs


def start_gateway(config_path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """The gateway as deployed: the console script's entry point."""
    return subprocess.Popen(
        [sys.executable, "-m", "tepi.main", "gateway", "-c", str(config_path)],
        stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
    )


def test_kill_9_of_the_gateway_mid_stream_loses_and_duplicates_nothing(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, summary_every_s=60, device_rate_per_s=1e6)
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    tenant = cfg.gateway.tenant
    recorder = UplinkRecorder(mosquitto.port, uplink_topic(tenant, cfg.gateway.id))
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="awlr-depok", clean_session=False)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    # First start subscribes the gateway's persistent session, so the broker queues for it
    # from then on, even while it is dead.
    gw = start_gateway(path, tmp_path / "gw.log")
    wait_until(lambda: "listening for devices" in (tmp_path / "gw.log").read_text(), what="gateway subscribed")
    t0 = (datetime.now(timezone.utc) - timedelta(hours=6)).replace(minute=0, second=0, microsecond=0)
    total = 900  # 10 s apart: 150 minutes of readings, 150 one-minute windows... at 6 per window
    try:
        for i in range(total):
            level = 150.0 + 10 * (i % 17) / 17 + 0.01 * i  # within QC limits, never flat
            frame = wire.AwlrFrame("depok", i, t0 + timedelta(seconds=10 * i), level, 12.0)
            pub.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(frame), qos=1)
            if i == total // 3:
                gw.send_signal(signal.SIGKILL)
                gw.wait(10)
            if i == total // 3 + 150:
                gw = start_gateway(path, tmp_path / "gw.log")
            if i % 50 == 0:
                time.sleep(0.02)
        # One reading far later closes the last window.
        last = wire.AwlrFrame("depok", total, t0 + timedelta(seconds=10 * total + 600), 150.0, 12.0)
        pub.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(last), qos=1)

        def summaries() -> list[LevelSummary]:
            return [i for i in recorder.items.values() if isinstance(i, LevelSummary) and i.station == "depok"]

        wait_until(lambda: covered_readings(summaries())[-1:] == [total - 1], timeout=60, what="the last window")
        seqs = covered_readings(summaries())
        assert seqs == list(range(total)), "every reading exactly once across the kill"
        assert sum(s.qc.missing for s in summaries()) == 0
    finally:
        if gw.poll() is None:
            gw.send_signal(signal.SIGTERM)
            gw.wait(20)
        recorder.close()
        pub.loop_stop()


def test_long_outage_bounds_the_outbox_keeps_events_and_reports_the_drop(
    default_config: TepiConfig, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    from gateway.runtime import EdgeGateway
    from contract.gateway_items import SummariesDropped
    from kinds.awlr.items import SiagaChange

    # Ingest's session exists at the central broker before the outage, so whatever the gateway
    # sends the moment the link returns is queued for it (not lost to a late subscription).
    uplink = Mosquitto(workdir=tmp_path / "uplink").start()
    uplink_port = uplink.port
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, summary_every_s=60, device_rate_per_s=1e6)
    gw_cfg = cfg.gateway.model_copy(update={
        "uplink_broker": cfg.gateway.uplink_broker.model_copy(update={"port": uplink_port}),
        "outbox": cfg.gateway.outbox.model_copy(update={"max_bytes": 32 * 1024}),
    })
    cfg = cfg.model_copy(update={"gateway": gw_cfg})
    tenant = cfg.gateway.tenant
    recorder = UplinkRecorder(uplink_port, uplink_topic(tenant, cfg.gateway.id))
    assert recorder.subscribed.wait(10)
    uplink.stop()  # the uplink is down for the whole stream
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="awlr-manggarai")
    pub.connect("127.0.0.1", mosquitto.port)
    pub.loop_start()
    gw = EdgeGateway(cfg)
    gw.start()
    assert gw.wait_ready()
    t0 = (datetime.now(timezone.utc) - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    total = 1800  # 20 s apart: 600 one-minute summaries, far more than 32 KiB holds
    try:
        for i in range(total):
            # Manggarai crosses Siaga 3 (750 cm) for a while in the middle: events must survive.
            level = 700.0 + 0.02 * i + (80.0 if 600 <= i < 900 else 0.0) + 0.3 * (i % 3)
            frame = wire.AwlrFrame("manggarai", i, t0 + timedelta(seconds=20 * i), level, 12.0)
            pub.publish(device_topic(tenant, "awlr-manggarai"), wire.encode_json(frame), qos=1).wait_for_publish(5)
        wait_until(lambda: (gw.registry.get_sample_value("tepi_gateway_readings_total", {"platform": "manggarai"}) or 0) >= total, what="all readings in")
        time.sleep(0.5)
        evicted = gw.registry.get_sample_value("tepi_gateway_outbox_evicted_summaries_total")
        queued = gw.registry.get_sample_value("tepi_gateway_items_queued_total", {"type": "summary"})
        assert evicted and evicted > queued / 2, "the bound forced evictions"
        assert gw.outbox.stored_bytes <= 32 * 1024
        uplink.start()
        wait_until(lambda: gw.outbox.depth() == 0, timeout=30, what="outbox drained")
        wait_until(lambda: any(isinstance(i, SummariesDropped) for i in recorder.items.values()), what="the drop report")
        wait_until(lambda: sum(i.count for i in recorder.items.values() if isinstance(i, SummariesDropped))
                   == gw.registry.get_sample_value("tepi_gateway_outbox_evicted_summaries_total"), what="every eviction reported")
        evicted = gw.registry.get_sample_value("tepi_gateway_outbox_evicted_summaries_total")
        items = list(recorder.items.values())
        dropped = [i for i in items if isinstance(i, SummariesDropped)]
        summaries = [i for i in items if isinstance(i, LevelSummary)]
        changes = [i for i in items if isinstance(i, SiagaChange)]
        assert sum(d.count for d in dropped) == evicted
        assert len(summaries) + evicted == queued, "every summary either arrived or is counted as dropped"
        assert [(c.siaga_from, c.siaga_to) for c in sorted(changes, key=lambda c: c.ts)] == [(4, 3), (3, 4)], "events are never evicted"
        assert max(s.window_start for s in summaries) > min(d.last_window_start for d in dropped), "the newest were kept"
    finally:
        gw.stop()
        recorder.close()
        pub.loop_stop()
        uplink.close()


def test_local_broker_restart_mid_stream_loses_nothing(default_config: TepiConfig, tmp_path: Path) -> None:
    """The devices' broker at the site restarts; devices and gateway reconnect, sessions resume."""
    from gateway.runtime import EdgeGateway

    local = Mosquitto(workdir=tmp_path / "local").start()
    uplink = Mosquitto(workdir=tmp_path / "uplink").start()
    cfg = with_local_services(default_config, local.port, tmp_path, summary_every_s=60, device_rate_per_s=1e6)
    cfg = cfg.model_copy(update={"gateway": cfg.gateway.model_copy(update={"uplink_broker": cfg.gateway.uplink_broker.model_copy(update={"port": uplink.port})})})
    tenant = cfg.gateway.tenant
    recorder = UplinkRecorder(uplink.port, uplink_topic(tenant, cfg.gateway.id))
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="awlr-katulampa-mqtt", clean_session=False)
    pub.max_queued_messages_set(0)
    pub.reconnect_delay_set(1, 2)
    pub.connect("127.0.0.1", local.port)
    pub.loop_start()
    gw = EdgeGateway(cfg)
    gw.start()
    assert gw.wait_ready()
    t0 = (datetime.now(timezone.utc) - timedelta(hours=8)).replace(minute=0, second=0, microsecond=0)
    total = 400
    try:
        for i in range(total):
            if i == 150:
                local.stop()
                local.start()
            wait_until(pub.is_connected, 30, what="device reconnected")
            frame = wire.AwlrFrame("depok", i, t0 + timedelta(seconds=15 * i), 150.0 + 0.01 * i + (i % 5) * 0.2, 12.0)
            info = pub.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(frame), qos=1)
            try:
                info.wait_for_publish(10)
            except RuntimeError:
                pass  # paho resends it after reconnecting
        last = wire.AwlrFrame("depok", total, t0 + timedelta(seconds=15 * total + 600), 150.0, 12.0)
        pub.publish(device_topic(tenant, "awlr-depok"), wire.encode_json(last), qos=1)

        def summaries() -> list[LevelSummary]:
            return [i for i in recorder.items.values() if isinstance(i, LevelSummary) and i.station == "depok"]

        wait_until(lambda: covered_readings(summaries())[-1:] == [total - 1], timeout=60, what="the last window")
        assert covered_readings(summaries()) == list(range(total))
        assert sum(s.qc.missing for s in summaries()) == 0
    finally:
        gw.stop()
        recorder.close()
        pub.loop_stop()
        local.close()
        uplink.close()
