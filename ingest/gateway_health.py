"""A gateway's own reports about its health: `GatewayHealth` snapshots, and `BrokerDrops`.

Health reports (`apply_health_reports`) keep one row per gateway in `gateway_health`, the
newest (`supersedes`); a report older than the stored one (delivered late, or twice) changes
nothing. Newest by uptime while the gateway runs: its clock may step (set at last by NTP, or
back after a restart with a flat RTC battery), its uptime only grows. A report from another run
of the gateway (its start, by its clock, elsewhere) is taken as it arrives: a restarted gateway
with its clock behind would otherwise look silent while it reports, until its clock caught up. The uplink topic, which the broker's ACL gives each gateway for itself alone,
names the batch's tenant and gateway (ingest refuses a payload that claims others); so a report
about another gateway than its batch's is refused (`gateway_mismatch`), and so is one of a
gateway id that already reports for another tenant (`foreign_gateway`: gateway ids are MQTT
user names, one per deployment, so two tenants naming one gateway is a misconfiguration to
see, not a row to hand over). Ingest keeps no register of gateways: a gateway's first report
makes its row. A report stamped more than `MAX_REPORT_AHEAD` ahead of ingest's clock is refused
(`future_report`): stored, it would hide every correct report after it until that time came.

Broker drops: device readings lost at a site broker.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from central.alerts import (
    DROPS_STOPPED, GATEWAY_HEALTH_SEVERITY, AlertTransition, finish, gateway_actor, open_alert, open_subject_alert, raise_gateway_health,
)
from central.db import lock_event_log
from central.incidents import raise_subject_alert
from central.models import ALERT_TYPE_GATEWAY_HEALTH, Alert, AlertEvent, Station
from central.reach_models import GatewayHealth as GatewayHealthRow
from contract.gateway_items import BrokerDrops, GatewayHealth

log = logging.getLogger(__name__)

#: Rejection reasons of health reports (metric label values).
GATEWAY_MISMATCH = "gateway_mismatch"
FOREIGN_GATEWAY = "foreign_gateway"
FUTURE_REPORT = "future_report"
#: How far a report's time may be ahead of ingest's clock: the skew a gateway allows its own
#: devices by default (`gateway.max_future_skew_s`).
MAX_REPORT_AHEAD = timedelta(minutes=5)

_HEALTH: sa.Table = GatewayHealthRow.__table__  # type: ignore[assignment]
#: How far apart two reports' start instants (`at - uptime_s`) may lie and still be one run of
#: the gateway: its wall clock and uptime drift apart a little while it runs (NTP slewing is at
#: most 500 ppm, hence the part of the uptime).
SAME_RUN_SLACK = timedelta(minutes=1)
SAME_RUN_DRIFT = 0.001


@dataclass(frozen=True, slots=True)
class Reported:
    """What ordering needs of a report: the gateway's clock and uptime when it was built."""

    at: datetime
    uptime_s: float | None  # None: a row stored without one (by hand)


def supersedes(new: Reported, old: Reported) -> bool:
    """Whether report `new`, arriving after `old`, replaces it. In one run of the gateway the
    larger uptime is the later report, whatever the clock did; a report of another run (or
    after the clock stepped) is the later one because it arrived later."""
    if new.uptime_s is None or old.uptime_s is None:
        return new.at > old.at
    started_new = new.at - timedelta(seconds=new.uptime_s)
    started_old = old.at - timedelta(seconds=old.uptime_s)
    slack = SAME_RUN_SLACK + timedelta(seconds=SAME_RUN_DRIFT * max(new.uptime_s, old.uptime_s))
    if abs(started_new - started_old) <= slack:
        return new.uptime_s > old.uptime_s
    return True


