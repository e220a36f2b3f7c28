"""Helper processes of the harness: device publishers and the upstream collector.

They run in their own interpreters (multiprocessing, spawn) so that neither the offered load
nor the counting at the upstream broker shares a GIL with the system being measured.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import threading
import time
import zlib
from dataclasses import asdict, dataclass
from typing import Any

from bench.core import DeployedBroker, device_logins
from bench.fleet import Stream, device_id, split
from bench.mqtt_raw import RawPublisher, build_packets

CTX = mp.get_context("spawn")


# -- publishers -------------------------------------------------------------------------------


def _publisher_main(spec: dict[str, Any], ready: Any, go: Any, out: Any, consumed: Any) -> None:
    try:
        stream = Stream(**spec["stream"])
        msgs = [(device_id(d), topic, payload) for d, _, topic, payload in stream.messages()]
        packets, pbytes = build_packets(msgs, spec["qos"])
        del msgs
        pub = RawPublisher(spec["port"], spec["logins"])
        ready.set()
        go.wait()
        gate = spec.get("gate")  # (this publisher's share of the stream, its budget)
        allowed = (lambda: int(consumed.value * gate[0]) + gate[1]) if gate else None
        st = pub.publish(packets, pbytes, spec["qos"], rate=spec.get("rate"), deadline=spec.get("deadline"), allowed=allowed)
        pub.close()
        res = asdict(st)
        res.pop("send_times")
        out.put(res)
    except BaseException as exc:  # reported to the harness, which fails the benchmark loudly
        ready.set()
        out.put({"error": f"{type(exc).__name__}: {exc}"})


@dataclass
class Offered:
    sent: int
    acked: int
    payload_bytes: int
    wire_bytes: int
    started: float
    finished: float

    @property
    def rate(self) -> float:
        return self.sent / (self.finished - self.started) if self.finished > self.started else 0.0


class PublisherPool:
    """`procs` publisher processes sharing the devices of `stream`, each device on a connection
    of its own with its generated credential; `start()` releases them all at once."""

    def __init__(
        self, stream: Stream, broker: DeployedBroker, qos: int, procs: int = 2, rate: float | None = None, name: str = "pub",
        backlog: int | None = None,
    ) -> None:
        """`backlog`: publish only while fewer than this many messages wait for the consumer
        (which reports its progress in `self.consumed`): as fast as it takes them, without
        more queued at the broker than its generated limits keep."""
        self._ready, self._go, self._out = [], CTX.Event(), CTX.Queue()
        self.consumed = CTX.RawValue("q", 0)
        self._procs = []
        parts = split(stream.count, procs)
        for k, (first, count) in enumerate(parts):
            sub = {**asdict(stream), "first": stream.first + first, "count": count}
            logins = device_logins(broker, [device_id(d) for d in range(sub["first"], sub["first"] + count)])
            spec = {"stream": sub, "port": broker.port, "qos": qos, "logins": logins, "rate": (rate / len(parts)) if rate else None}
            if backlog is not None:
                spec["gate"] = (count / stream.count, max(1, backlog * count // stream.count))
            ev = CTX.Event()
            p = CTX.Process(target=_publisher_main, args=(spec, ev, self._go, self._out, self.consumed), daemon=True, name=f"{name}-{k}")
            p.start()
            self._ready.append(ev)
            self._procs.append(p)

    def wait_ready(self, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for ev in self._ready:
            if not ev.wait(max(0.0, deadline - time.monotonic())):
                raise TimeoutError("publishers did not prepare their messages in time")

    def start(self) -> float:
        t = time.time()
        self._go.set()
        return t

    def result(self, timeout: float = 600.0) -> Offered:
        results = [self._out.get(timeout=timeout) for _ in self._procs]
        for p in self._procs:
            p.join(timeout=10)
        errors = [r["error"] for r in results if "error" in r]
        if errors:
            raise RuntimeError(f"publisher failed: {errors[0]}")
        return Offered(
            sent=sum(r["sent"] for r in results),
            acked=sum(r["acked"] for r in results),
            payload_bytes=sum(r["payload_bytes"] for r in results),
            wire_bytes=sum(r["wire_bytes"] for r in results),
            started=min(r["started"] for r in results),
            finished=max(r["acked_done"] or r["sent_done"] for r in results),
        )

    def kill(self) -> None:
        for p in self._procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)


# -- upstream collector -----------------------------------------------------------------------

#: ThingsBoard's answer to `getSessionLimits` when no limits are configured (peer notes).
TB_SESSION_LIMITS = {"maxPayloadSize": 65536, "maxInflightMessages": 100, "rateLimits": {}, "gatewayRateLimits": {}}
TB_RPC_REQUEST = "v1/devices/me/rpc/request/"
TB_RPC_RESPONSE = "v1/devices/me/rpc/response/"


def _uplink_items(payload: bytes) -> tuple[int, list[dict[str, Any]], tuple[str, bytes] | None]:
    """An uplink payload's inflated size and its items (summaries of every schema included) as
    JSON-like objects with their ids, as ingest decodes them; summaries with the fields counted
    here only (the collector must keep up with a replay at tens of thousands a second)."""
    from kinds.awlr.ingest.uplink import read_uplink

    body = zlib.decompress(payload) if payload[:1] == b"\x78" else payload  # contract.envelope.compress_payload
    river = read_uplink(body)
    batch, r = river.batch, river.summaries
    summaries = [
        {"id": i, "type": "summary", "device": d, "count": c, "qc": {"good": g, "suspect": s, "fail": f}, "first_seq": a, "last_seq": b}
        for i, d, c, g, s, f, a, b in zip(
            r.item_ids(batch.gateway), r.device, r.count.tolist(), r.qc_good.tolist(), r.qc_suspect.tolist(),
            r.qc_fail.tolist(), r.first_seq.tolist(), r.last_seq.tolist(),
        )
    ]
    # Ingest's ack of the message (`contract.downlink.UplinkAck`): the gateway deletes its items only then.
    ack = None
    if batch.msg is not None:
        from contract.downlink import UplinkAck, encode_ack
        from contract.topics import downlink_topic

        ack = (downlink_topic(batch.tenant, batch.gateway), encode_ack(UplinkAck(stored=[batch.msg])))
    gateway_items = [it for it in batch.items if it["kind"] != "awlr"]
    return len(body), [*(it.model_dump(mode="json") for it in river.events), *gateway_items, *summaries], ack


def _collector_main(port: int, client_id: str, login: tuple[str, str] | None, topics: list[str], ready: Any, stop: Any, out: Any, shared: Any) -> None:
    """Counts what arrives upstream. Tepi uplink batches: distinct items, readings accounted for
    by summaries (good + suspect + fail) and events with arrival times. ThingsBoard telemetry:
    distinct (device, seq) readings. Acknowledges each Tepi uplink message as ingest does, after
    counting it; answers ThingsBoard's `getSessionLimits` RPC."""
    import paho.mqtt.client as mqtt

    import kinds.awlr.ingest.uplink  # noqa: F401 - the river kind's reader (`_uplink_items`), loaded before any clock starts

    items: dict[str, dict[str, Any]] = {}
    tb_seen: set[tuple[str, int]] = set()
    timeline: dict[int, int] = {}  # whole second -> readings newly accounted for by Tepi summaries
    tb_timeline: dict[int, int] = {}  # whole second -> ThingsBoard readings newly seen
    events: list[dict[str, Any]] = []
    lock = threading.Lock()
    counts = {"messages": 0, "bytes": 0, "inflated_bytes": 0, "tb_messages": 0, "tb_dups": 0, "rpc": 0}

    def on_connect(c: mqtt.Client, u: Any, flags: Any, rc: Any, props: Any) -> None:
        c.subscribe([(t, 1) for t in topics] + [(TB_RPC_REQUEST + "+", 1)])

    def on_subscribe(c: mqtt.Client, u: Any, mid: int, rcs: Any, props: Any) -> None:
        ready.set()

    def on_message(c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        topic = msg.topic
        if topic.startswith(TB_RPC_REQUEST):
            req = json.loads(msg.payload)
            if req.get("method") == "getSessionLimits":
                c.publish(TB_RPC_RESPONSE + topic[len(TB_RPC_REQUEST):], json.dumps(TB_SESSION_LIMITS), qos=1)
                counts["rpc"] += 1
                shared["rpc"].value += 1
            return
        with lock:
            counts["messages"] += 1
            counts["bytes"] += len(msg.payload)
            sec = int(now)
            if topic.startswith("tepi/"):
                inflated, uplinked, ack = _uplink_items(msg.payload)
                if ack is not None:
                    c.publish(*ack, qos=1)
                counts["inflated_bytes"] += inflated
                for it in uplinked:
                    if it["id"] in items:
                        continue
                    items[it["id"]] = it
                    shared["items"].value += 1
                    if it["type"] == "summary":
                        q = it["qc"]
                        n = q["good"] + q["suspect"] + q["fail"]
                        shared["accounted"].value += n
                        timeline[sec] = timeline.get(sec, 0) + n
                    else:
                        # gateway health items (broker drops) name no device or seq
                        events.append({"id": it["id"], "type": it["type"], "device": it.get("device"), "seq": it.get("seq"), "arrived": now})
            else:  # ThingsBoard gateway telemetry: {"device": [{"ts": ..., "values": {...}}, ...], ...}
                counts["tb_messages"] += 1
                data = json.loads(msg.payload)
                for dev, rows in data.items():
                    for row in rows if isinstance(rows, list) else [rows]:
                        seq = row.get("values", row).get("seq")
                        if seq is None:
                            continue
                        key = (dev, int(seq))
                        if key in tb_seen:
                            counts["tb_dups"] += 1
                            continue
                        tb_seen.add(key)
                        shared["tb"].value += 1
                        tb_timeline[sec] = tb_timeline.get(sec, 0) + 1
            shared["messages"].value = counts["messages"]

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
    if login is not None:
        client.username_pw_set(*login)
    client.max_inflight_messages_set(1000)
    client.reconnect_delay_set(1, 2)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect_async("127.0.0.1", port, keepalive=30)
    client.loop_start()
    stop.wait()
    client.loop_stop()
    client.disconnect()
    with lock:
        summaries = [it for it in items.values() if it["type"] == "summary"]
        out.put(
            {
                **counts,
                "items": len(items),
                "summaries": len(summaries),
                "summary_counts": sum(s["count"] for s in summaries),
                "accounted": shared["accounted"].value,
                "summary_first_seqs": sorted((s["device"], s["first_seq"], s["last_seq"]) for s in summaries),
                "events": events,
                "tb_readings": len(tb_seen),
                "tb_keys": sorted(tb_seen),
                "timeline": sorted(timeline.items()),
                "tb_timeline": sorted(tb_timeline.items()),
            }
        )


class Collector:
    """A persistent-session subscriber on the upstream broker, in its own process; on a
    generated broker it logs in as ingest does (`login`), the one user that reads uplinks."""

    def __init__(self, port: int, topics: list[str], client_id: str = "bench-collector", login: tuple[str, str] | None = None) -> None:
        self._ready, self._stop, self._out = CTX.Event(), CTX.Event(), CTX.Queue()
        self.shared = {k: CTX.RawValue("q", 0) for k in ("messages", "items", "accounted", "tb", "rpc")}
        self._proc = CTX.Process(
            target=_collector_main, args=(port, client_id, login, topics, self._ready, self._stop, self._out, self.shared), daemon=True
        )
        self._proc.start()
        if not self._ready.wait(30):
            self._proc.terminate()
            raise TimeoutError("collector did not subscribe")

    @property
    def items(self) -> int:
        return int(self.shared["items"].value)

    @property
    def accounted(self) -> int:
        return int(self.shared["accounted"].value)

    @property
    def tb(self) -> int:
        return int(self.shared["tb"].value)

    def rpc_answered(self) -> int:
        return int(self.shared["rpc"].value)

    @property
    def messages(self) -> int:
        return int(self.shared["messages"].value)

    def wait(self, cond: Any, timeout: float, poll: float = 0.02) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if cond(self):
                return True
            time.sleep(poll)
        return bool(cond(self))

    def close(self) -> dict[str, Any]:
        self._stop.set()
        res = self._out.get(timeout=60)
        self._proc.join(timeout=10)
        return res
