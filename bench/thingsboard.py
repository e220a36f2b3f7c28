"""thingsboard: ThingsBoard IoT Gateway 3.8.x side by side with Tepi.

1. Throughput: the same device stream (100 AWLR devices, JSON, QoS 1) into ThingsBoard's MQTT
   connector (SQLite storage); readings/s arriving at the upstream broker while publishing.
2. Outage: one stream at a modest rate feeds Tepi's gateway and ThingsBoard at once (both
   subscribe to the same device topics on the same broker); the upstream broker, which both
   use, is stopped for 60 s and restarted. Lost readings = published - accounted for upstream
   (Tepi: good + suspect + fail of every distinct summary; ThingsBoard: distinct (device, seq)).

ThingsBoard runs in its own venv (`bench/.venv-tb`, installed at first use) because its
`tb-paho-mqtt-client` overwrites the `paho` package. Pitfalls handled (peer notes): the
getSessionLimits RPC is answered by the collector; the update check is disabled; remote
shell, remote configuration and statistics are off; logs/ exists in its working directory;
the upstream Mosquitto's persistence folder is writable (Tepi's helper runs it as root).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.core import BENCH_DIR, Context, Figure, Result, mosquitto, vm_hwm_kb, wait_until
from bench.fleet import GATEWAY, TENANT, Stream, aligned_start, fleet_config
from bench.gateway_throughput import TimedGateway
from bench.procs import Collector, PublisherPool
from tepi.messages import device_subscription, uplink_topic

NAME = "thingsboard"
TB_VERSION = "3.8.5"
TB_VENV = BENCH_DIR / ".venv-tb"
TB_TELEMETRY = "v1/gateway/telemetry"
TB_CONNECTOR_CLIENT = "tb-bench-connector"


class ThingsBoardUnavailable(RuntimeError):
    pass


def ensure_venv(log: Path) -> Path:
    """bench/.venv-tb with thingsboard-gateway 3.8.x, created with pip at first use."""
    py = TB_VENV / "bin" / "python"
    check = [str(py), "-c", "import importlib.metadata as m; print(m.version('thingsboard-gateway'))"]
    if py.exists():
        out = subprocess.run(check, capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip().startswith("3.8."):
            return py
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as f:
        steps = [
            [sys.executable, "-m", "venv", "--clear", str(TB_VENV)],
            [str(py), "-m", "pip", "install", "--quiet", f"thingsboard-gateway=={TB_VERSION}"],
        ]
        for cmd in steps:
            r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=900)
            if r.returncode != 0:
                raise ThingsBoardUnavailable(f"`{' '.join(cmd)}` failed ({r.returncode}); see {log}: {log.read_text()[-400:]}")
    out = subprocess.run(check, capture_output=True, text=True)
    if out.returncode != 0:
        raise ThingsBoardUnavailable(f"thingsboard-gateway not importable after install: {out.stderr[-400:]}")
    return py


def tb_config(workdir: Path, local_port: int, upstream_port: int, storage: str = "sqlite") -> Path:
    """tb_gateway.json, mqtt.json and logs.json in workdir/config; returns the config dir."""
    cfg_dir = workdir / "config"
    cfg_dir.mkdir(parents=True, exist_ok=True)
    (workdir / "data").mkdir(exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)
    gateway = {
        "thingsboard": {
            "host": "127.0.0.1",
            "port": upstream_port,
            "remoteShell": False,
            "remoteConfiguration": False,
            "latencyDebugMode": False,
            "statistics": {"enable": False, "statsSendPeriodInSeconds": 3600, "customStatsSendPeriodInSeconds": 3600},
            "deviceFiltering": {"enable": False, "filterFile": "list.json"},
            "maxPayloadSizeBytes": 8196,
            "minPackSendDelayMS": 50,
            "minPackSizeToSend": 500,
            "checkConnectorsConfigurationInSeconds": 60,
            "handleDeviceRenaming": True,
            "security": {"type": "accessToken", "accessToken": "bench-token"},
            "qos": 1,
            "reportStrategy": {"type": "ON_RECEIVED"},
            "checkingDeviceActivity": {"checkDeviceInactivity": False, "inactivityTimeoutSeconds": 300, "inactivityCheckPeriodSeconds": 10},
        },
        "storage": (
            {"type": "sqlite", "data_file_path": "./data/", "messages_ttl_check_in_hours": 1, "messages_ttl_in_days": 7, "max_read_records_count": 1000}
            if storage == "sqlite"
            else {"type": "memory", "read_records_count": 100, "max_records_count": 1_000_000}
        ),
        "grpc": {"enabled": False},
        "connectors": [{"type": "mqtt", "name": "MQTT Broker Connector", "configuration": "mqtt.json"}],
    }
    connector = {
        "broker": {
            "host": "127.0.0.1",
            "port": local_port,
            "clientId": TB_CONNECTOR_CLIENT,
            "version": 4,
            "maxMessageNumberPerWorker": 10,
            "maxNumberOfWorkers": 100,
            # Same durability as Tepi's device source: a persistent session (the packaged default is clean).
            "cleanSession": False,
            "security": {"type": "anonymous"},
        },
        "mapping": [
            {
                "topicFilter": device_subscription(TENANT),
                "subscriptionQos": 1,
                "converter": {
                    "type": "json",
                    "deviceInfo": {
                        "deviceNameExpressionSource": "topic",
                        "deviceNameExpression": "(?<=/dev/)(.*?)(?=/up)",
                        "deviceProfileExpressionSource": "constant",
                        "deviceProfileExpression": "awlr",
                    },
                    "sendDataOnlyOnChange": False,
                    "timeout": 60000,
                    "attributes": [],
                    "timeseries": [
                        {"type": "integer", "key": "seq", "value": "${seq}"},
                        {"type": "double", "key": "level_cm", "value": "${level_cm}"},
                        {"type": "double", "key": "battery_v", "value": "${battery_v}"},
                        {"type": "string", "key": "device_ts", "value": "${ts}"},
                    ],
                },
            }
        ],
    }
    logs = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"f": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "formatter": "f", "filename": str(workdir / "logs" / "tb.log")}},
        "loggers": {n: {"handlers": ["file"], "level": "WARNING", "propagate": False}
                    for n in ("database", "service", "connector", "converter", "tb_connection", "storage", "extension")},
        "root": {"level": "WARNING", "handlers": ["file"]},
    }
    (cfg_dir / "tb_gateway.json").write_text(json.dumps(gateway, indent=2))
    (cfg_dir / "mqtt.json").write_text(json.dumps(connector, indent=2))
    (cfg_dir / "logs.json").write_text(json.dumps(logs, indent=2))
    return cfg_dir


def presubscribe(port: int, client_id: str, topic: str, protocol: int = mqtt.MQTTv311) -> None:
    """Create a consumer's persistent session before the load, so nothing published before it
    connects is lost (the consumer then resumes this session)."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=protocol)
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.subscribe(topic, qos=1)[1]
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