@dataclass
class HealthApplied:
    """What `apply_health_reports` did: reports stored, reports older than what was stored
    (or than another of the same call), and the refused ones by their index in the call."""

    stored: int = 0
    superseded: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def apply_health_reports(
    session: Session, reports: Sequence[tuple[str, str, GatewayHealth]], now: datetime
) -> HealthApplied:
    """Keep each gateway's newest report, in the caller's transaction. `reports` are (tenant,
    gateway) of the batch that carried each, and the report; `now` is the arrival time."""
    done = HealthApplied()
    stored = _stored(session, {gateway for _t, gateway, _r in reports})
    newest: dict[tuple[str, str], GatewayHealth] = {}
    for index, (tenant, gateway, report) in enumerate(reports):  # in the order they arrived
        reason = _refusal(tenant, gateway, report, stored, now)
        if reason is not None:
            done.rejected.append((index, reason))
            continue
        known = newest.get((tenant, gateway))
        if known is None or supersedes(_reported(report), _reported(known)):
            newest[(tenant, gateway)] = report
        if known is not None:
            done.superseded += 1
    for (tenant, gateway), report in sorted(newest.items()):
        row = stored.get(gateway)
        if row is not None and row.tenant == tenant and not supersedes(_reported(report), row.reported):
            done.superseded += 1
            continue
        _upsert(session, tenant, report, now, row.report_id if row is not None else None)
        done.stored += 1
    return done


def _reported(report: GatewayHealth) -> Reported:
    return Reported(report.at, report.uptime_s)


@dataclass(frozen=True, slots=True)
class _StoredRow:
    tenant: str
    report_id: str
    reported: Reported


def _refusal(tenant: str, gateway: str, report: GatewayHealth, stored: dict[str, _StoredRow], now: datetime) -> str | None:
    if report.gateway != gateway:
        return GATEWAY_MISMATCH
    owner = stored.get(gateway)
    if owner is not None and owner.tenant != tenant:
        return FOREIGN_GATEWAY
    if report.at > now + MAX_REPORT_AHEAD:
        return FUTURE_REPORT
    return None


def _stored(session: Session, gateways: set[str]) -> dict[str, _StoredRow]:
    """gateway -> its stored report; a gateway id stored under two tenants (possible only by
    hand) answers with one of them, which refuses the other's reports."""
    rows = session.execute(
        sa.select(_HEALTH.c.gateway, _HEALTH.c.tenant_id, _HEALTH.c.report_id, _HEALTH.c.reported_at, _HEALTH.c.uptime_s)
        .where(_HEALTH.c.gateway.in_(sorted(gateways)))
    )
    return {gateway: _StoredRow(tenant, report_id, Reported(at, uptime)) for gateway, tenant, report_id, at, uptime in rows}


def _upsert(session: Session, tenant: str, report: GatewayHealth, now: datetime, replaces: str | None) -> None:
    """One row per gateway; ON CONFLICT so that two workers storing reports of one gateway at
    once neither fail nor let the older win: the row is replaced if it still holds the report
    this one was judged against (`replaces`), else (another worker stored one meanwhile) only by
    a report newer by the gateway's clock."""
    values = {
        "tenant_id": tenant, "gateway": report.gateway, "report_id": report.id, "reported_at": report.at, "received_at": now,
        "uptime_s": report.uptime_s, "outbox_items": report.outbox_items, "outbox_bytes": report.outbox_bytes,
        "rejected_frames": report.rejected_frames, "rejected_by_reason": dict(report.rejected_by_reason),
        "devices": [d.model_dump(mode="json") for d in report.devices], "link_up": report.link_up,
        "report_every_s": report.every_s,
    }
    dialect = session.connection().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"gateway health on {dialect}")
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_HEALTH).values(values)
    session.execute(insert.on_conflict_do_update(
        index_elements=[_HEALTH.c.tenant_id, _HEALTH.c.gateway],
        set_={column: insert.excluded[column] for column in values if column not in ("tenant_id", "gateway")},
        where=sa.or_(_HEALTH.c.report_id == replaces, _HEALTH.c.reported_at < insert.excluded.reported_at)
        if replaces is not None else _HEALTH.c.reported_at < insert.excluded.reported_at,
    ))


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
