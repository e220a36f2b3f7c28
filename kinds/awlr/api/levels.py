"""Level history of a station, bucketed, from whichever store holds the time series.

Both stores answer the same question the same way: buckets `[start + k*every, start +
(k+1)*every)` for k = 0 .. n-1, n = ceil((end - start) / every), each with the count-weighted
mean, the min and the max of the readings QC passed, their number, and how many readings were
suspect, failed or missing. Buckets without any window are left out rather than filled, so a
gap in the data stays visible as a gap.

Without `start=`, buckets are aligned to their width: they begin at whole multiples of `every`
counted from midnight, station time (WIB +7, WITA +8 or WIT +9; none has daylight saving), so
10-minute buckets begin at :00, :10, ..., hourly ones on the hour (the same in UTC and in every
Indonesian zone, as the offsets are whole hours), and daily ones at local midnight (17:00Z for
a WIB station, 16:00Z for WITA, 15:00Z for WIT), the day a gauge keeper means. An explicit
`start=` is kept as given. Levels are rounded to the station's resolution (`resolution_cm`):
a count-weighted mean has no more digits than the gauge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Literal, Protocol

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.errors import InvalidQuery, LevelStoreUnavailable
from kinds.awlr.api.models import LevelBucket, LevelQuery, LevelSeries
from api.services.alert_words import DEFAULT_ZONE, ZONES
from kinds.awlr.api.stations import tenant_station, thresholds_public
from central.db import LevelPoint
from core.config import TepiConfig
from kinds.awlr.config import StationConfig
from contract.clock import utcnow

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class BucketPlan:
    """The buckets a query asks for: `n` buckets of `every` from `start`."""

    start: datetime
    every: timedelta
    n: int

    @property
    def end(self) -> datetime:
        return self.start + self.n * self.every

    def bucket_start(self, k: int) -> datetime:
        return self.start + k * self.every


def aligned_start(t: datetime, every: timedelta, utc_offset: timedelta) -> datetime:
    """The latest bucket start at or before `t` when buckets of `every` are counted from
    1970-01-01 00:00 at `utc_offset` (local midnight): a default range's first bucket then
    begins at 07:40, not at 07:40:02, and a day at local midnight."""
    if every <= timedelta(0):
        raise ValueError(f"bucket width must be positive, got {every}")
    return t - (t - (_EPOCH - utc_offset)) % every


def round_to_resolution(value: float | None, resolution: float) -> float | None:
    """`value` to the nearest multiple of `resolution`, written with no more decimals than
    `resolution` has (0.1 -> 39.6, never 39.57000000000001 or 39.600000000000001)."""
    if not (resolution > 0 and math.isfinite(resolution)):
        raise ValueError(f"resolution must be a positive finite number, got {resolution}")
    if value is None:
        return None
    decimals = max(0, -int(Decimal(repr(resolution)).normalize().as_tuple().exponent))
    return round(round(value / resolution) * resolution, decimals)


def plan_buckets(
    query: LevelQuery,
    max_points: int,
    now: datetime | None = None,
    earliest: datetime | None = None,
    utc_offset: timedelta = timedelta(0),
) -> BucketPlan:
    """Apply defaults and limits; `InvalidQuery` when the range is empty or too finely cut.

    Without `start=` the first bucket begins at `aligned_start` in the zone at `utc_offset`
    (the station's), so the default "last 24 h" spans up to one bucket more, the oldest
    starting up to `every` before end - 24 h. `earliest` is where the station's history
    begins: whole buckets before it are skipped, so "everything since 2000 in 10-minute
    buckets" is answerable for a station installed last month, while the limit still guards
    what the stores are asked for.
    """
    start, end = query.resolved(now or utcnow())
    if query.start is None:
        start = aligned_start(start, query.every, utc_offset)
    if not start < end:
        raise InvalidQuery("start must be before end")
    if earliest is not None and earliest > start:
        skipped = min((earliest - start) // query.every, math.ceil((end - start) / query.every))
        start += skipped * query.every
    n = max(0, math.ceil((end - start) / query.every))
    if n > max_points:
        raise InvalidQuery(f"{n} buckets requested; at most {max_points}: widen `every` or shorten the range")
    return BucketPlan(start=start, every=query.every, n=n)


@dataclass(frozen=True, slots=True)
class BucketMean:
    """A bucket's count-weighted mean of the readings QC passed, and their number (at least one):
    what a trend is fitted to."""

    start: datetime
    end: datetime
    mean_cm: float
    count: int


class LevelStore(Protocol):
    """Answers level history; `source` names the store in responses ("sql" or "tsdb")."""

    source: Literal["sql", "tsdb"]

    def levels(self, tenant: str, station: str, plan: BucketPlan) -> list[LevelBucket]: ...

    def close(self) -> None: ...


@dataclass
class _Fold:
    """What a bucket accumulates; windows without good readings add only to the QC counts."""

    level_sum: float = 0.0
    count: int = 0
    lo: float | None = None
    hi: float | None = None
    suspect: int = 0
    fail: int = 0
    missing: int = 0

    def bucket(self, plan: BucketPlan, k: int) -> LevelBucket:
        return LevelBucket(
            start=plan.bucket_start(k),
            end=plan.bucket_start(k + 1),
            mean_cm=self.level_sum / self.count if self.count else None,
            min_cm=self.lo,
            max_cm=self.hi,
            count=self.count,
            qc_good=self.count,
            qc_suspect=self.suspect,
            qc_fail=self.fail,
            qc_missing=self.missing,
        )


def _min(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


class SqlLevelStore:
    """Buckets the embedded `level_points` (one row per summary window) in Python.

    A year of 10-minute windows is 52k rows of a few numbers: cheap enough to fold here, and
    the same code then works on SQLite and PostgreSQL without date functions of either dialect.
    """

    source: Literal["sql", "tsdb"] = "sql"

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self._sessions = session_factory

    def levels(self, tenant: str, station: str, plan: BucketPlan) -> list[LevelBucket]:
        p = LevelPoint
        stmt = (
            sa.select(p.window_start, p.mean_cm, p.min_cm, p.max_cm, p.count, p.qc_suspect, p.qc_fail, p.qc_missing)
            .where(
                p.tenant_id == tenant,
                p.station_id == station,
                p.window_start >= plan.start,
                p.window_start < plan.end,
            )
            .order_by(p.window_start)
        )
        with self._sessions() as session:
            rows = session.execute(stmt).all()
        folds: dict[int, _Fold] = {}
        for window_start, mean, lo, hi, count, suspect, fail, missing in rows:
            f = folds.setdefault(int((window_start - plan.start) // plan.every), _Fold())
            if mean is not None and count:
                f.level_sum += mean * count
                f.count += count
            f.lo, f.hi = _min(f.lo, lo), _max(f.hi, hi)
            f.suspect += suspect
            f.fail += fail
            f.missing += missing
        return [f.bucket(plan, k) for k, f in sorted(folds.items())]

    def close(self) -> None:
        pass


def _mean(plan: BucketPlan, k: int, level_sum: float, count: int) -> BucketMean:
    return BucketMean(plan.bucket_start(k), plan.bucket_start(k + 1), level_sum / count, count)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class PromLevelStore:
    """Asks a PromQL endpoint (VictoriaMetrics) for the `awlr_*` series that ingest writes.

    A range query evaluates `f(x[w])` at times t over (t - w, t]. Evaluating at
    t = bucket start + every - 1 s makes each window exactly one bucket for the whole-second
    timestamps ingest writes. `nocache=1` stops VictoriaMetrics from shifting the timestamps to
    make its cache work, which would move points into the neighbouring bucket. The mean is
    sum(level_sum) / sum(count): count-weighted, as in the SQL store.
    """

    source: Literal["sql", "tsdb"] = "tsdb"

    _QUERIES = {
        "level_sum": "sum(sum_over_time(awlr_level_sum{{{sel}}}[{w}s]))",
        "count": "sum(sum_over_time(awlr_count{{{sel}}}[{w}s]))",
        "min": "min(min_over_time(awlr_level_min{{{sel}}}[{w}s]))",
        "max": "max(max_over_time(awlr_level_max{{{sel}}}[{w}s]))",
        "suspect": "sum(sum_over_time(awlr_qc_suspect{{{sel}}}[{w}s]))",
        "fail": "sum(sum_over_time(awlr_qc_fail{{{sel}}}[{w}s]))",
        "missing": "sum(sum_over_time(awlr_qc_missing{{{sel}}}[{w}s]))",
    }
    #: `bucket_means` in one query for all of a tenant's stations: each station's level sum and
    #: count, as two series told apart by a `field` label.
    _MEANS = (
        'label_replace(sum by (station) (sum_over_time(awlr_level_sum{{{sel}}}[{w}s])), "field", "level_sum", "", "")'
        ' or label_replace(sum by (station) (sum_over_time(awlr_count{{{sel}}}[{w}s])), "field", "count", "", "")'
    )

    def __init__(self, query_url: str, timeout_s: float = 10.0, client: httpx.Client | None = None) -> None:
        self._url = query_url.rstrip("/") + "/api/v1/query_range"
        self._client = client or httpx.Client(timeout=timeout_s)
        self._pool = ThreadPoolExecutor(max_workers=len(self._QUERIES), thread_name_prefix="promql")

    def levels(self, tenant: str, station: str, plan: BucketPlan) -> list[LevelBucket]:
        every_s = int(plan.every.total_seconds())
        selector = f'tenant="{_label(tenant)}",station="{_label(station)}"'
        params = self._range(plan)
        futures = {
            name: self._pool.submit(self._query, template.format(sel=selector, w=every_s), params)
            for name, template in self._QUERIES.items()
        }
        col = {name: f.result() for name, f in futures.items()}
        buckets: list[LevelBucket] = []
        # Every stored window has a count (0 when nothing passed QC), so its times are all times.
        for t, count in sorted(col["count"].items()):
            k = self._bucket_index(plan, t)
            fold = _Fold(
                level_sum=col["level_sum"].get(t, 0.0),
                count=int(count),
                lo=col["min"].get(t),
                hi=col["max"].get(t),
                suspect=int(col["suspect"].get(t, 0)),
                fail=int(col["fail"].get(t, 0)),
                missing=int(col["missing"].get(t, 0)),
            )
            buckets.append(fold.bucket(plan, k))
        return buckets

    def bucket_means(self, tenant: str, plan: BucketPlan) -> dict[str, list[BucketMean]]:
        """Station -> the buckets of `plan` with good readings, oldest first, for every station of
        the tenant in one query: the means and counts `levels` gives, for a page of stations."""
        every_s = int(plan.every.total_seconds())
        promql = self._MEANS.format(sel=f'tenant="{_label(tenant)}"', w=every_s)
        col: dict[tuple[str, str], dict[float, float]] = {}
        for labels, values in self._series(promql, self._range(plan)):
            col[labels.get("station", ""), labels.get("field", "")] = values
        out: dict[str, list[BucketMean]] = {}
        for (station, field), counts in sorted(col.items()):
            if field != "count":
                continue
            sums = col.get((station, "level_sum"), {})
            # As `levels` folds them: a count without its sum would be a mean of 0 there too.
            index = self._bucket_index
            means = [_mean(plan, index(plan, t), sums.get(t, 0.0), int(n)) for t, n in sorted(counts.items()) if n > 0]
            if means:
                out[station] = means
        return out

    @staticmethod
    def _range(plan: BucketPlan) -> dict[str, str]:
        """Range query parameters evaluating each bucket at its last second (class docstring)."""
        every_s = int(plan.every.total_seconds())
        first_eval = plan.start.timestamp() + every_s - 1
        return {
            "start": f"{first_eval:.3f}",
            "end": f"{first_eval + (plan.n - 1) * every_s:.3f}",
            "step": f"{every_s}s",
            "nocache": "1",
        }

    @staticmethod
    def _bucket_index(plan: BucketPlan, t: float) -> int:
        return round((t + 1 - plan.start.timestamp()) / plan.every.total_seconds()) - 1

    def _query(self, promql: str, params: dict[str, str]) -> dict[float, float]:
        """{evaluation time: value} of a query that yields at most one series (aggregated without `by`)."""
        series = self._series(promql, params)
        return series[0][1] if series else {}

    def _series(self, promql: str, params: dict[str, str]) -> list[tuple[dict[str, str], dict[float, float]]]:
        """(labels, {evaluation time: value}) of each series a range query yields."""
        try:
            r = self._client.get(self._url, params={**params, "query": promql})
        except httpx.HTTPError as exc:
            raise LevelStoreUnavailable(f"{type(exc).__name__} from {self._url}") from exc
        if r.status_code != 200:
            raise LevelStoreUnavailable(f"{self._url} answered {r.status_code}: {r.text[:200]}")
        try:
            body = r.json()
            series: Sequence[dict[str, Any]] = body["data"]["result"]
        except (ValueError, KeyError, TypeError) as exc:
            raise LevelStoreUnavailable(f"unexpected answer from {self._url}") from exc
        out: list[tuple[dict[str, str], dict[float, float]]] = []
        for s in series:
            values: dict[float, float] = {}
            for t, v in s.get("values", []):
                value = float(v)
                if math.isfinite(value):
                    values[round(float(t), 3)] = value
            out.append((dict(s.get("metric", {})), values))
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._client.close()


def level_history(
    session: Session,
    store: LevelStore,
    config: TepiConfig,
    tenant: str,
    station_id: str,
    query: LevelQuery,
    max_points: int,
) -> LevelSeries:
    """Buckets of one station's level with its Siaga bounds (a chart draws both); QC counts per
    bucket show how much of the picture is doubtful. `StationNotFound` for an unknown id or a
    station of another tenant."""
    station = tenant_station(session, tenant, station_id)
    try:
        configured = config.station(station.id)
        zone, resolution = ZONES.get(configured.timezone, DEFAULT_ZONE), configured.resolution_cm
    except KeyError:  # removed from the configuration: its history is still served
        zone, resolution = DEFAULT_ZONE, StationConfig.model_fields["resolution_cm"].default
    plan = plan_buckets(query, max_points, earliest=station.first_seen_at, utc_offset=zone.offset)
    buckets = store.levels(station.tenant_id, station.id, plan) if plan.n else []
    return LevelSeries(
        station=station.id,
        tenant=station.tenant_id,
        start=plan.start,
        end=plan.end,
        every_s=int(plan.every.total_seconds()),
        source=store.source,
        thresholds=thresholds_public(station),
        data=[_rounded(b, resolution) for b in buckets],
    )


def _rounded(bucket: LevelBucket, resolution: float) -> LevelBucket:
    return bucket.model_copy(
        update={
            "mean_cm": round_to_resolution(bucket.mean_cm, resolution),
            "min_cm": round_to_resolution(bucket.min_cm, resolution),
            "max_cm": round_to_resolution(bucket.max_cm, resolution),
        }
    )
