"""The ingest worker: uplink messages from the broker, in batches, into the stores, then PUBACK.

Delivery guarantee: at least once from the broker, exactly once into the stores (events by
item id, a kind's series by series and time: e.g. `kinds.awlr.ingest.summaries`).

* A persistent MQTT session (fixed client id, clean_session=False) makes the broker keep the
  shared subscription and queue QoS 1 messages while the worker is down.
* The workers subscribe as one share group (`$share/<group>/...`). A broker without shared
  subscriptions (the embedded amqtt of `tepi demo`) matches nothing to such a filter, so there
  the configuration says `shared_subscription: false` and the one worker allowed subscribes to
  the plain topics. The configuration says it, not the broker: ingest speaks MQTT 3.1.1 (its
  persistent session), whose CONNACK carries no "Shared Subscription Available" property.
* Messages are acknowledged manually (`manual_ack=True`), only after the transaction that
  stored them committed and the TSDB accepted the points. If storing fails, nothing is
  acknowledged and the batch is retried with backoff; if the worker dies meanwhile, the broker
  redelivers on the next connection and the stores keep one copy of each item.
* A message that can never be stored (not JSON, wrong schema, topic of another gateway) is
  counted and acknowledged, or the broker would redeliver it forever.
* Once stored, each gateway is told which of its messages are (`contract.downlink.UplinkAck` on its
  downlink topic, refused ones as rejected): the gateway deletes items only then. The broker's
  PUBACK to the gateway is no proof of delivery: Mosquitto 2.0 does not restore shared
  subscriptions from its persistence file, so after a broker restart, until the workers
  subscribe again, uplinks are accepted and dropped for want of a subscriber.
* A batch is decoded and screened a group of messages at a time (`STREAM_GROUP`,
  `STREAM_SUMMARIES`), and each group's points
  go to the TSDB at once, while the next group is decoded; the state of the whole batch is
  applied last and committed after the TSDB stored every group. A backlog of a thousand
  messages thus keeps the TSDB busy from its first group instead of idle until all are decoded.
  Points of a batch whose transaction then fails are written again with its redelivery, which
  the TSDB keeps once (same series and time).

Between batches the same thread checks, every `offline_check_s`, which stations fell silent
(each kind's `check_silence`, `ingest.kind_interface`), and every `retention.check_every_s` of the configuration enforces the
retention policy (`central.retention`); the clock is injectable so tests can move time on.
The notifier (`central.notify`: subscriptions, escalation, email and webhooks) runs beside them
in a thread of its own, so a slow mail server never holds up a batch.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import REGISTRY, CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from central.db import create_engine, prepare_database, writer
from ingest.errors import BrokerError, PointWriteError, StoreError
from ingest.kind_interface import Downlink
from ingest.metrics import IngestMetrics
from central.notify.notifier import Notifier, NotifierThread
from central.notify.settings import NotifySettings, load_notify_settings
from central.retention import enforce_retention
from ingest.service import UNKNOWN_KIND, ApplyResult, ReadBatch, Screening, apply_screened, handler_of, read_batch, runtimes_for
from kinds import kind_names
from core.broker_drops import DROPPED_TOPIC, BrokerDropWatch
from core.config import IngestConfig, TepiConfig
from core.logs import RateLimitedLog
from contract.clock import utcnow
from contract.downlink import encode_ack, uplink_acks
from contract.topics import downlink_topic, uplink_subscription
from contract.uplink_batch import MessageError, UnknownRecordType, decode_batch, message_id_of

log = logging.getLogger(__name__)

#: A pause between messages this long ends a batch before `batch_wait_ms`.
IDLE_GAP_S = 0.005

#: A batch is decoded and screened in groups of at most this many messages, or fewer once a
#: group holds `STREAM_SUMMARIES` items (a message carries up to 1,000): each group's points go
#: to a TSDB while the next group is decoded, so the TSDB is not idle until the whole batch is
#: decoded (measured in `bench/ingest.py`).
STREAM_GROUP = 50
STREAM_SUMMARIES = 10_000

MALFORMED = "malformed"
TOPIC_MISMATCH = "topic_mismatch"


@dataclass(frozen=True, slots=True)
class _Delivery:
    """A message as received; `connection` tells whether its packet id is still valid to ack."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    connection: int


