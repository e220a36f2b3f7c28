"""ingest: points/s into VictoriaMetrics through Tepi's ingest worker vs. a raw POST loop.

Tepi: a backlog of `UplinkBatch` messages (1,000 summaries each, the gateway's own encoding)
waits in Mosquitto for the worker's persistent session; `IngestWorker` (state database
SQLite, `InfluxPointSink` to VictoriaMetrics) takes it: MQTT -> decode and validate ->
idempotency keys and station state in SQL -> line protocol POST -> commit -> PUBACK.
Baseline: the same points as pre-encoded line protocol, POSTed with httpx in a loop, with the
batch size the worker's sink actually used, to the same VictoriaMetrics in the same run.

Two placements, each with its own VictoriaMetrics and broker: everything sharing the machine's
cores (a small all-in-one server: every CPU second the client spends is one the TSDB lacks,
and the raw loop spends almost none), and VictoriaMetrics on a core of its own with the client
on the other (the TSDB on its own host). Same rounds, same figure, in both.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from prometheus_client import CollectorRegistry

from core.runtime_tuning import tune_garbage_collector
from bench.core import Context, DeployedBroker, Figure, Result, cpu_seconds, deployed_broker, gateway_login, ingest_login
from bench.fleet import GATEWAY, TENANT, fleet_config
from bench.mqtt_raw import RawPublisher, build_packets
from bench.replay import summary_items
from gateway.outbox import PRIORITY_SUMMARY, OutboxEntry
from gateway.uplink import MAX_ITEMS_PER_MESSAGE, encode_message
from ingest.consumer import IngestWorker
from kinds.awlr.ingest.points import INFLUX_CHUNK, POSTS_IN_FLIGHT, InfluxPointSink, PointWrite, _point
from ingest.service import ApplyResult
from kinds.awlr.ingest.summaries import SummaryPoints
from core.config import BrokerConfig, IngestConfig, TsdbConfig
from contract.clock import utcnow
from contract.topics import uplink_subscription, uplink_topic
from kinds.awlr.items import outbox_body
from core.processes import VictoriaMetrics

try:  # the gateway compresses uplink batches since ccc8b85; older trees send plain JSON
    from contract.envelope import compress_payload as compress
except ImportError:  # pragma: no cover
    def compress(b: bytes) -> bytes:
        return b

NAME = "ingest"
RAW_GATEWAY = "gw-bench-raw"
WARMUP_GATEWAY = "gw-bench-warmup"
WARMUP_POINTS = 2000
#: Tepi and raw phases, taken in turns; the figure is the median of the per-round ratios.
ROUNDS = 5
#: No phase shorter: a pass under a second swung the raw rate between 112k and 294k points/s.
MIN_PHASE_S = 5.0
#: Raw passes prepared per round at most (each pass the round's points, earlier in time).
MAX_RAW_PASSES = 4
#: Counted rounds grow to at most this many times the warm-up's points, in steps of ROUND_STEP.
MAX_POINTS_FACTOR = 4
ROUND_STEP = 100_000
STATIONS = 100
WINDOW_S = 600
WRITE_PARAMS = {"org": "tepi", "bucket": "tepi", "precision": "s"}


class CountingSink:
    """Delegates to the real InfluxPointSink and records each write's size and the time the
    worker's thread spent handing it over (encoding, and queuing the requests)."""

    def __init__(self, inner: InfluxPointSink) -> None:
        self.inner = inner
        self.writes: list[tuple[int, float]] = []

    def write(self, points: Sequence[SummaryPoints]) -> None:
        self.submit(points).wait()

    def submit(self, points: Sequence[SummaryPoints]) -> PointWrite:
        t = time.perf_counter()
        write = self.inner.submit(points)
        n = sum(map(len, points))
        if n:
            self.writes.append((n, time.perf_counter() - t))
        return write


class TimedWorker(IngestWorker):
    """Notes when the first message arrived and when `target` summaries were committed, without
    the bench thread polling the worker's metrics (which would take the GIL from it)."""

    first_at: float | None = None
    done_at: float | None = None
    target = 0
    committed = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.all_stored = threading.Event()

    def _on_message(self, c: Any, u: Any, msg: Any) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        super()._on_message(c, u, msg)

    def _stored(self, result: ApplyResult) -> None:
        super()._stored(result)
        self.committed += result.stored_by_type["summary"]
        if self.committed >= self.target and self.done_at is None:
            self.done_at = time.perf_counter()
            self.all_stored.set()


