"""Request and response shapes of the badge API: employees, daily records, monthly recaps,
corrections, activities, leave, security events and the view audit.

Times: every instant is UTC (`...Z`), and every answer names the tenant's zone (`timezone`:
Asia/Jakarta, Asia/Makassar or Asia/Jayapura), in which its days are counted. What people type
is local: a day (`YYYY-MM-DD`) and times of that day (`HH:MM`) in the tenant's zone, as on the
office's clock; the API turns them into instants.
"""

from __future__ import annotations

import re
import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, Strict, StringConstraints

from api.models import EARLIEST, LATEST, PublicModel, RequestBody, UtcDatetime
from kinds.badge.attendance_rules import Status

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters other than newline and tab are not allowed")
    return value


def within_bounds(value: dt.date | None) -> dt.date | None:
    """A day within the API's time bounds (`api.models.EARLIEST`, `LATEST`), else `ValueError` (422)."""
    if value is not None and not EARLIEST.date() <= value < LATEST.date():
        raise ValueError(f"a day must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return value


def _clock(value: str) -> dt.time:
    return dt.time(int(value[:2]), int(value[3:]))


#: A local day of the tenant's zone, `YYYY-MM-DD` (a string in JSON, hence not strict).
LocalDay = Annotated[dt.date, Strict(False), AfterValidator(within_bounds)]
#: A local time of day, `HH:MM` (24 h), in the tenant's zone.
LocalTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["07:30"]), AfterValidator(_clock)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), AfterValidator(_printable)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), AfterValidator(_printable)]
Timezone = Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]
_TZ = Field(description="The tenant's zone (WIB, WITA or WIT), in which days are counted and local times read.")
LeaveKind = Literal["cuti", "sakit", "dinas_luar"]
LeaveStatus = Literal["requested", "approved", "rejected", "cancelled"]
#: What a correction may set: any status a day can have except `pending` (the rules decide that).
CorrectedStatus = Literal["present", "late", "absent", "leave", "sick", "duty_travel", "holiday", "day_off"]


# --- employees ---------------------------------------------------------------------------------


class BadgePublic(PublicModel):
    id: str
    format: Literal["eid", "ibeacon", "uid"]
    issued_at: UtcDatetime


class EmployeePublic(PublicModel):
    nip: str
    name: str
    office: str
    schedule: str | None = Field(description="The schedule id of the tenant's `attendance:`; null: the tenant's default.")
    linked: bool = Field(description="Whether an API user is this person (`tepi admin employee link`).")
    active: bool = Field(description="False once the employee left (records kept, badges revoked).")
    created_at: UtcDatetime
    left_at: UtcDatetime | None
    badge: BadgePublic | None = Field(description="The badge not revoked, if any.")


class EmployeesPublic(PublicModel):
    data: list[EmployeePublic]
    count: int
    limit: int
    offset: int


class ImportedPublic(PublicModel):
    added: list[str] = Field(description="NIPs registered by this import.")
    unchanged: list[str] = Field(description="NIPs registered exactly so already (importing a file twice changes nothing).")


# --- daily records and recaps ------------------------------------------------------------------


