"""The daily record and monthly recap an allowance is paid on: late, early leave, holidays, leave,
corrections, zones, days with no check-out, days past retention, and the CSV the allowance
office opens."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinds.badge.attendance_recap import RECAP_CSV_HEADER, RecapLine, band, monthly_recap, recap_csv, recap_csv_rows
from kinds.badge.attendance_rules import Correction, DailyRecord, daily_record
from kinds.badge.config import CIVIL_SERVICE_SCHEDULE

WIB, WITA, WIT = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jayapura")
MONDAY = date(2026, 3, 2)
FRIDAY = date(2026, 3, 6)
HOURS = CIVIL_SERVICE_SCHEDULE.hours(MONDAY.weekday())  # 07:30-16:00
AFTER = datetime(2026, 4, 1, tzinfo=UTC)  # every March day is over


def at(day: date, hhmm: str, tz: ZoneInfo = WIB) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(day, time(h, m), tzinfo=tz)


def record(stays=(), *, day: date = MONDAY, hours=HOURS, tz: ZoneInfo = WIB, now: datetime = AFTER, **kw) -> DailyRecord:
    return daily_record(day, hours, holiday=kw.pop("holiday", False), tz=tz, stays=list(stays), now=now, **kw)


def test_on_time_day_records_first_in_last_out_and_hours_in_utc() -> None:
    r = record([(at(MONDAY, "07:20"), at(MONDAY, "16:05"))])
    assert r.status == "present"
    assert r.first_in == datetime(2026, 3, 2, 0, 20, tzinfo=UTC)
    assert r.last_out == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)
    assert r.worked_min == 8 * 60 + 45
    assert (r.late_min, r.early_leave_min, r.corrected) == (0, 0, False)


def test_late_arrival_counts_minutes_after_the_start() -> None:
    r = record([(at(MONDAY, "07:47"), at(MONDAY, "16:10"))])
    assert (r.status, r.late_min) == ("late", 17)


def test_seconds_do_not_make_anyone_late() -> None:
    r = record([(at(MONDAY, "07:30") + timedelta(seconds=59), at(MONDAY, "16:00"))])
    assert (r.status, r.late_min) == ("present", 0)


def test_grace_forgives_its_minutes() -> None:
    stays = [(at(MONDAY, "07:40"), at(MONDAY, "16:00"))]
    assert record(stays, late_grace_min=10).status == "present"
    r = record(stays, late_grace_min=5)
    assert (r.status, r.late_min) == ("late", 5)


def test_early_leave_minutes_before_the_end() -> None:
    r = record([(at(MONDAY, "07:25"), at(MONDAY, "15:15"))])
    assert (r.status, r.late_min, r.early_leave_min) == ("present", 0, 45)


def test_friday_ends_later() -> None:
    r = record([(at(FRIDAY, "07:25"), at(FRIDAY, "16:10"))], day=FRIDAY, hours=CIVIL_SERVICE_SCHEDULE.hours(4))
    assert r.early_leave_min == 20


def test_early_leave_is_not_judged_before_the_working_hours_end() -> None:
    """Out at 11:00 for an errand, it is 14:00: they may come back."""
    stays = [(at(MONDAY, "07:25"), at(MONDAY, "11:00"))]
    assert record(stays, now=at(MONDAY, "14:00")).early_leave_min == 0
    assert record(stays, now=at(MONDAY, "16:30")).early_leave_min == 300


def test_several_stays_lunch_outside_is_not_worked() -> None:
    r = record([
        (at(MONDAY, "07:25"), at(MONDAY, "12:05")),
        (at(MONDAY, "12:50"), at(MONDAY, "16:02")),
    ])
    assert r.first_in == at(MONDAY, "07:25") and r.last_out == at(MONDAY, "16:02")
    assert r.worked_min == 8 * 60 + 37 - 45
    assert r.status == "present" and r.early_leave_min == 0


def test_overlapping_stays_count_once() -> None:
    r = record([(at(MONDAY, "08:00"), at(MONDAY, "12:00")), (at(MONDAY, "11:00"), at(MONDAY, "13:00"))], hours=None)
    assert r.worked_min == 300


def test_open_stay_counts_until_now_and_has_no_last_out_yet() -> None:
    now = at(MONDAY, "10:00")
    r = record([(at(MONDAY, "07:28"), None)], now=now)
    assert (r.status, r.last_out, r.worked_min, r.early_leave_min) == ("present", None, 152, 0)


def test_a_stay_with_no_check_out_by_midnight_is_cut_there_and_flagged() -> None:
    """Checked in, never checked out that day: the stay counts until midnight as measured, but the
    day has no last out (so no early leave is judged) and is flagged for staff administration."""
    for stay in [(at(MONDAY, "07:28"), None), (at(MONDAY, "07:28"), at(FRIDAY, "10:05"))]:
        r = record([stay])
        assert (r.status, r.first_in, r.last_out, r.unclosed) == ("present", at(MONDAY, "07:28"), None, True)
        assert r.worked_min == 16 * 60 + 32 and r.early_leave_min == 0
    # While the day lasts, an open stay is someone inside, not an unclosed day.
    assert record([(at(MONDAY, "07:28"), None)], now=at(MONDAY, "23:59")).unclosed is False


def test_a_badge_left_in_the_office_all_week_is_not_present_all_week() -> None:
    """In Monday 07:30, the badge in a drawer until Friday 10:05 (its check-out: last heard). The
    stay ends Monday at midnight: Tuesday to Thursday nobody came in, and Friday's check-out is
    no first in. Midnight is never anyone's first in."""
    drawer = (at(MONDAY, "07:30"), at(FRIDAY, "10:05"))
    monday = record([drawer])
    assert (monday.status, monday.first_in, monday.unclosed) == ("present", at(MONDAY, "07:30"), True)
    for n in (1, 2, 3, 4):
        day = MONDAY + timedelta(days=n)
        r = record([drawer], day=day, hours=CIVIL_SERVICE_SCHEDULE.hours(day.weekday()))
        assert (r.status, r.first_in, r.worked_min, r.late_min, r.unclosed) == ("absent", None, 0, 0, False), day
    # Still open (no check-out read yet) and read on Thursday: the same.
    thursday = MONDAY + timedelta(days=3)
    assert record([(drawer[0], None)], day=thursday, now=at(thursday, "10:00")).status == "pending"
    assert record([(drawer[0], None)], day=thursday).status == "absent"


