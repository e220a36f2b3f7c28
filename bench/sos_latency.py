"""sos_latency: from a boat's uplink coming back with an SOS and 100,000 routine summaries
queued in its outbox, to the SOS's event on the API's alert stream.

The chain, all on loopback: the boat gateway's outbox (`gateway.outbox.Outbox`) and uplink
(`gateway.uplink.Uplink`, with the gateway's shipped settings: in-flight window, summary linger,
its generated login) in this process → the central Mosquitto as `tepi mqtt setup` configures it
(`bench.core.deployed_broker`) → `tepi ingest` (SQLite state, no TSDB: sea summaries are then
counted and dropped) → `tepi api`, its SSE stream `GET /api/v1/alerts/stream` read with a
disaster_office key. Ingest and the API are processes of their own.

A trial: the uplink is down (`Uplink.stop`: the boat out of coverage); the outbox holds
100,000 routine `SeaSummary` items; the SOS is pressed (a `DistressCall` at
`PRIORITY_DISTRESS` committed to the outbox as `FishfinderKind.stored` makes it); the clock
starts and a new `Uplink` connects (the link is back); the clock stops when the SSE event
naming that vessel arrives. Each trial is a vessel of its own (so each SOS opens an incident
of its own). Between trials the uplink goes down again as soon as the event arrived, the
ingest process is left to go idle (its CPU time stops moving), and the outbox is topped up
to 100,000 routine items (what the uplink delivered meanwhile is replaced), so every trial
starts with the full backlog queued without queueing it anew. A trial without its event
within `TIMEOUT_S` is a miss and counts as slower than every measured one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from bench.alert_latency import SseListener, _auth_headers
from bench.core import REPO, Context, Figure, Result, cpu_seconds, deployed_broker, deployed_credentials, percentile, stop_processes, wait_until
from central.db import create_engine, prepare_database, writer
from contract.clock import utcnow
from core.config import DeviceConfig, TepiConfig, parse_config, with_local_services
from core.processes import free_port, wait_for_port
from gateway.outbox import Outbox
from gateway.uplink import Uplink
from kinds.fishfinder.edge import KIND
from kinds.fishfinder.items import DistressCall, SeaSummary, distress_id, sea_summary_id
from kinds.fishfinder.state import register_vessel

NAME = "sos_latency"
TENANT, GATEWAY = "badung", "gw-boat-sos"
BACKLOG = 100_000
TARGET_P99_MS = 1000.0
TIMEOUT_S = 10.0
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def vessel(k: int) -> str:
    return f"kapal-sos-{k:03d}"


def config(work: Path, broker_port: int, api_port: int, vessels: int) -> TepiConfig:
    devices = [DeviceConfig(id=f"ff-{k:03d}", kind="fishfinder", platform=vessel(k), transport="serial") for k in range(vessels)]
    base = parse_config({"tenants": [{"id": TENANT, "name": "Badung"}], "stations": [], "devices": [d.model_dump() for d in devices],
                         "gateway": {"id": GATEWAY, "tenant": TENANT}})
    return with_local_services(base, broker_port, work, api_port=api_port)


class RoutineBacklog:
    """Distinct sea summaries, a vessel's ten-minute windows one after another."""

    def __init__(self) -> None:
        self.n = 0

    def take(self, count: int) -> list:
        out = []
        for _ in range(count):
            start = T0 + timedelta(seconds=600 * self.n)
            self.n += 1
            item = SeaSummary(id=sea_summary_id(GATEWAY, vessel(0), start), vessel=vessel(0), device="ff-000",
                              window_start=start, window_end=start + timedelta(seconds=600), depth_count=600, depth_min_m=21.4,
                              depth_max_m=24.9, depth_mean_m=23.1, temp_count=600, temp_min_c=28.6, temp_max_c=28.9, temp_mean_c=28.7)
            out.append(KIND.stored(item, GATEWAY))
        return out


def wait_idle(pid: int, quiet_s: float = 1.0, timeout: float = 120.0) -> bool:
    """Until process `pid` used no CPU for `quiet_s` (ingest has worked off what it was sent)."""
    deadline = time.monotonic() + timeout
    last, since = cpu_seconds(pid), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        now = cpu_seconds(pid)
        if now - last > 0.02:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return True
    return False


