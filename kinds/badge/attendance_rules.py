"""An employee's attendance day, from presence stays, the schedule, holidays, approved
leave and staff administration's corrections: the record a performance allowance (TPP) is paid on.

Pure: no database, no clock (`now` is a parameter), `ValueError` on bad input. Central computes
records on read (`kinds/badge/api`), so a late correction or a leave approved afterwards changes
the record without rewriting any stored event.

Public rules behind it (the month's, TL/PSW bands: `kinds.badge.attendance_recap`):
- Working days and hours: Peraturan Presiden No. 21 Tahun 2023 tentang Hari Kerja dan Jam Kerja
  Instansi Pemerintah dan Pegawai ASN: five days (Monday to Friday), 37 h 30 min a week not counting
  breaks, starting at 07:30 local time (Ramadan: 32 h 30 min from 08:00), breaks of 60 min (Friday
  90 min); the head of each agency (PPK) sets the detail
  (https://setneg.go.id/baca/index/pemerintah_terbitkan_aturan_flexible_working_arrangement_bagi_asn).
  The hours themselves are the tenant's schedule (`kinds.badge.config.WorkSchedule`).
Decisions (Tepi's own, since no rule above settles them):
- Days and hours are counted in the tenant's zone (WIB, WITA or WIT): the same UTC instant is 07:45
  in Jakarta and 08:45 in Makassar.
- A stay ends at the end of its check-in's local day at the latest. The office gateway checks a
  badge out minutes after it was last heard, so a stay with no check-out by local midnight is a
  badge left in the office (or a lost check-out), not someone who stayed the night: the schedules
  have no night shifts (`WorkSchedule`: hours within one day). Such a day is `unclosed`: its stay
  counts as measured until midnight, it has no last out (so no early leave is judged) and staff
  administration corrects it (a corrected last out or status settles it). A stay carried over
  from an earlier day counts nothing on a later one: local midnight is never a first in, and a
  badge in a drawer from Monday to Friday makes Tuesday to Thursday absent, not present.
- A day whose presence events are no longer kept (deleted after the tenant's `retention_days`)
  is `unavailable` where presence would decide it: nobody can tell present from absent any more,
  and a deleted event must not make anyone absent. What is kept decides as before: holidays,
  days off, approved leave and corrections.
- Minutes are whole minutes, rounded down: presence is decided from radio with seconds of
  uncertainty, and a fraction of a minute makes no one late.
- `late_min` counts from the start plus the tenant's grace (`late_grace_min`): the grace is a
  tolerance granted, so the minutes it covers are forgiven, not merely not yet counted.
- A day not over (before the next local midnight) with nobody in is `pending`, never `absent`.
  Early leave is judged only once the working hours have ended (the person may come back).
- An open stay (no check-out yet) counts until `now`; while the day lasts its person is inside
  and the day has no last out yet. After the day, it is cut at midnight (above).
- Presence on a holiday or a day off is recorded (first in, last out, hours) and its hours are
  counted, but the day stays `holiday` / `day_off` and nobody is late on it.
- Approved leave and presence on the same day: the leave decides the status (`leave`, `sick`,
  `duty_travel`), with the presence still recorded and its hours counted, but no late or early
  leave minutes. The leave is the administration's decision about the whole day; someone on duty
  travel who stops at the office first, or who is sent home sick at ten, must not also be marked
  late or leaving early for a day they were excused from.
- A correction by staff administration has the last word: a status it sets is the day's status
  (`present` then also clears late and early leave minutes: the administration excused them), and
  corrected bounds restate the day's presence as one span from first in to last out (a day is
  corrected when the badge failed: forgotten, flat, lost; the measured stays are not to be
  trusted then).
- A stay around a `two_offices` security event of its badge (heard at two far offices at once:
  one of them is a relayed EID) is disputed and counts nothing (`kinds.badge.attendance_disputes`:
  the rule, its margin and why). Its day is `disputed` (so is a day with a dispute moment and no
  stay) and `pending` unless leave, a holiday or a day off decides it: neither credited nor late,
  early or absent until staff administration decides. A correction is that decision: it clears
  `disputed`, and the day is judged as corrected (disputed stays still count nothing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from kinds.badge.attendance_disputes import Dispute, is_disputed, on_day

Status = Literal[
    "present", "late", "absent", "leave", "sick", "duty_travel", "holiday", "day_off", "pending", "unavailable"
]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
#: Approved leave: annual leave, sick leave, duty travel.
LeaveKind = Literal["cuti", "sakit", "dinas_luar"]
LEAVE_KINDS: tuple[str, ...] = LeaveKind.__args__  # type: ignore[attr-defined]
LEAVE_STATUS: dict[str, Status] = {"cuti": "leave", "sakit": "sick", "dinas_luar": "duty_travel"}
#: The upper bound (minutes, inclusive) of bands 1-3; band 4 is everything above.

#: (check_in, check_out) of one stay in the office, timezone-aware; check_out None while open.
Stay = tuple[datetime, datetime | None]


@dataclass(frozen=True, slots=True)
class Correction:
    """Staff administration's correction of a day, with its reason (audited by the caller)."""

    reason: str
    first_in: datetime | None = None
    last_out: datetime | None = None
    status: Status | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValueError("a correction states its reason")
        if self.first_in is None and self.last_out is None and self.status is None:
            raise ValueError("a correction sets a first in, a last out or a status")
        for name in ("first_in", "last_out"):
            value = getattr(self, name)
            if value is not None:
                _aware(value, f"corrected {name}")
        if self.first_in is not None and self.last_out is not None and self.last_out < self.first_in:
            raise ValueError("a corrected last out is before the corrected first in")
        if self.status is not None and (self.status not in STATUSES or self.status in ("pending", "unavailable")):
            raise ValueError(f"a correction cannot set status {self.status!r}")


