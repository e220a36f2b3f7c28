"""What every benchmark shares: results, figures with their baselines, machine facts, services."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from core.config import GatewayConfig, GatewayLink, IngestConfig, TepiConfig
from tepi.mqtt_auth import INGEST_SECRET
from tepi.mqtt_security import MqttSecurityFiles, setup_broker_security
from core.processes import Mosquitto, free_port

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
WORK_DIR = BENCH_DIR / "work"  # gitignored: outboxes, broker data, ThingsBoard's config and logs


@dataclass
class Figure:
    """One measured number, optionally against a baseline measured in the same run.

    `ratio` is value / baseline; `target` says which way is good (">= 0.7", "<= 0.05", "<= 60").
    """

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    target: str = ""
    target_of: str = "ratio"  # "ratio" or "value": what the target applies to
    note: str = ""
    missed: bool = False  # the measurement itself failed the target (e.g. more misses than the percentile allows)
    claim: str = ""  # the key in `CLAIMS` of the target this figure answers

    def __post_init__(self) -> None:
        if self.ratio is None and self.value is not None and self.baseline:
            self.ratio = self.value / self.baseline

    @property
    def meets_target(self) -> bool | None:
        m = re.fullmatch(r"\s*(>=|<=)\s*([0-9.]+)\s*", self.target or "")
        x = self.ratio if self.target_of == "ratio" else self.value
        if self.missed and m:
            return False
        if not m or x is None:
            return None
        bound = float(m.group(2))
        return x >= bound if m.group(1) == ">=" else x <= bound


#: The targets the benchmarks report on (issues 17 and 18), by key; `summary.json` lists each, met or not.
CLAIMS = {
    "overload_loss": "0 readings lost at 20,000/s offered for 10 s (500 devices, QoS 1, generated broker config)",
    "outage_loss": "0 readings lost across a 10-minute gateway outage at 500 devices x 1/min (compressed)",
    "footprint": "gateway peak RSS <= 60 MB at 500 devices x 1 reading/s with full history, and under 20k/s overload",
    "gateway_vs_paho": "gateway throughput >= 0.7 of stock paho (empty callback)",
    "gateway_vs_own_transport": "gateway throughput reported against its own transport with an empty stage",
    "ingest": "ingest >= 0.8 of the raw loop with the same requests in flight, median of five rounds",
    "alert_latency": "alert latency p99 <= 250 ms, production settings, >= 200 crossings, misses counted",
    "thingsboard_sweep": "ThingsBoard and Tepi at 1k, 5k, 20k/s offered, loss after the drain reported for both",
    # issue 18
    "rise_ramp": "rate-of-rise warning before Siaga 3 on a 240 cm/h ramp from 50 cm (1 reading/min, 1 cm noise)",
    "rise_katulampa": "rate-of-rise warning >= 15 min before Siaga 2 on the observed Katulampa series",
    "rise_false": "<= 1 false rate-of-rise warning per station-month in the simulated normal month",
    # issue 20
    "route_latency": "route p95 <= 200 ms (goal 50) for a 50 km trip on the 1 km grid, first query after start and warm",
    # issue 21
    "badge_throughput": "office gateway >= 20,000 advertisements/s (goal 50,000) in batched scanner messages (2,000 badges x 10 scanners x 1 Hz)",
    "badge_check_in": ">= 99 % of simulated check-ins decided within 2 minutes of the true arrival",
    "badge_spoofing": "over a simulated month: 0 missed spoofing scenarios, 0 false alarms on honest badges",
    # issue 22
    "console_first_load": "console first load <= 1 MB transferred (cold cache, alerts and rivers pages, 500-station tenant)",
    "console_interactive": "console interactive (page-ready) within 1 s of navigation on loopback",
    "console_map_500": "a map of 500 stations drawn within 1 s",
    "console_alert_shown": "an alert shown in the open page within 1 s of its SSE event",
}


@dataclass
class Result:
    name: str
    description: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for f, fig in zip(d["figures"], self.figures):
            f["meets_target"] = fig.meets_target
        return d


@dataclass
class Context:
    quick: bool
    work: Path
    results: dict[str, Result] = field(default_factory=dict)

    def scale(self, full: Any, quick: Any) -> Any:
        return quick if self.quick else full


def wait_until(cond: Callable[[], bool], timeout: float, poll: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(poll)
    return bool(cond())


@dataclass
class DeployedBroker(Mosquitto):
    """Mosquitto running what `setup_broker_security` (`tepi mqtt setup`) generated: passwords,
    ACL, client id bound to username, queue limits, persistence and autosave, unchanged
    (`core.processes.Mosquitto` with `auth`), on its own port and directory."""

    security: MqttSecurityFiles | None = None

    def session_queue_limit(self) -> int:
        """Messages the broker queues per client session beyond those in flight: the generated
        `max_queued_messages`, or Mosquitto's default of 1000 when it sets none."""
        assert self.security is not None
        limit = 1000
        for line in self.security.conf_file.read_text().splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "max_queued_messages":
                limit = int(parts[1]) or 1 << 62  # 0 means no limit
        return limit

    def login(self, username: str) -> tuple[str, str]:
        """(username, password) of one generated MQTT user."""
        assert self.security is not None
        return username, self.security.credential(username).password


