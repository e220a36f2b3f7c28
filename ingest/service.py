"""Applying uplink batches to the state store: idempotent, tenant-checked, dispatched by kind.

Nothing here talks to a broker; `consumer.py` does that. Everything runs in the caller's
transaction, so the idempotency keys, station state, alerts and (embedded) points of a batch are
committed together or not at all, and the caller acknowledges the messages only after commit.

What every kind shares is done here: a batch's items and record blocks are handed to the
handler of the kind they name (`kinds.ingest_handler`, `ingest.kind_interface`); an item of a
kind this build lacks is a counted rejection (`unknown_kind`). Events are applied once, by
item id (`processed_messages`); an item of a station unknown or of another tenant is rejected
alone, so one misconfigured station does not silence a gateway's others; a batch of an unknown
tenant is rejected whole. The gateway's own items (kind `gateway`: evicted summaries, site
broker drops, health reports) are applied here (`ingest.gateway_health`). What a kind's items mean (state,
alerts, time series) is its handler's.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from central.db import lock_event_log
from central.models import ProcessedMessage, Station, Tenant
from contract.clock import utcnow
from contract.gateway_items import GATEWAY_ITEMS, BrokerDrops, GatewayHealth, SummariesDropped
from contract.uplink_batch import MessageError, RecordBlock, UplinkBatch
from core.logs import RateLimitedLog
from ingest import gateway_health
from ingest.bulk import existing, insert_rows
from ingest.errors import IngestError, StoreError
from ingest.kind_interface import ApplyContext, Downlink, IngestKind, KindBatch, KindUplink, ScreenedPart
from kinds import UnknownKind, ingest_handler, kind_names

log = logging.getLogger(__name__)
_rejections = RateLimitedLog(log, interval_s=10.0)

#: Rejection reasons (metric label values).
UNKNOWN_TENANT = "unknown_tenant"
UNKNOWN_STATION = "unknown_station"
FOREIGN_STATION = "foreign_station"
NON_FINITE = "non_finite"
UNKNOWN_KIND = "unknown_kind"

#: The kind of the gateway's own items, handled here.
GATEWAY_KIND = "gateway"

_isfinite = math.isfinite
_PROCESSED: sa.Table = ProcessedMessage.__table__  # type: ignore[assignment]
_GATEWAY_MODELS_NAME_KIND = "kind" in SummariesDropped.model_fields


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
    #: What kinds answer gateways with, published once the transaction committed.
    downlinks: list[Downlink] = field(default_factory=list)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def owns_platforms(kind: str) -> bool:
    """Whether `kind`'s items are about platforms of its own (`ingest.kind_interface.OwnPlatforms`)."""
    return hasattr(handler_of(kind), "platform_tenants")


def platform_owners(session: Session, platforms: set[str]) -> dict[str, tuple[str, str]]:
    """platform -> (kind, tenant) for the platforms some kind with platforms of its own knows
    (a vessel): where a gateway's own report names no river station but the platform of a boat
    gateway. Asked only for such names, so the river's batches never pay for it."""
    owners: dict[str, tuple[str, str]] = {}
    for kind in kind_names():
        if platforms and owns_platforms(kind):
            for platform, tenant in _handler(kind).platform_tenants(session, set(platforms)).items():  # type: ignore[attr-defined]
                owners[platform] = (kind, tenant)
            platforms = platforms - owners.keys()
    return owners


def handler_of(kind: str) -> IngestKind | None:
    """The ingest side of `kind`, or None for a kind this build does not have."""
    try:
        return ingest_handler(kind)  # type: ignore[no-any-return]
    except UnknownKind:
        return None


@dataclass(frozen=True, slots=True)
class ReadBatch:
    """A batch read by the handlers of its kinds: `parts` by kind, the gateway's own items with
    their places (its health reports apart: snapshots, not events), how many items (and
    records) were of unknown kinds, and its size in places."""

    batch: UplinkBatch
    parts: dict[str, KindUplink]
    gateway_items: list[tuple[int, SummariesDropped | BrokerDrops]]
    unknown_kind: int
    size: int
    health: list[GatewayHealth] = field(default_factory=list)


