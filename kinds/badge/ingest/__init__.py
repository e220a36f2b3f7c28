"""The badge kind's ingest side: `HANDLER` (`ingest.kind_interface.IngestKind`, with
`OwnPlatforms`: its items are about offices, which the configuration declares).

Ingest's generic layer keeps each item once (by id) and checks each item's office belongs to
the sending tenant (`unknown_office`, `foreign_office` rejections). Here, items name badges,
which must be the tenant's too: a badge no one issued is counted as `unknown_badge`, another
tenant's as `foreign_badge`, a presence dated after its badge was revoked as `revoked_badge` (a
gateway that had not yet received the roster without it), and a static badge's presence at an
office that requires EID as `static_badge_at_eid_office`; none is stored.

- `Presence` becomes a `presence_events` row with the badge's holder, then the centre's
  `two_offices` check across gateways (`two_offices`);
- `SecurityEvent` becomes a `security_events` row (source `gateway`);
- `OfficeHealth` keeps the office's latest summary and, when the gateway holds another roster
  version than its tenant's, answers it with the current one (`roster`; a badge whose key does
  not open is left out of it, counted and logged: nothing of the roster raises out of `apply`,
  which would roll back and redeliver every gateway's batch forever).

Opening EID keys for a roster needs `TEPI_BADGE_KEY_SECRET` (`kinds.badge.keys`): a worker whose
configuration declares offices refuses to start without it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from contract.uplink_batch import RecordBlock
from core.config import TepiConfig, TsdbConfig
from ingest.kind_interface import ApplyContext, KindBatch, PlatformUplink, ScreenedPart
from kinds.badge.ingest import roster, two_offices
from kinds.badge.items import KIND, BadgeItem, OfficeHealth, Presence, SecurityEvent
from kinds.badge.keys import BadgeKeyError, KeySeal
from kinds.badge.state import Badge, Office, PresenceEvent, SecurityEventRecord

log = logging.getLogger(__name__)

_ITEMS: TypeAdapter[list[BadgeItem]] = TypeAdapter(list[BadgeItem])
UNKNOWN_BADGE, FOREIGN_BADGE, REVOKED_BADGE = "unknown_badge", "foreign_badge", "revoked_badge"
#: A presence of a static badge at an office that requires EID: the gateway grants none (any
#: phone clones a static id), so one arriving is a gateway not following its configuration.
STATIC_AT_EID_OFFICE = "static_badge_at_eid_office"


@dataclass
class BadgeRuntime:
    """Per worker: what opens identity keys for rosters (None until needed, where the
    configuration declares no office: then the environment is read at the first roster)."""

    seal: KeySeal | None = None

    def key_seal(self) -> KeySeal:
        if self.seal is None:
            self.seal = KeySeal.from_environment()
        return self.seal


class BadgeIngest:
    name = KIND
    platform_name = "office"

    def runtime(self, config: TepiConfig | None, *, badge_seal: KeySeal | None = None, **_options: Any) -> BadgeRuntime:
        """`badge_seal` (tests, tools) or, for a configuration with offices, the environment's
        secret, now: a missing one stops the worker at start, saying what to set."""
        if badge_seal is None and getattr(config, "offices", None):
            badge_seal = KeySeal.from_environment()
        return BadgeRuntime(badge_seal)

    def read(self, items: Sequence[dict[str, Any]], places: Sequence[int], blocks: Sequence[tuple[int, RecordBlock]], gateway: str) -> PlatformUplink:
        if blocks:
            raise ValueError(f"{KIND} sends no record blocks")
        try:
            models = _ITEMS.validate_python(list(items))
        except ValidationError as exc:
            raise ValueError(f"invalid {KIND} item: {exc.errors(include_url=False)[:3]}") from exc
        return PlatformUplink(list(zip(places, models)))

    def platform_tenants(self, session: Session, platforms: set[str]) -> dict[str, str]:
        if not platforms:
            return {}
        rows = session.execute(sa.select(Office.id, Office.tenant_id).where(Office.id.in_(sorted(platforms))))
        return {office: tenant for office, tenant in rows}

    def screen(self, part: PlatformUplink, base: int, tenant: str, gateway: str, tenant_of: dict[str, str]) -> ScreenedPart:
        return ScreenedPart(points=[], series=None, stations=set(), rejected=Counter())

    def apply(self, batches: Sequence[KindBatch], context: ApplyContext) -> None:
        session, now = context.session, context.now
        items = [i for b in batches for _, i in b.events]
        badges = {b.id: b for b in session.scalars(sa.select(Badge).where(Badge.id.in_(sorted({
            i.badge for i in items if isinstance(i, (Presence, SecurityEvent))}))))}  # fmt: skip
        offices = {o.id: o for o in session.scalars(sa.select(Office).where(Office.id.in_(sorted({i.office for i in items}))))}
        answered: set[tuple[str, int]] = set()
        for batch in batches:
            for _place, item in sorted(batch.events, key=lambda e: e[0]):
                if isinstance(item, OfficeHealth):
                    office = offices[item.office]
                    if roster.office_heard(office, item, batch.gateway):
                        self._answer(context, office, item, batch.gateway, answered)
                    continue
                badge = badges.get(item.badge)
                reason = _refusal(badge, item, batch.tenant, offices[item.office])
                if reason is not None:
                    _refuse(context, item, reason)
                    continue
                assert badge is not None
                if isinstance(item, Presence):
                    event = _presence(item, badge, batch.gateway, now)
                    session.add(event)
                    session.flush()
                    two_offices.check(session, event, offices, now)
                else:
                    session.add(_security(item, badge, batch.gateway, now))
        session.flush()

    def _answer(self, context: ApplyContext, office: Office, item: OfficeHealth, gateway: str, answered: set[tuple[str, int]]) -> None:
        runtime: BadgeRuntime = context.runtime if isinstance(context.runtime, BadgeRuntime) else BadgeRuntime()
        try:
            seal = runtime.key_seal()
        except BadgeKeyError as exc:  # the gateway keeps its roster; the next summary asks again
            log.error("no badge roster sent: %s", exc, extra={"tenant": office.tenant_id, "gateway": gateway})
            return
        downlink = roster.roster_answer(context.session, office, item, gateway, context.now, seal, answered)
        if downlink is not None:
            context.result.downlinks.append(downlink)

    def point_sinks(self, tsdb: TsdbConfig | None) -> tuple[Callable[[Session], Any], Callable[[], None]]:
        return (lambda _session: _NoPoints()), (lambda: None)

    def check_silence(self, session: Session, runtime: Any, now: datetime, since: datetime) -> list[str]:
        return []

    def overlapping(self, runtime: Any, points: Sequence[Any]) -> dict[str, int]:
        return {}


class _NoPoints:
    """The kind writes no time series: attendance lives in the state store."""

    def write(self, points: Sequence[Any]) -> None:
        return None


def _refusal(badge: Badge | None, item: Presence | SecurityEvent, tenant: str, office: Office) -> str | None:
    if badge is None:
        return UNKNOWN_BADGE
    if badge.tenant_id != tenant:
        return FOREIGN_BADGE
    if isinstance(item, Presence):
        if badge.revoked_at is not None and item.at >= badge.revoked_at:
            return REVOKED_BADGE
        if office.require_eid and badge.format != "eid":
            return STATIC_AT_EID_OFFICE
    return None


def _refuse(context: ApplyContext, item: Presence | SecurityEvent, reason: str) -> None:
    """Counted as a rejection, not stored (its id stays processed: a resend is a duplicate)."""
    result = context.result
    result.rejected[reason] += 1
    result.stored -= 1
    result.stored_by_type[item.type] -= 1


def _presence(item: Presence, badge: Badge, gateway: str, now: datetime) -> PresenceEvent:
    return PresenceEvent(
        item_id=item.id, tenant_id=badge.tenant_id, office_id=item.office, badge_id=badge.id, employee_id=badge.employee_id,
        event=item.event, at=item.at, decided_at=item.decided_at, rssi_dbm=item.rssi_dbm, distance_m=item.distance_m,
        scanners=item.scanners, device=item.device, gateway=gateway, received_at=now,
    )


def _security(item: SecurityEvent, badge: Badge, gateway: str, now: datetime) -> SecurityEventRecord:
    return SecurityEventRecord(
        item_id=item.id, tenant_id=badge.tenant_id, office_id=item.office, badge_id=badge.id, employee_id=badge.employee_id,
        reason=item.reason, source="gateway", at=item.at, rssi_dbm=item.rssi_dbm, other_office=item.other_office,
        other_at=item.other_at, distance_km=item.distance_km, eid_period_offset=item.eid_period_offset, device=item.device,
        gateway=gateway, received_at=now,
    )


HANDLER = BadgeIngest()
