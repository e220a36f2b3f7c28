"""bandwidth: bytes uplinked per byte received from devices in steady state, and how fast
events still leave.

Steady state (documented in bench/README.md): 100 devices, one reading per second each,
600 s summary windows, a normal river (Siaga 4, nothing for QC to flag). Device time runs
faster than wall time in phase A (whole windows, published as fast as the gateway takes them);
phase B runs in real time (1 reading/s per device) across a window boundary while a few
stations rise gently across Siaga 3, and measures event latency from the publish of the
reading that caused an event to the event's arrival at the upstream broker.
"""

from __future__ import annotations

import time

from bench.core import Context, Figure, Result, deployed_broker, deployed_credentials, device_logins, ingest_login, percentile, wait_until
from bench.fleet import GATEWAY, TENANT, Stream, aligned_start, device_id, fleet_config
from bench.gateway_throughput import OFFERED_BACKLOG, TimedGateway
from bench.mqtt_raw import RawPublisher, build_packets
from bench.procs import Collector, PublisherPool
from contract.topics import uplink_topic

NAME = "bandwidth"
WINDOW_S = 600
#: ThingsBoard IoT Gateway forwards every reading (peer notes: 154-314 ms p50 at 500 msg/s).
PEER_LATENCY_P50_MS = (154.0, 314.0)


def _mqtt_overhead(topic_len: int, payload_len: int, qos: int = 1) -> int:
    body = 2 + topic_len + (2 if qos else 0) + payload_len
    return 1 + (1 if body < 128 else 2 if body < 16384 else 3) + body - payload_len


