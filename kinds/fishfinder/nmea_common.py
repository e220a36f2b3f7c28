"""The usual shape of each sentence the fish-finder reads, matched whole: one regular expression
per sentence type in place of splitting the fields and checking them one by one.

Why: the decoder must keep up with Signal K's parser on the same lines (bench/nmea_parse.py),
and in CPython a line costs what the steps taken for it cost. A sentence in its usual shape
(plain unsigned decimals, status ``A``, each field where NMEA 0183 puts it) is read here in one
match, and its numbers by `float` alone, since the pattern already holds them to plain
decimals. Each function gives the sentence's values, or None for any other shape, which
`decoder.InstrumentDecoder` then reads field by field, with every check and its rejection reason.
The values and reasons are the same whichever way a line goes: what the two share (times,
dates, positions, range checks) is the same `nmea_fields` code called in the same order, and
tests/test_fishfinder_wire_paths.py holds them to the same outcome on every recorded, simulated
and generated line. An exception raised here is one the field-by-field reading raises too.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

from kinds.fishfinder.nmea_fields import KNOT_KMH, course, date_of, depth_m, time_of_day
from kinds.fishfinder.values import Fix

_NUMBER = r"(\d+(?:\.\d*)?)"  # a plain unsigned decimal: `float` reads it as `number` does
_SIGNED = r"([+-]?\d+(?:\.\d*)?)"
_FIELD = r"([^,]*)"  # a field the shared `nmea_fields` code checks
_SKIP = r"[^,]*"  # a field not read
_REST = r"(?:,.*)?"  # fields after the last one read, if any
_MINUTES = r"[0-5]\d(?:\.\d+)?"  # under 60
#: ddmm.mm,N|S,dddmm.mm,E|W within 89 and 179 degrees, so none of `nmea_fields.position`'s
#: checks can fail; one group, read by `_position`.
_POSITION = rf"([0-8]\d{_MINUTES},[NS],(?:0\d\d|1[0-7]\d){_MINUTES},[EW])"


def _sentence(*fields: str) -> re.Pattern[str]:
    return re.compile(",".join(fields))


#: time (hhmmss and a fraction), status A, position, knots, course, date (dd mm yy); magnetic
#: variation and its side, the mode (N: no fix), which need not be there.
_RMC = _sentence(r"(\d{6}(?:\.\d{1,6})?)", "A", _POSITION, _NUMBER + "?", _NUMBER + "?",
                 r"(\d\d)(\d\d)(\d\d)" + rf"(?:,{_SKIP}){{0,2}}(?:,{_FIELD}{_REST})?")
_GGA = _sentence(_FIELD, _POSITION, r"[1-9]\d{0,8}" + _REST)  # time, position, quality from 1
_GLL = _sentence(_POSITION, _FIELD, "A" + rf"(?:,{_FIELD}{_REST})?")  # position, time, status A, mode
#: course true, T, course magnetic, M, knots, N, km/h, K, mode (N: no fix; need not be there).
_VTG = _sentence(_NUMBER + "?", _SKIP, _SKIP, _SKIP, _NUMBER + "?", _SKIP, _NUMBER + "?" + rf"(?:,{_SKIP}(?:,{_FIELD}{_REST})?)?")
_ZDA = _sentence(_FIELD, r"(\d\d)", r"(\d\d)", r"(\d\d\d\d)" + _REST)  # time, day, month, year
#: feet, f, metres, M, fathoms, F: metres given, feet and fathoms plain decimals or empty.
_DBT = _sentence(_NUMBER + "?", _SKIP, _NUMBER, _SKIP, _NUMBER + "?" + _REST)
_DPT = _sentence(_NUMBER, _SIGNED + "?" + _REST)  # metres below the transducer, its offset
_MTW = _sentence(_SIGNED, "C?" + _REST)  # degrees C


def _float(text: str | None) -> float | None:
    return None if text is None else float(text)


@lru_cache(maxsize=8)  # a GNSS epoch's RMC, GGA and GLL repeat its position
def _position(text: str) -> tuple[float, float]:
    """Latitude and longitude of a `_POSITION`, as `nmea_fields.position` works them out, to the
    last bit."""
    lat, ns, lon, ew = text.split(",")
    lat_deg = int(lat[:2]) + float(lat[2:]) / 60
    lon_deg = int(lon[:3]) + float(lon[3:]) / 60
    return -lat_deg if ns == "S" else lat_deg, -lon_deg if ew == "W" else lon_deg


def rmc(fields: str) -> tuple[Fix, str] | None:
    """An RMC with a fix, and its time-of-day field."""
    m = _RMC.fullmatch(fields)
    if m is None or m[8] == "N":
        return None
    hms, position, knots, cog, day, month, yy, _ = m.groups()
    # The date and time as ISO 8601 (basic format, UTC), read in C: the same fields, checks and
    # microseconds as `datetime` of `ddmmyy` and `nmea_fields.time_of_day`, at a fifth the cost.
    try:
        ts = datetime.fromisoformat(f"{'19' if yy >= '80' else '20'}{yy}{month}{day}T{hms}Z")
    except ValueError:
        return None  # no such date or time: the plain road says which
    return Fix(ts, *_position(position), _float(knots), None if cog is None else course(float(cog))), hms


def gga(fields: str) -> tuple[str, float, float] | None:
    """A GGA with a fix: its time of day (unread) and position."""
    m = _GGA.fullmatch(fields)
    if m is None:
        return None
    hms, position = m.groups()
    return hms, *_position(position)


def gll(fields: str) -> tuple[str, float, float] | None:
    """A GLL with status A (NMEA 2.3 and later): its time of day (unread) and position."""
    m = _GLL.fullmatch(fields)
    if m is None or m[3] == "N":
        return None
    position, hms, _ = m.groups()
    return hms, *_position(position)


def vtg(fields: str) -> tuple[float | None, float | None] | None:
    """Speed over ground (knots, else from km/h) and course of a VTG that has a fix."""
    m = _VTG.fullmatch(fields)
    if m is None or m[4] == "N":
        return None
    cog, knots, kmh, _ = m.groups()
    sog = float(knots) if knots is not None else (None if kmh is None else float(kmh) / KNOT_KMH)
    return sog, None if cog is None else course(float(cog))


def zda(fields: str) -> tuple[datetime, str] | None:
    """The date and time of a ZDA, and its time-of-day field."""
    m = _ZDA.fullmatch(fields)
    if m is None:
        return None
    hms, day, month, year = m.groups()
    tod = time_of_day(hms)
    return datetime.combine(date_of(int(day), int(month), int(year)), tod), hms


def dbt(fields: str) -> tuple[float, None] | None:
    """Depth below the transducer in metres, given in metres (no offset)."""
    m = _DBT.fullmatch(fields)
    return None if m is None else (depth_m(float(m[2])), None)


def dpt(fields: str) -> tuple[float, float | None] | None:
    """Depth below the transducer and the transducer's offset, metres."""
    m = _DPT.fullmatch(fields)
    return None if m is None else (depth_m(float(m[1])), _float(m[2]))


def mtw(fields: str) -> float | None:
    m = _MTW.fullmatch(fields)
    return None if m is None else float(m[1])
