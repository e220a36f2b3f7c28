"""Offline alerts: a station from which ingest has heard nothing for too long.

Judged by ingest's wall clock at arrival (`Station.last_arrival_at`), never by device time:
a simulator replaying yesterday, or a gateway emptying a day-old outbox, is alive now even
though its readings are old. A station is silent after `offline_after_intervals` of its summary
interval; during a Siaga the gateway reports more often (`summary_every_s_alert`), so silence is
noticed sooner exactly when it matters.

The decision is `silent_stations` (pure); `check_offline` applies it to the state store and is
run periodically by the ingest worker. Data arriving clears the alert (`ingest.service`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest.alerts import SYSTEM, raise_offline
from ingest.models import ALERT_TYPE_OFFLINE, OPEN_STATUSES, Alert, Station
from tepi.config import AlertingConfig, TepiConfig


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
        if raise_offline(session, station, now, station.last_arrival_at, SYSTEM) is not None:
            opened.append(station_id)
    return opened
