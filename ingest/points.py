"""Where level summaries go as time series: an InfluxDB-compatible TSDB, or the state database.

A sink either stores every point it is given or raises `PointWriteError`: the consumer
acknowledges MQTT messages only after `write` returned, so a sink that swallowed an error would
lose data silently.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

import sqlalchemy as sa
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ingest.bulk import insert_rows
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
        # One bulk INSERT of plain rows: ORM objects (identity map, unit of work) cost several
        # times the INSERT itself. A point whose item id is already stored violates the primary
        # key and fails the whole transaction, as the ORM flush did.
        try:
            insert_rows(self._session, _LEVEL_POINTS, _LEVEL_COLUMNS, [_level_row(p) for p in points])
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store {len(points)} level points: {type(exc).__name__}") from exc


_LEVEL_POINTS: sa.Table = LevelPoint.__table__  # type: ignore[assignment]


_LEVEL_COLUMNS = (
    "item_id", "tenant_id", "station_id", "gateway", "window_start", "window_end",
    "mean_cm", "min_cm", "max_cm", "last_cm", "count", "qc_suspect", "qc_fail", "qc_missing",
)


def _level_row(p: SummaryPoint) -> tuple[Any, ...]:
    """Values of `_LEVEL_COLUMNS` for one point."""
    s = p.summary
    qc = s.qc
    return (
        s.id, p.tenant, s.station, p.gateway, s.window_start, s.window_end,
        s.mean_cm, s.min_cm, s.max_cm, s.last_cm, s.count, qc.suspect, qc.fail, qc.missing,
    )


class InfluxPointSink:
    """Writes Influx line protocol synchronously, so a failed write is known before any ack.

    Lines are built as strings here (`_line`, what influxdb-client's `Point` would write, at a
    fraction of its cost); influxdb-client does the HTTP.

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
        series: dict[tuple[str, str, str], str] = {}
        seconds: dict[datetime, int] = {}
        lines = [_line(p, series, seconds) for p in points]
        for i in range(0, len(lines), INFLUX_CHUNK):
            chunk = lines[i : i + INFLUX_CHUNK]
            try:
                # One string per request: influxdb-client posts it as it is, where a list of
                # lines would go through its per-record serialiser (~1.3 us a line).
                self._write_api.write(
                    bucket=self._config.bucket,
                    org=self._config.org,
                    record="\n".join(chunk),
                    write_precision=WritePrecision.S,  # type: ignore[arg-type]
                )
            except Exception as exc:  # influxdb-client raises ApiException, urllib3 and OS errors
                raise PointWriteError(
                    f"TSDB write of {len(chunk)} points to {self._config.url} failed: {type(exc).__name__}"
                ) from exc

    def close(self) -> None:
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


#: Line protocol escapes (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
#: commas and spaces in a measurement; commas, equals signs and spaces in tag keys and values.
#: Newlines, tabs and carriage returns would end or split the line, so they become the two
#: characters backslash-n, backslash-t, backslash-r: the same tables as influxdb-client's `Point`.
_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_TAG = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_MEASUREMENT_LP = MEASUREMENT.translate(_ESCAPE_MEASUREMENT)
_isfinite = math.isfinite


def _escape_tag(value: str) -> str:
    """A tag value as line protocol writes it.

    A value ending in a backslash would escape the separator after it; like influxdb-client,
    add a space (which the backslash then escapes). There is no exact encoding of such a value.
    """
    escaped = value.translate(_ESCAPE_TAG)
    return escaped + " " if escaped.endswith("\\") else escaped


def _series_key(tenant: str, station: str, gateway: str) -> str:
    """`awlr,gateway=..,station=..,tenant=.. `: measurement and tag set, tags sorted by key."""
    values = (("gateway", _escape_tag(gateway)), ("station", _escape_tag(station)), ("tenant", _escape_tag(tenant)))
    tags = [f"{key}={value}" for key, value in values if value]  # `Point` drops empty tags
    return f"{_MEASUREMENT_LP}{',' if tags else ''}{','.join(tags)} "


def _seconds(at: datetime) -> int:
    """Unix time in whole seconds (truncated like `Point` at `WritePrecision.S`); naive is UTC."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return int(at.timestamp())


def _line(
    p: SummaryPoint,
    series: dict[tuple[str, str, str], str] | None = None,
    seconds: dict[datetime, int] | None = None,
) -> str:
    """One line of `awlr` for `p`, byte for byte what `_point(p).to_line_protocol()` gives.

    Fields in key order (as `Point` sorts them); floats as `repr` without a trailing `.0`,
    integers with `i`, time in seconds. A non-finite float is left out, as `Point` does (ingest
    rejects such items before they get here). `series` and `seconds` cache the measurement and
    tag part per (tenant, station, gateway) and the timestamps, across the lines of one write:
    the summaries of a gateway share their stations and (aligned) windows.
    """
    s = p.summary
    key = (p.tenant, s.station, p.gateway)
    prefix = series.get(key) if series is not None else None
    if prefix is None:
        prefix = _series_key(*key)
        if series is not None:
            series[key] = prefix
    start = s.window_start
    ts = seconds.get(start) if seconds is not None else None
    if ts is None:
        ts = _seconds(start)
        if seconds is not None:
            seconds[start] = ts
    qc = s.qc
    last, high, mean, low = s.last_cm, s.max_cm, s.mean_cm, s.min_cm
    fields = ""
    if last is not None and _isfinite(last):
        fields = f",level_last={float(last)!r}".removesuffix(".0")
    if high is not None and _isfinite(high):
        fields += f",level_max={float(high)!r}".removesuffix(".0")
    if mean is not None:
        if _isfinite(mean):
            fields += f",level_mean={float(mean)!r}".removesuffix(".0")
    if low is not None and _isfinite(low):
        fields += f",level_min={float(low)!r}".removesuffix(".0")
    if mean is not None:
        total = float(mean) * s.count
        if _isfinite(total):
            fields += f",level_sum={total!r}".removesuffix(".0")
    return (
        f"{prefix}count={int(s.count)}i{fields},"
        f"qc_fail={int(qc.fail)}i,qc_missing={int(qc.missing)}i,qc_suspect={int(qc.suspect)}i {ts}"
    )


def _point(p: SummaryPoint) -> Point:
    """One line of `awlr` as an influxdb-client `Point` (the reference `_line` is tested against).

    Statistics of the good readings when there were any, QC counts always. `level_sum`
    (mean x count) lets PromQL compute the count-weighted mean of any bucket as
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
