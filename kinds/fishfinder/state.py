"""The fish finder's own tables in the state store: vessels, their positions, the schools they
saw and their SOS calls (Alembic branch 'fishfinder', `kinds/fishfinder/migrations`).

An SOS incident itself is an alert in the central lifecycle (kind 'fishfinder', type 'sos',
subject the vessel: `central.incidents`); `sos_calls` keeps every call behind it (each press and
each repeat of it) and what the centre last told the boat's gateway about the incident.

Personal data (UU 27/2022): a vessel's positions say where a person was. They are tenant-scoped
like everything else and erased after `RetentionConfig.position_days` (default
`POSITION_RETENTION_DAYS`): track fixes, SOS call positions, positions in the kind's alert
events, a vessel's last fix, where a school was seen and where a catch was made; buyers'
messages to fishers (`catch_contact_requests`) go after `RetentionConfig.contact_message_days`
(`enforce_retention`, run with the central retention, `central.retention`).
"""

from __future__ import annotations

import copy
import inspect
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from central.models import AlertEvent, Base, UtcDateTime
from core.config import RetentionConfig
# The catch tables (revision ff0002) are the kind's state too: importing them here gives whatever
# loads the kind's tables (`central.schema.kind_state_modules`) them all.
from kinds.fishfinder.catches import Catch, CatchContactRequest
from kinds.fishfinder.home_ports import home_port_position
from kinds.fishfinder.items import KIND
from kinds.fishfinder.sailing_figures import check_figures

#: The statuses an SOS reply carries, in the order an incident goes through them.
SOS_RECEIVED = "received"
SOS_ACKNOWLEDGED = "acknowledged"
SOS_RESOLVED = "resolved"
SOS_STATUSES = (SOS_RECEIVED, SOS_ACKNOWLEDGED, SOS_RESOLVED)
#: Silence after which a vessel at sea is overdue unless its registration says otherwise: a
#: Tepi choice (a boat's gateway sends its track at least every few minutes while at sea).
DEFAULT_SILENT_LIMIT_S = 6 * 3600
#: Days a vessel's positions are kept: a Tepi choice (a season's tracks for search and rescue
#: reviews), not a legal figure; positions are personal data and go after it.
POSITION_RETENTION_DAYS = 180

