"""A flood through the whole chain, every part a real process started through the `tepi` CLI:

simulator (pty + MQTT) → Mosquitto → gateway → outbox → Mosquitto → ingest → VictoriaMetrics
and the state DB → API. The test asserts what the disaster office would see.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL, issue_keys
from central.db import create_engine, prepare_database
from core.config import TepiConfig, TsdbConfig, with_local_services
from core.processes import Mosquitto, VictoriaMetrics, free_port, wait_for_port

pytestmark = pytest.mark.integration
TEPI = [sys.executable, "-m", "tepi.cli"]


@pytest.fixture
def deployment(
    default_config: TepiConfig, mosquitto: Mosquitto, victoria_metrics: VictoriaMetrics, tmp_path: Path
) -> tuple[Path, TepiConfig]:
    link_dir = tmp_path / "sim"
    cfg = with_local_services(
        default_config,
        mosquitto.port,
        tmp_path,
        tsdb=TsdbConfig(url=victoria_metrics.url),
        api_port=free_port(),
        serial_ports={"awlr-katulampa": str(link_dir / "awlr-katulampa")},
    )
    path = tmp_path / "tepi.yaml"
    path.write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    return path, cfg


class Processes:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp_path / f"{name}.log", "wb")
        # Production, as deployed: the deployment's own pepper and public address.
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEPI_")} | {
            "TEPI_AUTH_PEPPER": TEST_PEPPER,
            "TEPI_PUBLIC_BASE_URL": TEST_PUBLIC_BASE_URL,
        }
        proc = subprocess.Popen([*TEPI, *args], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.tmp_path)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> dict[str, int]:
        codes = {}
        for name, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.procs.items():
            try:
                codes[name] = proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        return codes


@pytest.fixture
def processes(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Processes]:
    p = Processes(tmp_path)
    yield p
    p.stop_all()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for name in p.procs:
            print(f"--- {name}\n{p.log(name)}")


def poll(fn, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            last = exc
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def test_flood_raises_an_alert_at_the_api_and_lands_in_victoriametrics(
    deployment: tuple[Path, TepiConfig], victoria_metrics: VictoriaMetrics, processes: Processes, tmp_path: Path
) -> None:
    config_path, cfg = deployment
    c = str(config_path)
    # The disaster office's key, made as an operator makes one (the API runs in production mode).
    engine = create_engine(cfg.ingest.database_url)
    prepare_database(engine, cfg)
    person = ("dki-jakarta", "disaster_office", "Petugas Pusdalops")
    key = issue_keys(engine, TEST_PEPPER, [person])[("dki-jakarta", "Petugas Pusdalops")]
    engine.dispose()
    processes.start("ingest", "ingest", "-c", c)
    processes.start("api", "api", "-c", c)
    processes.start("gateway", "gateway", "-c", c)
    processes.start("sim", "sim", "-c", c, "--broker-port", str(cfg.gateway.local_broker.port), "--speed", "600", "--link-dir", str(tmp_path / "sim"))
    wait_for_port(cfg.api.port, timeout=30)
    api = f"http://127.0.0.1:{cfg.api.port}/api/v1"
    with httpx.Client(timeout=5, headers={"Authorization": f"Bearer {key}"}) as http:
        alerts = poll(
            lambda: [a for a in http.get(f"{api}/alerts", params={"status": "active", "type": "siaga"}).json()["data"] if a["station"] == "katulampa"],
            timeout=60,
            what="a Katulampa alert at the API",
        )
        assert alerts[0]["siaga"] in (1, 2, 3)
        assert alerts[0]["last_level_cm"] >= cfg.station("katulampa").thresholds.siaga3
        stations = {s["id"]: s for s in http.get(f"{api}/stations").json()["data"]}
        assert stations["katulampa"]["last_seen_at"] is not None
        assert stations["depok"]["last_seen_at"] is not None, "MQTT devices reached the API too"

        def vm_series() -> list:
            victoria_metrics.flush()
            r = http.get(f"{victoria_metrics.url}/api/v1/export", params={"match[]": 'awlr_level_mean{station="katulampa"}'})
            return [line for line in r.text.splitlines() if line.strip()]

        series = poll(vm_series, timeout=30, what="Katulampa points in VictoriaMetrics")
        assert '"tenant":"dki-jakarta"' in series[0]
        since = (datetime.now(timezone.utc) - timedelta(hours=24)).isoformat()

        def flood_in_history() -> dict | None:
            victoria_metrics.flush()
            h = http.get(f"{api}/stations/katulampa/levels", params={"every": "10m", "start": since}).json()
            peak = max((b["max_cm"] for b in h["data"]), default=0)
            return h if peak >= cfg.station("katulampa").thresholds.siaga3 else None

        history = poll(flood_in_history, timeout=30, what="the flood in the level history")
        assert history["source"] == "tsdb"
    codes = processes.stop_all()
    assert codes["gateway"] == 0 and codes["ingest"] == 0, {n: processes.log(n) for n in ("gateway", "ingest")}
