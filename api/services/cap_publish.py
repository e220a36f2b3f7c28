"""CAP messages and the Atom index from the state store: loads revisions, calls the builders.

Every revision is rebuilt from the snapshot its event recorded, so a message fetched twice (or
a year later) is byte-for-byte the same: its identifier really names one message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.errors import RevisionNotFound
from api.models import AlertPublic
from api.services.alerts import public_from_values, without_actors
from api.services.alert_words import DEFAULT_ZONE, ZONES, AlertWords, Place, alert_words, subject_place
from api.services.cap import FeedEntry, Publisher, build_cap, build_feed, identifier
from api.settings import Settings
from central.alerts import PUBLIC_KINDS
from central.errors import AlertNotFound
from central.models import ALERT_CLOSED, OPERATIONAL_ALERT_TYPES, Alert, AlertEvent, Station, Tenant
from core.config import TepiConfig
from contract.clock import utcnow

#: Most alerts one feed lists (newest first); a flood season has tens, not thousands, open.
FEED_MAX = 500
_PUBLIC = sorted(k.value for k in PUBLIC_KINDS)


@dataclass(frozen=True, slots=True)
class CapLinks:
    """Absolute URLs the messages point to, under the configured public base URL.

    Everything linked is public, like the messages themselves: `web` is the public station
    view of the tenant, not the (authenticated) alert resource.
    """

    alerts_url: str  # e.g. https://banjir.example.go.id/api/v1/alerts
    feed_url: str
    #: e.g. https://banjir.example.go.id/api/v1/public/stations; None when no kind serves a public view.
    public_url: str | None

    def web(self, tenant: str) -> str | None:
        return f"{self.public_url}?tenant={tenant}" if self.public_url is not None else None

    def cap(self, alert_id: int) -> str:
        return f"{self.alerts_url}/{alert_id}/cap"


def _place(station: Station, config: TepiConfig) -> Place:
    timezone = config.platform_timezone(station.id)  # None: removed from the configuration, its history still served
    zone = DEFAULT_ZONE if timezone is None else ZONES.get(timezone, DEFAULT_ZONE)
    return Place(
        id=station.id,
        name=station.name,
        river=station.river,
        lat=station.lat,
        lon=station.lon,
        bounds=(station.siaga3_cm, station.siaga2_cm, station.siaga1_cm),
        zone=zone,
    )


class _Context:
    """Stations and tenants a set of messages needs, each loaded once."""

    def __init__(self, session: Session, config: TepiConfig, settings: Settings) -> None:
        self.session, self.config, self.settings = session, config, settings
        self._places: dict[str, Place | None] = {}

    def place(self, station_id: str | None) -> Place | None:
        if station_id is None:
            return None
        if station_id not in self._places:
            station = self.session.get(Station, station_id)
            self._places[station_id] = _place(station, self.config) if station is not None else None
        return self._places[station_id]

    def place_of(self, snapshot: AlertPublic, event: AlertEvent, words: AlertWords) -> Place | None:
        """The station of the revision, or for an alert about no station the place its kind's
        words give from the event (None: the kind gives none, so the alert has no message)."""
        if snapshot.station is not None:
            return self.place(snapshot.station)
        return subject_place(words, snapshot, event.payload.get("detail") or {})

    def publisher(self, tenant_id: str) -> Publisher:
        tenant = self.session.get(Tenant, tenant_id)
        return Publisher(
            sender=f"{tenant_id}@{self.settings.cap_sender_domain}",
            sender_name=tenant.name if tenant is not None else tenant_id,
            radius_km=self.settings.cap_area_radius_km,
        )


def _revisions(session: Session, alert_ids: Iterable[int]) -> dict[int, list[AlertEvent]]:
    """Public revisions of each alert, revision 1 first."""
    ids = sorted(set(alert_ids))
    out: dict[int, list[AlertEvent]] = {i: [] for i in ids}
    if not ids:
        return out
    stmt = (
        sa.select(AlertEvent)
        .where(AlertEvent.alert_id.in_(ids), AlertEvent.kind.in_(_PUBLIC))
        .order_by(AlertEvent.alert_id, AlertEvent.seq)
    )
    for event in session.scalars(stmt):
        out[event.alert_id].append(event)
    return out


def _snapshot(event: AlertEvent) -> AlertPublic:
    """The alert as this revision published it, without who acted on it: the messages are public."""
    return without_actors(public_from_values(event.payload["alert"]))


def cap_message(
    session: Session,
    config: TepiConfig,
    settings: Settings,
    alert_id: int,
    links: CapLinks,
    revision: int | None = None,
) -> bytes:
    """The CAP message of one revision of an alert (default: its latest); an operational alert
    (a gateway's health) is no public warning and has none, nor has one no kind of this build words."""
    alert = session.get(Alert, alert_id)
    words = alert_words(alert.type) if alert is not None else None
    if alert is None or alert.type in OPERATIONAL_ALERT_TYPES or words is None:
        raise AlertNotFound(alert_id)
    revisions = _revisions(session, [alert_id])[alert_id]
    number = revision if revision is not None else len(revisions)
    if not 1 <= number <= len(revisions):
        raise RevisionNotFound(alert_id, number)
    event = revisions[number - 1]
    snapshot = _snapshot(event)
    ctx = _Context(session, config, settings)
    place = ctx.place_of(snapshot, event, words)
    if place is None:  # a station's is always there (a foreign key); a subject's kind may give none
        raise AlertNotFound(alert_id)
    upstream = ctx.place(snapshot.forecast.upstream_station) if snapshot.forecast else None
    return build_cap(
        snapshot,
        event.recorded_at,
        [e.recorded_at for e in revisions[: number - 1]],
        place,
        upstream,
        ctx.publisher(snapshot.tenant),
        # The public view is of river stations: an alert about no station (a sea area) links none.
        links.web(snapshot.tenant) if snapshot.station else None,
    )


def cap_feed(
    session: Session,
    config: TepiConfig,
    settings: Settings,
    links: CapLinks,
    tenant: str | None = None,
    station: str | None = None,
    limit: int = FEED_MAX,
    offset: int = 0,
) -> bytes:
    """Atom index of the public alerts not yet closed (cleared ones too: their Cancel must reach receivers)."""
    stmt = sa.select(Alert).where(Alert.status != ALERT_CLOSED, Alert.type.not_in(OPERATIONAL_ALERT_TYPES))
    if tenant is not None:
        stmt = stmt.where(Alert.tenant_id == tenant)
    if station is not None:
        stmt = stmt.where(Alert.station_id == station)
    stmt = stmt.order_by(Alert.updated_at.desc(), Alert.id.desc()).limit(min(limit, FEED_MAX)).offset(offset)
    alerts = list(session.scalars(stmt))
    revisions = _revisions(session, (a.id for a in alerts))
    ctx = _Context(session, config, settings)
    entries: list[FeedEntry] = []
    for alert in alerts:
        words = alert_words(alert.type)
        if not revisions[alert.id] or words is None:
            continue
        event = revisions[alert.id][-1]
        snapshot = _snapshot(event)
        place = ctx.place_of(snapshot, event, words)
        if place is None:
            continue
        upstream = ctx.place(snapshot.forecast.upstream_station) if snapshot.forecast else None
        entries.append(
            FeedEntry(
                identifier=identifier(snapshot.tenant, snapshot.id, snapshot.revision),
                title=words.texts(snapshot, place, upstream, "id-ID").headline,
                summary=words.texts(snapshot, place, upstream, "en-US").headline,
                updated=event.recorded_at,
                cap_url=links.cap(alert.id),
                alert_type=snapshot.type,
                zone=place.zone,
            )
        )
    updated = max((e.updated for e in entries), default=None) or utcnow()
    return build_feed(entries, links.feed_url, f"urn:tepi:cap-feed:{tenant or 'all'}", updated)
