"""How the uplink packs the outbox into messages: a thousand summaries a message, never more in
flight than `MAX_INFLIGHT_ITEMS`, and never a message ingest would refuse for its size."""

from __future__ import annotations

import random
import zlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway import uplink as uplink_module
from gateway.outbox import PRIORITY_SUMMARY, Outbox
from gateway.uplink import EVENT_SLOTS, MAX_INFLIGHT_ITEMS, MAX_ITEMS_PER_MESSAGE, Uplink
from ingest.testing import summary
from core.config import BrokerConfig
from contract.envelope import MAX_INFLATED_BYTES, MAX_UPLINK_BYTES
from kinds.awlr.items import LevelSummary, outbox_body

from kinds.awlr.ingest.uplink import read_uplink

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"
TENANT = "dki-jakarta"


def long_named(k: int, rng: random.Random) -> LevelSummary:
    """A summary as large as a record gets: 64-character station and device names, all distinct,
    values without a pattern to compress."""
    s = summary(f"st{k:062d}", T0 + timedelta(minutes=10 * k), rng.uniform(50, 400), gateway=GW, device=f"dv{k:062d}", first_seq=k)
    return s.model_copy(update={"battery_v": rng.uniform(11, 14)})


def unconnected_uplink(tmp_path: Path, items: list[LevelSummary]) -> tuple[Uplink, Outbox]:
    """An uplink that was never started: paho queues what it publishes (it would send it on
    connecting), so `_send_some` shows what goes out without a broker."""
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in items])
    return Uplink(outbox, BrokerConfig(port=1), TENANT, GW, CollectorRegistry()), outbox


def sent(up: Uplink) -> list[list[int]]:
    """Outbox seqs of each message queued so far, in order."""
    return [m.seqs for m in up._inflight.messages()]


def test_a_backlog_goes_out_a_thousand_summaries_a_message_and_in_flight_stays_bounded(tmp_path: Path) -> None:
    # More than MAX_INFLIGHT_ITEMS waiting, and message slots (200) for far more.
    items = [summary(f"st{k % 100:03d}", T0 + timedelta(minutes=10 * (k // 100)), 100.0 + k % 7, gateway=GW, first_seq=k) for k in range(MAX_INFLIGHT_ITEMS + 2500)]
    up, outbox = unconnected_uplink(tmp_path, items)
    try:
        assert up._send_some()
        messages = sent(up)
        # The last few items of the window are kept for events.
        summaries_in_flight = MAX_INFLIGHT_ITEMS - EVENT_SLOTS
        full, rest = divmod(summaries_in_flight, MAX_ITEMS_PER_MESSAGE)
        assert [len(m) for m in messages] == [MAX_ITEMS_PER_MESSAGE] * full + [rest] * (rest > 0)
        assert not up._send_some(), "nothing more goes out until the broker acknowledges some"
        assert len(up._inflight_seqs) == summaries_in_flight
        assert outbox.depth() == len(items), "nothing leaves the outbox before its PUBACK"
    finally:
        up.stop(timeout=1)
        outbox.close()


def test_a_thousand_of_the_largest_summaries_fit_one_message_ingest_accepts(tmp_path: Path) -> None:
    rng = random.Random(7)
    items = [long_named(k, rng) for k in range(MAX_ITEMS_PER_MESSAGE)]
    up, outbox = unconnected_uplink(tmp_path, items)
    try:
        (group, _msg, payload), = up._payloads(outbox.peek(MAX_ITEMS_PER_MESSAGE), T0)
        assert len(group) == MAX_ITEMS_PER_MESSAGE
        assert len(payload) <= MAX_UPLINK_BYTES and len(zlib.decompress(payload)) <= MAX_INFLATED_BYTES
        assert read_uplink(payload).summaries.item_ids(GW) == [s.id for s in items]
    finally:
        outbox.close()


def test_a_message_too_large_for_ingest_is_sent_as_halves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Ingest's limits shrunk so that a thousand long-named summaries exceed them: the group is
    # halved until each part fits, and every summary goes out once, in order.
    rng = random.Random(11)
    items = [long_named(k, rng) for k in range(MAX_ITEMS_PER_MESSAGE)]
    monkeypatch.setattr(uplink_module, "MAX_INFLATED_BYTES", 70_000)
    up, outbox = unconnected_uplink(tmp_path, items)
    try:
        parts = up._payloads(outbox.peek(MAX_ITEMS_PER_MESSAGE), T0)
        assert len(parts) > 1
        assert all(len(zlib.decompress(p)) <= 70_000 for _, _msg, p in parts)
        decoded = [i for _, _msg, p in parts for i in read_uplink(p).summaries.item_ids(GW)]
        assert decoded == [s.id for s in items]
        assert up._send_some()
        assert sum(map(len, sent(up))) == len(items) and len(sent(up)) == len(parts)
    finally:
        up.stop(timeout=1)
        outbox.close()


def test_summaries_linger_to_share_a_message_and_events_do_not(tmp_path: Path) -> None:
    """Fewer than a thousand summaries wait up to `summary_linger_s` from the oldest; a thousand
    go at once; an event goes at once and takes the waiting summaries along."""
    from gateway.outbox import PRIORITY_EVENT

    outbox = Outbox(tmp_path / "outbox.db")
    up = Uplink(outbox, BrokerConfig(port=1), TENANT, GW, CollectorRegistry(), summary_linger_s=60.0)
    try:
        few = [summary("katulampa", T0 + timedelta(minutes=10 * k), 100.0, gateway=GW, first_seq=k) for k in range(10)]
        outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in few])
        assert not up._send_some() and sent(up) == [], "young summaries wait"
        outbox.put([("event-1", PRIORITY_EVENT, b'{"type": "siaga"}')])
        assert up._send_some()
        assert [len(m) for m in sent(up)] == [1, 10], "the event first and alone, then the waiting summaries"

        more = [summary("depok", T0 + timedelta(minutes=10 * k), 100.0, gateway=GW, first_seq=k) for k in range(MAX_ITEMS_PER_MESSAGE - 1)]
        outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in more])
        assert not up._send_some(), "999 wait"
        outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in [summary("manggarai", T0, 100.0, gateway=GW)]])
        assert up._send_some()
        assert [len(m) for m in sent(up)] == [1, 10, MAX_ITEMS_PER_MESSAGE], "a full message goes at once"

        outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in [summary("bogor", T0, 100.0, gateway=GW)]])
        up.summary_linger_s = 0.0
        assert up._send_some() and len(sent(up)[-1]) == 1, "without a linger a summary goes at once"
    finally:
        up.stop(timeout=1)
        outbox.close()
