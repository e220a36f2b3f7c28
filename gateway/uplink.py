"""Uplink: drains the outbox to the central broker over MQTT QoS 1.

At-least-once end to end: an outbox entry is deleted only when ingest acknowledges (on the
gateway's downlink topic, `contract.downlink.UplinkAck`) that the message carrying it is stored.
The broker's PUBACK is not enough: a central Mosquitto restart loses ingest's shared
subscription, and what arrives before ingest subscribes again is PUBACKed and dropped. A
message without ingest's ack `ack_timeout_s` after its PUBACK (a distress call:
`DISTRESS_ACK_TIMEOUT_S`), or at a reconnect, is sent again (`gateway.uplink_inflight`); ingest recognises the items' ids, so the central store still
holds each once.

Should the broker refuse the downlink subscription (an ACL from before acks existed: `tepi
mqtt setup` not re-run after an upgrade), no ack could ever come; the uplink then deletes rows
on the broker's PUBACK, as it did before acks, until a subscription succeeds.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone

import paho.mqtt.client as mqtt
from prometheus_client import CollectorRegistry, Counter, Gauge

from gateway.outbox import PRIORITY_DISTRESS, PRIORITY_ROUTINE, Outbox, OutboxEntry
from gateway.stored_item import stored_gateway_item
from gateway.uplink_inflight import InFlight, SentMessage
from core.config import BrokerConfig
from contract.downlink import KindDownlink, UplinkAck, decode_downlink
from contract.envelope import MAX_INFLATED_BYTES, MAX_UPLINK_BYTES, compress_payload, encode_uplink
from contract.gateway_items import SummariesDropped
from contract.ids import MAX_MESSAGE_ID
from contract.topics import downlink_topic, uplink_topic

log = logging.getLogger(__name__)

#: Summaries share a message up to this many (events travel alone). A backlog goes out in
#: messages this large: ingest's cost per message (its header, its numbers taken as arrays, the
#: state lookups) is then spread over five times the summaries of 200 a message (decoding about
#: a third of the CPU per summary, measured in `bench/ingest.py`), and the names in the header
#: are sent once per thousand. A thousand records with 64-character names, all distinct, inflate
#: to about 290 KB (ingest takes up to `MAX_INFLATED_BYTES`, 1 MB; `Uplink._payloads` halves a
#: group that would not fit).
MAX_ITEMS_PER_MESSAGE = 1000
#: Items in flight (sent, not yet acknowledged by ingest) at most.
MAX_INFLIGHT_ITEMS = 40_000
#: The default of `GatewayConfig.uplink_ack_timeout_s`, see there.
ACK_TIMEOUT_S = 60.0
#: A message carrying a distress call waits this long for ingest's ack, not the plain timeout,
#: and does not back off: a call PUBACKed by a central broker that then restarts (and so lost
#: ingest's subscription) goes again within seconds, not after a minute or, with ingest silent,
#: half an hour. One call is a few hundred bytes, so even a resend every 10 s through a long
#: outage costs a paid link little; ingest stores it once (item ids).
DISTRESS_ACK_TIMEOUT_S = 10.0
#: An unreachable uplink broker is logged at its first failed attempt, then at most this often
#: (paho retries every 1 to 30 s): the operator hears of it without a line every few seconds.
UNREACHABLE_LOG_EVERY_S = 300.0
#: Each timeout that passes without any ack from ingest doubles the wait, up to this: with ingest
#: down for hours, resending the in-flight window every minute would only stack copies in its
#: broker queue and spend a paid cellular link; any ack brings the wait back to the timeout.
MAX_ACK_WAIT_S = 1800.0
#: In-flight messages kept for events (Siaga changes, rates of rise, drop reports): with the
#: window full of summaries awaiting an ack that ingest may take the whole `MAX_ACK_WAIT_S` to
#: give, an event still goes out at once. At most half the window (`Uplink(inflight=...)`).
EVENT_SLOTS = 8


class UplinkMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.items = Counter("tepi_gateway_uplinked_items", "Items acknowledged by the uplink broker", registry=registry)
        self.messages = Counter("tepi_gateway_uplink_messages", "MQTT messages acknowledged by the uplink broker", registry=registry)
        self.bytes = Counter("tepi_gateway_uplink_bytes", "Payload bytes of acknowledged uplink messages", registry=registry)
        self.connected = Gauge("tepi_gateway_uplink_connected", "1 while connected to the uplink broker", registry=registry)
        self.outbox_depth = Gauge("tepi_gateway_outbox_depth", "Items waiting in the outbox", registry=registry)
        self.acks = Counter("tepi_gateway_uplink_acks", "Uplink messages ingest acknowledged (stored or refused)", registry=registry)
        self.stored_items = Counter("tepi_gateway_uplink_stored_items", "Items ingest acknowledged as stored: deleted from the outbox", registry=registry)
        self.rejected_items = Counter(
            "tepi_gateway_uplink_rejected_items", "Items in messages ingest refused for good (counted there): deleted, not resent", registry=registry
        )
        self.resent_items = Counter(
            "tepi_gateway_uplink_resent_items", "Items sent again: no ack from ingest within the ack timeout, or a reconnect", registry=registry
        )
        self.set_aside_items = Counter(
            "tepi_gateway_uplink_set_aside_items",
            "Stored items the uplink cannot encode (e.g. a record type no running kind registers): kept in the outbox, not sent",
            registry=registry,
        )
        self.connect_failures = Counter(
            "tepi_gateway_uplink_connect_failures", "Attempts to reach the uplink broker that failed (unreachable, refused)", registry=registry
        )
        self.send_errors = Counter("tepi_gateway_uplink_send_errors", "Unexpected errors in the uplink's send loop (it carries on)", registry=registry)
        self.bad_downlink = Counter("tepi_gateway_downlink_rejected", "Downlink messages that are no known message", registry=registry)
        self.downlink_subscribed = Gauge(
            "tepi_gateway_uplink_downlink_subscribed",
            "1 while subscribed to ingest's acks; 0 if the broker refused (rows are then deleted on the PUBACK)", registry=registry,
        )
        self.oldest_unacked = Gauge(
            "tepi_gateway_uplink_oldest_unacked_seconds", "Age of the oldest message the broker has and ingest has not acknowledged", registry=registry
        )


def encode_message(tenant: str, gateway: str, entries: list[OutboxEntry], sent_at: datetime, msg: int | None = None) -> bytes:
    """Wrap stored item bodies into an `UplinkBatch` without decoding them again."""
    return encode_uplink(tenant, gateway, [e.body for e in entries], sent_at, msg)


def dropped_report_id(gateway: str, kind: str, item_type: str, origin: str, ms: int) -> str:
    """The id of the report of one evicted series: `dropped` counts per (kind, type, origin),
    so all three are in it, or two series reported in the same millisecond would share an id
    and ingest would store only the first. Ids longer than items allow (200) name the series by
    a digest instead."""
    item_id = f"{gateway}:dropped:{kind}:{item_type}:{origin}:{ms}"
    if len(item_id) <= 200:
        return item_id
    digest = hashlib.sha256(f"{kind}\x00{item_type}\x00{origin}".encode()).hexdigest()[:32]
    return f"{gateway}:dropped:{digest}:{ms}"


class Uplink:
    """Lifecycle: `start()` connects and starts the drain thread; `stop()` stops both.

    A broker that is down at start or goes away later is retried with paho's backoff (1 s to
    30 s); the outbox keeps everything meanwhile. The session is persistent (clean_session
    False) so ingest's acks wait at the broker while the gateway is away. `clock` (monotonic
    seconds) times the ack timeout.
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
        ack_timeout_s: float = ACK_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ack_timeout_s <= 0:
            raise ValueError(f"ack_timeout_s must be positive, not {ack_timeout_s}")
        self.outbox = outbox
        self.broker = broker
        self.tenant = tenant
        self.gateway = gateway
        self.topic = uplink_topic(tenant, gateway)
        self.down_topic = downlink_topic(tenant, gateway)
        self.ack_timeout_s = ack_timeout_s
        self._ack_wait = ack_timeout_s  # the timeout, doubled per expiry with no ack between
        self._clock = clock
        # Random start: an ack still queued for an earlier run of this gateway names ids of
        # that run, which must not match the messages of this one.
        self._next_msg = secrets.randbits(62)
        self.max_inflight = inflight
        self._event_slots = min(EVENT_SLOTS, inflight // 2)
        self.summary_linger_s = summary_linger_s
        self.metrics = UplinkMetrics(registry)
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=mqtt_user or f"{gateway}.uplink",
            clean_session=False,
        )
        broker.apply_to(self._client, mqtt_user or f"{gateway}.uplink")
        self._client.max_inflight_messages_set(max(inflight, 20))
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        # Owned by the drain thread only.
        self._inflight = InFlight()
        #: Outbox seqs whose body cannot be encoded (`_payloads`): left in the outbox (evictable,
        #: counted, logged with their item id) and skipped until a restart, so one bad body never
        #: stops what follows it.
        self._set_aside: set[int] = set()
        # Appended by paho's thread.
        self._pubacks: deque[int] = deque()
        self._acks: deque[UplinkAck] = deque()
        self._reconnects: deque[bool] = deque()  # per connection: did the broker keep the session?
        self._downlink_refused = False  # set by paho's thread; `_puback_mode` follows it on the drain thread
        self._puback_mode = False
        self._connected = threading.Event()
        self._unreachable_since: float | None = None  # paho's thread: first failed attempt of this spell
        self._unreachable_logged_at = 0.0
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        outbox.on_items = self._wake.set
        #: Where a kind's downlink message goes (`EdgeGateway` hands it to the kind's processors on
        #: its loop); called on paho's thread, so it must only queue. None: counted and dropped.
        self.on_kind_message: Callable[[KindDownlink], object] | None = None

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

    @property
    def _inflight_seqs(self) -> set[int]:
        return self._inflight.seqs

    def flush(self, timeout: float) -> bool:
        """Wait until the outbox is empty, i.e. ingest acknowledged everything (shutdown, tests)."""
        waiter = threading.Event()
        for _ in range(max(1, int(timeout / 0.05))):
            if self.outbox.depth() == 0:
                return True
            waiter.wait(0.05)
        return self.outbox.depth() == 0

    # paho callbacks run on paho's network thread while paho holds its own locks: they only
    # record what happened; the drain thread owns the in-flight map and SQLite.
    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        """paho could not reach the broker (DNS, refused, timeout; it retries with backoff)."""
        self.metrics.connect_failures.inc()
        now = time.monotonic()
        if self._unreachable_since is None:
            self._unreachable_since = now
        elif now - self._unreachable_logged_at < UNREACHABLE_LOG_EVERY_S:
            return
        self._unreachable_logged_at = now
        log.warning(
            "uplink broker unreachable; buffering in outbox and retrying",
            extra={"broker": f"{self.broker.host}:{self.broker.port}", "for_s": round(now - self._unreachable_since),
                   "outbox_depth": self.outbox.depth()},
        )

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        if reason.is_failure:
            self.metrics.connect_failures.inc()
            log.warning("uplink connect refused", extra={"reason": str(reason), "broker": f"{self.broker.host}:{self.broker.port}"})
            return
        self._unreachable_since = None
        # Before anything is published on this connection: the acks of what follows come here.
        # Subscribing again on a resumed session is harmless and covers a broker that lost it.
        client.subscribe(self.down_topic, qos=1)
        self._reconnects.append(bool(getattr(flags, "session_present", False)))
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

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reasons: list[mqtt.ReasonCode], props: object) -> None:
        if not reasons:  # the downlink is the uplink's only subscription
            return
        refused = reasons[0].is_failure
        self.metrics.downlink_subscribed.set(0 if refused else 1)
        if refused and not self._downlink_refused:
            log.error(
                "uplink broker refused the downlink subscription: ingest's acks cannot arrive; deleting outbox rows on the "
                "broker's PUBACK instead (a broker restart can then lose data). Fix: re-run `tepi mqtt setup` and restart the broker",
                extra={"topic": self.down_topic, "reason": str(reasons[0])},
            )
        elif not refused and self._downlink_refused:
            log.info("downlink subscription granted; rows deleted on ingest's ack again", extra={"topic": self.down_topic})
        self._downlink_refused = refused
        self._wake.set()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        try:
            decoded = decode_downlink(message.payload)
        except ValueError:
            self.metrics.bad_downlink.inc()
            log.warning("downlink message not understood", extra={"topic": message.topic, "bytes": len(message.payload)})
            return
        if isinstance(decoded, KindDownlink):
            if self.on_kind_message is None:
                self.metrics.bad_downlink.inc()
                log.warning("downlink message for a kind, but no gateway takes it", extra={"kind": decoded.kind, "type": decoded.type})
            else:
                self.on_kind_message(decoded)
            return
        self._acks.append(decoded)
        self._wake.set()

    def _drain(self) -> None:
        while not self._stopping.is_set():
            self._commit_acks()
            if not self._connected.is_set():
                self._connected.wait(0.2)
                continue
            try:
                sent = self._send_some()
            except Exception:  # the drain thread must outlive any one bad row or bug: it is the gateway's only way out
                self.metrics.send_errors.inc()
                log.exception("uplink send failed; retrying")
                self._stopping.wait(1.0)
                continue
            self.metrics.outbox_depth.set(self.outbox.depth())
            if not sent:
                self._wake.clear()
                self._commit_acks()
                # Sleep until the outbox gets items, a PUBACK frees a slot or a linger ends.
                self._wake.wait(0.1 if self.summary_linger_s else 0.5)
        self._commit_acks()

    def _commit_acks(self) -> None:
        """Take what paho's thread recorded: PUBACKs, ingest's acks (their rows are deleted), a
        reconnect; then release messages unacked too long, for `_send_some` to send again."""
        now = self._clock()
        seqs: list[int] = []
        if self._puback_mode != self._downlink_refused:
            self._puback_mode = self._downlink_refused
            if self._puback_mode:  # no ack will come for what the broker has: settle it as before acks
                seqs.extend(s for m in self._inflight.take_pubacked() for s in m.seqs)
        nbytes = nitems = nmsgs = 0
        while self._pubacks:
            message = self._inflight.puback(self._pubacks.popleft(), now)
            if message is not None:
                nbytes += message.nbytes
                nitems += len(message.seqs)
                nmsgs += 1
        if nmsgs and self._puback_mode:
            seqs.extend(s for m in self._inflight.take_pubacked() for s in m.seqs)
        if nmsgs:
            self.metrics.items.inc(nitems)
            self.metrics.messages.inc(nmsgs)
            self.metrics.bytes.inc(nbytes)
        while self._acks:
            settled = self._inflight.acked(self._acks.popleft())
            self._ack_wait = self.ack_timeout_s  # ingest answers: it is up
            seqs.extend(settled.seqs)
            self.metrics.acks.inc(settled.messages)
            stored = settled.stored_items + self.outbox.ack(settled.late_stored)
            rejected = settled.rejected_items + self.outbox.ack(settled.late_rejected)
            self.metrics.stored_items.inc(stored)
            if rejected:
                self.metrics.rejected_items.inc(rejected)
                log.error("ingest refused uplink items for good; deleted, not resent", extra={"items": rejected})
        if seqs:
            self.outbox.ack(seqs)
        released: list[SentMessage] = []
        if self._reconnects:
            sessions = [self._reconnects.popleft() for _ in range(len(self._reconnects))]
            if all(sessions):  # ingest's queued acks arrive now: give them their full wait
                self._inflight.restart_timers(now)
            else:  # the broker lost the session, and maybe what it held for ingest
                released = self._inflight.release_unacked()
        if self._connected.is_set():  # while away, no ack can arrive: nothing is late
            expired = self._inflight.expired(now, self._ack_wait, DISTRESS_ACK_TIMEOUT_S)
            if any(not m.distress for m in expired):  # distress calls keep their short wait: no backoff
                longest = max(MAX_ACK_WAIT_S, self.ack_timeout_s)
                if self._ack_wait < longest <= self._ack_wait * 2:  # Mosquitto 2.0 grants a SUBACK its ACL denies
                    log.error("no ack from ingest for long: is ingest running? After an upgrade, re-run `tepi mqtt setup` "
                              "(the broker's ACL must let the gateway read its downlink)", extra={"topic": self.down_topic})
                self._ack_wait = min(self._ack_wait * 2, longest)
            released += expired
        if released:
            items = sum(len(m.seqs) for m in released)
            self.metrics.resent_items.inc(items)
            log.warning("uplink messages not acknowledged by ingest; sending their items again",
                        extra={"messages": len(released), "items": items})
        if len(self._inflight.seqs) != len(self.outbox.protected):  # here rows only leave the flight
            self.outbox.protected = frozenset(self._inflight.seqs)
        self.metrics.oldest_unacked.set(self._inflight.oldest_unacked_age(now))

    def _report_drops(self) -> None:
        """Once connected, turn evictions into events that travel ahead of the backlog: one
        report per series, whose origin names its station and device ("station/device")."""
        drops = self.outbox.take_dropped()
        if not drops:
            return
        now = datetime.now(timezone.utc)
        ms = int(now.timestamp() * 1000)
        items = []
        for d in drops:
            station, _, device = d.origin.partition("/")
            if not (station and device):  # an item stored without its series: counted, not reportable
                log.error("items evicted from a full outbox have no series to report them under",
                          extra={"kind": d.kind, "type": d.type, "origin": d.origin, "items": d.count})
                continue
            items.append(SummariesDropped(
                id=dropped_report_id(self.gateway, d.kind, d.type, d.origin, ms), station=station, device=device,
                count=d.count, first_window_start=datetime.fromtimestamp(d.first_at, timezone.utc),
                last_window_start=datetime.fromtimestamp(d.last_at, timezone.utc), reason="outbox_full",
            ))
        self.outbox.put([stored_gateway_item(i) for i in items])
        log.warning("reported summaries dropped while the outbox was full", extra={"stations": len(items), "summaries": sum(d.count for d in drops)})

    def _payloads(self, group: list[OutboxEntry], now: datetime) -> list[tuple[list[OutboxEntry], int, bytes]]:
        """`group` as uplink payloads with their message ids: one, or halves of it until each
        is within what ingest accepts (`MAX_INFLATED_BYTES`, `MAX_UPLINK_BYTES`), should long
        names or summaries sent as objects make a thousand items too large. A single item goes
        as it is."""
        try:
            text = encode_message(self.tenant, self.gateway, group, now, self._next_msg)
        except ValueError:
            group = self._without_unencodable(group, now)
            if not group:
                return []
            text = encode_message(self.tenant, self.gateway, group, now, self._next_msg)
        msg = self._next_msg
        self._next_msg = 0 if msg >= MAX_MESSAGE_ID else msg + 1
        payload = compress_payload(text)
        if len(group) > 1 and (len(text) > MAX_INFLATED_BYTES or len(payload) > MAX_UPLINK_BYTES):
            half = len(group) // 2
            return self._payloads(group[:half], now) + self._payloads(group[half:], now)
        return [(group, msg, payload)]

    def _without_unencodable(self, group: list[OutboxEntry], now: datetime) -> list[OutboxEntry]:
        """`group` less the entries that cannot be encoded alone, which are set aside: logged
        with their item id, counted, kept in the outbox (a later gateway that registers their
        record type again sends them) and skipped from now on. Only on the error path: each
        entry is encoded once more."""
        good: list[OutboxEntry] = []
        for e in group:
            try:
                encode_message(self.tenant, self.gateway, [e], now)
            except ValueError as err:
                self._set_aside.add(e.seq)
                self.metrics.set_aside_items.inc()
                log.error("outbox item cannot be encoded for the uplink; kept in the outbox, not sent",
                          extra={"item_id": e.item_id, "seq": e.seq, "error": str(err)})
            else:
                good.append(e)
        return good

    @property
    def _skip(self) -> set[int]:
        """Rows `peek` leaves out: in flight, or set aside as unencodable."""
        return self._inflight.seqs | self._set_aside if self._set_aside else self._inflight.seqs

    def _send_some(self) -> bool:
        self._report_drops()
        free = self.max_inflight - len(self._inflight)  # awaiting the PUBACK or ingest's ack
        room = MAX_INFLIGHT_ITEMS - len(self._inflight_seqs)
        if free <= 0 or room <= 0:
            return False
        # The last `_event_slots` messages (and items) of the window are for events alone.
        summary_free = free - self._event_slots
        events_only = summary_free <= 0 or room <= self._event_slots
        limit = min(free, room) if events_only else min(free * MAX_ITEMS_PER_MESSAGE, room - self._event_slots)
        # Set-aside rows count as waiting (some may have been evicted since): `peek` finds the truth.
        waiting = self.outbox.depth() - len(self._inflight_seqs)
        if waiting <= 0:
            return False
        if events_only:
            head = self.outbox.head(self._skip)
            if head is None or head[0] >= PRIORITY_ROUTINE:
                return False
        elif self.summary_linger_s and min(waiting, limit) < MAX_ITEMS_PER_MESSAGE:
            # Routine summaries wait a moment to share one compressed message. Decided on the
            # head alone: the uplink looks ten times a second while they wait, and reading
            # every waiting body each time cost the gateway CPU and churned its heap.
            head = self.outbox.head(self._skip)
            if head is None or (head[0] >= PRIORITY_ROUTINE and time.time() - head[1] < self.summary_linger_s):
                return False
        entries = self.outbox.peek(limit, self._skip)
        if not entries:
            return False
        # Events travel alone and first, so a level change never waits behind a backlog.
        messages: list[list[OutboxEntry]] = []
        for e in entries:
            last = messages[-1] if messages else None
            if last is None or e.priority < PRIORITY_ROUTINE or last[0].priority < PRIORITY_ROUTINE or len(last) >= MAX_ITEMS_PER_MESSAGE:
                if e.priority >= PRIORITY_ROUTINE and (events_only or len(messages) >= summary_free):
                    break  # events come first (`peek`): the rest are summaries, out of their slots
                messages.append([e])
            else:
                last.append(e)
        now = datetime.now(timezone.utc)
        for group, msg, payload in (p for g in messages[:free] for p in self._payloads(g, now)):
            info = self._client.publish(self.topic, payload, qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                log.warning("uplink publish not queued", extra={"rc": int(info.rc)})
                return False
            # Queued in paho either way; it (re)sends until the broker acknowledges.
            distress = group[0].priority == PRIORITY_DISTRESS  # events and calls travel alone
            self._inflight.sent(SentMessage(msg, info.mid, [e.seq for e in group], len(payload), distress=distress))
            self.outbox.protected = frozenset(self._inflight.seqs)
        return True
