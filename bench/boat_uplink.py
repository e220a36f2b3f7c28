"""boat_uplink: uplink bytes per boat-day against the raw NMEA the boat's instruments sent.

One boat's whole trip (`sim.voyage` plan, departure to arrival; `perahu-krs-01` of the default
fleet, whose ground lies within its sounder's 100 m range) is simulated twice by
`sim.boat.BoatInstruments`: at 4,800 baud (NMEA only: fixes, depth, water temperature at 1 Hz)
and at 38,400 baud with the echogram (two 500-bin pings a second) and AIS. Every line goes
through the kind's edge path as a serial frame (`FishfinderKind.decode`, `BoatProcessor`), every
item is stored as the gateway stores it (`FishfinderKind.stored` into a real `gateway.outbox.Outbox`),
and the outbox is then drained by the gateway's own `gateway.uplink.Uplink._send_some`
(batching: events alone and first, routine items up to 1,000 a message; `encode_uplink` and
zlib as `compress_payload` does) with a stand-in MQTT client that records each payload; every
message is taken as acknowledged at once. Two ways of sending: the day queued out of coverage
and sent on return (the boat's usual case), and live (drained after each second's items, as
with coverage all day; summaries do not linger, which makes it the worse case).

Figures: uplink payload bytes / raw NMEA bytes (target <= 1/50 = 0.02) for the NMEA-only line,
and for the echogram line both against its own raw stream and against the NMEA-only raw.
MQTT headers are not counted on either side (the raw side has none).
"""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry

from bench.core import Context, Figure, Result
from core.config import BrokerConfig, DeviceConfig, parse_config
from gateway.errors import FrameRejected
from gateway.model import RawFrame
from gateway.outbox import Outbox
from gateway.uplink import Uplink
from gateway.uplink_inflight import InFlight
from kinds.fishfinder.edge import KIND
from kinds.fishfinder.sim.boat import BoatInstruments, SounderSettings
from kinds.fishfinder.sim.voyage import DEFAULT_FLEET, plan_fleet

NAME = "boat_uplink"
DAY = date(2026, 3, 1)
BOAT = next(b for b in DEFAULT_FLEET if b.boat_id == "perahu-krs-01")
TARGET_RATIO = 1 / 50


@dataclass
class _Published:
    rc: int = 0
    mid: int = 0


@dataclass
class RecordingClient:
    """Stands in for paho under `Uplink`: records every payload, accepts every publish."""

    payloads: list[int] = field(default_factory=list)

    def publish(self, topic: str, payload: bytes, qos: int = 0) -> _Published:
        self.payloads.append(len(payload))
        return _Published(0, len(self.payloads))


def uplink_for(outbox: Outbox, tenant: str, gateway: str) -> tuple[Uplink, RecordingClient]:
    up = Uplink(outbox, BrokerConfig(host="127.0.0.1", port=1), tenant, gateway, CollectorRegistry(), summary_linger_s=0.0)
    client = RecordingClient()
    up._client = client  # type: ignore[assignment]
    return up, client


def drain(up: Uplink, outbox: Outbox) -> None:
    """Send until the outbox is empty, every message acknowledged as soon as it is sent."""
    while outbox.depth():
        if not up._send_some():
            raise RuntimeError("the uplink sent nothing with items waiting")
        outbox.ack(sorted(up._inflight.seqs))
        up._inflight = InFlight()
        outbox.protected = frozenset()


