"""Overdue vessels: at sea past their expected return, or silent longer than their limit.

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
from kinds.fishfinder.items import KIND
from kinds.fishfinder.state import Vessel

PAST_RETURN = "past_expected_return"
SILENT = "silent"
OVERDUE_SEVERITY = "major"
SYSTEM = "system"


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
        alert = open_subject_alert(session, KIND, vessel.id, ALERT_TYPE_OVERDUE)
        if reason is not None and alert is None:
            raise_subject_alert(
                session, tenant=vessel.tenant_id, kind=KIND, subject=vessel.id, alert_type=ALERT_TYPE_OVERDUE,
                severity=OVERDUE_SEVERITY, at=now, who=SYSTEM, detail={"reason": reason},
            )
            opened.append(vessel.id)
        elif reason is None and alert is not None:
            finish(session, alert, now, SYSTEM, "back_in_port" if not vessel.at_sea else "reported")
    return opened