class TbProcess:
    def __init__(self, py: Path, workdir: Path, local_port: int, upstream_port: int, storage: str = "sqlite") -> None:
        if workdir.exists():
            import shutil

            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        self.workdir = workdir
        cfg_dir = tb_config(workdir, local_port, upstream_port, storage)
        presubscribe(local_port, TB_CONNECTOR_CLIENT, device_subscription(TENANT))
        env = {
            **os.environ,
            "HTTP_PROXY": "http://127.0.0.1:9",
            "HTTPS_PROXY": "http://127.0.0.1:9",
            "NO_PROXY": "127.0.0.1,localhost",
            "TB_GW_CONFIG_DIR": str(cfg_dir),
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("PYTHONPATH", None)
        self.out = open(workdir / "stdout.log", "wb")
        self.proc = subprocess.Popen(
            [str(py), str(BENCH_DIR / "tb_launch.py"), str(cfg_dir)], cwd=workdir, env=env, stdout=self.out, stderr=subprocess.STDOUT
        )
        self.peak_kb = 0
        self._sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample_loop, daemon=True)
        self._sampler.start()

    def _sample_loop(self) -> None:
        while not self._sampling.wait(0.5):
            self.sample()

    def sample(self) -> None:
        if self.proc.poll() is None:
            try:
                self.peak_kb = max(self.peak_kb, vm_hwm_kb(self.proc.pid)[0])
            except OSError:
                pass

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, n: int = 600) -> str:
        text = ""
        for p in (self.workdir / "stdout.log", self.workdir / "logs" / "tb.log"):
            if p.exists():
                text += p.read_text(errors="replace")[-n:]
        return text

    def stop(self) -> None:
        self.sample()
        self._sampling.set()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def _wait_tb_ready(tb: TbProcess, collector: Collector, timeout: float) -> None:
    """Ready once it asked for (and got) its session limits, i.e. forwards from now on."""
    def ready() -> bool:
        return not tb.alive() or collector.rpc_answered() > 0
    wait_until(ready, timeout, poll=0.1)
    if not tb.alive():
        raise ThingsBoardUnavailable(f"ThingsBoard gateway exited with {tb.proc.returncode}: {tb.log_tail()}")
    if collector.rpc_answered() == 0:
        raise ThingsBoardUnavailable(f"ThingsBoard never asked for its session limits within {timeout:.0f}s: {tb.log_tail()}")
    time.sleep(1.0)


