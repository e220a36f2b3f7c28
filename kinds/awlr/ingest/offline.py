"""Offline alerts: a station from which ingest has heard nothing for too long.

Judged by ingest's wall clock at arrival (`Station.last_arrival_at`), never by device time:
a simulator replaying yesterday, or a gateway emptying a day-old outbox, is alive now even
though its readings are old. A station is silent after `offline_after_intervals` of its summary
interval; during a Siaga the gateway reports more often (`summary_every_s_alert`), so silence is
noticed sooner exactly when it matters.

The decision is `silent_stations` (pure); `check_offline` applies it to the state store and is
run periodically by the ingest worker.

Data arriving clears the alert (`ingest.service`), but only a reading taken after the alert
opened (`back_online`). A gateway closes a silent device's last window some time after its last
reading and sends it then: readings from before the silence, arriving after the alert. They
once cleared the alert as `data_returned`, and a new alert opened minutes later; both went out
in the public CAP feed. Device time and ingest's clock differ (a replay of last month, a clock a
little off), so the alert keeps the station's own time at opening, estimated as its newest
reading's time plus the silence ingest waited (`device_time_at`), and a reading must be newer
than that. This assumes the device's clock runs on while it is silent: a device whose clock
jumped back (a reset without time sync) keeps its alert until its clock passes that time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.alerts import SYSTEM, raise_offline
from central.models import ALERT_TYPE_OFFLINE, OPEN_STATUSES, Alert, Station
from core.config import TepiConfig
from kinds.awlr.config import AlertingConfig


def silent_after(alerting: AlertingConfig, siaga: int | None) -> timedelta:
    """How long a station at `siaga` may stay silent: N of the summary intervals it reports at."""
    every = alerting.summary_every_s_alert if siaga is not None and siaga <= 3 else alerting.summary_every_s
    return timedelta(seconds=every * alerting.offline_after_intervals)


@dataclass(frozen=True, slots=True)
class Liveness:
    """What the offline decision needs to know of one station."""

    station: str
    last_arrival_at: datetime | None
    silent_after: timedelta


def silent_stations(stations: Iterable[Liveness], now: datetime, watching_since: datetime) -> list[str]:
    """Stations silent for at least their `silent_after`, as of `now`.

    `watching_since` is when this ingest started watching: silence before it is not counted,
    so a restart after downtime gives every station its full interval to report before it is
    declared offline, instead of flagging all of them at once. A station never heard from is
    not commissioned yet and is not flagged.
    """
    out: list[str] = []
    for s in stations:
        if s.last_arrival_at is None:
            continue
        if now - max(s.last_arrival_at, watching_since) >= s.silent_after:
            out.append(s.station)
    return out


def device_time_at(now: datetime, last_seen_at: datetime | None, last_arrival_at: datetime | None) -> datetime | None:
    """The station's own clock at ingest's `now`: its newest reading's time (`last_seen_at`) moved
    on by the time since ingest last heard from it. None when either is unknown.

    Delivery takes time, so this is at most the station's clock then, never later: a reading
    taken after the alert opened is always newer, and a window of readings from before the
    silence, sent late, is older by most of the silence ingest waited.
    """
    if last_seen_at is None or last_arrival_at is None:
        return None
    return last_seen_at + max(now - last_arrival_at, timedelta(0))


def back_online(opened_device_at: datetime | None, newest_reading_at: datetime | None) -> bool:
    """Whether readings up to `newest_reading_at` show a station back whose offline alert opened
    at `opened_device_at` (the station's clock): only a reading taken after that does. An alert
    without that time (opened before it was kept) clears on anything, as it always did."""
    if opened_device_at is None:
        return True
    return newest_reading_at is not None and newest_reading_at > opened_device_at


def alerting_rules(config: TepiConfig) -> dict[str, AlertingConfig]:
    """Alerting settings of every configured station (a station removed from the file is not watched)."""
    return {s.id: s.alerting for s in config.stations}


def check_offline(
    session: Session, rules: Mapping[str, AlertingConfig], now: datetime, watching_since: datetime
) -> list[str]:
    """Open an offline alert for each newly silent station; returns their ids. Caller's transaction."""
    stations = {s.id: s for s in session.scalars(sa.select(Station).where(Station.id.in_(list(rules))))}
    silent = silent_stations(
        (
            Liveness(s.id, s.last_arrival_at, silent_after(rules[s.id], s.last_siaga))
            for s in sorted(stations.values(), key=lambda s: s.id)
        ),
        now,
        watching_since,
    )
    if not silent:
        return []
    already = set(
        session.scalars(
            sa.select(Alert.station_id).where(
                Alert.type == ALERT_TYPE_OFFLINE, Alert.status.in_(OPEN_STATUSES), Alert.station_id.in_(silent)
            )
        )
    )
    opened: list[str] = []
    for station_id in silent:
        if station_id in already:
            continue
        station = stations[station_id]
        device_now = device_time_at(now, station.last_seen_at, station.last_arrival_at)
        if raise_offline(session, station, now, station.last_arrival_at, SYSTEM, device_now) is not None:
            opened.append(station_id)
    return opened
