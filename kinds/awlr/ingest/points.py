"""Where level summaries go as time series: an InfluxDB-compatible TSDB, or the state database.

A sink either stores every point it is given or raises `PointWriteError`: the consumer
acknowledges MQTT messages only after `write` returned, so a sink that swallowed an error would
lose data silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write.point import Point
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.domain.write_precision import WritePrecision
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ingest.bulk import insert_rows
from central.db import LevelPoint
from ingest.errors import PointWriteError, StoreError
from ingest.line_protocol import LineField, encode_lines
from kinds.awlr.ingest.summaries import SummaryPoints
from core.config import TsdbConfig
from kinds.awlr.items import LevelSummary
from kinds.awlr.summary_columns import from_micros

log = logging.getLogger(__name__)

MEASUREMENT = "awlr"
#: Points per HTTP request: VictoriaMetrics and InfluxDB both take a few thousand lines well.
INFLUX_CHUNK = 5000
#: Concurrent HTTP requests of one `InfluxPointSink.write`.
POSTS_IN_FLIGHT = 2
#: Series prefixes kept between writes (a deployment has thousands of stations, not millions),
#: and lists of a batch's stations (a gateway sends the same few lists again and again).
SERIES_CACHE = 100_000
STATION_LISTS_CACHE = 10_000


class PointSink(Protocol):
    """Stores summary points; raises `PointWriteError` (or `StoreError`) unless all were stored."""

    def write(self, points: Sequence[SummaryPoints]) -> None: ...


class PointWrite:
    """The requests of one `InfluxPointSink.submit`, on their way."""

    def __init__(self, requests: Sequence[Future[None]]) -> None:
        self._requests = list(requests)

    def wait(self) -> None:
        """Block until every request finished; raises the first `PointWriteError` if any failed."""
        for r in self._requests:  # all of them, even after a failure: none may outlive the call
            r.exception()
        for r in self._requests:
            r.result()


@runtime_checkable
class SubmittingPointSink(PointSink, Protocol):
    """A sink that can take points and store them while its caller goes on (a TSDB over HTTP):
    the consumer writes a batch's first points while it decodes the rest."""

    def submit(self, points: Sequence[SummaryPoints]) -> PointWrite: ...


