"""The uplink contract and every decoder under random and mutated input: a clear rejection or
a valid value, never another exception, never an invalid value accepted."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from kinds.awlr import wire
from gateway.errors import FrameRejected
from ingest.testing import batch, siaga_change, summary  # builders shared with ingest tests
from contract.envelope import encode_uplink
from contract.topics import device_from_topic
from kinds.awlr.items import outbox_body, summary_values
from kinds.awlr.summary_columns import encode_row
from kinds.awlr.ingest.summary_rows import SummaryRows
from contract.uplink_batch import MessageError, decode_batch, encode_batch
from kinds.awlr.ingest.uplink import read_uplink

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)


def _valid_batch() -> bytes:
    return encode_batch(
        batch([summary("katulampa", T0, 70.0), siaga_change("katulampa", T0, 3, 85.0, siaga_from=4)], sent_at=T0)
    )


def _valid_rows_batch() -> bytes:
    """Schema 2 as a gateway before schema 3 sent it: summaries as positional rows."""
    items = [summary("katulampa", T0, 70.0), summary("depok", T0, None)]
    rows = b",".join(encode_row(summary_values(s)) for s in items)
    change = siaga_change("katulampa", T0, 3, 85.0, siaga_from=4).model_dump_json().encode()
    return b'{"v":2,"tenant":"dki-jakarta","gateway":"gw-ciliwung","sent_at":"%s","items":[%s],"summaries":[%s]}' % (
        T0.isoformat().encode(), change, rows
    )


def _valid_records_batch() -> bytes:
    """Schema 3 as a gateway sends it: summaries as binary records after the header, events as objects."""
    items = [summary("katulampa", T0, 70.0), summary("depok", T0, None), siaga_change("katulampa", T0, 3, 85.0, siaga_from=4)]
    return encode_uplink("dki-jakarta", "gw-ciliwung", [outbox_body(i, "gw-ciliwung") for i in items], T0)


def test_round_trip() -> None:
    assert encode_batch(decode_batch(_valid_batch())) == _valid_batch()


@given(st.binary(max_size=2000))
def test_random_bytes_are_rejected_cleanly(data: bytes) -> None:
    try:
        decode_batch(data)
    except MessageError:
        pass


@settings(max_examples=300)
@given(st.data(), st.sampled_from([_valid_batch, _valid_rows_batch, _valid_records_batch]))
def test_mutated_batches_are_rejected_or_still_valid(data: st.DataObject, valid: Callable[[], bytes]) -> None:
    raw = bytearray(valid())
    for _ in range(data.draw(st.integers(1, 5))):
        op = data.draw(st.sampled_from(["flip", "delete", "insert"]))
        i = data.draw(st.integers(0, len(raw) - 1))
        if op == "flip":
            raw[i] = data.draw(st.integers(0, 255))
        elif op == "delete":
            del raw[i]
        else:
            raw.insert(i, data.draw(st.integers(0, 255)))
    try:
        batch = decode_batch(bytes(raw))  # any schema, as schema 4
        river = read_uplink(batch)  # and the river kind's items, as ingest reads them
    except MessageError:
        return
    # Accepted: then it must satisfy the whole contract again, as schema 4.
    again = decode_batch(encode_batch(batch))
    assert again.blocks == batch.blocks and again.tenant == batch.tenant and len(again.items) == len(batch.items)
    # NaN is null and infinity marks its row for refusal, so compare through rows.
    rows = SummaryRows.from_rows(river.summaries.to_rows())
    assert rows.non_finite.tolist() == river.summaries.non_finite.tolist()
    assert all(type(i).model_validate_json(i.model_dump_json()) == i for i in river.events)


def test_oversized_and_unknown_items_are_rejected() -> None:
    obj = json.loads(_valid_batch())
    obj["items"][0]["type"] = "teleport"
    for payload in (json.dumps(obj).encode(), b" " * (300 * 1024), b"{}", b'{"v":2}', b'{"v":5}'):
        try:
            read_uplink(payload)
        except MessageError:
            continue
        raise AssertionError(f"accepted {payload[:40]!r}")


def _checksum_ok(line: bytes) -> bool:
    text = line.decode("ascii").strip()
    body, _, stated = text[1:].partition("*")
    x = 0
    for ch in body:
        x ^= ord(ch)
    return stated.upper() == f"{x:02X}"


@settings(max_examples=500)
@given(st.data())
def test_mutated_sentences_never_pass_with_a_wrong_checksum(data: st.DataObject) -> None:
    raw = bytearray(wire.encode_sentence(wire.AwlrFrame("katulampa", 12, T0, 83.2, 12.6)))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    try:
        frame = wire.decode_sentence(bytes(raw))
    except FrameRejected:
        return
    assert _checksum_ok(bytes(raw)), "a corrupted sentence passed"
    assert frame.station and frame.seq >= 0


@given(st.text(max_size=100))
def test_topic_parsing_never_raises(topic: str) -> None:
    dev = device_from_topic(topic)
    parts = topic.split("/")
    assert dev is None or (parts[:3] == ["tepi", parts[1], "dev"] and parts[3] == dev and parts[4] == "up")


def test_a_device_topic_and_topics_below_it_name_the_device() -> None:
    assert device_from_topic("tepi/kab-indramayu/dev/scn-1/up") == "scn-1"
    assert device_from_topic("tepi/kab-indramayu/dev/scn-1/up/AA:BB:CC:DD:EE:FF") == "scn-1"
    for other in ("tepi/kab-indramayu/dev/scn-1/down", "tepi/kab-indramayu/dev//up", "tepi/kab-indramayu/gw/g/up", "x/t/dev/d/up"):
        assert device_from_topic(other) is None, other


def test_compressed_batches_decode_and_bombs_do_not() -> None:
    import zlib

    from contract.envelope import compress_payload

    raw = _valid_batch()
    packed = compress_payload(raw)
    assert packed[:1] == b"\x78" and len(packed) < len(raw)
    assert decode_batch(packed) == decode_batch(raw)
    for bad in (packed[:-5], zlib.compress(b"{" + b" " * (2 * 1024 * 1024) + b"}"), b"\x78garbage"):
        try:
            decode_batch(bad)
        except MessageError:
            continue
        raise AssertionError("accepted a broken compressed payload")


def test_the_cli_loads_without_the_central_stack() -> None:
    """`tepi gateway` runs on small edge hardware: importing the CLI must not pull in the
    database or web stack (each costs the gateway tens of MB of resident memory)."""
    import subprocess
    import sys

    code = "import sys, tepi.cli; print(sorted(m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'influxdb_client') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_acks_for_a_batch_larger_than_one_ack_holds_are_split_and_name_every_message() -> None:
    from contract.downlink import ACK_IDS_MAX, decode_downlink, encode_ack, uplink_acks

    stored, rejected = list(range(2 * ACK_IDS_MAX + 5)), [7, 8]
    acks = [decode_downlink(encode_ack(a)) for a in uplink_acks(stored, rejected)]
    assert len(acks) == 3
    assert [m for a in acks for m in a.stored] == stored and [m for a in acks for m in a.rejected] == rejected
    assert uplink_acks([1], []) == [decode_downlink(b'{"type":"uplink_ack","stored":[1]}')]
