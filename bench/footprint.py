"""footprint: peak RSS (VmHWM) and RSS at rest of `tepi gateway` with 500 devices, in its own process.

Two scenarios, each a new gateway process on brokers run from the configuration
`setup_broker_security` generates (passwords, ACL, client id bound to username, queue limits,
persistence), every device publishing with its own credentials:

* `full_history`: 500 devices at one reading a second of device time, for longer than the
  longest QC or alarm window (flat line 9,000 s), so every per-station window is full. Device
  time runs faster than wall time (the readings' timestamps are one second apart, offered at
  a rate the gateway sustains), as a fleet's would after the gateway caught up on it.
* `overload`: 20,000 readings/s offered for 10 s (QoS 1), what the gateway's memory does
  while it is flooded; what the broker dropped is reported (the gateway's own count of it).
"""

from __future__ import annotations

import compileall
import multiprocessing as mp
import selectors
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import time
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from statistics import median
from typing import Any

import paho.mqtt.client as mqtt

from bench.core import (
    REPO, Context, Figure, Result, cpu_seconds, deployed_broker, deployed_credentials, ingest_login, prom_value, rss_anon_kb, vm_hwm_kb,
    wait_until,
)
from bench.fleet import TENANT, aligned_start, device_id, fleet_config, level, station_id, write_yaml
from kinds.awlr import wire
from bench.procs import Collector
from contract.topics import device_subscription, device_topic, uplink_topic
from core.processes import free_port

NAME = "footprint"
TARGET_MB = 60
N_DEVICES = 500
#: Readings per device in `full_history`: one a second for longer than the flat-line FAIL
#: window (9,000 s), the longest look-back of QC and alarms (rate of rise: 1,800 s).
FULL_HISTORY_READINGS = 9_300
#: Offered rate of `full_history`, readings/s: about what the gateway sustains on this class of
#: machine (a backlog would queue in the broker, not in the gateway), so a run takes ~15 minutes.
FULL_HISTORY_RATE = 5_000.0
OVERLOAD_RATE = 20_000.0
OVERLOAD_S = 10.0
#: Runs per scenario: full history is one long run (its state is bounded by design, and the
#: bench's other figures need the time); the short overload runs three times.
RUNS = {"full_history": 1, "overload": 3}
_PACE_EVERY = 25  # readings sent back to back between pacing checks
_SPAWN = mp.get_context("spawn")


@dataclass
class _Run:
    peak_kb: int  # VmHWM
    idle_rss_kb: int  # configured and connected, before any reading
    rest_rss_kb: int  # after the load, once the gateway has processed what it received
    idle_anon_kb: int
    rest_anon_kb: int
    offered: int
    offered_per_s: float
    processed: float
    dropped_by_broker: int
    cpu_s: float


def compile_bytecode_as_installed() -> None:
    """Bytecode for everything the gateway imports, as installing on a gateway box leaves it
    (pip compiles what it installs, `make venv` the editable tepi/ and gateway/): without it
    every start compiles each module in memory, a peak of its own."""
    for tree in (sysconfig.get_path("purelib"), REPO / "tepi", REPO / "gateway"):
        compileall.compile_dir(tree, quiet=2, workers=0)


def run(ctx: Context) -> Result:
    compile_bytecode_as_installed()
    full_n = ctx.scale(FULL_HISTORY_READINGS, 400)
    runs = {name: ctx.scale(n, 1) for name, n in RUNS.items()}
    scenarios = {
        "full_history": [
            _gateway_run(ctx.work / NAME / f"full-{k}", full_n, FULL_HISTORY_RATE, settle_s=3.0) for k in range(runs["full_history"])
        ],
        "overload": [
            _gateway_run(ctx.work / NAME / f"overload-{k}", int(OVERLOAD_RATE * OVERLOAD_S / N_DEVICES), OVERLOAD_RATE, settle_s=3.0)
            for k in range(runs["overload"])
        ],
    }
    res = Result(
        NAME,
        f"`tepi gateway` process, {N_DEVICES} devices on the generated broker config: {full_n} readings per device "
        f"1 s apart (full history, {runs['full_history']} run) and {OVERLOAD_RATE:.0f}/s offered for {OVERLOAD_S:.0f} s "
        f"(median of {runs['overload']} runs)",
    )
    for name, label in (("full_history", "full history at 1 reading/s"), ("overload", f"{OVERLOAD_RATE / 1000:.0f}k/s overload")):
        peaks = [r.peak_kb for r in scenarios[name]]
        res.figures.append(
            Figure(f"gateway peak RSS, {N_DEVICES} devices, {label}", _mb(median(peaks)), "MB", baseline=64.0,
                   baseline_name="ThingsBoard 63-73 MB at 500-2000 msg/s (peer notes)", target=f"<= {TARGET_MB}", target_of="value",
                   claim="footprint")
        )
    res.details = {name: _summary(rs) for name, rs in scenarios.items()}
    res.details["pid_sampled"] = "python process of `tepi gateway` (console script), /proc/<pid>/status VmHWM and VmRSS"
    return res


