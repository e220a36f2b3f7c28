"""The truth a simulated run is scored against: who was inside which office when (`Stay`, from
`staff_days`), and each spoofing attempt (`Spoof`) with the security event it must raise.

Apart from the radio and the advertisements so that scoring and planning need neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal


@dataclass(frozen=True, slots=True)
class Stay:
    """Truth: `badge`'s holder inside `office` from `start` to `end` (UTC)."""

    badge: str
    office: str
    start: datetime
    end: datetime


SpoofKind = Literal["static_clone", "eid_replay", "eid_relay"]
#: The security event the gateway must raise for each scenario (`items.SecurityReason`).
EXPECTED_REASON: dict[str, str] = {
    "static_clone": "static_id_where_eid_required",
    "eid_replay": "eid_replayed",
    "eid_relay": "two_offices",
}


@dataclass(frozen=True, slots=True)
class Spoof:
    """Truth of one spoofing attempt: `badge`'s advertisements heard at `office` from `start`
    to `end` by a device that is not the badge. `shift_s` is how old the played advertisements
    are (a day for a replay, 0 for a relay or a clone); `source_office` is where the badge
    really is (a relay), or where it was recorded (a replay)."""

    kind: SpoofKind
    badge: str
    office: str
    start: datetime
    end: datetime
    shift_s: int = 0
    source_office: str | None = None

    @property
    def expected_reason(self) -> str:
        return EXPECTED_REASON[self.kind]
