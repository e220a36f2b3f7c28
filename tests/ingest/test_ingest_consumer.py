"""IngestWorker against a real Mosquitto: ack after store, dedup, garbage, persistent session."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ingest import consumer
from ingest.consumer import IngestWorker
from central.db import Alert, LevelPoint, Station, create_engine, prepare_database
from ingest.errors import PointWriteError
from kinds.awlr.ingest.points import PointSink, PointWrite, SqlPointSink
from kinds.awlr.ingest.summaries import SummaryPoints
from ingest.testing import batch, siaga_change, summary
from core.config import BrokerConfig, IngestConfig, TepiConfig, with_local_services
from contract.downlink import UplinkAck, decode_downlink
from contract.topics import DOWNLINK_FILTER, downlink_topic, uplink_topic
from core.processes import Mosquitto
from contract.uplink_batch import UplinkBatch, encode_batch

T0 = datetime(2025, 1, 21, 3, 0, tzinfo=timezone.utc)
TOPIC = uplink_topic("dki-jakarta", "gw-ciliwung")


@pytest.fixture
def sqlite_engine(tmp_path: Path, default_config: TepiConfig) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'central.db'}")
    prepare_database(eng, default_config)
    yield eng
    eng.dispose()


@pytest.fixture
def publish(mosquitto: Mosquitto) -> Iterator[Callable[[str, bytes], None]]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="test-gateway")
    client.connect("127.0.0.1", mosquitto.port)
    client.loop_start()

    def send(topic: str, payload: bytes) -> None:
        info = client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=5)
        assert info.is_published()

    yield send
    client.disconnect()
    client.loop_stop()


def make_worker(
    config: TepiConfig,
    mosquitto: Mosquitto,
    engine: Engine,
    registry: CollectorRegistry,
    sinks: Callable[[Session], PointSink] = SqlPointSink,
    worker: int = 1,
    batch_wait_ms: int = 20,
) -> IngestWorker:
    ingest = IngestConfig.model_validate(
        config.ingest.model_dump() | {"broker": BrokerConfig(port=mosquitto.port), "workers": 2, "worker": worker, "batch_wait_ms": batch_wait_ms}
    )
    worker = IngestWorker(
        ingest, config, registry=registry, engine=engine, point_sinks=sinks, retry_initial_s=0.05, retry_max_s=0.2
    )
    worker.start()
    assert worker.wait_subscribed(10), "worker did not subscribe"
    return worker


def points(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(LevelPoint)) or 0)


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


def windows(station: str, n: int, start: datetime = T0) -> UplinkBatch:
    return batch([summary(station, start + timedelta(minutes=10 * i), 100.0 + i) for i in range(n)])


def test_published_batches_are_stored_and_redeliveries_deduplicated(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], database_url: str, default_config: TepiConfig
) -> None:
    engine = create_engine(database_url)
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, engine, registry)
    try:
        change = siaga_change("depok", T0, 3, 210.0, siaga_from=4)
        payload = encode_batch(batch([*windows("depok", 5).items, change]))
        publish(TOPIC, payload)
        publish(TOPIC, payload)  # a gateway that did not see the PUBACK sends again
        assert wait_for(lambda: metric(registry, "tepi_ingest_duplicates_total") == 1)
        assert wait_for(lambda: metric(registry, "tepi_ingest_items_stored_total", type="summary") == 10)
        assert points(engine) == 5  # the summaries written again are stored once
        assert metric(registry, "tepi_ingest_messages_total") == 2
        assert metric(registry, "tepi_ingest_items_stored_total", type="siaga_change") == 1
        with Session(engine) as s:
            assert s.scalars(sa.select(Alert.type).where(Alert.station_id == "depok")).all() == ["siaga"]
    finally:
        worker.stop()
        engine.dispose()


def test_garbage_is_counted_acknowledged_and_does_not_stop_the_worker(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig
) -> None:
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry)
    try:
        publish(TOPIC, b"\x00\xffnot json at all")
        publish(TOPIC, b'{"v": 1, "tenant": "dki-jakarta"}')
        # Valid JSON, but the topic names another gateway than the payload.
        publish(uplink_topic("dki-jakarta", "gw-other"), encode_batch(windows("katulampa", 1)))
        publish(TOPIC, encode_batch(windows("katulampa", 2)))
        assert wait_for(lambda: points(sqlite_engine) == 2)
        assert metric(registry, "tepi_ingest_rejected_total", reason="malformed") == 2
        assert metric(registry, "tepi_ingest_rejected_total", reason="topic_mismatch") == 1
    finally:
        worker.stop()
    # Acknowledged: a new connection of the same session is not handed the garbage again.
    registry2 = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry2)
    try:
        time.sleep(0.5)
        assert metric(registry2, "tepi_ingest_messages_total") == 0
    finally:
        worker.stop()


class AckListener:
    """Every gateway's downlink, as the gateways would read it: (topic, ack) in arrival order."""

    def __init__(self, port: int) -> None:
        self.acks: list[tuple[str, UplinkAck]] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="ack-listener")
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.acks.append((msg.topic, decode_downlink(msg.payload)))
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(DOWNLINK_FILTER, qos=1)
        self.client.loop_start()
        assert subscribed.wait(10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_stored_duplicate_and_refused_messages_are_acknowledged_to_their_gateway(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig
) -> None:
    """The gateway deletes items only on ingest's ack: a duplicate is acked again (its first
    ack may be the one lost), and a message that can never be stored is acked as rejected, or
    the gateway would send it forever."""
    listener = AckListener(mosquitto.port)
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry)
    own, other = downlink_topic("dki-jakarta", "gw-ciliwung"), downlink_topic("dki-jakarta", "gw-other")
    try:
        stored = encode_batch(windows("katulampa", 2).model_copy(update={"msg": 11}))
        publish(TOPIC, stored)
        assert wait_for(lambda: len(listener.acks) == 1)
        assert points(sqlite_engine) == 2, "acknowledged once stored"
        publish(TOPIC, stored)
        assert wait_for(lambda: len(listener.acks) == 2)
        publish(TOPIC, b'{"tenant":"dki-jakarta","gateway":"gw-ciliwung","msg":12,"sent_at":"not a time","items":[]}')
        assert wait_for(lambda: len(listener.acks) == 3)
        publish(uplink_topic("dki-jakarta", "gw-other"), encode_batch(windows("depok", 1).model_copy(update={"msg": 13})))
        assert wait_for(lambda: len(listener.acks) == 4)
        assert listener.acks == [
            (own, UplinkAck(stored=[11])),
            (own, UplinkAck(stored=[11])),
            (own, UplinkAck(rejected=[12])),
            (other, UplinkAck(rejected=[13])),  # to the gateway whose topic it came on: the sender
        ]
        assert metric(registry, "tepi_ingest_rejected_total", reason="malformed") == 1
        assert metric(registry, "tepi_ingest_rejected_total", reason="topic_mismatch") == 1
    finally:
        worker.stop()
        listener.close()