def read_batch(batch: UplinkBatch) -> ReadBatch:
    """Hand each kind its items and blocks; `MessageError` if a kind refuses them (the message
    is malformed, as before kinds had handlers). Places: items in order, then records."""
    items: dict[str, tuple[list[dict[str, Any]], list[int]]] = {}
    for place, item in enumerate(batch.items):
        got = items.setdefault(item["kind"], ([], []))
        got[0].append(item)
        got[1].append(place)
    blocks: dict[str, list[tuple[int, RecordBlock]]] = {}
    at = len(batch.items)
    for block in batch.blocks:
        blocks.setdefault(block.kind, []).append((at, block))
        at += block.n
    parts: dict[str, KindUplink] = {}
    gateway_items: list[tuple[int, SummariesDropped | BrokerDrops]] = []
    health: list[GatewayHealth] = []
    unknown = 0
    try:
        for kind in dict.fromkeys([*items, *blocks]):
            kind_items, places = items.get(kind, ([], []))
            if kind == GATEWAY_KIND:
                for place, item in zip(places, _gateway_items(kind_items)):
                    if isinstance(item, GatewayHealth):
                        health.append(item)
                    else:
                        gateway_items.append((place, item))
                continue
            handler = handler_of(kind)
            if handler is None:
                unknown += len(kind_items) + sum(b.n for _, b in blocks.get(kind, ()))
                continue
            parts[kind] = handler.read(kind_items, places, blocks.get(kind, []), batch.gateway)
    except ValueError as exc:
        raise MessageError(f"invalid uplink batch: {exc}") from exc
    return ReadBatch(batch, parts, gateway_items, unknown, at, health)


def _gateway_items(items: list[dict[str, Any]]) -> list[SummariesDropped | BrokerDrops | GatewayHealth]:
    if not _GATEWAY_MODELS_NAME_KIND:
        items = [{k: v for k, v in i.items() if k != "kind"} for i in items]
    try:
        return GATEWAY_ITEMS.validate_python(items)
    except ValidationError as exc:
        raise ValueError(f"invalid gateway item: {exc.errors(include_url=False)[:3]}") from exc


def runtimes_for(kinds: Sequence[str], config: Any = None, **options: Any) -> dict[str, Any]:
    """Each kind's runtime (`IngestKind.runtime`) from the configuration or `options`."""
    out = {}
    for kind in kinds:
        handler = handler_of(kind)
        if handler is not None:
            out[kind] = handler.runtime(config, **options)
    return out


def apply_batch(session: Session, batch: UplinkBatch, point_sink: Any, *, now: datetime | None = None, **options: Any) -> ApplyResult:
    """Apply one batch in the caller's transaction; see `apply_batches`."""
    return apply_batches(session, [batch], point_sink, now=now, **options)


def apply_batches(
    session: Session, batches: Sequence[UplinkBatch], point_sink: Any, *, now: datetime | None = None, **options: Any
) -> ApplyResult:
    """Apply batches in the caller's transaction: skip known events, store the new ones.

    Points are written last, after the database accepted everything else, so that a TSDB write
    is not wasted on a transaction that would fail anyway. Raises `StoreError` or
    `PointWriteError` (or `MessageError` for a batch a kind refuses); the caller must then roll
    back and not acknowledge anything. `options` make the kinds' runtimes (the river kind: its
    `network`, which enables downstream forecasts); `now` is the arrival time.
    """
    screened = Screening(session).add(batches)
    runtimes = runtimes_for(sorted({k for b in screened for k in b.read.parts}), **options)
    result = apply_screened(session, screened, runtimes=runtimes, now=now)
    points = [p for b in screened for p in b.points]
    if points:
        point_sink.write(points)
    return result


