"""The boat's time series: sea summaries as points of measurement `fishfinder_sea` (fields
depth_*/temp_*, tags tenant and vessel) in the TSDB, through ingest's point sink.

Without a TSDB the series is not kept (the state store keeps positions and schools, not the
sea's depth and temperature); `sink_factory` says so once at start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy.orm import Session

from core.config import TsdbConfig
from ingest.errors import PointWriteError
from kinds.fishfinder.items import SeaSummary

log = logging.getLogger(__name__)

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


class InfluxSeaSink:
    def __init__(self, config: TsdbConfig, timeout_ms: int = 10_000) -> None:
        self._config = config
        self._client = InfluxDBClient(url=config.url, token=config.token, org=config.org, timeout=timeout_ms)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, groups: Sequence[Sequence[Point]]) -> None:
        """Write every group of points (one per batch) and wait; `PointWriteError` if it failed."""
        points = [p for group in groups for p in group]
        try:
            self._write_api.write(bucket=self._config.bucket, org=self._config.org, record=points)
        except Exception as exc:  # influxdb-client raises ApiException, urllib3 and OS errors
            raise PointWriteError(f"TSDB write of {len(points)} sea points failed: {type(exc).__name__}") from exc

    def close(self) -> None:
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


class NoSeaSeries:
    """No TSDB configured: the sea series is not kept (see the module)."""

    def write(self, points: Sequence[Any]) -> None:
        return None


def sink_factory(tsdb: TsdbConfig | None) -> tuple[Callable[[Session], Any], Callable[[], None]]:
    if tsdb is None:
        log.info("no TSDB configured: boats' depth and temperature summaries are not kept as a series")
        sink = NoSeaSeries()
        return (lambda _session: sink), lambda: None
    influx = InfluxSeaSink(tsdb)
    return (lambda _session: influx), influx.close