def test_messages_published_while_the_worker_is_down_arrive_after_restart(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig
) -> None:
    worker = make_worker(default_config, mosquitto, sqlite_engine, CollectorRegistry())
    worker.stop()
    for day in range(3):
        publish(TOPIC, encode_batch(windows("manggarai", 4, T0 + timedelta(days=day))))
    assert points(sqlite_engine) == 0
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry)
    try:
        assert wait_for(lambda: points(sqlite_engine) == 12)
        assert metric(registry, "tepi_ingest_items_stored_total", type="summary") == 12
    finally:
        worker.stop()


class BrokenTsdb:
    def __init__(self) -> None:
        self.attempts = 0

    def write(self, points: Sequence[SummaryPoints]) -> None:
        self.attempts += 1
        raise PointWriteError("connection refused")


def test_nothing_is_acknowledged_when_storing_fails(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig
) -> None:
    broken = BrokenTsdb()
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry, sinks=lambda _s: broken)
    try:
        publish(TOPIC, encode_batch(windows("depok", 3)))
        assert wait_for(lambda: broken.attempts >= 3), "the batch is retried with backoff"
        # Counted once the failed write is back in the worker's attempt, just after `attempts`.
        assert wait_for(lambda: metric(registry, "tepi_ingest_tsdb_write_errors_total") >= 3)
        assert points(sqlite_engine) == 0
    finally:
        worker.stop()
    # The TSDB is back: the broker redelivers the unacknowledged message to the same session.
    registry2 = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry2)
    try:
        assert wait_for(lambda: points(sqlite_engine) == 3)
        assert metric(registry2, "tepi_ingest_items_stored_total", type="summary") == 3
    finally:
        worker.stop()