@dataclass(frozen=True, slots=True)
class ScreenedBatch:
    """A batch read and screened: `parts` (by kind) is None when its tenant is unknown (the
    batch is rejected whole); `base` is the place of its first item in the call; `points` are
    what will be stored, by kind in `points_by_kind` (all of them in `points`)."""

    read: ReadBatch
    base: int
    parts: dict[str, ScreenedPart] | None
    points_by_kind: dict[str, list[Any]]

    @property
    def batch(self) -> UplinkBatch:
        return self.read.batch

    @property
    def points(self) -> list[Any]:
        return [p for points in self.points_by_kind.values() for p in points]


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
        #: kind -> platform -> tenant, for kinds with platforms of their own.
        self.platform_tenant_of: dict[str, dict[str, str]] = {}

    def add(self, batches: Sequence[UplinkBatch | ReadBatch]) -> list[ScreenedBatch]:
        reads = [b if isinstance(b, ReadBatch) else read_batch(b) for b in batches]
        try:
            self._look_up(reads)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot look up tenants and stations: {type(exc).__name__}: {exc}") from exc
        out = []
        for read in reads:
            batch = read.batch
            base, self.offset = self.offset, self.offset + read.size
            if not self.tenants[batch.tenant]:
                out.append(ScreenedBatch(read, base, None, {}))
                continue
            parts = {
                kind: _handler(kind).screen(part, base, batch.tenant, batch.gateway, self.platform_tenant_of.get(kind, self.tenant_of))
                for kind, part in read.parts.items()
            }
            out.append(ScreenedBatch(read, base, parts, {kind: p.points for kind, p in parts.items() if p.points}))
        return out

    def _look_up(self, reads: Sequence[ReadBatch]) -> None:
        new_tenants = {r.batch.tenant for r in reads}.difference(self.tenants)
        if new_tenants:
            known = set(self.session.scalars(sa.select(Tenant.id).where(Tenant.id.in_(new_tenants))))
            self.tenants.update((t, t in known) for t in new_tenants)
        stations: set[str] = set()
        for r in reads:
            for kind, part in r.parts.items():
                if owns_platforms(kind):
                    known = self.platform_tenant_of.setdefault(kind, {})
                    wanted = part.platforms().difference(known)  # type: ignore[attr-defined]
                    if wanted:
                        known.update(_handler(kind).platform_tenants(self.session, wanted))  # type: ignore[attr-defined]
                    continue
                stations.update(part.stations())
        stations.difference_update(self._looked_up)
        if stations:
            self._looked_up |= stations
            rows = self.session.execute(sa.select(Station.id, Station.tenant_id).where(Station.id.in_(stations)))
            self.tenant_of.update((station, tenant) for station, tenant in rows)


def _handler(kind: str) -> IngestKind:
    handler = handler_of(kind)
    assert handler is not None, kind  # read_batch kept only parts of known kinds
    return handler


def apply_screened(
    session: Session, screened: Sequence[ScreenedBatch], *, runtimes: Mapping[str, Any] | None = None, now: datetime | None = None
) -> ApplyResult:
    """`apply_batches` without writing the points: the caller has them (`ScreenedBatch.points`,
    known before the rest is applied) and writes them before it commits. `runtimes`: each
    kind's (`IngestKind.runtime`), made without a configuration for a kind it lacks."""
    result = ApplyResult()
    try:
        _apply(session, result, screened, dict(runtimes or {}), now or utcnow())
        session.flush()
    except IngestError:
        raise
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot apply {len(screened)} batches: {type(exc).__name__}: {exc}") from exc
    result.points = sum(len(p) for b in screened for p in b.points)
    return result