def test_a_night_across_midnight_ends_at_midnight_and_the_next_day_starts_with_its_own_first_in() -> None:
    tuesday = MONDAY + timedelta(days=1)
    night = (at(MONDAY, "20:00"), at(tuesday, "02:00"))
    monday = record([(at(MONDAY, "07:30"), at(MONDAY, "16:00")), night])
    assert (monday.last_out, monday.unclosed) == (None, True)
    assert monday.worked_min == 8 * 60 + 30 + 4 * 60
    tue = record([night, (at(tuesday, "07:29"), at(tuesday, "16:00"))], day=tuesday)
    assert (tue.first_in, tue.worked_min, tue.status, tue.late_min, tue.unclosed) == (at(tuesday, "07:29"), 8 * 60 + 31, "present", 0, False)


@pytest.mark.parametrize(
    ("correction", "unclosed"),
    [
        (Correction(reason="lupa tap pulang", last_out=at(MONDAY, "16:05")), False),
        (Correction(reason="kartu tertinggal di laci", status="present"), False),
        (Correction(reason="jam masuk dari CCTV", first_in=at(MONDAY, "07:20")), True),  # the check-out is still missing
    ],
)
def test_a_correction_of_the_last_out_or_status_settles_an_unclosed_day(correction: Correction, unclosed: bool) -> None:
    r = record([(at(MONDAY, "07:28"), None)], correction=correction)
    assert (r.unclosed, r.corrected) == (unclosed, True)
    if correction.last_out is not None:
        assert (r.last_out, r.worked_min, r.early_leave_min) == (at(MONDAY, "16:05"), 8 * 60 + 37, 0)