log = logging.getLogger(__name__)
_BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Vessel(Base):
    """A registered boat: who it belongs to, what it can do, and where it was last seen."""

    __tablename__ = "vessels"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    #: The fisher (API user) who owns it, if registered: sees its track and catches.
    owner_user: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    home_port: Mapped[str] = mapped_column(sa.String(200))
    #: Where the home port is (WGS 84): within `overdue.HOME_RADIUS_KM` of it the vessel is in
    #: port. None: unknown, the vessel is at sea only as its owner declares (revision ff0003).
    home_lat: Mapped[float | None]
    home_lon: Mapped[float | None]
    #: Gross tonnage.
    gt: Mapped[float]
    speed_kn: Mapped[float]
    fuel_l_per_h: Mapped[float]
    wave_limit_m: Mapped[float]
    #: The strongest wind (knots) the boat should be out in (revision ff0004); 0: none registered,
    #: routes take the tenant's small-boat limit, as for `wave_limit_m` (revision ff0005; the
    #: server default stays ff0004's 15, every insert of Tepi's gives the value).
    wind_limit_kn: Mapped[float] = mapped_column(default=0.0, server_default=sa.text("15.0"))
    #: The gateway on board: where SOS replies go (`tepi/<tenant>/gw/<gateway>/down`).
    gateway_id: Mapped[str] = mapped_column(sa.String(64))
    expected_return_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    silent_limit_s: Mapped[int] = mapped_column(default=DEFAULT_SILENT_LIMIT_S)
    at_sea: Mapped[bool] = mapped_column(default=False)
    last_lat: Mapped[float | None]
    last_lon: Mapped[float | None]
    last_fix_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class VesselPosition(Base):
    """One fix of a vessel's track (thinned on board): personal data, see the module."""

    __tablename__ = "vessel_positions"
    __table_args__ = (
        sa.Index("ix_vessel_positions_vessel_ts", "vessel_id", "ts"),
        sa.Index("ix_vessel_positions_ts", "ts"),
    )

    id: Mapped[int] = mapped_column(_BIGINT, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    vessel_id: Mapped[str] = mapped_column(sa.ForeignKey("vessels.id"))
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    lat: Mapped[float]
    lon: Mapped[float]
    #: Speed over ground (knots) and course over ground (degrees true), where the GPS gave them.
    sog: Mapped[float | None]
    cog: Mapped[float | None]
    #: Sent while an SOS was active (the drift a rescue follows).
    distress: Mapped[bool] = mapped_column(default=False)


class SchoolSighting(Base):
    """A fish school one vessel's sounder saw, by item id (one row however often it is sent)."""

    __tablename__ = "school_sightings"
    __table_args__ = (sa.Index("ix_school_sightings_tenant_start", "tenant_id", "start"),)

    item_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    vessel_id: Mapped[str] = mapped_column(sa.ForeignKey("vessels.id"), index=True)
    gateway: Mapped[str] = mapped_column(sa.String(64))
    start: Mapped[datetime] = mapped_column(UtcDateTime())
    end: Mapped[datetime] = mapped_column(UtcDateTime())
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    top_m: Mapped[float]
    bottom_m: Mapped[float]
    mean_sv_db: Mapped[float]
    pings: Mapped[int]


class SosCall(Base):
    """One DistressCall as received: a press or a repeat of it, or a cancel (`active` False),
    linked to its incident (`alert_id`). `status_sent` is the newest incident status the centre
    published to the vessel's gateway in answer to it (`SOS_STATUSES`); the ingest worker's poll
    sends what changed since (an operator acknowledged, or resolved, through the API)."""

    __tablename__ = "sos_calls"
    __table_args__ = (
        sa.Index("ix_sos_calls_vessel_press", "vessel_id", "press"),
        sa.CheckConstraint(f"status_sent IN {SOS_STATUSES!r}", name="ck_sos_calls_status_sent"),
    )

    item_id: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    alert_id: Mapped[int] = mapped_column(sa.ForeignKey("alerts.id"), index=True)
    tenant_id: Mapped[str] = mapped_column(sa.String(64))
    vessel_id: Mapped[str] = mapped_column(sa.ForeignKey("vessels.id"))
    gateway: Mapped[str] = mapped_column(sa.String(64))
    press: Mapped[int] = mapped_column(_BIGINT)
    repeat: Mapped[int]
    ts: Mapped[datetime] = mapped_column(UtcDateTime())
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    nature: Mapped[str] = mapped_column(sa.String(32))
    active: Mapped[bool]
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status_sent: Mapped[str] = mapped_column(sa.String(16))


def register_vessel(
    session: Session,
    *,
    vessel_id: str,
    tenant: str,
    name: str,
    home_port: str,
    gateway_id: str,
    now: datetime,
    gt: float = 0.0,
    speed_kn: float = 0.0,
    fuel_l_per_h: float = 0.0,
    wave_limit_m: float = 0.0,
    wind_limit_kn: float = 0.0,
    owner_user: int | None = None,
    silent_limit_s: int = DEFAULT_SILENT_LIMIT_S,
    home: tuple[float, float] | None = None,
) -> Vessel:
    """Add a vessel to `tenant` (in the caller's transaction); `ValueError` for an id in use or
    figures that cannot be (negative tonnage; speed, fuel use, wave or wind limit outside
    `FIGURE_BOUNDS`; no silence limit; a home position off the globe). `home` is the home port's (lat, lon); without it, the
    documented position of a port `home_port` names (`home_ports.HOME_PORTS`), if any."""
    if home is None:
        home = home_port_position(home_port)
    else:
        check_position(*home)
    check_figures(gt=gt, speed_kn=speed_kn, fuel_l_per_h=fuel_l_per_h, wave_limit_m=wave_limit_m, wind_limit_kn=wind_limit_kn)
    if silent_limit_s <= 0:
        raise ValueError(f"silent_limit_s must be positive, not {silent_limit_s!r}")
    if session.get(Vessel, vessel_id) is not None:
        raise ValueError(f"vessel {vessel_id!r} is registered already")
    vessel = Vessel(
        id=vessel_id, tenant_id=tenant, name=name, owner_user=owner_user, home_port=home_port,
        home_lat=home[0] if home else None, home_lon=home[1] if home else None, gt=gt,
        speed_kn=speed_kn, fuel_l_per_h=fuel_l_per_h, wave_limit_m=wave_limit_m, wind_limit_kn=wind_limit_kn, gateway_id=gateway_id,
        expected_return_at=None, silent_limit_s=silent_limit_s, at_sea=False, created_at=now,
    )
    session.add(vessel)
    session.flush()
    return vessel


#: What `ensure_vessel` found or did.
REGISTERED, UNCHANGED, HOME_SET = "registered", "unchanged", "home set"
#: A registration's figures that must agree when a vessel is enrolled again.
_FIGURES = ("name", "home_port", "owner_user", "gt", "speed_kn", "fuel_l_per_h", "wave_limit_m", "wind_limit_kn", "silent_limit_s")


def ensure_vessel(session: Session, **registration: Any) -> tuple[Vessel, str]:
    """Register the vessel (`register_vessel`, whose keyword arguments `registration` are), or
    find it registered as asked, so that an enrolment run twice (a fleet's file imported again)
    changes nothing: returns the vessel and `REGISTERED`, `UNCHANGED` or `HOME_SET` (a vessel
    registered before it had a home position, revision ff0003, gets the one given or its port's
    documented one). `ValueError`, nothing changed, when the vessel is registered otherwise: in
    another tenant, with another gateway, or with other figures (each named); a home position
    differs only when one is given. `TypeError` for arguments `register_vessel` does not take."""
    bound = inspect.signature(register_vessel).bind(session, **registration)
    bound.apply_defaults()  # a figure left out is its default, as when it is registered
    wanted = bound.arguments
    vessel_id, home = wanted["vessel_id"], wanted["home"]
    vessel = session.get(Vessel, vessel_id)
    if vessel is None:
        return register_vessel(session, **registration), REGISTERED
    if vessel.tenant_id != wanted["tenant"]:
        raise ValueError(f"vessel {vessel_id!r} is registered in tenant {vessel.tenant_id!r}, not {wanted['tenant']!r}: nothing changed")
    if vessel.gateway_id != wanted["gateway_id"]:
        raise ValueError(
            f"vessel {vessel_id!r} is registered with gateway {vessel.gateway_id!r}, not {wanted['gateway_id']!r}: nothing changed"
        )
    differ = [f for f in _FIGURES if getattr(vessel, f) != wanted[f]]
    if home is not None:
        check_position(*home)
        if vessel.home_lat is not None and (vessel.home_lat, vessel.home_lon) != tuple(home):
            differ.append("home position")
    if differ:
        raise ValueError(f"vessel {vessel_id!r} is registered already with another {', '.join(differ)}: nothing changed")
    home = home if home is not None else home_port_position(wanted["home_port"])
    if vessel.home_lat is None and home is not None:
        vessel.home_lat, vessel.home_lon = home
        return vessel, HOME_SET
    return vessel, UNCHANGED


#: The figures `set_sailing_figures` may change on a registered vessel: what routes and verdicts
#: use, nothing of who owns it, which gateway is on board or where its home is.
SAILING_FIGURES = ("speed_kn", "fuel_l_per_h", "wave_limit_m", "wind_limit_kn")


def set_sailing_figures(session: Session, vessel_id: str, **figures: float) -> dict[str, tuple[float, float]]:
    """Change a registered vessel's `SAILING_FIGURES` (in the caller's transaction): returns
    what changed, figure -> (before, after). `ValueError`, nothing changed, for a vessel not
    registered, a figure not among them, or a value outside `FIGURE_BOUNDS` (a limit of 0 is
    none registered: routes take the tenant's small-boat limit).
    Logged at INFO without the vessel (personal data): its tenant and which figures changed."""
    unknown = sorted(set(figures) - set(SAILING_FIGURES))
    if unknown:
        raise ValueError(f"{', '.join(unknown)}: not a figure that can be changed ({', '.join(SAILING_FIGURES)})")
    check_figures(**figures)
    vessel = session.get(Vessel, vessel_id)
    if vessel is None:
        raise ValueError(f"vessel {vessel_id!r} is not registered")
    changed = {f: (getattr(vessel, f), float(v)) for f, v in figures.items() if getattr(vessel, f) != v}
    for f, (_, after) in changed.items():
        setattr(vessel, f, after)
    if changed:
        session.flush()
        log.info("vessel sailing figures changed", extra={"tenant": vessel.tenant_id, "figures": sorted(changed)})
        log.debug("vessel sailing figures changed", extra={"vessel": vessel_id, "changes": changed})
    return changed


def check_position(lat: float, lon: float) -> None:
    """ValueError unless (lat, lon) is a WGS 84 position (NaN is not)."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"not a position: lat {lat!r}, lon {lon!r} (WGS 84 degrees: -90..90, -180..180)")


#: How far ahead a declared return may be: a Tepi choice (the longest trip of the small boats
#: Tepi serves is days; a return months away is a typing error, not a voyage).
MAX_TRIP = timedelta(days=30)


def declare_departure(vessel: Vessel, expected_return_at: datetime, now: datetime) -> None:
    """The owner (or the harbour, through the admin) says the vessel sails and is due back at
    `expected_return_at`: it is at sea from now, and overdue after that time (`ingest.overdue`)
    until a fix in its home port says it is back. `ValueError` for a return not after `now`,
    more than `MAX_TRIP` ahead, or without a time zone."""
    if expected_return_at.tzinfo is None:
        raise ValueError("expected_return_at needs a UTC offset")
    if expected_return_at <= now:
        raise ValueError(f"expected_return_at {expected_return_at.isoformat()} is not in the future")
    if expected_return_at > now + MAX_TRIP:
        raise ValueError(f"expected_return_at is more than {MAX_TRIP.days} days ahead")
    vessel.at_sea = True
    vessel.expected_return_at = expected_return_at


def vessel_tenants(session: Session, vessel_ids: set[str]) -> dict[str, str]:
    """vessel -> tenant, for those of `vessel_ids` that are registered."""
    if not vessel_ids:
        return {}
    rows = session.execute(sa.select(Vessel.id, Vessel.tenant_id).where(Vessel.id.in_(sorted(vessel_ids))))
    return {vessel: tenant for vessel, tenant in rows}


def enforce_retention(session: Session, now: datetime, policy: RetentionConfig | None = None) -> dict[str, int]:
    """Erase where vessels and fishers were longer ago than `policy.position_days` (default
    `POSITION_RETENTION_DAYS`), and delete buyers' messages older than
    `policy.contact_message_days`. Track fixes are deleted; the positions of SOS calls, of the
    fish finder's alert events (an SOS's call or app position), of a vessel's last fix, of school
    sightings and of catches are set to null and the rows stay (an incident's history, a
    vessel's registration, a catch's species, weight and price for the aggregates). Returns
    counts by what was pruned."""
    policy = policy or RetentionConfig(position_days=POSITION_RETENTION_DAYS)
    cutoff = now - timedelta(days=policy.position_days)
    res = session.execute(sa.delete(VesselPosition).where(VesselPosition.ts < cutoff).execution_options(**_QUIET))
    return {
        "vessel_positions": _count(res),
        "sos_call_positions": _erase_positions(session, SosCall, SosCall.ts < cutoff),
        "vessel_last_fixes": _erase_positions(session, Vessel, Vessel.last_fix_at < cutoff, "last_lat", "last_lon"),
        "school_positions": _erase_positions(session, SchoolSighting, SchoolSighting.end < cutoff),
        "catch_positions": _erase_positions(session, Catch, Catch.caught_at < week_start(cutoff)),
        "alert_event_positions": _erase_event_positions(session, cutoff),
        "catch_contact_requests": _count(session.execute(
            sa.delete(CatchContactRequest)
            .where(CatchContactRequest.created_at < now - timedelta(days=policy.contact_message_days))
            .execution_options(**_QUIET)
        )),
    }


_QUIET = {"synchronize_session": False}


def week_start(at: datetime) -> datetime:
    """00:00 UTC of the Monday on or before `at`. Catch positions are erased a whole ISO week at
    a time: the fisheries office's aggregates count only catches with a position, in whole
    weeks, and erasing them hour by hour would let hourly queries of the week at the cutoff
    tell one fisher's catches apart (the difference between two answers)."""
    day = at.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _erase_positions(session: Session, model: type[Base], older: sa.ColumnElement[bool], lat: str = "lat", lon: str = "lon") -> int:
    """Null the `lat`/`lon` columns of `model`'s rows matching `older` that still have them."""
    lat_col, lon_col = getattr(model, lat), getattr(model, lon)
    stmt = (
        sa.update(model)
        .where(older, sa.or_(lat_col.is_not(None), lon_col.is_not(None)))
        .values({lat: None, lon: None})
        .execution_options(**_QUIET)
    )
    return _count(session.execute(stmt))


def _erase_event_positions(session: Session, cutoff: datetime) -> int:
    """Drop lat/lon from the detail of this kind's alert events older than `cutoff`."""
    n = 0
    events = session.scalars(
        sa.select(AlertEvent).where(AlertEvent.alert_kind == KIND, AlertEvent.at < cutoff).order_by(AlertEvent.seq)
    )
    for event in events:
        detail = (event.payload or {}).get("detail")
        if isinstance(detail, dict) and ("lat" in detail or "lon" in detail):
            payload = copy.deepcopy(event.payload)
            payload["detail"].pop("lat", None)
            payload["detail"].pop("lon", None)
            event.payload = payload  # a new object: SQLAlchemy does not see changes inside JSON
            n += 1
    return n

