"""console_perf: the operator console in Debian's Chromium, timed by the browser itself.

Issue 22's targets, measured with the Performance API of the page (navigation and resource
timings, and the marks the console sets: `page-ready:<id>`, `map-drawn:rivers`, `sse-event:<seq>`,
`alert-shown:<seq>`), never asserted in tests:

- first load <= 1 MB transferred (cold cache: a new browser context each time; the sum of the
  navigation's and every resource's `transferSize`, i.e. compressed bytes with headers) and
  interactive within 1 s (`page-ready:<id>` from navigation start), alerts and rivers pages;
- a map of 500 stations drawn within 1 s (`map-drawn:rivers`, from navigation start, and from the
  end of the station list's fetch: the drawing alone);
- an alert shown within 1 s of its SSE event (`alert-shown:<seq>` - `sse-event:<seq>`), and end
  to end from the commit of the alert in the state database to the row on screen.

Production settings: `tepi api` as deployed (production mode, own pepper and public address,
gzip, CSP, the shipped stream poll), on the state database `tepi admin db upgrade` makes, on
loopback; people signed in with passwords. The tenant is a province-sized one: 500 gauges (a
grid over Central Java), 60 of them in Siaga. The baseline is the page's own data fetched by
httpx with the same cookie: what any client would have to move and wait for, so the ratio is
what the console adds on top.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml

from api.testing import TEST_PEPPER
from bench.console_browser import launch, settle, sign_in, wait_for_mark, wait_ready, wait_until
from bench.core import Context, Figure, Result, stop_processes
from contract.clock import utcnow
from core.config import TepiConfig, load_config, parse_config, with_local_services
from core.processes import free_port, wait_for_port

NAME = "console_perf"
TENANT, GATEWAY = "prov-jateng", "gw-jateng"
STATIONS = 500
IN_SIAGA = 60
PERSON = ("Petugas Pusdalops Jateng", "Uji-Lima-Ratus-Pos-500")
TARGET_BYTES, TARGET_MS = 1_000_000, 1000.0

_TIMINGS_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  return {
    nav: {transferSize: nav.transferSize, domInteractive: nav.domInteractive},
    resources: performance.getEntriesByType('resource').map(r => ({name: r.name, type: r.initiatorType,
      transferSize: r.transferSize, start: r.startTime, end: r.responseEnd})),
    marks: Object.fromEntries(performance.getEntriesByType('mark').map(m => [m.name, m.startTime])),
    timeOrigin: performance.timeOrigin,
  };
}"""


def province_config(work: Path, api_port: int) -> TepiConfig:
    """The shipped deployment plus a tenant of 500 gauges on a grid over Central Java."""
    base = load_config().model_dump(mode="json")
    base["tenants"].append({"id": TENANT, "name": "BPBD Provinsi Jawa Tengah"})
    for i in range(STATIONS):
        row, col = divmod(i, 25)
        base["stations"].append({
            "id": f"pos-{i:03d}", "name": f"Pos Duga Air {i:03d}", "river": f"Kali {row:02d}", "tenant": TENANT,
            "lat": round(-7.9 + row * 0.07 + (col % 3) * 0.01, 4), "lon": round(108.9 + col * 0.085, 4),
            "thresholds": {"siaga3": 200, "siaga2": 250, "siaga1": 300, "source": "bench fixture, not published"},
            "sensor_span_cm": [0, 600],
        })
    return with_local_services(parse_config(base), 1883, work, api_port=api_port)


def _seed(cfg: TepiConfig) -> None:
    """Six ten-minute windows per gauge, 60 of them rising into Siaga 3; a person who signs in."""
    from sqlalchemy.orm import Session

    from central import accounts
    from central.db import create_engine, prepare_database, writer
    from ingest.service import apply_batch
    from ingest.testing import batch, siaga_change, summary
    from kinds.awlr.ingest.points import SqlPointSink

    engine = create_engine(cfg.ingest.database_url)
    prepare_database(engine, cfg)
    t0 = utcnow().replace(second=0, microsecond=0) - timedelta(hours=1)
    with Session(writer(engine)) as s, s.begin():
        items: list[Any] = []
        for i in range(STATIONS):
            level = 150.0 + (i % 40)
            items += [summary(f"pos-{i:03d}", t0 + timedelta(minutes=10 * w), level + w, gateway=GATEWAY) for w in range(6)]
            if i < IN_SIAGA:
                items.append(siaga_change(f"pos-{i:03d}", t0 + timedelta(minutes=55), 3, 205.0, siaga_from=4, seq=1, gateway=GATEWAY))
        apply_batch(s, batch(items, tenant=TENANT, gateway=GATEWAY), SqlPointSink(s))
        user = accounts.create_user(s, TENANT, PERSON[0], "disaster_office")
        accounts.set_password(s, user, PERSON[1], utcnow())
    engine.dispose()


