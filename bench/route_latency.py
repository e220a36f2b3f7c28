"""route_latency: `GET /api/v1/routes` for a ~50 km trip on the 1 km grid, against a real
`tepi api` process, the first query after start and warm; a baseline on the same grid; and the
API's memory with routing on and off.

The deployment: one tenant whose `sea` section is south Bali's box (the shipped Badung region,
145 x 169 cells of global-land-mask), the shipped hazards file, and a calm forecast covering the
region for the day (so every query reads a forecast and lays it on the grid: the first query
after start pays for that too). The trip: Benoa to west of the Bukit peninsula (around it,
about 50 km by sea), a 6 kn boat, departing now.

* First query: the API is started `restarts` times (region prepared in its lifespan, before it
  listens); each time, once `/healthz` answers, one route is timed. p95 over the restarts.
* Warm: `warm` queries on one running API, one after another. p95.
* Baseline (side by side, same grid and passable cells, in this process): networkx 3's
  `dijkstra_path` on the same 8-neighbour graph (built once, as the API builds its moves once),
  a well-kept general graph library; installed from PyPI into `bench/.venv-route` at first use.
  Ratio = API warm p95 / networkx p95 (the API's figure includes HTTP, the straightening and the
  verdict).
* Memory: VmRSS of the API after the warm queries, and of the same API whose tenant has no
  `sea` section (routing off) after as many requests to `/api/v1/vessels`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy.orm import Session

from bench.core import BENCH_DIR, REPO, Context, Figure, Result, percentile, stop_processes
from central.db import create_engine, prepare_database, writer
from contract.clock import utcnow
from core.config import TepiConfig, parse_config, with_local_services
from core.processes import free_port, wait_for_port

NAME = "route_latency"
TENANT = "kab-badung"
VESSEL = "km-uji-rute"
BENOA = (-8.7394, 115.2083)
WEST_OF_BUKIT = (-8.85, 114.95)
REGION = {"south": -9.2, "north": -8.0, "west": 114.4, "east": 115.8}
TARGET_P95_MS = 200.0
GOAL_P95_MS = 50.0
NX_DIR = BENCH_DIR / ".venv-route"


def _forecast(path: Path) -> None:
    start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    ring = [[REGION["west"], REGION["south"]], [REGION["east"], REGION["south"]], [REGION["east"], REGION["north"]],
            [REGION["west"], REGION["north"]], [REGION["west"], REGION["south"]]]  # fmt: skip
    hours = [{"time": (start + timedelta(hours=h)).isoformat(), "wave_m": 0.6, "wind_kn": 9.0} for h in range(24)]
    doc = {"type": "FeatureCollection", "issued": start.isoformat(), "valid_from": start.isoformat(),
           "valid_until": (start + timedelta(hours=24)).isoformat(), "source": "bench",
           "features": [{"type": "Feature", "id": "selat-badung", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"name": "Selat Badung", "hours": hours}}]}  # fmt: skip
    import json

    path.write_text(json.dumps(doc))


def config(work: Path, api_port: int, routing: bool) -> TepiConfig:
    tenant: dict[str, Any] = {"id": TENANT, "name": "Kabupaten Badung"}
    if routing:
        tenant["sea"] = {"region": REGION, "forecast_file": str(work / "forecast.geojson"),
                         "hazards_file": str(REPO / "kinds" / "fishfinder" / "sample-hazards.geojson")}  # fmt: skip
    base = parse_config({"tenants": [tenant], "stations": [], "devices": [], "gateway": {"id": "gw-bench", "tenant": TENANT}})
    return with_local_services(base, 1, work, api_port=api_port)


def _key(path: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "tepi.cli", "admin", "-c", str(path), "demo-key", "--tenant", TENANT, "--role", "disaster_office"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "TEPI_MODE": "demo"},
    )  # fmt: skip
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f"demo-key failed: {out.stderr[-500:]}")
    return out.stdout.strip().splitlines()[-1]


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Api:
    """`tepi api` in a process of its own (demo mode: prepares the database), on `port`."""

    def __init__(self, work: Path, cfg_path: Path, port: int, env: dict[str, str]) -> None:
        log = open(work / f"api-{port}.log", "ab")
        self.port = port
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tepi.cli", "api", "-c", str(cfg_path), "--log-level", "WARNING"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work,
        )  # fmt: skip
        wait_for_port(port, timeout=120, proc=self.proc)
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        stop_processes([self.proc])


def _params() -> dict[str, str]:
    return {"from": f"{BENOA[0]},{BENOA[1]}", "to": f"{WEST_OF_BUKIT[0]},{WEST_OF_BUKIT[1]}", "vessel": VESSEL}


def _timed_route(client: httpx.Client, url: str, headers: dict[str, str]) -> tuple[float, dict[str, Any]]:
    t0 = time.perf_counter()
    r = client.get(f"{url}/api/v1/routes", params=_params(), headers=headers)
    ms = (time.perf_counter() - t0) * 1000.0
    if r.status_code != 200:
        raise RuntimeError(f"route answered {r.status_code}: {r.text[:300]}")
    return ms, r.json()


def _networkx_baseline(rounds: int) -> tuple[list[float], float, str]:
    """networkx's Dijkstra on the API's own grid and passable cells: per-query ms, length m, version."""
    if not (NX_DIR / "networkx").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--target", str(NX_DIR), "networkx>=3.2,<4"],
                       check=True, timeout=300)  # fmt: skip
    sys.path.insert(0, str(NX_DIR))
    import networkx as nx

    from kinds.fishfinder.api.sea_regions import cropped, load_hazards
    from kinds.fishfinder.sea_mask import Box
    from kinds.fishfinder.sea_route import SeaGrid

    hazards = load_hazards(REPO / "kinds" / "fishfinder" / "sample-hazards.geojson")
    grid = SeaGrid.prepare(cropped(Box(REGION["south"], REGION["north"], REGION["west"], REGION["east"])), 1, hazards)
    ends = grid.ends(BENOA, WEST_OF_BUKIT)
    flat = grid.passable(ends).ravel()
    ok = flat[grid.move_from] & flat[grid.move_to] & flat[grid.move_side_a] & flat[grid.move_side_b]
    g = nx.DiGraph()
    g.add_weighted_edges_from(zip(grid.move_from[ok].tolist(), grid.move_to[ok].tolist(), grid.move_m[ok].tolist()))
    times, length = [], 0.0
    for _ in range(rounds):
        t0 = time.perf_counter()
        length = nx.dijkstra_path_length(g, ends[0], ends[1])
        nx.dijkstra_path(g, ends[0], ends[1])
        times.append((time.perf_counter() - t0) * 1000.0 / 2)
    return times, float(length), nx.__version__


def run(ctx: Context) -> Result:
    restarts, warm = ctx.scale(10, 3), ctx.scale(200, 20)
    res = Result(NAME, f"GET /api/v1/routes, Benoa to west of Bukit (~50 km by sea) on the 1 km grid: first query after each of {restarts} starts, {warm} warm; networkx baseline; RSS routing on/off")
    work = ctx.work / NAME
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "TEPI_MODE": "demo", "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    port = free_port()
    _forecast(work / "forecast.geojson")
    on_path, off_path = work / "tepi.yaml", work / "tepi-no-sea.yaml"
    cfg = config(work, port, routing=True)
    on_path.write_text(yaml.safe_dump(cfg.model_dump(mode="json")))
    off_path.write_text(yaml.safe_dump(config(work, port, routing=False).model_dump(mode="json")))
    engine = create_engine(cfg.ingest.database_url)
    prepare_database(engine, cfg)
    with Session(writer(engine)) as s, s.begin():
        from kinds.fishfinder.state import register_vessel

        register_vessel(s, vessel_id=VESSEL, tenant=TENANT, name="KM Uji Rute", home_port="Benoa", gateway_id="gw-uji-rute",
                        now=utcnow(), speed_kn=6.0, fuel_l_per_h=4.0, wave_limit_m=2.0)  # fmt: skip
    engine.dispose()
    headers = {"Authorization": f"Bearer {_key(on_path)}"}
    first, start_s, warm_ms, rss_on, rss_off = [], [], [], 0, 0
    answer: dict[str, Any] = {}
    with httpx.Client(timeout=30.0) as client:
        for k in range(restarts):
            api = Api(work, on_path, port, env)
            try:
                start_s.append(time.perf_counter() - api.started)
                ms, answer = _timed_route(client, api.url, headers)
                first.append(ms)
                if k == restarts - 1:
                    for _ in range(warm):
                        warm_ms.append(_timed_route(client, api.url, headers)[0])
                    rss_on = _rss_kb(api.proc.pid)
            finally:
                api.stop()
        api = Api(work, off_path, port, env)
        try:
            for _ in range(warm + 1):
                client.get(f"{api.url}/api/v1/vessels", headers=headers).raise_for_status()
            rss_off = _rss_kb(api.proc.pid)
        finally:
            api.stop()
    nx_ms, nx_len, nx_version = _networkx_baseline(ctx.scale(50, 5))
    p = answer.get("properties", {})
    nx_p95 = percentile(nx_ms, 95)
    res.figures += [
        Figure("route p95, first query after start", percentile(first, 95), "ms", target=f"<= {TARGET_P95_MS:g}", target_of="value",
               note=f"goal <= {GOAL_P95_MS:g} ms; {restarts} starts", claim="route_latency"),
        Figure("route p95, warm", percentile(warm_ms, 95), "ms", baseline=nx_p95, baseline_name=f"networkx {nx_version} dijkstra_path p95",
               target=f"<= {TARGET_P95_MS:g}", target_of="value", note=f"goal <= {GOAL_P95_MS:g} ms; {warm} queries", claim="route_latency"),
        Figure("API RSS, routing on (after warm queries)", rss_on / 1024, "MB", baseline=rss_off / 1024,
               baseline_name="same API, tenant without sea section"),
    ]
    res.details = {
        "first_ms": [round(x, 1) for x in first], "warm_p50_ms": percentile(warm_ms, 50), "warm_max_ms": max(warm_ms),
        "start_to_listening_s": [round(x, 2) for x in start_s], "networkx_ms_p50": percentile(nx_ms, 50),
        "networkx_length_km": round(nx_len / 1000, 2), "route_km": p.get("distance_km"), "route_points": len(answer.get("geometry", {}).get("coordinates", [])),
        "verdict": p.get("verdict"), "rss_on_kb": rss_on, "rss_off_kb": rss_off, "date": datetime.now(timezone.utc).isoformat(),
    }  # fmt: skip
    return res
