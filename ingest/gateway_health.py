"""Gateway health alerts from `BrokerDrops` reports: device readings lost at a site broker.

A gateway reads its site broker's dropped-message count (`core.broker_drops`) and reports
increases (`gateway.broker_health`); here each report opens or updates the gateway's one open
`gateway_health` alert, and the report that the drops stopped clears it. The alert table keys
alerts by station, so a gateway's alert is filed under the station its reports name (its first
station with MQTT devices); the gateway itself is named in every event's detail and `who`.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.alerts import DROPS_STOPPED, AlertTransition, finish, gateway_actor, open_alert, raise_gateway_health
from central.db import lock_event_log
from central.models import ALERT_TYPE_GATEWAY_HEALTH, AlertEvent, Station
from contract.gateway_items import BrokerDrops

log = logging.getLogger(__name__)


def apply_report(session: Session, station: Station, report: BrokerDrops, gateway: str) -> tuple[AlertTransition | None, int]:
    """Apply one report in the caller's transaction; returns the alert's transition (None if
    nothing changed) and how many dropped messages it newly accounts for."""
    who = gateway_actor(gateway)
    if not report.active:
        lock_event_log(session)
        alert = open_alert(session, station.id, ALERT_TYPE_GATEWAY_HEALTH)
        if alert is None or alert.updated_at > report.until:
            return None, 0  # nothing open, or reopened by drops after this report's quiet period
        return finish(session, alert, report.until, who, DROPS_STOPPED), 0
    dropped = report.dropped
    if report.since is None:  # the broker's whole count, read by a gateway just started
        dropped = new_since_reported(session, station.id, gateway, report.broker_total, dropped)
        if not dropped:
            return None, 0  # a restarted gateway read again the count it had reported before
    detail = {
        "gateway": gateway, "dropped": dropped, "broker_total": report.broker_total,
        "since": report.since.isoformat() if report.since else None, "until": report.until.isoformat(),
    }
    log.warning("gateway's site broker dropped device messages", extra={"tenant": station.tenant_id, "station": station.id, **detail})
    return raise_gateway_health(session, station, report.until, who, detail), dropped


def new_since_reported(session: Session, station_id: str, gateway: str, broker_total: int, dropped: int) -> int:
    """Of a count read since the broker's start, what `gateway` has not reported yet.

    Its last report, kept in its alert's history, read `broker_total` less (or the same: 0 is
    new). A smaller count than reported means the broker restarted since: all of it is new.
    """
    stmt = (
        sa.select(AlertEvent.payload)
        .where(
            AlertEvent.station_id == station_id,
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
