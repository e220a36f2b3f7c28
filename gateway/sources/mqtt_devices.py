"""MQTT source: devices publish JSON readings on the gateway's local broker, one topic each.

The gateway's loop thread runs this client itself (`service`), instead of paho's own network
thread: frames then reach the gateway without a thread hand-off, and the deferred PUBACKs the
gateway gives once it has committed a batch are written in one packet by the same thread,
without waking another one per acknowledgement. Reconnecting with backoff is therefore ours
too, and never blocks the loop longer than one TCP connect.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from gateway.model import RawFrame
from gateway.sources import FrameSink
from core.broker_drops import DROPPED_TOPIC
from core.config import BrokerConfig
from contract.topics import device_from_topic, device_subscription

log = logging.getLogger(__name__)

_PUBACK = 0x40
RECONNECT_MIN_S = 1.0
RECONNECT_MAX_S = 30.0


def frame_from_message(
    message: mqtt.MQTTMessage, received_at: datetime, ack: Callable[[int], object] | None = None
) -> RawFrame:
    """The one adapter from paho's message type to the gateway's own. With `ack` (a callable
    taking the packet id), the frame carries its deferred PUBACK, given only once the gateway
    has committed the frame."""
    on_done = partial(ack, message.mid) if ack is not None and message.qos > 0 else None
    return RawFrame("mqtt", message.payload, device_from_topic(message.topic), received_at, on_done)


def puback_packets(mids: list[int]) -> bytes:
    """PUBACKs for QoS 1 packet ids, back to back: valid in MQTT 3.1.1 and 5 (no reason code
    means success)."""
    out = bytearray(4 * len(mids))
    for i, mid in enumerate(mids):
        out[4 * i : 4 * i + 4] = (_PUBACK, 2, mid >> 8, mid & 0xFF)
    return bytes(out)


#: Bytes taken from the socket at once: hundreds of small PUBLISH packets.
READ_AHEAD_BYTES = 65_536


class _ReadAheadClient(mqtt.Client):
    """paho reads a packet with three or more `recv` calls (the command byte, each byte of the
    remaining length, then the rest), a system call each. Here one `recv` of up to
    `READ_AHEAD_BYTES` feeds them all; what is left waits in `pending()` for the next reads.
    Only the gateway's own loop thread reads (`MqttDeviceSource.service`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._ahead = b""
        self._at = 0
        self._ahead_of: object = None  # the socket the bytes came from

    def pending(self) -> int:
        """Bytes read from the socket that paho has not taken yet."""
        return len(self._ahead) - self._at if self._ahead_of is self._sock else 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if not self.pending():
            data = super()._sock_recv(max(bufsize, READ_AHEAD_BYTES))  # BlockingIOError if none
            if len(data) <= bufsize:
                return data  # also b"" for a closed connection, as paho expects
            self._ahead, self._at, self._ahead_of = data, 0, self._sock
        chunk = self._ahead[self._at : self._at + bufsize]
        self._at += len(chunk)
        return chunk


