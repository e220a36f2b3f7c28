"""Applying uplink batches to the state store: idempotent, tenant-checked, order-tolerant.

Nothing here talks to a broker; `consumer.py` does that. Everything runs in the caller's
transaction, so the idempotency keys, station state, alerts and (embedded) points of a batch are
committed together or not at all, and the caller acknowledges the messages only after commit.

Store-and-forward delivers late and out of order (a gateway that was offline for a day sends
yesterday after today's alarms), so state only moves forward in device time:

* station state takes a summary or change only if it is newer than what it shows;
* a Siaga change (or rate-of-rise start/end) older than the last one of its kind applied to
  its station is recorded but does not move the alert, or a late "rose to Siaga 2" would
  reopen an alert the river has left.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from gateway.siaga import classify_siaga
from ingest.alerts import AlertTransition, clear_alert, raise_rate_of_rise, raise_siaga
from ingest.db import ALERT_TYPE_RATE_OF_RISE, ALERT_TYPE_SIAGA, ProcessedMessage, Station, Tenant
from ingest.errors import IngestError, StoreError
from ingest.points import PointSink, SummaryPoint
from tepi.logs import RateLimitedLog
from tepi.messages import LevelSummary, RateOfRise, SiagaChange, UplinkBatch, utcnow

log = logging.getLogger(__name__)
_rejections = RateLimitedLog(log, interval_s=10.0)

#: Rejection reasons (metric label values).
UNKNOWN_TENANT = "unknown_tenant"
UNKNOWN_STATION = "unknown_station"
FOREIGN_STATION = "foreign_station"
NON_FINITE = "non_finite"

_ID_CHUNK = 500


@dataclass
class ApplyResult:
    """What applying one or more batches did; the consumer turns it into metrics."""

    stored: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    stored_by_type: Counter[str] = field(default_factory=Counter)
    alerts: Counter[str] = field(default_factory=Counter)
    #: Siaga changes recorded but not applied because a newer one was already applied.
    stale_changes: int = 0
    points: int = 0

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def apply_batch(session: Session, batch: UplinkBatch, point_sink: PointSink) -> ApplyResult:
    """Apply one batch in the caller's transaction; see `apply_batches`."""
    return apply_batches(session, [batch], point_sink)


def apply_batches(session: Session, batches: Sequence[UplinkBatch], point_sink: PointSink) -> ApplyResult:
    """Apply batches in the caller's transaction: skip known items, store the new ones.

    Items whose id was processed before (or earlier in `batches`) count as duplicates. A batch
    of an unknown tenant is rejected whole; an item of a station unknown or of another tenant
    is rejected alone, so one misconfigured station does not silence a gateway's others.
    Summary points are written last, after the database accepted everything else, so that a
    TSDB write is not wasted on a transaction that would fail anyway. Raises `StoreError` or
    `PointWriteError`; the caller must then roll back and not acknowledge anything.
    """
    result = ApplyResult()
    try:
        points = _apply(session, batches, result)
        session.flush()
    except IngestError:
        raise
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot apply {len(batches)} batches: {type(exc).__name__}: {exc}") from exc
    if points:
        point_sink.write(points)
    result.points = len(points)
    return result


def _apply(session: Session, batches: Sequence[UplinkBatch], result: ApplyResult) -> list[SummaryPoint]:
    all_ids = [item.id for b in batches for item in b.items]
    seen = _processed_ids(session, all_ids)
    tenants = set(session.scalars(sa.select(Tenant.id).where(Tenant.id.in_({b.tenant for b in batches}))))
    station_ids = {item.station for b in batches for item in b.items}
    stations = {s.id: s for s in session.scalars(sa.select(Station).where(Station.id.in_(station_ids)))}

    now = utcnow()
    points: list[SummaryPoint] = []
    changes: list[tuple[Station, SiagaChange | RateOfRise]] = []
    for batch in batches:
        if batch.tenant not in tenants:
            _reject(result, UNKNOWN_TENANT, len(batch.items), batch)
            continue
        for item in batch.items:
            if item.id in seen:
                result.duplicates += 1
                continue
            station = stations.get(item.station)
            if station is None:
                _reject(result, UNKNOWN_STATION, 1, batch)
                continue
            if station.tenant_id != batch.tenant:
                _reject(result, FOREIGN_STATION, 1, batch)
                continue
            if not _finite(item):
                _reject(result, NON_FINITE, 1, batch)
                continue
            seen.add(item.id)
            session.add(
                ProcessedMessage(item_id=item.id, tenant_id=batch.tenant, gateway=batch.gateway, processed_at=now)
            )
            result.stored += 1
            result.stored_by_type[item.type] += 1
            if isinstance(item, LevelSummary):
                points.append(SummaryPoint(tenant=batch.tenant, gateway=batch.gateway, summary=item))
                _extend_history(station, item.window_start)
                if item.last_cm is not None:  # None: no reading of the window passed QC
                    _observe(station, item.last_ts, item.last_cm, item.siaga)
            else:
                changes.append((station, item))
    # Apply changes in device time, whatever order the batches came in.
    for station, change in sorted(changes, key=lambda sc: (sc[1].ts, sc[1].seq)):
        _apply_change(session, station, change, result)
    return points


