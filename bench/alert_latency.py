"""alert_latency: from a device writing the reading that crosses a Siaga threshold to the alert
change arriving on the API's SSE stream, through real Mosquitto, `tepi gateway` (QC, outbox,
uplink), `tepi ingest` and `tepi api`, each its own process, all on loopback.

The station raises on the crossing reading itself (`raise_after: 1`, clear margin 5 cm), so
each reading alternating between ~65 cm and ~90 cm at Katulampa (Siaga 3 from 80 cm) is one
crossing: an escalation or a clear. Every crossing carries a unique level, which identifies
its SSE event. Latency = SSE arrival − the moment the device's publish call returned.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import yaml

from bench.core import Context, Figure, Result, mosquitto, percentile, wait_until
from gateway.devices.awlr import wire
from tepi.config import load_config, with_local_services
from tepi.messages import device_topic
from tepi.processes import free_port, wait_for_port

NAME = "alert_latency"
TARGET_P99_MS = 250.0


def _config(work: Path, broker_port: int, api_port: int):  # type: ignore[no-untyped-def]
    base = load_config()
    kat = base.station("katulampa")
    kat = kat.model_copy(update={"alerting": kat.alerting.model_copy(update={"raise_after": 1, "clear_margin_cm": 5.0})})
    stations = [kat if s.id == "katulampa" else s for s in base.stations]
    devices = [d.model_copy(update={"transport": "mqtt"}) if d.id == "awlr-katulampa" else d for d in base.devices]
    cfg = base.model_copy(update={"stations": stations, "devices": devices})
    return with_local_services(cfg, broker_port, work, api_port=api_port, device_rate_per_s=1000)


class SseListener:
    """Collects (arrival time, event) from the alert stream on its own thread."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.headers = headers
        self.events: list[tuple[float, dict]] = []
        self.connected = threading.Event()
        self.error: Exception | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._listen()
        except httpx.HTTPError as exc:
            if not self._stop.is_set():  # the API going away at the end is expected
                self.error = exc

    def _listen(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(5.0, read=None)) as http:
            with http.stream("GET", self.url, headers=self.headers) as r:
                r.raise_for_status()
                self.connected.set()
                data: list[str] = []
                for line in r.iter_lines():
                    if self._stop.is_set():
                        return
                    if line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and data:
                        self.events.append((time.perf_counter(), json.loads("\n".join(data))))
                        data = []

    def stop(self) -> None:
        self._stop.set()


def _auth_headers(cfg, work: Path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A disaster-office key when the API requires one (created the way an operator would)."""
    try:
        from tepi.admin_cli import admin_app  # noqa: F401  (present once API auth exists)
    except ImportError:
        return {}
    out = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "admin", "-c", str(work / "tepi.yaml"), "demo-key", "--tenant", cfg.gateway.tenant, "--role", "disaster_office"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "TEPI_MODE": "demo"},  # the API runs in demo mode
    )
    key = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    return {"Authorization": f"Bearer {key}"} if key else {}


def run(ctx: Context) -> Result:
    crossings = ctx.scale(240, 40)
    res = Result(NAME, f"{crossings} Siaga crossings at Katulampa: device publish -> SSE event, real processes")
    work = ctx.work / NAME
    work.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    with mosquitto(work / "broker", persistence=True) as broker:
        api_port = free_port()
        cfg = _config(work, broker.port, api_port)
        (work / "tepi.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
        env = {**os.environ, "TEPI_MODE": "demo"}
        try:
            for part in ("ingest", "api", "gateway"):
                log = open(work / f"{part}.log", "wb")
                procs.append(subprocess.Popen([sys.executable, "-m", "tepi.cli", part, "-c", str(work / "tepi.yaml"), "--log-level", "WARNING"], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work))
            wait_for_port(api_port, timeout=60)
            time.sleep(2.0)  # gateway and ingest subscriptions
            listener = SseListener(f"http://127.0.0.1:{api_port}/api/v1/alerts/stream?station=katulampa", _auth_headers(cfg, work))
            listener.start()
            if not listener.connected.wait(15):
                raise RuntimeError(f"SSE stream did not open: {listener.error!r}")
            pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="awlr-katulampa")
            pub.connect("127.0.0.1", broker.port)
            pub.loop_start()
            topic = device_topic(cfg.gateway.tenant, "awlr-katulampa")
            t0 = (datetime.now(timezone.utc) - timedelta(days=2)).replace(second=0, microsecond=0)
            sent: dict[float, float] = {}  # unique crossing level -> publish time
            seq = 0
            for k in range(crossings + 1):
                up = k % 2 == 1
                level = round((85.0 + 0.1 * (k // 2)) if up else (72.0 - 0.1 * (k // 2)), 1)  # unique: identifies its event
                frame = wire.AwlrFrame("katulampa", seq, t0 + timedelta(minutes=seq), level, 12.5)
                info = pub.publish(topic, wire.encode_json(frame), qos=1)
                sent_at = time.perf_counter()
                info.wait_for_publish(5)
                if k > 0:
                    sent[level] = sent_at
                seq += 1
                time.sleep(0.25)  # one crossing at a time: latency, not throughput
            wait_until(lambda: len(listener.events) >= crossings, timeout=30)
            listener.stop()
            pub.loop_stop()
            lat: list[float] = []
            for arrived, ev in listener.events:
                level = ev.get("alert", {}).get("last_level_cm")
                if level in sent and ev.get("kind") in ("opened", "updated", "escalated", "cleared"):
                    lat.append((arrived - sent.pop(level)) * 1000.0)
            p50, p99 = percentile(lat, 50), percentile(lat, 99)
            res.figures.append(Figure("alert latency p50 (device -> SSE)", p50, "ms", target="", note=f"{len(lat)} crossings"))
            res.figures.append(Figure("alert latency p99 (device -> SSE)", p99, "ms", target=f"<= {TARGET_P99_MS:.0f}", target_of="value"))
            res.details = {"crossings": crossings, "matched": len(lat), "max_ms": max(lat) if lat else None, "unmatched": len(sent), "latencies_ms": [round(x, 1) for x in lat]}
        finally:
            for p in procs:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
            for p in procs:
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
    return res