def _settle(vm: VictoriaMetrics, quiet: float = 0.05, timeout: float = 10.0) -> float:
    """Wait until VictoriaMetrics is idle (below `quiet` of a core over 200 ms: its background
    merges of earlier writes done), so each timed phase starts from the same state; seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        before = cpu_seconds(vm.proc.pid)
        time.sleep(0.2)
        if cpu_seconds(vm.proc.pid) - before < quiet * 0.2:
            break
    return round(time.perf_counter() - t0, 2)


def _vm_count(vm: VictoriaMetrics, gateway: str) -> int:
    vm.flush()
    r = httpx.get(f"{vm.url}/api/v1/query", params={"query": f'sum(count_over_time(awlr_count{{gateway="{gateway}"}}[20000d]))'}, timeout=30)
    data = r.json()["data"]["result"]
    return int(float(data[0]["value"][1])) if data else 0


def _backlog(broker: DeployedBroker, items: list[Any]) -> tuple[int, float]:
    """Publish `items` as the gateway's uplink messages (QoS 1) for the worker's stored session;
    (messages, seconds to publish)."""
    entries = [OutboxEntry(k, s.id, PRIORITY_SUMMARY, outbox_body(s, GATEWAY)) for k, s in enumerate(items)]
    topic = uplink_topic(TENANT, GATEWAY)
    msgs = [
        (topic, compress(encode_message(TENANT, GATEWAY, entries[i : i + MAX_ITEMS_PER_MESSAGE], utcnow())))
        for i in range(0, len(entries), MAX_ITEMS_PER_MESSAGE)
    ]
    # The gateway's uplink connection, with its generated login.
    base = fleet_config(1, 1, 1, Path("unused"))
    user, password = gateway_login(broker, base.gateway, "uplink")
    packets, payload_bytes = build_packets([(user, t, m) for t, m in msgs], qos=1)
    pub = RawPublisher(broker.port, {user: (user, password)})
    st = pub.publish(packets, payload_bytes, qos=1, window=100)
    pub.close()
    return len(msgs), st.acked_done - st.started


def _tepi_round(icfg: IngestConfig, cfg: Any, vm: VictoriaMetrics, n_points: int, timeout: float) -> dict[str, Any]:
    """One worker takes the backlog waiting for it; its rate, CPU and what it posted."""
    influx = InfluxPointSink(icfg.tsdb)
    sink = CountingSink(influx)
    reg = CollectorRegistry()
    worker = TimedWorker(icfg, cfg, registry=reg, point_sinks=lambda _s: sink)
    worker.target = n_points
    t_start = time.perf_counter()
    tune_garbage_collector()  # as `tepi ingest` does
    cpu_start = (time.process_time(), cpu_seconds(vm.proc.pid))
    worker.start()
    done = worker.all_stored.wait(timeout)
    t_done = worker.done_at or time.perf_counter()
    cpu = (time.process_time() - cpu_start[0], cpu_seconds(vm.proc.pid) - cpu_start[1])
    worker.stop()
    influx.close()
    stored = reg.get_sample_value("tepi_ingest_items_stored_total", {"type": "summary"}) or 0.0
    errors = (reg.get_sample_value("tepi_ingest_tsdb_write_errors_total") or 0) + (reg.get_sample_value("tepi_ingest_store_errors_total") or 0)
    seconds = t_done - (worker.first_at or t_start)
    # The sink POSTs at most INFLUX_CHUNK points per request: that is the HTTP batch size.
    posts = [min(INFLUX_CHUNK, n - i) for n, _ in sink.writes for i in range(0, n, INFLUX_CHUNK)]
    return {
        "rate": stored / seconds, "seconds": seconds, "stored": stored, "finished_in_time": done, "errors": errors,
        "posts": posts, "writes": [n for n, _ in sink.writes], "seconds_handing_over": sum(s for _, s in sink.writes),
        "cpu": cpu,
    }


def raw_lines(items: list[Any]) -> list[tuple[bytes, int]]:
    """The points Tepi's sink writes for `items`, as line protocol (influxdb-client's `Point`),
    split into (line without timestamp, timestamp) so that later passes can shift them in time."""
    out = []
    for s in items:
        line = _point(TENANT, RAW_GATEWAY, s).to_line_protocol().encode()
        head, _, ts = line.rpartition(b" ")
        out.append((head, int(ts)))
    return out


def raw_bodies(lines: list[tuple[bytes, int]], batch: int, shift_s: int) -> list[bytes]:
    """HTTP bodies of `batch` lines, every timestamp `shift_s` seconds earlier (new points)."""
    shifted = [b"%s %d" % (head, ts - shift_s) for head, ts in lines]
    return [b"\n".join(shifted[i : i + batch]) for i in range(0, len(shifted), batch)]


def _raw_round(vm: VictoriaMetrics, passes: list[list[bytes]], points_per_pass: int, min_s: float) -> dict[str, Any]:
    """Pre-encoded bodies POSTed with as many requests in flight as the sink keeps
    (`POSTS_IN_FLIGHT`), pass after pass (each pass the same series, earlier windows) until at
    least `min_s` seconds have passed."""
    url = f"{vm.url}/api/v2/write"
    done = 0
    with httpx.Client(timeout=30) as client, ThreadPoolExecutor(max_workers=POSTS_IN_FLIGHT) as posts:
        def post(body: bytes) -> None:
            client.post(url, params=WRITE_PARAMS, content=body).raise_for_status()

        t = time.perf_counter()
        cpu_start = (time.process_time(), cpu_seconds(vm.proc.pid))
        for bodies in passes:
            for f in [posts.submit(post, b) for b in bodies]:
                f.result()
            done += 1
            if time.perf_counter() - t >= min_s:
                break
        seconds = time.perf_counter() - t
        cpu = (time.process_time() - cpu_start[0], cpu_seconds(vm.proc.pid) - cpu_start[1])
    points = done * points_per_pass
    return {"rate": points / seconds, "seconds": seconds, "points": points, "passes": done, "posts": done * len(passes[0]), "cpu": cpu}


@contextlib.contextmanager
def _on_cores(cores: set[int] | None) -> Iterator[None]:
    """Threads and processes the calling thread starts meanwhile run on `cores` (Linux: a
    thread's affinity is inherited by what it starts; VictoriaMetrics, a Go program, then also
    sizes its scheduler to them). None: wherever the kernel likes."""
    if cores is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


#: The two ways the bench places the processes: all of them on both cores, as on a small
#: all-in-one server; or VictoriaMetrics on a core of its own and the client (Tepi's ingest
#: and its broker, or the raw loop) on the other, as when the TSDB runs on its own host.
TOPOLOGIES = ("shared_cores", "tsdb_own_core")


def _placement(name: str) -> tuple[set[int] | None, set[int] | None]:
    """(VictoriaMetrics' cores, the client's cores) of a placement: the last and the first of
    the cores this process may use."""
    if name == "shared_cores":
        return None, None
    cores = sorted(os.sched_getaffinity(0))
    return {cores[-1]}, {cores[0]}


def _topology(ctx: Context, name: str, first_window: int, n_points: int, rounds: int, min_phase_s: float) -> dict[str, Any]:
    """Rounds of Tepi and of the raw loop, in turns, against a VictoriaMetrics of their own.
    Round r writes windows of its own, `first_window` windows back and on; the raw loop's
    further passes go further back in time (same series, new points)."""
    tsdb_cores, client_cores = _placement(name)
    work = ctx.work / NAME / name
    (work / "vm").mkdir(parents=True, exist_ok=True)
    with _on_cores(tsdb_cores):
        vm = VictoriaMetrics(workdir=work / "vm").start()
    tepi: list[dict[str, Any]] = []
    raw: list[dict[str, Any]] = []
    sizes: list[int] = []
    settled: list[float] = []
    published: list[tuple[int, float]] = []
    try:
        with _on_cores(client_cores), deployed_broker(work / "broker", [fleet_config(100, 1, 1, work / "unused-outbox.db")]) as broker:
            cfg = fleet_config(100, broker.port, broker.port, work / "unused-outbox.db")
            user, password = ingest_login(broker)
            icfg = IngestConfig(
                broker=BrokerConfig(port=broker.port, password=password),
                database_url=f"sqlite:///{work / 'state.db'}", tsdb=TsdbConfig(url=vm.url),
            )
            # The worker's persistent session and shared subscription exist before the backlog.
            pre = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=icfg.client_id, clean_session=False, protocol=mqtt.MQTTv311)
            icfg.broker.apply_to(pre, user)
            pre.connect("127.0.0.1", broker.port)
            pre.loop_start()
            pre.subscribe(uplink_subscription(icfg.share_group), qos=1)[1]
            time.sleep(0.3)
            pre.disconnect()
            pre.loop_stop()

            # VictoriaMetrics' first writes set up its indexes and metric names: a warm-up (its own
            # series) keeps that one-off cost out of whichever phase would come first.
            warm = b"\n".join(_point(TENANT, WARMUP_GATEWAY, s).to_line_protocol().encode() for s in summary_items(WARMUP_POINTS))
            httpx.post(f"{vm.url}/api/v2/write", params=WRITE_PARAMS, content=warm, timeout=30).raise_for_status()
            # Tepi and the raw loop take turns, each round with windows of its own, so that both
            # see the machine in the same moods; the figure is the median of each. Round 0 is a
            # warm-up of both, reported but not counted: the first full-size writes into a fresh
            # VictoriaMetrics (and a fresh worker's first batch) cost more than any later one.
            # Which side goes first alternates, so neither always writes into a new time range
            # first (both write the same windows, under their own gateway tag).
            windows_per_round = MAX_POINTS_FACTOR * n_points // STATIONS  # room for the largest round
            span_s = (rounds + 1) * windows_per_round * WINDOW_S  # a raw pass further back lands before every round
            for r in range(rounds + 1):
                if r == 1:
                    # Counted rounds long enough that Tepi's phase lasts min_phase_s at the warm-up's rate.
                    # At most what the broker queues for the worker's session: a larger backlog
                    # would be dropped there (the phase then reports shorter than min_phase_s).
                    queued_max = int(0.9 * broker.session_queue_limit()) * MAX_ITEMS_PER_MESSAGE
                    want = math.ceil(1.3 * min_phase_s * tepi[0]["rate"] / ROUND_STEP) * ROUND_STEP
                    n_points = min(MAX_POINTS_FACTOR * n_points, queued_max, max(n_points, want))
                sizes.append(n_points)
                items = summary_items(n_points, windows_back=first_window + (rounds - r) * windows_per_round)
                published.append(_backlog(broker, items))
                # The batch size the worker's sink used in the previous round (the same each round).
                posts = tepi[-1]["posts"] if tepi else []
                batch = round(sum(posts) / len(posts)) if posts else INFLUX_CHUNK
                lines = raw_lines(items)
                del items
                # Enough passes for the phase to last min_phase_s at the best raw rate seen so far.
                best = max((w["rate"] for w in raw), default=0.0)
                n_passes = min(MAX_RAW_PASSES, max(1, math.ceil(1.5 * min_phase_s * best / n_points) if best else 1))
                passes = [raw_bodies(lines, batch, k * span_s * (1 + r)) for k in range(n_passes)]
                del lines

                def tepi_phase() -> None:
                    settled.append(_settle(vm))
                    tepi.append(_tepi_round(icfg, cfg, vm, n_points, ctx.scale(300, 60)))

                def raw_phase() -> None:
                    settled.append(_settle(vm))
                    raw.append(_raw_round(vm, passes, n_points, min_phase_s))

                for phase in (tepi_phase, raw_phase) if r % 2 == 0 else (raw_phase, tepi_phase):
                    phase()
                del passes
            warm_tepi, warm_raw = tepi.pop(0), raw.pop(0)
        in_vm_tepi = _vm_count(vm, GATEWAY)
        in_vm_raw = _vm_count(vm, RAW_GATEWAY)
    finally:
        vm.close()
    ratios = [t["rate"] / w["rate"] for t, w in zip(tepi, raw)]
    return {
        "tepi_rate": statistics.median(t["rate"] for t in tepi),
        "raw_rate": statistics.median(t["rate"] for t in raw),
        "ratio_median": statistics.median(ratios),
        "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
        "raw_points_written": warm_raw["points"] + sum(w["points"] for w in raw),
        "points_per_round": sizes,
        "shortest_tepi_phase_s": round(min(t["seconds"] for t in tepi), 2),
        "shortest_raw_phase_s": round(min(w["seconds"] for w in raw), 2),
        "tepi_points_expected": sum(sizes),
        "raw_passes_per_round": [w["passes"] for w in raw],
        "posts_in_flight_both_sides": POSTS_IN_FLIGHT,
        "cores": {"victoria_metrics": sorted(tsdb_cores) if tsdb_cores else "any", "client": sorted(client_cores) if client_cores else "any"},
        "ratio_per_round": [round(t["rate"] / w["rate"], 3) for t, w in zip(tepi, raw)],
        "first_side_per_round": ["tepi" if r % 2 == 0 else "raw" for r in range(1, rounds + 1)],
        "warmup_round_not_counted": {"tepi_points_per_s": round(warm_tepi["rate"]), "raw_points_per_s": round(warm_raw["rate"])},
        "tepi_points_per_s": [round(t["rate"]) for t in tepi],
        "raw_points_per_s": [round(w["rate"]) for w in raw],
        "uplink_messages_per_round": published[0][0],
        "backlog_publish_s": [round(p[1], 2) for p in published],
        "stored": [t["stored"] for t in tepi],
        "finished_in_time": all(t["finished_in_time"] for t in tepi),
        "write_errors": sum(t["errors"] for t in tepi),
        "points_per_write_call": tepi[0]["writes"][:20],
        "points_per_post": round(statistics.mean(p for t in tepi for p in t["posts"])),
        "tepi_seconds": [round(t["seconds"], 3) for t in tepi],
        "tepi_seconds_encoding_and_handing_over": [round(t["seconds_handing_over"], 3) for t in tepi],
        "raw_seconds": [round(w["seconds"], 3) for w in raw],
        "raw_posts": [w["posts"] for w in raw],
        # Where the CPU went: the client's process, and VictoriaMetrics.
        "cpu_seconds": {
            "tepi_ingest_process": [round(t["cpu"][0], 3) for t in tepi],
            "victoria_metrics_during_tepi": [round(t["cpu"][1], 3) for t in tepi],
            "raw_client_process": [round(w["cpu"][0], 3) for w in raw],
            "victoria_metrics_during_raw": [round(w["cpu"][1], 3) for w in raw],
        },
        "points_in_vm": {"tepi": in_vm_tepi, "raw": in_vm_raw},
        "vm_settle_seconds_before_each_phase": settled,
    }


def run(ctx: Context) -> Result:
    n_points = ctx.scale(300_000, 20_000)
    rounds = ctx.scale(ROUNDS, 1)
    min_phase_s = ctx.scale(MIN_PHASE_S, 1.0)
    res = Result(NAME, f"{rounds} rounds, after a warm-up of {n_points} summaries, each sized for phases of at least {min_phase_s:.0f} s; uplink messages -> VictoriaMetrics, per placement")
    names = [n for n in TOPOLOGIES if n == "shared_cores" or len(os.sched_getaffinity(0)) >= 2]
    phases = {}
    for name in names:  # each placement has a VictoriaMetrics of its own
        phases[name] = _topology(ctx, name, 0, n_points, rounds, min_phase_s)
    labels = {
        "shared_cores": "ingest points/s into VictoriaMetrics, all on 2 shared cores",
        "tsdb_own_core": "ingest points/s into VictoriaMetrics on its own core",
    }
    for name, phase in phases.items():
        ratio = phase.pop("ratio_median")
        res.figures.append(Figure(labels[name], round(phase.pop("tepi_rate")), "points/s", round(phase.pop("raw_rate")),
                                  f"raw line-protocol POST loop, {POSTS_IN_FLIGHT} in flight", ratio=ratio, target=">= 0.8", claim="ingest",
                                  note=f"median of {rounds} per-round ratios, range {phase['ratio_range']}"))
    res.details = {"warmup_points": n_points, "rounds": rounds, "min_phase_s": min_phase_s, "state_database": "sqlite (bench/work/ingest/<placement>/state.db)", **phases}
    wrong = {name: p["points_in_vm"] for name, p in phases.items() if p["points_in_vm"] != {"tepi": p["tepi_points_expected"], "raw": p["raw_points_written"]}}
    if wrong:
        res.error = f"VictoriaMetrics holds {wrong}; expected every point of both sides written"
    return res
