"""How NMEA 0183 fields are read and written: numbers, coordinates, times. Strict on purpose:
Python's `float` takes "nan", "1e5" and "1_0", none of which an instrument sends, so a field that
is not a plain decimal is `malformed` rather than a value no one measured."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from gateway.errors import FrameRejected

_UTC = timezone.utc
_DECIMAL = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)\Z")
_UINT = re.compile(r"\d{1,10}\Z")
_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)(?:\.(\d{1,6}))?\Z")
_DDMMYY = re.compile(r"(\d\d)(\d\d)(\d\d)\Z")
_LAT = re.compile(r"(\d{1,2})(\d\d(?:\.\d+)?)\Z")
_LON = re.compile(r"(\d{1,3})(\d\d(?:\.\d+)?)\Z")


def bad(detail: str) -> FrameRejected:
    return FrameRejected("malformed", detail)


def number(text: str) -> float | None:
    """A decimal field; empty is None. No exponents, NaN or infinities (float() takes those)."""
    if not text:
        return None
    if not _DECIMAL.match(text):
        raise bad(f"not a decimal number: {text[:20]!r}")
    return float(text)


def uint(text: str, name: str) -> int:
    if not _UINT.match(text):
        raise bad(f"{name} is not an unsigned integer: {text[:20]!r}")
    return int(text)


def _angle(text: str, hemi: str, pattern: re.Pattern[str], limit: int, signs: str) -> float:
    match = pattern.match(text)
    if not match or hemi not in signs:
        raise bad(f"bad coordinate {text[:20]!r},{hemi[:2]!r}")
    minutes = float(match.group(2))
    value = int(match.group(1)) + minutes / 60
    if minutes >= 60 or value > limit:
        raise bad(f"coordinate {text!r} out of range")
    return -value if hemi == signs[1] else value


def position(d: list[str], i: int) -> tuple[float, float]:
    """Latitude and longitude from the four fields at `d[i:i+4]`."""
    return _angle(d[i], d[i + 1], _LAT, 90, "NS"), _angle(d[i + 2], d[i + 3], _LON, 180, "EW")


def time_of_day(text: str) -> time:
    match = _TIME.match(text)
    if not match:
        raise bad(f"bad time {text[:20]!r}")
    h, m, s, frac = match.groups()
    try:
        return time(int(h), int(m), int(s), int((frac or "0").ljust(6, "0")), tzinfo=_UTC)
    except ValueError as exc:
        raise bad(f"bad time {text!r}") from exc


def date_of(day: int, month: int, year: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise bad(f"bad date {year}-{month}-{day}") from exc


def ddmmyy(text: str) -> date:
    """RMC's date; two-digit years from 80 are 19xx (NMEA 0183 predates 2000)."""
    match = _DDMMYY.match(text)
    if not match:
        raise bad(f"bad date {text[:10]!r}")
    yy = int(match.group(3))
    return date_of(int(match.group(1)), int(match.group(2)), (1900 if yy >= 80 else 2000) + yy)


def fmt_angle(value: float, degree_digits: int, signs: str) -> tuple[str, str]:
    """ddmm.mmmm (or dddmm.mmmm): minutes to 1e-4 (0.19 m), carried exactly in integers."""
    ten_thousandths = round(abs(value) * 600000)
    degrees, rest = divmod(ten_thousandths, 600000)
    minutes, frac = divmod(rest, 10000)
    return f"{degrees:0{degree_digits}d}{minutes:02d}.{frac:04d}", signs[value < 0]


def fmt_time(ts: datetime) -> str:
    ts = ts.astimezone(_UTC)
    return f"{ts:%H%M%S}.{ts.microsecond // 10000:02d}"


def fmt(value: float | None, decimals: int) -> str:
    return "" if value is None else f"{value:.{decimals}f}"


def message(exc: Exception) -> str:
    """pynmea2's errors carry (message, data) as their one argument."""
    arg = exc.args[0] if exc.args else exc
    return str(arg[0] if isinstance(arg, tuple) and arg else arg)[:80]


def speed(knots: float | None) -> float | None:
    if knots is not None and knots < 0:
        raise bad(f"negative speed {knots}")
    return knots


def course(deg: float | None) -> float | None:
    if deg is not None and not 0 <= deg <= 360:
        raise bad(f"course {deg} outside 0-360")
    return deg


def depth_m(metres: float | None) -> float:
    if metres is None or metres == 0:
        raise FrameRejected("no_fix", "sounder reports no bottom")
    if metres < 0:
        raise bad(f"negative depth {metres}")
    return metres
