"""loss: readings published by devices against readings accounted for upstream, on brokers
configured as `tepi mqtt setup` configures them, with the shipped per-device limits.

1. Overload: 500 devices, QoS 1, 20,000 readings/s offered for 10 s. The gateway takes what it
   can; the rest waits in its broker session (or is dropped there, unseen by anyone but the
   broker). After the drain, lost = published (PUBACKed) - accounted upstream.
2. Gateway outage: 500 devices x 1 reading/min for 10 minutes of device time while the gateway
   is stopped (compressed: the 5,000 readings are published at once), then the gateway
   restarts from the same outbox and takes its session's queue.

Accounted upstream = good + suspect + fail of every distinct summary at a collector logged in
as ingest. One more reading per device, in the next window, closes the last windows; it is not
counted.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.core import Context, DeployedBroker, Figure, Result, deployed_broker, deployed_credentials, ingest_login, wait_settled
from bench.fleet import TENANT, Stream, aligned_start, fleet_config
from bench.gateway_throughput import TimedGateway, rejections
from bench.procs import Collector, Offered, PublisherPool
from core.config import TepiConfig
from contract.topics import uplink_topic

NAME = "loss"
N_DEVICES = 500
WINDOW_READINGS = 10  # 600 s windows at one reading per device-minute


class TepiEdge:
    """A generated-config local broker and central broker, a collector logged in as ingest, and
    the fleet's gateway configuration with the generated logins."""

    def __init__(self, work: Path, n_dev: int, persistence: bool = False) -> None:
        self.work, self.n_dev = work, n_dev
        self.outbox = work / "outbox.db"
        self._base = fleet_config(n_dev, 1, 1, self.outbox, device_rate_per_s=None)
        self._persistence = persistence

    def __enter__(self) -> "TepiEdge":
        self._local = deployed_broker(self.work / "local", [self._base], persistence=self._persistence)
        self.local: DeployedBroker = self._local.__enter__()
        self._up = deployed_broker(self.work / "uplink", [self._base], persistence=True)
        self.upstream: DeployedBroker = self._up.__enter__()
        cfg = fleet_config(self.n_dev, self.local.port, self.upstream.port, self.outbox, device_rate_per_s=None)
        self.config: TepiConfig = deployed_credentials(cfg, self.local, self.upstream)
        self.collector = Collector(self.upstream.port, [uplink_topic(TENANT, cfg.gateway.id)], login=ingest_login(self.upstream))
        return self

    def gateway(self) -> TimedGateway:
        gw = TimedGateway(self.config, outbox_path=self.outbox)
        gw.start()
        if not gw.wait_ready(30):
            gw.stop()
            raise RuntimeError("gateway did not subscribe to its devices")
        return gw

    def close_windows(self, t0: float, per_dev: int) -> None:
        """One reading per device in the window after the measured ones (not counted)."""
        closer = PublisherPool(Stream(0, self.n_dev, 1, t0 + 540.0, 60.0, seq0=per_dev), self.local, 1, procs=1, name="closer")
        closer.wait_ready()
        closer.start()
        closer.result()

    def drain(self, gw: TimedGateway, t0: float, per_dev: int, published: int, timeout: float, idle: float) -> tuple[str, float]:
        """Close the last windows, wait until `published` readings arrived or arrivals stopped,
        stop the gateway; (how the wait ended, seconds it took)."""
        since = time.time()
        try:
            self.close_windows(t0, per_dev)
            settled = wait_settled(lambda: self.collector.accounted, lambda v: v >= published, timeout, idle)
            return settled, time.time() - since
        finally:
            gw.stop()

    def __exit__(self, *exc: Any) -> None:
        try:
            self.got = self.collector.close()
        finally:
            self._up.__exit__(*exc)
            self._local.__exit__(*exc)


