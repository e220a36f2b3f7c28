"""The trend as the API shows it: the same rate in cm/h for the same river whatever the windows,
on the public stations, the tenant's stations, and from VictoriaMetrics.

The river is the replay of issue 18: Katulampa rising 110 cm/h, which was shown as "steady"
at 152.8, 187.4, 218.8 and 248.2 cm because the last two 1-minute windows differed by < 2 cm.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from api_people import ClientFactory
from fastapi.testclient import TestClient
from river_story import T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kinds.awlr.api.trend import LevelWindow, level_trend
from central.db import Station, writer
from kinds.awlr.ingest.points import InfluxPointSink, SqlPointSink
from ingest.service import apply_batch
from kinds.awlr.ingest.summaries import SummaryPoints
from ingest.testing import batch, summary
from core.config import TsdbConfig
from kinds.awlr.items import LevelSummary
from core.processes import VictoriaMetrics
from kinds.awlr.ingest.uplink import summary_rows

PUBLIC = "/api/v1/public/stations"
STATIONS = "/api/v1/stations"
#: After the river story's last Katulampa event (Siaga 2 at T0 + 4 h, 160 cm).
RISE_START = T0 + timedelta(hours=4)
RATE_CM_PER_H = 110.0


def level_at(minutes: float) -> float:
    return 160.0 + RATE_CM_PER_H * minutes / 60


def rise(minutes: int, window_min: int, first_min: int = 0, readings_per_min: int = 6) -> list[LevelSummary]:
    """Katulampa's windows of `window_min` from `first_min` for `minutes`, with the mean of a
    straight rise over each window and 2 cm between its lowest and highest reading."""
    out = []
    for start in range(first_min, first_min + minutes, window_min):
        mean = level_at(start + window_min / 2)
        siaga = 1 if mean >= 200 else 2
        out.append(
            summary(
                "katulampa", RISE_START + timedelta(minutes=start), mean, window_s=60 * window_min,
                count=readings_per_min * window_min, siaga=siaga, first_seq=start * readings_per_min,
            )  # fmt: skip
        )
    return out


def trend_of(client: TestClient, url: str, key: str) -> tuple[Any, Any, Any]:
    station = next(s for s in client.get(url).json()["data"] if s[key] == "katulampa")
    return station["trend"], station["trend_cm_per_h"], station["level_cm" if url == PUBLIC else "last_level_cm"]


@pytest.mark.parametrize("window_min", [1, 10])
def test_a_rise_of_110_cm_an_hour_reads_as_such_with_any_windows(
    window_min: int, engine: Engine, client: TestClient, anonymous: TestClient
) -> None:
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch(rise(60, window_min)), SqlPointSink(s))
    newest = level_at(60 - window_min / 2) + 1.0  # the last window's last reading (mean + 1 cm)
    assert trend_of(anonymous, PUBLIC, "station") == ("rising", RATE_CM_PER_H, newest)
    assert trend_of(client, STATIONS, "id") == ("rising", RATE_CM_PER_H, newest)


def test_two_windows_are_too_few_for_a_trend(engine: Engine, client: TestClient, anonymous: TestClient) -> None:
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch(rise(20, 10)), SqlPointSink(s))
    assert trend_of(anonymous, PUBLIC, "station")[:2] == (None, None)
    assert trend_of(client, STATIONS, "id")[:2] == (None, None)


def test_the_tsdb_gives_the_trend_across_a_change_of_cadence(
    make_client: ClientFactory, engine: Engine, victoria_metrics: VictoriaMetrics
) -> None:
    """10-minute windows, then 1-minute ones from Siaga 3 on: VictoriaMetrics keeps each window
    at its start only, and the rate still comes out as the windows' own fit does."""
    summaries = [*rise(20, 10), *rise(12, 1, first_min=20)]
    sink = InfluxPointSink(TsdbConfig(url=victoria_metrics.url))
    try:
        sink.write([SummaryPoints("dki-jakarta", "gw-ciliwung", summary_rows(summaries))])
    finally:
        sink.close()
    newest = summaries[-1]
    with Session(writer(engine)) as s, s.begin():  # the station state ingest keeps; the points are in the TSDB
        station = s.get(Station, "katulampa")
        assert station is not None
        station.last_seen_at, station.last_level_cm = newest.last_ts, newest.last_cm
    exact = level_trend(
        [LevelWindow(w.window_start, w.window_end, w.mean_cm or 0.0, w.count) for w in summaries], newest.last_ts
    )
    assert exact is not None and exact.label == "rising"
    assert exact.cm_per_h == pytest.approx(RATE_CM_PER_H, abs=1)

    tsdb = make_client(as_user=None, tsdb_url=victoria_metrics.url)
    sql = make_client(as_user=None, level_store="sql")
    deadline = time.monotonic() + 5
    while True:
        victoria_metrics.flush()
        got = trend_of(tsdb, PUBLIC, "station")
        if got[0] is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert got[:2] == ("rising", exact.cm_per_h)
    assert trend_of(sql, PUBLIC, "station")[:2] == (None, None), "the embedded store has none of these windows"

