"""Links that move a device's bytes to the gateway: a pseudo-terminal and an MQTT client.

They only move bytes: what to send is the recorder's business. Both must keep the simulator
running when nobody listens (no gateway attached to the pty, broker down), because a field
device does too: it loses data, it does not hang.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
import tty
from pathlib import Path

import paho.mqtt.client as mqtt

from firmware_sim.errors import LinkError

log = logging.getLogger(__name__)

_DRAIN_BYTES = 4096


class PtySerialLink:
    """A pseudo-terminal pair standing in for an RS-232 cable, like ``socat pty,link=...``.

    The simulator writes sentences to the master; a gateway in another process opens the slave
    path (or the symlink) with pyserial. The simulator keeps the slave open itself, so the
    terminal and its raw settings survive a gateway that closes and reopens the port. Writes
    are non-blocking: when no reader drains the pty and its buffer is full, the sentence is
    dropped and counted, as a UART with nobody listening loses bytes.
    """

    def __init__(self, link_path: Path | None = None) -> None:
        self.link_path = link_path
        self.sent = 0
        self.dropped = 0
        self._master: int | None = None
        self._slave: int | None = None
        self._path: str | None = None
        self._pending = b""
        self._lock = threading.Lock()

    @property
    def path(self) -> str:
        """The slave device path, e.g. ``/dev/pts/7``."""
        if self._path is None:
            raise LinkError("pty link is not open")
        return self._path

    def open(self) -> "PtySerialLink":
        try:
            master, slave = os.openpty()
        except OSError as exc:
            raise LinkError(f"cannot open a pseudo-terminal: {exc.strerror}") from exc
        try:
            tty.setraw(slave)  # no echo, no CR/LF translation: bytes arrive as sent
            os.set_blocking(master, False)
            self._path = os.ttyname(slave)
        except OSError as exc:
            os.close(master)
            os.close(slave)
            raise LinkError(f"cannot configure pseudo-terminal: {exc.strerror}") from exc
        self._master, self._slave = master, slave
        if self.link_path is not None:
            try:
                self._make_symlink(self.link_path, self._path)
            except BaseException:
                self.close()
                raise
        log.info("pty link open", extra={"pty": self._path, "link": str(self.link_path) if self.link_path else None})
        return self

    @staticmethod
    def _make_symlink(link: Path, target: str) -> None:
        """Point ``link`` at the pty; replace a stale symlink, never a real file."""
        try:
            link.parent.mkdir(parents=True, exist_ok=True)
            if link.exists() and not link.is_symlink():
                raise LinkError(f"{link} exists and is not a symlink; refusing to replace it")
            tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
            if tmp.is_symlink():
                tmp.unlink()
            os.symlink(target, tmp)
            os.replace(tmp, link)
        except OSError as exc:
            raise LinkError(f"cannot create symlink {link} -> {target}: {exc.strerror}") from exc

    def send(self, data: bytes) -> bool:
        """Write one sentence; False (and counted as dropped) when the pty buffer is full.

        A partially written sentence is finished before any new one, so a full buffer loses
        whole sentences and never splices two into one.
        """
        with self._lock:
            if self._master is None:
                raise LinkError("pty link is closed")
            self._drain_input()
            if self._pending:
                self._pending = self._pending[self._write(self._pending) :]
                if self._pending:
                    self.dropped += 1
                    return False
            written = self._write(data)
            if written == 0:
                self.dropped += 1
                return False
            self._pending = data[written:]
            self.sent += 1
            return True

    def _write(self, data: bytes) -> int:
        assert self._master is not None
        try:
            return os.write(self._master, data)
        except BlockingIOError:
            return 0
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EIO):
                return 0
            raise LinkError(f"write to pty {self._path} failed: {exc.strerror}") from exc

    def _drain_input(self) -> None:
        """Discard what a gateway writes to the port, so its writes never block on us."""
        assert self._master is not None
        try:
            while os.read(self._master, _DRAIN_BYTES):
                pass
        except OSError:  # EAGAIN: nothing to read; EIO: nobody attached
            pass

    def close(self) -> None:
        with self._lock:
            if self.link_path is not None and self._path is not None:
                try:
                    if self.link_path.is_symlink() and os.readlink(self.link_path) == self._path:
                        self.link_path.unlink()
                except OSError:
                    log.warning("could not remove pty symlink", extra={"link": str(self.link_path)})
            for fd in (self._master, self._slave):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self._master = self._slave = None

    def __enter__(self) -> "PtySerialLink":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


class MqttLink:
    """One device's MQTT connection, publishing each payload at QoS 1 to its own topic.

    paho's network thread reconnects with backoff; publishes while disconnected wait in
    paho's queue (bounded by ``max_queued``) and go out after the reconnect. When the queue
    is full a payload is dropped and counted, so a long broker outage costs data, not memory.
    """

    def __init__(
        self,
        host: str,
        port: int,
        topic: str,
        client_id: str,
        keepalive_s: int = 30,
        max_queued: int = 10_000,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.host, self.port, self.topic = host, port, topic
        self.sent = 0
        self.dropped = 0
        self.acked = 0
        self.connected = threading.Event()
        self._keepalive = keepalive_s
        self._lock = threading.Lock()
        self._client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        if username is not None:
            self._client.username_pw_set(username, password)
        self._client.max_queued_messages_set(max_queued)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish

    def open(self) -> "MqttLink":
        """Start connecting in the background; the first attempt may fail and is retried."""
        try:
            self._client.connect_async(self.host, self.port, keepalive=self._keepalive)
        except (OSError, ValueError) as exc:
            raise LinkError(f"cannot connect to broker {self.host}:{self.port}: {exc}") from exc
        self._client.loop_start()
        return self

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker refused connection", extra={"topic": self.topic, "reason": str(reason)})
            return
        self.connected.set()
        log.info("mqtt link connected", extra={"topic": self.topic, "broker": f"{self.host}:{self.port}"})

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object, reason: object, props: object) -> None:
        self.connected.clear()
        level = logging.WARNING if getattr(reason, "is_failure", True) else logging.INFO
        log.log(level, "mqtt link disconnected", extra={"topic": self.topic, "reason": str(reason)})

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object) -> None:
        with self._lock:
            self.acked += 1

    def send(self, payload: bytes) -> bool:
        """Queue one payload at QoS 1; False (and counted) only when paho's queue is full."""
        info = self._client.publish(self.topic, payload, qos=1)
        with self._lock:
            if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # NO_CONN: queued for reconnect
                self.sent += 1
                return True
            self.dropped += 1
            return False

    def close(self, flush_s: float = 2.0) -> None:
        """Give in-flight messages ``flush_s`` to be acknowledged, then disconnect."""
        deadline = time.monotonic() + flush_s
        while self.connected.is_set() and time.monotonic() < deadline:
            with self._lock:
                if self.acked >= self.sent:
                    break
            time.sleep(0.02)
        self._client.disconnect()
        self._client.loop_stop()