def _apply(session: Session, result: ApplyResult, screened: Sequence[ScreenedBatch], runtimes: dict[str, Any], now: datetime) -> None:
    # Every event of the call, of every kind: (place, item, kind) per batch.
    events = [
        [(place, item, kind) for kind, part in b.read.parts.items() for place, item in part.events]
        + [(place, item, GATEWAY_KIND) for place, item in b.read.gateway_items]
        for b in screened
    ]
    seen = _processed_ids(session, [item.id for evs in events for _p, item, _k in evs])
    # Kept-once items sent again (a lost acknowledgement): a kind may answer them (`on_duplicates`).
    redelivered: dict[str, list[tuple[str, str, Any]]] = {}
    own = {k for evs in events for _p, _i, k in evs if k != GATEWAY_KIND and owns_platforms(k)}
    platform_tenant_of = {
        k: _handler(k).platform_tenants(session, {i.platform for evs in events for _p, i, kk in evs if kk == k})  # type: ignore[attr-defined]
        for k in sorted(own)
    }
    station_ids = {item.station for evs in events for _p, item, k in evs if k not in own}.union(
        *(p.stations for b in screened for p in (b.parts or {}).values())
    )
    stations = {s.id: s for s in session.scalars(sa.select(Station).where(Station.id.in_(station_ids)))}
    # The gateway's own reports name the platform they are filed under: a boat gateway's, its vessel.
    gateway_platform_of = platform_owners(
        session, {item.station for evs in events for _p, item, k in evs if k == GATEWAY_KIND and item.station not in stations}
    )
    screened_owner = {(n, b.batch.tenant) for b in screened for p in (b.parts or {}).values() for n in p.stations}
    if any(n not in stations or stations[n].tenant_id != tenant for n, tenant in screened_owner):
        # Screened moments ago in this transaction (PostgreSQL reads committed changes
        # between statements): removed or given to another tenant meanwhile. The retry
        # screens again.
        raise StoreError("a station of the batch was removed or moved to another tenant while it was applied")
    if any(events):
        # Changes usually write alerts: take the event-log lock before any station row lock.
        lock_event_log(session)
    tenant_of = {station_id: s.tenant_id for station_id, s in stations.items()}  # not an ORM read per item
    keys: list[tuple[str, str, str]] = []  # (item_id, tenant_id, gateway) of processed_messages
    by_kind: dict[str, list[KindBatch]] = {}
    heard: dict[str, str] = {}  # station -> gateway that brought something of it
    newest: dict[str, datetime] = {}  # station -> its newest reading in the call, as generic items tell
    # (until, arrival, station or (kind, tenant, platform), report, gateway)
    health: list[tuple[datetime, int, Station | tuple[str, str, str], BrokerDrops, str]] = []
    snapshots: list[tuple[UplinkBatch, GatewayHealth]] = []  # health reports, with the batch that carried each
    stored_by_type: Counter[str] = Counter()
    for checked, evs in zip(screened, events):
        batch, base = checked.batch, checked.base
        if checked.read.unknown_kind:
            _reject(result, UNKNOWN_KIND, checked.read.unknown_kind, batch)
        if checked.parts is None:
            known = checked.read.size - checked.read.unknown_kind
            _reject(result, UNKNOWN_TENANT, known, batch)
            continue
        tenant, gateway = batch.tenant, batch.gateway
        snapshots.extend((batch, report) for report in checked.read.health)
        accepted: dict[str, list[tuple[int, Any]]] = {kind: [] for kind in checked.parts}
        for kind, part in checked.parts.items():
            for reason, n in part.rejected.items():
                _reject(result, reason, n, batch)
            stored_by_type.update(part.stored)
            heard.update(dict.fromkeys(sorted(part.stations), gateway))
        for place, item, kind in evs:
            if item.id in seen:
                result.duplicates += 1
                if kind in own and platform_tenant_of[kind].get(item.platform) == tenant:
                    redelivered.setdefault(kind, []).append((tenant, gateway, item))
                continue
            if kind in own:
                name = _handler(kind).platform_name  # type: ignore[attr-defined]
                owner = platform_tenant_of[kind].get(item.platform)
                if owner != tenant:
                    _reject(result, f"unknown_{name}" if owner is None else f"foreign_{name}", 1, batch)
                    continue
                if not _finite(item):
                    _reject(result, NON_FINITE, 1, batch)
                    continue
                seen.add(item.id)
                keys.append((item.id, tenant, gateway))
                stored_by_type[item.type] += 1
                accepted[kind].append((base + place, item))
                continue
            if kind == GATEWAY_KIND and item.station in gateway_platform_of:
                owner_kind, owner = gateway_platform_of[item.station]
                if owner != tenant:
                    _reject(result, f"foreign_{_handler(owner_kind).platform_name}", 1, batch)  # type: ignore[attr-defined]
                    continue
                seen.add(item.id)
                keys.append((item.id, tenant, gateway))
                stored_by_type[item.type] += 1
                if isinstance(item, BrokerDrops):
                    health.append((item.until, base + place, (owner_kind, tenant, item.station), item, gateway))
                else:
                    _dropped_at_edge(result, item, tenant, gateway)
                continue
            station_tenant = tenant_of.get(item.station)
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
                health.append((item.until, base + place, stations[item.station], item, gateway))
                continue
            heard[item.station] = gateway
            if isinstance(item, SummariesDropped):
                # Not data: an account of data that will never come, of windows with readings
                # the station took (so at least the last window's start).
                _later(newest, item.station, item.last_window_start)
                _dropped_at_edge(result, item, tenant, gateway)
            else:
                accepted[kind].append((base + place, item))
        for kind, part in checked.parts.items():
            if accepted[kind] or part.series:
                by_kind.setdefault(kind, []).append(KindBatch(tenant, gateway, accepted[kind], part))
        for kind in accepted.keys() - checked.parts.keys():
            if accepted[kind]:
                by_kind.setdefault(kind, []).append(KindBatch(tenant, gateway, accepted[kind], None))
    result.stored += sum(stored_by_type.values())
    result.stored_by_type.update(stored_by_type)
    _insert_processed(session, keys, now)
    for station_id in heard:
        stations[station_id].last_arrival_at = now
    for kind, batches in by_kind.items():
        runtime = runtimes[kind] if kind in runtimes else _handler(kind).runtime(None)
        _handler(kind).apply(batches, ApplyContext(session, now, runtime, stations, result, heard, newest))
    for kind, again in redelivered.items():
        answer = getattr(_handler(kind), "on_duplicates", None)
        if answer is not None:
            answer(again, ApplyContext(session, now, None, stations, result, heard, newest))
    for _until, _arrival, where, report, gateway in sorted(health, key=lambda h: (h[0], h[1])):
        if isinstance(where, Station):
            transition, dropped = gateway_health.apply_report(session, where, report, gateway)
            tenant, platform = where.tenant_id, where.id
        else:
            owner_kind, tenant, platform = where
            transition, dropped = gateway_health.apply_platform_report(session, owner_kind, tenant, platform, report, gateway)
        if dropped:
            result.site_broker_drops[gateway] += dropped
        if transition is not None:
            result.alerts[transition.value] += 1
            log.info("alert %s", transition.value, extra={"type": report.type, "tenant": tenant, "station": platform})
    if snapshots:  # last: a row lock taken after every station's, in every worker alike
        _apply_snapshots(session, result, snapshots, now)