def run(ctx: Context) -> Result:
    trials = ctx.scale(100, 10)
    res = Result(NAME, f"{trials} SOS presses with {BACKLOG:,} routine summaries queued: uplink reconnect -> SSE event, real Mosquitto, ingest, API")
    work = ctx.work / NAME
    work.mkdir(parents=True, exist_ok=True)
    api_port = free_port()
    procs: list[subprocess.Popen[bytes]] = []
    with deployed_broker(work / "broker", [config(work, 1, api_port, trials)], persistence=True) as broker:
        cfg = deployed_credentials(config(work, broker.port, api_port, trials), broker, broker)
        (work / "tepi.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
        engine = create_engine(cfg.ingest.database_url)
        prepare_database(engine, cfg)
        with Session(writer(engine)) as s, s.begin():
            for k in range(trials):
                register_vessel(s, vessel_id=vessel(k), tenant=TENANT, name=f"KM Uji {k}", home_port="Benoa", gateway_id=GATEWAY, now=utcnow())
        engine.dispose()
        gw = cfg.gateway
        outbox = Outbox(work / "outbox.db")
        backlog = RoutineBacklog()
        t_fill = time.perf_counter()
        outbox.put(backlog.take(BACKLOG))
        fill_s = time.perf_counter() - t_fill
        # Absolute: the processes run in `work`, where a relative PYTHONPATH (".") would import
        # whatever checkout the virtualenv's editable install points at instead of this one.
        env = {**os.environ, "TEPI_MODE": "demo", "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
        lat: list[float] = []
        misses: list[int] = []
        topped: list[int] = []
        try:
            for part in ("ingest", "api"):
                log = open(work / f"{part}.log", "wb")
                procs.append(subprocess.Popen([sys.executable, "-m", "tepi.cli", part, "-c", str(work / "tepi.yaml"), "--log-level", "WARNING"],
                                              stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work))
            wait_for_port(api_port, timeout=60)
            time.sleep(2.0)  # ingest's subscription
            listener = SseListener(f"http://127.0.0.1:{api_port}/api/v1/alerts/stream", _auth_headers(cfg, work))
            listener.start()
            if not listener.connected.wait(15):
                raise RuntimeError(f"SSE stream did not open: {listener.error!r}")
            ingest_pid = procs[0].pid
            for k in range(trials):
                missing = BACKLOG - outbox.depth()
                if missing > 0:
                    outbox.put(backlog.take(missing))
                topped.append(max(missing, 0))
                pressed = utcnow()
                call = DistressCall(id=distress_id(GATEWAY, vessel(k), 1, pressed, 0), vessel=vessel(k), device=f"ff-{k:03d}", ts=pressed,
                                    press=1, pressed_at=pressed, repeat=0, lat=-8.9, lon=115.2)
                outbox.put([KIND.stored(call, GATEWAY)])
                seen = len(listener.events)
                up = Uplink(outbox, gw.uplink_broker, gw.tenant, gw.id, CollectorRegistry(), inflight=gw.uplink_inflight,
                            mqtt_user=gw.mqtt_user("uplink"), summary_linger_s=gw.summary_linger_s, ack_timeout_s=gw.uplink_ack_timeout_s)
                up.on_kind_message = lambda _m: None  # ingest's SosStatus answers: no processor here to take them
                t0 = time.perf_counter()
                up.start()

                def arrived() -> float | None:
                    for at, ev in listener.events[seen:]:
                        if vessel(k) in json.dumps(ev):
                            return at
                    return None

                got = wait_until(lambda: arrived() is not None, TIMEOUT_S, poll=0.002)
                up.stop()
                if got:
                    lat.append((arrived() - t0) * 1000.0)  # type: ignore[operator]
                else:
                    misses.append(k)
                wait_idle(ingest_pid)
            listener.stop()
        finally:
            stop_processes(procs)
            outbox.close()
    every = lat + [float("inf")] * len(misses)
    p50, p99 = percentile(every, 50), percentile(every, 99)
    res.figures.append(Figure("SOS latency p50 (uplink reconnect -> SSE), 100k routine queued", p50 if p50 != float("inf") else None, "ms",
                              note=f"{len(lat)} of {trials} trials"))
    res.figures.append(Figure("SOS latency p99 (uplink reconnect -> SSE), misses count as slower", p99 if p99 != float("inf") else None, "ms",
                              target=f"<= {TARGET_P99_MS:.0f}", target_of="value", note=f"{len(misses)} misses; max {max(lat) if lat else float('nan'):.0f} ms",
                              missed=p99 == float("inf")))
    res.details = {
        "trials": trials, "backlog": BACKLOG, "misses": misses, "max_ms": max(lat) if lat else None,
        "latencies_ms": [round(x, 1) for x in lat], "routine_topped_up_per_trial": topped, "initial_fill_s": round(fill_s, 1),
        "uplink_inflight": gw.uplink_inflight, "summary_linger_s": gw.summary_linger_s,
    }
    return res


if __name__ == "__main__":  # python -m bench.sos_latency [--quick]
    from bench.core import WORK_DIR

    r = run(Context(quick="--quick" in sys.argv, work=WORK_DIR))
    print(json.dumps({"figures": [{k: v for k, v in f.__dict__.items() if k in ("name", "value", "note")} for f in r.figures],
                      "details": {k: v for k, v in r.details.items() if k != "latencies_ms"}}, indent=1, default=str))
