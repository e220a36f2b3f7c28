"""InfluxPointSink against a real VictoriaMetrics: what is written can be queried back."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ingest.errors import PointWriteError
from kinds.awlr.ingest.points import InfluxPointSink
from kinds.awlr.ingest.summaries import SummaryPoints
from ingest.testing import summary
from core.config import TsdbConfig
from core.processes import VictoriaMetrics, free_port
from kinds.awlr.ingest.uplink import summary_rows

T0 = datetime(2025, 2, 3, 6, 0, tzinfo=timezone.utc)




def test_summaries_become_awlr_series_in_victoria_metrics(victoria_metrics: VictoriaMetrics) -> None:
    sink = InfluxPointSink(TsdbConfig(url=victoria_metrics.url))
    station = "sink-test-depok"
    windows = [summary(station, T0 + timedelta(minutes=10 * i), 200.0 + i, count=7) for i in range(4)]
    # A fifth window in which QC passed nothing: no statistics, but its QC counts are kept.
    windows.append(summary(station, T0 + timedelta(minutes=40), None, count=5))
    try:
        sink.write([SummaryPoints("dki-jakarta", "gw-ciliwung", summary_rows(windows))])
    finally:
        sink.close()
    rows = victoria_metrics.export(f'{{__name__=~"awlr_.*",station="{station}"}}', want_series=9)
    by_name = {r["metric"]["__name__"]: r for r in rows}
    assert set(by_name) == {
        "awlr_level_mean",
        "awlr_level_min",
        "awlr_level_max",
        "awlr_level_last",
        "awlr_level_sum",
        "awlr_count",
        "awlr_qc_suspect",
        "awlr_qc_fail",
        "awlr_qc_missing",
    }
    mean = by_name["awlr_level_mean"]
    assert mean["metric"]["tenant"] == "dki-jakarta"
    assert mean["metric"]["gateway"] == "gw-ciliwung"
    assert mean["values"] == [200.0, 201.0, 202.0, 203.0]
    assert mean["timestamps"] == [int((T0 + timedelta(minutes=10 * i)).timestamp()) * 1000 for i in range(4)]
    assert by_name["awlr_level_min"]["values"] == [198.0, 199.0, 200.0, 201.0]
    assert by_name["awlr_level_sum"]["values"] == [1400.0, 1407.0, 1414.0, 1421.0]
    assert by_name["awlr_count"]["values"] == [7, 7, 7, 7, 0]
    assert by_name["awlr_qc_suspect"]["values"] == [0, 0, 0, 0, 5]


def test_unreachable_tsdb_raises_point_write_error() -> None:
    sink = InfluxPointSink(TsdbConfig(url=f"http://127.0.0.1:{free_port()}"), timeout_ms=2000)
    with pytest.raises(PointWriteError) as info:
        sink.write([SummaryPoints("dki-jakarta", "gw", summary_rows([summary("depok", T0, 100.0)]))])
    assert info.value.__cause__ is not None
    sink.close()