def _metric(port: int, name: str) -> float:
    """A metric of the running gateway (-1 while it does not answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            return prom_value(r.read().decode(), name)
    except OSError:
        return -1.0


def _mb(kb: float) -> float:
    return round(kb / 1024, 1)


def _summary(runs: list[_Run]) -> dict[str, Any]:
    def stat(values: list[float]) -> dict[str, float]:
        return {"median": _mb(median(values)), "min": _mb(min(values)), "max": _mb(max(values))}

    return {
        "peak_rss_mb": stat([r.peak_kb for r in runs]),
        "rest_rss_mb": stat([r.rest_rss_kb for r in runs]),
        "idle_rss_mb": stat([r.idle_rss_kb for r in runs]),
        "rest_anon_mb": stat([r.rest_anon_kb for r in runs]),
        "idle_anon_mb": stat([r.idle_anon_kb for r in runs]),
        "peak_rss_mb_per_run": [_mb(r.peak_kb) for r in runs],
        "offered": [r.offered for r in runs],
        "offered_per_s": [round(r.offered_per_s) for r in runs],
        "processed_by_gateway": [int(r.processed) for r in runs],
        "dropped_by_broker": [r.dropped_by_broker for r in runs],
        "gateway_cpu_s": [round(r.cpu_s, 1) for r in runs],
    }


# -- devices ------------------------------------------------------------------------------------


def _connect_packet(client_id: str, username: str, password: str) -> bytes:
    def utf8(s: str) -> bytes:
        b = s.encode()
        return struct.pack("!H", len(b)) + b

    body = utf8("MQTT") + bytes([4, 0xC2]) + struct.pack("!H", 0) + utf8(client_id) + utf8(username) + utf8(password)
    return bytes([0x10]) + _varint(len(body)) + body


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, b = n >> 7, n & 0x7F
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic: bytes, payload: bytes, packet_id: int) -> bytes:
    body = struct.pack("!H", len(topic)) + topic + struct.pack("!H", packet_id) + payload
    return b"\x32" + _varint(len(body)) + body


def _devices_main(port: int, passwords: list[str], readings: int, t0: float, rate: float, ready: Any, go: Any, out: Any) -> None:
    """Every device on its own connection with its own credentials, publishing QoS 1 readings
    one second apart in device time, all devices in step, `rate` readings/s in all. Frames are
    encoded ahead of their due time in rounds of one reading per device."""
    try:
        n = len(passwords)
        socks = []
        for d in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(_connect_packet(f"fp-{device_id(d)}", device_id(d), passwords[d]))
            socks.append(s)
        for s in socks:
            ack = s.recv(4)
            if len(ack) != 4 or ack[0] != 0x20 or ack[3] != 0:
                raise ConnectionError(f"CONNACK refused: {ack.hex()}")
            s.setblocking(False)
        sel = selectors.DefaultSelector()
        for s in socks:
            sel.register(s, selectors.EVENT_READ)
        topics = [device_topic(TENANT, device_id(d)).encode() for d in range(n)]
        acked = [0]

        def drain(timeout: float) -> None:
            for key, _ in sel.select(timeout):
                try:
                    acked[0] += len(key.fileobj.recv(1 << 16)) // 4  # type: ignore[union-attr]
                except BlockingIOError:
                    pass

        ready.set()
        go.wait()
        start = time.perf_counter()
        sent = 0
        for k in range(readings):
            ts = datetime.fromtimestamp(t0 + k, timezone.utc)
            pid = k % 65535 + 1
            round_ = [
                _publish_packet(topics[d], wire.encode_json(wire.AwlrFrame(station_id(d), k, ts, round(level(d, k), 1), 12.6)), pid)
                for d in range(n)
            ]
            for first in range(0, n, _PACE_EVERY):  # paced in small groups: no burst of a whole round
                last = min(n, first + _PACE_EVERY)
                while (wait := start + (sent + last - first) / rate - time.perf_counter()) > 0:
                    drain(wait)
                for d in range(first, last):
                    socks[d].setblocking(True)
                    socks[d].sendall(round_[d])
                    socks[d].setblocking(False)
                sent += last - first
                drain(0)
        finished = time.perf_counter()
        deadline = time.monotonic() + 60
        while acked[0] < sent and time.monotonic() < deadline:
            drain(0.5)
        for s in socks:
            s.close()
        out.put({"sent": sent, "acked": acked[0], "seconds": finished - start})
    except BaseException as exc:  # reported to the harness, which fails the benchmark loudly
        ready.set()
        out.put({"error": f"{type(exc).__name__}: {exc}"})


# -- one gateway run ----------------------------------------------------------------------------


def _gateway_run(work: Path, per_device: int, rate: float, settle_s: float) -> _Run:
    """One gateway process from start to rest after the load: VmHWM, and RSS before and after."""
    work.mkdir(parents=True, exist_ok=True)
    base = fleet_config(N_DEVICES, 1, 1, work / "outbox.db")
    proc = collector = None
    with deployed_broker(work / "local", [base]) as local, deployed_broker(work / "uplink", [base]) as upstream:
        try:
            gw_cfg = deployed_credentials(fleet_config(N_DEVICES, local.port, upstream.port, work / "outbox.db"), local, upstream)
            gw = gw_cfg.gateway
            # Ingest's part upstream (its own process): takes the uplinks and acknowledges them, so
            # the gateway forgets what was stored as it does beside a healthy centre.
            collector = Collector(upstream.port, [uplink_topic(TENANT, gw.id)], client_id="bench-footprint-collector", login=ingest_login(upstream))
            yaml_path = write_yaml(gw_cfg, work / "tepi-500.yaml")
            # The gateway's persistent device session exists before the load, so nothing is missed.
            pre = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=gw.mqtt_user("devices"), clean_session=False)
            gw.local_broker.apply_to(pre, gw.mqtt_user("devices"))
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

            def processed() -> float:
                return _metric(metrics_port, "tepi_gateway_readings_total")

            wait_until(lambda: processed() >= 0 or proc.poll() is not None, 60, poll=0.1)
            if proc.poll() is not None:
                raise RuntimeError(f"tepi gateway exited with {proc.returncode}: {(work / 'gateway.log').read_text()[-500:]}")
            time.sleep(1.0)
            _, idle_rss = vm_hwm_kb(proc.pid)
            idle_anon = rss_anon_kb(proc.pid)

            t0 = aligned_start(per_device, 600)
            ready, go, out = _SPAWN.Event(), _SPAWN.Event(), _SPAWN.Queue()
            passwords = [local.login(device_id(d))[1] for d in range(N_DEVICES)]
            devices = _SPAWN.Process(target=_devices_main, args=(local.port, passwords, per_device, t0, rate, ready, go, out), daemon=True)
            devices.start()
            if not ready.wait(120):
                raise RuntimeError("devices did not connect in time")
            go.set()
            offered = out.get(timeout=per_device * N_DEVICES / rate * 3 + 300)
            devices.join(10)
            if "error" in offered:
                raise RuntimeError(f"devices failed: {offered['error']}")
            # Rest: the count of processed readings stops moving for `settle_s`.
            last, still_since = processed(), time.monotonic()
            while time.monotonic() - still_since < settle_s:
                time.sleep(0.5)
                now = processed()
                if now != last:
                    last, still_since = now, time.monotonic()
            peak, rest_rss = vm_hwm_kb(proc.pid)
            rest_anon = rss_anon_kb(proc.pid)
            cpu_s = cpu_seconds(proc.pid)
            dropped = int(_metric(metrics_port, "tepi_gateway_broker_dropped_messages_total"))
        finally:
            if proc is not None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            if collector is not None:
                collector.close()
    return _Run(
        peak, idle_rss, rest_rss, idle_anon, rest_anon, offered["sent"], offered["sent"] / max(offered["seconds"], 1e-9),
        last, dropped, cpu_s,
    )

