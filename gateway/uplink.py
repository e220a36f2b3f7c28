"""Uplink: drains the outbox to the central broker over MQTT QoS 1.

At-least-once by construction: an outbox entry is deleted only when the broker's PUBACK for
the message that carried it arrives. After a disconnect everything in flight is sent again;
ingest recognises the items' ids, so the central store still holds each once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway.outbox import PRIORITY_EVENT, Outbox, OutboxEntry
from tepi.config import BrokerConfig
from tepi.messages import (
    MAX_INFLATED_BYTES,
    MAX_UPLINK_BYTES,
    SummariesDropped,
    compress_payload,
    encode_uplink,
    uplink_topic,
)

log = logging.getLogger(__name__)

#: Summaries share a message up to this many (events travel alone). A backlog goes out in
#: messages this large: ingest's cost per message (its header, its numbers taken as arrays, the
#: state lookups) is then spread over five times the summaries of 200 a message (decoding about
#: a third of the CPU per summary, measured in `bench/ingest.py`), and the names in the header
#: are sent once per thousand. A thousand records with 64-character names, all distinct, inflate
#: to about 290 KB (ingest takes up to `MAX_INFLATED_BYTES`, 1 MB; `Uplink._payloads` halves a
#: group that would not fit).
MAX_ITEMS_PER_MESSAGE = 1000
#: Items in flight (sent, no PUBACK yet) at most: the messages in paho's memory until acknowledged.
MAX_INFLIGHT_ITEMS = 40_000


class UplinkMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.items = Counter("tepi_gateway_uplinked_items", "Items acknowledged by the uplink broker", registry=registry)
        self.messages = Counter("tepi_gateway_uplink_messages", "MQTT messages acknowledged by the uplink broker", registry=registry)
        self.bytes = Counter("tepi_gateway_uplink_bytes", "Payload bytes of acknowledged uplink messages", registry=registry)
        self.connected = Gauge("tepi_gateway_uplink_connected", "1 while connected to the uplink broker", registry=registry)
        self.outbox_depth = Gauge("tepi_gateway_outbox_depth", "Items waiting in the outbox", registry=registry)


def encode_message(tenant: str, gateway: str, entries: list[OutboxEntry], sent_at: datetime) -> bytes:
    """Wrap stored item bodies into an `UplinkBatch` without decoding them again."""
    return encode_uplink(tenant, gateway, [e.body for e in entries], sent_at)


class Uplink:
    """Lifecycle: `start()` connects and starts the drain thread; `stop()` stops both.

    A broker that is down at start or goes away later is retried with paho's backoff (1 s to
    30 s); the outbox keeps everything meanwhile.
    """

    def __init__(
        self,
        outbox: Outbox,
        broker: BrokerConfig,
        tenant: str,
        gateway: str,
        registry: CollectorRegistry,
        inflight: int = 200,
        mqtt_user: str | None = None,
        summary_linger_s: float = 0.0,
    ) -> None:
        self.outbox = outbox
        self.broker = broker
        self.tenant = tenant
        self.gateway = gateway
        self.topic = uplink_topic(tenant, gateway)
        self.max_inflight = inflight
        self.summary_linger_s = summary_linger_s
        self.metrics = UplinkMetrics(registry)
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=mqtt_user or f"{gateway}.uplink",
            clean_session=True,
        )
        broker.apply_to(self._client, mqtt_user or f"{gateway}.uplink")
        self._client.max_inflight_messages_set(max(inflight, 20))
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        # Owned by the drain thread only.
        self._inflight: dict[int, tuple[list[int], int, int]] = {}  # mid -> (outbox seqs, bytes, items)
        self._inflight_seqs: set[int] = set()
        self._pubacks: deque[int] = deque()  # appended by paho's thread
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        outbox.on_items = self._wake.set

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._drain, name=f"uplink-{self.gateway}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()

    def flush(self, timeout: float) -> bool:
        """Wait until the outbox is empty, i.e. the broker acknowledged everything (shutdown, tests)."""
        waiter = threading.Event()
        for _ in range(max(1, int(timeout / 0.05))):
            if self.outbox.depth() == 0:
                return True
            waiter.wait(0.05)
        return self.outbox.depth() == 0

    # paho callbacks run on paho's network thread while paho holds its own locks: they only
    # record what happened; the drain thread owns the in-flight map and SQLite.
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        if reason.is_failure:
            log.warning("uplink connect refused", extra={"reason": str(reason), "broker": f"{self.broker.host}:{self.broker.port}"})
            return
        self._connected.set()
        self.metrics.connected.set(1)
        log.info("uplink connected", extra={"broker": f"{self.broker.host}:{self.broker.port}", "in_flight": len(self._inflight)})
        self._wake.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        self._connected.clear()
        self.metrics.connected.set(0)
        if not self._stopping.is_set():
            # paho keeps unacknowledged QoS 1 messages and sends them again (DUP) on reconnect.
            log.warning("uplink disconnected; buffering in outbox", extra={"reason": str(reason), "in_flight": len(self._inflight)})

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: mqtt.ReasonCode, props: object) -> None:
        self._pubacks.append(mid)
        self._wake.set()

    def _drain(self) -> None:
        while not self._stopping.is_set():
            self._commit_acks()
            if not self._connected.is_set():
                self._connected.wait(0.2)
                continue
            sent = self._send_some()
            self.metrics.outbox_depth.set(self.outbox.depth())
            if not sent:
                self._wake.clear()
                self._commit_acks()
                # Sleep until the outbox gets items, a PUBACK frees a slot or a linger ends.
                self._wake.wait(0.1 if self.summary_linger_s else 0.5)
        self._commit_acks()

    def _commit_acks(self) -> None:
        seqs: list[int] = []
        nbytes = nitems = nmsgs = 0
        while self._pubacks:
            mid = self._pubacks.popleft()
            entry = self._inflight.pop(mid, None)
            if entry is None:
                continue
            seqs.extend(entry[0])
            self._inflight_seqs.difference_update(entry[0])
            self.outbox.protected = frozenset(self._inflight_seqs)
            nbytes += entry[1]
            nitems += entry[2]
            nmsgs += 1
        if seqs:
            self.outbox.ack(seqs)
            self.metrics.items.inc(nitems)
            self.metrics.messages.inc(nmsgs)
            self.metrics.bytes.inc(nbytes)

    def _report_drops(self) -> None:
        """Once connected, turn evictions into events that travel ahead of the backlog."""
        drops = self.outbox.take_dropped()
        if not drops:
            return
        now = datetime.now(timezone.utc)
        items = [
            SummariesDropped(
                id=f"{self.gateway}:{d.station}:dropped:{int(now.timestamp() * 1000)}", station=d.station, device=d.device,
                count=d.count, first_window_start=datetime.fromtimestamp(d.first_window, timezone.utc),
                last_window_start=datetime.fromtimestamp(d.last_window, timezone.utc), reason="outbox_full",
            )
            for d in drops
        ]
        self.outbox.put([(i.id, PRIORITY_EVENT, i.model_dump_json().encode()) for i in items])
        log.warning("reported summaries dropped while the outbox was full", extra={"stations": len(items), "summaries": sum(d.count for d in drops)})

    def _payloads(self, group: list[OutboxEntry], now: datetime) -> list[tuple[list[OutboxEntry], bytes]]:
        """`group` as uplink payloads: one, or halves of it until each is within what ingest
        accepts (`MAX_INFLATED_BYTES`, `MAX_UPLINK_BYTES`), should long names or summaries sent
        as objects make a thousand items too large. A single item goes as it is."""
        text = encode_message(self.tenant, self.gateway, group, now)
        payload = compress_payload(text)
        if len(group) > 1 and (len(text) > MAX_INFLATED_BYTES or len(payload) > MAX_UPLINK_BYTES):
            half = len(group) // 2
            return self._payloads(group[:half], now) + self._payloads(group[half:], now)
        return [(group, payload)]

    def _send_some(self) -> bool:
        self._report_drops()
        free = self.max_inflight - len(self._inflight)
        room = MAX_INFLIGHT_ITEMS - len(self._inflight_seqs)
        if free <= 0 or room <= 0:
            return False
        limit = min(free * MAX_ITEMS_PER_MESSAGE, room)
        waiting = self.outbox.depth() - len(self._inflight_seqs)
        if waiting <= 0:
            return False
        if self.summary_linger_s and min(waiting, limit) < MAX_ITEMS_PER_MESSAGE:
            # Routine summaries wait a moment to share one compressed message. Decided on the
            # head alone: the uplink looks ten times a second while they wait, and reading
            # every waiting body each time cost the gateway CPU and churned its heap.
            head = self.outbox.head(self._inflight_seqs)
            if head is None or (head[0] != PRIORITY_EVENT and time.time() - head[1] < self.summary_linger_s):
                return False
        entries = self.outbox.peek(limit, self._inflight_seqs)
        if not entries:
            return False
        # Events travel alone and first, so a level change never waits behind a backlog.
        messages: list[list[OutboxEntry]] = []
        for e in entries:
            last = messages[-1] if messages else None
            if last is None or e.priority == PRIORITY_EVENT or last[0].priority == PRIORITY_EVENT or len(last) >= MAX_ITEMS_PER_MESSAGE:
                messages.append([e])
            else:
                last.append(e)
        now = datetime.now(timezone.utc)
        for group, payload in (p for g in messages[:free] for p in self._payloads(g, now)):
            info = self._client.publish(self.topic, payload, qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("uplink publish not queued", extra={"rc": int(info.rc)})
                return False
            # Queued in paho either way; it (re)sends until the broker acknowledges.
            seqs = [e.seq for e in group]
            self._inflight[info.mid] = (seqs, len(payload), len(group))
            self._inflight_seqs.update(seqs)
            self.outbox.protected = frozenset(self._inflight_seqs)
        return True
