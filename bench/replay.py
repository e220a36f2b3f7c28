"""replay: an outbox full of summaries, written while the uplink broker was down, drained on
its return; summaries/s from the moment the uplink connects until every one is acknowledged
(deleted from the outbox) and counted once, by id, at a subscriber on the upstream broker."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry

from bench.core import Context, Figure, Result, deployed_broker, deployed_credentials, ingest_login, wait_until
from bench.fleet import GATEWAY, TENANT, device_id, fleet_config, station_id
from bench.procs import Collector
from gateway.outbox import PRIORITY_SUMMARY, Outbox
from gateway.uplink import Uplink
from core.config import GatewayConfig
from contract.topics import uplink_topic
from kinds.awlr.items import LevelSummary, QcCounts, outbox_body
from kinds.awlr.summary_columns import summary_id

NAME = "replay"
#: ThingsBoard IoT Gateway's SQLite backlog drained at 7-9k msg/s here (peer notes, 2026-11-22).
PEER_DRAIN = (7000.0, 9000.0)


class TimedUplink(Uplink):
    connected_at: float | None = None

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        if self.connected_at is None and not reason.is_failure:
            self.connected_at = time.perf_counter()
        super()._on_connect(client, userdata, flags, reason, props)


#: A window's mean as the gateway computes it (numpy's mean of ten 0.1 cm readings): all the
#: digits of a float (120.03000000000002), as real summaries carry them.
WINDOW_MEAN_CM = float(np.mean([118.2, 119.6, 120.4, 121.9, 120.1, 119.8, 120.3, 120.9, 119.7, 119.4]))


def summary_items(n: int, stations: int = 100, window_s: int = 600, windows_back: int = 0) -> list[LevelSummary]:
    """`n` summaries of `stations` stations, window after window, ending `windows_back` windows
    (plus ten) before now."""
    t0 = (int(time.time()) // window_s - n // stations - 10 - windows_back) * window_s
    items = []
    for k in range(n):
        s, w = k % stations, k // stations
        start = datetime.fromtimestamp(t0 + w * window_s, timezone.utc)
        end = datetime.fromtimestamp(t0 + (w + 1) * window_s, timezone.utc)
        first = w * 10
        items.append(LevelSummary(
            id=summary_id(GATEWAY, station_id(s), start, first), station=station_id(s), device=device_id(s),
            window_start=start, window_end=end, count=10, rejected=0, min_cm=118.2, max_cm=121.9, mean_cm=WINDOW_MEAN_CM,
            last_cm=119.4, qc=QcCounts(good=10), last_ts=datetime.fromtimestamp(t0 + w * window_s + 540, timezone.utc),
            first_seq=first, last_seq=first + 9, siaga=4, battery_v=12.6,
        ))
    return items


def summaries(n: int, stations: int = 100, window_s: int = 600) -> list[tuple[str, int, bytes]]:
    """Outbox rows exactly as the gateway writes them (`EdgeGateway._commit`)."""
    return [(item.id, PRIORITY_SUMMARY, outbox_body(item, GATEWAY)) for item in summary_items(n, stations, window_s)]


def run(ctx: Context) -> Result:
    n = ctx.scale(50_000, 10_000)
    res = Result(NAME, f"{n} summaries buffered in the outbox during an outage, drained on reconnect")
    work = ctx.work / NAME
    base = fleet_config(1, 1, 1, work / "outbox.db")
    brokers = deployed_broker(work / "uplink", [base], persistence=True)
    broker = brokers.__enter__()
    login = deployed_credentials(base, broker, broker).gateway.uplink_broker
    collector = Collector(broker.port, [uplink_topic(TENANT, GATEWAY)], client_id="bench-replay-collector", login=ingest_login(broker))
    broker.stop()  # the collector's session (and subscription) persists across the outage
    outbox = Outbox(work / "outbox.db")
    uplink = None
    try:
        rows = summaries(n)
        t = time.perf_counter()
        for i in range(0, n, 5000):
            outbox.put(rows[i : i + 5000])
        fill_s = time.perf_counter() - t
        depth = outbox.depth()
        linger = {"summary_linger_s": GatewayConfig.model_fields["summary_linger_s"].default} if "summary_linger_s" in GatewayConfig.model_fields else {}
        uplink = TimedUplink(outbox, login.model_copy(update={"port": broker.port}), TENANT, GATEWAY, CollectorRegistry(), **linger)
        uplink.start()
        time.sleep(0.3)  # the first connection attempt fails: the broker is still down
        broker.start()
        wait_until(lambda: uplink.connected_at is not None, 30)
        arrived = collector.wait(lambda c: c.items >= n, ctx.scale(120, 60), poll=0.005)
        t_arrived = time.perf_counter()
        wait_until(lambda: outbox.depth() == 0, 30, poll=0.01)
        t_acked = time.perf_counter()
        left = outbox.depth()
    finally:
        if uplink:
            uplink.stop()
        outbox.close()
        got = collector.close()
        brokers.__exit__(None, None, None)
    t0 = uplink.connected_at or t_arrived
    rate_acked = n / (t_acked - t0) if left == 0 else 0.0
    rate_arrived = got["items"] / (t_arrived - t0)
    tb = ctx.results.get("thingsboard")
    tb_drain = (((tb.details.get("outage") or {}).get("thingsboard") or {}).get("after_restart") or {}).get("drain_per_s") if tb else None
    res.figures.append(
        Figure(
            "outbox drain, summaries/s (connect -> all acked)", round(rate_acked), "summaries/s",
            sum(PEER_DRAIN) / 2, "ThingsBoard sqlite drain 7-9k msg/s (peer notes)", target=">= 5000", target_of="value",
        )
    )
    res.details = {
        "summaries": n,
        "outbox_depth_before": depth,
        "fill_s": round(fill_s, 2),
        "distinct_ids_upstream": got["items"],
        "messages_upstream": got["messages"],
        "duplicates_or_lost": n - got["items"],
        "all_arrived": arrived,
        "outbox_depth_after": left,
        "arrival_rate_per_s": round(rate_arrived),
        "connect_to_all_arrived_s": round(t_arrived - t0, 3),
        "connect_to_all_acked_s": round(t_acked - t0, 3),
        "peer_drain_per_s": PEER_DRAIN,
        "thingsboard_drain_per_s_this_run": tb_drain,
        "thingsboard_drain_note": "readings/s arriving after the upstream returned in the thingsboard outage run, "
        "from the reconnect to catching up; limited by the backlog there (60 s at 500/s), not by ThingsBoard's peak",
    }
    if got["items"] != n or left:
        res.error = f"loss: {got['items']} of {n} distinct summaries arrived, {left} left in the outbox"
    return res