def test_a_day_whose_events_are_deleted_is_unavailable_not_absent() -> None:
    """Past the tenant's retention_days: presence can't be told, so the day is neither absent nor
    present; what is kept (holiday, day off, leave, a correction) still decides."""
    gone = {"presence_kept": False}
    assert record(**gone).status == "unavailable"
    assert record(holiday=True, **gone).status == "holiday"
    assert record(hours=None, **gone).status == "day_off"
    assert record(leave="cuti", **gone).status == "leave"
    assert record(correction=Correction(reason="surat tugas", status="duty_travel"), **gone).status == "duty_travel"
    bounds = Correction(reason="kartu rusak", first_in=at(MONDAY, "07:40"), last_out=at(MONDAY, "16:00"))
    assert (record(correction=bounds, **gone).status, record(correction=bounds, **gone).late_min) == ("late", 10)
    with pytest.raises(ValueError, match="no stays"):
        record([(at(MONDAY, "07:28"), at(MONDAY, "16:00"))], **gone)
    with pytest.raises(ValueError, match="cannot set status"):
        Correction(reason="x", status="unavailable")


def test_today_in_wit_is_pending_until_its_own_midnight_late_in_the_utc_day() -> None:
    """Jayapura is UTC+9: its Tuesday begins at 15:00 UTC on Monday and ends at 15:00 UTC on Tuesday."""
    tuesday = MONDAY + timedelta(days=1)
    hours = CIVIL_SERVICE_SCHEDULE.hours(tuesday.weekday())
    for now in (datetime(2026, 3, 2, 15, 0, tzinfo=UTC), datetime(2026, 3, 2, 23, 59, tzinfo=UTC), datetime(2026, 3, 3, 14, 59, tzinfo=UTC)):
        assert record(day=tuesday, hours=hours, tz=WIT, now=now).status == "pending", now
    assert record(day=tuesday, hours=hours, tz=WIT, now=datetime(2026, 3, 3, 15, 0, tzinfo=UTC)).status == "absent"
    # In at 07:20 WIT (22:20 UTC on Monday), asked at 23:00 UTC: present, inside, no last out yet.
    inside = record([(at(tuesday, "07:20", WIT), None)], day=tuesday, hours=hours, tz=WIT, now=datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    assert (inside.status, inside.last_out, inside.worked_min, inside.unclosed) == ("present", None, 40, False)


def test_absent_only_once_the_day_is_over() -> None:
    assert record(now=at(MONDAY, "09:00")).status == "pending"
    assert record(now=at(MONDAY, "23:59")).status == "pending"
    assert record(now=at(MONDAY + timedelta(days=1), "00:00")).status == "absent"


def test_a_future_day_is_pending() -> None:
    assert record(now=at(MONDAY - timedelta(days=3), "12:00")).status == "pending"


def test_holiday_with_presence_is_a_holiday_with_its_hours() -> None:
    stays = [(at(MONDAY, "09:00"), at(MONDAY, "11:00"))]
    r = record(stays, holiday=True)
    assert (r.status, r.worked_min, r.late_min, r.early_leave_min) == ("holiday", 120, 0, 0)
    assert record(holiday=True).status == "holiday"


def test_day_off_with_presence_is_a_day_off_with_its_hours() -> None:
    saturday = date(2026, 3, 7)
    assert CIVIL_SERVICE_SCHEDULE.hours(saturday.weekday()) is None
    r = record([(at(saturday, "10:00"), at(saturday, "12:30"))], day=saturday, hours=None)
    assert (r.status, r.worked_min, r.late_min) == ("day_off", 150, 0)
    assert record(day=saturday, hours=None).status == "day_off"


@pytest.mark.parametrize(("kind", "status"), [("cuti", "leave"), ("sakit", "sick"), ("dinas_luar", "duty_travel")])
def test_approved_leave_is_not_absence(kind: str, status: str) -> None:
    assert record(leave=kind).status == status
    assert record(leave=kind, now=at(MONDAY, "08:00")).status == status


def test_leave_wins_over_presence_without_late_or_early_minutes() -> None:
    """Sent home sick at ten after arriving late: sick, not late and leaving early too."""
    r = record([(at(MONDAY, "08:10"), at(MONDAY, "10:00"))], leave="sakit")
    assert (r.status, r.late_min, r.early_leave_min, r.worked_min) == ("sick", 0, 0, 110)
    assert r.first_in == at(MONDAY, "08:10")


def test_the_same_utc_instant_is_on_time_in_wib_and_late_in_wita_and_wit() -> None:
    instant = datetime(2026, 3, 2, 0, 25, tzinfo=UTC)  # 07:25 WIB, 08:25 WITA, 09:25 WIT
    out = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 16:00 WIB, 17:00 WITA, 18:00 WIT
    wib = record([(instant, out)], tz=WIB)
    wita = record([(instant, out)], tz=WITA)
    wit = record([(instant, out)], tz=WIT)
    assert (wib.status, wib.late_min) == ("present", 0)
    assert (wita.status, wita.late_min) == ("late", 55)
    assert (wit.status, wit.late_min) == ("late", 115)
    assert wib.first_in == wita.first_in == wit.first_in == instant


def test_late_evening_in_utc_is_the_next_local_day() -> None:
    """23:30 UTC on Sunday is 07:30 WITA on Monday: Monday's stay, not Sunday's."""
    stay = (datetime(2026, 3, 1, 23, 30, tzinfo=UTC), datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    assert record([stay], tz=WITA).status == "present"
    with pytest.raises(ValueError, match="not on the day"):
        record([stay], day=date(2026, 3, 1), hours=None, tz=WIT)  # all of it is Monday in WIT


def test_correction_of_bounds_restates_the_day() -> None:
    """The badge went flat at noon; staff administration enters 16:05 as last out."""
    c = Correction(reason="baterai kartu habis", last_out=at(MONDAY, "16:05"))
    r = record([(at(MONDAY, "07:20"), at(MONDAY, "12:00"))], correction=c)
    assert r.last_out == at(MONDAY, "16:05") and r.early_leave_min == 0
    assert r.worked_min == 8 * 60 + 45
    assert (r.corrected, r.correction_reason) == (True, "baterai kartu habis")


def test_correction_of_a_forgotten_badge_makes_a_present_day() -> None:
    c = Correction(reason="kartu tertinggal", first_in=at(MONDAY, "07:45"), last_out=at(MONDAY, "16:00"))
    r = record(correction=c)
    assert (r.status, r.late_min, r.worked_min) == ("late", 15, 495)


def test_correction_of_status_has_the_last_word() -> None:
    late = [(at(MONDAY, "08:30"), at(MONDAY, "16:00"))]
    excused = record(late, correction=Correction(reason="rapat di kecamatan", status="present"))
    assert (excused.status, excused.late_min, excused.worked_min) == ("present", 0, 450)
    travel = record(correction=Correction(reason="SPT terlambat diinput", status="duty_travel"))
    assert travel.status == "duty_travel"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"reason": "  "}, "reason"),
        ({"reason": "x"}, "sets a first in"),
        ({"reason": "x", "status": "pending"}, "cannot set status"),
        ({"reason": "x", "status": "bolos"}, "cannot set status"),
        ({"reason": "x", "first_in": datetime(2026, 3, 2, 8, 0)}, "timezone-aware"),
        ({"reason": "x", "first_in": at(MONDAY, "09:00"), "last_out": at(MONDAY, "08:00")}, "before"),
    ],
)
def test_bad_corrections_are_refused(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Correction(**kwargs)


def test_a_correction_on_another_day_is_refused() -> None:
    c = Correction(reason="x", first_in=at(MONDAY + timedelta(days=1), "07:30"))
    with pytest.raises(ValueError, match="not on 2026-03-02"):
        record(correction=c)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stays": [(datetime(2026, 3, 2, 7, 30), None)]}, "timezone-aware"),
        ({"stays": [(at(MONDAY, "09:00"), at(MONDAY, "08:00"))]}, "before it checks in"),
        ({"stays": [(at(MONDAY, "09:00"),)]}, "check_in, check_out"),
        ({"stays": [(at(MONDAY - timedelta(days=1), "09:00"), at(MONDAY - timedelta(days=1), "10:00"))]}, "not on the day"),
        ({"hours": (time(16), time(7, 30))}, "end before"),
        ({"leave": "libur"}, "leave must be"),
        ({"late_grace_min": -1}, "late_grace_min"),
        ({"now": datetime(2026, 3, 2, 12)}, "now must be"),
        ({"day": datetime(2026, 3, 2, 0, 0)}, "day must be a date"),
    ],
)
def test_bad_input_is_a_value_error(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        record(**kwargs)


def test_bands() -> None:
    assert [band(m) for m in (0, 1, 30, 31, 60, 61, 90, 91, 400)] == [0, 1, 1, 2, 2, 3, 3, 4, 4]


def _month() -> list[DailyRecord]:
    """March 2026 in WIB for one employee: holidays 18-20 and 23-24 (Nyepi, Idul Fitri, cuti bersama)."""
    holidays = {date(2026, 3, d) for d in (18, 19, 20, 23, 24)}
    arrivals = {3: "07:45", 4: "08:15", 5: "09:10", 9: "07:31"}  # TL1, TL2, TL4, TL1
    departures = {10: "15:50", 11: "14:00"}  # PSW1, PSW4
    records = []
    for d in range(1, 32):
        day = date(2026, 3, d)
        hours = CIVIL_SERVICE_SCHEDULE.hours(day.weekday())
        stays = []
        leave = {12: "sakit", 13: "sakit", 16: "cuti", 17: "dinas_luar"}.get(d)
        if hours is not None and day not in holidays and d not in (25, 26) and leave is None:
            end = "16:30" if day.weekday() == 4 else "16:00"
            stays = [(at(day, arrivals.get(d, "07:25")), at(day, departures.get(d, end)))]
        if d == 20:  # came in on the cuti bersama for two hours
            stays = [(at(day, "09:00"), at(day, "11:00"))]
        records.append(daily_record(day, hours, holiday=day in holidays, tz=WIB, stays=stays, leave=leave, now=AFTER))
    return records


def test_monthly_recap_counts() -> None:
    recap = monthly_recap(_month())
    # 22 weekdays in March 2026, 5 of them holidays.
    assert recap.working_days == 17
    assert (recap.late, recap.absent, recap.sick, recap.leave, recap.duty_travel, recap.pending) == (4, 2, 2, 1, 1, 0)
    assert recap.on_time == 17 - 4 - 2 - 2 - 1 - 1
    assert (recap.tl1, recap.tl2, recap.tl3, recap.tl4) == (2, 1, 0, 1)
    assert (recap.psw1, recap.psw2, recap.psw3, recap.psw4) == (1, 0, 0, 1)
    assert recap.late_minutes_total == 15 + 45 + 100 + 1
    assert (recap.early_leave_days, recap.early_leave_minutes_total) == (2, 10 + 120)
    assert recap.worked_minutes == sum(r.worked_min for r in _month())
    assert recap.worked_hours == round(recap.worked_minutes / 60, 2)


def test_monthly_recap_counts_unavailable_days_apart_from_absence_and_unclosed_days() -> None:
    days = [MONDAY + timedelta(days=n) for n in range(5)]
    records = [
        record(day=days[0], presence_kept=False),
        record(day=days[1], hours=CIVIL_SERVICE_SCHEDULE.hours(1), presence_kept=False),
        record([(at(days[2], "07:25"), None)], day=days[2], hours=CIVIL_SERVICE_SCHEDULE.hours(2)),
        record(day=days[3], hours=CIVIL_SERVICE_SCHEDULE.hours(3)),
        record([(at(days[4], "07:25"), at(days[4], "16:30"))], day=days[4], hours=CIVIL_SERVICE_SCHEDULE.hours(4)),
    ]
    recap = monthly_recap(records)
    assert (recap.working_days, recap.unavailable, recap.absent, recap.on_time, recap.unclosed_days) == (5, 2, 1, 2, 1)
    row = next(csv.DictReader(io.StringIO(recap_csv([RecapLine(nip="198503302010011002", name="Siti", office="bkpsdm", recap=recap)]))))
    assert (row["unavailable"], row["absent"], row["unclosed_days"]) == ("2", "1", "1")
    assert RECAP_CSV_HEADER[-3:] == ("unavailable", "unclosed_days", "disputed_days")  # the earlier columns keep their places


def test_monthly_recap_refuses_a_day_twice() -> None:
    r = record()
    with pytest.raises(ValueError, match="two records"):
        monthly_recap([r, r])


def test_recap_csv_parses_back() -> None:
    recap = monthly_recap(_month())
    lines = [
        RecapLine(nip="198503302010011002", name="Siti Aminah", office="bkpsdm", recap=recap),
        RecapLine(nip="199001012015032001", name="=HYPERLINK(\"x\")", office="bkpsdm", recap=monthly_recap([])),
    ]
    rows = list(csv.DictReader(io.StringIO(recap_csv(lines))))
    assert list(rows[0]) == list(RECAP_CSV_HEADER)
    assert rows[0]["nip"] == "198503302010011002" and rows[0]["name"] == "Siti Aminah"
    assert int(rows[0]["late"]) == recap.late and int(rows[0]["tl4"]) == 1 and int(rows[0]["working_days"]) == 17
    assert float(rows[0]["worked_hours"]) == recap.worked_hours
    assert rows[1]["name"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert int(rows[1]["working_days"]) == 0


def test_recap_csv_refuses_a_bad_nip() -> None:
    with pytest.raises(ValueError, match="18 digits"):
        recap_csv_rows([RecapLine(nip="1985-0330", name="x", office="y", recap=monthly_recap([]))])


@given(
    st.lists(st.tuples(st.integers(-600, 2000), st.integers(0, 900), st.booleans()), max_size=6),
    st.integers(0, 3000),
)
def test_any_stays_give_a_consistent_record(stays: list[tuple[int, int, bool]], now_min: int) -> None:
    """Whatever the stays (minutes from Monday's local midnight; some open) and whenever asked:
    hours fit between first in and last out, and nobody is absent before the day is over."""
    midnight = at(MONDAY, "00:00")
    now = midnight + timedelta(minutes=now_min)
    pairs = [
        (midnight + timedelta(minutes=s), None if is_open else midnight + timedelta(minutes=s + length))
        for s, length, is_open in stays
        if s < 1440 and (is_open or s >= 0 or s + length > 0)
    ]
    r = record(pairs, now=now)
    assert 0 <= r.worked_min <= 1440
    if r.first_in is not None and r.last_out is not None:
        assert r.first_in <= r.last_out
        assert r.worked_min <= (r.last_out - r.first_in).total_seconds() // 60
    if now < midnight + timedelta(days=1):
        assert r.status != "absent"
    if r.status == "absent":
        assert r.first_in is None
    # Midnight is never a first in for a stay carried over from Sunday; a cut day has no last out.
    assert r.first_in is None or (r.first_in >= midnight and r.first_in in {check_in for check_in, _ in pairs})
    assert not r.unclosed or (r.last_out is None and now >= midnight + timedelta(days=1))
