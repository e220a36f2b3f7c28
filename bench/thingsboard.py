"""thingsboard: ThingsBoard IoT Gateway 3.8.x and Tepi swept at the same offered rates.

At each rate (1k, 5k, 20k readings/s for 10 s, 500 AWLR devices, JSON, QoS 1) each system runs
alone against a local broker configured by `tepi mqtt setup` (ThingsBoard's MQTT connector logs
in as a gateway of its own, SQLite storage) and is measured by what arrives upstream once
arrivals stop: lost = published (PUBACKed) - arrived (Tepi: good + suspect + fail of every
distinct summary; ThingsBoard: distinct (device, seq)). ThingsBoard's upstream, standing in for
its platform, is a plain Mosquitto whose collector answers `getSessionLimits`.

ThingsBoard runs in its own venv (`bench/.venv-tb`, installed at first use) because its
`tb-paho-mqtt-client` overwrites the `paho` package; its shared libraries are evicted from the
page cache before its runs, as Tepi's are before the benchmarks. Pitfalls handled (peer notes):
the update check is disabled; remote shell, remote configuration and statistics are off; logs/
exists in its working directory; the upstream Mosquitto's persistence folder is writable.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.core import (
    BENCH_DIR, Context, Figure, Result, deployed_broker, evict_shared_libraries, gateway_login, vm_hwm_kb, wait_settled, wait_until,
)
from bench.fleet import TENANT, Stream, aligned_start, fleet_config
from bench.loss import N_DEVICES, drain_report, offered_load, readings_per_device
from bench.procs import Collector, PublisherPool
from contract.topics import device_subscription
from core.processes import Mosquitto

NAME = "thingsboard"
TB_VERSION = "3.8.5"
TB_VENV = BENCH_DIR / ".venv-tb"
TB_TELEMETRY = "v1/gateway/telemetry"
TB_CONNECTOR_CLIENT = "tb-bench-connector"
#: ThingsBoard's gateway in the generated broker config: a gateway of its own (own login).
TB_GATEWAY = "gw-thingsboard"
RATES = (1_000, 5_000, 20_000)


@contextlib.contextmanager
def mosquitto_plain(workdir: Path) -> Iterator[Mosquitto]:
    """ThingsBoard's upstream, standing in for its platform (not a Tepi broker)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    broker = Mosquitto(workdir=workdir, persistence=False).start()
    try:
        yield broker
    finally:
        broker.close()


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


def tb_config(workdir: Path, local_port: int, upstream_port: int, login: tuple[str, str], storage: str = "sqlite") -> Path:
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
            "security": {"type": "basic", "username": login[0], "password": login[1]},
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


