"""footprint: peak RSS (VmHWM) of `tepi gateway` with 500 simulated devices, in its own process.

The gateway runs exactly as deployed (`tepi gateway -c <generated yaml>`); the devices publish
at a paced rate the gateway sustains, so the figure is the gateway's own memory and not a
backlog of frames. Per-device history grows until MAX_HISTORY readings (34 h at 1/min), so the
run also measures the retained bytes per reading and projects the peak at full history.
"""

from __future__ import annotations

import compileall
import gc
import os
import signal
import subprocess
import sys
import sysconfig
import time
import tracemalloc
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import paho.mqtt.client as mqtt

from bench.core import REPO, Context, Figure, Result, mosquitto, prom_value, rss_anon_kb, rss_by_mapping_kb, vm_hwm_kb, wait_until
from bench.fleet import TENANT, Stream, aligned_start, fleet_config, station_id, write_yaml
from bench.procs import PublisherPool
from gateway.devices.awlr.processor import MAX_HISTORY, LevelProcessor
from gateway.model import Reading
from tepi.messages import device_subscription
from tepi.processes import free_port

NAME = "footprint"
TARGET_MB = 60


def history_bytes_per_reading(n: int = MAX_HISTORY) -> float:
    """Bytes one LevelProcessor retains per reading of history (tracemalloc, this interpreter)."""
    cfg = fleet_config(1, 1, 1, Path("/nonexistent/outbox.db"))
    proc = LevelProcessor("gw", cfg.stations[0], "awlr-0000")
    t0 = aligned_start(n * 60.0, 600)

    def reading(k: int) -> Reading:  # made while tracing, so whatever the processor keeps of it counts
        return Reading("awlr-0000", station_id(0), k, datetime.fromtimestamp(t0 + 60 * k, timezone.utc), 120.0 + (k % 7) * 0.1, 12.6)

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for k in range(n // 2):
        proc.accept(reading(k))
    proc.process()
    mid = tracemalloc.get_traced_memory()[0]
    for k in range(n // 2, n):
        proc.accept(reading(k))
    proc.process()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    _ = before
    return (after - mid) / (n - n // 2)


#: Gateway runs per benchmark: the peak moves by up to a megabyte from run to run of the same
#: code (where the allocators happen to place long-lived objects among short-lived ones).
RUNS = 3


@dataclass
class _Run:
    hwm_kb: int
    idle_hwm_kb: int
    idle_rss_kb: int
    idle_anon_kb: int
    peak_anon_kb: int
    final_rss_kb: int
    readings: float
    offered_per_s: float
    maps_idle: dict[str, int]
    maps_final: dict[str, int]
    samples: list[tuple[float, int, int, float]]
    cpu_s: float  # the gateway process's CPU time (user + system) from start to the last reading


def compile_bytecode_as_installed() -> None:
    """-OO bytecode for everything the gateway imports, as installing on a gateway box leaves it
    (`python -OO -m compileall`, README.md): `tepi gateway` runs at -OO, and without this bytecode
    every start compiles each module in memory, a peak of its own (measured: 59.0 MB high-water mark
    at rest with no bytecode, 53.3 MB with it)."""
    for tree in (sysconfig.get_path("purelib"), REPO / "tepi", REPO / "gateway"):
        compileall.compile_dir(tree, quiet=2, optimize=2, workers=0)


def run(ctx: Context) -> Result:
    compile_bytecode_as_installed()
    n_dev = 500
    per_dev = ctx.scale(200, 20)
    rate = 2000.0
    runs = [_gateway_run(ctx.work / NAME / f"run-{k}", n_dev, per_dev, rate, ctx.scale(200, 60)) for k in range(ctx.scale(RUNS, 1))]
    res = Result(
        NAME, f"`tepi gateway` process, {n_dev} devices, {n_dev * per_dev} readings at {rate:.0f}/s, median of {len(runs)} runs"
    )
    peaks = sorted(r.hwm_kb for r in runs)
    hwm = peaks[len(peaks) // 2]
    typical = next(r for r in runs if r.hwm_kb == hwm)
    per_reading = history_bytes_per_reading()
    hist_now = n_dev * min(per_dev, MAX_HISTORY) * per_reading
    projected_kb = hwm + (n_dev * MAX_HISTORY * per_reading - hist_now) / 1024
    res.figures.append(
        Figure(f"gateway peak RSS, {n_dev} devices", round(hwm / 1024, 1), "MB", baseline=64.0,
               baseline_name="ThingsBoard 63-73 MB at 500-2000 msg/s (peer notes)", target=f"<= {TARGET_MB}", target_of="value")
    )
    mb = lambda kb: round(kb / 1024, 1)  # noqa: E731
    res.details = {
        "devices": n_dev,
        "readings": n_dev * per_dev,
        "readings_accepted": [r.readings for r in runs],
        "readings_per_device": per_dev,
        "offered_per_s": [round(r.offered_per_s) for r in runs],
        "gateway_cpu_s_per_run": [round(r.cpu_s, 2) for r in runs],
        "peak_rss_mb_per_run": [mb(r.hwm_kb) for r in runs],
        "peak_rss_mb": mb(hwm),
        "peak_rss_mb_max": mb(peaks[-1]),
        "idle_rss_mb": mb(typical.idle_rss_kb),
        "idle_hwm_mb": mb(typical.idle_hwm_kb),
        # The process's own memory, without the pages of mapped libraries (sampled, not a high-water mark).
        "idle_anon_mb": mb(typical.idle_anon_kb),
        "peak_anon_mb_sampled": mb(typical.peak_anon_kb),
        "final_rss_mb": mb(typical.final_rss_kb),
        "rss_by_mapping_kb_idle_final": {k: (typical.maps_idle[k], typical.maps_final[k]) for k in typical.maps_idle},
        "rss_by_mapping_kb_idle_final_per_run": [{k: (r.maps_idle[k], r.maps_final[k]) for k in r.maps_idle} for r in runs],
        "history_bytes_per_reading": round(per_reading, 1),
        "max_history_readings_per_device": MAX_HISTORY,
        "projected_peak_mb_at_full_history": round(projected_kb / 1024, 1),
        "samples_t_hwm_rss_readings": typical.samples[:: max(1, len(typical.samples) // 40)],
        "pid_sampled": "python process of `tepi gateway` (console script), /proc/<pid>/status VmHWM",
    }
    return res


def _gateway_run(work: Path, n_dev: int, per_dev: int, rate: float, timeout_s: float) -> _Run:
    """One gateway process from start to the last reading; its memory at idle and under load."""
    samples: list[tuple[float, int, int, float]] = []
    with mosquitto(work / "local") as local, mosquitto(work / "uplink") as upstream:
        cfg = fleet_config(n_dev, local.port, upstream.port, work / "outbox.db")
        yaml_path = write_yaml(cfg, work / "tepi-500.yaml")
        # The gateway's persistent device session exists before the load, so nothing is missed.
        pre = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cfg.gateway.mqtt_user("devices"), clean_session=False)
        pre.connect("127.0.0.1", local.port)
        pre.loop_start()
        pre.subscribe(device_subscription(TENANT), qos=1)
        time.sleep(0.3)
        pre.disconnect()
        pre.loop_stop()
        metrics_port = free_port()
        tepi = Path(sys.executable).with_name("tepi")
        proc = subprocess.Popen(
            [str(tepi), "gateway", "-c", str(yaml_path), "--metrics-port", str(metrics_port), "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL, stderr=open(work / "gateway.log", "wb"), cwd=work,
        )
        try:
            def metrics() -> str:
                with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=2) as r:
                    return r.read().decode()

            def up() -> bool:
                try:
                    metrics()
                    return True
                except OSError:
                    return proc.poll() is not None

            wait_until(up, 30, poll=0.1)
            if proc.poll() is not None:
                raise RuntimeError(f"tepi gateway exited with {proc.returncode}: {(work / 'gateway.log').read_text()[-500:]}")
            time.sleep(1.0)
            idle_hwm, idle_rss = vm_hwm_kb(proc.pid)
            idle_anon = peak_anon = rss_anon_kb(proc.pid)
            idle_maps = rss_by_mapping_kb(proc.pid)
            t0 = aligned_start(per_dev * 60.0, 600)
            pool = PublisherPool(Stream(0, n_dev, per_dev, t0, 60.0), local.port, qos=1, procs=1, rate=rate, name="fp")
            pool.wait_ready()
            start = time.time()
            pool.start()
            total = n_dev * per_dev
            deadline = time.monotonic() + timeout_s
            readings = 0.0
            while time.monotonic() < deadline:
                hwm, rss = vm_hwm_kb(proc.pid)
                peak_anon = max(peak_anon, rss_anon_kb(proc.pid))
                readings = prom_value(metrics(), "tepi_gateway_readings_total")
                samples.append((round(time.time() - start, 2), hwm, rss, readings))
                if readings >= total:
                    break
                time.sleep(0.5)
            offered = pool.result()
            time.sleep(1.0)
            hwm, rss = vm_hwm_kb(proc.pid)
            final_maps = rss_by_mapping_kb(proc.pid)
            cpu_s = _cpu_seconds(proc.pid)
            samples.append((round(time.time() - start, 2), hwm, rss, readings))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return _Run(
        hwm, idle_hwm, idle_rss, idle_anon, peak_anon, rss, readings, offered.rate, idle_maps, final_maps, samples, cpu_s,
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
