"""Vessels, tracks and SOS incidents: the queries behind `routes_vessels` and `routes_sos`.

Scoping: everything is the caller's tenant's; a fisher sees only vessels they own (another
fisher's vessel is `VesselNotFound`, exactly as a missing one). An SOS incident is the central
alert of kind 'fishfinder', type 'sos', subject the vessel (`central.incidents`): raising one
from the app while the vessel's incident is open updates that incident, as a device's repeated
call does, and acknowledging and resolving go through the central lifecycle, so the alert list,
its event log and the live stream show it as any alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central import alerts as lifecycle
from central import incidents
from central.accounts import Principal
from central.errors import InvalidInput
from central.models import (
    ALERT_ACKNOWLEDGED,
    ALERT_ACTIVE,
    ALERT_TYPE_OVERDUE,
    OPEN_STATUSES,
    ROLE_FISHER,
    Alert,
    AlertEvent,
)
from contract.clock import utcnow
from kinds.fishfinder.api.errors import IncidentNotFound, VesselNotFound
from kinds.fishfinder.api.geo import KM_PER_NM, bearing_deg, distance_km
from kinds.fishfinder.api.sea_models import (
    DepartureCreate,
    FixPublic,
    NearbyVesselPublic,
    SosCreate,
    SosIncidentDetail,
    SosIncidentPublic,
    SosIncidentsPublic,
    OVERDUE_REASONS,
    TrackPublic,
    VesselOverduePublic,
    VesselPublic,
    VesselsPublic,
)
from kinds.fishfinder.items import KIND
from kinds.fishfinder.state import SosCall, Vessel, VesselPosition, declare_departure

SOS_TYPE = "sos"
SOS_SEVERITY = "critical"
#: `who` of an incident opened or updated from the fisher's app (the device's is "gateway:<id>").
APP_ACTOR = lifecycle.APP
#: Fixes of a track per answer (the track item's own bound).
MAX_TRACK = 2000
#: Other vessels listed beside an incident.
NEAREST = 10
#: Default track window.
TRACK_DEFAULT = timedelta(hours=24)


def _vessel_scope(principal: Principal) -> sa.ColumnElement[bool]:
    where = Vessel.tenant_id == principal.tenant
    if principal.role == ROLE_FISHER:
        where = sa.and_(where, Vessel.owner_user == principal.user_id)
    return where


def visible_vessel(session: Session, principal: Principal, vessel_id: str) -> Vessel:
    vessel = session.scalars(sa.select(Vessel).where(_vessel_scope(principal), Vessel.id == vessel_id)).one_or_none()
    if vessel is None:
        raise VesselNotFound(vessel_id)
    return vessel


def overdue_of(session: Session, tenant: str, vessel_ids: list[str]) -> dict[str, VesselOverduePublic]:
    """The open overdue alerts of these vessels, by vessel: since when, and the reason the
    overdue watch opened it with (the detail of its first event). The watch alone decides (a
    vessel's silence limit is the server's), so the console shows what the alert list shows,
    not a guess from `expected_return_at`."""
    if not vessel_ids:
        return {}
    alerts = session.execute(
        sa.select(Alert.id, Alert.subject, Alert.opened_at).where(
            Alert.tenant_id == tenant,
            Alert.kind == KIND,
            Alert.type == ALERT_TYPE_OVERDUE,
            Alert.status.in_(OPEN_STATUSES),
            Alert.subject.in_(vessel_ids),
        )
    ).all()
    reasons: dict[int, str | None] = {}
    if alerts:
        events = sa.select(AlertEvent.alert_id, AlertEvent.payload).where(AlertEvent.alert_id.in_([a.id for a in alerts]))
        for alert_id, payload in session.execute(events.order_by(AlertEvent.seq.desc())):  # the first event last: it wins
            detail = payload.get("detail") if isinstance(payload, dict) else None
            reason = detail.get("reason") if isinstance(detail, dict) else None
            reasons[alert_id] = reason if reason in OVERDUE_REASONS else None
    return {a.subject: VesselOverduePublic(reason=reasons.get(a.id), since=a.opened_at) for a in alerts}


def _vessel_public(v: Vessel, overdue: VesselOverduePublic | None = None) -> VesselPublic:
    return VesselPublic(
        id=v.id,
        name=v.name,
        home_port=v.home_port,
        home_lat=v.home_lat,
        home_lon=v.home_lon,
        gateway_id=v.gateway_id,
        at_sea=v.at_sea,
        expected_return_at=v.expected_return_at,
        last_lat=v.last_lat,
        last_lon=v.last_lon,
        last_seen_at=v.last_fix_at,
        overdue=overdue,
    )


def list_vessels(session: Session, principal: Principal, limit: int, offset: int) -> VesselsPublic:
    where = _vessel_scope(principal)
    total = session.scalar(sa.select(sa.func.count()).select_from(Vessel).where(where)) or 0
    rows = session.scalars(sa.select(Vessel).where(where).order_by(Vessel.id).limit(limit).offset(offset)).all()
    overdue = overdue_of(session, principal.tenant, [v.id for v in rows])
    data = [_vessel_public(v, overdue.get(v.id)) for v in rows]
    return VesselsPublic(data=data, count=int(total), limit=limit, offset=offset)


def _fixes(session: Session, vessel_id: str, since: datetime, limit: int) -> tuple[list[FixPublic], bool]:
    rows = session.scalars(
        sa.select(VesselPosition)
        .where(VesselPosition.vessel_id == vessel_id, VesselPosition.ts >= since)
        .order_by(VesselPosition.ts, VesselPosition.id)
        .limit(limit + 1)
    ).all()
    fixes = [
        FixPublic(ts=p.ts, lat=p.lat, lon=p.lon, sog_kn=p.sog, cog_deg=p.cog, distress=p.distress) for p in rows[:limit]
    ]
    return fixes, len(rows) > limit


def vessel_track(
    session: Session, principal: Principal, vessel_id: str, since: datetime | None, limit: int
) -> TrackPublic:
    vessel = visible_vessel(session, principal, vessel_id)
    start = since if since is not None else utcnow() - TRACK_DEFAULT
    fixes, truncated = _fixes(session, vessel.id, start, min(limit, MAX_TRACK))
    return TrackPublic(vessel=vessel.id, since=start, data=fixes, truncated=truncated)


def depart(session: Session, principal: Principal, vessel_id: str, body: DepartureCreate) -> VesselPublic:
    """Record the caller's vessel sailing, due back at `body.expected_return_at` (the owner
    fisher's own vessel; the admin any of the tenant's)."""
    with session.begin():
        vessel = visible_vessel(session, principal, vessel_id)
        try:
            declare_departure(vessel, body.expected_return_at, utcnow())
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        session.flush()
        return _vessel_public(vessel, overdue_of(session, principal.tenant, [vessel.id]).get(vessel.id))


def raise_sos(session: Session, principal: Principal, body: SosCreate) -> SosIncidentPublic:
    """Open (or update) the vessel's SOS incident from the app, with the phone's position."""
    now = utcnow()
    with session.begin():
        vessel = visible_vessel(session, principal, body.vessel)
        session.add(
            VesselPosition(
                tenant_id=vessel.tenant_id, vessel_id=vessel.id, ts=now, lat=body.lat, lon=body.lon, distress=True
            )
        )
        if vessel.last_fix_at is None or vessel.last_fix_at <= now:
            vessel.last_lat, vessel.last_lon, vessel.last_fix_at = body.lat, body.lon, now
        detail = {"source": "app", "user_id": principal.user_id, "nature": body.nature, "lat": body.lat, "lon": body.lon}
        alert, _transition = incidents.raise_subject_alert(
            session,
            tenant=vessel.tenant_id,
            kind=KIND,
            subject=vessel.id,
            alert_type=SOS_TYPE,
            severity=SOS_SEVERITY,
            at=now,
            who=APP_ACTOR,
            detail=detail,
        )
        session.flush()
        return _incident_public(session, alert, vessel, show_actors=principal.role != ROLE_FISHER)


def _incidents(tenant: str) -> sa.ColumnElement[bool]:
    return sa.and_(Alert.tenant_id == tenant, Alert.kind == KIND, Alert.type == SOS_TYPE)


def _nature(session: Session, alert: Alert) -> str:
    """The latest nature the boat or the app gave for this incident."""
    call = session.scalars(
        sa.select(SosCall.nature).where(SosCall.alert_id == alert.id).order_by(SosCall.received_at.desc()).limit(1)
    ).first()
    app: Any = None
    for payload in session.scalars(
        sa.select(AlertEvent.payload).where(AlertEvent.alert_id == alert.id).order_by(AlertEvent.seq.desc())
    ):
        detail = payload.get("detail") if isinstance(payload, dict) else None
        if isinstance(detail, dict) and detail.get("nature"):
            app = detail["nature"]
            break
    return str(call or app or "undesignated")


def _status(alert: Alert) -> str:
    return {ALERT_ACTIVE: "open", ALERT_ACKNOWLEDGED: "acknowledged"}.get(alert.status, "resolved")


def _incident_public(
    session: Session, alert: Alert, vessel: Vessel | None, show_actors: bool = True
) -> SosIncidentPublic:
    """The incident as responders see it; without `show_actors` (the fisher who raised it from
    the app) no operator's name: who acknowledged or resolved is the operator's personal data."""
    return SosIncidentPublic(
        id=alert.id,
        vessel=alert.subject,
        vessel_name=vessel.name if vessel is not None else alert.subject,
        status=_status(alert),  # type: ignore[arg-type]
        nature=_nature(session, alert),
        opened_at=alert.opened_at,
        updated_at=alert.updated_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by if show_actors else None,
        resolved_at=alert.closed_at or alert.cleared_at,
        resolved_by=(alert.closed_by or alert.cleared_by) if show_actors else None,
        lat=vessel.last_lat if vessel is not None else None,
        lon=vessel.last_lon if vessel is not None else None,
        position_at=vessel.last_fix_at if vessel is not None else None,
    )


def list_incidents(session: Session, tenant: str, open_only: bool, limit: int, offset: int) -> SosIncidentsPublic:
    where = _incidents(tenant)
    if open_only:
        where = sa.and_(where, Alert.status.in_((ALERT_ACTIVE, ALERT_ACKNOWLEDGED)))
    total = session.scalar(sa.select(sa.func.count()).select_from(Alert).where(where)) or 0
    rows = session.execute(
        sa.select(Alert, Vessel)
        .outerjoin(Vessel, Vessel.id == Alert.subject)
        .where(where)
        .order_by(Alert.opened_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    data = [_incident_public(session, a, v) for a, v in rows]
    return SosIncidentsPublic(data=data, count=int(total), limit=limit, offset=offset)


def _incident(session: Session, tenant: str, incident_id: int) -> Alert:
    alert = session.scalars(sa.select(Alert).where(_incidents(tenant), Alert.id == incident_id)).one_or_none()
    if alert is None:
        raise IncidentNotFound(incident_id)
    return alert


def _visible_incident(session: Session, principal: Principal, incident_id: int) -> Alert:
    """The incident if the caller may read it: a responder any of the tenant's, a fisher one
    about a vessel they own (another's is `IncidentNotFound`, exactly as a missing one)."""
    where = sa.and_(_incidents(principal.tenant), Alert.id == incident_id)
    if principal.role == ROLE_FISHER:
        owned = sa.select(Vessel.id).where(_vessel_scope(principal))
        where = sa.and_(where, Alert.subject.in_(owned))
    alert = session.scalars(sa.select(Alert).where(where)).one_or_none()
    if alert is None:
        raise IncidentNotFound(incident_id)
    return alert


def nearest_vessels(vessels: list[Vessel], lat: float, lon: float, n: int = NEAREST) -> list[NearbyVesselPublic]:
    """The `n` vessels nearest to (lat, lon) by their last position (none without one)."""
    out = []
    for v in vessels:
        if v.last_lat is None or v.last_lon is None or v.last_fix_at is None:
            continue
        km = distance_km(lat, lon, v.last_lat, v.last_lon)
        out.append(
            NearbyVesselPublic(
                id=v.id,
                name=v.name,
                distance_km=round(km, 2),
                distance_nm=round(km / KM_PER_NM, 2),
                bearing_from_casualty_deg=round(bearing_deg(lat, lon, v.last_lat, v.last_lon), 1),
                bearing_to_casualty_deg=round(bearing_deg(v.last_lat, v.last_lon, lat, lon), 1),
                last_seen_at=v.last_fix_at,
            )
        )
    out.sort(key=lambda n_: (n_.distance_km, n_.id))
    return out[:n]


def incident_detail(session: Session, principal: Principal, incident_id: int) -> SosIncidentDetail:
    """The incident with its vessel's track since the call; for a responder also the nearest
    other vessels. The owner fisher gets it as `raise_sos` answers them: no operator's name, and
    `nearest` null (other boats' positions are not theirs)."""
    alert = _visible_incident(session, principal, incident_id)
    responder = principal.role != ROLE_FISHER
    vessel = session.get(Vessel, alert.subject)
    summary = _incident_public(session, alert, vessel, show_actors=responder)
    track, _ = _fixes(session, alert.subject, alert.opened_at, MAX_TRACK)
    nearest: list[NearbyVesselPublic] | None = None
    if responder:
        nearest = []
        if summary.lat is not None and summary.lon is not None:
            others = session.scalars(
                sa.select(Vessel).where(Vessel.tenant_id == principal.tenant, Vessel.id != alert.subject)
            ).all()
            nearest = nearest_vessels(list(others), summary.lat, summary.lon)
    return SosIncidentDetail(**summary.model_dump(), track=track, nearest=nearest)


def acknowledge_incident(session: Session, principal: Principal, incident_id: int, note: str | None) -> SosIncidentPublic:
    with session.begin():
        _incident(session, principal.tenant, incident_id)
        alert = lifecycle.acknowledge(session, incident_id, principal.name, utcnow(), tenant=principal.tenant, note=note)
        return _incident_public(session, alert, session.get(Vessel, alert.subject))


def resolve_incident(session: Session, principal: Principal, incident_id: int, note: str | None) -> SosIncidentPublic:
    with session.begin():
        _incident(session, principal.tenant, incident_id)
        alert = incidents.resolve(session, incident_id, principal.name, utcnow(), tenant=principal.tenant, note=note)
        return _incident_public(session, alert, session.get(Vessel, alert.subject))
