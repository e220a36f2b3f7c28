"""Bulk writes of ingest on both databases: idempotency keys, level points, station state.

`apply_batches` inserts the event keys and the points of a call with one bulk INSERT each
(`ingest.bulk`) and folds a station's summaries into one state update; these tests hold that to
what item-by-item ORM writes did.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import ingest.service
from ingest import bulk
from central.db import Alert, LevelPoint, ProcessedMessage, Station, writer
from ingest.errors import StoreError
from kinds.awlr.ingest.points import SqlPointSink
from ingest.service import ApplyResult, apply_batches
from ingest.testing import batch, siaga_change, summary
from contract.gateway_items import SummariesDropped
from contract.uplink_batch import UplinkBatch

T0 = datetime(2025, 1, 20, 0, 0, tzinfo=timezone.utc)
WIB = timezone(timedelta(hours=7))
M10 = timedelta(minutes=10)
_PROCESSED: sa.Table = ProcessedMessage.__table__  # type: ignore[assignment]


def apply(engine: Engine, batches: list[UplinkBatch], now: datetime = T0) -> ApplyResult:
    with Session(writer(engine)) as s, s.begin():
        return apply_batches(s, batches, SqlPointSink(s), now=now)


def backlog(n: int, start: int = 0, stations: tuple[str, ...] = ("katulampa", "depok", "manggarai")) -> list[UplinkBatch]:
    """`n` summaries of windows start.., round robin over stations, 200 per batch (as a gateway sends)."""
    items = [summary(stations[k % len(stations)], T0 + (k // len(stations)) * M10, 100.0 + k % 50) for k in range(start, start + n)]
    return [batch(items[i : i + 200]) for i in range(0, n, 200)]


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


def test_a_backlog_replayed_in_part_or_whole_is_stored_once(engine: Engine) -> None:
    n = bulk.KEYS_PER_ARRAY + bulk.KEYS_PER_IN_LIST + 100
    first = apply(engine, backlog(n))
    assert (first.stored, first.points) == (n, n)
    again = apply(engine, backlog(n))  # written again: the store keeps one of each
    assert (again.stored, again.points) == (n, n)
    overlap = apply(engine, backlog(n, start=n // 2))  # half old, half new
    assert overlap.points == n
    assert count(engine, LevelPoint) == n + n // 2
    assert count(engine, ProcessedMessage) == 0  # summaries need no key


def test_events_beyond_a_lookup_chunk_are_applied_once(engine: Engine) -> None:
    n = bulk.KEYS_PER_ARRAY + bulk.KEYS_PER_IN_LIST + 100  # several lookups on either database
    # A few Siaga changes (each moves an alert, ~10 ms on PostgreSQL) and many accounts of
    # dropped summaries (a key each, nothing else): the keys are what this is about.
    changes = [siaga_change("depok", T0 + k * timedelta(seconds=1), 3 + k % 2, 210.0, siaga_from=4 - k % 2, seq=k) for k in range(50)]
    dropped = [
        SummariesDropped(id=f"gw-ciliwung:depok:d:{k}", station="depok", device="awlr-depok", count=1, first_window_start=T0, last_window_start=T0)
        for k in range(n - len(changes))
    ]
    items = [*changes, *dropped]
    batches = [batch(items[i : i + 1000]) for i in range(0, n, 1000)]
    assert (apply(engine, batches).stored, apply(engine, batches).duplicates) == (n, n)
    assert count(engine, ProcessedMessage) == n


def test_keys_and_points_are_stored_with_their_values(engine: Engine) -> None:
    now = datetime(2025, 1, 20, 9, 30, 15, 123456, tzinfo=WIB)  # stored as UTC
    good = summary("depok", T0.astimezone(WIB), 130.25, count=7)
    empty = summary("depok", T0 + M10, None, count=5)  # no good reading: statistics null
    change = siaga_change("depok", T0 + 2 * M10, 3, 210.0, siaga_from=4)
    b = batch([good, empty, change], gateway="gw-ciliwung")
    apply(engine, [b], now=now)
    with Session(engine) as s:
        keys = {k.item_id: k for k in s.scalars(sa.select(ProcessedMessage))}
        points = {p.item_id: p for p in s.scalars(sa.select(LevelPoint))}
    assert set(keys) == {change.id}
    assert set(points) == {good.id, empty.id}
    for k in keys.values():
        assert (k.tenant_id, k.gateway) == ("dki-jakarta", "gw-ciliwung")
        assert k.processed_at == now and k.processed_at.utcoffset() == timedelta(0)
    p = points[good.id]
    assert (p.tenant_id, p.station_id, p.gateway) == ("dki-jakarta", "depok", "gw-ciliwung")
    assert (p.window_start, p.window_end) == (T0, T0 + M10)
    assert p.window_start.utcoffset() == timedelta(0)
    assert (p.mean_cm, p.min_cm, p.max_cm, p.last_cm, p.count) == (130.25, 128.25, 132.25, 131.25, 7)
    assert (p.qc_suspect, p.qc_fail, p.qc_missing) == (0, 0, 0)
    q = points[empty.id]
    assert (q.mean_cm, q.min_cm, q.max_cm, q.last_cm, q.count, q.qc_suspect) == (None, None, None, None, 0, 5)
    # Timestamps stored through the bulk path compare like any other (SQLite compares text).
    with Session(engine) as s:
        assert s.scalar(sa.select(sa.func.count()).where(LevelPoint.window_start >= T0 + M10)) == 1
        assert s.scalar(sa.select(sa.func.count()).where(ProcessedMessage.processed_at < now)) == 0


def test_a_key_stored_meanwhile_by_another_worker_fails_the_whole_call(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ON CONFLICT DO NOTHING for events: one must not be applied twice; the retry sees a duplicate."""
    first = siaga_change("depok", T0, 3, 205.0, siaga_from=4, seq=1)
    apply(engine, [batch([first])])
    # Another worker stored `first` after this one looked its id up: the lookup missed it.
    monkeypatch.setattr(ingest.service, "_processed_ids", lambda _session, _ids: set())
    raced = batch([siaga_change("depok", T0 + M10, 2, 260.0, siaga_from=3, seq=2), summary("depok", T0 + M10, 265.0, siaga=2), first])
    with pytest.raises(StoreError), Session(writer(engine)) as s, s.begin():
        apply_batches(s, [raced], SqlPointSink(s), now=T0)
    assert count(engine, ProcessedMessage) == 1 and count(engine, LevelPoint) == 0
    with Session(engine) as s:
        (alert,) = s.scalars(sa.select(Alert)).all()
        assert alert.siaga == 3
        st = s.get(Station, "depok")
        assert st is not None and st.last_level_cm == pytest.approx(205.0)
    monkeypatch.undo()
    retried = apply(engine, [raced])
    assert (retried.stored, retried.duplicates) == (2, 1)