def _rate_while(timeline: list[tuple[int, int]], start: float, end: float) -> float:
    n = sum(c for s, c in timeline if start <= s < int(end))
    whole = int(end) - int(start)
    return n / whole if whole > 0 else 0.0


def _drain(timeline: list[tuple[int, int]], restart: float, offered: float, pub_start: float, pub_end: float) -> dict[str, Any]:
    """After the upstream broker returns: how long until the first arrival (reconnect delay),
    how fast the backlog then arrived, and when arrivals caught up with what had been
    published (within one second's worth). Whole-second resolution."""
    total_before = sum(c for s, c in timeline if s < int(restart))
    after = [(s, c) for s, c in timeline if s >= int(restart)]
    if not after:
        return {"first_arrival_after_s": None, "caught_up_after_s": None, "drain_per_s": None}
    first = after[0][0]
    cum = total_before
    for s, c in after:
        cum += c
        published = offered * (min(s + 1, pub_end) - pub_start)
        if cum >= published - offered:
            secs = s + 1 - first
            return {
                "first_arrival_after_s": round(first - restart, 1),
                "caught_up_after_s": round(s + 1 - restart, 1),
                "drain_per_s": round((cum - total_before) / secs) if secs > 0 else None,
            }
    return {"first_arrival_after_s": round(first - restart, 1), "caught_up_after_s": None, "drain_per_s": None}


def _wait_settled(read: Any, done: Any, timeout: float, idle: float, armed: Any = lambda v: True) -> str:
    """Until `done(read())` ("done"), or, once `armed`, nothing changed for `idle` seconds
    ("idle"), or `timeout` ("timeout")."""
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        v = read()
        if done(v):
            time.sleep(1.0)  # stragglers (duplicates) still in flight
            return "done"
        if v != last or not armed(v):
            last, since = v, time.monotonic()
        elif time.monotonic() - since > idle:
            return "idle"
        time.sleep(0.2)
    return "timeout"


