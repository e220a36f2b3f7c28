"""Central delivery under faults, with real processes: each uplink item stored exactly once,
whichever ingest worker, broker or TSDB failed meanwhile. Every message carries a summary (its
point lands in VictoriaMetrics, once per window) and a Siaga change (its idempotency key lands
in the state DB, once per event, and moves the alert)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
import yaml
from prometheus_client import CollectorRegistry

from gateway.outbox import PRIORITY_EVENT, PRIORITY_SUMMARY, Outbox
from gateway.uplink import Uplink
from ingest.testing import batch, siaga_change, summary
from core.config import TepiConfig, TsdbConfig, with_local_services
from contract.topics import uplink_topic
from kinds.awlr.items import outbox_body
from core.processes import Mosquitto, VictoriaMetrics
from core.testing import wait_until
from contract.uplink_batch import encode_batch

pytestmark = pytest.mark.integration
GATEWAY = "gw-ciliwung"
T0 = (datetime.now(timezone.utc) - timedelta(days=3)).replace(minute=0, second=0, microsecond=0)


class Central:
    """Ingest workers as `tepi ingest` processes against one config; stores inspected directly."""

    def __init__(self, tmp_path: Path, cfg: TepiConfig, vm: VictoriaMetrics) -> None:
        self.tmp_path = tmp_path
        self.cfg = cfg
        self.vm = vm
        self.config_path = tmp_path / "tepi.yaml"
        self.config_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
        self.workers: dict[int, subprocess.Popen[bytes]] = {}
        self.engine = sa.create_engine(cfg.ingest.database_url)

    def start_worker(self, worker: int) -> None:
        log = self.tmp_path / f"ingest-{worker}.log"
        offset = log.stat().st_size if log.exists() else 0
        self.workers[worker] = subprocess.Popen(
            [sys.executable, "-m", "tepi.cli", "ingest", "-c", str(self.config_path), "--worker", str(worker)],
            stdout=open(log, "ab"), stderr=subprocess.STDOUT,
        )
        wait_until(lambda: "connected to broker" in log.read_text()[offset:], 30, f"ingest worker {worker} connected")
        time.sleep(0.5)  # its subscription follows the CONNACK

    def kill(self, worker: int) -> None:
        self.workers[worker].send_signal(signal.SIGKILL)
        self.workers[worker].wait(10)

    def stop_all(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.engine.dispose()

    def stored_ids(self) -> list[str]:
        """Events applied (their idempotency keys)."""
        try:
            with self.engine.connect() as c:
                return [r[0] for r in c.execute(sa.text("SELECT item_id FROM processed_messages"))]
        except sa.exc.OperationalError:
            return []  # schema not created yet

    def vm_windows(self, station: str) -> list[int]:
        rows = self.vm.export(f'awlr_level_mean{{station="{station}"}}', timeout=0)
        return sorted(t for row in rows for t in row["timestamps"])


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    v = VictoriaMetrics(workdir=tmp_path / "vm").start()
    yield v
    v.close()


@pytest.fixture
def central(default_config: TepiConfig, mosquitto: Mosquitto, vm: VictoriaMetrics, tmp_path: Path) -> Iterator[Central]:
    cfg = with_local_services(default_config, mosquitto.port, tmp_path, tsdb=TsdbConfig(url=vm.url))
    cfg = cfg.model_copy(update={"ingest": cfg.ingest.model_copy(update={"workers": 2})})
    c = Central(tmp_path, cfg, vm)
    yield c
    c.stop_all()


def publish_summaries(port: int, cfg: TepiConfig, n: int, station: str = "katulampa", during: Callable[[int], None] | None = None) -> list[str]:
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="gateway-uplink")
    pub.max_queued_messages_set(0)
    pub.reconnect_delay_set(1, 2)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    ids = []
    topic = uplink_topic(cfg.gateway.tenant, cfg.gateway.id)
    for i in range(n):
        at = T0 + timedelta(minutes=10 * i)
        s = summary(station, at, 40.0 + i % 30, first_seq=10 * i)
        rise = i % 2 == 0  # up to Siaga 3 and back, message after message
        change = siaga_change(station, at, 3 if rise else 4, 90.0, siaga_from=4 if rise else 3, seq=10 * i)
        ids.append(change.id)
        wait_until(pub.is_connected, 30, "the publisher (re)connected")
        info = pub.publish(topic, encode_batch(batch([s, change])), qos=1)
        try:
            info.wait_for_publish(10)
        except RuntimeError:
            pass  # the connection dropped under it: paho keeps the QoS 1 message and resends it
        if during:
            during(i)
    # paho's queue of unacknowledged messages empties once the broker has them all.
    wait_until(lambda: not pub._out_messages, 30, "every message acknowledged by the broker")
    pub.loop_stop()
    pub.disconnect()
    return ids


def test_ingest_down_then_up_and_one_of_two_workers_killed(central: Central, mosquitto: Mosquitto) -> None:
    central.start_worker(1)
    central.start_worker(2)
    central.kill(1)
    central.kill(2)  # both down: the broker keeps their sessions' share

    def faults(i: int) -> None:
        if i == 100:
            central.start_worker(1)
            central.start_worker(2)
        if i == 200:
            central.kill(1)  # mid-stream, with unacknowledged messages in flight
        if i == 260:
            central.start_worker(1)

    ids = publish_summaries(mosquitto.port, central.cfg, 300, during=faults)
    wait_until(lambda: len(central.stored_ids()) >= 300, 60, "all 300 items stored")
    time.sleep(1.0)  # a duplicate would land now
    stored = central.stored_ids()
    assert sorted(stored) == sorted(ids), "each item exactly once"
    wait_until(lambda: len(central.vm_windows("katulampa")) >= 300, 30, "all windows in VictoriaMetrics")
    windows = central.vm_windows("katulampa")
    assert len(windows) == len(set(windows)) == 300


def test_tsdb_down_means_nothing_acknowledged_until_it_is_back(central: Central, mosquitto: Mosquitto, vm: VictoriaMetrics) -> None:
    central.start_worker(1)
    vm.stop()
    ids = publish_summaries(mosquitto.port, central.cfg, 50)
    time.sleep(2.0)
    assert central.stored_ids() == [], "nothing committed while the TSDB refuses writes"
    vm.start()  # same data dir, same port
    wait_until(lambda: len(central.stored_ids()) >= 50, 60, "stored after the TSDB returned")
    assert sorted(central.stored_ids()) == sorted(ids)
    windows = central.vm_windows("katulampa")
    assert len(windows) == len(set(windows)) == 50


def test_central_broker_restart_loses_nothing(central: Central, mosquitto: Mosquitto, tmp_path: Path) -> None:
    """Mosquitto 2.0 restores a persistent session's plain subscriptions after a restart, not
    its shared ones: until ingest subscribes again, uplinks are PUBACKed and dropped. The race
    is forced here: ingest is away across the restart, the gateway's uplink publishes into the
    gap, and ingest comes back only once the broker acknowledged everything. The gateway keeps
    every item until ingest acknowledges it stored, and sends again what it never did."""
    cfg = central.cfg
    assert cfg.gateway.id == GATEWAY
    registry = CollectorRegistry()
    outbox = Outbox(tmp_path / "outbox.db")
    uplink = Uplink(
        outbox, cfg.gateway.uplink_broker, cfg.gateway.tenant, cfg.gateway.id, registry,
        mqtt_user=cfg.gateway.mqtt_user("uplink"), ack_timeout_s=3.0,
    )

    def pubacked() -> float:
        return registry.get_sample_value("tepi_gateway_uplinked_items_total") or 0.0

    central.start_worker(1)
    uplink.start()
    try:
        ids = queue_summaries(outbox, range(0, 50))
        wait_until(lambda: outbox.depth() == 0, 60, "the first 50 stored and acknowledged by ingest")
        assert sorted(central.stored_ids()) == sorted(ids)

        central.kill(1)  # away across the restart: nobody subscribes again in time
        mosquitto.stop()
        mosquitto.start()  # persistence keeps the worker's session; Mosquitto 2.0 not its $share subscription
        ids += queue_summaries(outbox, range(50, 120))
        wait_until(lambda: pubacked() >= 2 * 120, 60, "the broker acknowledged every message")
        assert outbox.depth() > 0, "the broker's PUBACK deletes nothing: only ingest's ack does"

        central.start_worker(1)
        wait_until(lambda: outbox.depth() == 0, 60, "everything stored and acknowledged after ingest returned")
        assert sorted(central.stored_ids()) == sorted(ids), "each item exactly once"
        wait_until(lambda: len(central.vm_windows("katulampa")) >= 120, 30, "all windows in VictoriaMetrics")
        windows = central.vm_windows("katulampa")
        assert len(windows) == len(set(windows)) == 120
    finally:
        uplink.stop()
        outbox.close()


def queue_summaries(outbox: Outbox, numbers: range, station: str = "katulampa") -> list[str]:
    """Per number a summary and a Siaga change into the gateway's outbox, as the gateway stores
    them; returns the changes' ids (what the state DB records once each)."""
    rows, ids = [], []
    for i in numbers:
        at = T0 + timedelta(minutes=10 * i)
        s = summary(station, at, 40.0 + i % 30, first_seq=10 * i)
        rise = i % 2 == 0
        change = siaga_change(station, at, 3 if rise else 4, 90.0, siaga_from=4 if rise else 3, seq=10 * i)
        rows += [(s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)), (change.id, PRIORITY_EVENT, outbox_body(change, GATEWAY))]
        ids.append(change.id)
    outbox.put(rows)
    return ids
