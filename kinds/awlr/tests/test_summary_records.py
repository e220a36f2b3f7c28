"""Summaries as binary records (`kinds.awlr.summary_records`, awlr/summary blocks of uplink schema 4): what the gateway packs
is what ingest reads, value for value; a cellular link pays no more than for JSON rows; and a
block that is short, long or out of range is refused with a clear error."""

from __future__ import annotations

import json
import math
import random
import struct
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from gateway.outbox import PRIORITY_EVENT, PRIORITY_SUMMARY, OutboxEntry
from gateway.uplink import encode_message
from ingest.testing import siaga_change, summary
from contract.envelope import compress_payload
from kinds.awlr.items import LevelSummary, outbox_body, summary_values
from kinds.awlr.summary_columns import MAX_TIME_US, encode_row
from kinds.awlr.summary_records import RECORD_END, RECORD_FIELDS, RECORD_MARK, encode_record
from kinds.awlr.ingest.summary_rows import rows_from_records
from contract.uplink_batch import MessageError, decode_batch
from kinds.awlr.ingest.uplink import read_uplink, summary_at

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"
TENANT = "dki-jakarta"


def payload(*items: LevelSummary | object) -> bytes:
    entries = [
        OutboxEntry(k, getattr(i, "id"), PRIORITY_SUMMARY if isinstance(i, LevelSummary) else PRIORITY_EVENT, outbox_body(i, GW))  # type: ignore[arg-type]
        for k, i in enumerate(items)
    ]
    return encode_message(TENANT, GW, entries, T0)


def test_a_gateway_summary_travels_as_a_record_and_comes_back_equal() -> None:
    s = summary("depok", T0, 130.25, gateway=GW, first_seq=40)
    body = outbox_body(s, GW)
    assert body[:1] == RECORD_MARK and body[RECORD_END:] == b'["depok","awlr-depok"]'
    b = read_uplink(payload(s))
    assert b.batch.v == 4 and b.events == [] and len(b.summaries) == 1
    assert summary_at(b.summaries, 0, GW) == s
    assert b.summaries.item_ids(GW) == [s.id]


def test_stations_and_devices_are_named_once_per_payload() -> None:
    items = [summary(st, T0 + timedelta(minutes=10 * w), 100.0 + w, gateway=GW, first_seq=w) for w in range(50) for st in ("depok", "katulampa")]
    raw = payload(*items)
    head = raw.partition(b"\x00")[0]
    assert json.loads(head)["blocks"][0]["pairs"] == [["depok", "awlr-depok"], ["katulampa", "awlr-katulampa"]]
    rows = read_uplink(raw).summaries
    assert rows.station == [s.station for s in items] and rows.device == [s.device for s in items]
    assert [summary_at(rows, i, GW) for i in range(len(rows))] == items


def test_events_stay_json_objects_and_alone_make_a_plain_json_payload() -> None:
    change = siaga_change("depok", T0, 3, 210.0, siaga_from=4, gateway=GW)
    mixed = read_uplink(payload(summary("depok", T0, 200.0, gateway=GW), change))
    assert mixed.events == [change] and len(mixed.summaries) == 1
    alone = payload(change)
    assert b"\x00" not in alone and json.loads(alone)["v"] == 4  # readable by any JSON tool
    assert read_uplink(alone).events == [change]