@dataclass(frozen=True, slots=True)
class DailyRecord:
    """One employee's attendance on one local day. Instants are UTC."""

    day: date
    status: Status
    first_in: datetime | None
    last_out: datetime | None
    worked_min: int
    late_min: int
    early_leave_min: int
    corrected: bool = False
    correction_reason: str | None = None
    #: A stay of the day had no check-out by the day's end (cut at midnight; module docstring)
    #: and no correction has set the day's last out or status yet: staff administration's to do.
    unclosed: bool = False
    #: A stay of the day was in dispute (`two_offices`, module docstring), or the badge was, and
    #: no correction has decided the day yet: staff administration's to do.
    disputed: bool = False


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, not {value!r}")
    return value.astimezone(UTC)


def _minutes(delta: timedelta) -> int:
    return max(0, int(delta.total_seconds() // 60))


def _local(day: date, at: time, tz: tzinfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _check_inputs(day: object, hours: object, tz: object, leave: object, late_grace_min: object) -> None:
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ValueError(f"day must be a date, not {day!r}")
    if not isinstance(tz, tzinfo):
        raise ValueError(f"tz must be a time zone (zoneinfo.ZoneInfo), not {tz!r}")
    if hours is not None:
        if not (isinstance(hours, tuple) and len(hours) == 2 and all(isinstance(t, time) for t in hours)):
            raise ValueError(f"hours must be (start, end) local times or None, not {hours!r}")
        start, end = hours
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("working hours are local times without a zone")
        if end <= start:
            raise ValueError(f"working hours {start}-{end} end before they start")
    if leave is not None and leave not in LEAVE_KINDS:
        raise ValueError(f"leave must be one of {LEAVE_KINDS} or None, not {leave!r}")
    if isinstance(late_grace_min, bool) or not isinstance(late_grace_min, int) or late_grace_min < 0:
        raise ValueError(f"late_grace_min must be a whole number of minutes >= 0, not {late_grace_min!r}")


#: How a part of a stay within the day ends: checked out, open at now (inside), or cut at the
#: day's end (no check-out on the day).
_Ending = Literal["out", "inside", "cut"]


def _clipped_stays(stays: Iterable[Stay], day_start: datetime, day_end: datetime, now: datetime) -> list[tuple[datetime, datetime, _Ending]]:
    """The parts within the day and before now of the stays that began on the day, and how each ends."""
    parts: list[tuple[datetime, datetime, _Ending]] = []
    for stay in stays:
        if not (isinstance(stay, tuple) and len(stay) == 2):
            raise ValueError(f"a stay is (check_in, check_out), not {stay!r}")
        check_in = _aware(stay[0], "check_in")
        check_out = None if stay[1] is None else _aware(stay[1], "check_out")
        if check_out is not None and check_out < check_in:
            raise ValueError(f"a stay checks out ({check_out.isoformat()}) before it checks in ({check_in.isoformat()})")
        # On the day: from [day_start, day_end), or a moment at its very start.
        if check_in >= day_end or (check_out is not None and check_out <= day_start and check_in < day_start):
            raise ValueError(f"a stay from {check_in.isoformat()} is not on the day (wrong day or zone?)")
        if check_in < day_start:
            continue  # carried over: it ended at its own day's end
        if check_in > now:
            continue  # has not happened: a gateway clock slightly ahead of the centre's
        if check_out is not None and check_out <= day_end:
            parts.append((check_in, min(check_out, now), "out"))
        elif now < day_end:
            parts.append((check_in, now, "inside"))  # no check-out yet, and the day lasts
        else:
            parts.append((check_in, day_end, "cut"))
    return sorted(parts)


def _union_minutes(parts: list[tuple[datetime, datetime]]) -> int:
    """Minutes covered by sorted intervals, overlaps counted once."""
    total = timedelta()
    current: tuple[datetime, datetime] | None = None
    for start, end in parts:
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return _minutes(total)


def daily_record(
    day: date,
    hours: tuple[time, time] | None,
    *,
    holiday: bool,
    tz: tzinfo,
    stays: Iterable[Stay],
    leave: LeaveKind | None = None,
    correction: Correction | None = None,
    late_grace_min: int = 0,
    presence_kept: bool = True,
    disputes: Iterable[Dispute] = (),
    now: datetime,
) -> DailyRecord:
    """The record of local `day` (see the module's decisions).

    `hours` is the employee's (start, end) that weekday (`WorkSchedule.hours`), None on a day off;
    `holiday` whether the day is among the tenant's holidays; `stays` the presence stays that
    began on the day (one carried over from an earlier day counts nothing; one wholly on another
    day is a `ValueError`: a wrong zone upstream); `leave` the kind of approved leave covering the
    day; `presence_kept` False when the day's presence events were deleted (retention): then
    `stays` must be empty and presence decides nothing (`unavailable`); `disputes` the dispute
    moments of the employee's badge (`attendance_disputes.disputes_of` of its `two_offices`
    events; any around the day, the others are ignored)."""
    _check_inputs(day, hours, tz, leave, late_grace_min)
    if correction is not None and not isinstance(correction, Correction):
        raise ValueError(f"correction must be a Correction or None, not {correction!r}")
    if not isinstance(presence_kept, bool):
        raise ValueError(f"presence_kept must be True or False, not {presence_kept!r}")
    stays, disputes = list(stays), list(disputes)
    if not all(isinstance(d, Dispute) for d in disputes):
        raise ValueError(f"disputes must be Dispute moments, not {disputes!r}")
    if not presence_kept and (stays or disputes):
        raise ValueError("a day whose presence events are no longer kept has no stays and no disputes")
    now = _aware(now, "now")
    day_start, day_end = _local(day, time(0), tz), _local(day + timedelta(days=1), time(0), tz)
    clipped = _clipped_stays(stays, day_start, day_end, now)
    kept = [p for p in clipped if not is_disputed(p[0], p[1], disputes)]
    disputed = len(kept) < len(clipped) or on_day(disputes, day_start, day_end)
    inside = any(ending == "inside" for *_, ending in kept)
    cut = any(ending == "cut" for *_, ending in kept)
    parts = [(start, end) for start, end, _ in kept]
    worked = _union_minutes(parts)
    first_in = parts[0][0] if parts else None
    last_out = None if inside or cut or not parts else max(end for _, end in parts)

    if correction is not None and (correction.first_in is not None or correction.last_out is not None):
        for bound in (correction.first_in, correction.last_out):
            if bound is not None and not (day_start <= bound <= day_end):
                raise ValueError(f"a corrected time {bound.isoformat()} is not on {day.isoformat()} ({tz})")
            if bound is not None and bound > now:
                raise ValueError(f"a corrected time {bound.isoformat()} is after now")
        first_in = correction.first_in.astimezone(UTC) if correction.first_in is not None else first_in
        last_out = correction.last_out.astimezone(UTC) if correction.last_out is not None else last_out
        if first_in is not None and last_out is not None:
            if last_out < first_in:
                raise ValueError("the corrected day's last out is before its first in")
            worked = _minutes(last_out - first_in)

    status: Status
    if correction is not None and correction.status is not None:
        status = correction.status
    elif holiday:
        status = "holiday"
    elif hours is None:
        status = "day_off"
    elif leave is not None:
        status = LEAVE_STATUS[leave]
    elif disputed and correction is None:
        status = "pending"  # held for staff administration's decision (module docstring)
    elif first_in is not None:
        status = "present"  # or late, below
    elif not presence_kept:
        status = "unavailable"
    elif now >= day_end:
        status = "absent"
    else:
        status = "pending"

    late_min = early_min = 0
    excused = correction is not None and correction.status == "present"
    if hours is not None and status in ("present", "late") and not excused:
        start, end = (_local(day, t, tz) for t in hours)
        if first_in is not None:
            late_min = _minutes(first_in - (start + timedelta(minutes=late_grace_min)))
        if last_out is not None and now >= end:
            early_min = _minutes(end - last_out)
        if status == "present" and late_min > 0:
            status = "late"
    return DailyRecord(
        day=day,
        status=status,
        first_in=first_in,
        last_out=last_out,
        worked_min=worked,
        late_min=late_min,
        early_leave_min=early_min,
        corrected=correction is not None,
        correction_reason=None if correction is None else correction.reason.strip(),
        unclosed=cut and (correction is None or (correction.last_out is None and correction.status is None)),
        disputed=disputed and correction is None,
    )
