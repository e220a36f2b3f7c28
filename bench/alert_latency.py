"""alert_latency: from a device writing the reading that crosses a Siaga threshold to the alert
change arriving on the API's SSE stream, through real Mosquitto, `tepi gateway` (QC, outbox,
uplink), `tepi ingest` and `tepi api`, each its own process, all on loopback.

Production settings: the shipped alerting defaults (`raise_after` 2, clear margin 5 cm), QC
and per-device limits, and a broker configured by `setup_broker_security` with every process on
its generated login. Katulampa (Siaga 3 from 80 cm) reads two levels above, then two below,
over and over: each pair completes one crossing (an escalation, then a clear) on its second
reading. An alert event is dated by the device time of the reading that caused it, so that time
(and the level) names the crossing an SSE event belongs to. Latency = SSE arrival - the moment
the publish of that completing reading returned. A crossing without its own event (none, or
merged into another) is a miss, counted and reported.

The readings must be ones the gateway's QC takes as a river's (GOOD), or the gateway is right
to raise nothing: `check_series` runs the planned series through the gateway's own processor
(QC, hysteresis) first and refuses one in which any crossing would not raise its change. (An earlier
series made each level unique with a ramp that widened the swing by 0.4 cm a crossing; from
crossing 236 on it jumped more than 60 cm in a minute, past QC's rate-of-change limit of
1 cm/s, the gateway ignored those readings as broken, and the bench counted misses.)

Device time: one reading a minute, as a field AWLR reports, sent a fraction of a second apart
(the gateway's work per reading is that of real time: each reading closes the previous
one-minute alert window). The series ends when the run starts, so device time never runs ahead
of the gateway's clock (readings more than `max_future_skew_s` ahead are rejected); that it
starts hours back changes nothing: the product dates alerts by device time and judges a
station alive by arrival time (`kinds.awlr.ingest.offline`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import yaml

from bench.core import Context, Figure, Result, deployed_broker, deployed_credentials, percentile, stop_processes, wait_until
from kinds.awlr import wire
from kinds.awlr.edge.processor import LevelProcessor
from kinds.awlr.edge.reading import LevelReading as Reading
from core.config import TepiConfig, load_config, with_local_services
from contract.topics import device_topic
from kinds.awlr.items import SiagaChange
from core.processes import free_port, wait_for_port

NAME = "alert_latency"
DEVICE = "awlr-katulampa"
TARGET_P99_MS = 250.0


def _config(work: Path, broker_port: int, api_port: int):  # type: ignore[no-untyped-def]
    """The shipped configuration (alerting defaults untouched), Katulampa's gauge on MQTT."""
    base = load_config()
    devices = [d.model_copy(update={"transport": "mqtt"}) if d.id == DEVICE else d for d in base.devices]
    cfg = base.model_copy(update={"devices": devices})
    return with_local_services(cfg, broker_port, work, api_port=api_port)


#: The two readings of an escalation (at Siaga 3, from 80 cm) and of a clear (below 80 less the
#: 5 cm clear margin). A minute apart, consecutive readings differ by at most 10 cm, well inside
#: QC's spike (30 cm) and rate-of-change (1 cm/s) limits, for any number of crossings.
ESCALATION = (82.0, 83.0)
CLEAR = (74.0, 73.0)
Planned = tuple[int, datetime, float, "int | None"]  # seq, device time, level, the crossing it completes


def crossing_levels(k: int) -> tuple[float, float]:
    """The two readings of crossing `k`: an escalation for even k, a clear for odd k."""
    return ESCALATION if k % 2 == 0 else CLEAR


def planned_series(crossings: int, end: datetime) -> list[Planned]:
    """The readings of `crossings` crossings, a minute apart in device time, the last one at `end`."""
    t0 = end - timedelta(minutes=2 * crossings - 1)
    series: list[Planned] = []
    for k in range(crossings):
        levels = crossing_levels(k)
        for i, level in enumerate(levels):
            seq = len(series)
            series.append((seq, t0 + timedelta(minutes=seq), level, k if i == len(levels) - 1 else None))
    return series


