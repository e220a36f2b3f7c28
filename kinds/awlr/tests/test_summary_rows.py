"""Summaries as positional rows (`kinds.awlr.ingest.summary_rows`, uplink schema 2, what gateways sent before
binary records): ingest still decodes them exactly, a gateway upgraded with rows in its outbox
still sends them, and anything that is not a valid row is refused with a clear error."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.outbox import PRIORITY_SUMMARY, OutboxEntry
from gateway.uplink import encode_message
from ingest.testing import siaga_change, summary
from contract.gateway_items import SummariesDropped
from kinds.awlr.items import LevelSummary, QcCounts, outbox_body, stored_summary_origin, summary_values
from kinds.awlr.summary_columns import COLUMNS, MAX_TIME_US, encode_row, summary_id
from kinds.awlr.summary_records import RECORD_MARK
from kinds.awlr.ingest.summary_rows import SummaryRows
from contract.uplink_batch import MessageError
from kinds.awlr.ingest.uplink import read_uplink, summary_at, summary_rows

T0 = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
GW = "gw-ciliwung"


def row_body(item: LevelSummary) -> bytes:
    """A summary as a gateway before schema 3 stored it: a positional row."""
    return encode_row(summary_values(item))


def uplink(*items: LevelSummary | object) -> bytes:
    """A schema 2 payload, as a gateway before schema 3 sent it: rows in `summaries`."""
    rows = [row_body(i) for i in items if isinstance(i, LevelSummary) and outbox_body(i, GW)[:1] == RECORD_MARK]
    objects = [outbox_body(i, GW) for i in items if not (isinstance(i, LevelSummary) and outbox_body(i, GW)[:1] == RECORD_MARK)]  # type: ignore[arg-type]
    head = f'{{"v":2,"tenant":"dki-jakarta","gateway":"{GW}","sent_at":"{T0.isoformat()}","items":['.encode()
    return head + b",".join(objects) + b'],"summaries":[' + b",".join(rows) + b"]}"


def test_a_row_from_an_older_gateway_comes_back_equal() -> None:
    s = summary("depok", T0, 130.25, gateway=GW, first_seq=40)
    assert row_body(s).startswith(b'["depok","awlr-depok",')
    b = read_uplink(uplink(s))
    assert b.events == [] and len(b.summaries) == 1
    assert summary_at(b.summaries, 0, GW) == s
    assert b.summaries.item_ids(GW) == [s.id]


def test_events_stay_objects_beside_the_rows() -> None:
    change = siaga_change("depok", T0, 3, 210.0, siaga_from=4, gateway=GW)
    b = read_uplink(uplink(summary("depok", T0, 200.0, gateway=GW), change))
    assert b.events == [change] and len(b.summaries) == 1


def test_a_summary_whose_id_ingest_cannot_derive_stays_an_object_and_keeps_its_id() -> None:
    odd = summary("depok", T0, 130.0, gateway=GW).model_copy(update={"id": "legacy-id-0001"})
    assert outbox_body(odd, GW).startswith(b"{")
    b = read_uplink(uplink(odd))
    assert b.batch.items[0]["id"] == "legacy-id-0001" and b.events == []
    assert summary_at(b.summaries, 0, GW) == odd


def test_the_outbox_reads_where_a_stored_summary_came_from_in_any_form() -> None:
    s = summary("depok", T0, 130.0, gateway=GW)
    want = ("depok", "awlr-depok", T0.timestamp())
    assert outbox_body(s, GW)[:1] == RECORD_MARK
    assert stored_summary_origin(outbox_body(s, GW)) == want
    assert stored_summary_origin(row_body(s)) == want  # written before schema 3
    assert stored_summary_origin(s.model_dump_json().encode()) == want  # written before schema 2


levels = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False), st.integers(-10**6, 10**6).map(float))
times = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(9000, 1, 1), timezones=st.just(timezone.utc)
)


@settings(max_examples=200, deadline=None)
@given(
    start=times,
    length_us=st.integers(1, 10**12),
    stats=st.tuples(levels, levels, levels, levels, levels, levels, levels),
    counts=st.tuples(*[st.integers(0, 2**40)] * 6),
    first_seq=st.integers(0, 2**40),
    more=st.integers(0, 2**20),
    siaga=st.integers(1, 4),
    station=st.text(min_size=1, max_size=64),
)
def test_any_valid_summary_round_trips_through_a_row_and_a_record(
    start: datetime,
    length_us: int,
    stats: tuple[float | None, ...],
    counts: tuple[int, ...],
    first_seq: int,
    more: int,
    siaga: int,
    station: str,
) -> None:
    end = start + timedelta(microseconds=length_us)
    s = LevelSummary(
        id=summary_id(GW, station, start, first_seq), station=station, device="awlr-x",
        window_start=start, window_end=end, count=counts[0], rejected=counts[1],
        min_cm=stats[0], max_cm=stats[1], mean_cm=stats[2], last_cm=stats[3],
        qc=QcCounts(good=counts[2], suspect=counts[3], fail=counts[4], missing=counts[5]),
        suspect_min_cm=stats[4], suspect_max_cm=stats[5], last_ts=end, first_seq=first_seq,
        last_seq=first_seq + more, siaga=siaga, battery_v=stats[6],
    )
    rows = SummaryRows.from_rows([json.loads(row_body(s))])
    assert summary_at(rows, 0, GW) == s
    assert not rows.non_finite.any()
    record = read_uplink(encode_message("dki-jakarta", GW, [OutboxEntry(0, s.id, PRIORITY_SUMMARY, outbox_body(s, GW))], T0))
    assert summary_at(record.summaries, 0, GW) == s
    assert not record.summaries.non_finite.any()


def valid_row() -> list[object]:
    return json.loads(row_body(summary("depok", T0, 130.0, gateway=GW)))


def with_value(column: str, value: object) -> list[object]:
    row = valid_row()
    row[[name for name, _ in COLUMNS].index(column)] = value
    return row


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (valid_row()[:-1], "list of 21 values"),
        ([*valid_row(), 1], "list of 21 values"),
        ({"station": "depok"}, "list of 21 values"),
        (with_value("station", ""), "station must be 1 to 64"),
        (with_value("device", "x" * 65), "device must be 1 to 64"),
        (with_value("station", 5), "station must be text"),
        (with_value("count", True), "must be integers"),  # JSON true is not 1
        (with_value("count", 10.0), "must be integers"),  # nor is 10.0
        (with_value("count", -1), "count must be within"),
        (with_value("siaga", 5), "siaga must be within 1..4"),
        (with_value("first_seq", 2**70), "out of range"),
        (with_value("window_start_us", -1), "window_start_us must be within"),
        (with_value("last_ts_us", MAX_TIME_US + 1), "last_ts_us must be within"),
        (with_value("mean_cm", "120"), "numbers or null"),
        (with_value("mean_cm", 10**400), "out of range"),
        (with_value("window_end_us", 0), "ends before it starts"),
        (with_value("first_seq", 10**6), "last_seq is before"),
    ],
)
def test_invalid_rows_refuse_the_batch_with_a_clear_error(row: object, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SummaryRows.from_rows([valid_row(), row])
    payload = json.dumps(
        {"v": 2, "tenant": "dki-jakarta", "gateway": GW, "sent_at": T0.isoformat(), "items": [], "summaries": [valid_row(), row]}
    )
    with pytest.raises(MessageError):
        read_uplink(payload.encode())


def test_nan_or_infinity_marks_the_row_and_null_does_not() -> None:
    rows = SummaryRows.from_rows(
        [valid_row(), with_value("mean_cm", math.nan), with_value("battery_v", -math.inf), with_value("mean_cm", None)]
    )
    assert rows.non_finite.tolist() == [False, True, True, False]
    assert math.isnan(rows.mean_cm[3])  # null


def test_a_batch_with_neither_items_nor_summaries_is_refused() -> None:
    payload = {"v": 2, "tenant": "dki-jakarta", "gateway": GW, "sent_at": T0.isoformat(), "items": [], "summaries": []}
    with pytest.raises(MessageError):
        read_uplink(json.dumps(payload).encode())


def test_schema_1_objects_2_rows_and_3_records_give_the_same_columns() -> None:
    items = [summary("depok", T0 + timedelta(minutes=10 * i), None if i == 2 else 120.0 + i, gateway=GW) for i in range(4)]
    objects = summary_rows(items)
    rows = read_uplink(uplink(*items)).summaries
    entries = [OutboxEntry(k, s.id, PRIORITY_SUMMARY, outbox_body(s, GW)) for k, s in enumerate(items)]
    records = read_uplink(encode_message("dki-jakarta", GW, entries, T0)).summaries
    assert objects.to_rows() == rows.to_rows() == records.to_rows()
    assert objects.item_ids(GW) == rows.item_ids(GW) == records.item_ids(GW) == [i.id for i in items]


def test_a_drop_report_is_never_a_row() -> None:
    report = SummariesDropped(
        id="gw-ciliwung:depok:dropped:1", station="depok", device="awlr-depok", count=3,
        first_window_start=T0, last_window_start=T0,
    )
    assert outbox_body(report, GW).startswith(b"{")


def test_one_rows_id_is_the_one_item_ids_gives() -> None:
    items = [summary(s, T0 + timedelta(minutes=10 * i), 100.0, gateway=GW, first_seq=i) for i, s in enumerate(("depok", "katulampa"))]
    for rows in (read_uplink(uplink(*items)).summaries, summary_rows(items)):
        assert [rows.item_id(i, GW) for i in range(len(rows))] == rows.item_ids(GW) == [s.id for s in items]
