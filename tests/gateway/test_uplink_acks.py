"""The uplink forgets an item only on ingest's ack: the broker's PUBACK alone deletes nothing,
and a message ingest never acknowledges goes again after the ack timeout or a reconnect.

Driven without a broker: paho queues what an unconnected uplink publishes, and the test hands
the drain thread's inputs (PUBACKs, ingest's acks, a reconnect) over as paho's thread would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from gateway.outbox import PRIORITY_SUMMARY, Outbox
from gateway.uplink import Uplink
from gateway.uplink_inflight import InFlight, SentMessage
from ingest.testing import summary
from tepi.config import BrokerConfig
from tepi.messages import UplinkAck, decode_downlink, encode_ack, outbox_body
from tepi.uplink_batch import decode_batch, message_id_of

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"
TENANT = "dki-jakarta"
TIMEOUT_S = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def uplink(tmp_path: Path, clock: Clock, registry: CollectorRegistry) -> Iterator[Uplink]:
    outbox = Outbox(tmp_path / "outbox.db")
    up = Uplink(outbox, BrokerConfig(port=1), TENANT, GW, registry, ack_timeout_s=TIMEOUT_S, clock=clock)
    yield up
    up.stop(timeout=1)
    outbox.close()


def put_summaries(up: Uplink, station: str, n: int) -> list[str]:
    items = [summary(station, T0 + timedelta(minutes=10 * k), 100.0 + k, gateway=GW, first_seq=k) for k in range(n)]
    up.outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in items])
    return [s.id for s in items]


def published(up: Uplink) -> list[tuple[int, bytes]]:
    """(paho packet id, payload) of every message paho holds to send, oldest first."""
    return [(m.mid, m.payload) for m in up._client._out_messages.values()]


def sample(registry: CollectorRegistry, name: str) -> float:
    return registry.get_sample_value(name) or 0.0


def test_puback_alone_deletes_nothing_and_ingests_ack_deletes_the_rows(uplink: Uplink, registry: CollectorRegistry) -> None:
    put_summaries(uplink, "katulampa", 5)
    assert uplink._send_some()
    [(mid, payload)] = published(uplink)
    msg = decode_batch(payload).msg
    assert msg is not None
    uplink._pubacks.append(mid)
    uplink._commit_acks()
    assert uplink.outbox.depth() == 5, "the broker has it; ingest may not"
    assert not uplink._send_some(), "nor is it sent again before the timeout"
    uplink._acks.append(UplinkAck(stored=[msg]))
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0
    assert uplink.flush(0.1)
    assert sample(registry, "tepi_gateway_uplink_acks_total") == 1
    assert sample(registry, "tepi_gateway_uplink_stored_items_total") == 5


def test_an_item_pubacked_and_never_acked_is_resent_after_the_timeout_and_deleted_on_its_ack(
    uplink: Uplink, clock: Clock, registry: CollectorRegistry
) -> None:
    ids = put_summaries(uplink, "katulampa", 3)
    assert uplink._send_some()
    [(mid, first)] = published(uplink)
    uplink._pubacks.append(mid)
    uplink._commit_acks()
    clock.now += TIMEOUT_S - 1
    uplink._commit_acks()
    assert not uplink._send_some(), "not yet due"
    clock.now += 1
    uplink._commit_acks()
    assert uplink._send_some(), "due: sent again"
    again = published(uplink)[-1][1]
    assert decode_batch(again).summaries.item_ids(GW) == ids
    assert decode_batch(again).msg != decode_batch(first).msg, "a new message, with its own id"
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 3
    # The first message's ack comes late: ignored (its items went again); the second's deletes.
    uplink._acks.append(UplinkAck(stored=[decode_batch(first).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert uplink.outbox.depth() == 3
    uplink._acks.append(UplinkAck(stored=[decode_batch(again).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0


def test_with_ingest_silent_resends_back_off_and_an_ack_restores_the_timeout(
    uplink: Uplink, clock: Clock, registry: CollectorRegistry
) -> None:
    put_summaries(uplink, "katulampa", 1)

    def send_and_puback() -> int:
        assert uplink._send_some()
        mid, payload = published(uplink)[-1]
        uplink._pubacks.append(mid)
        uplink._commit_acks()
        return decode_batch(payload).msg  # type: ignore[return-value]

    def waited_for_resend() -> float:
        """Seconds until the unacked message is released again."""
        start = clock.now
        while not uplink._send_some():
            clock.now += 1
            uplink._commit_acks()
        mid, _ = published(uplink)[-1]
        uplink._pubacks.append(mid)
        uplink._commit_acks()
        return clock.now - start

    send_and_puback()
    # Ingest away: each resend waits twice as long as the one before.
    assert [waited_for_resend() for _ in range(4)] == [TIMEOUT_S, 2 * TIMEOUT_S, 4 * TIMEOUT_S, 8 * TIMEOUT_S]
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 4
    # Ingest back: its ack deletes the item and the next message waits the plain timeout again.
    uplink._acks.append(UplinkAck(stored=[decode_batch(published(uplink)[-1][1]).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0
    put_summaries(uplink, "depok", 1)
    send_and_puback()
    assert waited_for_resend() == TIMEOUT_S


def test_a_reconnect_resends_what_ingest_has_not_acknowledged(uplink: Uplink, registry: CollectorRegistry) -> None:
    put_summaries(uplink, "katulampa", 2)
    assert uplink._send_some()
    [(mid, _)] = published(uplink)
    uplink._pubacks.append(mid)
    uplink._commit_acks()
    uplink._connections += 1  # what `_on_connect` records
    uplink._commit_acks()
    assert uplink._send_some(), "released by the reconnect: the broker may have dropped it"
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 2


def test_a_refused_message_is_deleted_not_resent_and_counted(uplink: Uplink, clock: Clock, registry: CollectorRegistry) -> None:
    put_summaries(uplink, "katulampa", 4)
    assert uplink._send_some()
    [(_, payload)] = published(uplink)
    uplink._acks.append(UplinkAck(rejected=[decode_batch(payload).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0
    assert sample(registry, "tepi_gateway_uplink_rejected_items_total") == 4
    clock.now += 10 * TIMEOUT_S
    uplink._commit_acks()
    assert not uplink._send_some()


def test_in_flight_is_bounded_by_messages_awaiting_ingests_ack(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    up = Uplink(outbox, BrokerConfig(port=1), TENANT, GW, CollectorRegistry(), inflight=2)
    try:
        for k in range(3):
            outbox.put([(f"{GW}:event:{k:04d}", 0, b'{"type": "siaga"}')])  # events travel alone
        assert up._send_some()
        mids = [mid for mid, _ in published(up)]
        assert len(mids) == 2
        up._pubacks.extend(mids)
        up._commit_acks()
        assert not up._send_some(), "PUBACKed but not acknowledged by ingest: still in flight"
    finally:
        up.stop(timeout=1)
        outbox.close()


def test_oldest_unacked_age_counts_from_the_puback() -> None:
    flight = InFlight()
    flight.sent(SentMessage(msg=1, mid=10, seqs=[1, 2], nbytes=50))
    flight.sent(SentMessage(msg=2, mid=11, seqs=[3], nbytes=20))
    assert flight.oldest_unacked_age(5.0) == 0.0, "nothing PUBACKed yet"
    flight.puback(10, now=5.0)
    flight.puback(11, now=7.0)
    assert flight.oldest_unacked_age(9.0) == 4.0
    settled = flight.acked(UplinkAck(stored=[1], rejected=[99]))
    assert settled.seqs == [1, 2] and settled.stored_items == 2 and settled.messages == 1
    assert flight.oldest_unacked_age(9.0) == 2.0 and flight.seqs == {3}
    with pytest.raises(ValueError):
        flight.sent(SentMessage(msg=2, mid=12, seqs=[4], nbytes=1))


def test_an_ack_before_its_puback_settles_the_message() -> None:
    flight = InFlight()
    flight.sent(SentMessage(msg=7, mid=3, seqs=[1], nbytes=5))
    assert flight.acked(UplinkAck(stored=[7])).seqs == [1]
    assert flight.puback(3, now=1.0) is None and len(flight) == 0


def test_the_ack_wire_format_is_compact_and_typed() -> None:
    ack = UplinkAck(stored=[5, 6], rejected=[9])
    assert encode_ack(ack) == b'{"type":"uplink_ack","stored":[5,6],"rejected":[9]}'
    assert decode_downlink(encode_ack(ack)) == ack
    for bad in (b"{}", b'{"type":"sos_ack"}', b'{"type":"uplink_ack","stored":[-1]}', b'{"type":"uplink_ack","stored":["5"]}', b"\xff"):
        with pytest.raises(ValueError):
            decode_downlink(bad)


def test_a_refused_payload_still_names_its_message_when_it_can() -> None:
    assert message_id_of(b'{"tenant":"x","gateway":"y","msg":42,"sent_at":"bogus","items":[]}') == 42
    assert message_id_of(b'{"msg":-1}') is None
    assert message_id_of(b'{"msg":true}') is None
    assert message_id_of(b"[1,2]") is None
    assert message_id_of(b"\x78garbage") is None
    assert message_id_of(b"") is None