def test_a_stations_summaries_in_one_call_leave_the_newest_reading(engine: Engine) -> None:
    """Folded into one update per station: as if applied one by one, in any delivery order."""
    late = summary("manggarai", T0 + 6 * M10, 700.0)  # newest window, delivered first
    tie = summary("manggarai", T0 + 6 * M10, 710.0, first_seq=50)  # same last reading time, later
    older = [summary("manggarai", T0 + k * M10, 650.0 + k) for k in range(1, 5)]
    first = summary("manggarai", T0, 640.0)  # oldest, delivered last
    empty = summary("manggarai", T0 - 3 * M10, None)  # extends the history, no reading
    result = apply(engine, [batch([late, *older]), batch([tie, first, empty])])
    assert result.stored == 8
    with Session(engine) as s:
        st = s.get(Station, "manggarai")
        assert st is not None
        assert st.last_seen_at == T0 + 7 * M10 - timedelta(seconds=1)
        assert st.last_level_cm == pytest.approx(711.0)  # of equal times, the later delivered wins
        assert st.first_seen_at == T0 - 3 * M10
        assert st.last_arrival_at == T0
    # A later call with an older reading does not move it back.
    apply(engine, [batch([summary("manggarai", T0 + 5 * M10, 600.0)])])
    with Session(engine) as s:
        st = s.get(Station, "manggarai")
        assert st is not None and st.last_level_cm == pytest.approx(711.0)


def test_a_summary_back_at_siaga_4_clears_an_alert_opened_earlier_in_the_same_call(engine: Engine) -> None:
    rise = siaga_change("depok", T0 + timedelta(minutes=5), 3, 210.0, siaga_from=4, seq=5)
    before = summary("depok", T0 - M10, 150.0, siaga=4)  # ends before the rise: clears nothing
    back = summary("depok", T0 + 2 * M10, 150.0, siaga=4, first_seq=20)  # after it: clears
    # Delivered out of order: the summaries first.
    result = apply(engine, [batch([back, before]), batch([rise])])
    assert result.alerts == {"opened": 1, "cleared": 1}
    with Session(engine) as s:
        (alert,) = s.scalars(sa.select(Alert)).all()
        assert alert.status == "cleared" and alert.cleared_at == back.last_ts


def test_bulk_helpers_round_trip_values_and_find_existing_keys(engine: Engine) -> None:
    wib_now = datetime(2025, 1, 20, 7, 0, 0, 1, tzinfo=WIB)
    rows = [(f"bulk:{i:05d}", "dki-jakarta", f"gw-{i % 3}") for i in range(bulk.KEYS_PER_ARRAY + 7)]
    with Session(writer(engine)) as s, s.begin():
        bulk.insert_rows(s, _PROCESSED, ("item_id", "tenant_id", "gateway"), [], {"processed_at": wib_now})
        bulk.insert_rows(s, _PROCESSED, ("item_id", "tenant_id", "gateway"), rows, {"processed_at": wib_now})
        probe = [r[0] for r in rows[::2]] + ["bulk:none", "bulk:none", rows[0][0]]
        assert bulk.existing(s, _PROCESSED.c.item_id, probe) == {r[0] for r in rows[::2]}
        assert bulk.existing(s, _PROCESSED.c.item_id, []) == set()
    with Session(engine) as s:
        got = s.execute(sa.select(ProcessedMessage.item_id, ProcessedMessage.gateway, ProcessedMessage.processed_at)).all()
    assert sorted((i, g) for i, g, _ in got) == sorted((i, g) for i, _, g in rows)
    assert {at for _, _, at in got} == {wib_now}


def test_a_backlog_costs_a_few_statements_not_one_per_item(engine: Engine) -> None:
    """The point of the bulk path: statements per call do not grow with the items."""
    statements: list[tuple[str, bool]] = []

    def record(_conn: object, _cursor: object, statement: str, _params: object, _ctx: object, many: bool) -> None:
        statements.append((statement.split()[0].upper(), many))

    n = 2 * bulk.KEYS_PER_IN_LIST + 10
    event.listen(engine, "before_cursor_execute", record)
    try:
        apply(engine, backlog(n))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    inserts = [many for verb, many in statements if verb == "INSERT"]
    if engine.dialect.name == "sqlite":
        assert inserts == [True]  # points: one executemany (summaries need no keys)
    else:
        assert inserts == [False]  # one INSERT ... SELECT unnest(...)
    assert len(statements) < 20, statements
