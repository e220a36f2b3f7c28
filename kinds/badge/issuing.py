"""Badges issued, revoked and listed (`tepi admin badge`), and the roster the office gateways
resolve them with (`items.BadgeRoster`).

Why the roster is the tenant's, not an office's: a badge is heard wherever its holder goes
(a meeting at another office of the regency, duty travel), and a gateway can only tell a
relayed or replayed EID (`two_offices`, `eid_replayed`) for a badge it knows. Every issue and
revocation grows the tenant's roster version (`state.AttendanceTenant.roster_version`); a
gateway reporting another version is sent the whole current roster (`ingest.roster`), which
replaces its own, so a revoked badge is gone from every gateway at its next health summary.

An EID badge's identity key is made here from the OS's CSPRNG, shown once (to program the
badge) and stored sealed (`keys.KeySeal`). Its counter starts at issue (`epoch`, Unix s), with
rotation exponent `k` (the EID changes every 2^k s). Google's Eddystone-EID specification
allows 0..15; Tepi issues only `MIN_K`..`MAX_K` (8..12, default 10, about 17 min), because the
gateway's resolver (`edge.resolver`) depends on it both ways:

- it accepts an EID of the badge's current period ±1 (clock drift), so a recorded EID replays
  successfully for up to two periods after it was sent. At k = 12 that is under 2.3 h, within
  the working day; at k = 15 (9.1 h periods) yesterday afternoon's EID recorded at the door
  still opens the next morning's check-in;
- it tells a replay (`eid_replayed`) from an unknown id by holding each badge's past 48 h of
  EIDs, at most 1,024 periods a badge (`edge.resolver.MAX_HISTORY_PERIODS`): its 49 h are
  690 periods at k = 8 (256 s) but 1,379 at k = 7, so below k = 8 an older replay is only "unknown".

Badges issued before this limit keep their `k`: the roster model (`items.RosterBadge`) still
takes 0..15 and the `badges` table has no constraint on it, so the limit is checked here only.
A static badge gets random identifiers: iBeacon (16-byte UUID, major, minor) or Eddystone-UID
(10-byte namespace, 6-byte instance).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from kinds.badge.items import BadgeRoster, RosterBadge
from kinds.badge.keys import BadgeKeyError, KeySeal, new_identity_key
from kinds.badge.state import BADGE_FORMATS, AttendanceTenant, Badge, Employee, Office

log = logging.getLogger(__name__)

#: The rotation exponents Tepi issues (see the module for why not Eddystone's whole 0..15).
MIN_K, DEFAULT_K, MAX_K = 8, 10, 12
#: `attendance_tenants.roster_version` is a 32-bit SQL integer.
MAX_ROSTER_VERSION = 2**31 - 1


@dataclass(frozen=True)
class IssuedBadge:
    """A badge as issued: the row, and what programs the badge, shown this once (the EID
    badge's identity key in the clear; None for a static badge, whose ids are on the row)."""

    badge: Badge
    identity_key: bytes | None

    def __repr__(self) -> str:  # never a key in a log or a traceback
        return f"IssuedBadge({self.badge.id}, {self.badge.format})"


def new_badge_id() -> str:
    return "b" + secrets.token_hex(6)


def tenant_bookkeeping(session: Session, tenant: str) -> AttendanceTenant:
    """The tenant's attendance row (made, with the default retention, for a tenant no
    configuration has synced), locked for update where the database can."""
    row = session.get(AttendanceTenant, tenant, with_for_update=True)
    if row is None:
        from kinds.badge.config import TenantAttendance

        row = AttendanceTenant(tenant_id=tenant, roster_version=0, retention_days=TenantAttendance(tenant=tenant).retention_days)
        session.add(row)
        session.flush()
    return row


def roster_version(session: Session, tenant: str) -> int:
    version = session.scalar(sa.select(AttendanceTenant.roster_version).where(AttendanceTenant.tenant_id == tenant))
    return int(version or 0)


def bump_roster(session: Session, tenant: str, now: datetime) -> int:
    """Grow the tenant's roster version (a badge issued or revoked): every gateway behind it
    gets the new roster at its next health summary."""
    row = tenant_bookkeeping(session, tenant)
    row.roster_version += 1
    row.roster_changed_at = now
    session.flush()
    return row.roster_version


def roster_above(session: Session, tenant: str, heard: int, now: datetime) -> int | None:
    """Raise the tenant's roster version to `heard` + 1, the version a gateway reported holding
    above the tenant's own; the new version, or None when `heard` + 1 would not fit the column.

    Why: a gateway takes only a roster newer than the one it holds (a late or replayed downlink
    must never roll it back), so after the state database is restored from a backup, whose
    version is lower than what the gateways were sent since, no roster would ever reach them
    again and revocations made after the restore would never arrive. Jumping above what any
    gateway holds makes the current roster the newest everywhere."""
    if heard + 1 > MAX_ROSTER_VERSION:
        return None
    row = tenant_bookkeeping(session, tenant)
    if row.roster_version > heard:  # another worker raised it meanwhile
        return row.roster_version
    row.roster_version = heard + 1
    row.roster_changed_at = now
    session.flush()
    return row.roster_version


def find_employee(session: Session, tenant: str, nip: str) -> Employee:
    employee = session.scalar(sa.select(Employee).where(Employee.tenant_id == tenant, Employee.nip == nip.strip()))
    if employee is None:
        raise ValueError(f"no employee with NIP {nip.strip()!r} in {tenant}")
    return employee


def active_badge(session: Session, employee_id: int) -> Badge | None:
    return session.scalar(sa.select(Badge).where(Badge.employee_id == employee_id, Badge.revoked_at.is_(None)))


def check_k(k: int) -> int:
    """`k` when Tepi issues EID badges with it; `ValueError` saying why not otherwise."""
    if not MIN_K <= k <= MAX_K:
        raise ValueError(
            f"k {k} is outside {MIN_K}..{MAX_K} (the EID rotates every 2^k s, {1 << MIN_K} s..{(1 << MAX_K) / 3600:.1f} h): "
            f"a larger k lets a recorded EID replay for hours (the gateway accepts ±1 period of clock drift), a smaller "
            f"one rotates too fast for the gateway to hold 48 h of past EIDs to recognise a replay; {DEFAULT_K} is the default"
        )
    return k


def issue_badge(
    session: Session, tenant: str, nip: str, now: datetime, seal: KeySeal, *, fmt: str = "eid", k: int = DEFAULT_K
) -> IssuedBadge:
    """A new badge for the employee of NIP `nip` (`ValueError` for an unknown NIP, an employee
    who left or has a badge in use: revoke it first, an unknown format, a static format (ibeacon,
    uid) for an employee whose office requires EID, `k` outside `MIN_K`..`MAX_K`: `check_k`)."""
    if fmt not in BADGE_FORMATS:
        raise ValueError(f"badge format {fmt!r} is none of {', '.join(BADGE_FORMATS)}")
    check_k(k)
    employee = find_employee(session, tenant, nip)
    if employee.left_at is not None:
        raise ValueError(f"employee {employee.nip} left on {employee.left_at:%Y-%m-%d}: no badge")
    current = active_badge(session, employee.id)
    if current is not None:
        raise ValueError(f"employee {employee.nip} has badge {current.id} in use: revoke it first (`tepi admin badge revoke`)")
    office = session.get(Office, employee.office_id)
    if fmt != "eid" and office is not None and office.require_eid:
        # Its gateway and ingest refuse a static id there (`static_badge_at_eid_office`): the badge would never count.
        raise ValueError(
            f"office {office.id} requires EID badges (require_eid: true): a {fmt} badge would never give "
            f"employee {employee.nip} presence there; issue --format eid"
        )
    badge = Badge(id=new_badge_id(), tenant_id=tenant, employee_id=employee.id, format=fmt, issued_at=now)
    key = None
    if fmt == "eid":
        key = new_identity_key()
        badge.identity_key_enc, badge.k, badge.epoch = seal.seal(key, badge.id), k, int(now.timestamp())
    elif fmt == "ibeacon":
        badge.uuid, badge.major, badge.minor = secrets.token_hex(16), secrets.randbelow(65536), secrets.randbelow(65536)
    else:
        badge.namespace, badge.instance = secrets.token_hex(10), secrets.token_hex(6)
    session.add(badge)
    session.flush()
    bump_roster(session, tenant, now)
    log.info("badge issued", extra={"tenant": tenant, "badge": badge.id, "format": fmt})
    return IssuedBadge(badge, key)


def revoke_badge(session: Session, tenant: str, badge_id: str, now: datetime) -> Badge:
    """Revoke a badge of `tenant` (`ValueError` for one it does not have, or revoked already)."""
    badge = session.get(Badge, badge_id)
    if badge is None or badge.tenant_id != tenant:
        raise ValueError(f"no badge {badge_id!r} in {tenant}")
    if badge.revoked_at is not None:
        raise ValueError(f"badge {badge_id} was revoked on {badge.revoked_at:%Y-%m-%d %H:%M} UTC already")
    badge.revoked_at = now
    session.flush()
    bump_roster(session, tenant, now)
    log.info("badge revoked", extra={"tenant": tenant, "badge": badge.id})
    return badge


def badges_of(session: Session, tenant: str, *, include_revoked: bool = False) -> list[tuple[Badge, Employee]]:
    """The tenant's badges with their holders, by holder's NIP then issue time."""
    query = sa.select(Badge, Employee).join(Employee, Employee.id == Badge.employee_id).where(Badge.tenant_id == tenant)
    if not include_revoked:
        query = query.where(Badge.revoked_at.is_(None))
    return [(b, e) for b, e in session.execute(query.order_by(Employee.nip, Badge.issued_at)).all()]


@dataclass(frozen=True)
class BuiltRoster:
    """A roster as built, and the badges left out of it because their row could not be made a
    roster entry (`unopened`: id -> why, never a key): an EID key sealed under another
    `TEPI_BADGE_KEY_SECRET` (a database restored or copied from another installation, a secret
    rotated without resealing), or a row altered."""

    roster: BadgeRoster
    unopened: dict[str, str]


def build_roster(session: Session, tenant: str, seal: KeySeal) -> BuiltRoster | None:
    """The tenant's current roster: every badge not revoked of an employee who has not left,
    EID keys opened. None while the tenant has issued nothing (version 0).

    Why a badge whose key does not open is left out rather than failing the roster: the roster
    is built while ingest applies an uplink batch, so raising would roll back every gateway's
    items of that batch and the broker would redeliver it forever; and every other badge of the
    tenant would never reach a gateway either (revocations included). Left out, that one badge
    is not recognised at the gateways until it is issued again (or the right secret is back and
    the roster changes); the caller counts and logs it."""
    version = roster_version(session, tenant)
    if version == 0:
        return None
    rows = session.scalars(
        sa.select(Badge).join(Employee, Employee.id == Badge.employee_id)
        .where(Badge.tenant_id == tenant, Badge.revoked_at.is_(None), Employee.left_at.is_(None))
        .order_by(Badge.id)
    )
    badges = []
    unopened: dict[str, str] = {}
    for b in rows:
        try:
            badges.append(_roster_badge(b, seal))
        except BadgeKeyError:
            unopened[b.id] = "key_not_opened"
        except ValueError:  # pydantic's ValidationError is one: a row no gateway could use
            unopened[b.id] = "invalid_row"
    return BuiltRoster(BadgeRoster(version=version, badges=badges), unopened)


def _roster_badge(b: Badge, seal: KeySeal) -> RosterBadge:
    if b.format == "eid":
        if b.identity_key_enc is None:
            raise ValueError(f"EID badge {b.id} has no sealed key")
        key = seal.open(b.identity_key_enc, b.id).hex()
        return RosterBadge(badge=b.id, format="eid", identity_key=key, k=b.k, epoch=b.epoch)
    if b.format == "ibeacon":
        return RosterBadge(badge=b.id, format="ibeacon", uuid=b.uuid, major=b.major, minor=b.minor)
    return RosterBadge(badge=b.id, format="uid", namespace=b.namespace, instance=b.instance)
