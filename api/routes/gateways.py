"""`/gateways`: how the tenant's gateways and their devices are doing, from their latest health
reports (`contract.gateway_items.GatewayHealth`, kept by ingest in `gateway_health`).

A gateway reports every `gateway.health_every_s` (5 minutes by default), and each report says
its own interval; one whose latest report arrived more than `STALE_AFTER_INTERVALS` of them ago
is `stale`: the centre has not heard it lately, so what it shows is old.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from pydantic import Field

from api import permissions
from api.deps import ConfigDep, SessionDep, require_roles
from api.models import PublicModel, UtcDatetime
from api.routes import AUTH_ERRORS
from central.accounts import Principal
from central.reach_models import GatewayHealth
from contract.clock import utcnow

router = APIRouter()

HealthReader = Annotated[Principal, Depends(require_roles(*permissions.HEALTH_READERS))]

#: Reports missed before a gateway is stale: one late report is a slow link, three a silence.
STALE_AFTER_INTERVALS = 3


class DeviceHealthPublic(PublicModel):
    device: str
    kind: str = Field(description="The device kind: awlr (river recorder), fishfinder, wavebuoy, badge (scanner)...")
    platform: str = Field(description="Where it is mounted: a river station, a vessel, a buoy, an office.")
    last_seen_at: UtcDatetime | None = Field(
        default=None, description="The gateway's clock when its last accepted frame arrived; null: none since the gateway started."
    )
    frames: int = Field(default=0, description="Frames with accepted readings since the gateway started.")
    rejected_frames: int = Field(default=0, description="Frames (or lines of one) refused since the gateway started.")
    battery_v: float | None = Field(default=None, description="Battery voltage of its last reading that told one; null when its kind tells none.")
    battery_pct: float | None = Field(default=None, description="Battery charge, percent, when its kind tells one.")


class GatewayHealthPublic(PublicModel):
    gateway: str
    tenant: str
    last_seen_at: UtcDatetime = Field(description="The gateway's clock when it built its latest report.")
    received_at: UtcDatetime = Field(description="When that report reached the centre.")
    stale: bool = Field(
        description=f"No report for more than {STALE_AFTER_INTERVALS} of the gateway's reporting intervals: what is shown is old."
    )
    report_every_s: float = Field(description="How often the gateway reports.")
    uptime_s: float | None = Field(description="Seconds since the gateway started, at its latest report.")
    outbox_items: int = Field(description="Items waiting in its outbox for the centre's acknowledgement.")
    outbox_bytes: int
    link_up: bool = Field(description="Whether its uplink was connected when it built the report (a report built during an outage arrives after it).")
    rejected_frames: int = Field(description="Frames refused since the gateway started, unknown senders included.")
    rejected_by_reason: dict[str, int] = Field(description="The same by reason (garbage, checksum, not_json, unknown_device...).")
    devices: list[DeviceHealthPublic]


def gateway_public(row: GatewayHealth, now: datetime, default_every_s: float) -> GatewayHealthPublic:
    """What the API shows of one stored report at `now`; `default_every_s` for a report that did
    not say its interval."""
    every_s = row.report_every_s or default_every_s
    return GatewayHealthPublic(
        gateway=row.gateway, tenant=row.tenant_id, last_seen_at=row.reported_at, received_at=row.received_at,
        stale=now - row.received_at > timedelta(seconds=STALE_AFTER_INTERVALS * every_s), report_every_s=every_s,
        uptime_s=row.uptime_s, outbox_items=row.outbox_items, outbox_bytes=row.outbox_bytes, link_up=bool(row.link_up),
        rejected_frames=row.rejected_frames, rejected_by_reason=dict(row.rejected_by_reason or {}),
        devices=[DeviceHealthPublic.model_validate(d) for d in _devices(row.devices)],
    )


def _devices(stored: Iterable[Any] | None) -> list[dict[str, Any]]:
    return [d for d in stored or () if isinstance(d, dict)]


@router.get(
    "/gateways",
    response_model=list[GatewayHealthPublic],
    tags=["gateways"],
    summary="The tenant's gateways and their devices: last seen, battery, frames refused, outbox depth",
    responses=AUTH_ERRORS,
)
def read_gateways(session: SessionDep, principal: HealthReader, config: ConfigDep) -> list[GatewayHealthPublic]:
    rows = session.scalars(sa.select(GatewayHealth).where(GatewayHealth.tenant_id == principal.tenant).order_by(GatewayHealth.gateway))
    now = utcnow()
    return [gateway_public(row, now, config.gateway.health_every_s) for row in rows]
