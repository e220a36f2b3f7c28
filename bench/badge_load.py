"""The load of `badge_throughput`: the office's roster of 2,000 EID badges, its scanners'
batched messages (`wire.encode_scan`, built once per scanner, EID period and RSSI variant, the
time written in per message), the publisher process, and the baseline consumer (paho, JSON,
beacontools). Each runs in a process of its own (spawn), apart from what is measured."""

from __future__ import annotations

import multiprocessing as mp
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from contract.topics import device_topic
from core.config import BrokerConfig, DeviceConfig, GatewayConfig, OutboxConfig, TenantConfig, TepiConfig
from kinds.badge.config import OfficeConfig
from kinds.badge.items import BadgeRoster, RosterBadge

TENANT = "kab-indramayu"
OFFICE = "bkpsdm"
GATEWAY = "gw-bench-office"
BADGES = 2_000
SCANNERS = 10
K = 10  # EIDs rotate every 1,024 s of scanner time
#: Messages kept queued ahead of a consumer in the ceiling passes (~180 kB each).
AHEAD = 40
SPAWN = mp.get_context("spawn")


def scanner_id(j: int) -> str:
    return f"scn-{OFFICE}-{j:02d}"


def bench_roster(seed: int = 21) -> BadgeRoster:
    import numpy as np

    rng = np.random.default_rng(seed)
    return BadgeRoster(version=1, badges=[
        RosterBadge(badge="b" + rng.bytes(6).hex(), format="eid", identity_key=rng.bytes(16).hex(), k=K, epoch=1_700_000_000)
        for _ in range(BADGES)
    ])


def bench_config(local: int, uplink: int, outbox: Path) -> TepiConfig:
    gw = GatewayConfig(
        id=GATEWAY, tenant=TENANT, local_broker=BrokerConfig(port=local), uplink_broker=BrokerConfig(port=uplink),
        outbox=OutboxConfig(path=outbox), max_payload_bytes=1_048_576, device_rate_per_s=1_000_000.0,
    )
    office = OfficeConfig(id=OFFICE, tenant=TENANT, name="BKPSDM Kabupaten Indramayu", lat=-6.3273, lon=108.3235)
    devices = [DeviceConfig(id=scanner_id(j), kind="badge", platform=OFFICE, transport="mqtt") for j in range(SCANNERS)]
    return TepiConfig(tenants=[TenantConfig(id=TENANT, name="Kabupaten Indramayu")], stations=[], devices=devices, gateway=gw, offices=[office])


# -- the scanners' messages (built in the publisher's process) ----------------------------------


class ScanMessages:
    """Scanner j's message of scanner second t: every badge with its EID of that period and an
    RSSI between -55 and -89 dBm by badge, scanner and message; encoded once per (scanner,
    period, RSSI variant) by `wire.encode_scan`, the time written in per message."""

    VARIANTS = 3

    def __init__(self, roster: BadgeRoster) -> None:
        self.badges = [(bytes.fromhex(b.identity_key or ""), b.epoch or 0) for b in roster.badges]
        self._templates: dict[tuple[int, int, int], tuple[bytes, bytes]] = {}

    def payload(self, j: int, t: int) -> bytes:
        period = (t - self.badges[0][1]) >> K
        key = (j, period, t % self.VARIANTS)
        got = self._templates.get(key)
        if got is None:
            got = self._templates[key] = self._template(j, t)
        head, tail = got
        return head + repr(float(t)).encode() + tail

    def _template(self, j: int, t: int) -> tuple[bytes, bytes]:
        from kinds.badge.adverts import eid_advert
        from kinds.badge.eid import eid
        from kinds.badge.wire import Heard, ScanReport, encode_scan

        v = t % self.VARIANTS
        heard = tuple(
            Heard(f"02:00:{i >> 8:02x}:{i & 255:02x}:{j:02x}:{v:02x}", -55 - (i * 7 + j * 13 + v * 5) % 35, eid_advert(eid(key, K, t - epoch), -59))
            for i, (key, epoch) in enumerate(self.badges)
        )
        marker = 1234567890.5
        body = encode_scan(ScanReport(scanner_id(j), datetime.fromtimestamp(marker, timezone.utc), heard))
        head, tail = body.split(repr(marker).encode())
        return head, tail


def scanners_main(port: int, logins: dict[str, tuple[str, str]], roster_json: bytes, plan: list[tuple[float, int]], t0: int,
                   gate: Any, ready: Any, go: Any, out: Any) -> None:
    """Publish `plan` [(messages/s or 0 for as fast as the gate allows, messages)] in order,
    round-robin over the scanners, scanner time t0, t0+1, ...; with `gate` (a shared count of
    messages the consumer took), never more than `AHEAD` ahead of it. Reports, per step, when
    it started and ended and what was sent and acknowledged."""
    from bench.mqtt_raw import RawPublisher, publish_packet

    try:
        msgs = ScanMessages(BadgeRoster.model_validate_json(roster_json))
        pub = RawPublisher(port, logins)
        topics = {scanner_id(j): device_topic(TENANT, scanner_id(j)) for j in range(SCANNERS)}
        ready.set()
        go.wait()
        k, steps = 0, []
        for rate, count in plan:
            packets = []
            for n in range(k, k + count):
                j, t = n % SCANNERS, t0 + n // SCANNERS
                packets.append((scanner_id(j), publish_packet(topics[scanner_id(j)], msgs.payload(j, t), 1, n // SCANNERS % 65535 + 1)))
            base = k
            allowed = (lambda: int(gate.value) - base + AHEAD) if gate is not None else None
            st = pub.publish(packets, sum(len(p) for _, p in packets), 1, rate=rate or None, window=200, chunk=SCANNERS, allowed=allowed)
            steps.append({"rate": rate, "messages": count, "sent": st.sent, "acked": st.acked, "started": st.started, "sent_done": st.sent_done})
            k += count
        pub.close()
        out.put({"steps": steps})
    except BaseException as exc:  # reported to the harness, which fails the benchmark loudly
        ready.set()
        out.put({"error": f"{type(exc).__name__}: {exc}"})


# -- the baseline: decode only -------------------------------------------------------------------


def baseline_main(port: int, login: tuple[str, str], topic: str, parse: bool, ready: Any, stop: Any, progress: Any, adverts: Any, out: Any) -> None:
    """Stock paho, QoS 1: each message's JSON decoded and, with `parse`, each advertisement
    parsed by beacontools' `parse_packet`; nothing kept. `progress`: messages taken, `adverts`:
    advertisements taken."""
    import json

    from beacontools import parse_packet

    first: list[float] = []
    last = [0.0]

    def on_message(c: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        if not first:
            first.append(now)
        body = json.loads(msg.payload)
        if parse:
            for _mac, _rssi, data in body["adv"]:
                parse_packet(bytes.fromhex(data))
        adverts.value += len(body["adv"])
        progress.value += 1
        last[0] = time.time()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=login[0], clean_session=True)
    client.username_pw_set(*login)
    client.max_inflight_messages_set(100)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *_: ready.set()
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    stop.wait()
    client.loop_stop()
    client.disconnect()
    out.put({"first": first[0] if first else None, "last": last[0]})
