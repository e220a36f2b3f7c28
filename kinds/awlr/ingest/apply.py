"""The river kind's state and alerts from an uplink call (`ingest.kind_interface.IngestKind.apply`).

Ingest has checked idempotency and tenancy already (`ingest.service`); here the accepted
events and screened summaries of a call move station state and alerts, in device time.

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
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

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
from central.db import lock_event_log
from central.models import ALERT_TYPE_FORECAST, ALERT_TYPE_OFFLINE, ALERT_TYPE_RATE_OF_RISE, ALERT_TYPE_SIAGA, OPEN_STATUSES, Alert, Station
from ingest.kind_interface import ApplyContext, KindBatch
from kinds.awlr.ingest import forecast_alerts
from kinds.awlr.ingest.alert_levels import follow_levels
from kinds.awlr.ingest.forecast import RiverNetwork, UpstreamChange
from kinds.awlr.ingest.offline import back_online
from kinds.awlr.ingest.summaries import Screened, StationFold, fold
from kinds.awlr.ingest.uplink import summary_at
from kinds.awlr.items import LevelSummary, RateOfRise, SiagaChange
from kinds.awlr.siaga import classify_siaga
from kinds.awlr.summary_columns import from_micros

log = logging.getLogger(__name__)

#: An item to apply in device order: (time, seq, arrival, station, item, gateway); `arrival`
#: (the item's place in the call) orders items of equal time and seq as they came.
_Timed = tuple[datetime, int, int, Station, LevelSummary | SiagaChange | RateOfRise, str]


def apply(batches: Sequence[KindBatch], context: ApplyContext) -> None:
    """Apply a call's accepted river events and summaries (`ingest.kind_interface`)."""
    _Applier(context).run(batches)


class _Applier:
    """One call: the events and summaries of its batches, then the alerts they imply."""

    def __init__(self, context: ApplyContext) -> None:
        self.session = context.session
        self.result = context.result
        self.network: RiverNetwork | None = context.runtime.network
        self.now = context.now
        self.context = context
        #: Stations with an open Siaga alert, kept current while the call opens and clears them.
        self.open_siaga: set[str] = set()
        #: Whether any forecast alert is open near the stations of the call, or was opened by it.
        self.forecasts_involved = False

    def run(self, batches: Sequence[KindBatch]) -> None:
        session = self.session
        stations = self.context.stations
        arrived = self.context.heard  # station -> gateway that brought something of it
        newest = self.context.newest  # station -> its newest reading in the call, whatever its QC
        nearby = self.network.and_below(stations) if self.network else set(stations)
        open_alerts = _open_alerts(session, nearby)
        self.open_siaga = {s for s, t in open_alerts if t == ALERT_TYPE_SIAGA}
        offline = {s for s, t in open_alerts if t == ALERT_TYPE_OFFLINE}
        alerted = {s for s, _t in open_alerts}  # their alerts' levels follow the river (and the events')
        self.forecasts_involved = any(t == ALERT_TYPE_FORECAST for _s, t in open_alerts)

        # A summary can only clear a Siaga alert open at its turn (see `_summary`): one open
        # before the call or opened by a Siaga change of the call. Others would be no-ops in
        # the timeline, and a backlog of summaries need not be sorted.
        may_clear = self.open_siaga | {item.station for b in batches for _p, item in b.events if isinstance(item, SiagaChange)}
        timeline: list[_Timed] = []
        accepted: list[Screened] = []
        for b in batches:
            gateway = b.gateway
            for kept in b.screened.series if b.screened is not None else ():
                rows = kept.rows
                accepted.append(kept)
                if may_clear.isdisjoint(rows.station):
                    continue
                clearing = np.flatnonzero(
                    (rows.siaga == 4) & ~np.isnan(rows.last_cm) & np.array([s in may_clear for s in rows.station], dtype=bool)
                )
                for i in clearing.tolist():
                    item = summary_at(rows, i, gateway)
                    timeline.append((item.last_ts, item.last_seq, int(kept.positions[i]), stations[item.station], item, gateway))
            for place, event in b.events:
                _later(newest, event.station, event.ts)
                alerted.add(event.station)
                timeline.append((event.ts, event.seq, place, stations[event.station], event, gateway))
        # Station state once per station: what all its summaries of the call say together is
        # what applying them one by one would leave (the oldest time extends the history, the
        # newest reading wins, the later one of equal times), and it precedes every change.
        for station_id, summarised in fold([(k.rows, k.positions, k.index) for k in accepted]).items():
            _apply_fold(stations[station_id], summarised)
            _later(newest, station_id, from_micros(summarised.newest_us))
        # Alerts follow device time, whatever order the batches came in.
        for _ts, _seq, _arrival, station, item, gateway in sorted(timeline, key=lambda t: (t[0], t[1], t[2])):
            who = gateway_actor(gateway)
            if isinstance(item, LevelSummary):
                self._summary(station, item, who)
            else:
                self._change(station, item, who)
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


def _stale(applied_until: datetime | None, ts: datetime, result: Any) -> bool:
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


