"""Days with a badge heard at two far offices at once (`two_offices`: one side is a relayed EID):
the stays around the dispute count nothing, the day is held (`disputed`, `pending`) until staff
administration corrects it, and days without a dispute of their own badge read as before."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kinds.badge import travel
from kinds.badge.attendance_disputes import EVENT_REPEAT, MAX_MARGIN, SLACK, Dispute, dispute_margin, disputes_of, is_disputed
from kinds.badge.attendance_recap import RECAP_CSV_HEADER, RecapLine, monthly_recap, recap_csv
from kinds.badge.attendance_rules import Correction, DailyRecord, daily_record
from kinds.badge.config import CIVIL_SERVICE_SCHEDULE
from kinds.badge.edge.site import SECURITY_EVERY_S

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = date(2026, 3, 2)
HOURS = CIVIL_SERVICE_SCHEDULE.hours(MONDAY.weekday())  # 07:30-16:00
AFTER = datetime(2026, 4, 1, tzinfo=UTC)
#: Dishub and BKPSDM of one regency, about 6 km apart: 72 s at travel.MAX_KMH.
KM = 6.0


def at(hhmm: str, day: date = MONDAY, seconds: int = 0) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime.combine(day, time(h, m, seconds), tzinfo=WIB)


def record(stays=(), disputes=(), *, day: date = MONDAY, hours=HOURS, now: datetime = AFTER, **kw) -> DailyRecord:
    return daily_record(day, hours, holiday=kw.pop("holiday", False), tz=WIB, stays=list(stays), disputes=list(disputes), now=now, **kw)


def relay_at_dishub() -> list[Dispute]:
    """The gateway's two events when the owner shows up at BKPSDM at 07:05 while a relay has
    held the badge in at Dishub since 07:00: one at each office, each naming the other."""
    return disputes_of(at("07:05"), at("07:05"), KM) + disputes_of(at("07:05", seconds=2), at("07:04", seconds=58), KM)


def test_a_relay_that_started_first_earns_nothing_and_the_day_is_held() -> None:
    """The reviewer's day: relayed in at Dishub 07:00-07:05 (checked out when the owner showed up
    at BKPSDM), the owner in at BKPSDM once the dispute ended. Not on time from 07:00, not late
    from 07:06, not absent: pending, for staff administration to decide."""
    stays = [(at("07:00"), at("07:05")), (at("07:06", seconds=30), at("16:05"))]
    r = record(stays, relay_at_dishub())
    assert (r.status, r.disputed, r.first_in, r.last_out, r.worked_min) == ("pending", True, None, None, 0)
    assert (r.late_min, r.early_leave_min) == (0, 0)
    # The same stays without the events: the relay's 07:00 would be the day's first in.
    assert record(stays).first_in == at("07:00")


def test_stays_away_from_the_dispute_still_count_but_the_day_is_held() -> None:
    """In 07:20-11:00 (long before the dispute), in dispute at 12:00, back in at 12:11 (within the
    margin): the morning is measured; nothing is judged late or early, the day waits for a decision."""
    dispute = disputes_of(at("12:00"), at("12:00"), KM)
    r = record([(at("07:20"), at("11:00")), (at("11:58"), at("12:00")), (at("12:11"), at("16:05"))], dispute)
    assert (r.first_in, r.last_out, r.worked_min) == (at("07:20"), at("11:00"), 220)
    assert (r.status, r.disputed, r.late_min, r.early_leave_min) == ("pending", True, 0, 0)


def test_a_stay_is_held_within_the_margin_and_not_beyond() -> None:
    """The margin: travel time at the gateway's speed limit, its security-event interval and a minute."""
    margin = dispute_margin(KM)
    assert margin == timedelta(hours=KM / travel.MAX_KMH) + timedelta(seconds=SECURITY_EVERY_S) + timedelta(seconds=60)
    assert EVENT_REPEAT == timedelta(seconds=SECURITY_EVERY_S)  # the gateway's rate limit, not a copy that drifts
    dispute = [Dispute(at("07:05"), margin)]
    assert is_disputed(at("07:05") + margin, at("16:00"), dispute)  # starts at the margin's edge
    assert not is_disputed(at("07:05") + margin + timedelta(seconds=1), at("16:00"), dispute)
    assert is_disputed(at("06:00"), at("07:05") - margin, dispute)  # ends at it
    assert is_disputed(at("06:00"), at("16:00"), dispute)  # overlaps
    assert dispute_margin(60.0) - dispute_margin(0.0) == timedelta(minutes=12)  # farther offices, longer
    assert dispute_margin(None) == EVENT_REPEAT + SLACK
    assert dispute_margin(49_000.0) == MAX_MARGIN


def test_either_moment_of_an_event_holds_the_stay_around_it() -> None:
    """The centre's check stores one event per stay (`at` its own stay's start, `other_at` a
    moment of the other stay): the other stay is held through `other_at`."""
    event = disputes_of(at("10:00"), at("13:00"), 14.0)
    r = record([(at("07:25"), at("08:00")), (at("12:50"), at("13:10"))], event)
    assert (r.status, r.disputed, r.first_in, r.worked_min) == ("pending", True, at("07:25"), 35)


