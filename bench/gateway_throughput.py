"""gateway_throughput: readings/s through the whole edge path against two ceilings.

Gateway path: local MQTT -> the gateway's device transport (`MqttDeviceSource` on the gateway
loop) -> decode, check, QC, Siaga and rate-of-rise trackers, windows -> outbox (SQLite WAL, one
transaction per batch) -> deferred PUBACK; the uplink drains summaries to a second broker
meanwhile, as in production. Ceilings, same stream, subscription (QoS 1) and process: the
gateway's own transport with an empty stage (every frame acknowledged, nothing done), and stock
paho-mqtt with an empty callback. Each pass has a fresh broker of its own running the generated
configuration (no session of an earlier pass left to queue for), and every client logs in with
its generated credential. Several rounds, alternating which side goes first; the figure is the
median of each round's ratio.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.core import Context, DeployedBroker, Figure, Result, deployed_broker, deployed_credentials, gateway_login, wait_settled
from bench.fleet import TENANT, Stream, aligned_start, fleet_config
from bench.procs import PublisherPool
from gateway.runtime import EdgeGateway
from core.config import TepiConfig
from contract.topics import device_subscription
from core.runtime_tuning import freeze_start_up_objects

NAME = "gateway_throughput"
EMPTY_STAGE_GATEWAY = "gw-empty-stage"
#: Messages the publisher keeps queued at the broker ahead of the consumer: a site under
#: overload, where the broker holds a backlog of thousands (`tepi mqtt setup` sizes the device
#: link's queue for a 20,000/s burst of 10 s: 201,000 messages for this fleet). Far below that
#: limit, so nothing is dropped, and the same for every consumer measured.
OFFERED_BACKLOG = 5_000


class TimedGateway(EdgeGateway):
    """EdgeGateway plus timestamps (wall clock): the first frame's arrival, and the end of the
    last work done (a batch in the outbox and acknowledged, or deferred readings processed)."""

    def __init__(self, *args: Any, profile: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.first_at: float | None = None
        self.done_frames = 0
        self.done_at = 0.0
        self.batches = 0
        self._profile = profile
        self.profile_text = ""
        self.progress: Any = None  # a shared counter the publishers read: frames acknowledged so far

    def _intake(self, batch: list[Any]) -> None:
        super()._intake(batch)
        self._done(batch)

    def _done(self, batch: list[Any]) -> None:
        """A batch is in the outbox and acknowledged: the broker may send the next ones."""
        if self.first_at is None:
            self.first_at = batch[0].received_at.timestamp()  # the transport's clock read on arrival
        self.done_frames += len(batch)
        self.done_at = time.time()
        self.batches += 1
        if self.progress is not None:
            self.progress.value = self.done_frames

    def _settle(self) -> None:
        pending = self._deferral.pending
        super()._settle()
        if pending:
            self.done_at = time.time()

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


def rejections(gw: TimedGateway) -> dict[str, float]:
    """The gateway's rejected frames by reason (a rejected reading is lost to the user too)."""
    return {
        m.labels["reason"]: m.value
        for fam in gw.registry.collect() if fam.name == "tepi_gateway_rejected"
        for m in fam.samples if m.name.endswith("_total") and m.value  # every reason is exported, most at 0
    }


class EmptyStageGateway(TimedGateway):
    """The gateway's own device transport and loop with an empty stage: each batch of frames is
    acknowledged (PUBACK) as soon as it is taken, nothing decoded, processed or stored. The
    ceiling of what the gateway's transport alone moves."""

    def _intake(self, batch: list[Any]) -> None:
        for frame in batch:
            if frame.ack is not None:
                frame.ack()
        self._done(batch)

    def _settle(self) -> None:
        pass

    def _recover(self) -> None:
        pass