def check_series(cfg: TepiConfig, series: list[Planned]) -> None:
    """Refuse a series whose crossings the gateway's own processing (shipped QC and alerting of
    the station) would not each raise as a Siaga change on the completing reading: a miss must
    mean the running system lost an alert, not that the bench sent readings QC rejects."""
    device = next(d for d in cfg.devices if d.id == DEVICE)
    proc = LevelProcessor(cfg.gateway.id, cfg.station(device.station), DEVICE)
    for seq, ts, level, completes in series:
        proc.accept(Reading(DEVICE, seq, ts, level, 12.5))
        changes = [i for i in proc.process() if isinstance(i, SiagaChange)]
        if [c.seq for c in changes] != ([seq] if completes is not None else []):
            raise RuntimeError(f"the planned series is not one crossing per pair at seq {seq} ({level} cm): {changes!r}")


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


def _auth_headers(cfg: TepiConfig, work: Path) -> dict[str, str]:
    """A disaster-office key (created the way an operator would)."""
    out = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "admin", "-c", str(work / "tepi.yaml"), "demo-key", "--tenant", cfg.gateway.tenant, "--role", "disaster_office"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "TEPI_MODE": "demo"},  # the API runs in demo mode
    )
    key = out.stdout.strip().splitlines()[-1] if out.returncode == 0 and out.stdout.strip() else ""
    return {"Authorization": f"Bearer {key}"} if key else {}


def run(ctx: Context) -> Result:
    crossings = ctx.scale(240, 40)
    res = Result(NAME, f"{crossings} Siaga crossings at Katulampa, production settings: device publish -> SSE event, real processes")
    work = ctx.work / NAME
    work.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    api_port = free_port()
    with deployed_broker(work / "broker", [_config(work, 1, api_port)], persistence=True) as broker:
        cfg = deployed_credentials(_config(work, broker.port, api_port), broker, broker)
        raise_after = cfg.station("katulampa").alerting.raise_after
        series = planned_series(crossings, datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=1))
        check_series(cfg, series)
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
            pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=DEVICE)
            pub.username_pw_set(*broker.login(DEVICE))
            pub.connect("127.0.0.1", broker.port)
            pub.loop_start()
            topic = device_topic(cfg.gateway.tenant, DEVICE)
            completed_at: dict[tuple[datetime, float], float] = {}  # (device time, level) of a completing reading -> its publish time
            for seq, ts, level, completes in series:
                frame = wire.AwlrFrame("katulampa", seq, ts, level, 12.5)
                info = pub.publish(topic, wire.encode_json(frame), qos=1)
                sent_at = time.perf_counter()
                info.wait_for_publish(5)
                if completes is not None:
                    completed_at[(ts, level)] = sent_at
                time.sleep(0.25 if completes is not None else 0.05)  # one crossing at a time: latency, not throughput
            wait_until(lambda: len(listener.events) >= crossings, timeout=30)
            time.sleep(1.0)  # late or extra events still count against their crossing
            listener.stop()
            pub.loop_stop()
            lat: list[float] = []
            other_events = 0
            for arrived, ev in listener.events:
                key = (datetime.fromisoformat(ev["at"]), ev["alert"]["last_level_cm"])
                if key in completed_at and ev.get("kind") in ("opened", "updated", "escalated", "cleared"):
                    lat.append((arrived - completed_at.pop(key)) * 1000.0)
                else:
                    other_events += 1
            misses = len(completed_at)
            # A miss has no latency: it counts as slower than any measured one (infinite).
            every = lat + [float("inf")] * misses
            p50, p99 = percentile(every, 50), percentile(every, 99)
            res.figures.append(Figure("alert latency p50 (device -> SSE)", p50 if p50 != float("inf") else None, "ms", target="", note=f"{len(lat)} of {crossings} crossings"))
            res.figures.append(Figure("alert latency p99 (device -> SSE), misses count as slower", p99 if p99 != float("inf") else None, "ms",
                                      target=f"<= {TARGET_P99_MS:.0f}", target_of="value", note=f"{misses} misses", claim="alert_latency", missed=p99 == float("inf")))
            res.details = {
                "crossings": crossings, "raise_after": raise_after, "matched": len(lat), "misses": misses,
                "missed": [f"{ts.isoformat()} {level} cm" for ts, level in sorted(completed_at)], "events_not_matching_a_crossing": other_events,
                "max_ms": max(lat) if lat else None, "latencies_ms": [round(x, 1) for x in lat],
            }
        finally:
            stop_processes(procs)
    return res
