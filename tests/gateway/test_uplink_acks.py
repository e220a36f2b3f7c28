"""The uplink forgets an item only on ingest's ack: the broker's PUBACK alone deletes nothing,
and a message ingest never acknowledges goes again after the ack timeout or a reconnect.

Driven without a broker: paho queues what an unconnected uplink publishes, and the test hands
the drain thread's inputs (PUBACKs, ingest's acks, a reconnect) over as paho's thread would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode
from prometheus_client import CollectorRegistry

from gateway.outbox import PRIORITY_DISTRESS, PRIORITY_EVENT, PRIORITY_SUMMARY, Outbox
from gateway.uplink import DISTRESS_ACK_TIMEOUT_S, EVENT_SLOTS, Uplink
from gateway.uplink_inflight import InFlight, SentMessage
from ingest.testing import summary
from core.config import BrokerConfig
from contract.downlink import UplinkAck, decode_downlink, encode_ack
from kinds.awlr.items import outbox_body
from contract.uplink_batch import decode_batch, message_id_of
from kinds.awlr.ingest.uplink import read_uplink

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
    connect(up, session_present=False)
    yield up
    up.stop(timeout=1)
    outbox.close()


def connect(up: Uplink, session_present: bool) -> None:
    """What paho's thread does on a CONNACK, then the drain thread's turn."""
    up._on_connect(up._client, None, mqtt.ConnectFlags(session_present), ReasonCode(PacketTypes.CONNACK, "Success"), None)
    up._commit_acks()


def disconnect(up: Uplink) -> None:
    up._on_disconnect(up._client, None, mqtt.DisconnectFlags(False), ReasonCode(PacketTypes.DISCONNECT, "Unspecified error"), None)


def put_summaries(up: Uplink, station: str, n: int) -> list[str]:
    items = [summary(station, T0 + timedelta(minutes=10 * k), 100.0 + k, gateway=GW, first_seq=k) for k in range(n)]
    up.outbox.put([(s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for s in items])
    return [s.id for s in items]


def published(up: Uplink) -> list[tuple[int, bytes]]:
    """(paho packet id, payload) of every message paho holds to send, oldest first."""
    return [(m.mid, m.payload) for m in up._client._out_messages.values()]


def send_and_puback(up: Uplink) -> int:
    """Send what is due as one message, the broker acknowledges it; its message id."""
    assert up._send_some()
    mid, payload = published(up)[-1]
    up._pubacks.append(mid)
    up._commit_acks()
    return decode_batch(payload).msg  # type: ignore[return-value]


def send_pubacked(up: Uplink) -> bytes:
    """Send the one message the outbox makes and hand over the broker's PUBACK; its payload."""
    assert up._send_some()
    [(mid, payload)] = published(up)
    up._pubacks.append(mid)
    up._commit_acks()
    return payload


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
    first = send_pubacked(uplink)
    clock.now += TIMEOUT_S - 1
    uplink._commit_acks()
    assert not uplink._send_some(), "not yet due"
    clock.now += 1
    uplink._commit_acks()
    assert uplink._send_some(), "due: sent again"
    again = published(uplink)[-1][1]
    assert read_uplink(again).summaries.item_ids(GW) == ids
    assert decode_batch(again).msg != decode_batch(first).msg, "a new message, with its own id"
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 3
    uplink._acks.append(UplinkAck(stored=[decode_batch(again).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0
    # The first message's ack comes late: its rows are gone already, nothing to do.
    uplink._acks.append(UplinkAck(stored=[decode_batch(first).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert sample(registry, "tepi_gateway_uplink_stored_items_total") == 3


def test_with_ingest_silent_resends_back_off_and_an_ack_restores_the_timeout(
    uplink: Uplink, clock: Clock, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    put_summaries(uplink, "katulampa", 1)

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

    send_and_puback(uplink)
    # Ingest away: each resend waits twice as long as the one before.
    assert [waited_for_resend() for _ in range(4)] == [TIMEOUT_S, 2 * TIMEOUT_S, 4 * TIMEOUT_S, 8 * TIMEOUT_S]
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 4
    assert "tepi mqtt setup" not in caplog.text, "not yet at the longest wait"
    while uplink._ack_wait < 1800:
        waited_for_resend()
    assert "tepi mqtt setup" in caplog.text, "silent this long: the operator hears of it, with the likely fix"
    # Ingest back: its ack deletes the item and the next message waits the plain timeout again.
    uplink._acks.append(UplinkAck(stored=[decode_batch(published(uplink)[-1][1]).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0
    put_summaries(uplink, "depok", 1)
    send_and_puback(uplink)
    assert waited_for_resend() == TIMEOUT_S


def test_a_distress_call_unacknowledged_goes_again_within_seconds_without_backing_off(
    uplink: Uplink, clock: Clock, registry: CollectorRegistry
) -> None:
    """A call PUBACKed by a central broker that then lost ingest's subscription (a restart)
    must not wait the routine minute, nor half an hour once ingest seems silent. The uplink
    reads only an entry's priority, so a stored body stands in for the call here."""
    put_summaries(uplink, "katulampa", 1)
    routine = send_and_puback(uplink)
    stand_in = summary("depok", T0, 100.0, gateway=GW, first_seq=9)
    uplink.outbox.put([(stand_in.id, PRIORITY_DISTRESS, outbox_body(stand_in, GW))])
    calls = []
    for _ in range(4):
        calls.append(send_and_puback(uplink))
        clock.now += DISTRESS_ACK_TIMEOUT_S - 1
        uplink._commit_acks()
        assert not uplink._send_some(), "not yet due"
        clock.now += 1
        uplink._commit_acks()
    assert uplink._send_some(), "the call goes again every DISTRESS_ACK_TIMEOUT_S"
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 4
    assert uplink._ack_wait == TIMEOUT_S, "distress resends do not stretch the routine wait"
    assert routine not in calls and len(uplink._inflight) == 2, "the routine message still waits its minute"


def test_an_unreachable_uplink_broker_is_logged_once_then_rarely_and_counted(
    uplink: Uplink, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(5):
        uplink._on_connect_fail(uplink._client, None)
    unreachable = [r for r in caplog.records if "uplink broker unreachable" in r.getMessage()]
    assert len(unreachable) == 1 and getattr(unreachable[0], "broker") == "127.0.0.1:1"
    assert sample(registry, "tepi_gateway_uplink_connect_failures_total") == 5


def test_a_reconnect_without_the_session_resends_what_ingest_has_not_acknowledged(uplink: Uplink, registry: CollectorRegistry) -> None:
    put_summaries(uplink, "katulampa", 2)
    send_pubacked(uplink)
    disconnect(uplink)
    connect(uplink, session_present=False)
    assert uplink._send_some(), "released by the reconnect: the broker lost the session, maybe the message"
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 2


def test_a_reconnect_with_the_session_waits_for_the_queued_ack_and_nothing_expires_while_away(
    uplink: Uplink, clock: Clock, registry: CollectorRegistry
) -> None:
    put_summaries(uplink, "katulampa", 2)
    payload = send_pubacked(uplink)
    disconnect(uplink)
    clock.now += 10 * TIMEOUT_S
    uplink._commit_acks()
    connect(uplink, session_present=True)
    assert not uplink._send_some(), "the broker kept the session: ingest's ack is on its way"
    clock.now += TIMEOUT_S - 1
    uplink._commit_acks()
    assert not uplink._send_some(), "the ack wait counts from the reconnect"
    uplink._acks.append(UplinkAck(stored=[decode_batch(payload).msg]))  # type: ignore[list-item]
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0
    assert sample(registry, "tepi_gateway_uplink_resent_items_total") == 0


def test_a_late_ack_of_a_resent_message_deletes_its_rows_and_restores_the_timeout(
    uplink: Uplink, clock: Clock, registry: CollectorRegistry
) -> None:
    put_summaries(uplink, "katulampa", 3)
    first = send_and_puback(uplink)
    clock.now += TIMEOUT_S
    uplink._commit_acks()
    second = send_and_puback(uplink)
    assert uplink._ack_wait == 2 * TIMEOUT_S, "ingest silent: the wait doubled"
    uplink._acks.append(UplinkAck(stored=[first]))  # slow, not gone
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0, "its rows are stored: deleted without waiting for the resend's ack"
    assert uplink._ack_wait == TIMEOUT_S
    assert len(uplink._inflight) == 0, "the resend carried only those rows: nothing left in flight"
    uplink._acks.append(UplinkAck(stored=[second]))
    uplink._commit_acks()
    assert sample(registry, "tepi_gateway_uplink_stored_items_total") == 3, "each item counted once"
    put_summaries(uplink, "depok", 1)
    assert uplink._send_some(), "the slot is free again"


def test_a_late_ack_trims_a_newer_message_carrying_the_same_rows() -> None:
    flight = InFlight()
    flight.sent(SentMessage(msg=1, mid=1, seqs=[1, 2], nbytes=5))
    flight.puback(1, now=0.0)
    assert [m.msg for m in flight.expired(now=60.0, ack_timeout_s=60.0)] == [1]
    flight.sent(SentMessage(msg=2, mid=2, seqs=[1, 2, 3], nbytes=7))
    late = flight.acked(UplinkAck(stored=[1]))
    assert late.late_stored == [1, 2] and late.messages == 1 and late.seqs == []
    assert flight.seqs == {3}
    settled = flight.acked(UplinkAck(stored=[2]))
    assert settled.seqs == [3] and settled.stored_items == 1
    assert flight.acked(UplinkAck(stored=[1])).messages == 0, "an id is settled once"


def test_released_ids_are_remembered_within_a_bound() -> None:
    flight = InFlight(released_items_kept=3)
    for msg in (1, 2):
        flight.sent(SentMessage(msg=msg, mid=msg, seqs=[10 * msg, 10 * msg + 1], nbytes=5))
        flight.puback(msg, now=0.0)
    flight.release_unacked()
    assert flight.acked(UplinkAck(stored=[1])).late_stored == [], "the oldest was forgotten"
    assert flight.acked(UplinkAck(stored=[2])).late_stored == [20, 21]
    with pytest.raises(ValueError):
        InFlight(released_items_kept=-1)


def test_events_go_out_with_the_window_full_of_unacknowledged_summaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gateway.uplink.MAX_ITEMS_PER_MESSAGE", 1)  # a window's worth of summaries, in few rows
    outbox = Outbox(tmp_path / "outbox.db")
    up = Uplink(outbox, BrokerConfig(port=1), TENANT, GW, CollectorRegistry(), inflight=2 * EVENT_SLOTS)
    try:
        connect(up, session_present=False)
        put_summaries(up, "katulampa", 3 * EVENT_SLOTS)
        assert up._send_some()
        assert len(published(up)) == EVENT_SLOTS, "summaries fill the window but its event slots"
        assert not up._send_some()
        outbox.put([(f"{GW}:event:{k:04d}", PRIORITY_EVENT, b'{"type": "siaga"}') for k in range(EVENT_SLOTS + 1)])
        assert up._send_some()
        assert len(published(up)) == 2 * EVENT_SLOTS, "each event in a reserved slot"
        assert not up._send_some(), "the window is full"
    finally:
        up.stop(timeout=1)
        outbox.close()


def refuse_or_grant_downlink(up: Uplink, refused: bool) -> None:
    """The SUBACK of the downlink subscription, as paho's thread hands it over."""
    up._on_subscribe(up._client, None, 1, [ReasonCode(PacketTypes.SUBACK, identifier=0x80 if refused else 1)], None)


def test_a_refused_downlink_falls_back_to_deleting_on_the_puback(
    uplink: Uplink, registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    put_summaries(uplink, "katulampa", 2)
    send_pubacked(uplink)
    assert uplink.outbox.depth() == 2
    refuse_or_grant_downlink(uplink, refused=True)
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0, "no ack can come: what the broker has is settled"
    assert sample(registry, "tepi_gateway_uplink_downlink_subscribed") == 0
    assert "tepi mqtt setup" in caplog.text
    put_summaries(uplink, "depok", 1)
    send_and_puback(uplink)
    assert uplink.outbox.depth() == 0, "deleted on the PUBACK, as before acks"
    refuse_or_grant_downlink(uplink, refused=False)
    assert sample(registry, "tepi_gateway_uplink_downlink_subscribed") == 1
    put_summaries(uplink, "manggarai", 1)
    msg = send_and_puback(uplink)
    assert uplink.outbox.depth() == 1, "subscribed again: kept until ingest's ack"
    uplink._acks.append(UplinkAck(stored=[msg]))
    uplink._commit_acks()
    assert uplink.outbox.depth() == 0


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