class CeilingSubscriber:
    """Stock paho-mqtt with an empty callback: what a plain Python MQTT client receives here."""

    def __init__(self, port: int, topic: str, login: tuple[str, str]) -> None:
        self.count = 0
        self.progress: Any = None  # a shared counter the publishers read: messages received
        self.first_at: float | None = None
        self.last_at = 0.0
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-ceiling", clean_session=True)
        self.client.username_pw_set(*login)
        self.client.max_inflight_messages_set(1000)
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        now = time.time()
        if self.first_at is None:
            self.first_at = now
        self.last_at = now
        self.count += 1
        if self.progress is not None:
            self.progress.value = self.count

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def offered_stream(n_devices: int, per_device: int, broker: DeployedBroker) -> PublisherPool:
    """The stream from one publisher process, `OFFERED_BACKLOG` messages ahead of the consumer
    (`pool.consumed` is the consumer's progress): the consumer never waits for data."""
    t0 = aligned_start(per_device * 60.0, 600)
    stream = Stream(first=0, count=n_devices, readings_per_device=per_device, t0=t0, step_s=60.0)
    pool = PublisherPool(stream, broker, qos=1, procs=1, backlog=min(OFFERED_BACKLOG, broker.session_queue_limit() // 2))
    pool.wait_ready()
    return pool


def _delivery(pool: PublisherPool, received: int, total: int) -> dict[str, Any]:
    """What the publisher sent and had PUBACKed against what its consumer received."""
    offered = pool.result()
    return {
        "sent": offered.sent, "pubacked": offered.acked, "not_received": total - received,
        "offered_per_s": round(offered.rate), "publish_s": round(offered.finished - offered.started, 2),
    }


def paho_pass(n_devices: int, per_device: int, work: Path, timeout: float) -> dict[str, Any]:
    """Stock paho on a broker of its own, logged in as the empty stage's device link."""
    total = n_devices * per_device
    base = fleet_config(n_devices, 1, 1, work / "unused.db", gateway=EMPTY_STAGE_GATEWAY)
    with deployed_broker(work / "local-paho", [base]) as local:
        ceiling = CeilingSubscriber(local.port, device_subscription(TENANT), gateway_login(local, base.gateway, "devices"))
        ceiling.subscribed.wait(10)
        pool = offered_stream(n_devices, per_device, local)
        ceiling.progress = pool.consumed
        pool.start()
        ended = wait_settled(lambda: ceiling.count, lambda v: v >= total, timeout, idle=3.0)
        delivery = _delivery(pool, ceiling.count, total)
        ceiling.close()
    span = ceiling.last_at - ceiling.first_at if ceiling.first_at else 0.0
    return {"rate": ceiling.count / span if span > 0 else 0.0, "received": ceiling.count, "ended": ended, **delivery}


def gateway_pass(
    kind: type[TimedGateway], n_devices: int, per_device: int, work: Path, timeout: float, profile: bool = False
) -> tuple[dict[str, Any], TimedGateway, TepiConfig]:
    """One stream through a gateway of `kind` on brokers of its own; its rate from the first
    frame's arrival to the end of the last work it did."""
    total = n_devices * per_device
    gw_id = EMPTY_STAGE_GATEWAY if kind is EmptyStageGateway else "gw-bench"
    outbox = work / f"{gw_id}-outbox.db"
    base = fleet_config(n_devices, 1, 1, outbox, gateway=gw_id)
    with deployed_broker(work / f"local-{gw_id}", [base]) as local, deployed_broker(work / f"uplink-{gw_id}", [base]) as upstream:
        cfg = deployed_credentials(fleet_config(n_devices, local.port, upstream.port, outbox, gateway=gw_id), local, upstream)
        gw = kind(cfg, outbox_path=outbox, with_uplink=kind is not EmptyStageGateway, profile=profile)
        gw.start()
        freeze_start_up_objects()  # as `tepi gateway` does
        gw.wait_ready()
        pool = offered_stream(n_devices, per_device, local)
        gw.progress = pool.consumed
        pool.start()
        max_queued = 0

        def done() -> int:
            nonlocal max_queued
            max_queued = max(max_queued, gw._frames.qsize())  # frames taken from the broker, not yet in the outbox
            return gw.done_frames

        ended = wait_settled(done, lambda v: v >= total, timeout, idle=3.0)
        delivery = _delivery(pool, gw.done_frames, total)
        gw.stop()
    rate = gw.done_frames / (gw.done_at - gw.first_at) if gw.first_at and gw.done_at > gw.first_at else 0.0
    return {
        "rate": rate, "processed_frames": gw.done_frames, "ended": ended, "worker_batches": gw.batches,
        "mean_batch": round(gw.done_frames / gw.batches, 1) if gw.batches else None,
        "max_frames_waiting_in_memory": max_queued, **delivery,
    }, gw, cfg


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}


def run(ctx: Context, profile: bool = False) -> Result:
    n_devices = 100
    per_device = ctx.scale(1000, 150)
    rounds = ctx.scale(3, 1)
    total = n_devices * per_device
    timeout = ctx.scale(240.0, 60.0)
    res = Result(NAME, f"{n_devices} AWLR devices, {total} JSON readings at QoS 1, {OFFERED_BACKLOG} queued ahead, {rounds} rounds")
    passes: list[dict[str, Any]] = []
    profile_text = ""
    for k in range(rounds):
        work = ctx.work / NAME / f"round-{k}"
        sides = ["paho", "empty", "gateway"]
        out: dict[str, Any] = {}
        for side in sides if k % 2 == 0 else reversed(sides):
            if side == "paho":
                out[side] = paho_pass(n_devices, per_device, work, timeout)
            elif side == "empty":
                out[side], _, _ = gateway_pass(EmptyStageGateway, n_devices, per_device, work, timeout)
            else:
                out[side], gw, cfg = gateway_pass(TimedGateway, n_devices, per_device, work, timeout, profile=profile and k == 0)
                reg = gw.registry
                accepted = sum(reg.get_sample_value("tepi_gateway_readings_total", {"platform": s.id}) or 0 for s in cfg.stations)
                out[side]["accepted_readings"] = accepted
                out[side]["rejected"] = rejections(gw)
                profile_text = profile_text or gw.profile_text
                if accepted < out[side]["processed_frames"] and res.error is None:
                    res.error = f"gateway accepted {accepted} of {out[side]['processed_frames']} readings it took (rejected: {out[side]['rejected']})"
        passes.append(out)
        for side, got in out.items():
            # Every message the broker PUBACKed reaches the consumer (bench/README.md): a shortfall is a finding, not noise.
            if (got["not_received"] or got["pubacked"] < got["sent"]) and res.error is None:
                res.error = f"round {k}, {side}: {got['sent']} sent, {got['pubacked']} PUBACKed, {got['not_received']} of {total} not received"

    g_rates = [p["gateway"]["rate"] for p in passes]
    e_rates = [p["empty"]["rate"] for p in passes]
    c_rates = [p["paho"]["rate"] for p in passes]
    vs_paho = [g / c if c else 0.0 for g, c in zip(g_rates, c_rates)]
    vs_empty = [g / e if e else 0.0 for g, e in zip(g_rates, e_rates)]
    mid = sorted(range(rounds), key=lambda i: vs_paho[i])[rounds // 2]  # the round with the median ratio
    res.figures.append(
        Figure("gateway readings/s vs its own transport, empty stage", round(g_rates[mid]), "readings/s", round(e_rates[mid]),
               "MqttDeviceSource + gateway loop, empty stage, msg/s", target="", claim="gateway_vs_own_transport")
    )
    res.figures.append(
        Figure("gateway readings/s vs stock paho", round(g_rates[mid]), "readings/s", round(c_rates[mid]), "stock paho subscriber, empty callback, msg/s",
               target=">= 0.7", claim="gateway_vs_paho")
    )
    res.details = {
        "devices": n_devices,
        "readings": total,
        "qos": 1,
        "offered_backlog": OFFERED_BACKLOG,
        "rounds": [{side: {key: (round(v) if key == "rate" else v) for key, v in p[side].items()} for side in ("paho", "empty", "gateway")} for p in passes],
        "ratio_vs_stock_paho": _spread(vs_paho),
        "ratio_vs_empty_stage": _spread(vs_empty),
        "figures_from": "the round with the median ratio vs stock paho",
        "broker": "a fresh one per pass, generated by setup_broker_security (tepi mqtt setup); devices, gateway and subscriber log in with their own credentials",
        "method": "rate = messages / (last one done - first one arrived); one raw-socket publisher process (a connection per device) keeps "
        "OFFERED_BACKLOG messages queued ahead of the consumer, which reports its progress in shared memory; rounds alternate the order of the sides",
    }
    if profile:
        from bench.core import RESULTS_DIR

        (RESULTS_DIR / "gateway_throughput.profile.txt").write_text(profile_text)
        res.details["worker_profile"] = "bench/results/gateway_throughput.profile.txt (cProfile of the worker thread in round 0, cumulative)"
    return res
