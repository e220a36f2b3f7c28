"""A raw-socket MQTT 3.1.1 publisher: prebuilt PUBLISH packets written in large chunks.

paho-mqtt tops out near 16k msg/s at QoS 1 from Python on this class of machine (peer notes),
below what a broker and a fast subscriber take, so the offered load comes from here instead:
no per-message Python objects while sending, PUBACKs counted by a reader thread, and a window
of unacknowledged QoS 1 messages as flow control.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
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
    body += (_utf8(username) if username is not None else b"") + (_utf8(password) if password is not None else b"")
    return bytes([0x10]) + _varint(len(body)) + body


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


class RawPublisher:
    """One TCP connection to the broker. `publish` sends prebuilt packets, optionally paced."""

    def __init__(self, port: int, client_id: str, host: str = "127.0.0.1", username: str | None = None, password: str | None = None) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.sock.sendall(connect_packet(client_id, username=username, password=password))
        ack = self._recv_exact(4)
        if ack[0] != 0x20 or ack[3] != 0:
            raise ConnectionError(f"CONNACK refused: {ack.hex()}")
        self._acked = 0
        self._ack_cond = threading.Condition()
        self._closing = False
        self._reader = threading.Thread(target=self._read_acks, name="raw-puback-reader", daemon=True)
        self._reader.start()

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            buf += chunk
        return buf

    def _read_acks(self) -> None:
        """Count PUBACKs (always 4 bytes: 0x40 0x02 id id); nothing else is expected."""
        pending = b""
        while True:
            try:
                data = self.sock.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                with self._ack_cond:
                    self._closing = True
                    self._ack_cond.notify_all()
                return
            pending += data
            n, rest = divmod(len(pending), 4)
            if rest:
                pending = pending[n * 4 :]
            else:
                pending = b""
            with self._ack_cond:
                self._acked += n
                self._ack_cond.notify_all()

    def publish(
        self,
        packets: list[bytes],
        payload_bytes: int,
        qos: int,
        rate: float | None = None,
        window: int = 2000,
        chunk: int = 256,
        record: set[int] | None = None,
        deadline: float | None = None,
    ) -> PublishStats:
        """Send all packets (QoS 1: with at most `window` unacknowledged), at `rate` msg/s if given.
        `record`: indexes whose send time to keep (latency measurements)."""
        st = PublishStats(payload_bytes=payload_bytes, wire_bytes=sum(map(len, packets)))
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
            self.sock.sendall(b"".join(packets[i:j]))
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
        try:
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._reader.join(timeout=2)


def build_packets(messages: list[tuple[str, bytes]], qos: int) -> tuple[list[bytes], int]:
    """PUBLISH packets for (topic, payload) pairs; QoS 1 packet ids cycle through 1..65535."""
    packets = [publish_packet(t, p, qos, (k % 65535) + 1 if qos else 0) for k, (t, p) in enumerate(messages)]
    return packets, sum(len(p) for _, p in messages)