def _raise_alert(database_url: str, station: str) -> tuple[float, set[int]]:
    """Commit a new Siaga alert at `station` as ingest would; (commit time in epoch ms, its event seqs)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from central.db import create_engine, writer
    from central.models import AlertEvent
    from ingest.service import apply_batch
    from ingest.testing import batch, siaga_change
    from kinds.awlr.ingest.points import SqlPointSink

    engine = create_engine(database_url)
    try:
        with Session(writer(engine)) as s:
            with s.begin():
                before = s.scalar(sa.select(sa.func.max(AlertEvent.seq))) or 0
                b = batch([siaga_change(station, utcnow().replace(microsecond=0), 3, 206.0, siaga_from=4, seq=2, gateway=GATEWAY)], tenant=TENANT, gateway=GATEWAY)
                apply_batch(s, b, SqlPointSink(s))
            committed = time.time() * 1000.0
            seqs = set(s.scalars(sa.select(AlertEvent.seq).where(AlertEvent.seq > before)))
        return committed, seqs
    finally:
        engine.dispose()


def _first_load(browser: Any, state: dict[str, Any], base: str, route: str, mark: str) -> dict[str, Any]:
    """One cold load of `#/<route>` in a new context (empty cache), until `mark`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=state)  # type: ignore[arg-type]
    try:
        page = context.new_page()
        page.goto(f"{base}/#/{route}")
        wait_for_mark(page, mark, 30_000)
        settle(page)
        t = page.evaluate(_TIMINGS_JS)
        data = [r for r in t["resources"] if r["type"] in ("fetch", "xmlhttprequest") and "/alerts/stream" not in r["name"]]
        stations = [r["end"] for r in data if r["name"].split("?")[0].endswith("/api/v1/stations")]
        return {
            "bytes": t["nav"]["transferSize"] + sum(r["transferSize"] for r in t["resources"]),
            "ready_ms": t["marks"].get(f"page-ready:{route}"),
            "mark_ms": t["marks"][mark],
            "dom_interactive_ms": t["nav"]["domInteractive"],
            "stations_fetched_ms": max(stations) if stations else None,
            "data_urls": [r["name"] for r in data],
            "by_type": {k: sum(r["transferSize"] for r in t["resources"] if r["type"] == k) for k in {r["type"] for r in t["resources"]}},
            # Where the time went: each resource's path, start and end (ms from navigation start), bytes.
            "timeline": [(r["name"].removeprefix(base), round(r["start"]), round(r["end"]), r["transferSize"]) for r in t["resources"]],
        }
    finally:
        context.close()


def _data_floor(urls: list[str], cookies: dict[str, str]) -> tuple[float, float]:
    """(compressed bytes, ms) to fetch a page's JSON alone with httpx: the floor of any client."""
    started = time.perf_counter()
    size = 0
    with httpx.Client(cookies=cookies, headers={"Accept-Encoding": "gzip"}, timeout=30) as http:
        for url in urls:
            r = http.get(url)
            r.raise_for_status()
            size += r.num_bytes_downloaded
    return float(size), (time.perf_counter() - started) * 1000.0


