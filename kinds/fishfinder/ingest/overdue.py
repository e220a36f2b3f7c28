"""Overdue vessels: at sea past their expected return, or silent longer than their limit.

Whether a vessel is at sea comes from its track: `sea_state` (pure) puts it at sea when its
newest fix is more than `HOME_RADIUS_KM` from its home port, and back in port (trip over: the
declared return is forgotten) when a fix within it follows one outside. The home port's position
is the vessel's registration (`Vessel.home_lat`, `home_lon`: given at `tepi admin vessel add`, or
the documented position of its port, `kinds.fishfinder.home_ports`); a vessel without one is at
sea only as its owner declares (`state.declare_departure`).

`overdue_reason` decides (pure); `check_overdue` raises the 'overdue' alert of such a vessel
and clears it when the vessel is back in port or reports again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.alerts import finish, open_subject_alert
from central.db import lock_event_log
from central.incidents import raise_subject_alert
from central.models import ALERT_TYPE_OVERDUE
from kinds.fishfinder.api.geo import distance_km
from kinds.fishfinder.items import KIND
from kinds.fishfinder.home_ports import LatLon
from kinds.fishfinder.state import Vessel

PAST_RETURN = "past_expected_return"
SILENT = "silent"
OVERDUE_SEVERITY = "major"
SYSTEM = "system"
#: Within this distance of its home port a vessel is in port: a Tepi choice, wider than a
#: fishing port's basin, narrow enough that a boat out fishing is beyond it.
HOME_RADIUS_KM = 1.0


def home_positions(vessel: Vessel) -> tuple[LatLon, ...]:
    """Where `vessel` is in port: its registered home position; none when it has none."""
    if vessel.home_lat is None or vessel.home_lon is None:
        return ()
    return ((vessel.home_lat, vessel.home_lon),)


def in_port(home: tuple[LatLon, ...], lat: float, lon: float, radius_km: float = HOME_RADIUS_KM) -> bool:
    """Whether (lat, lon) is within `radius_km` of one of the home port's positions."""
    if not radius_km > 0:
        raise ValueError(f"radius_km must be positive, not {radius_km!r}")
    return any(distance_km(h_lat, h_lon, lat, lon) <= radius_km for h_lat, h_lon in home)


def sea_state(
    *,
    home: tuple[LatLon, ...],
    was_away: bool,
    newest: LatLon,
    at_sea: bool,
    expected_return_at: datetime | None,
) -> tuple[bool, datetime | None]:
    """(at_sea, expected_return_at) after a vessel's newest fix. `was_away`: a fix before it (the
    vessel's previous last fix, or an earlier one of the same track) was outside the home port.

    Outside the port: at sea. Inside after being outside: back, the trip (and its declared
    return) is over. Inside without having left: not at sea, a declared return stays for the
    trip about to start. Without a known home port the track decides nothing."""
    if not home:
        return at_sea, expected_return_at
    if not in_port(home, *newest):
        return True, expected_return_at
    if was_away:
        return False, None
    return False, expected_return_at


def follow_track(vessel: Vessel, fixes: list[LatLon], newest_is_latest: bool) -> None:
    """Update `vessel.at_sea` from a stored track's fixes (oldest first), if its newest fix is the
    vessel's newest; call before the vessel's last fix is replaced by it."""
    home = home_positions(vessel)
    if not home or not newest_is_latest:
        return
    earlier = list(fixes[:-1])
    if vessel.last_lat is not None and vessel.last_lon is not None:
        earlier.append((vessel.last_lat, vessel.last_lon))
    was_away = any(not in_port(home, lat, lon) for lat, lon in earlier)
    vessel.at_sea, vessel.expected_return_at = sea_state(
        home=home, was_away=was_away, newest=fixes[-1], at_sea=vessel.at_sea, expected_return_at=vessel.expected_return_at
    )


def overdue_reason(
    *,
    at_sea: bool,
    expected_return_at: datetime | None,
    last_fix_at: datetime | None,
    silent_limit_s: int,
    watching_since: datetime,
    now: datetime,
) -> str | None:
    """Why a vessel is overdue at `now`, or None. A vessel never heard from counts as silent from
    `watching_since` (when ingest started watching), so a restart raises nothing at once."""
    if silent_limit_s <= 0:
        raise ValueError(f"silent_limit_s must be positive, not {silent_limit_s}")
    if not at_sea:
        return None
    if expected_return_at is not None and now > expected_return_at:
        return PAST_RETURN
    heard = max(last_fix_at, watching_since) if last_fix_at is not None else watching_since
    if now - heard > timedelta(seconds=silent_limit_s):
        return SILENT
    return None


def check_overdue(session: Session, now: datetime, since: datetime) -> list[str]:
    """Raise or clear the overdue alerts of every vessel; returns the vessels newly overdue."""
    opened = []
    lock_event_log(session)
    for vessel in session.scalars(sa.select(Vessel).order_by(Vessel.id)):
        reason = overdue_reason(
            at_sea=vessel.at_sea, expected_return_at=vessel.expected_return_at, last_fix_at=vessel.last_fix_at,
            silent_limit_s=vessel.silent_limit_s, watching_since=since, now=now,
        )
        alert = open_subject_alert(session, KIND, vessel.id, ALERT_TYPE_OVERDUE, tenant=vessel.tenant_id)
        if reason is not None and alert is None:
            raise_subject_alert(
                session, tenant=vessel.tenant_id, kind=KIND, subject=vessel.id, alert_type=ALERT_TYPE_OVERDUE,
                severity=OVERDUE_SEVERITY, at=now, who=SYSTEM, detail={"reason": reason},
            )
            opened.append(vessel.id)
        elif reason is None and alert is not None:
            finish(session, alert, now, SYSTEM, "back_in_port" if not vessel.at_sea else "reported")
    return opened