class FlakyTsdb:
    """A TSDB over HTTP as the worker sees it (`submit`, then wait): keeps what it was given,
    and refuses the `fail_at`-th submit once, as a TSDB that drops its connection would."""

    def __init__(self, fail_at: int, committed: Callable[[], bool]) -> None:
        self.fail_at = fail_at
        self.committed = committed
        self.submits: list[int] = []
        self.committed_before: list[bool] = []  # whether the state database held the batch already
        self.stored: list[int] = []  # window starts, in µs, of every point it accepted

    def write(self, points: Sequence[SummaryPoints]) -> None:
        self.submit(points).wait()

    def submit(self, points: Sequence[SummaryPoints]) -> PointWrite:
        self.submits.append(sum(map(len, points)))
        self.committed_before.append(self.committed())
        request: Future[None] = Future()
        if len(self.submits) == self.fail_at:
            request.set_exception(PointWriteError("connection reset"))
        else:
            self.stored.extend(t for p in points for t in p.rows.window_start_us.tolist())
            request.set_result(None)
        return PointWrite([request])


def test_a_batch_goes_to_the_tsdb_group_by_group_and_commits_only_when_all_is_stored(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Six messages waiting for the worker's session arrive as one batch; two per group, so
    # the TSDB is handed three groups of points while the rest of the batch is decoded.
    monkeypatch.setattr(consumer, "STREAM_GROUP", 2)
    monkeypatch.setattr(consumer, "IDLE_GAP_S", 1.0)  # one batch even if the broker hands them out slowly
    make_worker(default_config, mosquitto, sqlite_engine, CollectorRegistry()).stop()
    for i in range(5):
        publish(TOPIC, encode_batch(windows("katulampa", 3, T0 + timedelta(hours=i))))
        if i == 2:
            publish(TOPIC, b"not an uplink batch")  # in the second group

    def committed() -> bool:
        with Session(sqlite_engine) as s:
            station = s.get(Station, "katulampa")
            return station is not None and station.last_seen_at is not None

    tsdb = FlakyTsdb(fail_at=3, committed=committed)  # the third group's write fails the first time
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry, sinks=lambda _s: tsdb, batch_wait_ms=3000)
    try:
        assert wait_for(lambda: metric(registry, "tepi_ingest_items_stored_total", type="summary") == 15)
        assert tsdb.submits[:3] == [6, 3, 6], "one write per group, before the batch was committed"
        assert metric(registry, "tepi_ingest_tsdb_write_errors_total") == 1
        # Nothing was committed or acknowledged after the failure: the retry wrote every group
        # again, and the message that is not a batch was counted once, not once per attempt.
        assert tsdb.submits[3:] == [6, 3, 6]
        # The first two groups reached the TSDB twice: a rewrite, which it keeps once.
        assert len(tsdb.stored) == 9 + 15 and len(set(tsdb.stored)) == 15
        assert tsdb.committed_before == [False] * 6, "no group's state is committed before every group is stored"
        assert committed()
        assert metric(registry, "tepi_ingest_rejected_total", reason="malformed") == 1
    finally:
        worker.stop()
    registry2 = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry2, sinks=lambda _s: tsdb)
    try:
        time.sleep(0.5)
        assert metric(registry2, "tepi_ingest_messages_total") == 0, "all six were acknowledged"
    finally:
        worker.stop()


def test_a_group_ends_once_it_holds_enough_summaries(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Messages of a thousand summaries would make groups of fifty messages too large to stream:
    # a group also ends at `STREAM_SUMMARIES` items (here 5: two messages of three).
    monkeypatch.setattr(consumer, "STREAM_SUMMARIES", 5)
    monkeypatch.setattr(consumer, "IDLE_GAP_S", 1.0)
    make_worker(default_config, mosquitto, sqlite_engine, CollectorRegistry()).stop()
    for i in range(5):
        publish(TOPIC, encode_batch(windows("katulampa", 3, T0 + timedelta(hours=i))))
    tsdb = FlakyTsdb(fail_at=0, committed=lambda: False)
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry, sinks=lambda _s: tsdb, batch_wait_ms=3000)
    try:
        assert wait_for(lambda: metric(registry, "tepi_ingest_items_stored_total", type="summary") == 15)
        assert tsdb.submits == [6, 6, 3]
    finally:
        worker.stop()