@dataclass(slots=True)
class _Group:
    """A group of a batch's messages, decoded: how many it took, their valid batches, and per
    message that named its id, (sender, id, stored) for the gateway's `UplinkAck`."""

    taken: int = 0
    batches: list[ReadBatch] = field(default_factory=list)
    receipts: list[tuple[tuple[str, str], int, bool]] = field(default_factory=list)

    def receipt(self, sender: tuple[str, str] | None, msg: int | None, *, stored: bool) -> None:
        if sender is not None and msg is not None:
            self.receipts.append((sender, msg, stored))


def receipts_by_gateway(groups: Sequence[_Group]) -> dict[tuple[str, str], tuple[list[int], list[int]]]:
    """(tenant, gateway) -> (ids stored, ids rejected) over a batch's groups, each id once."""
    out: dict[tuple[str, str], tuple[list[int], list[int]]] = {}
    for group in groups:
        for sender, msg, stored in group.receipts:
            stored_ids, rejected_ids = out.setdefault(sender, ([], []))
            target = stored_ids if stored else rejected_ids
            if msg not in target:
                target.append(msg)
    return out


class _DecoderFailed(Exception):
    """Decoding raised something other than `MessageError`: a bug, which no retry mends."""


def topic_identity(topic: str) -> tuple[str, str] | None:
    """(tenant, gateway) named by an uplink topic `tepi/<tenant>/gw/<gateway>/up`."""
    parts = topic.split("/")
    if len(parts) == 5 and parts[0] == "tepi" and parts[2] == "gw" and parts[4] == "up":
        return parts[1], parts[3]
    return None