class MqttDeviceSource:
    """Lifecycle: `start(on_frame)` (no I/O), then `service()` repeatedly from one thread (the
    gateway loop), `stop()` from that same thread."""

    def __init__(self, broker: BrokerConfig, tenant: str, mqtt_user: str) -> None:
        self.name = f"mqtt:{broker.host}:{broker.port}"
        self.broker = broker
        self.topic = device_subscription(tenant)
        # Persistent session + manual PUBACK: a reading the gateway has not committed is
        # redelivered by the broker after a crash instead of being lost in memory.
        self._client = _ReadAheadClient(
            mqtt.CallbackAPIVersion.VERSION2, client_id=mqtt_user, clean_session=False, manual_ack=True
        )
        broker.apply_to(self._client, mqtt_user)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.message_callback_add(DROPPED_TOPIC, self._on_dropped_count)
        #: Called on the loop thread with each value of the broker's dropped count.
        self.on_dropped_count: Callable[[bytes], object] | None = None
        self._sys_mid: int | None = None
        self._on_frame: FrameSink | None = None
        self._acks: list[int] = []  # committed packet ids not yet acknowledged to the broker
        self._delivered = 0
        self._received_at = datetime.now(timezone.utc)
        self._retry_at = 0.0
        self._backoff = RECONNECT_MIN_S
        self._started = False
        self.bytes_in = 0
        self.subscribed = threading.Event()

    def start(self, on_frame: FrameSink) -> None:
        self._on_frame = on_frame
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        self._started = True

    def fileno(self) -> int | None:
        """The socket to wait on, or None while disconnected."""
        sock = self._client.socket()
        return sock.fileno() if sock is not None else None

    def has_buffered(self) -> bool:
        """Bytes already read ahead, or decrypted by TLS, wait in user space, where `select`
        cannot see them."""
        sock = self._client.socket()
        return sock is not None and (self._client.pending() > 0 or (isinstance(sock, ssl.SSLSocket) and sock.pending() > 0))

    def wants_write(self) -> bool:
        return self._client.want_write()

    def ack(self, mid: int) -> None:
        """Queue the PUBACK of a committed frame; it leaves on the next `service()`."""
        self._acks.append(mid)

    def service(self, readable: bool, room: int) -> int:
        """One turn of the client on the caller's thread: send queued PUBACKs, read at most
        `room` messages (if the socket is `readable`), write, keep alive, and reconnect when
        due. Returns how many frames were delivered."""
        if not self._started:
            return 0
        client = self._client
        if client.socket() is None:
            self._reconnect_if_due()
            return 0
        self._send_acks()
        before = self._delivered
        if readable or self.has_buffered():
            self._received_at = datetime.now(timezone.utc)  # one clock read per turn, not per frame
            while self._delivered - before < room:
                mark = self._delivered
                if self._failed(client.loop_read()):
                    return self._delivered - before
                if self._delivered == mark:
                    break  # nothing complete left in the socket (or a non-PUBLISH packet)
        if client.want_write() and self._failed(client.loop_write()):
            return self._delivered - before
        self._failed(client.loop_misc())
        return self._delivered - before

    def stop(self) -> None:
        """Acknowledge what was committed and leave cleanly; idempotent."""
        if not self._started:
            return
        self._started = False
        if self._client.socket() is not None:
            self._send_acks()
            self._client.disconnect()
        self.subscribed.clear()

    def _send_acks(self) -> None:
        if not self._acks or not self._client.is_connected():
            return  # kept for after the reconnect: the persistent session redelivers with the same ids
        packet = puback_packets(self._acks)
        self._acks.clear()
        # paho acknowledges one id per call, each a packet and a send; `_packet_queue` is how its
        # own `ack()` queues one, and it takes any bytes, so the whole batch goes out in one write.
        self._client._packet_queue(_PUBACK, packet, 0, 0)

    def _failed(self, rc: MQTTErrorCode) -> bool:
        """paho has already closed the socket and called `_on_disconnect`, which set the retry."""
        return rc != MQTTErrorCode.MQTT_ERR_SUCCESS

    def _reconnect_if_due(self) -> None:
        now = time.monotonic()
        if now < self._retry_at:
            return
        try:
            self._client.reconnect()
        except (OSError, ValueError) as exc:
            log.warning("local broker unreachable; retrying", extra={"error": str(exc), "retry_s": self._backoff})
            self._retry_at = now + self._backoff
            self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        if reason.is_failure:
            log.warning("local broker refused connection", extra={"reason": str(reason), "retry_s": self._backoff})
            self._backoff = min(self._backoff * 2, RECONNECT_MAX_S)
            return
        self._backoff = RECONNECT_MIN_S
        client.subscribe(self.topic, qos=1)
        # QoS 0: a count is only worth its latest value, never queued in the session (where it
        # would take a place a reading needs); retained, it arrives at once if it changed lately.
        _, self._sys_mid = client.subscribe(DROPPED_TOPIC, qos=0)
        log.info("listening for devices", extra={"topic": self.topic})

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reasons: list[mqtt.ReasonCode], props: object) -> None:
        if mid == self._sys_mid:
            if any(r.is_failure for r in reasons):
                log.warning("broker refused its dropped-message count; drops at the site broker stay invisible", extra={"topic": DROPPED_TOPIC})
            return
        if all(not r.is_failure for r in reasons):
            self.subscribed.set()
        else:
            log.error("device subscription refused", extra={"topic": self.topic, "reasons": [str(r) for r in reasons]})

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: mqtt.ReasonCode, props: object) -> None:
        self.subscribed.clear()
        self._retry_at = time.monotonic() + self._backoff
        if self._started:
            log.warning("local broker disconnected", extra={"reason": str(reason)})

    def _on_dropped_count(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if self.on_dropped_count is not None:
            self.on_dropped_count(message.payload)

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        self._delivered += 1
        self.bytes_in += len(message.payload)
        assert self._on_frame is not None
        self._on_frame(frame_from_message(message, self._received_at, self.ack))