def presubscribe(port: int, client_id: str, topic: str, login: tuple[str, str], protocol: int = mqtt.MQTTv311) -> None:
    """Create a consumer's persistent session before the load, so nothing published before it
    connects is lost (the consumer then resumes this session)."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False, protocol=protocol)
    c.username_pw_set(*login)
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.subscribe(topic, qos=1)[1]
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


class TbProcess:
    def __init__(self, py: Path, workdir: Path, local_port: int, upstream_port: int, login: tuple[str, str], storage: str = "sqlite") -> None:
        if workdir.exists():
            shutil.rmtree(workdir)
        workdir.mkdir(parents=True)
        self.workdir = workdir
        cfg_dir = tb_config(workdir, local_port, upstream_port, login, storage)
        presubscribe(local_port, TB_CONNECTOR_CLIENT, device_subscription(TENANT), login)
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


def tb_offered_load(py: Path, work: Path, rate: float, secs: float, n_dev: int = N_DEVICES, drain_timeout: float = 240.0, idle: float = 20.0) -> dict[str, Any]:
    """ThingsBoard's gateway under `rate` readings/s offered for `secs`; what arrives upstream
    once arrivals stop."""
    per_dev = readings_per_device(rate, secs, n_dev)  # the same stream as Tepi's
    t0 = aligned_start((per_dev + 20) * 60.0, 600)
    tepi_cfg = fleet_config(n_dev, 1, 1, work / "unused-outbox.db")
    tb_as_gateway = fleet_config(n_dev, 1, 1, work / "unused-outbox.db", gateway=TB_GATEWAY)
    with deployed_broker(work / "local", [tepi_cfg, tb_as_gateway]) as local, mosquitto_plain(work / "platform") as upstream:
        login = gateway_login(local, tb_as_gateway.gateway, "devices")
        collector = Collector(upstream.port, [TB_TELEMETRY], client_id="bench-tb-collector")
        tb = TbProcess(py, work / "tb", local.port, upstream.port, login)
        try:
            _wait_tb_ready(tb, collector, 90)
            pool = PublisherPool(Stream(0, n_dev, per_dev, t0, 60.0), local, 1, procs=2, rate=rate, name="tb-load")
            pool.wait_ready()
            pool.start()
            offered = pool.result()
            published_at = time.time()
            settled = wait_settled(lambda: collector.tb if tb.alive() else -1, lambda v: v >= offered.acked, drain_timeout, idle)
            drained_s = time.time() - published_at
        finally:
            tb.stop()
            got = collector.close()
    arrived = sum(1 for _, seq in got["tb_keys"] if seq < per_dev)
    return {
        **drain_report(offered, arrived, settled, drained_s, n_dev),
        "duplicates": got["tb_dups"],
        "upstream_messages": got["tb_messages"],
        "peak_rss_mb": round(tb.peak_kb / 1024, 1),
        "exited_by_itself": not tb.alive() and tb.proc.returncode not in (0, -2),
    }


def run(ctx: Context) -> Result:
    res = Result(NAME, f"ThingsBoard IoT Gateway {TB_VERSION} (MQTT connector, SQLite storage) and Tepi, {N_DEVICES} devices, each alone at the same offered rates")
    work = ctx.work / NAME
    try:
        py = ensure_venv(work / "install.log")
    except (ThingsBoardUnavailable, OSError, subprocess.SubprocessError) as exc:
        res.error = f"ThingsBoard IoT Gateway could not be installed: {exc}"
        return res
    res.details["thingsboard_library_files_evicted_from_page_cache"] = evict_shared_libraries(TB_VENV)
    secs = ctx.scale(10.0, 2.0)
    rates = ctx.scale(RATES, RATES[:2])
    sweep: dict[str, Any] = {}
    for rate in rates:
        tepi = offered_load(work / f"tepi-{rate}", float(rate), secs)
        try:
            tb: dict[str, Any] = tb_offered_load(py, work / f"tb-{rate}", float(rate), secs)
        except ThingsBoardUnavailable as exc:
            tb = {"error": str(exc)}
        sweep[f"{rate}/s"] = {"tepi": tepi, "thingsboard": tb}
        res.figures.append(Figure(f"Tepi readings lost, {rate:,}/s offered for {secs:.0f} s", tepi["lost"], "readings",
                                  baseline=tb.get("lost"), baseline_name="ThingsBoard readings lost", target="", claim="thingsboard_sweep",
                                  note=f"of {tepi['acked_by_broker']} (Tepi), {tb.get('acked_by_broker')} (ThingsBoard)"))
        res.figures.append(Figure(f"readings/s arrived upstream incl. drain, {rate:,}/s offered", tepi["arrived_per_s_incl_drain"], "readings/s",
                                  baseline=tb.get("arrived_per_s_incl_drain"), baseline_name="ThingsBoard", note="ratio = Tepi / ThingsBoard"))
    res.details["sweep"] = sweep
    res.details["method"] = ("each system alone; published = PUBACKed by the local broker; arrived = distinct readings upstream once "
                             "arrivals stopped (idle 20 s) or all arrived; rate incl. drain = arrived / (publishing + drain time)")
    errors = [f"{r}: {v['thingsboard']['error']}" for r, v in sweep.items() if "error" in v["thingsboard"]]
    if errors:
        res.error = "ThingsBoard: " + "; ".join(errors)
    return res
