"""The kinds' shared TSDB sink (`ingest.point_sinks`) against a real VictoriaMetrics: a wave
buoy's sea-state window written through it is queried back; an unreachable TSDB is an error
that keeps the call unacknowledged; without a TSDB nothing is written and nothing fails."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from core.config import TsdbConfig
from core.processes import VictoriaMetrics, free_port
from ingest.errors import PointWriteError
from ingest.point_sinks import NoPointSeries, influx_point_sinks
from kinds.wavebuoy.ingest.points import sea_state_point
from kinds.wavebuoy.items import SeaStateSummary

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)


def _window(buoy: str, hs_max_m: float | None) -> SeaStateSummary:
    return SeaStateSummary(
        id=f"{buoy}-sea-state-1", buoy=buoy, device=f"dev-{buoy}", window_start=T0, window_end=T0 + timedelta(minutes=10),
        count=10, qc_suspect=1, qc_fail=0, hs_max_m=hs_max_m, hs_mean_m=1.1 if hs_max_m else None, tp_mean_s=9.5,
        wave_dir_mean_deg=195.0, wind_max_kn=14.0, wind_mean_kn=11.0, wind_dir_mean_deg=120.0, gust_max_kn=None, last=None,
    )  # fmt: skip


def test_a_kind_s_points_reach_victoria_metrics_through_the_shared_sink(victoria_metrics: VictoriaMetrics) -> None:
    factory, close = influx_point_sinks(TsdbConfig(url=victoria_metrics.url), "sea-state", "unused")
    try:
        factory(None).write([[sea_state_point("kab-badung", _window("wb-sink-test", 1.37))]])
    finally:
        close()
    rows = victoria_metrics.export('{__name__=~"wavebuoy_sea_state_.*",buoy="wb-sink-test"}', want_series=10)
    by_name = {r["metric"]["__name__"]: r for r in rows}
    assert by_name["wavebuoy_sea_state_hs_max_m"]["values"] == [1.37]
    assert by_name["wavebuoy_sea_state_hs_max_m"]["metric"]["tenant"] == "kab-badung"
    assert by_name["wavebuoy_sea_state_hs_max_m"]["timestamps"] == [int(T0.timestamp()) * 1000]
    assert "wavebuoy_sea_state_gust_max_kn" not in by_name, "a statistic the window did not have is left out"


def test_an_unreachable_tsdb_is_a_point_write_error_naming_what_failed() -> None:
    factory, close = influx_point_sinks(TsdbConfig(url=f"http://127.0.0.1:{free_port()}"), "sea-state", "unused")
    try:
        with pytest.raises(PointWriteError, match="TSDB write of 1 sea-state points failed") as info:
            factory(None).write([[sea_state_point("kab-badung", _window("wb-nowhere", 2.0))]])
        assert info.value.__cause__ is not None
    finally:
        close()


def test_without_a_tsdb_the_series_is_not_kept_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="ingest.point_sinks"):
        factory, close = influx_point_sinks(None, "sea-state", "buoys' sea-state summaries are not kept as a series")
    assert isinstance(factory(None), NoPointSeries) and factory(None).write([]) is None
    close()
    assert "buoys' sea-state summaries are not kept as a series" in caplog.text