class SqlPointSink:
    """The embedded time series: rows of `level_points`, in the caller's transaction.

    Keyed by item id and inserted with ON CONFLICT DO NOTHING: a summary written again (a
    redelivery) leaves the stored one as it is, so each summary is stored once.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def write(self, points: Sequence[SummaryPoints]) -> None:
        rows = [row for p in points for row in _level_rows(p)]
        if not rows:
            return
        # One bulk INSERT of plain rows: ORM objects (identity map, unit of work) cost several
        # times the INSERT itself.
        try:
            insert_rows(self._session, _LEVEL_POINTS, _LEVEL_COLUMNS, rows, skip_existing=True)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot store {len(rows)} level points: {type(exc).__name__}") from exc


_LEVEL_POINTS: sa.Table = LevelPoint.__table__  # type: ignore[assignment]


_LEVEL_COLUMNS = (
    "item_id", "tenant_id", "station_id", "gateway", "window_start", "window_end",
    "mean_cm", "min_cm", "max_cm", "last_cm", "count", "qc_suspect", "qc_fail", "qc_missing",
)


def _level_rows(p: SummaryPoints) -> list[tuple[Any, ...]]:
    """Values of `_LEVEL_COLUMNS` for the rows of `p` (NaN statistics as NULL)."""
    r = p.rows
    n = len(r)

    def levels(col: Any) -> list[float | None]:
        return [None if v != v else v for v in col.tolist()]

    return list(
        zip(
            r.item_ids(p.gateway), [p.tenant] * n, r.station, [p.gateway] * n,
            [from_micros(t) for t in r.window_start_us.tolist()], [from_micros(t) for t in r.window_end_us.tolist()],
            levels(r.mean_cm), levels(r.min_cm), levels(r.max_cm), levels(r.last_cm),
            r.count.tolist(), r.qc_suspect.tolist(), r.qc_fail.tolist(), r.qc_missing.tolist(),
        )
    )


class InfluxPointSink:
    """Writes Influx line protocol synchronously, so a failed write is known before any ack.

    Lines are built here for whole columns (`summary_bodies`: what influxdb-client's `Point`
    would write, at a fraction of its cost); influxdb-client does the HTTP.

    VictoriaMetrics turns measurement `awlr` and field `level_mean` into the metric
    `awlr_level_mean{tenant, station, gateway}` (likewise level_min, level_max, level_last,
    level_sum, count, qc_suspect, qc_fail, qc_missing); InfluxDB 2/3 keep one measurement.
    A point is rewritten only if the state database failed to apply or commit its batch after
    the TSDB write; the copy has the same series and timestamp, which InfluxDB overwrites and VictoriaMetrics
    collapses when run with `-dedup.minScrapeInterval` (as `core.processes` runs it).
    """

    def __init__(self, config: TsdbConfig, timeout_ms: int = 10_000) -> None:
        self._config = config
        self._client = InfluxDBClient(url=config.url, token=config.token, org=config.org, timeout=timeout_ms)
        self._write_api = self._client.write_api(write_options=SYNCHRONOUS)
        #: Measurement and tags of each series: the same few series every write.
        self._series = SeriesKeys()
        #: Two requests in flight while the caller's thread builds the next lines: the TSDB
        #: parses one on a core while the other arrives (measured in `bench/ingest.py`: about
        #: 1.3 times the points/s of one at a time; three were no better). Order does not
        #: matter: every point has its own series and time, and all must succeed before the ack.
        self._poster = ThreadPoolExecutor(max_workers=POSTS_IN_FLIGHT, thread_name_prefix="tsdb-write")

    def write(self, points: Sequence[SummaryPoints]) -> None:
        """Write and wait; raises `PointWriteError` if any request failed."""
        self.submit(points).wait()

    def submit(self, points: Sequence[SummaryPoints]) -> PointWrite:
        """POST `INFLUX_CHUNK` lines at a time, encoding the next chunk while earlier ones are in
        flight (a request waits without the GIL), and return without waiting for the last ones."""
        pending: list[Future[None]] = []
        try:
            for body, n in summary_bodies(points, self._series):
                pending.append(self._poster.submit(self._post, body, n))
        except BaseException:
            for future in pending:  # none may outlive a failed call
                future.exception()
            raise
        return PointWrite(pending)

    def _post(self, body: bytes, n: int) -> None:
        try:
            # One body per request: influxdb-client posts bytes as they are, where a list of
            # lines would go through its per-record serialiser (~1.3 us a line).
            self._write_api.write(
                bucket=self._config.bucket,
                org=self._config.org,
                record=body,
                write_precision=WritePrecision.S,  # type: ignore[arg-type]
            )
        except Exception as exc:  # influxdb-client raises ApiException, urllib3 and OS errors
            raise PointWriteError(
                f"TSDB write of {n} points to {self._config.url} failed: {type(exc).__name__}"
            ) from exc

    def close(self) -> None:
        self._poster.shutdown(wait=True)
        self._write_api.close()  # type: ignore[no-untyped-call]
        self._client.close()  # type: ignore[no-untyped-call]


#: Line protocol escapes (https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/):
#: commas and spaces in a measurement; commas, equals signs and spaces in tag keys and values.
#: Newlines, tabs and carriage returns would end or split the line, so they become the two
#: characters backslash-n, backslash-t, backslash-r: the same tables as influxdb-client's `Point`.
_ESCAPE_MEASUREMENT = str.maketrans({",": r"\,", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_ESCAPE_TAG = str.maketrans({",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"})
_MEASUREMENT_LP = MEASUREMENT.translate(_ESCAPE_MEASUREMENT)


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


#: Decimals of the float fields as written: 1e-6 cm, four orders below the sensors' 0.1 cm
#: and within the 12 significant digits VictoriaMetrics keeps. A mean of readings has more
#: digits than it means, and writing them costs more CPU than storing the point.
FIELD_DECIMALS = 6
#: Beyond this magnitude rounding to `FIELD_DECIMALS` would change the float; such values
#: (no river has them) are written as they are.
_ROUNDED_BELOW = 1e9


def field_value(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Float field values as written: rounded to `FIELD_DECIMALS` (NaN stays NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):  # values too large to round stay as they are
        return np.where(np.abs(values) < _ROUNDED_BELOW, np.round(values, FIELD_DECIMALS), values)


class SeriesKeys:
    """The series prefixes (`_series_key`) a sink has written, numbered for its life, and the
    numbers of each list of stations seen (`StationIndex.names`): a batch's stations become
    series numbers in one lookup, not one per station (100 a message in a backlog replay).

    Bounded: past `SERIES_CACHE` series or `STATION_LISTS_CACHE` lists it starts again, empty."""

    def __init__(self) -> None:
        self.prefixes: list[str] = []
        self._numbers: dict[tuple[str, str, str], int] = {}
        self._lists: dict[tuple[str, str, tuple[str, ...]], npt.NDArray[np.intp]] = {}

    def __len__(self) -> int:
        return len(self.prefixes)

    def bound(self) -> None:
        """Start again, empty, if past the bounds. Only between writes: the numbers a write
        looked up index `prefixes` until it has its lines."""
        if len(self.prefixes) > SERIES_CACHE or len(self._lists) > STATION_LISTS_CACHE:
            self.prefixes, self._numbers, self._lists = [], {}, {}

    def numbers(self, tenant: str, gateway: str, stations: Sequence[str]) -> npt.NDArray[np.intp]:
        """The series number of each station of `stations` (of this tenant and gateway)."""
        key = (tenant, gateway, tuple(stations))
        found = self._lists.get(key)
        if found is None:
            found = np.array([self._number(tenant, gateway, s) for s in stations], dtype=np.intp)
            self._lists[key] = found
        return found

    def _number(self, tenant: str, gateway: str, station: str) -> int:
        key = (tenant, gateway, station)
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = len(self.prefixes)
            self.prefixes.append(_series_key(tenant, station, gateway))
        return number


def summary_bodies(
    points: Sequence[SummaryPoints], series: SeriesKeys | None = None, chunk: int = INFLUX_CHUNK
) -> Iterator[tuple[bytes, int]]:
    """Line protocol for every summary of `points`, as request bodies of at most `chunk` lines
    with their line counts: one line of `awlr` per summary, the fields `_point` gives. A
    generator, so the first body can be on its way while the next is encoded.

    Fields in key order as `Point` sorts them; a null statistic is left out, as `Point` does;
    floats rounded by `field_value` and then written as `repr` writes them. `series` keeps the
    measurement and tag part of each series across calls.
    """
    points = [p for p in points if len(p)]
    if not points:
        return
    keys = series if series is not None else SeriesKeys()
    keys.bound()
    numbers = np.concatenate([keys.numbers(p.tenant, p.gateway, (index := p.stations()).names)[index.codes] for p in points])
    # The series of this write, numbered from 0 for the encoder's table.
    used, codes = np.unique(numbers, return_inverse=True)
    prefixes = [keys.prefixes[k] for k in used.tolist()]

    def column(name: str) -> npt.NDArray[Any]:
        return np.concatenate([getattr(p.rows, name) for p in points])

    count = column("count")
    mean = column("mean_cm")
    with np.errstate(over="ignore", invalid="ignore"):
        total = mean * count
    total[np.isinf(total)] = np.nan  # a sum beyond float range is left out, as `Point` leaves it
    fields = [
        ("count", "int", count),
        ("level_last", "float", field_value(column("last_cm"))),
        ("level_max", "float", field_value(column("max_cm"))),
        ("level_mean", "float", field_value(mean)),
        ("level_min", "float", field_value(column("min_cm"))),
        ("level_sum", "float", field_value(total)),
        ("qc_fail", "int", column("qc_fail")),
        ("qc_missing", "int", column("qc_missing")),
        ("qc_suspect", "int", column("qc_suspect")),
    ]
    seconds = column("window_start_us") // 1_000_000
    for lo in range(0, len(codes), chunk):
        part = slice(lo, lo + chunk)
        line_fields = [LineField(name, kind, values[part]) for name, kind, values in fields]  # type: ignore[arg-type]
        yield encode_lines(prefixes, codes[part], line_fields, seconds[part]), len(codes[part])


def _point(tenant: str, gateway: str, s: LevelSummary) -> Point:
    """One line of `awlr` as an influxdb-client `Point` (the reference `summary_lines` is tested against).

    Statistics of the good readings when there were any, QC counts always. `level_sum`
    (mean x count) lets PromQL compute the count-weighted mean of any bucket as
    sum(level_sum) / sum(count), the same number the embedded store gives.
    """
    point: Point = (
        Point(MEASUREMENT)  # type: ignore[no-untyped-call]
        .tag("tenant", tenant)
        .tag("station", s.station)
        .tag("gateway", gateway)
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
