"""The buoy's ingest side: `HANDLER` (`ingest.kind_interface.IngestKind`, with `OwnPlatforms`:
its items are about buoys, which the configuration declares, not river stations).

Ingest's generic layer keeps each item once (by id) and checks each item's buoy belongs to the
sending tenant (`unknown_buoy`, `foreign_buoy` rejections). Here: sea-state summaries become TSDB
points (`points`) and, with small-boat limit events, move the buoy's latest observation and
limit state (`state.WaveBuoy`); an observation older than the one kept never replaces it (an
outbox replaying a backlog after an outage sends old windows after new ones).

An item dated more than `FUTURE_SLACK` after its arrival (a buoy or gateway clock running
ahead) is refused, counted as `future_timestamp`: kept as the latest observation it would stay
there for good, as every correct reading after it is older, and the marine checks and answers
(which take no observation from the future) would lose the buoy. Its point is not written
either (judged against the wall clock in `screen`, which ingest's arrival time is). A future
observation kept before this rule is replaced by the next reading that arrives.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from contract.clock import utcnow
from contract.uplink_batch import RecordBlock
from core.config import TepiConfig, TsdbConfig
from ingest.kind_interface import ApplyContext, KindBatch, PlatformUplink, ScreenedPart
from kinds.wavebuoy.ingest.points import sea_state_point, sink_factory
from kinds.wavebuoy.items import KIND, BuoyItem, Observation, SeaStateSummary, SmallBoatLimit
from kinds.wavebuoy.marine_alerts import MarineWatch, buoy_readings
from kinds.wavebuoy.state import WaveBuoy, buoy_tenants

_ITEMS: TypeAdapter[list[BuoyItem]] = TypeAdapter(list[BuoyItem])
#: How far after its arrival an item's time may be (clocks a little apart): later is refused.
FUTURE_SLACK = timedelta(minutes=5)
FUTURE_TIMESTAMP = "future_timestamp"


def item_time(item: BuoyItem) -> datetime:
    """The newest time an item tells of: a summary's window end (or its last observation, if
    later), a limit event's observation."""
    if isinstance(item, SeaStateSummary):
        return max(item.window_end, item.last.at) if item.last is not None else item.window_end
    return item.observation.at


def from_future(item: BuoyItem, now: datetime) -> bool:
    return item_time(item) > now + FUTURE_SLACK


class WavebuoyIngest:
    name = KIND
    platform_name = "buoy"

    def runtime(self, config: TepiConfig | None, **_options: Any) -> MarineWatch:
        return MarineWatch.from_config(config, buoys=buoy_readings)

    def read(self, items: Sequence[dict[str, Any]], places: Sequence[int], blocks: Sequence[tuple[int, RecordBlock]], gateway: str) -> PlatformUplink:
        if blocks:
            raise ValueError(f"{KIND} sends no record blocks")
        try:
            models = _ITEMS.validate_python(list(items))
        except ValidationError as exc:
            raise ValueError(f"invalid {KIND} item: {exc.errors(include_url=False)[:3]}") from exc
        return PlatformUplink(list(zip(places, models)))

    def platform_tenants(self, session: Session, platforms: set[str]) -> dict[str, str]:
        return buoy_tenants(session, platforms)

    def screen(self, part: PlatformUplink, base: int, tenant: str, gateway: str, tenant_of: dict[str, str]) -> ScreenedPart:
        """Summaries of the tenant's own buoys become points (a redelivered one is written again:
        same series and time, which the TSDB keeps once); rejections are counted by ingest."""
        now = utcnow()
        points = [
            sea_state_point(tenant, i) for _, i in part.events
            if isinstance(i, SeaStateSummary) and tenant_of.get(i.buoy) == tenant and not from_future(i, now)
        ]
        # Ingest counts points by `len` of each element: one group per batch.
        return ScreenedPart(points=[points] if points else [], series=None, stations=set(), rejected=Counter())

    def apply(self, batches: Sequence[KindBatch], context: ApplyContext) -> None:
        session = context.session
        ids = sorted({i.buoy for b in batches for _, i in b.events})
        buoys = {b.id: b for b in session.scalars(sa.select(WaveBuoy).where(WaveBuoy.id.in_(ids)))}
        for batch in batches:
            for _place, item in sorted(batch.events, key=lambda e: e[0]):
                buoy = buoys[item.buoy]
                if from_future(item, context.now):
                    result = context.result
                    result.rejected[FUTURE_TIMESTAMP] += 1
                    result.stored -= 1
                    result.stored_by_type[item.type] -= 1
                    continue
                if isinstance(item, SeaStateSummary):
                    if item.last is not None:
                        _observed(buoy, item.last, batch.gateway, context.now)
                elif isinstance(item, SmallBoatLimit):
                    _observed(buoy, item.observation, batch.gateway, context.now)
                    at = item.observation.at
                    kept = buoy.limit_changed_at
                    if kept is None or at >= kept or kept > context.now + FUTURE_SLACK:
                        buoy.limit_exceeded, buoy.limit_changed_at = item.exceeded, at
        session.flush()

    def point_sinks(self, tsdb: TsdbConfig | None) -> tuple[Callable[[Session], Any], Callable[[], None]]:
        return sink_factory(tsdb)

    def check_silence(self, session: Session, runtime: Any, now: datetime, since: datetime) -> list[str]:
        return []

    def poll_alerts(self, session: Session, runtime: MarineWatch, now: datetime) -> Counter[str]:
        """Marine alerts of the tenants' sea areas, at most once a minute (`kinds.wavebuoy.marine_alerts`)."""
        return Counter(runtime.poll(session, now).values())

    def overlapping(self, runtime: Any, points: Sequence[Any]) -> dict[str, int]:
        return {}


def _observed(buoy: WaveBuoy, obs: Observation, gateway: str, now: datetime) -> None:
    """The buoy's latest observation becomes `obs` unless it already has a later one; a kept one
    dated after its arrival (more than `FUTURE_SLACK`) is no later one: `obs` replaces it."""
    kept = buoy.observed_at
    kept_from_future = kept is not None and buoy.received_at is not None and kept > buoy.received_at + FUTURE_SLACK
    if kept is not None and obs.at <= kept and not kept_from_future:
        return
    buoy.observed_at, buoy.hs_m, buoy.tp_s, buoy.wave_dir_deg = obs.at, obs.hs_m, obs.tp_s, obs.wave_dir_deg
    buoy.wind_kn, buoy.wind_dir_deg, buoy.gust_kn = obs.wind_kn, obs.wind_dir_deg, obs.gust_kn
    buoy.gateway, buoy.received_at = gateway, now


HANDLER = WavebuoyIngest()