def readings_per_device(rate: float, secs: float, n_dev: int) -> int:
    """Readings each device publishes for `rate`/s over `secs`: whole windows, at least one."""
    return max(WINDOW_READINGS, int(rate * secs / n_dev) // WINDOW_READINGS * WINDOW_READINGS)


def drain_report(offered: Offered, arrived: int, settled: str, drained_s: float, n_dev: int) -> dict[str, Any]:
    """What was published against what arrived upstream once arrivals stopped."""
    publish_s = offered.finished - offered.started
    return {
        "devices": n_dev,
        "offered_per_s": round(offered.rate),
        "publish_s": round(publish_s, 1),
        "published": offered.sent,
        "acked_by_broker": offered.acked,
        "arrived_upstream": arrived,
        "lost": offered.acked - arrived,
        "drain_ended": settled,
        "drained_after_publishing_s": round(drained_s, 1),
        "arrived_per_s_incl_drain": round(arrived / (publish_s + drained_s)) if arrived else 0,
    }


def offered_load(work: Path, rate: float, secs: float, n_dev: int = N_DEVICES, drain_timeout: float = 240.0, idle: float = 20.0) -> dict[str, Any]:
    """Tepi's gateway under `rate` readings/s offered for `secs` by `n_dev` devices (QoS 1);
    what arrives upstream once arrivals stop."""
    per_dev = readings_per_device(rate, secs, n_dev)
    t0 = aligned_start((per_dev + 20) * 60.0, 600)
    with TepiEdge(work, n_dev) as edge:
        gw = edge.gateway()
        pool = PublisherPool(Stream(0, n_dev, per_dev, t0, 60.0), edge.local, 1, procs=2, rate=rate, name="load")
        pool.wait_ready()
        pool.start()
        offered = pool.result()
        settled, drained_s = edge.drain(gw, t0, per_dev, offered.acked, drain_timeout, idle)
    report = drain_report(offered, edge.got["accounted"], settled, drained_s, n_dev)
    return {**report, "rejected_by_gateway": rejections(gw), "duplicate_summaries_or_items": edge.got["items"] - edge.got["summaries"]}


def gateway_outage(work: Path, minutes: int, n_dev: int = N_DEVICES, rate: float = 2000.0) -> dict[str, Any]:
    """The gateway stopped while `n_dev` devices each publish one reading per device-minute for
    `minutes` (sent at `rate`/s: compressed time), then restarted from the same outbox."""
    per_dev = minutes
    t0 = aligned_start((per_dev + 20) * 60.0, 600)
    with TepiEdge(work, n_dev, persistence=True) as edge:
        edge.gateway().stop()  # its persistent session on the local broker now exists
        pool = PublisherPool(Stream(0, n_dev, per_dev, t0, 60.0), edge.local, 1, procs=1, rate=rate, name="outage")
        pool.wait_ready()
        pool.start()
        offered = pool.result()
        gw = edge.gateway()
        settled, drained_s = edge.drain(gw, t0, per_dev, offered.acked, 120.0, 15.0)
    report = drain_report(offered, edge.got["accounted"], settled, drained_s, n_dev)
    return {**report, "outage_device_minutes": minutes, "rejected_by_gateway_after_restart": rejections(gw)}


def run(ctx: Context) -> Result:
    rate, secs = 20_000.0, ctx.scale(10.0, 2.0)
    minutes = ctx.scale(10, 2)
    res = Result(NAME, f"{N_DEVICES} devices, QoS 1, generated broker config and shipped per-device limits: published vs accounted upstream")
    over = offered_load(ctx.work / NAME / "overload", rate, secs)
    res.figures.append(Figure(f"readings lost, {rate:,.0f}/s offered for {secs:.0f} s", over["lost"], "readings", target="<= 0", target_of="value", claim="overload_loss",
                              note=f"of {over['acked_by_broker']} published"))
    out = gateway_outage(ctx.work / NAME / "outage", minutes)
    res.figures.append(Figure(f"readings lost, {minutes}-minute gateway outage", out["lost"], "readings", target="<= 0", target_of="value", claim="outage_loss",
                              note=f"of {out['acked_by_broker']} published"))
    res.details = {"overload": over, "gateway_outage": out}
    return res
