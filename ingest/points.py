"""Where level summaries go as time series: an InfluxDB-compatible TSDB, or the state database.

A sink either stores every point it is given or raises `PointWriteError`: the consumer
acknowledges MQTT messages only after `write` returned, so a sink that swallowed an error would
lose data silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ingest.db import LevelPoint
from ingest.errors import PointWriteError, StoreError
from tepi.config import TsdbConfig
from tepi.messages import LevelSummary

log = logging.getLogger(__name__)

MEASUREMENT = "awlr"
#: Points per HTTP request: VictoriaMetrics and InfluxDB both take a few thousand lines well.
INFLUX_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class SummaryPoint:
    """A level summary with the tenant and gateway of the batch that carried it."""

    tenant: str
    gateway: str
    summary: LevelSummary


class PointSink(Protocol):
    """Stores summary points; raises `PointWriteError` (or `StoreError`) unless all were stored."""

    def write(self, points: Sequence[SummaryPoint]) -> None: ...


class SqlPointSink:
    """The embedded time series: rows of `level_points`, in the caller's transaction.

    Being in the same transaction as the idempotency keys, a point is stored exactly once.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def write(self, points: Sequence[SummaryPoint]) -> None:
        if not points:
            return
        self._session.add_all(
            LevelPoint(
                item_id=p.summary.id,
                tenant_id=p.tenant,
                station_id=p.summary.station,
                gateway=p.gateway,
                window_start=p.summary.window_start,
                window_end=p.summary.window_end,
                mean_cm=p.summary.mean_cm,
                min_cm=p.summary.min_cm,
                max_cm=p.summary.max_cm,
                last_cm=p.summary.last_cm,
                count=p.summary.count,
                qc_suspect=p.summary.qc.suspect,
                qc_fail=p.summary.qc.fail,
                qc_missing=p.summary.qc.missing,
            )
            for p in points
        )
        try:
            self._session.flush()
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store {len(points)} level points: {type(exc).__name__}") from exc


class InfluxPointSink:
    """Writes Influx line protocol synchronously, so a failed write is known before any ack.

    VictoriaMetrics turns measurement `awlr` and field `level_mean` into the metric
    `awlr_level_mean{tenant, station, gateway}` (likewise level_min, level_max, level_last,
    level_sum, count, qc_suspect, qc_fail, qc_missing); InfluxDB 2/3 keep one measurement.
    A point is rewritten only if the state database failed to commit after the TSDB write; the
    copy has the same series and timestamp, which InfluxDB overwrites and VictoriaMetrics
    collapses when run with `-dedup.minScrapeInterval` (as `tepi.processes` runs it).
    """

    def __init__(self, config: TsdbConfig, timeout_ms: int = 10_000) -> None:
        self._config = config
        self._client = InfluxDBClient(url=config.url, token=config.token, org=config.org, timeout=timeout_ms)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)

    def write(self, points: Sequence[SummaryPoint]) -> None:
        records = [_point(p) for p in points]
        for i in range(0, len(records), INFLUX_CHUNK):
            chunk = records[i : i + INFLUX_CHUNK]
            try:
                self._write_api.write(
                    bucket=self._config.bucket,
                    org=self._config.org,
                    record=chunk,
                    write_precision=WritePrecision.S,  # type: ignore[arg-type]
                )
            except Exception as exc:  # influxdb-client raises ApiException, urllib3 and OS errors
                raise PointWriteError(
                    f"TSDB write of {len(chunk)} points to {self._config.url} failed: {type(exc).__name__}"
                ) from exc

    def close(self) -> None:
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


def _point(p: SummaryPoint) -> Point:
    """One line of `awlr`: statistics of the good readings when there were any, QC counts always.

    `level_sum` (mean x count) lets PromQL compute the count-weighted mean of any bucket as
    sum(level_sum) / sum(count), the same number the embedded store gives.
    """
    s = p.summary
    point: Point = (
        Point(MEASUREMENT)  # type: ignore[no-untyped-call]
        .tag("tenant", p.tenant)
        .tag("station", s.station)
        .tag("gateway", p.gateway)
        .field("count", int(s.count))
        .field("qc_suspect", int(s.qc.suspect))
        .field("qc_fail", int(s.qc.fail))
        .field("qc_missing", int(s.qc.missing))
        .time(s.window_start, WritePrecision.S)
    )
    if s.mean_cm is not None:
        point.field("level_mean", float(s.mean_cm)).field("level_sum", float(s.mean_cm) * s.count)  # type: ignore[no-untyped-call]
    for name, value in (("level_min", s.min_cm), ("level_max", s.max_cm), ("level_last", s.last_cm)):
        if value is not None:
            point.field(name, float(value))  # type: ignore[no-untyped-call]
    return point


SinkFactory = Callable[[Session], PointSink]


def sink_factory(tsdb: TsdbConfig | None) -> tuple[SinkFactory, Callable[[], None]]:
    """The sink for each transaction, and how to release it: TSDB if configured, else embedded.

    The embedded sink must write through the session of the transaction, so it is built per
    session; the TSDB client is shared.
    """
    if tsdb is None:
        return SqlPointSink, lambda: None
    influx = InfluxPointSink(tsdb)
    return (lambda _session: influx), influx.close
