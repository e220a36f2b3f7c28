"""Queue sizing (`tepi.mqtt_queues`) against what the gateway really sends: its replayed outbox."""

from __future__ import annotations

import random
from datetime import datetime, timezone

import pytest

from gateway.uplink import MAX_ITEMS_PER_MESSAGE
from core.config import BrokerQueueConfig, GatewayConfig, OutboxConfig, TepiConfig
from contract.envelope import compress_payload, encode_uplink
from contract.gateway_items import BrokerDrops, SummariesDropped
from kinds.awlr.items import RateOfRise, SiagaChange
from tepi.mqtt_queues import (
    MIN_ITEM_BODY_BYTES,
    QUEUED_MESSAGE_OVERHEAD_BYTES,
    SUMMARY_PAYLOAD_FRACTION,
    device_link_backlog,
    size_queues,
)
from kinds.awlr.summary_records import encode_record
from tepi.boat_gateways import boat_gateway_config

T0 = datetime(2026, 12, 6, tzinfo=timezone.utc)
US = int(T0.timestamp() * 1_000_000)
#: Margin 1 and no burst: the ingest sizing itself must hold the backlog, not the safety factor
#: or a device link's burst.
EXACT = BrokerQueueConfig(peak_readings_per_s=0.001, peak_duration_s=1, margin=1.0)


def smallest_items() -> list[bytes]:
    """The smallest item of each kind the gateway stores: shortest names and id it accepts."""
    names = {"id": "x" * 8, "station": "s"}
    items = [
        BrokerDrops(**names, active=False, dropped=0, broker_total=0, since=None, until=T0),
        SiagaChange(**names, device="d", ts=T0, seq=0, level_cm=0, siaga_from=None, siaga_to=1),
        RateOfRise(**names, device="d", ts=T0, seq=0, level_cm=0, rate_cm_per_h=None, threshold_cm_per_h=0, active=False),
        SummariesDropped(**names, device="d", count=1, first_window_start=T0, last_window_start=T0),
    ]
    return [i.model_dump_json().encode() for i in items]


def summaries(n: int, stations: int = 500) -> list[bytes]:
    """Stored summary records of `stations` stations, minute windows, noisy levels."""
    rnd = random.Random(17)
    out = []
    for i in range(n):
        start = US + i * 60_000_000
        level = 800 + rnd.random() * 50
        out.append(encode_record([
            f"st-{i % stations:03d}", f"awlr-{i % stations:03d}", start, start + 60_000_000, 60, 0,
            level - rnd.random(), level + rnd.random(), level, level, 60, 0, 0, 0, None, None, start, i * 60, i * 60 + 59, 2, 12.6,
        ]))
    return out


def replay(cfg: TepiConfig, item: bytes, per_message: int) -> list[bytes]:
    """A full outbox of `item` as the gateway sends it: `per_message` items to a payload."""
    bodies = [item] * (cfg.gateway.outbox.max_bytes // len(item))
    sent_at = datetime.now(timezone.utc).replace(microsecond=123456)
    return [
        compress_payload(encode_uplink(cfg.gateway.tenant, cfg.gateway.id, bodies[i : i + per_message], sent_at))
        for i in range(0, len(bodies), per_message)
    ]


def gateways(default_config: TepiConfig) -> list[TepiConfig]:
    jakarta = default_config.model_copy(update={
        "broker_queue": EXACT,
        "gateway": default_config.gateway.model_copy(update={"outbox": OutboxConfig(max_bytes=1024 * 1024)}),
    })
    badung = jakarta.model_copy(update={
        "gateway": GatewayConfig(id="gw-badung-with-a-much-longer-name", tenant="kab-badung", outbox=OutboxConfig(max_bytes=2 * 1024 * 1024)),
    })
    return [jakarta, badung]


def test_smallest_stored_item_is_no_smaller_than_the_sizing_assumes() -> None:
    assert min(len(b) for b in smallest_items()) >= MIN_ITEM_BODY_BYTES


@pytest.mark.parametrize("kind", ["events", "summaries"])
def test_ingest_queue_holds_every_gateways_replayed_outbox(default_config: TepiConfig, kind: str) -> None:
    """Gateways back from an uplink outage replay their whole outbox while ingest is away (an
    upgrade): all of it fits one ingest session's limits, whether the outboxes hold the smallest
    events (one to a message: the most messages and envelopes) or summaries (a thousand to a
    compressed message); the expected memory covers the summaries."""
    configs = gateways(default_config)
    limits = size_queues(configs)
    if kind == "events":
        payloads = [p for c in configs for p in replay(c, min(smallest_items(), key=len), 1)]
    else:
        payloads = [p for c in configs for p in replay(c, summaries(1)[0], MAX_ITEMS_PER_MESSAGE)]
        records = summaries(MAX_ITEMS_PER_MESSAGE)
        batch = compress_payload(encode_uplink("dki-jakarta", "gw-ciliwung", records, T0))
        assert len(batch) <= SUMMARY_PAYLOAD_FRACTION * sum(map(len, records))
    assert len(payloads) <= limits.max_queued_messages
    assert sum(map(len, payloads)) <= limits.max_queued_bytes
    replayed_memory = len(payloads) * QUEUED_MESSAGE_OVERHEAD_BYTES + sum(map(len, payloads))
    assert replayed_memory <= limits.worst_memory_bytes
    if kind == "summaries":
        assert replayed_memory <= limits.memory_bytes


def test_memory_is_the_whole_brokers_every_session(default_config: TepiConfig) -> None:
    """Limits are per session: a second gateway's device link and more ingest workers are
    counted, ingest workers once (they share one stream)."""
    jakarta, badung = gateways(default_config)
    one = size_queues([jakarta])
    workers = jakarta.ingest.model_copy(update={"workers": 3})
    both = size_queues([jakarta.model_copy(update={"ingest": workers}), badung])
    assert (one.session_count, both.session_count) == (2, 5)
    badung_link = device_link_backlog(badung, EXACT)
    assert both.memory_bytes >= one.memory_bytes + badung_link.memory_bytes
    assert both.worst_memory_bytes >= one.worst_memory_bytes + badung_link.worst_memory_bytes


def test_a_boats_device_link_holds_its_fish_finders_outage_at_its_own_payloads(default_config: TepiConfig) -> None:
    """A fish-finder sends a payload a second of a few KB (the NMEA lines of that second): a
    boat's device link queues every one of them while its gateway is away, each as large as the
    kind accepts, and a river gateway's burst on the same broker does not inflate it."""
    from gateway.devices import device_kind

    kind = device_kind("fishfinder")
    boat = boat_gateway_config(default_config, "jukung-kdg-01", "kab-badung")
    limits = size_queues([default_config, boat])
    link = next(s for s in limits.sessions if s.session == boat.gateway.mqtt_user("devices"))
    queue = boat.broker_queue
    outage = default_config.broker_queue.outage_s
    assert link.messages >= kind.readings_per_s * outage + queue.peak_readings_per_s * queue.peak_duration_s
    assert link.max_payload_bytes == link.messages * kind.max_payload_bytes
    assert link.typical_payload_bytes == link.messages * kind.typical_payload_bytes
    river = default_config.broker_queue
    assert link.messages < river.peak_readings_per_s * river.peak_duration_s, "sized for its own burst, not the river's"
    assert limits.max_queued_messages >= link.messages * limits.margin
    assert limits.max_queued_bytes >= link.max_payload_bytes * limits.margin
