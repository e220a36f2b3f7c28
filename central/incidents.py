"""Alerts whose subject is no river station: a vessel's SOS incident, an overdue vessel.

The same lifecycle and event log as the river's alerts (`central.alerts`), keyed by (kind,
subject, type) instead of (station, type), so that the alert list, acknowledgement, the event
stream and retention work for them unchanged. An incident (SOS) goes open (active) ->
acknowledged -> resolved (cleared and closed at once, with who, when and a note).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from central.alerts import (
    AlertTransition,
    _locked,
    _note,
    close,
    finish,
    open_subject_alert,
    record_event,
    set_severity,
)
from central.db import lock_event_log
from central.models import ALERT_ACTIVE, ALERT_CLEARED, ALERT_CLOSED, SEVERITIES, Alert


#: Why an incident without a station ended (`Alert.clear_reason`): a person or the device said so.
RESOLVED = "resolved"


def raise_subject_alert(
    session: Session,
    *,
    tenant: str,
    kind: str,
    subject: str,
    alert_type: str,
    severity: str,
    at: datetime,
    who: str | None,
    detail: dict[str, Any] | None = None,
) -> tuple[Alert, AlertTransition]:
    """Open the alert of (tenant, kind, subject, type), or update the open one: for alerts of a platform
    that is no river station (a vessel's SOS incident, an overdue vessel).

    `siaga` has no meaning there and is stored as 4 (normal), so the river's views and CAP
    builder, which read it, see no flood level. Returns the alert and what happened to it.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {SEVERITIES}")
    lock_event_log(session)
    alert = open_subject_alert(session, kind, subject, alert_type, tenant=tenant)
    if alert is None:
        alert = Alert(
            tenant_id=tenant, kind=kind, subject=subject, station_id=None, type=alert_type, severity=severity,
            siaga=4, peak_siaga=4, status=ALERT_ACTIVE, revision=1, opened_at=at, updated_at=at,
        )
        session.add(alert)
        record_event(session, alert, AlertTransition.OPENED, at, who, detail)
        return alert, AlertTransition.OPENED
    transition = AlertTransition.ESCALATED if set_severity(alert, severity) else AlertTransition.UPDATED
    alert.updated_at = max(alert.updated_at, at)
    record_event(session, alert, transition, at, who, detail)
    return alert, transition


def resolve(
    session: Session,
    alert_id: int,
    by: str,
    now: datetime,
    *,
    tenant: str | None = None,
    note: str | None = None,
    reason: str = RESOLVED,
) -> Alert:
    """End an open incident (active or acknowledged) for good: cleared and closed by `by` at
    `now`, with `note`. An SOS has no river to say it is over: the rescuer, or the boat
    cancelling its call (`by` = 'device'), does. Resolving twice keeps the first.

    Two events, `cleared` then `closed`, so the log reads as for any alert. Raises `AlertNotFound`.
    """
    alert = _locked(session, alert_id, tenant)
    if alert.status in (ALERT_CLEARED, ALERT_CLOSED):
        if alert.status == ALERT_CLEARED:
            return close(session, alert_id, by, now, tenant=tenant, note=note)
        return alert
    finish(session, alert, now, by, reason, detail=_note(note))
    alert.status = ALERT_CLOSED
    alert.closed_at = now
    alert.closed_by = by
    record_event(session, alert, AlertTransition.CLOSED, now, by, _note(note))
    session.flush()
    return alert
