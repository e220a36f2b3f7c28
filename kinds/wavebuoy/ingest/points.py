"""The buoy's time series: each window's summary as a point of measurement `wavebuoy_sea_state`
(tags tenant and buoy; fields hs_max_m, hs_mean_m, tp_mean_s, wave_dir_mean_deg, wind_max_kn,
wind_mean_kn, wind_dir_mean_deg, gust_max_kn, count, qc_suspect, qc_fail) at the window's start,
in influx line protocol through ingest's point sink. A statistic the window did not have (no
good observation, no anemometer) is left out of the line.

Without a TSDB the series is not kept (the state store keeps each buoy's latest observation);
`sink_factory` says so once at start.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy.orm import Session

from core.config import TsdbConfig
from ingest.point_sinks import influx_point_sinks
from kinds.wavebuoy.items import SeaStateSummary

MEASUREMENT = "wavebuoy_sea_state"
FIELDS = ("count", "qc_suspect", "qc_fail", "hs_max_m", "hs_mean_m", "tp_mean_s", "wave_dir_mean_deg", "wind_max_kn",
          "wind_mean_kn", "wind_dir_mean_deg", "gust_max_kn")  # fmt: skip


def sea_state_point(tenant: str, summary: SeaStateSummary) -> Point:
    """One window as a point at its start (seconds)."""
    point = Point(MEASUREMENT).tag("tenant", tenant).tag("buoy", summary.buoy).time(summary.window_start, WritePrecision.S)
    for name in FIELDS:
        value = getattr(summary, name)
        if isinstance(value, int):
            point.field(name, value)  # type: ignore[no-untyped-call]
        elif value is not None and math.isfinite(value):
            point.field(name, float(value))  # type: ignore[no-untyped-call]
    return point


def sink_factory(tsdb: TsdbConfig | None) -> tuple[Callable[[Session], Any], Callable[[], None]]:
    return influx_point_sinks(tsdb, "sea-state", "buoys' sea-state summaries are not kept as a series")
