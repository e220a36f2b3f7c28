"""The alert lifecycle, in one place: open, update, escalate, acknowledge, clear.

Follows the ThingsBoard model that operators know: at most one open alert per station and
type; a repeat updates it instead of adding another. Types: `siaga` (Siaga 1-3; severity
critical, major, minor) and `rate_of_rise` (a fast rise, severity warning, often hours ahead
of any threshold downstream). Two Tepi choices on top of it:

* An escalation (a worse severity, e.g. Siaga 3 to Siaga 1) returns an acknowledged alert to
  `active`, because the operator acknowledged a smaller danger than the one now happening.
* Event times are the device's (when the river crossed the threshold); acknowledgement time is
  the server's (when a person acted).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest.db import (
    ALERT_ACKNOWLEDGED,
    ALERT_ACTIVE,
    ALERT_CLEARED,
    ALERT_TYPE_RATE_OF_RISE,
    ALERT_TYPE_SIAGA,
    SEVERITIES,
    Alert,
    Station,
)
from ingest.errors import AlertAlreadyCleared, AlertNotFound


class AlertTransition(str, Enum):
    """What an event did to the alert of its station; the value is a metric label."""

    OPENED = "opened"
    UPDATED = "updated"
    ESCALATED = "escalated"
    CLEARED = "cleared"


def open_alert(session: Session, station_id: str, alert_type: str = ALERT_TYPE_SIAGA) -> Alert | None:
    """The one alert of this station and type that is not cleared, if any."""
    stmt = sa.select(Alert).where(
        Alert.station_id == station_id, Alert.type == alert_type, Alert.status != ALERT_CLEARED
    )
    return session.scalars(stmt).one_or_none()


SIAGA_SEVERITY = {1: "critical", 2: "major", 3: "minor"}
RATE_OF_RISE_SEVERITY = "warning"


def raise_siaga(session: Session, station: Station, siaga: int, level_cm: float, at: datetime) -> AlertTransition:
    """Record that `station` is at Siaga `siaga` (1..3) since `at`: open or update its alert."""
    if siaga not in SIAGA_SEVERITY:
        raise ValueError(f"Siaga {siaga} is not an alert level (1..3)")
    return _raise(session, station, ALERT_TYPE_SIAGA, SIAGA_SEVERITY[siaga], siaga, level_cm, at, None)


def raise_rate_of_rise(
    session: Session, station: Station, siaga: int, level_cm: float, rate_cm_per_h: float | None, at: datetime
) -> AlertTransition:
    """Record a fast rise at `station`: the early warning that can come hours before Siaga 3.

    `siaga` is the station's level at the time (4 if still normal), shown with the alert.
    """
    return _raise(session, station, ALERT_TYPE_RATE_OF_RISE, RATE_OF_RISE_SEVERITY, siaga, level_cm, at, rate_cm_per_h)


def _raise(
    session: Session,
    station: Station,
    alert_type: str,
    severity: str,
    siaga: int,
    level_cm: float,
    at: datetime,
    rate_cm_per_h: float | None,
) -> AlertTransition:
    alert = open_alert(session, station.id, alert_type)
    if alert is None:
        session.add(
            Alert(
                tenant_id=station.tenant_id,
                station_id=station.id,
                type=alert_type,
                severity=severity,
                siaga=siaga,
                peak_siaga=siaga,
                rate_cm_per_h=rate_cm_per_h,
                status=ALERT_ACTIVE,
                opened_at=at,
                updated_at=at,
                last_level_cm=level_cm,
            )
        )
        session.flush()
        return AlertTransition.OPENED
    transition = AlertTransition.UPDATED
    if SEVERITIES.index(severity) < SEVERITIES.index(alert.severity):
        transition = AlertTransition.ESCALATED
        alert.status = ALERT_ACTIVE
        alert.acknowledged_at = None
        alert.acknowledged_by = None
    alert.severity = severity
    alert.siaga = siaga
    alert.peak_siaga = min(alert.peak_siaga, siaga)
    alert.rate_cm_per_h = rate_cm_per_h
    alert.updated_at = max(alert.updated_at, at)
    alert.last_level_cm = level_cm
    return transition


def clear_alert(
    session: Session, station: Station, alert_type: str, level_cm: float, at: datetime
) -> AlertTransition | None:
    """Clear the open alert of this station and type (Siaga back to 4, or the fast rise over)."""
    alert = open_alert(session, station.id, alert_type)
    if alert is None:
        return None
    alert.status = ALERT_CLEARED
    alert.cleared_at = at
    alert.updated_at = max(alert.updated_at, at)
    alert.last_level_cm = level_cm
    return AlertTransition.CLEARED


def acknowledge(session: Session, alert_id: int, by: str, now: datetime) -> Alert:
    """Mark an open alert as seen by `by`; acknowledging twice keeps the first acknowledgement.

    Raises `AlertNotFound` or `AlertAlreadyCleared`. Runs in the caller's transaction.
    """
    alert = session.scalars(sa.select(Alert).where(Alert.id == alert_id).with_for_update()).one_or_none()
    if alert is None:
        raise AlertNotFound(alert_id)
    if alert.status == ALERT_CLEARED:
        raise AlertAlreadyCleared(alert_id)
    if alert.status == ALERT_ACKNOWLEDGED:
        return alert
    alert.status = ALERT_ACKNOWLEDGED
    alert.acknowledged_at = now
    alert.acknowledged_by = by
    session.flush()
    return alert