@contextlib.contextmanager
def deployed_broker(workdir: Path, configs: Sequence[TepiConfig], persistence: bool = True) -> Iterator[DeployedBroker]:
    """A private broker on an ephemeral loopback port, configured as `tepi mqtt setup -c ...`
    configures a deployment's broker for `configs` (one per gateway it serves)."""
    if workdir.exists():
        shutil.rmtree(workdir)
    port = free_port()
    security = setup_broker_security(list(configs), workdir / "security", port=port, bind="127.0.0.1", persistence_dir=workdir / "data")
    broker = DeployedBroker(port=port, workdir=workdir / "data", persistence=persistence, auth=security, security=security).start()
    try:
        yield broker
    finally:
        broker.close()


def gateway_login(broker: DeployedBroker, gateway: GatewayConfig, link: GatewayLink) -> tuple[str, str]:
    """The generated login of one of a gateway's connections (`<gw>.devices`, `.uplink`, `.alarms`):
    its own username, the gateway's password."""
    assert broker.security is not None
    return gateway.mqtt_user(link), broker.security.credential(gateway.id).password


def ingest_login(broker: DeployedBroker, worker: int = 1) -> tuple[str, str]:
    """Ingest worker `worker`'s generated login (`ingest.N`, the workers' shared password)."""
    assert broker.security is not None
    return IngestConfig.mqtt_user(worker), broker.security.credential(INGEST_SECRET).password


def deployed_credentials(cfg: TepiConfig, local: DeployedBroker, uplink: DeployedBroker) -> TepiConfig:
    """`cfg` with the generated passwords, as an operator configures a deployment after `tepi
    mqtt setup`: the gateway's on each broker, ingest's on the uplink broker. The processes name
    their connections' users themselves."""
    gw = cfg.gateway
    gateway = gw.model_copy(update={
        "local_broker": gw.local_broker.model_copy(update={"password": gateway_login(local, gw, "devices")[1]}),
        "uplink_broker": gw.uplink_broker.model_copy(update={"password": gateway_login(uplink, gw, "uplink")[1]}),
    })
    ingest = cfg.ingest.model_copy(update={"broker": cfg.ingest.broker.model_copy(update={"password": ingest_login(uplink)[1]})})
    return cfg.model_copy(update={"gateway": gateway, "ingest": ingest})


