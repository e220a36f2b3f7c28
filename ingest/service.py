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

Alerts follow from the items, in device time across the whole call: Siaga changes open,
update and clear Siaga alerts, and (given the river network) open and refine forecasts
downstream; a summary back at Siaga 4 clears a Siaga alert whose "back to 4" change was lost;
a reading taken after a station's offline alert opened clears it (`kinds.awlr.ingest.offline.back_online`:
a late window of readings from before the silence does not). Open alerts then show their
station's newest reading (`kinds.awlr.ingest.alert_levels`).
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kinds.awlr.siaga import classify_siaga
from ingest import gateway_health
from kinds.awlr.ingest import forecast_alerts
from kinds.awlr.ingest.alert_levels import follow_levels
from central.alerts import (
    DATA_RETURNED,
    LEVEL_NORMAL,
    AlertTransition,
    clear_alert,
    finish,
    gateway_actor,
    open_alert,
    raise_rate_of_rise,
    raise_siaga,
)
from ingest.bulk import existing, insert_rows
from central.db import lock_event_log
from ingest.errors import IngestError, StoreError
from kinds.awlr.ingest.forecast import RiverNetwork, UpstreamChange
from central.models import (
    ALERT_TYPE_FORECAST,
    ALERT_TYPE_OFFLINE,
    ALERT_TYPE_RATE_OF_RISE,
    ALERT_TYPE_SIAGA,
    OPEN_STATUSES,
    Alert,
    ProcessedMessage,
    Station,
    Tenant,
)
from kinds.awlr.ingest.offline import back_online
from kinds.awlr.ingest.points import PointSink
from kinds.awlr.ingest.summaries import Screened, StationFold, StationIndex, SummaryPoints, fold, screen
from core.logs import RateLimitedLog
from contract.clock import utcnow
from contract.gateway_items import BrokerDrops, SummariesDropped
from kinds.awlr.items import LevelSummary, RateOfRise, SiagaChange
from kinds.awlr.summary_columns import from_micros
from kinds.awlr.ingest.summary_rows import SummaryRows
from contract.uplink_batch import UplinkBatch, summary_at, summary_rows

log = logging.getLogger(__name__)
_rejections = RateLimitedLog(log, interval_s=10.0)

#: Rejection reasons (metric label values).
UNKNOWN_TENANT = "unknown_tenant"
UNKNOWN_STATION = "unknown_station"
FOREIGN_STATION = "foreign_station"
NON_FINITE = "non_finite"

