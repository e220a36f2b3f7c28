"""Simulated office scanners on MQTT: each scanner publishes one message per scan interval with
everything it heard (Tepi's batch format, `wire.encode_scan`) to its device topic, logged in as
itself (the device's user from `tepi mqtt setup`), as a real scanner does.

Why a connection per scanner: the generated broker configuration binds each client id to its
user and the ACL lets a device write only its own topic, so one connection could not speak for
ten scanners; the demo and the bench then exercise the broker as deployed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from contract.topics import device_topic
from kinds.badge.wire import ScanReport, encode_scan

log = logging.getLogger(__name__)


class ScannerLinkError(Exception):
    """A scanner could not connect to the broker."""


@dataclass
class ScannerPublisher:
    """One MQTT connection per scanner; `publish` sends a scan interval's reports."""

    host: str
    port: int
    tenant: str
    scanners: Iterable[str]
    logins: Mapping[str, tuple[str, str]] | None = None
    qos: int = 0
    sent: int = 0
    adverts: int = 0
    _clients: dict[str, mqtt.Client] = field(default_factory=dict, init=False, repr=False)
    _topics: dict[str, str] = field(default_factory=dict, init=False, repr=False)
    _last: dict[str, mqtt.MQTTMessageInfo] = field(default_factory=dict, init=False, repr=False)

    def connect(self, timeout_s: float = 10.0) -> ScannerPublisher:
        for scanner in self.scanners:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=scanner)
            login = (self.logins or {}).get(scanner)
            if login is not None:
                client.username_pw_set(*login)
            client.max_inflight_messages_set(100)
            ready = threading.Event()
            client.on_connect = lambda c, u, f, rc, p, ready=ready: ready.set() if not rc.is_failure else None
            try:
                client.connect(self.host, self.port)
            except OSError as exc:
                raise ScannerLinkError(f"scanner {scanner}: cannot reach the broker at {self.host}:{self.port}") from exc
            client.loop_start()
            self._clients[scanner] = client
            self._topics[scanner] = device_topic(self.tenant, scanner)
            if not ready.wait(timeout_s):
                self.close()
                raise ScannerLinkError(f"scanner {scanner}: the broker refused or did not answer its login")
        return self

    def publish(self, reports: Iterable[ScanReport]) -> None:
        for r in reports:
            client = self._clients.get(r.scanner)
            if client is None:
                continue  # a scanner this publisher does not run (another gateway's)
            self._last[r.scanner] = client.publish(self._topics[r.scanner], encode_scan(r), qos=self.qos)
            self.sent += 1
            self.adverts += len(r.heard)

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every message handed to paho has left (QoS 1: acknowledged by the broker);
        paho queues them in memory, and a disconnect drops what is still queued."""
        deadline = time.monotonic() + timeout_s
        for info in self._last.values():
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
            except (RuntimeError, ValueError):  # not connected, or the queue refused it
                return False
        return all(info.is_published() for info in self._last.values())

    def close(self) -> None:
        self.flush()
        for client in self._clients.values():
            client.disconnect()
            client.loop_stop()
        self._clients.clear()


def play(
    intervals: Iterator[list[ScanReport]], publisher: ScannerPublisher, *, interval_s: float = 1.0, stop: threading.Event | None = None,
    on_interval: Callable[[list[ScanReport]], None] | None = None,
) -> int:
    """Publish each interval's reports `interval_s` wall seconds apart (paced on the monotonic
    clock, catching up after a stall rather than drifting) until the intervals end or `stop`
    is set; how many intervals went out."""
    stop = stop or threading.Event()
    due = time.monotonic()
    n = 0
    for reports in intervals:
        if stop.is_set():
            break
        publisher.publish(reports)
        if on_interval is not None:
            on_interval(reports)
        n += 1
        due += interval_s
        wait = due - time.monotonic()
        if wait > 0 and stop.wait(wait):
            break
    return n
