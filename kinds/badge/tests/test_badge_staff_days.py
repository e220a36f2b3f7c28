"""The simulated office's ground truth: deterministic per seed, inside each local day, nobody on
holidays, and the assumed rates over a month of 200 employees."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from statistics import mean
from zoneinfo import ZoneInfo

import pytest

from kinds.badge.attendance_rules import LEAVE_STATUS, daily_record
from kinds.badge.config import CIVIL_SERVICE_SCHEDULE
from kinds.badge.sim.staff_days import StaffDay, StaffHabits, StaffMember, simulate_staff_days

WIB, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Jayapura")
MARCH = date(2026, 3, 1)
#: Nyepi, Idul Fitri and its cuti bersama (SKB 3 Menteri 2026).
HOLIDAYS = [date(2026, 3, d) for d in (18, 19, 20, 23, 24)]
STAFF = [StaffMember(id=f"e{n:03d}", office="bkpsdm" if n % 2 else "dinkes", schedule=CIVIL_SERVICE_SCHEDULE) for n in range(200)]


@pytest.fixture(scope="module")
def month() -> list[StaffDay]:
    return simulate_staff_days(STAFF, MARCH, 31, HOLIDAYS, WIB, seed=21)


def working(days: list[StaffDay]) -> list[StaffDay]:
    return [d for d in days if d.kind not in ("holiday", "day_off")]


def test_same_seed_same_days_other_seed_other_days(month: list[StaffDay]) -> None:
    again = simulate_staff_days(STAFF[:20], MARCH, 10, HOLIDAYS, WIB, seed=21)
    assert again == simulate_staff_days(STAFF[:20], MARCH, 10, HOLIDAYS, WIB, seed=21)
    assert again != simulate_staff_days(STAFF[:20], MARCH, 10, HOLIDAYS, WIB, seed=22)
    # One employee's days do not depend on who else is simulated.
    alone = simulate_staff_days([STAFF[7]], MARCH, 31, HOLIDAYS, WIB, seed=21)
    assert alone == [d for d in month if d.employee == STAFF[7].id]


def test_one_day_per_employee_per_date_in_day_order(month: list[StaffDay]) -> None:
    assert len(month) == 200 * 31
    assert [d.day for d in month] == sorted(d.day for d in month)
    assert len({(d.employee, d.day) for d in month}) == len(month)


def test_intervals_are_sorted_disjoint_and_inside_the_local_day(month: list[StaffDay]) -> None:
    for d in month:
        assert (d.kind == "present") == bool(d.intervals)
        assert (d.kind == "leave") == (d.leave is not None)
        day_start = datetime.combine(d.day, datetime.min.time(), tzinfo=WIB)
        previous_end = day_start
        for start, end in d.intervals:
            assert start.tzinfo is UTC and end.tzinfo is UTC
            assert previous_end <= start < end <= day_start + timedelta(days=1)
            previous_end = end


def test_nobody_comes_on_holidays_or_weekends(month: list[StaffDay]) -> None:
    for d in month:
        if d.day in HOLIDAYS:
            assert d.kind == "holiday" and not d.intervals
        elif d.day.weekday() >= 5:
            assert d.kind == "day_off" and not d.intervals


def test_rates_over_a_month_of_200_employees(month: list[StaffDay]) -> None:
    work = working(month)
    assert len(work) == 200 * 17
    def rate(kind: str) -> float:
        return sum(d.kind == kind for d in work) / len(work)

    assert 0.02 <= rate("absent") <= 0.04
    assert 0.008 <= rate("leave") <= 0.035  # spells: a wide spread between seeds
    present = [d for d in work if d.kind == "present"]
    local = [d.arrival.astimezone(WIB) for d in present]
    arrival_min = [t.hour * 60 + t.minute + t.second / 60 for t in local]
    assert abs(mean(arrival_min) - (7 * 60 + 20 + 0.07 * 25)) < 2  # 07:20 plus the late tail
    late = sum(m > 7 * 60 + 31 for m in arrival_min) / len(present)
    assert 0.12 <= late <= 0.30  # sigma 10 min past +10 min, and the tail
    ends = {d.day: datetime.combine(d.day, CIVIL_SERVICE_SCHEDULE.hours(d.day.weekday())[1], tzinfo=WIB) for d in present}
    early = sum(d.departure < ends[d.day] for d in present) / len(present)
    assert 0.035 <= early <= 0.065
    lunch_out = sum(len(d.intervals) == 2 for d in present) / len(present)
    assert 0.33 <= lunch_out <= 0.47
    for d in present:
        if len(d.intervals) == 2:
            assert timedelta(minutes=30) <= d.intervals[1][0] - d.intervals[0][1] <= timedelta(minutes=60)


def test_leave_comes_in_spells_of_every_kind(month: list[StaffDay]) -> None:
    leave = [d for d in month if d.kind == "leave"]
    assert {d.leave for d in leave} == {"cuti", "sakit", "dinas_luar"}
    by_employee = {(d.employee, d.day): d.leave for d in leave}
    days = sorted({d.day for d in working(month)})
    following = dict(zip(days, days[1:]))  # the next working day
    spells = sum(by_employee.get((e, following.get(day))) == kind for (e, day), kind in by_employee.items())
    assert spells > 0  # some leave lasts beyond a day


def test_the_rules_read_the_truth_back(month: list[StaffDay]) -> None:
    """The ground truth, taken as perfect check-ins, gives the records it should."""
    for d in month[: 200 * 10]:
        hours = CIVIL_SERVICE_SCHEDULE.hours(d.day.weekday())
        r = daily_record(
            d.day, hours, holiday=d.day in HOLIDAYS, tz=WIB, stays=list(d.intervals), leave=d.leave,
            now=datetime(2026, 4, 1, tzinfo=UTC),
        )
        expected = {"absent": {"absent"}, "holiday": {"holiday"}, "day_off": {"day_off"}, "present": {"present", "late"}}
        assert r.status in expected.get(d.kind, {LEAVE_STATUS.get(d.leave or "")})
        if d.kind == "present":
            assert r.first_in == d.arrival and r.last_out == d.departure


def test_another_zone_keeps_local_hours() -> None:
    days = simulate_staff_days(STAFF[:50], date(2026, 3, 2), 5, [], WIT, seed=3)
    arrivals = [d.arrival.astimezone(WIT) for d in days if d.arrival]
    assert abs(mean(t.hour * 60 + t.minute for t in arrivals) - (7 * 60 + 22)) < 6
    assert all(d.arrival.astimezone(WIT).date() == d.day for d in days if d.arrival)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"employees": [STAFF[0], STAFF[0]]}, "share an id"),
        ({"days": -1}, "days must be"),
        ({"start": datetime(2026, 3, 1)}, "start must be a date"),
        ({"holidays": ["2026-03-18"]}, "holidays are dates"),
        ({"tz": "Asia/Jakarta"}, "tz must be"),
    ],
)
def test_bad_input_is_a_value_error(kwargs: dict, match: str) -> None:
    args = {"employees": STAFF[:2], "start": MARCH, "days": 3, "holidays": [], "tz": WIB, "seed": 1} | kwargs
    with pytest.raises(ValueError, match=match):
        simulate_staff_days(**args)


def test_habits_are_checked() -> None:
    with pytest.raises(ValueError, match="absent_rate"):
        StaffHabits(absent_rate=1.5)
    with pytest.raises(ValueError, match="every working day"):
        StaffHabits(absent_rate=0.6, leave_rate=0.5)
    nobody_absent = simulate_staff_days(STAFF[:30], MARCH, 31, HOLIDAYS, WIB, seed=1, habits=StaffHabits(absent_rate=0.0, leave_rate=0.0))
    assert {d.kind for d in nobody_absent} == {"present", "holiday", "day_off"}