def run(ctx: Context) -> Result:
    n_dev = ctx.scale(100, 20)
    windows = ctx.scale(2, 1)
    hot = ctx.scale(5, 2)  # stations that rise across Siaga 3 during phase B
    b_before, b_after = ctx.scale(10, 3), ctx.scale(30, 12)  # phase B: readings before / from the window boundary
    per_dev = windows * WINDOW_S
    a_count = per_dev - b_before
    res = Result(NAME, f"{n_dev} devices at 1 reading/s (device time), {WINDOW_S} s windows, {windows} windows + real-time phase")
    work = ctx.work / NAME
    t0 = aligned_start(per_dev + b_after + 60, WINDOW_S)
    ramp_at = per_dev + 1  # phase B, just after the boundary, staggered per hot device
    outbox = work / "outbox.db"
    base = fleet_config(n_dev, 1, 1, outbox, summary_every_s=WINDOW_S)
    with deployed_broker(work / "local", [base]) as local, deployed_broker(work / "uplink", [base], persistence=True) as upstream:
        collector = Collector(upstream.port, [uplink_topic(TENANT, GATEWAY)], client_id="bench-bw-collector", login=ingest_login(upstream))
        cfg = deployed_credentials(fleet_config(n_dev, local.port, upstream.port, outbox, summary_every_s=WINDOW_S), local, upstream)
        gw = TimedGateway(cfg, outbox_path=outbox)
        gw.start()
        gw.wait_ready()
        # Phase A: device time at full speed.
        stream_a = Stream(0, n_dev, a_count, t0, 1.0, hot=hot, ramp_at=ramp_at)
        # As fast as the gateway takes them, within the broker's generated session queue.
        pool = PublisherPool(stream_a, local, qos=1, procs=1, name="bw-a", backlog=OFFERED_BACKLOG)
        gw.progress = pool.consumed
        pool.wait_ready()
        t_a = time.time()
        pool.start()
        wait_until(lambda: gw.done_frames >= n_dev * a_count, ctx.scale(240, 90))
        offered_a = pool.result()
        phase_a_s = time.time() - t_a
        # Phase B: real time, one reading per device per second, across the window boundary.
        stream_b = Stream(0, n_dev, b_before + b_after, t0, 1.0, seq0=a_count, hot=hot, ramp_at=ramp_at)
        index = list(stream_b.messages())
        packets, payload_b = build_packets([(device_id(d), t, p) for d, _, t, p in index], qos=1)
        pub = RawPublisher(local.port, device_logins(local, [device_id(d) for d in range(n_dev)]))
        st_b = pub.publish(packets, payload_b, qos=1, rate=float(n_dev), chunk=n_dev, record=set(range(len(packets))))
        pub.close()
        sent_at = {(f"awlr-{d:04d}", seq): st_b.send_times[k] for k, (d, seq, _, _) in enumerate(index)}
        wait_until(lambda: gw.done_frames >= n_dev * (a_count + b_before + b_after), 30)
        wait_until(lambda: collector.accounted >= n_dev * per_dev, 30)
        time.sleep(1.0)  # the last events and summaries in flight
        reg = gw.registry
        bytes_in = reg.get_sample_value("tepi_gateway_bytes_in_total", {"transport": "mqtt"}) or 0.0
        up_bytes = reg.get_sample_value("tepi_gateway_uplink_bytes_total") or 0.0
        up_msgs = reg.get_sample_value("tepi_gateway_uplink_messages_total") or 0.0
        up_items = reg.get_sample_value("tepi_gateway_uplinked_items_total") or 0.0
        gw.stop()
        got = collector.close()

    readings = n_dev * (a_count + b_before + b_after)
    payload_in = offered_a.payload_bytes + payload_b
    topic_len = len(stream_a.topic(0))
    wire_in = payload_in + readings * _mqtt_overhead(topic_len, 110)
    up_topic_len = len(uplink_topic(TENANT, GATEWAY))
    wire_up = got["bytes"] + got["messages"] * _mqtt_overhead(up_topic_len, 20_000)
    ratio = got["bytes"] / payload_in
    events = got["events"]
    lat = [1000 * (e["arrived"] - sent_at[(e["device"], e["seq"])]) for e in events if (e["device"], e["seq"]) in sent_at]
    summaries = got["summaries"]
    mean_reading = payload_in / readings
    mean_summary = (got["bytes"] / got["items"]) if got["items"] else 0.0
    res.figures.append(
        Figure("uplink / device bytes (payload)", round(ratio, 5), "ratio", target="<= 0.05", target_of="value",
               baseline_name="ThingsBoard forwards every reading: ~1", note=f"1/{1 / ratio:.0f}" if ratio else "")
    )
    res.figures.append(
        Figure("event latency p50 (publish -> upstream)", percentile(lat, 50), "ms", baseline=sum(PEER_LATENCY_P50_MS) / 2,
               baseline_name="ThingsBoard p50 154-314 ms (peer notes)")
    )
    res.details = {
        "devices": n_dev,
        "readings": readings,
        "windows": windows,
        "device_payload_bytes": payload_in,
        "device_wire_bytes_est": wire_in,
        "gateway_bytes_in_metric": bytes_in,
        "uplink_payload_bytes": got["bytes"],
        "uplink_inflated_json_bytes": got["inflated_bytes"],
        "ratio_without_compression": round(got["inflated_bytes"] / payload_in, 5),
        "uplink_wire_bytes_est": wire_up,
        "uplink_payload_bytes_metric": up_bytes,
        "wire_ratio": round(wire_up / wire_in, 5),
        "uplink_messages": got["messages"],
        "uplink_items": got["items"],
        "uplinked_items_metric": up_items,
        "uplink_messages_metric": up_msgs,
        "summaries": summaries,
        "readings_accounted_by_summaries": got["accounted"],
        "events": len(events),
        "event_types": sorted({e["type"] for e in events}),
        "event_latency_ms": {
            "n": len(lat), "p50": percentile(lat, 50), "p90": percentile(lat, 90), "p99": percentile(lat, 99), "max": max(lat) if lat else None,
        },
        "mean_reading_payload_bytes": round(mean_reading, 1),
        "mean_uplink_bytes_per_item": round(mean_summary, 1),
        "ratio_if_one_reading_per_minute": round(mean_summary / (mean_reading * WINDOW_S / 60), 3) if mean_reading else None,
        "phase_a_s": round(phase_a_s, 1),
        "phase_a_offered_per_s": round(offered_a.rate),
        "phase_b_rate_per_s": n_dev,
        "definition": "steady state = whole 600 s windows of a normal river at 1 reading/s per device; ratio = uplink payload "
        "bytes (all uplink messages: summaries and events) / device payload bytes (JSON readings)",
    }
    if got["accounted"] < n_dev * per_dev:
        res.error = f"summaries account for {got['accounted']} of {n_dev * per_dev} readings in closed windows"
    elif not lat:
        res.error = "no event arrived upstream during phase B"
    return res
