"""The office gateway's uplink items and the centre's roster downlink: what crosses the wire for
the badge kind.

Why these and not every advertisement: a scanner hears each badge about once a second, and an
office of 2,000 staff with ten scanners makes 20,000 advertisements a second. The gateway
decides presence itself (it keeps deciding with no uplink) and sends the centre what a record
needs: a check-in or check-out per badge and office, a security event per spoofing attempt,
and every few minutes a health summary of the office's scanners. Every item has a deterministic
id, so a resend after a restart or a lost acknowledgement is stored once.

Items name badges by their central id (`badge`, as `tepi admin badge issue` made it), never by
an employee: the gateway does not know who carries a badge.

Priorities (`contract.items`): security events and presence as events (a check-in is the
record a salary allowance depends on), health summaries as routine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contract.items import ClosingItem

KIND = "badge"

_Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
#: A badge's central id (`tepi admin badge issue`): `b` and 12 hex digits.
BadgeId = Annotated[str, Field(pattern=r"^b[0-9a-f]{12}$")]
_Dbm = Annotated[float, Field(ge=-130, le=20)]

#: What a spoofing attempt looks like, as the gateway (or ingest, across gateways) saw it:
#: - `eid_replayed`: an Eddystone-EID of one of the badge's past periods, beyond the clock-drift
#:   window (recorded and played back);
#: - `eid_ahead`: an EID of a period beyond the window ahead (a badge clock set forward, or EIDs
#:   computed in advance from a stolen key);
#: - `two_offices`: the badge heard at two offices further apart than anyone could travel in the
#:   time between (an EID relayed live to a second office);
#: - `static_id_where_eid_required`: a badge heard by its static identifier (iBeacon or
#:   Eddystone-UID) at an office that requires rotating identifiers (a static id is cloned
#:   with any phone).
SecurityReason = Literal["eid_replayed", "eid_ahead", "two_offices", "static_id_where_eid_required"]
SECURITY_REASONS: tuple[str, ...] = SecurityReason.__args__  # type: ignore[attr-defined]


class _OfficeItem(ClosingItem):
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")

    id: str = Field(min_length=8, max_length=200)
    kind: Literal["badge"] = KIND
    office: _Name
    #: The scanner (device) whose message closed the decision, or the office's first scanner.
    device: _Name
    @property
    def platform(self) -> str:
        return self.office


class Presence(_OfficeItem):
    """A badge entered (`check_in`) or left (`check_out`) an office, as the gateway's presence
    machine decided. `at` is when it happened, not when it was decided: a check-in is the start
    of the dwell that confirmed it, a check-out the last time the badge was heard before it went
    quiet or faded. `decided_at` is when the gateway decided (gateway clock)."""

    type: Literal["presence"] = "presence"
    badge: BadgeId
    event: Literal["check_in", "check_out"]
    at: AwareDatetime
    decided_at: AwareDatetime
    #: The smoothed RSSI at the decision, and the distance it gives from the badge's
    #: transmit power (log-distance path loss); None when the badge says no power.
    rssi_dbm: _Dbm
    distance_m: float | None = Field(ge=0, le=1000)
    scanners: int = Field(ge=1, le=1000, description="Scanners of the office that heard the badge in the dwell.")


class SecurityEvent(_OfficeItem):
    """A spoofing attempt (`reason`, `SecurityReason`) seen at `office` at `at`. `badge` is the
    badge the advertisement resolved to. `other_office` and `other_at` name where and when the
    badge was last heard before, for `two_offices`; `eid_period_offset` is how many rotation
    periods the EID was off the badge's clock (negative: a past one), for `eid_*`."""

    type: Literal["security"] = "security"
    badge: BadgeId
    reason: SecurityReason
    at: AwareDatetime
    rssi_dbm: _Dbm
    other_office: _Name | None = None
    other_at: AwareDatetime | None = None
    distance_km: float | None = Field(default=None, ge=0, le=50_000)
    eid_period_offset: int | None = Field(default=None, ge=-(2**32), le=2**32)


class ScannerHealth(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: _Name
    messages: int = Field(ge=0)
    adverts: int = Field(ge=0)
    last_heard: AwareDatetime | None


class OfficeHealth(_OfficeItem):
    """An office's scanners over one window: messages and advertisements per scanner, badges
    heard, advertisements that were no badge of the roster (phones, other beacons), and the
    roster version the gateway holds, which the centre compares with its own and answers with
    the current roster when they differ (`BadgeRoster`)."""

    type: Literal["office_health"] = "office_health"
    window_start: AwareDatetime
    window_end: AwareDatetime
    scanners: list[ScannerHealth] = Field(max_length=1000)
    badges_heard: int = Field(ge=0)
    present: int = Field(ge=0, description="Badges checked in at the window's end.")
    not_badges: int = Field(ge=0)
    roster_version: int = Field(ge=0)


BadgeItem = Annotated[Union[Presence, SecurityEvent, OfficeHealth], Field(discriminator="type")]


# --- downlink -------------------------------------------------------------------------------

class RosterBadge(BaseModel):
    """One badge of an office's roster, as its gateway resolves it. An EID badge has its
    identity key (hex, 16 bytes), rotation exponent `k` (the EID changes every 2^k s) and the
    Unix time its counter started at (`epoch`: counter = now - epoch); a static badge has its
    iBeacon id (`uuid`, `major`, `minor`) or Eddystone-UID (`namespace`, `instance`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    badge: BadgeId
    format: Literal["eid", "ibeacon", "uid"]
    identity_key: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$", repr=False)
    k: int | None = Field(default=None, ge=0, le=15)
    epoch: int | None = Field(default=None, ge=0)
    uuid: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    major: int | None = Field(default=None, ge=0, le=65535)
    minor: int | None = Field(default=None, ge=0, le=65535)
    namespace: str | None = Field(default=None, pattern=r"^[0-9a-f]{20}$")
    instance: str | None = Field(default=None, pattern=r"^[0-9a-f]{12}$")


class BadgeRoster(BaseModel):
    """Centre to an office gateway (downlink): every badge its offices may hear that is not
    revoked, at `version` (which grows with every issue and revocation in the tenant). It
    replaces the roster the gateway held; a badge missing from it is revoked there."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["badge_roster"] = "badge_roster"
    kind: Literal["badge"] = KIND
    version: int = Field(ge=1)
    badges: list[RosterBadge] = Field(max_length=100_000)


def _ms(at: datetime) -> int:
    return round(at.timestamp() * 1000)


def presence_id(gateway: str, office: str, badge: str, event: str, at: datetime) -> str:
    return f"{gateway}:{office}:{badge}:{event}:{_ms(at)}"


def security_id(gateway: str, office: str, badge: str, reason: str, at: datetime) -> str:
    return f"{gateway}:{office}:{badge}:sec-{reason}:{_ms(at)}"


def health_id(gateway: str, office: str, window_start: datetime) -> str:
    return f"{gateway}:{office}:health:{_ms(window_start)}"