def device_logins(broker: DeployedBroker, device_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """Client id -> (username, password) of each device: every device connects as itself."""
    assert broker.security is not None
    users = broker.security.credentials()
    return {d: (d, users[d].password) for d in device_ids}


def wait_settled(read: Any, done: Any, timeout: float, idle: float) -> str:
    """Until `done(read())` ("done"), or nothing changed for `idle` seconds ("idle"), or
    `timeout` ("timeout"): the drain is over when arrivals stop, not when publishing does."""
    deadline = time.monotonic() + timeout
    last, since = read(), time.monotonic()
    while time.monotonic() < deadline:
        v = read()
        if done(v):
            return "done"
        if v != last:
            last, since = v, time.monotonic()
        elif time.monotonic() - since > idle:
            return "idle"
        time.sleep(0.2)
    return "timeout"



def stop_processes(procs: Sequence[subprocess.Popen[Any]], grace_s: float = 20.0) -> None:
    """SIGTERM every process still running, then wait for each; kill those that outlast `grace_s`."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(grace_s)
        except subprocess.TimeoutExpired:
            p.kill()

def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


def machine_info() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    def version(cmd: list[str]) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
            lines = (out.stdout or out.stderr).strip().splitlines()
            return lines[0] if lines else ""
        return ""
    import numpy
    import paho.mqtt
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu,
        "cpus": os.cpu_count(),
        "memory_mb": mem_kb // 1024,
        "mosquitto": version(["mosquitto", "-h"]),
        "victoria_metrics": version(["victoria-metrics", "-version"]),
        "paho_mqtt": paho.mqtt.__version__,
        "numpy": numpy.__version__,
    }


def git_info() -> dict[str, Any]:
    def git(*args: str) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, timeout=5).stdout.strip()
        return ""
    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def vm_hwm_kb(pid: int) -> tuple[int, int]:
    """(VmHWM, VmRSS) in kB of a live process."""
    hwm = rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            hwm = int(line.split()[1])
        elif line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return hwm, rss


def rss_anon_kb(pid: int) -> int:
    """RssAnon in kB of a live process: its own memory, without the pages of mapped files."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


def rss_by_mapping_kb(pid: int) -> dict[str, int]:
    """Resident kB of a live process by kind of mapping (/proc/<pid>/smaps): the C heap
    (`heap`: glibc's main arena), anonymous mappings of exactly 1 MiB (`anon_1mib`: CPython's
    object allocator takes its arenas so), other anonymous mappings (`anon_other`: glibc's
    thread arenas, large allocations, thread stacks) and mapped files (`files`). Where a
    change in memory went, which RssAnon alone does not tell."""
    out = {"heap": 0, "anon_1mib": 0, "anon_other": 0, "files": 0}
    kind = "files"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
            name = head[5] if len(head) > 5 else ""
            lo, hi = (int(v, 16) for v in head[0].split("-"))
            if name == "[heap]":
                kind = "heap"
            elif not name:
                kind = "anon_1mib" if hi - lo == 1 << 20 else "anon_other"
            else:
                kind = "files" if name.startswith("/") else "anon_other"
        elif head[0] == "Rss:":
            out[kind] += int(head[1])
    return out


def evict_shared_libraries(prefix: Path) -> int:
    """Drop the page cache of the shared libraries under `prefix` (the virtualenv) that no
    process maps now; how many files were asked. Call before anything imports them.

    Why: RSS counts the pages of mapped libraries, and on some kernels a library read into the
    cache by `pip install` or `cp` sits there in blocks of up to 1 MB, of which touching one
    byte maps (and counts) the whole block. The same gateway then measured 56 MB at rest
    instead of 53 MB, the difference all in file pages of numpy and pydantic-core, its own
    (anonymous) memory unchanged. Libraries read in by mapping them, as on a device after a
    reboot, come in small pages, which this restores. Each file is first written back
    (fdatasync): the kernel drops only clean pages, and right after `make venv` the freshly
    written libraries are still dirty (measured: 62.2 MB at rest without it, 55.1 MB with)."""
    asked = 0
    for path in prefix.rglob("*.so*"):
        if not path.is_file():
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue
        try:
            try:
                # DONTNEED leaves dirty pages in the cache: a venv built a minute ago is still dirty.
                os.fdatasync(fd)
            except OSError:
                pass  # then what is clean still goes
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            asked += 1
        except OSError:
            pass
        finally:
            os.close(fd)
    return asked


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a live process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prom_value(text: str, name: str) -> float:
    """Sum of a metric's samples in Prometheus text exposition (all label sets)."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {"):
            total += float(line.rsplit(" ", 1)[1])
    return total
