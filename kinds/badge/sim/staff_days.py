"""Who was in the office when: the ground truth of a simulated office, per employee per day.

The radio side (scanners hearing badges) is built on it, and benches score the gateway's check-ins
against it (`intervals` are when the person was truly inside). Pure: a seed, not a clock; the same
employees, dates and seed give the same days, and an employee's days do not depend on who else is
simulated (each draws from a generator seeded with the seed and their id).

The distributions are Tepi's own assumptions (plausible for a regency office, not measured):
- arrival: normal around 10 min before the start (07:20 for a 07:30 start), sigma 10 min, and for
  7 % of days a late tail (an extra exponential delay, mean 25 min): traffic, children to school;
- absence without leave: 3 % of working days;
- approved leave: 2 % of working days, in spells (annual leave, cuti: 1-5 working days, half of the
  spells; sick, sakit: 1-3, three in ten; duty travel, dinas luar: 1-3, two in ten);
- lunch: 40 % of present days leave the building at about 12:00 (Friday 11:30, for Friday prayer;
  Perpres 21/2023 gives Friday a 90-minute break), sigma 8 min, for 30-60 minutes;
- departure: 5 % of present days leave 10-150 minutes before the end; the rest leave after it,
  half-normal with sigma 12 min, and one in ten of those stays on (overtime, mean 45 min more);
- holidays and days off: nobody comes.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, Protocol

from kinds.badge.attendance_rules import LeaveKind

DayKind = Literal["present", "absent", "leave", "holiday", "day_off"]
Interval = tuple[datetime, datetime]


class Schedule(Protocol):
    def hours(self, weekday: int) -> tuple[time, time] | None: ...


@dataclass(frozen=True, slots=True)
class StaffMember:
    """An employee as the simulator needs them (`kinds.badge.config.WorkSchedule` is a schedule)."""

    id: str
    office: str
    schedule: Schedule


@dataclass(frozen=True, slots=True)
class StaffDay:
    """What truly happened to `employee` on local `day`. `intervals` (UTC, sorted, disjoint) are
    when they were inside the office; empty unless `kind` is present. `leave` names the approved
    leave on a leave day."""

    employee: str
    office: str
    day: date
    kind: DayKind
    leave: LeaveKind | None = None
    intervals: tuple[Interval, ...] = ()

    @property
    def arrival(self) -> datetime | None:
        return self.intervals[0][0] if self.intervals else None

    @property
    def departure(self) -> datetime | None:
        return self.intervals[-1][1] if self.intervals else None


@dataclass(frozen=True, slots=True)
class StaffHabits:
    """The distributions' parameters (module docstring); rates are per working day."""

    absent_rate: float = 0.03
    leave_rate: float = 0.02
    arrival_before_start_min: float = 10.0
    arrival_sigma_min: float = 10.0
    late_tail_rate: float = 0.07
    late_tail_mean_min: float = 25.0
    lunch_out_rate: float = 0.40
    early_leave_rate: float = 0.05
    departure_sigma_min: float = 12.0
    overtime_rate: float = 0.10
    overtime_mean_min: float = 45.0

    def __post_init__(self) -> None:
        for name in ("absent_rate", "leave_rate", "late_tail_rate", "lunch_out_rate", "early_leave_rate", "overtime_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within [0, 1]")
        if self.absent_rate + self.leave_rate >= 1.0:
            raise ValueError("absences and leave take every working day")
        for name in ("arrival_sigma_min", "late_tail_mean_min", "departure_sigma_min", "overtime_mean_min"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


#: (kind, share of spells, shortest and longest spell in working days)
_LEAVE_SPELLS: tuple[tuple[LeaveKind, float, int, int], ...] = (("cuti", 0.5, 1, 5), ("sakit", 0.3, 1, 3), ("dinas_luar", 0.2, 1, 3))
_MEAN_SPELL = sum(share * (lo + hi) / 2 for _, share, lo, hi in _LEAVE_SPELLS)


def _minutes(m: float) -> timedelta:
    return timedelta(seconds=round(m * 60))


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


class _Person:
    """One employee's generator and leave spell, carried across their days."""

    def __init__(self, member: StaffMember, seed: int | str, habits: StaffHabits) -> None:
        self.member = member
        self.rng = random.Random(f"{seed}/{member.id}")
        self.habits = habits
        self.spell: tuple[LeaveKind, int] | None = None  # kind, working days left
        # A spell starts on a working day off leave with p, so that a fraction f of working days
        # is leave: f = pL / (pL + 1 - p), L the mean spell length.
        f = habits.leave_rate
        self.p_spell = f / (_MEAN_SPELL * (1 - f) + f)
        self.p_absent = habits.absent_rate / (1 - f)

    def working_day(self, day: date, hours: tuple[time, time], tz: tzinfo) -> StaffDay:
        rng, m = self.rng, self.member
        if self.spell is None and rng.random() < self.p_spell:
            pick = rng.random()
            for kind, share, lo, hi in _LEAVE_SPELLS:
                pick -= share
                if pick < 0 or kind == _LEAVE_SPELLS[-1][0]:
                    self.spell = (kind, rng.randint(lo, hi))
                    break
        if self.spell is not None:
            kind, left = self.spell
            self.spell = (kind, left - 1) if left > 1 else None
            return StaffDay(m.id, m.office, day, "leave", leave=kind)
        if rng.random() < self.p_absent:
            return StaffDay(m.id, m.office, day, "absent")
        return StaffDay(m.id, m.office, day, "present", intervals=self._inside(day, hours, tz))

    def _inside(self, day: date, hours: tuple[time, time], tz: tzinfo) -> tuple[Interval, ...]:
        rng, h = self.rng, self.habits
        start = datetime.combine(day, hours[0], tzinfo=tz)
        end = datetime.combine(day, hours[1], tzinfo=tz)
        day_start = datetime.combine(day, time(0), tzinfo=tz)
        day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz) - timedelta(minutes=1)

        late = rng.expovariate(1 / h.late_tail_mean_min) if rng.random() < h.late_tail_rate else 0.0
        arrival = start + _minutes(rng.gauss(-h.arrival_before_start_min, h.arrival_sigma_min) + late)
        if rng.random() < h.early_leave_rate:
            departure = end - _minutes(rng.uniform(10, 150))
        else:
            stay_on = rng.expovariate(1 / h.overtime_mean_min) if rng.random() < h.overtime_rate else 0.0
            departure = end + _minutes(abs(rng.gauss(0, h.departure_sigma_min)) + stay_on)
        arrival = min(max(arrival, day_start, start - timedelta(minutes=90)), day_end - timedelta(minutes=30))
        departure = min(max(departure, arrival + timedelta(minutes=30)), day_end)

        lunch = rng.random() < h.lunch_out_rate
        out_at = time(11, 30) if day.weekday() == 4 else time(12, 0)
        lunch_out = datetime.combine(day, out_at, tzinfo=tz) + _minutes(rng.gauss(0, 8))
        lunch_in = lunch_out + _minutes(rng.uniform(30, 60))
        if lunch and arrival + timedelta(minutes=30) <= lunch_out and lunch_in + timedelta(minutes=30) <= departure:
            return ((_utc(arrival), _utc(lunch_out)), (_utc(lunch_in), _utc(departure)))
        return ((_utc(arrival), _utc(departure)),)


