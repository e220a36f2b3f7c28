"""A raw-socket MQTT 3.1.1 publisher: prebuilt PUBLISH packets written in large chunks, one
connection per device with the device's own credential.

paho-mqtt tops out near 16k msg/s at QoS 1 from Python on this class of machine (peer notes),
below what a broker and a fast subscriber take, so the offered load comes from here instead:
no per-message Python objects while sending, PUBACKs counted by a reader thread, and a window
of unacknowledged QoS 1 messages as flow control.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _utf8(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def connect_packet(client_id: str, clean: bool = True, keepalive: int = 0, username: str | None = None, password: str | None = None) -> bytes:
    flags = (0x02 if clean else 0x00) | (0x80 if username is not None else 0) | (0x40 if password is not None else 0)
    body = _utf8("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive) + _utf8(client_id)
    if username is not None:
        body += _utf8(username)
    if password is not None:
        body += _utf8(password)
    return bytes([0x10]) + _varint(len(body)) + body


def open_connection(port: int, client_id: str, username: str | None = None, password: str | None = None, host: str = "127.0.0.1") -> socket.socket:
    """A connected MQTT 3.1.1 session (clean) on a blocking socket; ConnectionError if refused."""
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    sock.sendall(connect_packet(client_id, username=username, password=password))
    ack = b""
    while len(ack) < 4:
        chunk = sock.recv(4 - len(ack))
        if not chunk:
            raise ConnectionError(f"broker closed the connection of {client_id!r} before CONNACK")
        ack += chunk
    if ack[0] != 0x20 or ack[3] != 0:
        sock.close()
        raise ConnectionError(f"CONNACK refused for {client_id!r} (user {username!r}): {ack.hex()}")
    return sock


def publish_packet(topic: str, payload: bytes, qos: int, packet_id: int = 0) -> bytes:
    body = _utf8(topic) + (struct.pack("!H", packet_id) if qos else b"") + payload
    return bytes([0x30 | (qos << 1)]) + _varint(len(body)) + body


@dataclass
class PublishStats:
    sent: int = 0
    acked: int = 0
    payload_bytes: int = 0
    wire_bytes: int = 0
    started: float = 0.0  # time.time()
    sent_done: float = 0.0
    acked_done: float = 0.0
    send_times: dict[int, float] = field(default_factory=dict)  # message index -> time.time(), when asked

    @property
    def offered_per_s(self) -> float:
        end = self.acked_done or self.sent_done
        return self.sent / (end - self.started) if end > self.started else 0.0


#: A connection's login: (username, password), both None for an anonymous broker.
Login = tuple[str | None, str | None]


class RawPublisher:
    """One TCP connection per name in `logins` (client id -> login), as a fleet of devices
    connects: each device with its own credential, since the generated ACL lets a device write
    its own topic only (and the broker may take the username as client id). `publish` sends
    prebuilt packets in their order, optionally paced, each on its connection; one reader thread
    counts the PUBACKs of all connections."""

    def __init__(self, port: int, logins: dict[str, Login], host: str = "127.0.0.1") -> None:
        self.socks: dict[str, socket.socket] = {}
        try:
            for client_id, (username, password) in logins.items():
                self.socks[client_id] = open_connection(port, client_id, username, password, host)
        except BaseException:
            for sock in self.socks.values():
                sock.close()
            raise
        self._acked = 0
        self._ack_cond = threading.Condition()
        self._closing = False
        self.closed_by_broker: list[str] = []
        self._selector = selectors.DefaultSelector()
        for client_id, sock in self.socks.items():
            self._selector.register(sock, selectors.EVENT_READ, [client_id, 0])
        self._reader = threading.Thread(target=self._read_acks, name="raw-puback-reader", daemon=True)
        self._reader.start()

    def _read_acks(self) -> None:
        """Count PUBACKs (always 4 bytes: 0x40 0x02 id id); nothing else is expected."""
        open_socks = len(self.socks)
        while open_socks:
            try:
                ready = self._selector.select(0.5)
            except (OSError, ValueError):
                break
            got = 0
            for key, _ in ready:
                try:
                    data = key.fileobj.recv(1 << 16)  # type: ignore[union-attr]
                except OSError:
                    data = b""
                if not data:
                    self._selector.unregister(key.fileobj)
                    open_socks -= 1
                    if not self._closing:
                        self.closed_by_broker.append(key.data[0])
                    continue
                n, key.data[1] = divmod(key.data[1] + len(data), 4)
                got += n
            with self._ack_cond:
                self._acked += got
                if open_socks < len(self.socks):
                    self._closing = True  # a connection lost: stop sending, as a device would retry
                self._ack_cond.notify_all()
        with self._ack_cond:
            self._closing = True
            self._ack_cond.notify_all()

    def publish(
        self,
        packets: list[tuple[str, bytes]],
        payload_bytes: int,
        qos: int,
        rate: float | None = None,
        window: int = 2000,
        chunk: int = 256,
        record: set[int] | None = None,
        deadline: float | None = None,
        allowed: Callable[[], int] | None = None,
    ) -> PublishStats:
        """Send all (client id, packet) pairs (QoS 1: with at most `window` unacknowledged over
        all connections), at `rate` msg/s if given. `record`: indexes whose send time to keep.
        `allowed`: how many packets may have been sent by now (a consumer's progress plus a
        budget), so the broker never queues more than its limits keep."""
        st = PublishStats(payload_bytes=payload_bytes, wire_bytes=sum(len(p) for _, p in packets))
        base_acked = self._acked
        st.started = time.time()
        t0 = time.perf_counter()
        i, n = 0, len(packets)
        while i < n:
            if deadline is not None and time.time() > deadline:
                break
            step = chunk
            if rate:
                due = int((time.perf_counter() - t0) * rate) + 1
                if due <= i:
                    time.sleep(min(0.002, (i + 1 - due) / rate))
                    continue
                step = min(chunk, due - i)
            if allowed is not None:
                room = allowed() - i
                if room <= 0:
                    time.sleep(0.0005)
                    continue
                step = min(step, room)
            if qos:
                with self._ack_cond:
                    while i - (self._acked - base_acked) >= window and not self._closing:
                        self._ack_cond.wait(0.5)
                    if self._closing:
                        break
                    step = min(step, window - (i - (self._acked - base_acked)))
            j = min(n, i + step)
            if record:
                now = time.time()
                for k in range(i, j):
                    if k in record:
                        st.send_times[k] = now
            per_conn: dict[str, list[bytes]] = {}
            for client_id, packet in packets[i:j]:
                per_conn.setdefault(client_id, []).append(packet)
            for client_id, parts in per_conn.items():
                self.socks[client_id].sendall(b"".join(parts))
            i = j
        st.sent = i
        st.sent_done = time.time()
        if qos:
            with self._ack_cond:
                limit = time.monotonic() + 60
                while self._acked - base_acked < i and not self._closing and time.monotonic() < limit:
                    self._ack_cond.wait(0.5)
            st.acked = self._acked - base_acked
            st.acked_done = time.time()
        return st

    def close(self) -> None:
        with self._ack_cond:
            self._closing = True
        for sock in self.socks.values():
            try:
                sock.sendall(b"\xe0\x00")  # DISCONNECT
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._reader.join(timeout=2)
        for sock in self.socks.values():
            sock.close()
        self._selector.close()


def build_packets(messages: list[tuple[str, str, bytes]], qos: int) -> tuple[list[tuple[str, bytes]], int]:
    """(client id, PUBLISH packet) for (client id, topic, payload) triples; QoS 1 packet ids
    cycle through 1..65535 per connection."""
    next_id: dict[str, int] = {}
    packets = []
    for client_id, topic, payload in messages:
        k = next_id.get(client_id, 0)
        next_id[client_id] = k + 1
        packets.append((client_id, publish_packet(topic, payload, qos, (k % 65535) + 1 if qos else 0)))
    return packets, sum(len(p) for _, _, p in messages)
