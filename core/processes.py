"""Real helper processes that Tepi starts on loopback: Mosquitto, an embedded broker, VictoriaMetrics.

Used by `tepi demo` and by the integration tests, so both run the same parts the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from core.config import TepiConfig


class ProcessError(RuntimeError):
    """A helper process could not be started or did not become ready."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 10.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ProcessError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise ProcessError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


class BrokerAuth(Protocol):
    """The broker config `tepi mqtt setup` generated (`tepi.mqtt_security.MqttSecurityFiles`):
    password file, ACL, queue limits and persistence, and what every listener must add."""

    def broker_conf(self, persistence_dir: Path | None) -> list[str]: ...

    def listener_options(self) -> list[str]: ...


class BrokerTls(Protocol):
    """Certificate files of a TLS listener (`tepi.mqtt_tls.MosquittoTls`)."""

    def listener_conf(self, port: int, bind: str | None = None) -> list[str]: ...


@dataclass
class Mosquitto:
    """A private Mosquitto on an ephemeral loopback port with a generated config.

    `persistence` keeps QoS 1 sessions across `restart()`, as a production broker does.
    Without `auth` anyone may connect and do anything (the tests of the data path), with the
    queue limits and autosave `tepi mqtt setup` generates for `sized_for` (default: the shipped
    deployment); with it, the broker runs what `tepi mqtt setup` generated (passwords, ACL,
    client id bound to username, its queue limits and persistence), only on its own ports and
    directory. Never larger queues than a deployment gets: a test must see what it would drop.
    `tls` adds a TLS listener on `tls_port` (ephemeral if 0) next to the plain one, with the same users.
    """

    port: int = 0
    workdir: Path | None = None
    extra_conf: str = ""
    persistence: bool = True
    auth: BrokerAuth | None = None
    tls: BrokerTls | None = None
    tls_port: int = 0
    sized_for: "Sequence[TepiConfig] | None" = None
    #: MQTT shared subscriptions (`$share/<group>/...`, Mosquitto 1.6 and later).
    shared_subscriptions: ClassVar[bool] = True
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False)

    @staticmethod
    def available() -> bool:
        return shutil.which("mosquitto") is not None

    def start(self) -> "Mosquitto":
        if not self.available():
            raise ProcessError("mosquitto is not on PATH (Debian package 'mosquitto')")
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tepi-mosquitto-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        if self.tls is not None and not self.tls_port:
            self.tls_port = free_port()
        conf = self.workdir / "mosquitto.conf"
        lines = [f"listener {self.port} 127.0.0.1"]
        if self.auth is not None:
            lines += self.auth.listener_options()
            lines += self.auth.broker_conf(self.workdir if self.persistence else None)
        else:
            from core.config import load_config
            from tepi.mqtt_queues import size_queues

            configs = self.sized_for or [load_config(None)]
            lines += ["allow_anonymous true", *size_queues(configs).conf_lines()]
            if self.persistence:
                autosave = min(c.broker_queue.autosave_interval_s for c in configs)
                lines += ["persistence true", f"persistence_location {self.workdir}/", f"autosave_interval {autosave}"]
        lines += ["log_dest stderr", "log_type error", "log_type warning"]
        if os.geteuid() == 0:
            # Otherwise mosquitto drops to its own user, which cannot write a private temp dir.
            lines.append("user root")
        text = "\n".join(lines) + "\n" + self.extra_conf
        if self.tls is not None:
            # Last: Mosquitto attaches listener options to the latest `listener` line.
            listener = self.tls.listener_conf(self.tls_port, "127.0.0.1") + (self.auth.listener_options() if self.auth else [])
            text = text.rstrip("\n") + "\n" + "\n".join(listener) + "\n"
        conf.write_text(text)
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=open(self.workdir / "mosquitto.log", "ab"),
            start_new_session=True,  # Ctrl-C in a terminal must not kill it before the gateway flushes
        )
        wait_for_port(self.port, proc=self.proc)
        if self.tls is not None:
            wait_for_port(self.tls_port, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


class EmbeddedBroker:
    """amqtt in a background thread, for machines without a `mosquitto` binary (demo only).

    amqtt has no shared subscriptions: ingest must subscribe to the plain uplink topics here
    (`IngestConfig.shared_subscription`), and only one worker may.
    """

    shared_subscriptions: ClassVar[bool] = False

    def __init__(self, port: int = 0) -> None:
        self.port = port or free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._broker = None

    def start(self) -> "EmbeddedBroker":
        try:
            from amqtt.broker import Broker
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ProcessError("no mosquitto on PATH and amqtt is not installed (pip install 'tepi[embedded-broker]')") from exc
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{self.port}"}},
            # Only the anonymous plugin: with amqtt's default list its password-file plugin also
            # votes, and refuses every client that sends a username (all of Tepi's do).
            "auth": {"plugins": ["auth_anonymous"], "allow-anonymous": True},
            "topic-check": {"enabled": False},
        }
        ready = threading.Event()
        failed: list[BaseException] = []
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            try:
                self._broker = Broker(config, loop=self._loop)
                self._loop.run_until_complete(self._broker.start())
            except Exception as exc:  # e.g. the port taken: said at once, not after a timeout
                failed.append(exc)
                ready.set()
                return
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="amqtt-broker", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise ProcessError("embedded broker did not start")
        if failed:
            self._loop = None
            raise ProcessError(f"embedded broker did not start: {failed[0]}") from failed[0]
        # Its listener is bound once start() returned: no probe connection (amqtt logs one as an error).
        return self

    def close(self) -> None:
        if self._loop is None or self._broker is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        with contextlib.suppress(Exception):
            fut.result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(timeout=5)
        self._loop = None


@dataclass
class VictoriaMetrics:
    """A private VictoriaMetrics with a temp data dir; takes influxdb-client writes, answers PromQL."""

    port: int = 0
    workdir: Path | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, init=False)

    @staticmethod
    def available() -> bool:
        return shutil.which("victoria-metrics") is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "VictoriaMetrics":
        if not self.available():
            raise ProcessError("victoria-metrics is not on PATH (Debian package 'victoria-metrics')")
        if self.workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="tepi-vm-")
            self.workdir = Path(self._tmp.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.port:
            self.port = free_port()
        args = [
            "victoria-metrics",
            f"-storageDataPath={self.workdir / 'data'}",
            f"-httpListenAddr=127.0.0.1:{self.port}",
            "-retentionPeriod=100y",
            "-search.latencyOffset=0s",
            "-search.disableCache",
            "-dedup.minScrapeInterval=1ms",
            "-loggerLevel=ERROR",
        ]
        self.proc = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=open(self.workdir / "vm.log", "ab"), start_new_session=True
        )
        wait_for_port(self.port, timeout=20, proc=self.proc)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            time.sleep(0.1)
        raise ProcessError("victoria-metrics did not become healthy")

    def flush(self) -> None:
        """Make everything written so far visible to queries (a test aid; production waits ~1 s)."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=5):
            pass

    def export(self, selector: str, want_series: int = 1, timeout: float = 5.0) -> list[dict[str, object]]:
        """Raw series matching a selector (`/api/v1/export`), flushing and polling until at
        least `want_series` are visible or `timeout` passes (a test and benchmark aid)."""
        deadline = time.monotonic() + timeout
        while True:
            self.flush()
            query = urllib.parse.urlencode({"match[]": selector})
            with urllib.request.urlopen(f"{self.url}/api/v1/export?{query}", timeout=5) as r:
                text = r.read().decode()
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            if len(rows) >= want_series or time.monotonic() > deadline:
                return rows
            time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