def _apply_change(session: Session, station: Station, change: SiagaChange | RateOfRise, result: ApplyResult) -> None:
    transition: AlertTransition | None
    if isinstance(change, SiagaChange):
        _observe(station, change.ts, change.level_cm, change.siaga_to)
        if _stale(station.siaga_changed_at, change.ts, result):
            return
        station.siaga_changed_at = change.ts
        if change.siaga_to < 4:
            transition = raise_siaga(session, station, change.siaga_to, change.level_cm, change.ts)
        else:
            transition = clear_alert(session, station, ALERT_TYPE_SIAGA, change.level_cm, change.ts)
    else:
        siaga = int(classify_siaga([change.level_cm], (station.siaga3_cm, station.siaga2_cm, station.siaga1_cm))[0])
        _observe(station, change.ts, change.level_cm, siaga, keep_siaga=True)
        if _stale(station.rise_changed_at, change.ts, result):
            return
        station.rise_changed_at = change.ts
        if change.active:
            transition = raise_rate_of_rise(session, station, siaga, change.level_cm, change.rate_cm_per_h, change.ts)
        else:
            transition = clear_alert(session, station, ALERT_TYPE_RATE_OF_RISE, change.level_cm, change.ts)
    if transition is not None:
        result.alerts[transition.value] += 1
        log.info(
            "alert %s",
            transition.value,
            extra={"tenant": station.tenant_id, "station": station.id, "type": change.type},
        )


def _stale(applied_until: datetime | None, ts: datetime, result: ApplyResult) -> bool:
    """An event older than the last one of its kind applied to the station: record, do not apply."""
    if applied_until is not None and ts < applied_until:
        result.stale_changes += 1
        return True
    return False


def _observe(station: Station, at: datetime, level_cm: float, siaga: int, keep_siaga: bool = False) -> None:
    """Move the station's current state to this reading if it is the newest seen.

    `keep_siaga` for readings that carry no Siaga level of the gateway's (which applies
    hysteresis that a single reading cannot reproduce).
    """
    _extend_history(station, at)
    if station.last_seen_at is None or at >= station.last_seen_at:
        station.last_seen_at = at
        station.last_level_cm = level_cm
        if not keep_siaga or station.last_siaga is None:
            station.last_siaga = siaga


def _extend_history(station: Station, at: datetime) -> None:
    """Remember where the station's history begins (level queries skip what lies before)."""
    if station.first_seen_at is None or at < station.first_seen_at:
        station.first_seen_at = at


def _finite(item: LevelSummary | SiagaChange | RateOfRise) -> bool:
    """JSON admits NaN and Infinity; neither SQL nor line protocol stores them, so reject early."""
    values: Iterable[float | None]
    if isinstance(item, SiagaChange):
        values = (item.level_cm,)
    elif isinstance(item, RateOfRise):
        values = (item.level_cm, item.rate_cm_per_h, item.threshold_cm_per_h)
    else:
        values = (
            item.mean_cm,
            item.min_cm,
            item.max_cm,
            item.last_cm,
            item.suspect_min_cm,
            item.suspect_max_cm,
            item.battery_v,
        )
    return all(v is None or math.isfinite(v) for v in values)


def _processed_ids(session: Session, ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), _ID_CHUNK):
        chunk = unique[i : i + _ID_CHUNK]
        found.update(session.scalars(sa.select(ProcessedMessage.item_id).where(ProcessedMessage.item_id.in_(chunk))))
    return found


def _reject(result: ApplyResult, reason: str, n: int, batch: UplinkBatch) -> None:
    result.rejected[reason] += n
    _rejections.warning(
        f"{reason}:{batch.tenant}:{batch.gateway}",
        "uplink items rejected",
        reason=reason,
        tenant=batch.tenant,
        gateway=batch.gateway,
        items=n,
    )


def prune_processed(session: Session, older_than: datetime) -> int:
    """Forget idempotency keys older than any redelivery can be; returns how many were removed.

    Keep them longer than the longest outage a gateway's outbox can bridge, or a replayed
    backlog would be stored twice.
    """
    res = session.execute(sa.delete(ProcessedMessage).where(ProcessedMessage.processed_at < older_than))
    return int(getattr(res, "rowcount", 0) or 0)
