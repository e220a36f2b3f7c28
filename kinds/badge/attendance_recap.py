"""An employee's month from their daily records (`kinds.badge.attendance_rules.daily_record`):
the counts a performance allowance (TPP) is computed from, and its CSV export.

Pure, `ValueError` on bad input.

- Late arrival (TL, *terlambat*) and early leave (PSW, *pulang sebelum waktunya*) bands, counted
  per day: 1-30, 31-60, 61-90 and 91 minutes or more (TL1-TL4, PSW1-PSW4), each with its own
  deduction from the allowance. Source: Peraturan Menteri Pertanian No. 68 Tahun 2012 (a ministry's
  tunjangan kinerja), as published by the ministry at
  http://banten.litbang.pertanian.go.id/new/index.php/profil/kepegawaian/561-pengurangan-tunjangan-kinerja-setiap-bulan
  (0.5, 1, 1.5 and 2 % per occurrence there). Regencies' TPP regulations (Peraturan Bupati) use the
  same codes with percentages of their own, so the recap counts the bands and leaves the
  percentages to the allowance office of each regency.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date

from kinds.badge.attendance_rules import STATUSES, DailyRecord

BAND_UPPER_MIN: tuple[int, int, int] = (30, 60, 90)


def band(minutes: int) -> int:
    """The TL/PSW band (1-4) of `minutes` late or early, 0 for none."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise ValueError(f"minutes must be a whole number >= 0, not {minutes!r}")
    if minutes == 0:
        return 0
    return 1 + sum(minutes > upper for upper in BAND_UPPER_MIN)


@dataclass(frozen=True, slots=True)
class MonthlyRecap:
    """An employee's month: the counts a performance allowance is computed from.

    `working_days` are the days the employee was due (neither holiday nor day off), whatever
    became of them; `on_time` + `late` + `absent` + `leave` + `sick` + `duty_travel` + `pending`
    + `unavailable` make them. Hours count every day, holidays and days off included. `tl1`..`tl4`
    and `psw1`..`psw4` count the days in each late-arrival and early-leave band (module docstring).
    `unavailable` days (presence events deleted by retention) are neither absent nor present: an
    allowance must not be cut for them, nor paid on them unseen. `unclosed_days` count the days
    with a check-in and no check-out still uncorrected (no early leave judged on them yet);
    `disputed_days` the days held over a `two_offices` dispute, still uncorrected (counted
    `pending` when due, whatever their badge measured). The last three come last so that the
    CSV's earlier columns keep their places."""

    working_days: int
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
    unavailable: int
    unclosed_days: int
    disputed_days: int


def monthly_recap(records: Iterable[DailyRecord]) -> MonthlyRecap:
    """The recap of `records` (one per day, usually a calendar month's); `ValueError` on a day twice."""
    counts = dict.fromkeys(STATUSES, 0)
    seen: set[date] = set()
    worked = late_total = early_total = early_days = unclosed = disputed = 0
    tl = [0, 0, 0, 0, 0]
    psw = [0, 0, 0, 0, 0]
    for r in records:
        if not isinstance(r, DailyRecord):
            raise ValueError(f"not a daily record: {r!r}")
        if r.day in seen:
            raise ValueError(f"two records of {r.day.isoformat()}")
        seen.add(r.day)
        counts[r.status] += 1
        worked += r.worked_min
        late_total += r.late_min
        early_total += r.early_leave_min
        early_days += r.early_leave_min > 0
        unclosed += r.unclosed
        disputed += r.disputed
        tl[band(r.late_min)] += 1
        psw[band(r.early_leave_min)] += 1
    return MonthlyRecap(
        working_days=len(seen) - counts["holiday"] - counts["day_off"],
        on_time=counts["present"],
        late=counts["late"],
        absent=counts["absent"],
        leave=counts["leave"],
        sick=counts["sick"],
        duty_travel=counts["duty_travel"],
        pending=counts["pending"],
        worked_minutes=worked,
        worked_hours=round(worked / 60, 2),
        late_minutes_total=late_total,
        early_leave_days=early_days,
        early_leave_minutes_total=early_total,
        tl1=tl[1], tl2=tl[2], tl3=tl[3], tl4=tl[4],
        psw1=psw[1], psw2=psw[2], psw3=psw[3], psw4=psw[4],
        unavailable=counts["unavailable"],
        unclosed_days=unclosed,
        disputed_days=disputed,
    )


@dataclass(frozen=True, slots=True)
class RecapLine:
    """One employee's line of the monthly CSV."""

    nip: str
    name: str
    office: str
    recap: MonthlyRecap


_RECAP_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MonthlyRecap) if f.name != "worked_minutes")
RECAP_CSV_HEADER: tuple[str, ...] = ("nip", "name", "office", *_RECAP_FIELDS)


def _cell(text: str) -> str:
    """A text cell that a spreadsheet will not run: a leading =, +, -, @ (or tab, return) would
    make a name a formula (OWASP, CSV injection), so it gets a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def recap_csv_rows(lines: Iterable[RecapLine]) -> list[list[str]]:
    """The header and one row per employee, for `csv.writer` (`recap_csv` writes them). A NIP is
    the 18 digits of the civil servant's number (Nomor Induk Pegawai); anything else is a `ValueError`."""
    rows = [list(RECAP_CSV_HEADER)]
    for line in lines:
        if not (isinstance(line.nip, str) and len(line.nip) == 18 and line.nip.isascii() and line.nip.isdigit()):
            raise ValueError(f"a NIP is 18 digits, not {line.nip!r}")
        values = [getattr(line.recap, name) for name in _RECAP_FIELDS]
        rows.append([line.nip, _cell(line.name), _cell(line.office), *(f"{v:.2f}" if isinstance(v, float) else str(v) for v in values)])
    return rows


def recap_csv(lines: Iterable[RecapLine]) -> str:
    """The monthly recap as CSV text (comma-separated, CRLF line ends as RFC 4180 has them)."""
    out = io.StringIO()
    csv.writer(out).writerows(recap_csv_rows(lines))
    return out.getvalue()