def _alert_latencies(browser: Any, state: dict[str, Any], base: str, database_url: str, n: int) -> tuple[list[float], list[float]]:
    """(SSE event -> row shown, commit -> row shown) in ms for `n` alerts raised one at a time."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=state)  # type: ignore[arg-type]
    shown: list[float] = []
    end_to_end: list[float] = []
    try:
        page = context.new_page()
        page.goto(f"{base}/#/alerts")
        wait_ready(page, "alerts")
        page.wait_for_selector("[data-testid=live-status][data-state=live]", state="attached")
        for k in range(n):
            committed, seqs = _raise_alert(database_url, f"pos-{IN_SIAGA + k:03d}")
            wait_until(page, "seqs => seqs.some(s => performance.getEntriesByName('alert-shown:' + s).length)", sorted(seqs), 30_000)
            t = page.evaluate(_TIMINGS_JS)
            seq = next(s for s in sorted(seqs) if f"alert-shown:{s}" in t["marks"])
            shown.append(t["marks"][f"alert-shown:{seq}"] - t["marks"][f"sse-event:{seq}"])
            end_to_end.append(t["timeOrigin"] + t["marks"][f"alert-shown:{seq}"] - committed)
            time.sleep(0.3)  # one at a time: latency, not throughput
    finally:
        context.close()
    return shown, end_to_end


def _figures(name: str, values: list[float], unit: str, target: float, claim: str, baseline: float | None = None, baseline_name: str = "") -> list[Figure]:
    """Median and worst of the repetitions; the target applies to the worst."""
    med, worst = statistics.median(values), max(values)
    return [
        Figure(f"{name}, median of {len(values)}", med, unit, baseline=baseline, baseline_name=baseline_name),
        Figure(f"{name}, worst of {len(values)}", worst, unit, target=f"<= {target:.0f}", target_of="value", claim=claim),
    ]


def run(ctx: Context) -> Result:
    from playwright.sync_api import sync_playwright

    reps = ctx.scale(7, 2)
    alerts_n = ctx.scale(20, 5)
    res = Result(NAME, f"console in Chromium, production API on loopback, {STATIONS}-station tenant: cold first load x{reps}, SSE->row x{alerts_n}")
    work = ctx.work / NAME
    work.mkdir(parents=True, exist_ok=True)
    api_port = free_port()
    cfg = province_config(work, api_port)
    (work / "tepi.yaml").write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    _seed(cfg)
    base = f"http://127.0.0.1:{api_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPI_")} | {"TEPI_AUTH_PEPPER": TEST_PEPPER, "TEPI_PUBLIC_BASE_URL": base}
    log = open(work / "api.log", "wb")  # noqa: SIM115 - written by the API until it stops
    api = subprocess.Popen([sys.executable, "-m", "tepi.cli", "api", "-c", str(work / "tepi.yaml"), "--port", str(api_port), "--log-level", "WARNING"],
                           stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    try:
        wait_for_port(api_port, timeout=60, proc=api)
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page()
            sign_in(page, base, TENANT, *PERSON)
            state = page.context.storage_state()
            page.context.close()
            cookies = {c["name"]: c["value"] for c in state["cookies"]}
            loads = {route: [_first_load(browser, state, base, route, mark) for _ in range(reps)]
                     for route, mark in (("alerts", "page-ready:alerts"), ("rivers", "map-drawn:rivers"))}
            shown, end_to_end = _alert_latencies(browser, state, base, cfg.ingest.database_url, alerts_n)
            browser.close()
        for route, runs in loads.items():
            floor_bytes, floor_ms = _data_floor(runs[0]["data_urls"], cookies)
            res.figures += _figures(f"{route}: first load transferred", [r["bytes"] for r in runs], "B", TARGET_BYTES, "console_first_load", floor_bytes, "its JSON alone (httpx, gzip)")
            res.figures += _figures(f"{route}: interactive (page-ready)", [r["ready_ms"] for r in runs], "ms", TARGET_MS, "console_interactive", floor_ms, "its JSON alone (httpx)")
            res.details[route] = {"runs": runs, "data_floor": {"bytes": floor_bytes, "ms": floor_ms}}
        rivers = loads["rivers"]
        res.figures += _figures(f"rivers: {STATIONS}-station map drawn from navigation start", [r["mark_ms"] for r in rivers], "ms", TARGET_MS, "console_map_500")
        drawing = [r["mark_ms"] - r["stations_fetched_ms"] for r in rivers if r["stations_fetched_ms"] is not None]
        if drawing:
            res.figures.append(Figure(f"rivers: drawing {STATIONS} markers after the station list arrived, median", statistics.median(drawing), "ms"))
        res.figures += _figures("alert shown after its SSE event", shown, "ms", TARGET_MS, "console_alert_shown")
        res.figures += _figures("alert shown after its commit (end to end)", end_to_end, "ms", TARGET_MS, "")
        res.details["alert_ms"] = {"sse_to_shown": [round(x, 1) for x in shown], "commit_to_shown": [round(x, 1) for x in end_to_end]}
    finally:
        stop_processes([api])
    return res
