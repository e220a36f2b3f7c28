"""The roster downlink: an office gateway whose health summary reports an older roster version
than its tenant's is sent the current roster (`items.BadgeRoster`) on its downlink topic.

Why anti-entropy on the health summary and not a push on every change: the gateway may be
offline when a badge is issued or revoked, restarted from an older file, or have lost a
downlink; its summary, every few minutes, says what it holds, so whatever happened it converges
at the next summary after it is reachable, with no retained message on the broker. One gateway
serving several offices gets one roster per version, not one per office; a roster sent and not
yet reflected in a summary is sent again only after `RESEND_AFTER` (a lost downlink).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest.kind_interface import Downlink
from kinds.badge.issuing import build_roster, roster_version
from kinds.badge.items import OfficeHealth
from kinds.badge.keys import KeySeal
from kinds.badge.state import Office

log = logging.getLogger(__name__)

#: Just under the default summary period (`offices[].summary_every_s`, 300 s): a summary still
#: behind after a send is answered again at most this often.
RESEND_AFTER = timedelta(minutes=4)


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
    and it was not sent there just now (in this call, `answered`, or within `RESEND_AFTER`)."""
    tenant = office.tenant_id
    current = roster_version(session, tenant)
    if current == 0 or item.roster_version == current or (gateway, current) in answered:
        return None
    recent = session.scalar(
        sa.select(Office.id).where(
            Office.gateway == gateway, Office.roster_version_sent == current, Office.roster_sent_at > now - RESEND_AFTER,
        ).limit(1)
    )  # fmt: skip
    if recent is not None:
        return None
    roster = build_roster(session, tenant, seal)
    if roster is None:
        return None
    office.roster_version_sent, office.roster_sent_at = current, now
    answered.add((gateway, current))
    log.info("badge roster sent", extra={"tenant": tenant, "gateway": gateway, "version": current, "badges": len(roster.badges),
                                         "gateway_version": item.roster_version})  # fmt: skip
    return Downlink(tenant, gateway, roster.model_dump_json().encode())