def boat_day(baud: int, seconds: int | None = None) -> dict[str, Any]:
    """One trip at `baud` through the edge path: the raw bytes, and each second's items."""
    plan = plan_fleet(DAY, np.random.default_rng(3), (BOAT,))[0]
    b = BoatInstruments(plan, 11, SounderSettings(baud=baud))
    dev = DeviceConfig(id="ff-krs-01", kind="fishfinder", platform=plan.boat_id, transport="serial")
    cfg = parse_config({"tenants": [{"id": "indramayu", "name": "Indramayu"}], "stations": [], "devices": [dev.model_dump()],
                        "gateway": {"id": "gw-krs-01", "tenant": "indramayu"}})
    gw = cfg.gateway
    proc = KIND.processor(cfg, dev)
    total = min(b.last_second + 1, seconds or b.last_second + 1)
    raw = 0
    counts: Counter[str] = Counter()
    batches: list[list] = []
    for block in range(0, total, 60):
        n = min(60, total - block)
        sent, second = 0, -1
        for line in b.lines(block, n):
            if line.second != second:
                if second >= 0:
                    batches.append(proc.process())
                sent, second = 0, line.second
            raw += len(line.wire)
            sent += len(line.wire)
            rx = b.timestamp(block + line.second) + timedelta(seconds=sent / (baud / 10))
            decoded = KIND.decode(RawFrame("serial", line.wire, dev.id, rx), dev, proc, gw)
            counts.update(r.reason for r in decoded.rejected)
            for r in decoded.readings:
                try:
                    proc.accept(r)
                except FrameRejected as rej:
                    counts[rej.reason] += 1
        batches.append(proc.process())
    try:
        batches.append(proc.due(datetime.max.replace(tzinfo=timezone.utc)))
    except ValueError:  # SchoolDetector.flush with an open school and no new ping (see bench/boats)
        counts["due_raised"] += 1
    counts.update(f"item:{i.type}" for batch in batches for i in batch)
    return {"baud": baud, "boat_seconds": total, "trip_h": round(plan.duration_s / 3600, 2), "raw_nmea_bytes": raw,
            "counts": dict(counts), "tenant": gw.tenant, "gateway": gw.id, "batches": [x for x in batches if x]}


def send(day: dict[str, Any], work: Path, live: bool) -> dict[str, Any]:
    """The day's items stored as the gateway stores them and drained by its uplink: after
    each second's items (`live`) or once at the end (the day queued out of coverage)."""
    path = work / f"outbox-{day['baud']}-{'live' if live else 'day'}.db"
    outbox = Outbox(path, synchronous="OFF")
    up, client = uplink_for(outbox, day["tenant"], day["gateway"])
    stored = 0
    for items in day["batches"]:
        rows = [KIND.stored(i, day["gateway"]) for i in items]
        stored += sum(len(r.body) for r in rows)
        outbox.put(rows)
        if live:
            drain(up, outbox)
    drain(up, outbox)
    outbox.close()
    return {"uplink_payload_bytes": sum(client.payloads), "uplink_messages": len(client.payloads), "stored_body_bytes": stored}


def run(ctx: Context) -> Result:
    seconds = ctx.scale(None, 3600)
    res = Result(NAME, f"{BOAT.boat_id}'s trip ({'whole day' if seconds is None else f'first {seconds} s'}): uplink payload bytes against raw NMEA bytes")
    work = ctx.work / NAME
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    runs: dict[str, dict[str, Any]] = {}
    for baud in (4800, 38400):
        day = boat_day(baud, seconds)
        for mode in ("day", "live"):
            runs[f"{baud}_{mode}"] = {**{k: v for k, v in day.items() if k != "batches"}, **send(day, work, mode == "live")}
    nmea_raw = runs["4800_day"]["raw_nmea_bytes"]
    for mode, words in (("day", "the day queued, sent on return"), ("live", "sent live, each second's items at once")):
        r4, r38 = runs[f"4800_{mode}"], runs[f"38400_{mode}"]
        res.figures.append(Figure(f"uplink / raw NMEA, 4,800 baud NMEA only ({words})", r4["uplink_payload_bytes"], "B",
                                  baseline=r4["raw_nmea_bytes"], baseline_name="raw NMEA 4,800", target=f"<= {TARGET_RATIO:.2f}",
                                  note=f"{r4['boat_seconds'] / 3600:.1f} h trip, {r4['uplink_messages']} messages"))
        res.figures.append(Figure(f"uplink / raw, 38,400 baud with echogram ({words})", r38["uplink_payload_bytes"], "B",
                                  baseline=r38["raw_nmea_bytes"], baseline_name="raw NMEA + echogram 38,400", target=f"<= {TARGET_RATIO:.2f}",
                                  note=f"{r38['uplink_messages']} messages; against the NMEA-only raw: {r38['uplink_payload_bytes'] / nmea_raw:.4f}"))
    res.details = {"boat": BOAT.boat_id, "runs": runs}
    return res


if __name__ == "__main__":  # python -m bench.boat_uplink [--quick]
    import json
    import sys

    from bench.core import WORK_DIR

    r = run(Context(quick="--quick" in sys.argv, work=WORK_DIR))
    print(json.dumps({"figures": [{k: v for k, v in f.__dict__.items() if k in ("name", "value", "baseline", "ratio", "note")} for f in r.figures], "details": r.details}, indent=1, default=str))