class DailyRecordPublic(PublicModel):
    date: dt.date = Field(description="The local day.")
    status: Status = Field(
        description="present, late, absent, leave (cuti), sick (sakit), duty_travel (dinas luar), holiday, day_off, "
        "pending (a day not over on which nobody came in yet, or a disputed day), or unavailable (a day before the tenant's "
        "retention_days: its presence events are deleted, so neither present nor absent can be told)."
    )
    hours: str | None = Field(description='The working hours of the day, local ("07:30-16:00"); null on a day off.')
    first_in: UtcDatetime | None
    last_out: UtcDatetime | None = Field(description="Null while the person is inside, and on an unclosed day.")
    worked_min: int
    late_min: int = Field(description="Minutes after the start plus the tenant's grace (TL).")
    early_leave_min: int = Field(description="Minutes left before the end (PSW), judged once the hours are over.")
    late_band: int = Field(ge=0, le=4, description="TL1-TL4 band of the late minutes (1-30, 31-60, 61-90, 91+); 0 on time.")
    early_leave_band: int = Field(ge=0, le=4, description="PSW1-PSW4 band of the early-leave minutes; 0 for none.")
    corrected: bool = Field(description="A staff administrator corrected the day (the newest correction applies).")
    correction_reason: str | None
    corrected_by: str | None = Field(description="Who corrected it (a user's name).")
    corrected_at: UtcDatetime | None
    activities: int = Field(description="Activity entries of the employee on the day (`GET /activities`).")
    unclosed: bool = Field(
        description="No check-out on the day (a badge left in the office, a lost check-out): its stay is cut at "
        "midnight, it has no last out and no early leave is judged, until a correction sets the last out or the status."
    )
    disputed: bool = Field(
        description="The badge was heard at two far offices at once (a two_offices security event: one side a relayed "
        "EID): its stays around that count nothing, and the day is pending, for staff administration to decide by a correction."
    )


class BoardRowPublic(DailyRecordPublic):
    nip: str
    name: str
    office: str


class DailyBoardPublic(PublicModel):
    date: dt.date
    timezone: Timezone = _TZ
    office: str | None = Field(description="The office; null: every office of the tenant (admin).")
    totals: dict[str, int] = Field(description="Employees by status over the whole board, not only this page.")
    data: list[BoardRowPublic]
    count: int
    limit: int
    offset: int
    work_starts: UtcDatetime | None = Field(
        default=None, description="When work starts that day: the earliest start of the board's staff's hours; null when none of them works."
    )
    before_start: bool = Field(
        default=False, description="The board is of today and its work has not started yet (the server's clock): an empty board is no absence."
    )
    previous_working_day: dt.date | None = Field(
        default=None, description="The last day before `date` on which someone of the board works (holidays and days off skipped)."
    )


class EmployeeDaysPublic(PublicModel):
    nip: str
    name: str
    office: str
    timezone: Timezone = _TZ
    first_day: dt.date
    last_day: dt.date
    data: list[DailyRecordPublic] = Field(description="One record per day of employment in the span, oldest first.")


class RecapPublic(PublicModel):
    """A month's counts, as the performance allowance (TPP) is computed from them."""

    working_days: int = Field(description="Days due (neither holiday nor day off) counted so far, unavailable ones included.")
    on_time: int
    late: int
    absent: int
    leave: int
    sick: int
    duty_travel: int
    pending: int
    worked_minutes: int
    worked_hours: float
    late_minutes_total: int
    early_leave_days: int
    early_leave_minutes_total: int
    tl1: int
    tl2: int
    tl3: int
    tl4: int
    psw1: int
    psw2: int
    psw3: int
    psw4: int
    unavailable: int = Field(
        description="Days due before the tenant's retention_days, whose presence events are deleted: neither absent nor present."
    )
    unclosed_days: int = Field(description="Days with a check-in and no check-out, not yet corrected.")
    disputed_days: int = Field(description="Days held over a two_offices dispute (counted pending when due), not yet corrected.")


class RecapRowPublic(RecapPublic):
    nip: str
    name: str
    office: str


class MonthlyPublic(PublicModel):
    month: str
    timezone: Timezone = _TZ
    office: str | None
    counted_until: dt.date | None = Field(description="The last day counted: the month's last, or today in the current month.")
    data: list[RecapRowPublic]
    count: int
    limit: int
    offset: int


class EmployeeMonthlyPublic(PublicModel):
    nip: str
    name: str
    office: str
    month: str
    timezone: Timezone = _TZ
    recap: RecapPublic
    days: list[DailyRecordPublic]


