"""gateway_throughput: readings/s through the whole edge path vs. a bare paho subscriber.

Gateway path: local MQTT -> paho source thread -> worker (decode, check, QC, Siaga and
rate-of-rise trackers, windows) -> outbox (SQLite WAL, one transaction per batch); the uplink
drains summaries to a second broker meanwhile, as in production. Ceiling: a paho subscriber
with an empty callback, same subscription (QoS 1) and broker, same stream, same process kind.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from bench.core import Context, Figure, Result, mosquitto, wait_until
from bench.fleet import TENANT, Stream, aligned_start, fleet_config
from bench.procs import PublisherPool
from gateway.runtime import EdgeGateway
from tepi.messages import device_subscription

NAME = "gateway_throughput"


class TimedGateway(EdgeGateway):
    """EdgeGateway plus timestamps: the first frame's arrival and the end of each processed batch
    (the worker asks for the next batch only once the previous one is in the outbox)."""

    def __init__(self, *args: Any, profile: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first_at: float | None = None
        self.done_frames = 0
        self.done_at = 0.0
        self.batches = 0
        self._last_batch = 0
        self._profile = profile
        self.profile_text = ""

    def submit(self, frame: Any) -> None:
        if self.first_at is None:
            self.first_at = time.perf_counter()
        super().submit(frame)

    def _take_batch(self, limit: int = 5000) -> tuple[list[Any], bool]:
        if self._last_batch:
            self.done_frames += self._last_batch
            self.done_at = time.perf_counter()
        batch, stopping = super()._take_batch(limit)
        self._last_batch = len(batch)
        self.batches += 1 if batch else 0
        return batch, stopping

    def _run(self) -> None:
        if not self._profile:
            return super()._run()
        prof = cProfile.Profile()
        prof.enable()
        try:
            super()._run()
        finally:
            prof.disable()
            buf = io.StringIO()
            pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(35)
            self.profile_text = buf.getvalue()


class CeilingSubscriber:
    """The bare paho-mqtt subscriber: what a Python MQTT client alone receives here."""

    def __init__(self, port: int, topic: str) -> None:
        self.count = 0
        self.first_at: float | None = None
        self.last_at = 0.0
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-ceiling", clean_session=True)
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        now = time.perf_counter()
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        self.count += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def run_stream(n_devices: int, per_device: int, port: int, qos: int, procs: int) -> PublisherPool:
    t0 = aligned_start(per_device * 60.0, 600)
    stream = Stream(first=0, count=n_devices, readings_per_device=per_device, t0=t0, step_s=60.0)
    pool = PublisherPool(stream, port, qos=qos, procs=procs)
    pool.wait_ready()
    return pool


def run(ctx: Context, profile: bool = False) -> Result:
    n_devices = 100
    per_device = ctx.scale(1000, 150)
    qos = 1
    total = n_devices * per_device
    timeout = ctx.scale(240.0, 60.0)
    res = Result(NAME, f"{n_devices} AWLR devices, {total} JSON readings at QoS {qos}, published as fast as possible")
    work = ctx.work / NAME
    with mosquitto(work / "local") as local, mosquitto(work / "uplink") as upstream:
        # Ceiling first: the same stream into a subscriber that does nothing.
        ceiling = CeilingSubscriber(local.port, device_subscription(TENANT))
        ceiling.subscribed.wait(10)
        pool = run_stream(n_devices, per_device, local.port, qos, procs=2)
        pool.start()
        wait_until(lambda: ceiling.count >= total, timeout)
        offered_ceiling = pool.result()
        ceiling.close()
        c_rate = (ceiling.count - 1) / (ceiling.last_at - ceiling.first_at) if ceiling.first_at and ceiling.count > 1 else 0.0

        outbox = work / "outbox.db"
        cfg = fleet_config(n_devices, local.port, upstream.port, outbox)
        gw = TimedGateway(cfg, outbox_path=outbox, profile=profile)
        gw.start()
        gw.wait_ready()
        pool = run_stream(n_devices, per_device, local.port, qos, procs=2)
        pool.start()
        max_queued = 0

        def done() -> bool:
            nonlocal max_queued
            max_queued = max(max_queued, gw._frames.qsize())  # frames taken from the broker (PUBACKed) but not yet processed
            return gw.done_frames >= total

        finished = wait_until(done, timeout)
        offered_gw = pool.result()
        g_rate = gw.done_frames / (gw.done_at - gw.first_at) if gw.first_at and gw.done_at > gw.first_at else 0.0
        reg = gw.registry
        accepted = sum(reg.get_sample_value("tepi_gateway_readings_total", {"station": s.id}) or 0 for s in cfg.stations)
        queued = sum(reg.get_sample_value("tepi_gateway_items_queued_total", {"type": t}) or 0 for t in ("summary", "siaga_change", "rate_of_rise"))
        gw.stop()
        rejected = {
            m.labels["reason"]: m.value
            for fam in reg.collect() if fam.name == "tepi_gateway_rejected"
            for m in fam.samples if m.name.endswith("_total") and m.value  # every reason is exported, most at 0
        }

    res.figures.append(
        Figure("gateway readings/s (MQTT -> outbox)", round(g_rate), "readings/s", round(c_rate), "bare paho subscriber msg/s", target=">= 0.7")
    )
    res.details = {
        "devices": n_devices,
        "readings": total,
        "qos": qos,
        "gateway": {
            "processed_frames": gw.done_frames,
            "accepted_readings": accepted,
            "rejected": rejected,
            "finished_in_time": finished,
            "worker_batches": gw.batches,
            "mean_batch": round(gw.done_frames / gw.batches, 1) if gw.batches else None,
            "max_frames_waiting_in_memory": max_queued,
            "outbox_items_queued": queued,
            "offered_per_s": round(offered_gw.rate),
            "publish_s": round(offered_gw.finished - offered_gw.started, 2),
        },
        "ceiling": {
            "received": ceiling.count,
            "offered_per_s": round(offered_ceiling.rate),
            "publish_s": round(offered_ceiling.finished - offered_ceiling.started, 2),
        },
        "method": "rate = messages / (last one done - first one arrived); the publisher (2 raw-socket processes) "
        "finishes long before either consumer, the broker queues the rest (QoS 1 session)",
    }
    if profile:
        from bench.core import RESULTS_DIR

        (RESULTS_DIR / "gateway_throughput.profile.txt").write_text(gw.profile_text)
        res.details["worker_profile"] = "bench/results/gateway_throughput.profile.txt (cProfile of the worker thread, cumulative)"
    if accepted < total:
        res.error = f"gateway accepted {accepted} of {total} readings (rejected: {rejected})"
    return res