def test_records_cost_the_uplink_no_more_than_rows() -> None:
    """Bytes on a paid cellular link, compressed as the gateway sends them."""
    rng = random.Random(7)
    items = [
        summary(f"st-{k % 20}", T0 + timedelta(minutes=10 * (k // 20)), round(rng.uniform(50, 300), 1), gateway=GW, first_seq=10 * k)
        for k in range(200)
    ]
    items = [s.model_copy(update={"mean_cm": s.mean_cm + rng.random() / 7, "battery_v": 12.6}) for s in items]  # type: ignore[operator]
    rows = b",".join(encode_row(summary_values(s)) for s in items)
    schema_2 = b'{"v":2,"tenant":"%s","gateway":"%s","sent_at":"%s","items":[],"summaries":[%s]}' % (
        TENANT.encode(), GW.encode(), T0.isoformat().encode(), rows
    )
    assert len(compress_payload(payload(*items))) <= len(compress_payload(schema_2))


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_statistic_is_never_packed(value: float) -> None:
    s = summary("depok", T0, 130.0, gateway=GW).model_copy(update={"mean_cm": value})
    with pytest.raises(ValueError, match="not finite"):
        encode_record(summary_values(s))
    assert outbox_body(s, GW)[:1] == b"{"  # sent as an object, for ingest to count and refuse


def test_an_integer_beyond_its_field_is_never_packed() -> None:
    values = summary_values(summary("depok", T0, 130.0, gateway=GW))
    values[17] = 2**64  # first_seq
    with pytest.raises(ValueError, match="does not fit"):
        encode_record(values)


def _block(*bodies: bytes) -> tuple[list[tuple[str, str]], bytes, int]:
    """(pairs, block after the NUL, n) of the payload the gateway makes of `bodies`."""
    entries = [OutboxEntry(k, f"id-{k:08d}", PRIORITY_SUMMARY, b) for k, b in enumerate(bodies)]
    head, _, block = encode_message(TENANT, GW, entries, T0).partition(b"\x00")
    header = json.loads(head)
    (only,) = header["blocks"]
    return [tuple(p) for p in only["pairs"]], block, only["n"]  # type: ignore[misc]


def _body_with(column: str, value: float | int) -> bytes:
    body = bytearray(outbox_body(summary("depok", T0, 130.0, gateway=GW), GW))
    code, offset = RECORD_FIELDS[column]
    struct.pack_into("<" + code, body, 1 + offset, value)
    return bytes(body)


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("count", -1, "count must be within"),
        ("siaga", 5, "siaga must be within 1..4"),
        ("siaga", 0, "siaga must be within 1..4"),
        ("window_start_us", -1, "window_start_us must be within"),
        ("last_ts_us", MAX_TIME_US + 1, "last_ts_us must be within"),
        ("window_end_us", 0, "ends before it starts"),
        ("first_seq", 10**6, "last_seq is before"),
    ],
)
def test_a_record_out_of_range_refuses_the_batch_with_a_clear_error(column: str, value: int, problem: str) -> None:
    good = outbox_body(summary("katulampa", T0, 80.0, gateway=GW), GW)
    pairs, block, n = _block(good, _body_with(column, value))
    with pytest.raises(ValueError, match=problem):
        rows_from_records(pairs, block, n)
    with pytest.raises(MessageError, match=problem):
        read_uplink(encode_message(TENANT, GW, [OutboxEntry(0, "id-00000000", PRIORITY_SUMMARY, _body_with(column, value))], T0))


def test_infinity_in_a_record_marks_its_row_and_nan_is_null() -> None:
    pairs, block, n = _block(
        _body_with("mean_cm", math.inf), _body_with("battery_v", -math.inf), _body_with("mean_cm", math.nan),
        outbox_body(summary("depok", T0, 130.0, gateway=GW), GW),
    )
    rows = rows_from_records(pairs, block, n)
    assert rows.non_finite.tolist() == [True, True, False, False]
    assert math.isnan(rows.mean_cm[2])


@pytest.mark.parametrize(
    ("mangle", "problem"),
    [
        (lambda p, b, n: (p, b[:-1], n), "do not hold 2 records"),
        (lambda p, b, n: (p, b + b"\x00", n), "do not hold 2 records"),
        (lambda p, b, n: (p, b, n + 1), "do not hold 3 records"),
        (lambda p, b, n: (p[:1], b, n), "refers to station pair 1 of 1"),
        (lambda p, b, n: (p, b, -1), "not -1"),
    ],
)
def test_a_block_that_does_not_add_up_is_refused(mangle: object, problem: str) -> None:
    pairs, block, n = _block(
        outbox_body(summary("depok", T0, 130.0, gateway=GW), GW), outbox_body(summary("katulampa", T0, 80.0, gateway=GW), GW)
    )
    with pytest.raises(ValueError, match=problem):
        rows_from_records(*mangle(pairs, block, n))  # type: ignore[operator]


@pytest.mark.parametrize(
    "header_change",
    [{"n": 0}, {"n": 3}, {"pairs": []}, {"pairs": [["", "awlr-depok"]]}, {"pairs": [["x" * 65, "d"]]}, {"v": 2}, {"extra": 1}],
)
def test_a_header_that_does_not_fit_its_records_is_refused(header_change: dict[str, object]) -> None:
    raw = payload(summary("depok", T0, 130.0, gateway=GW), summary("katulampa", T0, 80.0, gateway=GW))
    head, _, block = raw.partition(b"\x00")
    header = json.loads(head)
    if {"n", "pairs"} & header_change.keys():
        header["blocks"] = [{**header["blocks"][0], **header_change}]
    else:
        header.update(header_change)
    with pytest.raises(MessageError):
        read_uplink(json.dumps(header).encode() + b"\x00" + block)


def test_the_stations_of_a_batch_come_numbered_from_its_pairs() -> None:
    """A station with two devices is one station; a pair without rows names none."""
    items = [
        summary("depok", T0, 130.0, gateway=GW, first_seq=1),
        summary("katulampa", T0, 80.0, gateway=GW, first_seq=2),
        summary("depok", T0, 131.0, gateway=GW, first_seq=3).model_copy(update={"device": "awlr-depok-2"}),
    ]
    head, _, block = payload(*items).partition(b"\x00")
    header = json.loads(head)
    pairs = [("cibinong", "awlr-cibinong"), *[tuple(p) for p in header["blocks"][0]["pairs"]]]  # a pair no row uses, first
    codes = np.frombuffer(block, dtype="<u4", count=3) + 1
    rows = rows_from_records(pairs, codes.astype("<u4").tobytes() + block[12:], 3)  # type: ignore[arg-type]
    assert rows.station_numbers is not None
    names, numbers = rows.station_numbers
    assert sorted(names) == ["depok", "katulampa"]
    assert [names[k] for k in numbers.tolist()] == ["depok", "katulampa", "depok"] == rows.station
    assert rows.take(np.array([True, False, True])).station_numbers is None  # recomputed after a selection


@pytest.mark.parametrize(
    "change",
    [{"count": 2**64}, {"first_seq": 2**63, "last_seq": 2**63}, {"window_start": datetime(1969, 12, 31, tzinfo=timezone.utc)}],
)
def test_a_summary_no_record_holds_is_refused_as_an_object_too(change: dict[str, object]) -> None:
    """It travels as an object; ingest refuses the batch at once, as for an invalid row, rather
    than failing to store it on every retry."""
    bad = summary("depok", T0, 130.0, gateway=GW, first_seq=1).model_copy(update=change)
    assert outbox_body(bad, GW)[:1] == b"{"
    with pytest.raises(MessageError):
        read_uplink(payload(bad))


def test_bytes_after_a_compressed_payload_are_refused() -> None:
    items = [summary("depok", T0 + timedelta(minutes=10 * w), 130.0, gateway=GW, first_seq=w) for w in range(10)]
    packed = compress_payload(payload(*items))
    assert packed[:1] == b"\x78" and read_uplink(packed).summaries.station == ["depok"] * 10
    with pytest.raises(MessageError, match="after the compressed payload"):
        decode_batch(packed + b"junk")


@pytest.mark.parametrize("n", ['"1"', "1.0", "true"])
def test_the_record_count_must_be_a_json_integer(n: str) -> None:
    head, _, block = payload(summary("depok", T0, 130.0, gateway=GW)).partition(b"\x00")
    with pytest.raises(MessageError):
        read_uplink(head.replace(b'"n":1', b'"n":' + n.encode()) + b"\x00" + block)