class CorrectionCreate(RequestBody):
    """A staff administrator's correction of one employee's day: who, which day, what it sets, why."""

    nip: str = Field(pattern=r"^[0-9]{18}$")
    date: LocalDay
    first_in: LocalTime | None = Field(default=None, description="Local HH:MM on the day; null keeps what the badge says.")
    last_out: LocalTime | None = Field(default=None, description="Local HH:MM on the day; null keeps what the badge says.")
    status: CorrectedStatus | None = Field(default=None, description="The day's status; null: computed.")
    reason: Reason = Field(description="Why (kept with the correction, shown with the record).")


class CorrectionPublic(PublicModel):
    id: int
    nip: str
    date: dt.date
    timezone: Timezone = _TZ
    first_in: UtcDatetime | None
    last_out: UtcDatetime | None
    status: CorrectedStatus | None
    reason: str
    by: str
    at: UtcDatetime
    record: DailyRecordPublic = Field(description="The day's record with the correction applied.")


# --- activities, leave ---------------------------------------------------------------------------


class ActivityCreate(RequestBody):
    """A daily activity entry (Kerjaku style) of the caller."""

    date: LocalDay = Field(description="A working day of the caller (not a holiday or day off), not in the future.")
    start: LocalTime
    end: LocalTime = Field(description="After `start`, on the same day.")
    description: Text = Field(description="What was done.")
    output: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_printable)] | None = Field(
        default=None, description='What it produced, with its quantity ("3 surat keluar", "1 laporan").'
    )


class ActivityPublic(PublicModel):
    id: int
    nip: str
    name: str
    date: dt.date
    started_at: UtcDatetime | None
    ended_at: UtcDatetime | None
    description: str
    output: str | None
    created_at: UtcDatetime
    attendance: DailyRecordPublic | None = Field(description="The employee's attendance record of that day.")


class ActivitiesPublic(PublicModel):
    timezone: Timezone = _TZ
    data: list[ActivityPublic]
    count: int
    limit: int
    offset: int


class LeaveCreate(RequestBody):
    kind: LeaveKind = Field(description="cuti (leave), sakit (sick leave) or dinas_luar (duty travel).")
    first_day: LocalDay
    last_day: LocalDay = Field(description="Inclusive.")
    reason: Reason


class LeaveDecision(RequestBody):
    note: Reason | None = Field(default=None, description="Required when rejecting: why.")


class LeavePublic(PublicModel):
    id: int
    nip: str
    name: str
    office: str
    kind: LeaveKind
    first_day: dt.date
    last_day: dt.date
    reason: str
    status: LeaveStatus
    requested_at: UtcDatetime
    decided_by: str | None
    decided_at: UtcDatetime | None
    decision_note: str | None


class LeavesPublic(PublicModel):
    data: list[LeavePublic]
    count: int
    limit: int
    offset: int


# --- security events and the view audit ----------------------------------------------------------


class SecurityEventPublic(PublicModel):
    id: str
    office: str
    reason: Literal["eid_replayed", "eid_ahead", "two_offices", "static_id_where_eid_required"]
    source: Literal["gateway", "central"]
    at: UtcDatetime
    badge: str
    nip: str
    name: str
    rssi_dbm: float | None
    other_office: str | None = Field(description="two_offices: where the badge was heard before.")
    other_at: UtcDatetime | None
    distance_km: float | None
    eid_period_offset: int | None = Field(description="eid_*: rotation periods the EID was off the badge's clock.")


class SecurityEventsPublic(PublicModel):
    timezone: Timezone = _TZ
    data: list[SecurityEventPublic]
    count: int
    limit: int
    offset: int


class ViewPublic(PublicModel):
    at: UtcDatetime
    viewer: str = Field(description="The user who read the records (name).")
    viewer_role: str
    nip: str | None
    name: str | None
    office: str | None
    what: str = Field(description="Which answer: days, monthly, daily_board, monthly_recap, monthly_csv, activities, leave, security_events.")


class ViewsPublic(PublicModel):
    data: list[ViewPublic]
    count: int
    limit: int
    offset: int
