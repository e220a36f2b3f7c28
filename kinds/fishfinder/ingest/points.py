"""The boat's time series: sea summaries as points of measurement `fishfinder_sea` (fields
depth_*/temp_*, tags tenant and vessel) in the TSDB, through ingest's point sink.

Without a TSDB the series is not kept (the state store keeps positions and schools, not the
sea's depth and temperature); `sink_factory` says so once at start.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from influxdb_client.client.write.point import Point
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy.orm import Session

from core.config import TsdbConfig
from ingest.point_sinks import influx_point_sinks
from kinds.fishfinder.items import SeaSummary

MEASUREMENT = "fishfinder_sea"
_FIELDS = ("depth_count", "depth_min_m", "depth_max_m", "depth_mean_m", "temp_count", "temp_min_c", "temp_max_c", "temp_mean_c")


def sea_point(tenant: str, summary: SeaSummary) -> Point:
    """One window as a point at its start (seconds), with the statistics the instruments gave."""
    point = Point(MEASUREMENT).tag("tenant", tenant).tag("vessel", summary.vessel).time(summary.window_start, WritePrecision.S)
    for name in _FIELDS:
        value = getattr(summary, name)
        if value is not None:
            point.field(name, value if isinstance(value, int) else float(value))  # type: ignore[no-untyped-call]
    return point


def sink_factory(tsdb: TsdbConfig | None) -> tuple[Callable[[Session], Any], Callable[[], None]]:
    return influx_point_sinks(tsdb, "sea", "boats' depth and temperature summaries are not kept as a series")
