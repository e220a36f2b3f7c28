"""How NMEA 0183 sentences and fields are read and written: framing and checksum, numbers,
coordinates, times. Strict on purpose: Python's `float` takes "nan", "1e5" and "1_0", none of
which an instrument sends, so a field that is not a plain decimal is `malformed` rather than a
value no one measured.

Sentences are read as `pynmea2.parse(text, check=True)` reads them (pynmea2 declares the
sentence types), but for the common shapes without its per-line regex and character-by-character
checksum, which took half the decoder's time: `read_sentence` frames the line with one match,
folds the checksum in a few integer operations and takes the class pynmea2 would pick from
pynmea2's own registry; anything else goes through `pynmea2.parse`. A differential test
(tests/test_fishfinder_wire_paths.py) holds both roads to the same result on every recorded,
simulated and generated line.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone
from functools import lru_cache

import pynmea2

from gateway.errors import FrameRejected

_UTC = timezone.utc
KNOT_KMH = 1.852  # km/h per knot (international nautical mile, 1,852 m)
FOOT_M, FATHOM_M = 0.3048, 1.8288
_DECIMAL_CHARS = "0123456789.+-"
_UINT = re.compile(r"\d{1,10}\Z")
_TIME = re.compile(r"(\d\d)(\d\d)(\d\d)(?:\.(\d{1,6}))?\Z")
_DDMMYY = re.compile(r"(\d\d)(\d\d)(\d\d)\Z")
_LAT = re.compile(r"(\d{1,2})(\d\d(?:\.\d+)?)\Z")
_LON = re.compile(r"(\d{1,3})(\d\d(?:\.\d+)?)\Z")


def bad(detail: str) -> FrameRejected:
    return FrameRejected("malformed", detail)


# -- sentences -----------------------------------------------------------------------------

MAX_SENTENCE_BYTES = 82  # NMEA 0183, from "$" to CR LF inclusive
_PRINTABLE = bytes(range(0x20, 0x7F))
#: The common case of `_refused`'s checks in one match: "$" or "!", printable characters but
#: "$", "!" and "*", then "*hh"; at most 80 bytes in all.
_WELL_FRAMED = re.compile(rb"[$!][ \x22\x23\x25-\x29\x2b-\x7e]{0,76}\*[0-9A-F]{2}")
HEX_BYTE = {f"{i:02X}".encode(): i for i in range(256)}  # a checksum's two upper-case hex digits, read
_Sentence = tuple[type, str, str]  # the class family, sentence type or maker, fields text
#: The usual shape of a talker sentence, for a reader that has no time for `read_sentence`: "$",
#: a talker (two upper-case letters or digits, not starting with P, which would be proprietary),
#: an upper-case type not ending in Q (a query), ",", fields (printable but "$", "!" and "*"),
#: "*hh": at most 80 bytes, as `_WELL_FRAMED`; then CR LF or not. Groups: what the checksum
#: covers, the type, the fields and the stated checksum. A line it matches whose checksum is
#: right is what `read_sentence` reads as a sentence of that type (when in `TALKER_TYPES`)
#: with those fields; any other line is left to `read_sentence`.
TALKER_LINE = re.compile(rb"\$((?:[A-OQ-Z0-9][A-Z0-9])([A-Z]{2}[A-PR-Z]),([ \x22\x23\x25-\x29\x2b-\x7e]{0,70}))\*([0-9A-F]{2})[\r\n]*")


class Encapsulated:
    """The family of ``!`` sentences (AIS ``!AIVDM``), which pynmea2 does not parse: their
    checksum is checked, their sentence type read, the rest left alone."""


def read_sentence(line: bytes) -> _Sentence | None:
    """One line as read from a port, with or without CR LF, as `pynmea2.parse(text, check=True)`
    reads it, but with the fields left as text, to be split only where they are read; None for
    a blank line. Raises `FrameRejected` for what is no single sentence with a right checksum."""
    raw = line.rstrip(b"\r\n")
    if not _WELL_FRAMED.fullmatch(raw):
        return _refused(raw)
    stated = HEX_BYTE[raw[-2:]]
    if raw[0] == 0x21:  # "!"
        if checksum(raw[1:-3]) != stated:
            raise FrameRejected("checksum", "checksum does not match")
        return Encapsulated, raw[3:6].decode("ascii") if raw[6:7] == b"," else "", raw[7:-3].decode("ascii")
    head = raw[1:7]
    address = _ADDRESSES.get(head, _ADDRESSES)
    if address is _ADDRESSES:
        address = _address(head.decode("ascii"))
        if len(_ADDRESSES) < _MAX_ADDRESSES:
            _ADDRESSES[head] = address
    if address is None:
        return _parsed(raw.decode("ascii"))
    family, name, start = address
    computed = checksum(raw[1:-3])
    if computed != stated:
        raise FrameRejected("checksum", f"checksum does not match: {stated:02X} != {computed:02X}")
    if family is None:
        raise FrameRejected("unknown", f"Unknown sentence type {name}")
    fields = raw[start:-3].decode("ascii")
    if family is pynmea2.ProprietarySentence:
        cls = pynmea2.ProprietarySentence.sentence_types.get(name, pynmea2.ProprietarySentence)
        if name not in _BUILT_WITHOUT_FAIL and not _plain(cls, pynmea2.ProprietarySentence):
            _construct(cls, name, fields.split(","))
    return family, name, fields


def _refused(raw: bytes) -> None:
    """Why a line `_WELL_FRAMED` does not match is no sentence (None: it is blank)."""
    if not raw:
        return None
    if len(raw) > MAX_SENTENCE_BYTES - 2:
        raise FrameRejected("too_large", f"{len(raw) + 2} bytes exceeds the NMEA limit of {MAX_SENTENCE_BYTES}")
    if raw.translate(None, _PRINTABLE):
        raise FrameRejected("non_ascii", "bytes outside printable ASCII (noise, or a wrong baud rate)")
    text = raw.decode("ascii")
    if text[0] != "$" and text[0] != "!":
        raise bad("does not start with $ or !")
    star = text.find("*")
    if star < 0:
        raise FrameRejected("no_checksum", "sentence has no *hh checksum")
    if star != len(text) - 3 or "$" in text[1:] or "!" in text[1:]:
        raise bad("checksum not at the end, or two sentences run together")
    raise FrameRejected("checksum", f"checksum {text[star + 1:]!r} is not two upper-case hex digits")


def checksum(body: bytes) -> int:
    """The XOR of the bytes between ``$``/``!`` and ``*`` (NMEA 0183's checksum) of a framed
    sentence (at most 76 bytes; the folds cover 128). Reads them as one integer and folds it in
    halves down to a byte: a few integer operations instead of one Python step per byte (twice
    as fast as `functools.reduce` with `operator.xor` on a GGA, and faster than tables of byte
    pairs or XOR over 8-byte words), and only the folds its length needs."""
    x = int.from_bytes(body, "little")
    n = len(body)
    if n > 16:
        if n > 32:
            if n > 64:
                x ^= x >> 512
            x ^= x >> 256
        x ^= x >> 128
    x ^= x >> 64
    x ^= x >> 32
    x ^= x >> 16
    x ^= x >> 8
    return x & 0xFF


def _plain(cls: type, family: type) -> bool:
    """A class whose construction only stores the fields (so cannot fail or reshape them)."""
    return cls.__init__ is family.__init__ and cls.__new__ is object.__new__


#: Makers whose pynmea2 class builds from any fields without fail, so is not built: Garmin's
#: GRM picks its subclass by the first field, which a split always gives, and stores the
#: fields (pynmea2/types/proprietary/grm.py). A Garmin receiver sends three a second.
_BUILT_WITHOUT_FAIL = frozenset({"GRM"})
_PLAIN_TALKER = frozenset(
    name for name, cls in pynmea2.TalkerSentence.sentence_types.items() if _plain(cls, pynmea2.TalkerSentence))
#: The talker sentence types pynmea2 knows (and reads without ever failing), as `TALKER_LINE`
#: gives them: what `read_sentence` reads as a `pynmea2.TalkerSentence` of that type.
TALKER_TYPES = frozenset(name.encode("ascii") for name in _PLAIN_TALKER)
_WORD = re.compile(r"\w+\Z")


_ADDRESSES: dict[bytes, tuple[type | None, str, int] | None] = {}  # `_address` of each head seen
_MAX_ADDRESSES = 4096  # noise could make up heads without end: beyond this, worked out each time


def _address(head: str) -> tuple[type | None, str, int] | None:
    """What `pynmea2.parse` makes of a sentence starting ``$`` + `head` (its next 6 characters),
    in the order its regex tries: ``P`` and three word characters is proprietary (even
    ``$PGRME``); two, then three, word characters and a comma a talker sentence, unless the
    type ends in Q (perhaps a query). Gives the class family (None: a talker sentence of a type
    pynmea2 does not know), the upper-cased sentence type or maker, and where the fields start;
    None for anything else, which is left to `pynmea2.parse`."""
    if len(head) >= 4 and head[0] in ("P", "p") and _WORD.match(head[1:4]):
        return pynmea2.ProprietarySentence, head[1:4].upper(), 5
    if len(head) == 6 and head[5] == "," and _WORD.match(head[:5]) and head[4] not in ("Q", "q"):
        name = head[2:5].upper()
        if name in _PLAIN_TALKER:
            return pynmea2.TalkerSentence, name, 7
        if name not in pynmea2.TalkerSentence.sentence_types:
            return None, head.upper(), 7
    return None


def _construct(cls: type, name: str, data: list[str]) -> None:
    """A maker's class (Garmin's GRM, ...) picks its subclass from the fields, as in
    `pynmea2.parse`; some index fields a short sentence lacks (``$PASH*hh``: IndexError)."""
    try:
        cls(name, data)
    except (ValueError, IndexError) as exc:
        raise bad(message(exc)) from exc


def _parsed(text: str) -> _Sentence:
    """The uncommon shapes (queries, lower-case or unknown types, malformed addresses)."""
    try:
        msg = pynmea2.parse(text, check=True)
    except pynmea2.ChecksumError as exc:
        raise FrameRejected("checksum", message(exc)) from exc
    except pynmea2.SentenceTypeError as exc:
        raise FrameRejected("unknown", message(exc)) from exc
    except (ValueError, IndexError) as exc:  # pynmea2.ParseError and anything its classes raise
        raise bad(message(exc)) from exc
    if isinstance(msg, pynmea2.TalkerSentence):
        return pynmea2.TalkerSentence, msg.sentence_type, ",".join(msg.data)
    if isinstance(msg, pynmea2.ProprietarySentence):
        return pynmea2.ProprietarySentence, msg.manufacturer, ",".join(msg.data)
    return type(msg), "", ""


def number(text: str) -> float | None:
    """A decimal field; empty is None. No exponents, NaN or infinities (float() takes those):
    what `float` reads from digits, signs and points alone is exactly a plain decimal."""
    if not text:
        return None
    try:
        value: float | None = float(text)
    except ValueError:
        value = None
    if value is None or text.strip(_DECIMAL_CHARS):
        raise bad(f"not a decimal number: {text[:20]!r}")
    return value


def uint(text: str, name: str) -> int:
    if not _UINT.match(text):
        raise bad(f"{name} is not an unsigned integer: {text[:20]!r}")
    return int(text)


def _angle(text: str, hemi: str, pattern: re.Pattern[str], limit: int, signs: str) -> float:
    match = pattern.match(text)
    if not match or hemi not in signs:
        raise bad(f"bad coordinate {text[:20]!r},{hemi[:2]!r}")
    degrees, minutes_text = match.groups()
    minutes = float(minutes_text)
    value = int(degrees) + minutes / 60
    if minutes >= 60 or value > limit:
        raise bad(f"coordinate {text!r} out of range")
    return -value if hemi == signs[1] else value


def position(d: list[str], i: int) -> tuple[float, float]:
    """Latitude and longitude from the four fields at `d[i:i+4]`."""
    return lat_lon(d[i], d[i + 1], d[i + 2], d[i + 3])


@lru_cache(maxsize=16)  # a GNSS receiver's RMC, GGA and GLL of one epoch repeat its position
def lat_lon(lat: str, ns: str, lon: str, ew: str) -> tuple[float, float]:
    return _angle(lat, ns, _LAT, 90, "NS"), _angle(lon, ew, _LON, 180, "EW")


@lru_cache(maxsize=16)  # the sentences of one GNSS epoch (RMC, GGA, GLL, ZDA) repeat its time
def time_of_day(text: str) -> time:
    match = _TIME.match(text)
    if not match:
        raise bad(f"bad time {text[:20]!r}")
    h, m, s, frac = match.groups()
    try:
        return time(int(h), int(m), int(s), int(frac.ljust(6, "0")) if frac else 0, _UTC)
    except ValueError as exc:
        raise bad(f"bad time {text!r}") from exc


def date_of(day: int, month: int, year: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise bad(f"bad date {year}-{month}-{day}") from exc


@lru_cache(maxsize=4)  # a day's RMC sentences repeat its date
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
