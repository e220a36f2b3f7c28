"""Where a kind's time-series points go: the TSDB, through influxdb-client's synchronous write
API, or nowhere when the deployment has none (the state store then keeps what the kind needs).

Generic: a kind's ingest side builds its influxdb-client `Point`s and returns
`influx_point_sinks(...)` from its `point_sinks`, so the fish-finder's sea summaries and the
wave buoy's sea state are written, and fail, alike.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from sqlalchemy.orm import Session

from core.config import TsdbConfig
from ingest.errors import PointWriteError

log = logging.getLogger(__name__)


class InfluxPointSink:
    """Writes groups of points (one group per batch) to the TSDB and waits for its answer."""

    def __init__(self, config: TsdbConfig, what: str, timeout_ms: int = 10_000) -> None:
        self._config, self._what = config, what
        self._client = InfluxDBClient(url=config.url, token=config.token, org=config.org, timeout=timeout_ms)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, groups: Sequence[Sequence[Any]]) -> None:
        """`PointWriteError` if the write failed: nothing of the call is acknowledged then."""
        points = [p for group in groups for p in group]
        try:
            self._write_api.write(bucket=self._config.bucket, org=self._config.org, record=points)
        except Exception as exc:  # influxdb-client raises ApiException, urllib3 and OS errors
            raise PointWriteError(f"TSDB write of {len(points)} {self._what} points failed: {type(exc).__name__}") from exc

    def close(self) -> None:
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


class NoPointSeries:
    """No TSDB configured: the series is not kept."""

    def write(self, points: Sequence[Any]) -> None:
        return None


def influx_point_sinks(
    tsdb: TsdbConfig | None, what: str, not_kept: str
) -> tuple[Callable[[Session], Any], Callable[[], None]]:
    """A kind's `point_sinks`: the factory of its sink per transaction and how to close it.
    Without a TSDB, `not_kept` is logged once (what the deployment goes without)."""
    if tsdb is None:
        log.info("no TSDB configured: %s", not_kept)
        sink = NoPointSeries()
        return (lambda _session: sink), lambda: None
    influx = InfluxPointSink(tsdb, what)
    return (lambda _session: influx), influx.close