class IngestWorker:
    """One member of the ingest share group; run several (`IngestConfig.worker` 1..`workers`, each its own MQTT user) to scale out.

    `registry` receives the worker's Prometheus metrics (default: the process-wide registry;
    pass a private one to run several workers in one process). `clock` is the wall clock of
    arrival times and offline checks.
    """

    def __init__(
        self,
        config: IngestConfig,
        tepi_config: TepiConfig,
        *,
        registry: CollectorRegistry | None = None,
        engine: Engine | None = None,
        point_sinks: Callable[[Session], Any] | None = None,
        prepare_schema: bool = True,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
        offline_check_s: float = 15.0,
        retention_first_s: float = 60.0,
        poll_s: float = 1.0,
        notify_settings: NotifySettings | None = None,
    ) -> None:
        self.config = config
        self.tepi_config = tepi_config
        #: Each kind's ingest side and its runtime for this worker (e.g. the river network).
        self._handlers = {name: handler_of(name) for name in kind_names()}
        self.runtimes = runtimes_for(kind_names(), tepi_config)
        self._clock = clock
        self._offline_check_s = offline_check_s
        self._next_offline_check = 0.0
        #: Kinds' periodic polls (`ingest.kind_interface.OwnPlatforms`: e.g. an SOS acknowledged
        #: through the API, told to the boat at once).
        self._poll_s = poll_s
        self._next_poll = 0.0
        #: The first retention run waits a little after start (a restart loop must not hammer
        #: the database), then repeats every `retention.check_every_s`.
        self._retention_first_s = retention_first_s
        self._next_retention = 0.0
        self._watching_since = clock()
        self.registry = registry if registry is not None else REGISTRY
        self.metrics = IngestMetrics(self.registry)
        #: Uplinks the central broker dropped (a worker's queue full): a gateway already deleted them.
        self.broker_drops = BrokerDropWatch("tepi_ingest", "central", self.registry, log)
        self._sys_mid: int | None = None
        self._own_engine = engine is None
        self._engine = engine if engine is not None else create_engine(config.database_url)
        #: kind -> a factory of its point sinks (`point_sinks`, when given, takes every kind's points).
        self._sinks: dict[str, Callable[[Session], Any]] = {}
        self._closers: list[Callable[[], None]] = []
        for name, handler in self._handlers.items():
            if point_sinks is not None:
                self._sinks[name] = point_sinks
            else:
                self._sinks[name], close = handler.point_sinks(config.tsdb)
                self._closers.append(close)
        self._prepare_schema = prepare_schema
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._queue: queue.Queue[_Delivery] = queue.Queue()
        self._connection = 0
        self._subscribed = threading.Event()
        self._unsubscribed = threading.Event()
        self._retiring = False
        self._last_message_at = time.monotonic()
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._errors = RateLimitedLog(log, interval_s=10.0)
        self._client = self._make_client()
        #: Reaching people (`TEPI_SMTP_*`, `TEPI_NOTIFY_EVERY_S`, ... from the environment unless given).
        notify = notify_settings if notify_settings is not None else load_notify_settings()
        self.notifier = (
            NotifierThread(Notifier(self._engine, tepi_config, notify, registry=self.registry, clock=clock), notify.notify_every_s)
            if notify.notify_every_s > 0
            else None
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Prepare the database, connect (retrying in the background) and start processing."""
        if self._prepare_schema:
            try:
                prepare_database(self._engine, self.tepi_config)
            except SQLAlchemyError as exc:
                raise StoreError(f"cannot prepare the state database: {type(exc).__name__}") from exc
        self._watching_since = self._clock()
        self._next_offline_check = time.monotonic() + self._offline_check_s
        self._next_retention = time.monotonic() + self._retention_first_s
        self._thread = threading.Thread(target=self._process_loop, name="ingest-batches", daemon=True)
        self._thread.start()
        if self.notifier is not None:
            self.notifier.start()
        broker = self.config.broker
        self._client.connect_async(broker.host, broker.port, keepalive=broker.keepalive_s)
        self._client.loop_start()
        log.info(
            "ingest worker started",
            extra={"broker": f"{broker.host}:{broker.port}", "client_id": self.config.client_id},
        )

    def wait_subscribed(self, timeout: float = 10.0) -> bool:
        """Block until the broker confirmed the subscription (tests and readiness probes)."""
        return self._subscribed.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Store and acknowledge what was received, then disconnect, keeping the session.

        Messages that arrive after the queue is drained, or that cannot be stored now, stay
        unacknowledged: the broker hands them out again on the next connection.
        """
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("ingest batches still running at stop; unacknowledged messages will be redelivered")
        if self.notifier is not None:
            self.notifier.stop()
        self._client.disconnect()
        self._client.loop_stop()
        for close in self._closers:
            close()
        if self._own_engine:
            self._engine.dispose()
        self._stopped.set()
        log.info("ingest worker stopped", extra={"client_id": self.config.client_id})

    def retire(self, idle_s: float = 2.0, timeout: float = 60.0) -> None:
        """Leave the share group for good (scaling down): take the backlog, unsubscribe, stop.

        Mosquitto keeps routing a share of the group's messages to a member whose persistent
        session is offline, so a client id that never comes back would hold its share (alerts
        included) forever. Call this on a started worker with the id being retired.
        """
        if not self.wait_subscribed(timeout):
            raise BrokerError(f"cannot retire {self.config.client_id}: not subscribed within {timeout:.0f}s")
        self._wait_idle(idle_s, timeout)
        self._retiring = True
        self._unsubscribed.clear()
        self._client.unsubscribe(uplink_subscription(self.config.uplink_share_group))
        if not self._unsubscribed.wait(timeout):
            raise BrokerError(f"broker did not confirm the unsubscription of {self.config.client_id}")
        self._wait_idle(idle_s, timeout)  # what was routed before the unsubscription took effect
        self.stop()
        log.info("ingest worker retired from the share group", extra={"client_id": self.config.client_id})

    def _wait_idle(self, idle_s: float, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.empty() and time.monotonic() - self._last_message_at >= idle_s:
                return
            time.sleep(min(idle_s / 4, 0.1))

    def run_forever(self) -> None:
        """Run until SIGTERM/SIGINT (when called from the main thread) or `stop()`."""
        stop_requested = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop_requested.set())
        self.start()
        try:
            while not stop_requested.is_set() and not self._stopped.is_set():
                stop_requested.wait(0.5)
        finally:
            if not self._stopped.is_set():
                self.stop()

    # -- MQTT callbacks (paho network thread) ------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.config.client_id,
            clean_session=False,
            protocol=mqtt.MQTTv311,
            manual_ack=True,
        )
        self.config.broker.apply_to(client, self.config.client_id)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = lambda *_: self._unsubscribed.set()
        client.on_message = self._on_message
        client.message_callback_add(DROPPED_TOPIC, lambda _c, _u, msg: self.broker_drops.observe(msg.payload))
        return client

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason_code: Any, _p: Any) -> None:
        if reason_code.is_failure:
            self._errors.warning("connect", "broker refused connection", reason=str(reason_code))
            return
        self._connection += 1
        log.info("connected to broker", extra={"session_present": bool(flags.session_present)})
        if self._retiring:
            return
        # Subscribing again on a resumed session is harmless and covers a broker that lost it.
        client.subscribe(uplink_subscription(self.config.uplink_share_group), qos=1)
        # QoS 0: only the latest count matters, and it must not wait in the session's queue.
        _, self._sys_mid = client.subscribe(DROPPED_TOPIC, qos=0)

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reason_codes: list[Any], _p: Any) -> None:
        if mid == self._sys_mid:
            if any(rc.is_failure for rc in reason_codes):
                self._errors.warning("subscribe-sys", "broker refused its dropped-message count", topic=DROPPED_TOPIC)
            return
        if any(rc.is_failure for rc in reason_codes):
            self._errors.warning("subscribe", "broker refused the uplink subscription", reason=str(reason_codes))
            return
        self._subscribed.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _flags: Any, reason_code: Any, _p: Any) -> None:
        self._subscribed.clear()
        if not self._stopping.is_set():
            self._errors.warning("disconnect", "disconnected from broker; reconnecting", reason=str(reason_code))

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        """Only queue the message: the batch thread decodes it. Decoding is mostly numpy,
        which releases the GIL between steps; on the network thread it fought the batch
        thread for the GIL at every step, and the handovers cost it several times its own CPU
        (measured in `bench/ingest.py`: 0.2 s against 0.06 s alone, per 100,000 summaries)."""
        self.metrics.messages.inc()
        self._last_message_at = time.monotonic()
        self._queue.put(_Delivery(msg.mid, msg.qos, msg.topic, msg.payload, self._connection))

    # -- processing (own thread) -------------------------------------------------------------

    def _process_loop(self) -> None:
        while True:
            deliveries = self._collect()
            if deliveries:
                try:
                    self._handle(deliveries)
                except Exception:  # a bug must not silently end ingest; the messages stay unacked
                    log.exception("unexpected error in ingest batch; messages left for redelivery")
            elif self._stopping.is_set():
                return
            if time.monotonic() >= self._next_poll:
                self._next_poll = time.monotonic() + self._poll_s
                self.poll_kinds()
            if time.monotonic() >= self._next_offline_check:
                self._next_offline_check = time.monotonic() + self._offline_check_s
                self.check_offline()
            if time.monotonic() >= self._next_retention:
                self._next_retention = time.monotonic() + self.tepi_config.retention.check_every_s
                self.enforce_retention()

    def enforce_retention(self) -> dict[str, int] | None:
        """Apply the configured retention policy as of the worker's clock; None if it failed. Never raises."""
        try:
            with Session(writer(self._engine)) as session, session.begin():
                return enforce_retention(session, self._clock(), self.tepi_config.retention)
        except SQLAlchemyError as exc:
            self.metrics.store_errors.inc()
            self._errors.warning("retention", "retention run failed; next turn retries", error=type(exc).__name__)
            return None

    def check_offline(self) -> list[str]:
        """Raise offline alerts for stations silent too long (every kind's `check_silence`);
        returns them. Never raises.

        Several workers may run it at once: the one-open-alert index lets only one open an
        alert, and the other's transaction fails harmlessly until its next turn.
        """
        try:
            with Session(writer(self._engine)) as session, session.begin():
                now = self._clock()
                opened = [
                    s for name, h in self._handlers.items() for s in h.check_silence(session, self.runtimes[name], now, self._watching_since)
                ]
        except IntegrityError:
            log.debug("another worker opened the same offline alert first")
            return []
        except SQLAlchemyError as exc:
            self.metrics.store_errors.inc()
            self._errors.warning("offline-check", "offline check failed; next turn retries", error=type(exc).__name__)
            return []
        if opened:
            self.metrics.alerts.labels(transition="opened").inc(len(opened))
            log.warning("stations offline", extra={"stations": opened})
        return opened

    def poll_kinds(self) -> list[Downlink]:
        """Run every kind's `poll` (if it has one), then every kind's `poll_alerts`, each in a
        transaction of its own, publishing a poll's downlinks after its commit; returns them.

        Apart, so that one kind's failure (a marine check's database error) never rolls back
        another's work, least of all the boats' SOS answers. Never raises: a failed poll is
        counted and logged, and the next turn tries it again."""
        polls = [(name, h.poll) for name, h in self._handlers.items() if hasattr(h, "poll")]
        alert_polls = [(name, h.poll_alerts) for name, h in self._handlers.items() if hasattr(h, "poll_alerts")]
        sent: list[Downlink] = []
        for name, poll in polls:
            downlinks = self._poll_one(name, lambda s, now, poll=poll, name=name: poll(s, self.runtimes[name], now))
            if downlinks:
                self._publish(downlinks)
                sent.extend(downlinks)
        for name, poll_alerts in alert_polls:
            transitions = self._poll_one(name, lambda s, now, p=poll_alerts, name=name: p(s, self.runtimes[name], now))
            for transition, n in (transitions or {}).items():
                self.metrics.alerts.labels(transition=transition).inc(n)
        return sent

    def _poll_one(self, name: str, run: Callable[[Session, datetime], Any]) -> Any:
        """`run` in its own transaction; None if it failed (counted, logged per kind)."""
        try:
            with Session(writer(self._engine)) as session, session.begin():
                return run(session, self._clock())
        except SQLAlchemyError as exc:
            self.metrics.store_errors.inc()
            self._errors.warning(f"kind-poll-{name}", "kind poll failed; next turn retries", kind=name, error=type(exc).__name__)
            return None

    def _publish(self, downlinks: Sequence[Downlink]) -> None:
        """Kinds' answers to gateways, after the commit that decided them: QoS 1 on each gateway's
        downlink topic. One not queued (no connection) is logged: the kinds that need one to
        arrive repeat it (a boat repeats its SOS until it hears `acknowledged`)."""
        for d in downlinks:
            info = self._client.publish(downlink_topic(d.tenant, d.gateway), d.payload, qos=1)
            if info.rc != mqtt.MQTT_ERR_SUCCESS:
                self._errors.warning("kind-downlink", "cannot queue a downlink message", rc=int(info.rc), gateway=d.gateway)

    def _collect(self) -> list[_Delivery]:
        """Up to `batch_max` messages, waiting at most `batch_wait_ms` after the first.

        A pause of `IDLE_GAP_S` ends the batch early: the burst is over, or the broker holds
        back the rest until it gets PUBACKs (its in-flight limit), so waiting longer would only
        add latency.
        """
        try:
            first = self._queue.get(timeout=0.1)
        except queue.Empty:
            return []
        out = [first]
        deadline = time.monotonic() + self.config.batch_wait_ms / 1000
        while len(out) < self.config.batch_max:
            remaining = min(deadline - time.monotonic(), IDLE_GAP_S)
            try:
                out.append(self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait())
            except queue.Empty:
                break
        return out

    def _handle(self, deliveries: Sequence[_Delivery]) -> None:
        decoded: list[_Group] = []  # kept for retries
        delay = self._retry_initial_s
        while True:
            try:
                self._store(deliveries, decoded)
                break
            except _DecoderFailed:
                raise  # retrying would fail alike: logged by the loop, the messages stay unacked
            except Exception as exc:  # noqa: BLE001 - any failure means: keep the messages unacked
                self._errors.warning(
                    f"store:{type(exc).__name__}",
                    "cannot store uplink batch; will retry",
                    error=type(exc).__name__,
                    detail=str(exc)[:300],
                    messages=len(deliveries),
                    retry_in_s=round(delay, 2),
                )
                if not isinstance(exc, (PointWriteError, StoreError)):
                    log.debug("unexpected error while storing", exc_info=True)
                if self._stopping.wait(delay):
                    return  # left unacknowledged: the broker redelivers after reconnect
                delay = min(delay * 2, self._retry_max_s)
        self._acknowledge_to_gateways(decoded)
        self._ack(deliveries)

    def _acknowledge_to_gateways(self, decoded: Sequence[_Group]) -> None:
        """Tell each gateway which of its messages are stored (or refused for good): one
        `UplinkAck` per gateway per batch, QoS 1, on its downlink topic. Only now may it forget
        their items. Sent before the broker's PUBACK: should the worker die between the two,
        the broker redelivers, the stores keep one copy, and the gateway is acknowledged again."""
        for (tenant, gateway), (stored, rejected) in receipts_by_gateway(decoded).items():
            for part in uplink_acks(stored, rejected):
                info = self._client.publish(downlink_topic(tenant, gateway), encode_ack(part), qos=1)
                if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                    self._errors.warning("uplink-ack", "cannot queue an uplink ack; the gateway sends again", rc=int(info.rc), gateway=gateway)
                else:
                    self.metrics.uplink_acks.inc()

    def _decode_group(self, deliveries: Sequence[_Delivery]) -> _Group:
        """The next group of a batch from the start of `deliveries`: how many messages it took
        (`STREAM_GROUP`, or fewer once it holds `STREAM_SUMMARIES` items), their valid batches,
        and what to acknowledge to their gateways. Invalid messages are counted (and later
        acknowledged, to the broker and, as rejected, to the gateway when it named them)."""
        group = _Group()
        items = 0
        for d in deliveries:
            if group.taken == STREAM_GROUP or items >= STREAM_SUMMARIES:
                break
            group.taken += 1
            sender = topic_identity(d.topic)
            try:
                batch = decode_batch(d.payload)
                read = read_batch(batch)
            except UnknownRecordType as exc:
                self.metrics.rejected.labels(reason=UNKNOWN_KIND).inc()
                self._errors.warning(UNKNOWN_KIND, "uplink records of a kind this ingest lacks", topic=d.topic, detail=str(exc)[:200])
                group.receipt(sender, message_id_of(d.payload), stored=False)
                continue
            except MessageError as exc:
                self.metrics.rejected.labels(reason=MALFORMED).inc()
                self._errors.warning(MALFORMED, "malformed uplink payload", topic=d.topic, bytes=len(d.payload), detail=str(exc)[:200])
                group.receipt(sender, message_id_of(d.payload), stored=False)
                continue
            if sender != (batch.tenant, batch.gateway):
                # The topic is what broker ACLs authenticate; a payload claiming another
                # tenant or gateway is refused rather than trusted (and the refusal goes to
                # the gateway of the topic, which sent it).
                self.metrics.rejected.labels(reason=TOPIC_MISMATCH).inc()
                self._errors.warning(TOPIC_MISMATCH, "uplink payload does not match its topic", topic=d.topic)
                group.receipt(sender, batch.msg, stored=False)
                continue
            group.batches.append(read)
            group.receipt(sender, batch.msg, stored=True)
            items += read.size
        return group

    def _store(self, deliveries: Sequence[_Delivery], decoded: list[_Group]) -> None:
        """Decode, screen and apply `deliveries` in one transaction, a group of messages at a
        time (`_decode_group`), handing each group's points to the sink at once: a TSDB stores
        them while the next group is decoded. The commit waits until the sink stored every
        point. `decoded` keeps the groups decoded by an earlier attempt (their rejections are
        counted once)."""
        started = time.perf_counter()
        with Session(writer(self._engine)) as session:
            sinks: dict[str, Any] = {}
            writes: list[Any] = []  # a submitting sink's writes on their way (`wait()`)
            stored: dict[str, list[Any]] = {}
            try:
                with session.begin():
                    screening = Screening(session)
                    screened = []
                    at = k = 0
                    while at < len(deliveries):
                        if k == len(decoded):
                            try:
                                decoded.append(self._decode_group(deliveries[at:]))
                            except Exception as exc:  # noqa: BLE001 - a decoder bug, not bad input
                                raise _DecoderFailed(f"decoding a group of messages raised {type(exc).__name__}") from exc
                        group = decoded[k]
                        at, k = at + group.taken, k + 1
                        checked = screening.add(group.batches)
                        screened.extend(checked)
                        by_kind: dict[str, list[Any]] = {}
                        for b in checked:
                            for kind, kind_points in b.points_by_kind.items():
                                by_kind.setdefault(kind, []).extend(kind_points)
                        for kind, points in by_kind.items():
                            stored.setdefault(kind, []).extend(points)
                            sink = sinks.get(kind) or sinks.setdefault(kind, self._sinks[kind](session))
                            submit = getattr(sink, "submit", None)  # a sink that stores while we decode on
                            if submit is not None:
                                writes.append(submit(points))
                            else:
                                sink.write(points)
                    if not screened:
                        return  # nothing valid: the rejections are counted, the messages acknowledged
                    result = apply_screened(session, screened, runtimes=self.runtimes, now=self._clock())
                    while writes:
                        writes.pop(0).wait()
            except PointWriteError:
                self.metrics.tsdb_write_errors.inc()
                raise
            except StoreError:
                self.metrics.store_errors.inc()
                raise
            except SQLAlchemyError as exc:  # the commit itself
                self.metrics.store_errors.inc()
                raise StoreError(f"commit failed: {type(exc).__name__}") from exc
            finally:
                for write in writes:  # after a failure: none may outlive the attempt
                    with contextlib.suppress(PointWriteError):
                        write.wait()
        self.metrics.batch_seconds.observe(time.perf_counter() - started)
        self._count_overlaps(stored)
        self._stored(result)
        self._publish(result.downlinks)

    def _count_overlaps(self, stored: dict[str, list[Any]]) -> None:
        """Stored points whose window overlaps another of its series (each kind's `overlapping`)."""
        for gateway, n in ((g, n) for kind, points in stored.items() for g, n in self._handlers[kind].overlapping(self.runtimes[kind], points).items()):
            self.metrics.overlapping_summaries.labels(gateway=gateway).inc(n)
            self._errors.warning(
                f"overlap:{gateway}",
                "summary windows overlap earlier ones of their station: the TSDB keeps one point per station and "
                "time, so their readings may be lost there; upgrade the gateway, or give each station one device",
                gateway=gateway, summaries=n,
            )

    def _stored(self, result: ApplyResult) -> None:
        """A batch is committed and its points stored: count what it did."""
        self.metrics.record(result)

    def _ack(self, deliveries: Sequence[_Delivery]) -> None:
        current = self._connection
        for d in deliveries:
            if d.qos == 0:
                continue
            if d.connection != current:
                # Packet ids belong to a connection; the broker resends this message anyway.
                continue
            rc = self._client.ack(d.mid, d.qos)
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._errors.warning("ack", "cannot acknowledge message; it will be redelivered", rc=int(rc))
