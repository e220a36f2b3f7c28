"""The buoy's time series: each window's summary as a point of measurement `wavebuoy_sea_state`
(tags tenant and buoy; fields hs_max_m, hs_mean_m, tp_mean_s, wave_dir_mean_deg, wind_max_kn,
wind_mean_kn, wind_dir_mean_deg, gust_max_kn, count, qc_suspect, qc_fail) at the window's start,
in influx line protocol through ingest's point sink. A statistic the window did not have (no
good observation, no anemometer) is left out of the line.

Without a TSDB the series is not kept (the state store keeps each buoy's latest observation);
`sink_factory` says so once at start.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from typing import Any

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy.orm import Session

from core.config import TsdbConfig
from ingest.errors import PointWriteError
from kinds.wavebuoy.items import SeaStateSummary

log = logging.getLogger(__name__)

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


class InfluxSeaStateSink:
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
            raise PointWriteError(f"TSDB write of {len(points)} sea-state points failed: {type(exc).__name__}") from exc

    def close(self) -> None:
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


class NoSeaStateSeries:
    """No TSDB configured: the series is not kept (see the module)."""

    def write(self, points: Sequence[Any]) -> None:
        return None


def sink_factory(tsdb: TsdbConfig | None) -> tuple[Callable[[Session], Any], Callable[[], None]]:
    if tsdb is None:
        log.info("no TSDB configured: buoys' sea-state summaries are not kept as a series")
        sink = NoSeaStateSeries()
        return (lambda _session: sink), lambda: None
    influx = InfluxSeaStateSink(tsdb)
    return (lambda _session: influx), influx.close