def test_a_dispute_with_no_stay_at_all_is_held_not_absent() -> None:
    """The gateway kept both sides from presence all morning, then neither came back."""
    r = record([], disputes_of(at("07:40"), at("07:40"), KM))
    assert (r.status, r.disputed, r.worked_min) == ("pending", True, 0)


def test_a_dispute_on_another_day_changes_nothing() -> None:
    tuesday = MONDAY + timedelta(days=1)
    r = record([(at("07:20"), at("16:05"))], disputes_of(at("07:20", tuesday), at("07:20", tuesday), KM))
    assert (r.status, r.disputed, r.first_in, r.worked_min) == ("present", False, at("07:20"), 8 * 60 + 45)


@pytest.mark.parametrize(("kw", "status"), [({"leave": "dinas_luar"}, "duty_travel"), ({"holiday": True}, "holiday"), ({"hours": None}, "day_off")])
def test_leave_holidays_and_days_off_decide_a_disputed_day_and_it_is_still_flagged(kw: dict, status: str) -> None:
    r = record([(at("07:00"), at("07:05"))], relay_at_dishub(), **kw)
    assert (r.status, r.disputed, r.worked_min) == (status, True, 0)


@pytest.mark.parametrize(
    ("correction", "expected"),
    [
        (Correction(reason="Hadir di BKPSDM sejak 07.05 (CCTV)", first_in=at("07:05"), last_out=at("16:05")), ("present", at("07:05"), 540)),
        (Correction(reason="Hadir (apel pagi)", status="present"), ("present", None, 0)),
        (Correction(reason="Tidak masuk; kartu dipinjamkan", status="absent"), ("absent", None, 0)),
        (Correction(reason="Masuk 08.10 (buku tamu)", first_in=at("08:10")), ("late", at("08:10"), 0)),
    ],
)
def test_a_correction_decides_the_day_and_clears_the_flag(correction: Correction, expected: tuple) -> None:
    stays = [(at("07:00"), at("07:05")), (at("07:06", seconds=30), at("16:05"))]
    r = record(stays, relay_at_dishub(), correction=correction)
    assert (r.status, r.first_in, r.worked_min) == expected
    assert (r.disputed, r.corrected) == (False, True)


def test_the_recap_counts_disputed_days_in_its_last_csv_column() -> None:
    days = [MONDAY + timedelta(days=n) for n in range(3)]
    records = [
        record([(at("07:00", days[0]), at("07:05", days[0]))], relay_at_dishub(), day=days[0]),
        record([(at("07:20", days[1]), at("16:05", days[1]))], day=days[1]),
        record([], disputes_of(at("09:00", days[2]), None, None), day=days[2]),
    ]
    recap = monthly_recap(records)
    assert (recap.working_days, recap.disputed_days, recap.pending, recap.on_time, recap.absent) == (3, 2, 2, 1, 0)
    assert RECAP_CSV_HEADER[-1] == "disputed_days"
    line = RecapLine(nip="198503302010011002", name="Ujang", office="bkpsdm", recap=recap)
    row = next(csv.DictReader(io.StringIO(recap_csv([line]))))
    assert (row["disputed_days"], row["pending"]) == ("2", "2")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: Dispute(datetime(2026, 3, 2, 7, 5), timedelta(minutes=1)), "timezone-aware"),
        (lambda: Dispute(at("07:05"), timedelta(days=2)), "margin"),
        (lambda: dispute_margin(-1.0), "distance_km"),
        (lambda: dispute_margin(float("nan")), "distance_km"),
        (lambda: record([], [at("07:05")]), "Dispute"),
        (lambda: record([], relay_at_dishub(), presence_kept=False), "no disputes"),
    ],
)
def test_bad_input_is_a_value_error(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()


@given(
    st.lists(st.tuples(st.integers(0, 1439), st.integers(0, 600)), max_size=5),
    st.lists(st.integers(-120, 1560), max_size=3),
)
def test_a_dispute_never_adds_attendance(stays: list[tuple[int, int]], moments: list[int]) -> None:
    """Whatever the stays and dispute moments (minutes from Monday's local midnight): disputes
    never add worked minutes nor move the first in earlier, and a disputed day is never absent."""
    midnight = at("00:00")
    pairs = [(midnight + timedelta(minutes=s), midnight + timedelta(minutes=min(s + length, 1440))) for s, length in stays]
    disputes = [Dispute(midnight + timedelta(minutes=m), dispute_margin(KM)) for m in moments]
    plain, held = record(pairs), record(pairs, disputes)
    assert held.worked_min <= plain.worked_min
    assert held.first_in is None or (plain.first_in is not None and held.first_in >= plain.first_in)
    if held.disputed:
        assert (held.status, held.late_min, held.early_leave_min) == ("pending", 0, 0)
    else:
        assert held == plain