def throughput(ctx: Context, py: Path, work: Path) -> dict[str, Any]:
    n_dev, rate, secs = 100, 5000.0, ctx.scale(20.0, 3.0)
    per_dev = int(rate * secs / n_dev)
    with mosquitto(work / "local") as local, mosquitto(work / "uplink") as upstream:
        collector = Collector(upstream.port, [TB_TELEMETRY], client_id="bench-tb-collector")
        tb = TbProcess(py, work / "tb", local.port, upstream.port)
        try:
            _wait_tb_ready(tb, collector, 60)
            pool = PublisherPool(Stream(0, n_dev, per_dev, aligned_start(per_dev * 60.0, 600), 60.0), local.port, 1, procs=1, rate=rate, name="tb-pub")
            pool.wait_ready()
            pool.start()
            offered = pool.result()
            wait_until(lambda: collector.tb >= offered.sent or not tb.alive(), ctx.scale(20, 3), poll=0.2)
            drained_after = ctx.scale(20, 3)
        finally:
            tb.stop()
            got = collector.close()
    while_pub = _rate_while(got["tb_timeline"], offered.started, offered.finished)
    return {
        "offered_per_s": round(offered.rate),
        "published": offered.sent,
        "publish_s": round(offered.finished - offered.started, 1),
        "forwarded_per_s_while_publishing": round(while_pub),
        "arrived_distinct": got["tb_readings"],
        "arrival_wait_after_publishing_s": drained_after,
        "arrived_fraction": round(got["tb_readings"] / offered.sent, 3) if offered.sent else None,
        "duplicates": got["tb_dups"],
        "upstream_messages": got["tb_messages"],
        "peak_rss_mb": round(tb.peak_kb / 1024, 1),
        "session_limit_requests_answered": got["rpc"],
    }


def outage(ctx: Context, py: Path, work: Path) -> dict[str, Any]:
    n_dev, rate = 100, 500.0
    before, down, after = ctx.scale((20.0, 60.0, 20.0), (2.0, 5.0, 2.0))
    per_dev = int(rate * (before + down + after) / n_dev)
    t0 = aligned_start((per_dev + 20) * 60.0, 600)
    with mosquitto(work / "local") as local, mosquitto(work / "uplink", persistence=True) as upstream:
        collector = Collector(upstream.port, [TB_TELEMETRY, uplink_topic(TENANT, GATEWAY)], client_id="bench-outage-collector")
        tb = TbProcess(py, work / "tb-outage", local.port, upstream.port)
        outbox = work / "tepi-outbox.db"
        gw = TimedGateway(fleet_config(n_dev, local.port, upstream.port, outbox), outbox_path=outbox)
        try:
            _wait_tb_ready(tb, collector, 60)
            gw.start()
            gw.wait_ready()
            pool = PublisherPool(Stream(0, n_dev, per_dev, t0, 60.0), local.port, 1, procs=1, rate=rate, name="outage-pub")
            pool.wait_ready()
            pub_start = pool.start()
            time.sleep(before)
            t_down = time.time()
            upstream.stop()
            while time.time() < t_down + down:
                tb.sample()
                time.sleep(0.5)
            upstream.start()  # same port, same persistence directory
            t_up = time.time()
            offered = pool.result()
            # One more reading per device, in the next window, closes every window of the measured
            # stream at Tepi (it is not counted for either system).
            closer = PublisherPool(Stream(0, n_dev, 1, t0 + 540.0, 60.0, seq0=per_dev), local.port, 1, procs=1, name="closer")
            closer.wait_ready()
            closer.start()
            closer.result()
            published = offered.sent
            at_restart = (collector.accounted, collector.tb)
            # Stalls only count once both have delivered again after the restart: reconnect
            # back-offs (ThingsBoard's took ~14 s here) must not pass for losses.
            settled = _wait_settled(
                lambda: (collector.accounted, collector.tb),
                lambda v: v[0] >= published and v[1] >= published + n_dev,
                timeout=ctx.scale(150, 60), idle=ctx.scale(15, 4),
                armed=lambda v: v[0] > at_restart[0] and v[1] > at_restart[1],
            )
        finally:
            tb.stop()
            gw.stop()
            got = collector.close()
    return {"published": published, "per_device": per_dev, "wait_ended": settled, "offered_per_s": round(offered.rate), "pub_start": pub_start,
            "pub_end": offered.finished, "down_at": t_down, "up_at": t_up, "got": got,
            "tb_peak_rss_mb": round(tb.peak_kb / 1024, 1), "gateway": gw}


