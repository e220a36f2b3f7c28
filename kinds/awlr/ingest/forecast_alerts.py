"""Forecast alerts in the state store: the decisions of `kinds.awlr.ingest.forecast` applied to rows.

Runs inside the ingest transaction of the batch that carried the upstream change, so the
upstream Siaga alert and the downstream forecasts it causes commit (and stream) together, in
that order.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from central.alerts import (
    CANCELLED,
    CONFIRMED,
    SYSTEM,
    AlertTransition,
    finish,
    new_alert,
    open_alert,
    record_event,
    set_severity,
)
from central.db import lock_event_log
from kinds.awlr.ingest.forecast import (
    ForecastPlan,
    ForecastState,
    Reach,
    RiverNetwork,
    UpstreamChange,
    confirms,
    plan_forecast,
    should_cancel,
)
from central.models import ALERT_TYPE_FORECAST, ALERT_TYPE_SIAGA, OPEN_STATUSES, Alert, Station


def _state(alert: Alert | None) -> ForecastState | None:
    if alert is None:
        return None
    assert alert.upstream_siaga is not None and alert.expected_from and alert.expected_until
    return ForecastState(alert.upstream_siaga, (alert.expected_from, alert.expected_until))


def on_upstream_change(
    session: Session, network: RiverNetwork, change: UpstreamChange, who: str | None
) -> list[AlertTransition]:
    """Open, refine or extend the forecasts of the stations below `change.station`."""
    out: list[AlertTransition] = []
    for reach in network.below(change.station):
        downstream = session.get(Station, reach.downstream)
        if downstream is None:  # configured but not in the registry: nothing to alert on
            continue
        lock_event_log(session)
        alert = open_alert(session, downstream.id, ALERT_TYPE_FORECAST)
        plan = plan_forecast(_state(alert), change, reach)
        if plan is not None:
            out.append(_apply(session, downstream, alert, plan, change, reach, who))
    return out


def _apply(
    session: Session,
    downstream: Station,
    alert: Alert | None,
    plan: ForecastPlan,
    change: UpstreamChange,
    reach: Reach,
    who: str | None,
) -> AlertTransition:
    detail = {
        "upstream_station": change.station,
        "upstream_siaga": change.siaga_to,
        "upstream_level_cm": change.level_cm,
        "upstream_at": change.at.isoformat(),
        "travel_hours": [reach.travel_min.total_seconds() / 3600, reach.travel_max.total_seconds() / 3600],
        "travel_source": reach.source,
    }
    expected_from, expected_until = plan.window
    if plan.kind == "open":
        assert plan.severity is not None
        new_alert(
            session,
            downstream,
            ALERT_TYPE_FORECAST,
            plan.severity,
            downstream.last_siaga or 4,
            downstream.last_level_cm,
            change.at,
            who,
            detail,
            level_at=downstream.last_seen_at,
            upstream_station_id=change.station,
            upstream_siaga=change.siaga_to,
            upstream_level_cm=change.level_cm,
            expected_from=expected_from,
            expected_until=expected_until,
        )
        return AlertTransition.OPENED
    assert alert is not None
    kind = AlertTransition.UPDATED
    if plan.kind == "refine":
        assert plan.severity is not None
        set_severity(alert, plan.severity)
        alert.upstream_station_id = change.station
        alert.upstream_siaga = plan.upstream_siaga
        alert.upstream_level_cm = change.level_cm
        kind = AlertTransition.FORECAST_REFINED
    alert.expected_from, alert.expected_until = expected_from, expected_until
    alert.siaga = downstream.last_siaga or 4
    alert.last_level_cm, alert.last_level_at = downstream.last_level_cm, downstream.last_seen_at
    alert.updated_at = max(alert.updated_at, change.at)
    record_event(session, alert, kind, change.at, who, detail)
    return kind


def confirm(session: Session, downstream: Station, siaga: int, at: datetime, who: str | None) -> AlertTransition | None:
    """The downstream station rose itself: its open forecast came true and clears as confirmed."""
    lock_event_log(session)
    alert = open_alert(session, downstream.id, ALERT_TYPE_FORECAST)
    if alert is None or not confirms(alert.opened_at, at):
        return None
    alert.siaga = siaga
    alert.peak_siaga = min(alert.peak_siaga, siaga)
    return finish(
        session, alert, at, who, CONFIRMED, level_cm=downstream.last_level_cm, detail={"siaga": siaga},
        level_at=downstream.last_seen_at,
    )


def settle(session: Session, network: RiverNetwork, station_ids: Iterable[str]) -> list[AlertTransition]:
    """Cancel the forecasts, among those of `station_ids` and the stations below them, that
    did not come true: upstream calm again and the downstream gauge reported past the window."""
    candidates = network.and_below(station_ids)
    forecasts = list(
        session.scalars(
            sa.select(Alert).where(
                Alert.type == ALERT_TYPE_FORECAST,
                Alert.status.in_(OPEN_STATUSES),
                Alert.station_id.in_(sorted(candidates)),
            )
        )
    )
    out: list[AlertTransition] = []
    for alert in forecasts:
        upstreams = [r.upstream for r in network.above(alert.station_id)]
        upstream_in_alert = bool(upstreams) and session.scalar(
            sa.select(sa.func.count())
            .select_from(Alert)
            .where(Alert.type == ALERT_TYPE_SIAGA, Alert.status.in_(OPEN_STATUSES), Alert.station_id.in_(upstreams))
        )
        downstream = session.get(Station, alert.station_id)
        seen_until = downstream.last_seen_at if downstream is not None else None
        assert alert.expected_until is not None
        if should_cancel(alert.expected_until, bool(upstream_in_alert), seen_until):
            lock_event_log(session)
            out.append(
                finish(
                    session,
                    alert,
                    alert.expected_until,
                    SYSTEM,
                    CANCELLED,
                    AlertTransition.CANCELLED,
                    level_cm=downstream.last_level_cm if downstream is not None else None,
                    level_at=downstream.last_seen_at if downstream is not None else None,
                    detail={"downstream_seen_until": seen_until.isoformat() if seen_until else None},
                )
            )
    return out