def _apply_snapshots(session: Session, result: ApplyResult, snapshots: list[tuple[UplinkBatch, GatewayHealth]], now: datetime) -> None:
    done = gateway_health.apply_health_reports(session, [(b.tenant, b.gateway, r) for b, r in snapshots], now)
    for index, reason in done.rejected:
        _reject(result, reason, 1, snapshots[index][0])
    result.stored += done.stored
    result.stored_by_type["gateway_health"] += done.stored
    result.duplicates += done.superseded


def _dropped_at_edge(result: ApplyResult, item: SummariesDropped, tenant: str, gateway: str) -> None:
    result.dropped_at_edge[item.station] += item.count
    log.warning(
        "gateway dropped summaries while its outbox was full",
        extra={"tenant": tenant, "gateway": gateway, "station": item.station, "summaries": item.count,
               "first_window": item.first_window_start.isoformat(), "last_window": item.last_window_start.isoformat()},
    )


def _later(newest: dict[str, datetime], station_id: str, at: datetime) -> None:
    known = newest.get(station_id)
    if known is None or at > known:
        newest[station_id] = at


def _finite(item: Any) -> bool:
    """JSON admits NaN and Infinity; neither SQL nor line protocol stores them, so reject early.
    Any float field of an event, whatever its kind."""
    for v in item.__dict__.values():  # a plain loop: a generator per item shows in the profile
        if type(v) is float and not _isfinite(v):
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
        f"{reason}:{batch.tenant}:{batch.gateway}", "uplink items rejected", reason=reason, tenant=batch.tenant, gateway=batch.gateway, items=n,
    )


def prune_processed(session: Session, older_than: datetime) -> int:
    """Forget idempotency keys older than any redelivery can be; returns how many were removed.

    Keep them longer than the longest outage a gateway's outbox can bridge, or a replayed
    backlog would be stored twice.
    """
    res = session.execute(sa.delete(ProcessedMessage).where(ProcessedMessage.processed_at < older_than))
    return int(getattr(res, "rowcount", 0) or 0)
