"""GET /api/v1/stations/{id}/levels from the SQL store and from VictoriaMetrics (PromQL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from api_people import BADUNG_TENANT
from river_story import T0, depok_history, manggarai_history

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from kinds.awlr.api.levels import aligned_start, round_to_resolution
from central.db import writer
from kinds.awlr.ingest.points import InfluxPointSink, SqlPointSink
from ingest.service import apply_batch
from ingest.testing import batch, summary
from kinds.awlr.ingest.summaries import SummaryPoints
from core.config import TsdbConfig
from kinds.awlr.items import LevelSummary
from core.processes import VictoriaMetrics, free_port
from kinds.awlr.ingest.uplink import every_item, summary_rows

URL = "/api/v1/stations/depok/levels"
MANGGARAI = "/api/v1/stations/manggarai/levels"
THREE_HOURS = {"start": "2025-01-20T00:00:00Z", "end": "2025-01-20T03:00:00Z", "every": "1h"}


def levels(client: TestClient, **params: Any) -> dict[str, Any]:
    r = client.get(URL, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_sql_levels_are_bucketed_by_every(client: TestClient) -> None:
    body = levels(client, **THREE_HOURS)
    assert (body["source"], body["every_s"], body["station"], body["tenant"]) == ("sql", 3600, "depok", "dki-jakarta")
    assert [b["start"] for b in body["data"]] == [
        "2025-01-20T00:00:00Z",
        "2025-01-20T01:00:00Z",
        "2025-01-20T02:00:00Z",
    ]
    first = body["data"][0]  # windows 0..5: means 130..135, min 128, max 137, 6 x 10 readings
    assert (first["mean_cm"], first["min_cm"], first["max_cm"], first["count"]) == (132.5, 128.0, 137.0, 60)
    assert first["end"] == "2025-01-20T01:00:00Z"
    assert body["data"][2]["mean_cm"] == 144.5


def test_offsets_are_accepted_and_answers_are_utc(client: TestClient) -> None:
    wib = levels(client, start="2025-01-20T07:00:00+07:00", end="2025-01-20T10:00:00+07:00", every="PT1H")
    utc = levels(client, **THREE_HOURS)
    assert wib["data"] == utc["data"]
    assert wib["start"] == "2025-01-20T00:00:00Z"
    # `every` as the field's description offers it: plain seconds.
    assert levels(client, **{**THREE_HOURS, "every": "3600"})["data"] == utc["data"]
    # An unencoded "+" arrives as a space; it is read as the offset it was meant to be.
    r = client.get(f"{URL}?start=2025-01-20T07:00:00+07:00&end=2025-01-20T10:00:00+07:00&every=1h")
    assert r.status_code == 200 and r.json()["data"] == utc["data"]


def test_unaligned_start_and_empty_buckets(client: TestClient) -> None:
    body = levels(client, start="2025-01-20T02:35:00Z", end="2025-01-20T04:00:00Z", every="30m")
    # Windows at 02:40 and 02:50 fall in [02:35, 03:05); later buckets have no data and are left out.
    assert [(b["start"], b["count"]) for b in body["data"]] == [("2025-01-20T02:35:00Z", 20)]
    assert body["end"] == "2025-01-20T04:05:00Z"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # refused before any query: one database is enough
@pytest.mark.parametrize(
    "params",
    [
        {"every": "30s"},
        {"every": "2d"},
        {"every": "soon"},
        {"start": "2025-01-20T03:00:00Z", "end": "2025-01-20T03:00:00Z"},
        {"start": "2025-01-20T04:00:00Z", "end": "2025-01-20T03:00:00Z"},
        {"start": "2025-01-20T00:00:00", "end": "2025-01-20T03:00:00Z"},
        {"start": "yesterday"},
        {"start": "2025-01-20T00:00:00Z", "end": "2026-01-20T00:00:00Z", "every": "1m"},
        {"start": "2099-01-01T00:00:00Z"},
    ],
)
def test_bad_level_queries_are_422(client: TestClient, params: dict[str, str]) -> None:
    r = client.get(URL, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("invalid_request", "invalid_query")
    assert r.json()["detail"]


def test_history_before_the_first_reading_is_skipped_not_counted(client: TestClient) -> None:
    # 26 years of 10-minute buckets would be far over the limit; the station's data starts at T0.
    body = levels(client, start="2000-01-01T00:00:00Z", end="2025-01-20T03:00:00Z", every="10m")
    assert body["start"] == "2025-01-20T00:00:00Z"
    assert len(body["data"]) == 18
    assert body["data"][0]["mean_cm"] == 130.0
    # Unaligned: the grid of the request is kept, the bucket holding the first window included.
    body = levels(client, start="2000-01-01T00:07:00Z", end="2025-01-20T01:00:00Z", every="1h")
    assert [b["start"] for b in body["data"]][:1] == ["2025-01-19T23:07:00Z"]
    # A range that ends before the history begins is empty, not an error.
    assert levels(client, start="2024-01-01T00:00:00Z", end="2025-01-01T00:00:00Z", every="1m")["data"] == []


def test_unknown_station_is_404(client: TestClient) -> None:
    r = client.get("/api/v1/stations/ciliwung-hilir/levels", params=THREE_HOURS)
    assert r.status_code == 404
    assert r.json()["code"] == "station_not_found"


def write_to_tsdb(vm: VictoriaMetrics, summaries: list[LevelSummary]) -> None:
    sink = InfluxPointSink(TsdbConfig(url=vm.url))
    try:
        sink.write([SummaryPoints("dki-jakarta", "gw-ciliwung", summary_rows(summaries))])
    finally:
        sink.close()


def test_means_are_weighted_by_count_and_qc_counts_kept(client: TestClient) -> None:
    r = client.get(MANGGARAI, params={"start": "2025-01-20T00:00:00Z", "end": "2025-01-20T01:10:00Z", "every": "30m"})
    assert r.status_code == 200, r.text
    # A chart draws the Siaga bounds and, per bucket, how many readings were good or not.
    assert r.json()["thresholds"] == {
        "siaga3_cm": 750.0,
        "siaga2_cm": 850.0,
        "siaga1_cm": 950.0,
        "source": "Dinas PU DKI criteria (Bisnis.com 2014; Kompas, beritajakarta 2015)",
    }
    first, second, doubtful = r.json()["data"]
    assert {k: first[k] for k in ("qc_good", "qc_suspect", "qc_fail", "qc_missing")} == {
        "qc_good": 22,
        "qc_suspect": 0,
        "qc_fail": 0,
        "qc_missing": 0,
    }
    assert (doubtful["qc_good"], doubtful["qc_suspect"]) == (0, 8)
    # 10 x 700 + 2 x 710 + 10 x 720 over 22 readings, not the plain mean 710.
    assert first["mean_cm"] == pytest.approx((7000 + 1420 + 7200) / 22)
    assert (first["count"], first["qc_suspect"]) == (22, 0)
    assert (doubtful["start"], doubtful["count"], doubtful["qc_suspect"]) == ("2025-01-20T01:00:00Z", 0, 8)
    assert doubtful["mean_cm"] is None and doubtful["min_cm"] is None
    assert second["count"] == 24


def test_tsdb_levels_match_sql_levels(
    make_client: Callable[..., TestClient], victoria_metrics: VictoriaMetrics
) -> None:
    summaries = [i for b in (depok_history(), manggarai_history()) for i in every_item(b) if isinstance(i, LevelSummary)]
    write_to_tsdb(victoria_metrics, summaries)
    sql = make_client(level_store="sql")
    tsdb = make_client(tsdb_url=victoria_metrics.url)
    cases = [
        (URL, THREE_HOURS),
        (URL, {"start": "2025-01-19T23:55:00Z", "end": "2025-01-20T03:30:00Z", "every": "20m"}),
        (MANGGARAI, {"start": "2025-01-20T00:00:00Z", "end": "2025-01-20T01:10:00Z", "every": "30m"}),
    ]
    for url, params in cases:
        expected = sql.get(url, params=params).json()
        deadline = time.monotonic() + 5
        while True:
            victoria_metrics.flush()
            got = tsdb.get(url, params=params).json()
            if got["data"] == expected["data"] or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert got["source"] == "tsdb"
        assert len(expected["data"]) >= 3
        assert got["data"] == expected["data"]


def test_tsdb_down_is_503(make_client: Callable[..., TestClient]) -> None:
    client = make_client(tsdb_url=f"http://127.0.0.1:{free_port()}", tsdb_timeout_s=2)
    r = client.get(URL, params=THREE_HOURS)
    assert r.status_code == 503
    assert r.json()["code"] == "level_store_unavailable"


def test_tsdb_store_without_url_refuses_to_start(make_client: Callable[..., TestClient]) -> None:
    with pytest.raises(RuntimeError, match="no TSDB URL"):
        make_client(level_store="tsdb")


def test_window_length_does_not_leak_into_next_bucket(client: TestClient) -> None:
    # A window starting exactly at a bucket boundary belongs to the bucket it starts in.
    body = levels(
        client,
        start=(T0 + timedelta(minutes=10)).isoformat(),
        end=(T0 + timedelta(minutes=30)).isoformat(),
        every="10m",
    )
    assert [(b["start"], b["mean_cm"]) for b in body["data"]] == [
        ("2025-01-20T00:10:00Z", 131.0),
        ("2025-01-20T00:20:00Z", 132.0),
    ]


def test_buckets_without_start_begin_at_whole_multiples_of_their_width(client: TestClient) -> None:
    """07:40:02 as a first bucket made every count look like a gap; from the hour they compare."""
    # The default start is end - 24 h: 2025-01-20T01:47:30Z here (Depok's history runs 00:00-03:00).
    for every, start in (("10m", "2025-01-20T01:40:00Z"), ("20m", "2025-01-20T01:40:00Z"), ("1h", "2025-01-20T01:00:00Z")):
        body = levels(client, end="2025-01-21T01:47:30Z", every=every)
        assert body["start"] == start, every
    hourly = levels(client, end="2025-01-21T01:47:30Z", every="1h")
    assert [(b["start"], b["count"]) for b in hourly["data"]] == [("2025-01-20T01:00:00Z", 60), ("2025-01-20T02:00:00Z", 60)]
    # The default range ends now: still aligned, whatever the clock says.
    default = datetime.fromisoformat(levels(client)["start"])
    assert default.timestamp() % 600 == 0
    # An explicit start is kept as given.
    assert levels(client, start="2025-01-20T02:35:00Z", end="2025-01-20T04:00:00Z", every="30m")["start"] == "2025-01-20T02:35:00Z"


def test_daily_buckets_begin_at_the_stations_local_midnight(
    client: TestClient, make_client: Callable[..., TestClient]
) -> None:
    """A day for a gauge keeper in Depok (WIB, +7) starts at 17:00Z; in Bali (WITA, +8) at 16:00Z."""
    depok = levels(client, end="2025-01-20T12:00:00Z", every="1d")
    assert depok["start"] == "2025-01-19T17:00:00Z"
    assert [b["start"] for b in depok["data"]] == ["2025-01-19T17:00:00Z"]
    badung = make_client(as_user=(BADUNG_TENANT, "Petugas BPBD Badung"), level_store="sql")
    r = badung.get("/api/v1/stations/tukad-mati-kuta/levels", params={"end": "2025-01-20T12:00:00Z", "every": "1d"})
    assert r.status_code == 200, r.text
    assert r.json()["start"] == "2025-01-19T16:00:00Z"
    assert [(b["start"], b["count"]) for b in r.json()["data"]] == [("2025-01-19T16:00:00Z", 60)]


def test_bucket_levels_carry_no_more_digits_than_the_gauge(client: TestClient, engine: Engine) -> None:
    """A weighted mean of 0.1 cm readings showed as 39.57000000000001; Depok reports in 0.1 cm."""
    t1 = datetime(2025, 2, 1, tzinfo=timezone.utc)
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([summary("depok", t1, 39.52, count=1), summary("depok", t1 + timedelta(minutes=10), 39.61, count=1)]), SqlPointSink(s))
    body = levels(client, start=t1.isoformat(), end=(t1 + timedelta(hours=1)).isoformat(), every="1h")
    (bucket,) = body["data"]
    assert (bucket["mean_cm"], bucket["min_cm"], bucket["max_cm"], bucket["count"]) == (39.6, 37.5, 41.6, 2)


def test_bucket_alignment_counts_from_local_midnight() -> None:
    t = datetime(2025, 1, 20, 7, 40, 2, tzinfo=timezone.utc)
    wit = timedelta(hours=9)
    assert aligned_start(t, timedelta(minutes=10), wit) == datetime(2025, 1, 20, 7, 40, tzinfo=timezone.utc)
    assert aligned_start(t, timedelta(hours=6), timedelta(0)) == datetime(2025, 1, 20, 6, 0, tzinfo=timezone.utc)
    # 00:00, 06:00, 12:00, 18:00 WIT are 15:00Z, 21:00Z, 03:00Z, 09:00Z.
    assert aligned_start(t, timedelta(hours=6), wit) == datetime(2025, 1, 20, 3, 0, tzinfo=timezone.utc)
    assert aligned_start(t, timedelta(days=1), wit) == datetime(2025, 1, 19, 15, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="positive"):
        aligned_start(t, timedelta(0), wit)


@pytest.mark.parametrize(
    ("value", "resolution", "expected"),
    [
        (39.57000000000001, 0.1, 39.6),
        (15640 / 22, 0.1, 710.9),
        (0.1 + 0.2, 0.1, 0.3),
        (39.57, 0.5, 39.5),
        (39.57, 1.0, 40.0),
        (39.57, 0.25, 39.5),
        (-0.04, 0.1, 0.0),
        (None, 0.1, None),
    ],
)
def test_levels_are_rounded_to_the_gauges_resolution(value: float | None, resolution: float, expected: float | None) -> None:
    rounded = round_to_resolution(value, resolution)
    assert rounded == expected
    assert repr(rounded) == repr(expected)  # no float noise left in the JSON


@pytest.mark.parametrize("resolution", [0.0, -0.1, float("nan"), float("inf")])
def test_a_resolution_that_is_no_step_is_refused(resolution: float) -> None:
    with pytest.raises(ValueError, match="resolution must be a positive finite number"):
        round_to_resolution(1.0, resolution)
