"""`/alerts`: list and acknowledge Siaga alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from api.deps import SessionDep, WriteSessionDep
from api.models import AckRequest, AlertPublic, AlertsPublic, AlertStatusFilter, AlertType, ErrorPublic
from api.services.alerts import acknowledge_alert, list_alerts

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", response_model=AlertsPublic, summary="Alerts, newest first")
def read_alerts(
    session: SessionDep,
    status: Annotated[AlertStatusFilter | None, Query(description="open = active or acknowledged")] = None,
    alert_type: Annotated[AlertType | None, Query(alias="type")] = None,
    station: Annotated[str | None, Query(max_length=64)] = None,
    tenant: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AlertsPublic:
    return list_alerts(session, status, alert_type, station, tenant, limit, offset)


@router.post(
    "/{alert_id}/ack",
    response_model=AlertPublic,
    summary="Acknowledge an alert",
    responses={404: {"model": ErrorPublic}, 409: {"model": ErrorPublic, "description": "The alert is cleared."}},
)
def ack_alert(
    alert_id: Annotated[int, Path(ge=1, le=2**63 - 1)], body: AckRequest, session: WriteSessionDep
) -> AlertPublic:
    return acknowledge_alert(session, alert_id, body.by)