def simulate_staff_days(
    employees: Sequence[StaffMember],
    start: date,
    days: int,
    holidays: Iterable[date],
    tz: tzinfo,
    seed: int | str,
    habits: StaffHabits | None = None,
) -> list[StaffDay]:
    """Every employee's every local day from `start` for `days` days, day by day (in the order of
    `employees` within a day). `ValueError` on two employees with one id or a bad range."""
    if not isinstance(start, date) or isinstance(start, datetime):
        raise ValueError(f"start must be a date, not {start!r}")
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"days must be a whole number >= 0, not {days!r}")
    if not isinstance(tz, tzinfo):
        raise ValueError(f"tz must be a time zone (zoneinfo.ZoneInfo), not {tz!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, str)):
        raise ValueError(f"seed must be an int or a str, not {seed!r}")
    off = set(holidays)
    if not all(isinstance(d, date) and not isinstance(d, datetime) for d in off):
        raise ValueError("holidays are dates")
    ids = [e.id for e in employees]
    if len(set(ids)) != len(ids):
        raise ValueError("two employees share an id")
    people = [_Person(e, seed, habits or StaffHabits()) for e in employees]
    out: list[StaffDay] = []
    for n in range(days):
        day = start + timedelta(days=n)
        for p in people:
            hours = p.member.schedule.hours(day.weekday())
            if day in off:
                out.append(StaffDay(p.member.id, p.member.office, day, "holiday"))
            elif hours is None:
                out.append(StaffDay(p.member.id, p.member.office, day, "day_off"))
            else:
                out.append(p.working_day(day, hours, tz))
    return out
