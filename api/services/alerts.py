"""Alert listing and acknowledgement; the lifecycle rules live in `ingest.alerts`."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.models import AlertPublic, AlertsPublic, AlertStatusFilter, AlertType
from gateway.siaga import SiagaLevel
from ingest import alerts as lifecycle
from ingest.db import ALERT_ACKNOWLEDGED, ALERT_ACTIVE, Alert
from tepi.messages import utcnow

log = logging.getLogger(__name__)


def alert_public(alert: Alert) -> AlertPublic:
    return AlertPublic(
        id=alert.id,
        tenant=alert.tenant_id,
        station=alert.station_id,
        type=alert.type,  # type: ignore[arg-type]  # written only by ingest.alerts
        severity=alert.severity,  # type: ignore[arg-type]  # checked by the table constraint
        siaga=alert.siaga,
        siaga_label=SiagaLevel(alert.siaga).label,
        peak_siaga=alert.peak_siaga,
        rate_cm_per_h=alert.rate_cm_per_h,
        status=alert.status,  # type: ignore[arg-type]  # checked by the table constraint
        opened_at=alert.opened_at,
        updated_at=alert.updated_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
        cleared_at=alert.cleared_at,
        last_level_cm=alert.last_level_cm,
    )


def list_alerts(
    session: Session,
    status: AlertStatusFilter | None,
    alert_type: AlertType | None,
    station: str | None,
    tenant: str | None,
    limit: int,
    offset: int,
) -> AlertsPublic:
    """One page of alerts, newest opened first, with the total count for paging."""
    conditions: list[sa.ColumnElement[bool]] = []
    if status == "open":
        conditions.append(Alert.status.in_((ALERT_ACTIVE, ALERT_ACKNOWLEDGED)))
    elif status is not None:
        conditions.append(Alert.status == status)
    if alert_type is not None:
        conditions.append(Alert.type == alert_type)
    if station is not None:
        conditions.append(Alert.station_id == station)
    if tenant is not None:
        conditions.append(Alert.tenant_id == tenant)
    total = session.scalar(sa.select(sa.func.count()).select_from(Alert).where(*conditions)) or 0
    page = session.scalars(
        sa.select(Alert)
        .where(*conditions)
        .order_by(Alert.opened_at.desc(), Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return AlertsPublic(data=[alert_public(a) for a in page], count=int(total), limit=limit, offset=offset)


def acknowledge_alert(session: Session, alert_id: int, by: str) -> AlertPublic:
    """Acknowledge and commit; `AlertNotFound` / `AlertAlreadyCleared` propagate as 404 / 409."""
    with session.begin():
        alert = lifecycle.acknowledge(session, alert_id, by, utcnow())
        public = alert_public(alert)
    # Who acknowledged is personal data: it is stored and returned, not logged.
    log.info("alert acknowledged", extra={"alert_id": alert_id, "tenant": public.tenant, "station": public.station})
    return public
