"""Gateway health alerts from `BrokerDrops` reports: device readings lost at a site broker.

A gateway reads its site broker's dropped-message count (`core.broker_drops`) and reports
increases (`gateway.broker_health`); here each report opens or updates the gateway's one open
`gateway_health` alert, and the report that the drops stopped clears it. A gateway's alert is
filed under the platform its reports name (its first platform with MQTT devices): a river
station (`apply_report`), or a platform of a kind that owns platforms, e.g. a vessel on a boat
gateway (`apply_platform_report`, an alert of that kind and subject with no station); the
gateway itself is named in every event's detail and `who`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.alerts import (
    DROPS_STOPPED, GATEWAY_HEALTH_SEVERITY, AlertTransition, finish, gateway_actor, open_alert, open_subject_alert, raise_gateway_health,
)
from central.db import lock_event_log
from central.incidents import raise_subject_alert
from central.models import ALERT_TYPE_GATEWAY_HEALTH, Alert, AlertEvent, Station
from contract.gateway_items import BrokerDrops

log = logging.getLogger(__name__)


def apply_report(session: Session, station: Station, report: BrokerDrops, gateway: str) -> tuple[AlertTransition | None, int]:
    """Apply one report filed under a river station in the caller's transaction; returns the
    alert's transition (None if nothing changed) and how many dropped messages it newly accounts for."""
    return _apply(
        session, report, gateway, station.tenant_id, station.id,
        lambda: open_alert(session, station.id, ALERT_TYPE_GATEWAY_HEALTH),
        lambda detail, who: raise_gateway_health(session, station, report.until, who, detail),
        AlertEvent.station_id == station.id,
    )


def apply_platform_report(
    session: Session, kind: str, tenant: str, platform: str, report: BrokerDrops, gateway: str
) -> tuple[AlertTransition | None, int]:
    """`apply_report` for a report filed under a platform of `kind` that is no river station (a
    boat gateway names its vessel): the alert is the kind's, about that platform."""
    def raise_(detail: dict[str, Any], who: str) -> AlertTransition:
        return raise_subject_alert(
            session, tenant=tenant, kind=kind, subject=platform, alert_type=ALERT_TYPE_GATEWAY_HEALTH,
            severity=GATEWAY_HEALTH_SEVERITY, at=report.until, who=who, detail=detail,
        )[1]

    return _apply(
        session, report, gateway, tenant, platform,
        lambda: open_subject_alert(session, kind, platform, ALERT_TYPE_GATEWAY_HEALTH, tenant=tenant),
        raise_,
        sa.and_(AlertEvent.tenant_id == tenant, AlertEvent.alert_kind == kind, AlertEvent.subject == platform),
    )


def _apply(
    session: Session, report: BrokerDrops, gateway: str, tenant: str, platform: str,
    open_: Callable[[], Alert | None], raise_: Callable[[dict[str, Any], str], AlertTransition], history: Any,
) -> tuple[AlertTransition | None, int]:
    who = gateway_actor(gateway)
    if not report.active:
        lock_event_log(session)
        alert = open_()
        if alert is None or alert.updated_at > report.until:
            return None, 0  # nothing open, or reopened by drops after this report's quiet period
        return finish(session, alert, report.until, who, DROPS_STOPPED), 0
    dropped = report.dropped
    if report.since is None:  # the broker's whole count, read by a gateway just started
        dropped = _new_since_reported(session, history, gateway, report.broker_total, dropped)
        if not dropped:
            return None, 0  # a restarted gateway read again the count it had reported before
    detail = {
        "gateway": gateway, "dropped": dropped, "broker_total": report.broker_total,
        "since": report.since.isoformat() if report.since else None, "until": report.until.isoformat(),
    }
    log.warning("gateway's site broker dropped device messages", extra={"tenant": tenant, "station": platform, **detail})
    return raise_(detail, who), dropped


def new_since_reported(session: Session, station_id: str, gateway: str, broker_total: int, dropped: int) -> int:
    """Of a count read since the broker's start, what `gateway` has not reported yet (filed under `station_id`)."""
    return _new_since_reported(session, AlertEvent.station_id == station_id, gateway, broker_total, dropped)


def _new_since_reported(session: Session, history: Any, gateway: str, broker_total: int, dropped: int) -> int:
    """Of a count read since the broker's start, what `gateway` has not reported yet (`history`:
    which alert events are the gateway's platform's).

    Its last report, kept in its alert's history, read `broker_total` less (or the same: 0 is
    new). A smaller count than reported means the broker restarted since: all of it is new.
    """
    stmt = (
        sa.select(AlertEvent.payload)
        .where(
            history,
            AlertEvent.alert_type == ALERT_TYPE_GATEWAY_HEALTH,
            AlertEvent.kind.in_((AlertTransition.OPENED.value, AlertTransition.UPDATED.value)),
        )
        .order_by(AlertEvent.seq.desc())
        .limit(1)
    )
    detail = (session.scalar(stmt) or {}).get("detail") or {}
    reported = detail.get("broker_total")
    if detail.get("gateway") != gateway or not isinstance(reported, int) or broker_total < reported:
        return dropped
    return broker_total - reported
