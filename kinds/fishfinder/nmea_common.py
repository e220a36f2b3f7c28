"""The usual shape of each sentence the fish-finder reads, matched whole: one regular expression
per sentence type in place of splitting the fields and checking them one by one.

Why: the decoder must keep up with Signal K's parser on the same lines (bench/nmea_parse.py),
and in CPython a line costs what the steps taken for it cost. A sentence in its usual shape
(plain unsigned decimals, status ``A``, each field where NMEA 0183 puts it) is read here in one
match, and its numbers by `float` alone, since the pattern already holds them to plain
decimals, and the line's frame in the same match (`LINES`). Each reading gives the sentence's
values, or None for any other shape, which `decoder.InstrumentDecoder` then reads field by
field, with every check and its rejection reason.
The values and reasons are the same whichever way a line goes: what the two share (times,
dates, positions, range checks) is the same `nmea_fields` code called in the same order, and
tests/test_fishfinder_wire_paths.py holds them to the same outcome on every recorded, simulated
and generated line. An exception raised here is one the field-by-field reading raises too.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache, partial
from typing import Any, Callable

from kinds.fishfinder.nmea_fields import KNOT_KMH, course, date_of, depth_m, time_of_day
from kinds.fishfinder.values import Fix

_NUMBER = r"(\d+(?:\.\d*)?)"  # a plain unsigned decimal: `float` reads it as `number` does
_SIGNED = r"([+-]?\d+(?:\.\d*)?)"
#: A field's characters, as `TALKER_LINE` allows them (printable but "$", "!", "*"), but ",":
#: on the fields `TALKER_LINE` gives the same as "[^,]", and it keeps a whole-line pattern
#: (`LINES`) within the same frame.
_CHAR = r"[ \x22\x23\x25-\x29\x2b\x2d-\x7e]"
_FIELD = rf"({_CHAR}*)"  # a field the shared `nmea_fields` code checks
_SKIP = rf"{_CHAR}*"  # a field not read
_REST = rf"(?:,[,{_CHAR[1:-1]}]*)?"  # fields after the last one read, if any
_MINUTES = r"[0-5]\d(?:\.\d+)?"  # under 60
#: ddmm.mm,N|S,dddmm.mm,E|W within 89 and 179 degrees, so none of `nmea_fields.position`'s
#: checks can fail; one group, read by `_position`.
_POSITION = rf"([0-8]\d{_MINUTES},[NS],(?:0\d\d|1[0-7]\d){_MINUTES},[EW])"


def _sentence(*fields: str) -> re.Pattern[str]:
    return re.compile(",".join(fields), re.ASCII)


def _line(sentence_type: str, fields: re.Pattern[str]) -> re.Pattern[str]:
    """A whole talker line of `sentence_type` whose fields are in their usual shape, as
    `TALKER_LINE` frames it: the fields' groups numbered as in `fields`, then the stated
    checksum (group ``stated``). The 70-character bound on the fields is the caller's."""
    return re.compile(rf"\$[A-OQ-Z0-9][A-Z0-9]{sentence_type},(?:{fields.pattern})\*(?P<stated>[0-9A-F]{{2}})[\r\n]*",
                      re.ASCII)


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


def _rmc(m: re.Match[str]) -> tuple[Fix, str] | None:
    """An RMC with a fix, and its time-of-day field."""
    if m[8] == "N":
        return None
    hms, position, knots, cog, day, month, yy = m.group(1, 2, 3, 4, 5, 6, 7)
    # The date and time as ISO 8601 (basic format, UTC), read in C: the same fields, checks and
    # microseconds as `datetime` of `ddmmyy` and `nmea_fields.time_of_day`, at a fifth the cost.
    try:
        ts = datetime.fromisoformat(f"{'19' if yy >= '80' else '20'}{yy}{month}{day}T{hms}Z")
    except ValueError:
        return None  # no such date or time: the plain road says which
    return Fix(ts, *_position(position), _float(knots), None if cog is None else course(float(cog))), hms


def _gga(m: re.Match[str]) -> tuple[str, float, float]:
    """A GGA with a fix: its time of day (unread) and position."""
    return m[1], *_position(m[2])


def _gll(m: re.Match[str]) -> tuple[str, float, float] | None:
    """A GLL with status A (NMEA 2.3 and later): its time of day (unread) and position."""
    if m[3] == "N":
        return None
    return m[2], *_position(m[1])


def _vtg(m: re.Match[str]) -> tuple[float | None, float | None] | None:
    """Speed over ground (knots, else from km/h) and course of a VTG that has a fix."""
    if m[4] == "N":
        return None
    cog, knots, kmh = m.group(1, 2, 3)
    sog = float(knots) if knots is not None else (None if kmh is None else float(kmh) / KNOT_KMH)
    return sog, None if cog is None else course(float(cog))


def _zda(m: re.Match[str]) -> tuple[datetime, str]:
    """The date and time of a ZDA, and its time-of-day field."""
    hms, day, month, year = m.group(1, 2, 3, 4)
    tod = time_of_day(hms)
    return datetime.combine(date_of(int(day), int(month), int(year)), tod), hms


def _dbt(m: re.Match[str]) -> tuple[float, None]:
    """Depth below the transducer in metres, given in metres (no offset)."""
    return depth_m(float(m[2])), None


def _dpt(m: re.Match[str]) -> tuple[float, float | None]:
    """Depth below the transducer and the transducer's offset, metres."""
    return depth_m(float(m[1])), _float(m[2])


def _mtw(m: re.Match[str]) -> float:
    return float(m[1])


_Reader = Callable[[re.Match[str]], Any]
_READERS: tuple[tuple[str, re.Pattern[str], _Reader], ...] = (
    ("RMC", _RMC, _rmc), ("GGA", _GGA, _gga), ("GLL", _GLL, _gll), ("VTG", _VTG, _vtg),
    ("ZDA", _ZDA, _zda), ("DBT", _DBT, _dbt), ("DPT", _DPT, _dpt), ("MTW", _MTW, _mtw),
)
#: Each sentence type's whole line in its usual shape (`_line`), and the reading of its match
#: (None: not the usual values after all, such as a fix-less mode or a date that does not exist).
#: Why a whole line: framing with `TALKER_LINE` and then matching the fields again cost two
#: matches, a decode and the groups' tuple on every GNSS and sounder line (bench/nmea_parse.py).
LINES: dict[bytes, tuple[re.Pattern[str], _Reader]] = {
    name.encode("ascii"): (_line(name, pattern), read) for name, pattern, read in _READERS}


def fields_reading(sentence_type: str, fields: str) -> Any:
    """The reading of a sentence's fields (as `TALKER_LINE` gives them) in their usual shape;
    None for any other shape."""
    _, pattern, read = next(r for r in _READERS if r[0] == sentence_type)
    m = pattern.fullmatch(fields)
    return None if m is None else read(m)


#: `fields_reading` of each sentence type, by its name.
rmc, gga, gll, vtg, zda, dbt, dpt, mtw = (partial(fields_reading, name) for name, _, _ in _READERS)
