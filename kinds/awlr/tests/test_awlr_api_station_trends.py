"""A page of stations' trends, read in a few queries for all of them (`station_trends`), says
for every station what the one-station reading (`station_trend`) says: from the embedded
series on SQLite and PostgreSQL, and from VictoriaMetrics in one PromQL query.

The fleet mixes what changes a trend: 10-minute and 1-minute windows, a change of cadence,
too few windows, no reading at all, all-suspect windows, history older than the span, and
stations silent for days (whose windows must not be mixed with the others').
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import Station, writer
from core.config import TsdbConfig
from core.processes import VictoriaMetrics
from ingest.testing import summary
from kinds.awlr.api.levels import PromLevelStore, SqlLevelStore
from kinds.awlr.api.station_trend import station_trend, station_trends
from kinds.awlr.ingest.points import InfluxPointSink, SqlPointSink
from kinds.awlr.ingest.summaries import SummaryPoints
from kinds.awlr.ingest.uplink import summary_rows
from kinds.awlr.items import LevelSummary

TENANT, GATEWAY = "dki-jakarta", "gw-ciliwung"
#: Newest reading of the fleet's reporting stations (each a little earlier than the next).
NOW = datetime(2025, 3, 1, 6, 0, tzinfo=timezone.utc)
FLEET = 48


def windows(
    station: str, end: datetime, minutes: int, window_min: int, rate_cm_per_h: float, count: int = 10
) -> list[LevelSummary]:
    """Windows of `window_min` ending at `end`, over `minutes`, on a line rising at `rate_cm_per_h`."""
    first = end - timedelta(minutes=minutes)
    out = []
    for k in range(minutes // window_min):
        start = first + timedelta(minutes=k * window_min)
        level = 150.0 + rate_cm_per_h * (k + 0.5) * window_min / 60
        out.append(summary(station, start, level, window_s=60 * window_min, count=count, first_seq=k * count))
    return out


def history(i: int) -> tuple[str, list[LevelSummary]]:
    """Station `trend-<i>` and its summaries: one of eight shapes, rates and times varying with i."""
    station = f"trend-{i:02d}"
    end = NOW - timedelta(seconds=37 * i)  # untils a little apart: plans that differ per station
    rate = (i - FLEET / 2) * 4.0  # falling, steady and rising
    match i % 8:
        case 0:
            return station, windows(station, end, 60, 10, rate)
        case 1:
            return station, windows(station, end, 30, 1, rate, count=6)
        case 2:  # 10-minute windows, then 1-minute ones from Siaga 3 on
            before = windows(station, end - timedelta(minutes=12), 40, 10, rate)
            return station, [*before, *windows(station, end, 12, 1, rate, count=6)]
        case 3:  # two windows: too few
            return station, windows(station, end, 20, 10, rate)
        case 4:  # registered, never heard from
            return station, []
        case 5:  # silent for days, each for a different time: spells of their own
            return station, windows(station, end - timedelta(days=i), 60, 10, rate)
        case 6:  # all-suspect windows between good ones
            good = windows(station, end, 60, 10, rate)
            suspect = [summary(station, w.window_start, None, count=8, first_seq=w.first_seq) for w in good[1::2]]
            return station, [*good[::2], *suspect]
        case _:  # three hours of history, rising then steady: only the last half hour counts
            older = windows(station, end - timedelta(hours=1), 120, 10, 60.0)
            return station, [*older, *windows(station, end, 60, 10, 0.0)]


def fleet() -> dict[str, list[LevelSummary]]:
    return dict(history(i) for i in range(FLEET))


def register(engine: Engine, summaries: dict[str, list[LevelSummary]]) -> None:
    """The stations as ingest leaves them: registered, with their newest reading's time."""
    with Session(writer(engine)) as s, s.begin():
        for station, items in summaries.items():
            s.add(Station(
                id=station, tenant_id=TENANT, name=station, river="Kali Uji", lat=-6.5, lon=106.8,
                siaga3_cm=200.0, siaga2_cm=250.0, siaga1_cm=300.0, thresholds_source="test",
                last_level_cm=items[-1].last_cm if items else None,
                last_seen_at=max((w.last_ts for w in items), default=None),
            ))  # fmt: skip


def points(summaries: dict[str, list[LevelSummary]]) -> SummaryPoints:
    return SummaryPoints(TENANT, GATEWAY, summary_rows([w for ws in summaries.values() for w in ws]))


def fleet_stations(session: Session) -> list[Station]:
    return list(session.scalars(sa.select(Station).where(Station.id.like("trend-%")).order_by(Station.id)))


class StatementCount:
    """SELECTs on level_points sent through an engine while it is counting."""

    def __init__(self, engine: Engine) -> None:
        self.n = 0
        self._engine = engine

    def __enter__(self) -> StatementCount:
        sa.event.listen(self._engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self._engine, "before_cursor_execute", self._count)

    def _count(self, conn: object, cursor: object, statement: str, *args: object) -> None:
        if "FROM level_points" in statement:
            self.n += 1


def test_a_page_of_trends_from_the_embedded_series_equals_each_stations_own(engine: Engine) -> None:
    summaries = fleet()
    register(engine, summaries)
    with Session(writer(engine)) as s, s.begin():
        SqlPointSink(s).write([points(summaries)])
    store = SqlLevelStore(lambda: Session(engine))
    with Session(engine) as s:
        stations = fleet_stations(s)
        each = {st.id: station_trend(s, store, st) for st in stations}
        with StatementCount(engine) as statements:
            page = station_trends(s, store, stations)
    assert page == each
    labels = {t.label if t else None for t in each.values()}
    assert labels == {"rising", "falling", "steady", None}, "the fleet exercises every answer"
    silent_spells = sum(1 for i in range(FLEET) if i % 8 == 5)
    assert statements.n == 1 + silent_spells, "one query for the reporting stations, one per silent spell"


@pytest.fixture
def vm_queries(victoria_metrics: VictoriaMetrics) -> Iterator[tuple[PromLevelStore, list[str]]]:
    """A store on the tests' VictoriaMetrics, and the PromQL of every query it sends."""
    sent: list[str] = []
    client = httpx.Client(timeout=10, event_hooks={"request": [lambda r: sent.append(r.url.params["query"])]})
    store = PromLevelStore(victoria_metrics.url, client=client)
    yield store, sent
    store.close()


def test_a_page_of_trends_from_the_tsdb_equals_each_stations_own_in_one_query(
    engine: Engine, victoria_metrics: VictoriaMetrics, vm_queries: tuple[PromLevelStore, list[str]]
) -> None:
    """The points are in VictoriaMetrics only (as ingest writes them there), so each trend comes
    from the TSDB: one query for the reporting stations instead of seven per station."""
    summaries = fleet()
    register(engine, summaries)
    sink = InfluxPointSink(TsdbConfig(url=victoria_metrics.url))
    try:
        sink.write([points(summaries)])
    finally:
        sink.close()
    store, sent = vm_queries
    with Session(engine) as s:
        stations = fleet_stations(s)
        deadline = time.monotonic() + 5
        while True:
            victoria_metrics.flush()
            each = {st.id: station_trend(s, store, st) for st in stations}
            if sum(t is not None for t in each.values()) >= FLEET // 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        sent.clear()
        page = station_trends(s, store, stations)
    assert page == each
    assert {t.label if t else None for t in each.values()} == {"rising", "falling", "steady", None}
    reporting = [q for q in sent if 'tenant="dki-jakarta"' in q]
    silent_spells = sum(1 for i in range(FLEET) if i % 8 == 5)
    assert len(reporting) == len(sent) == 1 + silent_spells, sent