def run(ctx: Context) -> Result:
    res = Result(NAME, "ThingsBoard IoT Gateway 3.8.5 (MQTT connector, SQLite storage) vs Tepi, same stream, same brokers")
    work = ctx.work / NAME
    try:
        py = ensure_venv(work / "install.log")
    except (ThingsBoardUnavailable, OSError, subprocess.SubprocessError) as exc:
        res.error = f"ThingsBoard IoT Gateway could not be installed: {exc}"
        return res
    tput: dict[str, Any] | None = None
    if ctx.quick:
        res.details["throughput"] = "skipped in --quick (smoke run): the outage run starts ThingsBoard the same way"
    else:
        try:
            tput = throughput(ctx, py, work / "throughput")
        except ThingsBoardUnavailable as exc:
            res.error = f"ThingsBoard throughput: {exc}"
    tepi = ctx.results.get("gateway_throughput")
    tepi_rate = tepi.figures[0].value if tepi and tepi.figures else None
    if tput:
        res.figures.append(
            Figure("ThingsBoard forwarded/s while publishing", tput["forwarded_per_s_while_publishing"], "readings/s",
                   tepi_rate, "Tepi gateway_throughput readings/s" if tepi_rate else "",
                   note="ratio = ThingsBoard / Tepi")
        )
    try:
        o = outage(ctx, py, work / "outage")
    except ThingsBoardUnavailable as exc:
        res.error = (res.error + "; " if res.error else "") + f"ThingsBoard outage: {exc}"
        o = None
    if o:
        got, published = o["got"], o["published"]
        tb_arrived = sum(1 for _, seq in got["tb_keys"] if seq < o["per_device"])
        tepi_arrived = got["accounted"]
        tepi_lost, tb_lost = published - tepi_arrived, published - tb_arrived
        down = "60 s" if not ctx.quick else f"{o['up_at'] - o['down_at']:.0f} s"
        res.figures.append(Figure(f"Tepi readings lost, {down} uplink outage", tepi_lost, "readings", baseline=tb_lost,
                                  baseline_name="ThingsBoard readings lost", target="<= 0", target_of="value"))
        res.figures.append(Figure(f"ThingsBoard readings lost, {down} uplink outage", tb_lost, "readings", target="<= 0", target_of="value"))
        res.details["outage"] = {
            "published": published,
            "offered_per_s": o["offered_per_s"],
            "up_s_before": round(o["down_at"] - o["pub_start"], 1),
            "down_s": round(o["up_at"] - o["down_at"], 1),
            "wait_for_arrivals_ended": o["wait_ended"],
            "tepi": {
                "readings_accounted_upstream": tepi_arrived,
                "lost": tepi_lost,
                "summaries": got["summaries"],
                "summary_count_sum": got["summary_counts"],
                "upstream_messages": got["messages"] - got["tb_messages"],
                "rejected_by_gateway": _rejections(o["gateway"]),
                "outbox_left_at_stop": o["gateway"].outbox_depth_at_stop,
                "after_restart": _drain(got["timeline"], o["up_at"], o["offered_per_s"], o["pub_start"], o["pub_end"]),
            },
            "thingsboard": {
                "readings_arrived_distinct": tb_arrived,
                "lost": tb_lost,
                "duplicates": got["tb_dups"],
                "upstream_messages": got["tb_messages"],
                "peak_rss_mb": o["tb_peak_rss_mb"],
                "session_limit_requests_answered": got["rpc"],
                "after_restart": _drain(got["tb_timeline"], o["up_at"], o["offered_per_s"], o["pub_start"], o["pub_end"]),
            },
        }
    if tput:
        res.details["throughput"] = tput
    return res


def _rejections(gw: TimedGateway) -> dict[str, float]:
    return {
        m.labels["reason"]: m.value
        for fam in gw.registry.collect() if fam.name == "tepi_gateway_rejected"
        for m in fam.samples if m.name.endswith("_total")
    }
