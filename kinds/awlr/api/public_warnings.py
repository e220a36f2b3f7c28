"""The warnings in force that the public page lists beside the river levels, as JSON.

The Atom index of CAP messages (`/alerts/cap`) lists every alert not yet closed, cleared ones
too, because a receiver must get their Cancel; nothing in an Atom entry says which have ended.
A citizen's page wants only the warnings in force, and a browser would otherwise fetch every CAP
message to find out. So this lists the tenant's public alerts that are active or acknowledged
(ended ones leave the list when they clear), each with the headline its CAP message carries, in
Indonesian and English, worded by the alert type's kind (`api.services.alert_words`): a sea
area's warning (the wave buoy kind's) reads here exactly as in its CAP message.

What goes out is what the CAP message publishes anyway, and less: no handling (whether anyone
acknowledged, who, with what note), no thresholds' provenance. Each item is the alert's latest
public revision (what the public was told), not the live row, so the headline here and in the
feed are the same words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.models import AlertPublic
from api.services.alert_words import DEFAULT_ZONE, ZONES, Place, alert_words, subject_place
from api.services.alerts import public_from_values, public_subject, without_actors
from central.alerts import PUBLIC_KINDS
from central.models import OPEN_STATUSES, OPERATIONAL_ALERT_TYPES, Alert, AlertEvent, Station
from core.config import TepiConfig
from core.sea_forecast import WAVE_CATEGORIES
from kinds.awlr.api.models import PublicWarning, PublicWarnings, WarningCategory

#: Most warnings one answer lists, newest first (the CAP index's limit: a season has tens open).
WARNINGS_MAX = 500
_PUBLIC_EVENTS = sorted(k.value for k in PUBLIC_KINDS)
_WAVE_CATEGORIES = {c.code: WarningCategory(code=c.code, label_id=c.label_id, label_en=c.label_en) for c in WAVE_CATEGORIES}


def station_place(station: Station, config: TepiConfig) -> Place:
    """A station as a CAP message names it, in the zone its configuration gives (WIB by default)."""
    timezone = config.platform_timezone(station.id)
    return Place(
        id=station.id,
        name=station.name,
        river=station.river,
        lat=station.lat,
        lon=station.lon,
        bounds=(station.siaga3_cm, station.siaga2_cm, station.siaga1_cm),
        zone=ZONES.get(timezone, DEFAULT_ZONE) if timezone is not None else DEFAULT_ZONE,
    )


def _latest_public_events(session: Session, alert_ids: Iterable[int]) -> dict[int, AlertEvent]:
    """Each alert's latest public revision (the CAP message in force)."""
    ids = sorted(set(alert_ids))
    if not ids:
        return {}
    latest = (
        sa.select(AlertEvent.alert_id, sa.func.max(AlertEvent.seq).label("seq"))
        .where(AlertEvent.alert_id.in_(ids), AlertEvent.kind.in_(_PUBLIC_EVENTS))
        .group_by(AlertEvent.alert_id)
        .subquery()
    )
    events = session.scalars(sa.select(AlertEvent).join(latest, AlertEvent.seq == latest.c.seq))
    return {e.alert_id: e for e in events}


def public_warnings(
    session: Session,
    config: TepiConfig,
    tenant: str | None,
    cap_url: Callable[[int], str],
    limit: int = WARNINGS_MAX,
) -> PublicWarnings:
    """The public alerts in force (of one tenant, if given), latest revision first.

    `cap_url` gives an alert's CAP message URL. An alert whose type no kind of
    this build words, whose subject is no public place (a vessel) or whose place cannot be told
    has no CAP message and is left out, as the CAP index leaves it out.
    """
    stmt = sa.select(Alert).where(Alert.status.in_(OPEN_STATUSES), Alert.type.not_in(OPERATIONAL_ALERT_TYPES))
    if tenant is not None:
        stmt = stmt.where(Alert.tenant_id == tenant)
    alerts = list(session.scalars(stmt.order_by(Alert.updated_at.desc(), Alert.id.desc()).limit(limit)))
    events = _latest_public_events(session, (a.id for a in alerts))
    stations: dict[str, Station | None] = {}
    out: list[PublicWarning] = []
    for alert in alerts:
        words, event = alert_words(alert.type), events.get(alert.id)
        if words is None or event is None:
            continue
        told: AlertPublic = without_actors(public_from_values(event.payload["alert"]))
        if not public_subject(told):
            continue
        if told.station is not None:
            if told.station not in stations:
                stations[told.station] = session.get(Station, told.station)
            station = stations[told.station]
            place = station_place(station, config) if station is not None else None
        else:
            place = subject_place(words, told, event.payload.get("detail") or {})
        if place is None:
            continue
        upstream_station = session.get(Station, told.forecast.upstream_station) if told.forecast else None
        upstream = station_place(upstream_station, config) if upstream_station is not None else None
        out.append(
            PublicWarning(
                id=alert.id,
                tenant=alert.tenant_id,
                type=told.type,
                severity=told.severity,
                station=told.station,
                area=None if told.station is not None else place.id,
                place=place.name,
                siaga=told.siaga,
                siaga_label=told.siaga_label,
                # A sea area's revision records the wave category it tells (kinds.wavebuoy.marine_alerts).
                category=_WAVE_CATEGORIES.get(str((event.payload.get("detail") or {}).get("category"))) if told.station is None else None,
                headline_id=words.texts(told, place, upstream, "id-ID").headline,
                headline_en=words.texts(told, place, upstream, "en-US").headline,
                since=told.opened_at,
                updated_at=event.recorded_at,
                cap_url=cap_url(alert.id),
            )
        )
    return PublicWarnings(data=out, count=len(out))