_isfinite = math.isfinite
_PROCESSED: sa.Table = ProcessedMessage.__table__  # type: ignore[assignment]


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
    #: Summaries a gateway evicted from its full outbox during an outage, by station.
    dropped_at_edge: Counter[str] = field(default_factory=Counter)
    #: Device messages gateways report their site broker dropped, by gateway.
    site_broker_drops: Counter[str] = field(default_factory=Counter)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def apply_batch(
    session: Session,
    batch: UplinkBatch,
    point_sink: PointSink,
    *,
    network: RiverNetwork | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    """Apply one batch in the caller's transaction; see `apply_batches`."""
    return apply_batches(session, [batch], point_sink, network=network, now=now)


def apply_batches(
    session: Session,
    batches: Sequence[UplinkBatch],
    point_sink: PointSink,
    *,
    network: RiverNetwork | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    """Apply batches in the caller's transaction: skip known events, store the new ones.

    Events whose id was processed before (or earlier in `batches`) count as duplicates;
    summaries are idempotent by themselves and are written again (`kinds.awlr.ingest.summaries`). A batch
    of an unknown tenant is rejected whole; an item of a station unknown or of another tenant
    is rejected alone, so one misconfigured station does not silence a gateway's others.
    Summary points are written last, after the database accepted everything else, so that a
    TSDB write is not wasted on a transaction that would fail anyway. Raises `StoreError` or
    `PointWriteError`; the caller must then roll back and not acknowledge anything.

    `network` enables downstream forecasts (none without it); `now` is the arrival time
    (ingest's wall clock, injectable for tests).
    """
    screened = Screening(session).add(batches)
    result = apply_screened(session, screened, network=network, now=now)
    points = [p for b in screened for p in b.points]
    if points:
        point_sink.write(points)
    return result


def apply_screened(
    session: Session,
    screened: Sequence[ScreenedBatch],
    *,
    network: RiverNetwork | None = None,
    now: datetime | None = None,
) -> ApplyResult:
    """`apply_batches` without writing the points: the caller has them (`ScreenedBatch.points`,
    known before the rest is applied) and writes them before it commits."""
    result = ApplyResult()
    try:
        _Applier(session, result, network, now or utcnow()).run(screened)
        session.flush()
    except IngestError:
        raise
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot apply {len(screened)} batches: {type(exc).__name__}: {exc}") from exc
    result.points = sum(len(p) for b in screened for p in b.points)
    return result


@dataclass(frozen=True, slots=True)
class ScreenedBatch:
    """A batch with its summaries screened (`kinds.awlr.ingest.summaries.screen`): `parts` is None when its
    tenant is unknown (the batch is rejected whole); `base` is the place of its first item in
    the call; `points` are the summaries that will be stored."""

    batch: UplinkBatch
    base: int
    parts: list[Screened] | None
    points: list[SummaryPoints]


class Screening:
    """Screens the batches of one call as they come (the consumer hands them over in groups,
    writing each group's points while it decodes the next), in the caller's transaction.

    The tenants and stations of each group are looked up once, with one query each."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.offset = 0
        self.tenants: dict[str, bool] = {}
        self.tenant_of: dict[str, str] = {}
        self._looked_up: set[str] = set()

    def add(self, batches: Sequence[UplinkBatch]) -> list[ScreenedBatch]:
        try:
            self._look_up(batches)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot look up tenants and stations: {type(exc).__name__}: {exc}") from exc
        out = []
        for batch in batches:
            base, self.offset = self.offset, self.offset + len(batch.items) + len(batch.summaries)
            if not self.tenants[batch.tenant]:
                out.append(ScreenedBatch(batch, base, None, []))
                continue
            parts = [screen(rows, positions + base, batch.tenant, self.tenant_of) for rows, positions in _summary_parts(batch)]
            points = [SummaryPoints(batch.tenant, batch.gateway, kept.rows, kept.index) for kept in parts if len(kept.rows)]
            out.append(ScreenedBatch(batch, base, parts, points))
        return out

    def _look_up(self, batches: Sequence[UplinkBatch]) -> None:
        new_tenants = {b.tenant for b in batches}.difference(self.tenants)
        if new_tenants:
            known = set(self.session.scalars(sa.select(Tenant.id).where(Tenant.id.in_(new_tenants))))
            self.tenants.update((t, t in known) for t in new_tenants)
        stations: set[str] = set()
        for b in batches:
            if len(b.summaries):
                stations.update(StationIndex.of_rows(b.summaries).names)
            stations.update(item.station for item in b.items if isinstance(item, LevelSummary))
        stations.difference_update(self._looked_up)
        if stations:
            self._looked_up |= stations
            rows = self.session.execute(sa.select(Station.id, Station.tenant_id).where(Station.id.in_(stations)))
            self.tenant_of.update((station, tenant) for station, tenant in rows)


#: An item to apply in device order: (time, seq, arrival, station, item, gateway); `arrival`
#: (the item's place in the call) orders items of equal time and seq as they came.
_Timed = tuple[datetime, int, int, Station, LevelSummary | SiagaChange | RateOfRise, str]


class _Applier:
    """One `apply_batches` call: the items of its batches, then the alerts they imply."""

    def __init__(self, session: Session, result: ApplyResult, network: RiverNetwork | None, now: datetime) -> None:
        self.session = session
        self.result = result
        self.network = network
        self.now = now
        #: Stations with an open Siaga alert, kept current while the call opens and clears them.
        self.open_siaga: set[str] = set()
        #: Whether any forecast alert is open near the stations of the call, or was opened by it.
        self.forecasts_involved = False

    def run(self, screened: Sequence[ScreenedBatch]) -> None:
        session, result = self.session, self.result
        batches = [b.batch for b in screened]
        events = [item for b in batches for item in b.items if not isinstance(item, LevelSummary)]
        seen = _processed_ids(session, [item.id for item in events])
        station_ids = {item.station for item in events}.union(*(p.index.names for b in screened for p in b.parts or ()))
        stations = {s.id: s for s in session.scalars(sa.select(Station).where(Station.id.in_(station_ids)))}
        screened_owner = {(n, p.tenant) for b in screened for p in b.points for n in p.stations().names}
        if any(n not in stations or stations[n].tenant_id != tenant for n, tenant in screened_owner):
            # Screened moments ago in this transaction (PostgreSQL reads committed changes
            # between statements): removed or given to another tenant meanwhile. The retry
            # screens again.
            raise StoreError("a station of the batch was removed or moved to another tenant while it was applied")
        if events:
            # Changes usually write alerts: take the event-log lock before any station row lock.
            lock_event_log(session)
        nearby = self.network.and_below(stations) if self.network else set(stations)
        open_alerts = _open_alerts(session, nearby)
        self.open_siaga = {s for s, t in open_alerts if t == ALERT_TYPE_SIAGA}
        offline = {s for s, t in open_alerts if t == ALERT_TYPE_OFFLINE}
        alerted = {s for s, _t in open_alerts}  # their alerts' levels follow the river (and the events')
        self.forecasts_involved = any(t == ALERT_TYPE_FORECAST for _s, t in open_alerts)

        # A summary can only clear a Siaga alert open at its turn (see `_summary`): one open
        # before the call or opened by a Siaga change of the call. Others would be no-ops in
        # the timeline, and a backlog of summaries need not be sorted.
        may_clear = self.open_siaga | {item.station for item in events if isinstance(item, SiagaChange)}
        timeline: list[_Timed] = []
        health: list[tuple[datetime, int, Station, BrokerDrops, str]] = []  # (until, arrival, ...)
        arrived: dict[str, str] = {}  # station -> gateway that brought something of it
        newest: dict[str, datetime] = {}  # station -> its newest reading in the call, whatever its QC
        keys: list[tuple[str, str, str]] = []  # (item_id, tenant_id, gateway) of processed_messages
        accepted: list[tuple[SummaryRows, npt.NDArray[np.int64], StationIndex]] = []  # rows, places, stations
        stored_by_type: Counter[str] = Counter()
        tenant_of = {station_id: s.tenant_id for station_id, s in stations.items()}  # not an ORM read per item
        for checked in screened:
            batch, base = checked.batch, checked.base
            if checked.parts is None:
                _reject(result, UNKNOWN_TENANT, len(batch.items) + len(batch.summaries), batch)
                continue
            tenant, gateway = batch.tenant, batch.gateway
            for kept in checked.parts:
                for reason, n in ((UNKNOWN_STATION, kept.unknown_station), (FOREIGN_STATION, kept.foreign_station), (NON_FINITE, kept.non_finite)):
                    if n:
                        _reject(result, reason, n, batch)
                rows = kept.rows
                if not len(rows):
                    continue
                stored_by_type["summary"] += len(rows)
                arrived.update(dict.fromkeys(kept.index.names, gateway))
                accepted.append((rows, kept.positions, kept.index))
                if may_clear.isdisjoint(rows.station):
                    continue
                clearing = np.flatnonzero(
                    (rows.siaga == 4) & ~np.isnan(rows.last_cm) & np.array([s in may_clear for s in rows.station], dtype=bool)
                )
                for i in clearing.tolist():
                    item = summary_at(rows, i, gateway)
                    timeline.append((item.last_ts, item.last_seq, int(kept.positions[i]), stations[item.station], item, gateway))
            for place, item in enumerate(batch.items):
                if isinstance(item, LevelSummary):
                    continue  # among the rows above
                if item.id in seen:
                    result.duplicates += 1
                    continue
                station_id = item.station
                station_tenant = tenant_of.get(station_id)
                if station_tenant is None:
                    _reject(result, UNKNOWN_STATION, 1, batch)
                    continue
                if station_tenant != tenant:
                    _reject(result, FOREIGN_STATION, 1, batch)
                    continue
                if not _finite(item):
                    _reject(result, NON_FINITE, 1, batch)
                    continue
                seen.add(item.id)
                keys.append((item.id, tenant, gateway))
                stored_by_type[item.type] += 1
                if isinstance(item, BrokerDrops):
                    # About the gateway, not the station it is filed under: no sign of the station's life.
                    health.append((item.until, base + place, stations[station_id], item, gateway))
                    continue
                arrived[station_id] = gateway
                if isinstance(item, SummariesDropped):
                    # Not data about the river: an account of data that will never come, of windows
                    # with readings the station took (so at least the last window's start).
                    _later(newest, station_id, item.last_window_start)
                    result.dropped_at_edge[station_id] += item.count
                    log.warning(
                        "gateway dropped summaries while its outbox was full",
                        extra={"tenant": batch.tenant, "gateway": batch.gateway, "station": station_id, "summaries": item.count,
                               "first_window": item.first_window_start.isoformat(), "last_window": item.last_window_start.isoformat()},
                    )
                else:
                    _later(newest, station_id, item.ts)
                    alerted.add(station_id)
                    timeline.append((item.ts, item.seq, base + place, stations[station_id], item, gateway))
        result.stored += sum(stored_by_type.values())
        result.stored_by_type.update(stored_by_type)
        _insert_processed(session, keys, self.now)
        # Station state once per station: what all its summaries of the call say together is
        # what applying them one by one would leave (the oldest time extends the history, the
        # newest reading wins, the later one of equal times), and it precedes every change.
        for station_id in arrived:
            stations[station_id].last_arrival_at = self.now
        for station_id, summarised in fold(accepted).items():
            _apply_fold(stations[station_id], summarised)
            _later(newest, station_id, from_micros(summarised.newest_us))
        # Alerts follow device time, whatever order the batches came in.
        for _ts, _seq, _arrival, station, item, gateway in sorted(timeline, key=lambda t: (t[0], t[1], t[2])):
            who = gateway_actor(gateway)
            if isinstance(item, LevelSummary):
                self._summary(station, item, who)
            else:
                self._change(station, item, who)
        for _until, _arrival, station, report, gateway in sorted(health, key=lambda h: (h[0], h[1])):
            self._gateway_health(station, report, gateway)
        self._back_online(stations, {s: g for s, g in arrived.items() if s in offline}, newest)
        if self.network is not None and arrived and self.forecasts_involved:
            self._count(forecast_alerts.settle(session, self.network, arrived), "forecast")
        follow_levels(session, [stations[s] for s in sorted(alerted.intersection(arrived))])

    def _change(self, station: Station, change: SiagaChange | RateOfRise, who: str) -> None:
        session = self.session
        transition: AlertTransition | None
        if isinstance(change, SiagaChange):
            _observe(station, change.ts, change.level_cm, change.siaga_to)
            if _stale(station.siaga_changed_at, change.ts, self.result):
                return
            station.siaga_changed_at = change.ts
            if change.siaga_to < 4:
                transition = raise_siaga(session, station, change.siaga_to, change.level_cm, change.ts, who)
                self.open_siaga.add(station.id)
            else:
                transition = clear_alert(
                    session, station, ALERT_TYPE_SIAGA, change.level_cm, change.ts, who, LEVEL_NORMAL, siaga=change.siaga_to
                )
                self.open_siaga.discard(station.id)
            self._count([transition], change.type, station)
            upstream = UpstreamChange(station.id, change.ts, change.siaga_from, change.siaga_to, change.level_cm)
            self._forecasts(station, upstream, transition, who)
            return
        siaga = _classify(station, change.level_cm)
        _observe(station, change.ts, change.level_cm, siaga, keep_siaga=True)
        if _stale(station.rise_changed_at, change.ts, self.result):
            return
        station.rise_changed_at = change.ts
        if change.active:
            transition = raise_rate_of_rise(
                session, station, siaga, change.level_cm, change.rate_cm_per_h, change.ts, who
            )
        else:
            transition = clear_alert(session, station, ALERT_TYPE_RATE_OF_RISE, change.level_cm, change.ts, who, siaga=siaga)
        self._count([transition], change.type, station)

    def _summary(self, station: Station, summary: LevelSummary, who: str) -> None:
        """A summary back at Siaga 4 clears an open Siaga alert whose "back to 4" change never came.

        Only when the gateway's level (hysteresis applied) and the window's last good reading
        agree, and the summary is newer than the last change applied: a gateway restarted in a
        flood starts from Siaga 4 before its hysteresis catches up, and must not clear the alert.
        """
        if station.id not in self.open_siaga or summary.siaga != 4 or summary.last_cm is None:
            return
        if _classify(station, summary.last_cm) != 4:
            return
        if station.siaga_changed_at is not None and summary.last_ts <= station.siaga_changed_at:
            return
        station.siaga_changed_at = summary.last_ts
        transition = clear_alert(
            self.session, station, ALERT_TYPE_SIAGA, summary.last_cm, summary.last_ts, who, LEVEL_NORMAL, siaga=4
        )
        self.open_siaga.discard(station.id)
        self._count([transition], "summary", station)
        upstream = UpstreamChange(station.id, summary.last_ts, None, 4, summary.last_cm)
        self._forecasts(station, upstream, transition, who)

    def _forecasts(
        self, station: Station, change: UpstreamChange, transition: AlertTransition | None, who: str
    ) -> None:
        """Confirm this station's own forecast if it rose; forecast for the stations below it."""
        if self.network is None:
            return
        if transition in (AlertTransition.OPENED, AlertTransition.ESCALATED):
            confirmed = forecast_alerts.confirm(self.session, station, change.siaga_to, change.at, who)
            self._count([confirmed], "forecast", station)
        planned = forecast_alerts.on_upstream_change(self.session, self.network, change, who)
        self.forecasts_involved |= bool(planned)
        self._count(planned, "forecast", station)

    def _gateway_health(self, station: Station, report: BrokerDrops, gateway: str) -> None:
        transition, dropped = gateway_health.apply_report(self.session, station, report, gateway)
        if dropped:
            self.result.site_broker_drops[gateway] += dropped
        self._count([transition], report.type, station)

    def _back_online(self, stations: dict[str, Station], arrived: dict[str, str], newest: dict[str, datetime]) -> None:
        """A reading taken after a station's offline alert opened clears it: it is talking again.

        Readings from before (the gateway flushing a silent station's last window late) leave the
        alert open, or it would clear now and open again minutes later (`kinds.awlr.ingest.offline`).
        """
        if not arrived:
            return
        lock_event_log(self.session)
        for station_id, gateway in sorted(arrived.items()):
            s = stations[station_id]
            alert = open_alert(self.session, station_id, ALERT_TYPE_OFFLINE)
            if alert is None:
                continue
            reading_at = newest.get(station_id)
            if not back_online(alert.opened_device_at, reading_at):
                log.info(
                    "offline alert kept: the data that came were taken before the station fell silent",
                    extra={"tenant": s.tenant_id, "station": station_id, "newest_reading": reading_at.isoformat() if reading_at else None,
                           "opened_device_at": alert.opened_device_at.isoformat() if alert.opened_device_at else None},
                )
                continue
            transition = finish(
                self.session, alert, self.now, gateway_actor(gateway), DATA_RETURNED, level_cm=s.last_level_cm,
                level_at=s.last_seen_at, detail={"newest_reading_at": reading_at.isoformat() if reading_at else None},
            )  # fmt: skip
            self._count([transition], "offline", s)

    def _count(self, transitions: Iterable[AlertTransition | None], what: str, station: Station | None = None) -> None:
        """Count and log alert transitions (the consumer turns the counts into metrics)."""
        for transition in transitions:
            if transition is None:
                continue
            self.result.alerts[transition.value] += 1
            extra = {"type": what} | ({"tenant": station.tenant_id, "station": station.id} if station else {})
            log.info("alert %s", transition.value, extra=extra)


def _open_alerts(session: Session, station_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(station, type) of the open alerts of these stations: one indexed query per call."""
    ids = sorted(station_ids)
    if not ids:
        return set()
    stmt = sa.select(Alert.station_id, Alert.type).where(Alert.status.in_(OPEN_STATUSES), Alert.station_id.in_(ids))
    return {(s, t) for s, t in session.execute(stmt)}


def _classify(station: Station, level_cm: float) -> int:
    return int(classify_siaga([level_cm], (station.siaga3_cm, station.siaga2_cm, station.siaga1_cm))[0])


def _stale(applied_until: datetime | None, ts: datetime, result: ApplyResult) -> bool:
    """An event older than the last one of its kind applied to the station: record, do not apply."""
    if applied_until is not None and ts < applied_until:
        result.stale_changes += 1
        return True
    return False


def _apply_fold(station: Station, summarised: StationFold) -> None:
    """What `_extend_history` and `_observe` of each summary in turn would have done."""
    _extend_history(station, from_micros(summarised.first_us))
    if summarised.at_us is not None:
        _observe(station, from_micros(summarised.at_us), summarised.level_cm, summarised.siaga)


def _summary_parts(batch: UplinkBatch) -> list[tuple[SummaryRows, npt.NDArray[np.int64]]]:
    """A batch's summaries as columns with their places in it: the rows (after the items) and,
    from a schema-1 batch, the summaries among the items."""
    parts = []
    if len(batch.summaries):
        n = len(batch.items)
        parts.append((batch.summaries, np.arange(n, n + len(batch.summaries), dtype=np.int64)))
    places = [i for i, item in enumerate(batch.items) if isinstance(item, LevelSummary)]
    if places:
        objects = [batch.items[i] for i in places]
        parts.append((summary_rows(objects), np.array(places, dtype=np.int64)))  # type: ignore[arg-type]
    return parts


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


def _later(newest: dict[str, datetime], station_id: str, at: datetime) -> None:
    """Keep the later of `at` and what `newest` holds for the station."""
    known = newest.get(station_id)
    if known is None or at > known:
        newest[station_id] = at


def _extend_history(station: Station, at: datetime) -> None:
    """Remember where the station's history begins (level queries skip what lies before)."""
    if station.first_seen_at is None or at < station.first_seen_at:
        station.first_seen_at = at


def _finite(item: SiagaChange | RateOfRise | SummariesDropped | BrokerDrops) -> bool:
    """JSON admits NaN and Infinity; neither SQL nor line protocol stores them, so reject early."""
    values: tuple[float | None, ...]
    if isinstance(item, SiagaChange):
        values = (item.level_cm,)
    elif isinstance(item, RateOfRise):
        values = (item.level_cm, item.rate_cm_per_h, item.threshold_cm_per_h)
    else:
        return True  # SummariesDropped, BrokerDrops: no floats
    for v in values:  # a plain loop: a generator per item shows in the profile
        if v is not None and not _isfinite(v):
            return False
    return True


def _insert_processed(session: Session, keys: list[tuple[str, str, str]], now: datetime) -> None:
    """Idempotency keys (item id, tenant, gateway) of the items applied: one bulk INSERT.

    Deliberately without ON CONFLICT DO NOTHING: a key already there means another transaction
    applied the item since `_processed_ids` looked (a concurrent worker given a redelivery).
    Its state and alerts must not be applied twice, so the statement fails, the caller rolls
    back without acknowledging, and the retry counts the item as a duplicate.
    """
    insert_rows(session, _PROCESSED, ("item_id", "tenant_id", "gateway"), keys, {"processed_at": now})


def _processed_ids(session: Session, ids: Sequence[str]) -> set[str]:
    """Which of these item ids were applied before: a few queries per call, not one per item."""
    return existing(session, _PROCESSED.c.item_id, ids)


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
