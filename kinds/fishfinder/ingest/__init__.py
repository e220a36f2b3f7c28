"""The fish finder's ingest side: `HANDLER` (`ingest.kind_interface.IngestKind`, with
`OwnPlatforms`: its items are about vessels, not river stations).

Ingest's generic layer keeps each item once (by id), and checks each item's vessel belongs to
the sending tenant (`unknown_vessel`, `foreign_vessel` rejections). Here: tracks become
positions (and the vessel's last fix), sightings become rows, sea summaries become TSDB points
(`points`) and tell whether the vessel is at sea (`overdue.follow_track`), distress calls become
SOS incidents answered to the boat (`sos`), and the periodic
checks raise overdue vessels (`overdue`) and tell boats of operators' acknowledgements.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from contract.uplink_batch import RecordBlock
from core.config import TepiConfig, TsdbConfig
from ingest.kind_interface import ApplyContext, Downlink, KindBatch, PlatformUplink, ScreenedPart
from kinds.fishfinder.ingest import overdue, sos
from kinds.fishfinder.ingest.points import sea_point, sink_factory
from kinds.fishfinder.items import KIND, BoatItem, DistressCall, SchoolSighting, SeaSummary, Track
from kinds.fishfinder.state import SchoolSighting as SightingRow
from kinds.fishfinder.state import Vessel, VesselPosition, vessel_tenants

_ITEMS: TypeAdapter[list[BoatItem]] = TypeAdapter(list[BoatItem])


class FishfinderIngest:
    name = KIND
    platform_name = "vessel"

    def runtime(self, config: TepiConfig | None, **_options: Any) -> None:
        return None

    def read(self, items: Sequence[dict[str, Any]], places: Sequence[int], blocks: Sequence[tuple[int, RecordBlock]], gateway: str) -> PlatformUplink:
        if blocks:
            raise ValueError(f"{KIND} sends no record blocks")
        try:
            models = _ITEMS.validate_python(list(items))
        except ValidationError as exc:
            raise ValueError(f"invalid {KIND} item: {exc.errors(include_url=False)[:3]}") from exc
        return PlatformUplink(list(zip(places, models)))

    def platform_tenants(self, session: Session, platforms: set[str]) -> dict[str, str]:
        return vessel_tenants(session, platforms)

    def screen(self, part: PlatformUplink, base: int, tenant: str, gateway: str, tenant_of: dict[str, str]) -> ScreenedPart:
        """Sea summaries of the tenant's own vessels become points (a redelivered one is written
        again: same series and time, which the TSDB keeps once); rejections are counted by
        ingest with the events."""
        points = [sea_point(tenant, i) for _, i in part.events if isinstance(i, SeaSummary) and tenant_of.get(i.vessel) == tenant]
        # Ingest counts points by `len` of each element: one group per batch.
        return ScreenedPart(points=[points] if points else [], series=None, stations=set(), rejected=Counter())

    def apply(self, batches: Sequence[KindBatch], context: ApplyContext) -> None:
        session = context.session
        vessels = {v.id: v for v in session.scalars(sa.select(Vessel).where(Vessel.id.in_(sorted({i.vessel for b in batches for _, i in b.events}))))}
        for batch in batches:
            for _place, item in sorted(batch.events, key=lambda e: e[0]):
                vessel = vessels[item.vessel]
                if isinstance(item, Track):
                    _track(session, vessel, item)
                elif isinstance(item, SchoolSighting):
                    session.add(SightingRow(
                        item_id=item.id, tenant_id=vessel.tenant_id, vessel_id=vessel.id, gateway=batch.gateway, start=item.start,
                        end=item.end, lat=item.lat, lon=item.lon, top_m=item.top_m, bottom_m=item.bottom_m,
                        mean_sv_db=item.mean_sv_db, pings=item.pings,
                    ))
                elif isinstance(item, DistressCall):
                    downlink, transition = sos.apply_call(session, vessel, item, item.id, batch.gateway, context.now)
                    context.result.downlinks.append(downlink)
                    if transition is not None:
                        context.result.alerts[transition.value] += 1
                # SeaSummary: its point went to the sink before the state was applied.
        session.flush()

    def on_duplicates(self, items: Sequence[tuple[str, str, Any]], context: ApplyContext) -> None:
        """Distress calls ingest already had: answered again with their incident's status."""
        for tenant, gateway, item in items:
            if isinstance(item, DistressCall):
                downlink = sos.answer_again(context.session, tenant, gateway, item, context.now)
                if downlink is not None:
                    context.result.downlinks.append(downlink)

    def point_sinks(self, tsdb: TsdbConfig | None) -> tuple[Callable[[Session], Any], Callable[[], None]]:
        return sink_factory(tsdb)

    def check_silence(self, session: Session, runtime: Any, now: datetime, since: datetime) -> list[str]:
        return overdue.check_overdue(session, now, since)

    def poll(self, session: Session, runtime: Any, now: datetime) -> list[Downlink]:
        return sos.poll(session, now)

    def overlapping(self, runtime: Any, points: Sequence[Any]) -> dict[str, int]:
        return {}


def _track(session: Session, vessel: Vessel, item: Track) -> None:
    rows = [
        {"tenant_id": vessel.tenant_id, "vessel_id": vessel.id, "ts": from_micros_utc(us), "lat": lat, "lon": lon,
         "sog": sog, "cog": cog, "distress": item.distress}
        for us, lat, lon, sog, cog in item.points
    ]
    session.execute(sa.insert(VesselPosition), rows)
    newest = max(rows, key=lambda r: r["ts"])
    latest = vessel.last_fix_at is None or newest["ts"] > vessel.last_fix_at
    ordered = sorted(rows, key=lambda r: r["ts"])
    overdue.follow_track(vessel, [(r["lat"], r["lon"]) for r in ordered], latest)  # at sea or back in port
    if latest:
        vessel.last_lat, vessel.last_lon, vessel.last_fix_at = newest["lat"], newest["lon"], newest["ts"]


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def from_micros_utc(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


HANDLER = FishfinderIngest()