def test_a_decoder_bug_is_not_retried_in_a_loop_and_the_worker_goes_on(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not bad input (that is a MessageError, counted and acknowledged) but a bug: the batch is
    # left unacknowledged for a later connection, once, and the next batches go on.
    attempts = []
    real = consumer.decode_batch

    def decoder_with_a_bug(payload: bytes) -> UplinkBatch:
        if payload == b"trips the decoder":
            attempts.append(payload)
            raise RecursionError("maximum recursion depth exceeded")
        return real(payload)

    monkeypatch.setattr(consumer, "decode_batch", decoder_with_a_bug)
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry)
    try:
        publish(TOPIC, b"trips the decoder")
        assert wait_for(lambda: len(attempts) == 1)
        time.sleep(0.3)
        publish(TOPIC, encode_batch(windows("depok", 2)))
        assert wait_for(lambda: points(sqlite_engine) == 2), "the next batch is stored"
        assert len(attempts) == 1
        assert metric(registry, "tepi_ingest_rejected_total", reason="malformed") == 0
    finally:
        worker.stop()


def test_stopping_mid_stream_loses_nothing(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig
) -> None:
    registry = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry)
    for i in range(40):
        publish(TOPIC, encode_batch(windows("katulampa", 3, T0 + timedelta(hours=i))))
    worker.stop()  # whatever was received is stored and acknowledged; the rest stays queued
    stored_before = points(sqlite_engine)
    registry2 = CollectorRegistry()
    worker = make_worker(default_config, mosquitto, sqlite_engine, registry2)
    try:
        assert wait_for(lambda: points(sqlite_engine) == 120), f"stored {points(sqlite_engine)} of 120"
        redelivered_new = metric(registry2, "tepi_ingest_items_stored_total", type="summary")
        assert stored_before + redelivered_new == 120
    finally:
        worker.stop()


def test_tepi_ingest_retire_stores_the_queued_share_and_leaves_the_group(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig, tmp_path: Path
) -> None:
    """A worker stopped for good still gets its share, queued offline; `tepi ingest --worker 2
    --retire` (what to run before lowering `ingest.workers`) stores that share and leaves the
    group, so afterwards the remaining worker gets every uplink."""
    stays = CollectorRegistry()
    worker_a = make_worker(default_config, mosquitto, sqlite_engine, stays, worker=1)
    make_worker(default_config, mosquitto, sqlite_engine, CollectorRegistry(), worker=2).stop()
    try:
        for i in range(10):
            publish(TOPIC, encode_batch(windows("depok", 1, T0 + timedelta(hours=i))))
        assert wait_for(lambda: points(sqlite_engine) == 5), "worker 1 did not store its half"
        assert metric(stays, "tepi_ingest_messages_total") == 5, "the other half waits in worker 2's offline session"
        cfg = with_local_services(default_config, mosquitto.port, tmp_path, database_url=str(sqlite_engine.url))
        cfg = cfg.model_copy(update={"ingest": cfg.ingest.model_copy(update={"workers": 2})})
        path = tmp_path / "central.yaml"
        path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
        retire = [sys.executable, "-m", "tepi.main", "ingest", "-c", str(path), "--worker", "2", "--retire"]
        result = subprocess.run(retire, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr[-2000:]
        assert "ingest.2 left the share group" in result.stdout + result.stderr
        assert points(sqlite_engine) == 10
        for i in range(10, 20):
            publish(TOPIC, encode_batch(windows("depok", 1, T0 + timedelta(hours=i))))
        assert wait_for(lambda: points(sqlite_engine) == 20), f"only {points(sqlite_engine)} of 20 arrived"
        assert metric(stays, "tepi_ingest_messages_total") == 15
    finally:
        worker_a.stop()


def test_a_retired_worker_no_longer_holds_back_its_share(
    mosquitto: Mosquitto, publish: Callable[[str, bytes], None], sqlite_engine: Engine, default_config: TepiConfig
) -> None:
    # Mosquitto hands every member of a share group its turn, offline persistent sessions too.
    stays = CollectorRegistry()
    worker_a = make_worker(default_config, mosquitto, sqlite_engine, stays, worker=1)
    worker_b = make_worker(default_config, mosquitto, sqlite_engine, CollectorRegistry(), worker=2)
    worker_b.retire(idle_s=0.2, timeout=10)
    try:
        for i in range(10):
            publish(TOPIC, encode_batch(windows("depok", 1, T0 + timedelta(hours=i))))
        assert wait_for(lambda: points(sqlite_engine) == 10), f"only {points(sqlite_engine)} of 10 arrived"
        assert metric(stays, "tepi_ingest_messages_total") == 10
    finally:
        worker_a.stop()
