"""The roster downlink: an office gateway whose health summary reports another roster version
than its tenant's is sent the current roster (`items.BadgeRoster`) on its downlink topic.

Why anti-entropy on the health summary and not a push on every change: the gateway may be
offline when a badge is issued or revoked, restarted from an older file, or have lost a
downlink; its summary, every few minutes, says what it holds, so whatever happened it converges
at the next summary after it is reachable, with no retained message on the broker. One gateway
serving several offices gets one roster per version, not one per office; a roster sent and not
yet reflected in a summary is sent again only after `RESEND_AFTER` (a lost downlink).

A gateway holding a version above the tenant's (the state database restored from a backup)
makes the tenant's version jump above it, so that the roster it is sent is newer than its own.
A badge whose key does not open is left out of the roster sent, counted (`LEFT_OUT`) and
logged; the rest of the roster still goes (`issuing.build_roster`).
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

import sqlalchemy as sa
from prometheus_client import Counter as MetricCounter
from sqlalchemy.orm import Session

from ingest.kind_interface import Downlink
from kinds.badge.issuing import build_roster, roster_above, roster_version
from kinds.badge.items import OfficeHealth
from kinds.badge.keys import KeySeal
from kinds.badge.state import Office

log = logging.getLogger(__name__)

#: Just under the default summary period (`offices[].summary_every_s`, 300 s): a summary still
#: behind after a send is answered again at most this often.
RESEND_AFTER = timedelta(minutes=4)

#: Badges left out of a roster sent (`issuing.BuiltRoster.unopened`), by why: `key_not_opened`
#: (sealed under another secret), `invalid_row`. In the process-wide registry, which the ingest
#: worker exports; counted when built, so a transaction rolled back afterwards still counts it.
LEFT_OUT = MetricCounter(
    "tepi_ingest_badge_roster_left_out", "Badges left out of a roster sent to a gateway, by reason.", ["reason"]
)


def office_heard(office: Office, item: OfficeHealth, gateway: str) -> bool:
    """Keep the office's latest summary (gateway, window end, roster version); False for a
    summary older than the one kept (a backlog replayed after an outage), which changes nothing."""
    if office.last_seen_at is not None and item.window_end < office.last_seen_at:
        return False
    office.gateway, office.last_seen_at, office.roster_version_heard = gateway, item.window_end, item.roster_version
    return True


def roster_answer(
    session: Session, office: Office, item: OfficeHealth, gateway: str, now: datetime, seal: KeySeal, answered: set[tuple[str, int]],
) -> Downlink | None:
    """The current roster for `gateway` when the summary's version differs from the tenant's
    and it was not sent there just now (in this call, `answered`, or within `RESEND_AFTER`).

    A summary reporting a version above the tenant's (the state database restored from a backup
    older than the last roster sent) first raises the tenant's version above it
    (`issuing.roster_above`): the gateway takes only a newer roster than it holds."""
    tenant = office.tenant_id
    current = roster_version(session, tenant)
    if item.roster_version > current:
        raised = roster_above(session, tenant, item.roster_version, now)
        if raised is None:
            log.warning("badge roster version reported beyond any the centre can hold: not answered",
                        extra={"tenant": tenant, "gateway": gateway, "gateway_version": item.roster_version})  # fmt: skip
            return None
        log.warning("gateway holds a newer badge roster than its tenant's (state database restored?): version raised above it",
                    extra={"tenant": tenant, "gateway": gateway, "gateway_version": item.roster_version, "version": raised, "was": current})  # fmt: skip
        current = raised
    if current == 0 or item.roster_version == current or (gateway, current) in answered:
        return None
    recent = session.scalar(
        sa.select(Office.id).where(
            Office.gateway == gateway, Office.roster_version_sent == current, Office.roster_sent_at > now - RESEND_AFTER,
        ).limit(1)
    )  # fmt: skip
    if recent is not None:
        return None
    built = build_roster(session, tenant, seal)
    if built is None:
        return None
    roster = built.roster
    if built.unopened:
        _left_out(tenant, gateway, roster.version, built.unopened)
    office.roster_version_sent, office.roster_sent_at = current, now
    answered.add((gateway, current))
    log.info("badge roster sent", extra={"tenant": tenant, "gateway": gateway, "version": current, "badges": len(roster.badges),
                                         "gateway_version": item.roster_version})  # fmt: skip
    return Downlink(tenant, gateway, roster.model_dump_json().encode())


def _left_out(tenant: str, gateway: str, version: int, unopened: dict[str, str]) -> None:
    """Count and log (badge ids and why, never a key) the badges a roster goes without."""
    reasons = Counter(unopened.values())
    for reason, n in reasons.items():
        LEFT_OUT.labels(reason=reason).inc(n)
    log.warning(
        "badges left out of the roster: their key does not open with this TEPI_BADGE_KEY_SECRET (or the row is invalid); "
        "run ingest with the secret they were issued under, or revoke and issue them again",
        extra={"tenant": tenant, "gateway": gateway, "version": version, "left_out": sorted(unopened), "reasons": dict(reasons)},
    )
