"""The AWLR wire format, declared once: the simulator encodes with it, the gateway decodes.

Serial: an NMEA 0183 proprietary sentence (manufacturer code ``TAW``, sentence ``L``)::

    $PTAWL,<station>,<seq>,<utc YYYYMMDDThhmmssZ>,<level_cm>,<battery_v>*hh\\r\\n

MQTT: a JSON object with the same field names, one topic per device.

The decoders are pure: bytes in, `AwlrFrame` out, or `FrameRejected` with a counted reason.
They are strict, so that no reading is taken for another: integers only as integers (not
`1.5`, `"7"` or `true`), numbers only as numbers, finite and within their declared span
(`out_of_range`), each JSON key once (`duplicate_key`); a wrong type is `wrong_type`.
Checks that need configuration (known station, sensor span, clock skew) happen in
`kinds.awlr.edge.kind`, not here.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from pydantic_core import from_json

from gateway.errors import FrameRejected
from gateway.strict_json import strict_json

MANUFACTURER = "TAW"
SENTENCE = "L"
PREFIX = b"$P" + MANUFACTURER.encode() + SENTENCE.encode() + b","
MAX_SENTENCE_BYTES = 82  # NMEA 0183 limit, including "$" and CR LF
MAX_JSON_BYTES = 1024
_TS_FORMAT = "%Y%m%dT%H%M%SZ"
_STATION_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@dataclass(frozen=True, slots=True)
class AwlrFrame:
    """What one AWLR frame says, before the gateway checks it against the configuration."""

    station: str
    seq: int
    ts: datetime
    level_cm: float
    battery_v: float


#: Sequence numbers the outbox can hold (SQLite's INTEGER: signed 64-bit).
SEQ_SPAN = (0, 2**63 - 1)
#: Battery voltages a frame may report. AWLR stations run on 12 V or 24 V lead-acid batteries,
#: whose charging voltage stays at or below 2.45 V per cell (Battery University, BU-403
#: "Charging Lead Acid"): 29.4 V for a 24 V bank of 12 cells. Anything outside is a broken
#: sensor or a forged frame, never a reading.
BATTERY_SPAN_V = (0.0, 30.0)
#: NMEA 0183 numeric fields: optional minus, digits, optional decimals (no exponent, no nan).
_INT_TEXT = re.compile(r"-?[0-9]+\Z")
_DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?\Z")


def _station(text: Any) -> str:
    if not isinstance(text, str):
        raise FrameRejected("wrong_type", f"station must be a JSON string, got {type(text).__name__}")
    if not _STATION_RE.match(text):
        raise ValueError(f"bad station id {text!r}")
    return text


def _in_span(name: str, value: float, span: tuple[float, float]) -> float:
    """`value` if finite and within `span`; compares integers exactly, never converting them."""
    if not span[0] <= value <= span[1] or abs(value) == math.inf:  # NaN fails the comparison
        raise FrameRejected("out_of_range", f"{name} {value!r} outside [{span[0]}, {span[1]}]")
    return value


def _seq_text(text: str) -> int:
    if not _INT_TEXT.match(text):
        raise FrameRejected("wrong_type", f"seq must be an integer, got {text[:20]!r}")
    return int(_in_span("seq", int(text), SEQ_SPAN))


def _seq_json(value: Any) -> int:
    if type(value) is not int:  # bool is an int subclass; 1.5 and "7" are not integers
        raise FrameRejected("wrong_type", f"seq must be a JSON integer, got {type(value).__name__}")
    return int(_in_span("seq", value, SEQ_SPAN))


def _number_text(name: str, span: tuple[float, float]) -> Callable[[str], float]:
    def decode(text: str) -> float:
        if not _DECIMAL_TEXT.match(text):
            raise FrameRejected("wrong_type", f"{name} must be a decimal number, got {text[:20]!r}")
        return _in_span(name, float(text), span)

    return decode


def _number_json(name: str, span: tuple[float, float]) -> Callable[[Any], float]:
    def decode(value: Any) -> float:
        kind = type(value)
        if kind is not float and kind is not int:  # not bool, not a number written as text
            raise FrameRejected("wrong_type", f"{name} must be a JSON number, got {kind.__name__}")
        try:
            number = float(value)
        except OverflowError:  # an integer too large for a float
            raise FrameRejected("out_of_range", f"{name} is beyond a float's range") from None
        return _in_span(name, number, span)

    return decode


_ANY = (-math.inf, math.inf)  # finite is all the wire format knows; the station's span is configuration
_level_text, _level_json = _number_text("level_cm", _ANY), _number_json("level_cm", _ANY)
_battery_text, _battery_json = _number_text("battery_v", BATTERY_SPAN_V), _number_json("battery_v", BATTERY_SPAN_V)


def _parse_ts(text: Any) -> datetime:
    if not isinstance(text, str):
        raise FrameRejected("wrong_type", f"ts must be a JSON string, got {type(text).__name__}")
    if text.endswith("Z") and "T" in text and "-" not in text:
        return datetime.strptime(text, _TS_FORMAT).replace(tzinfo=timezone.utc)
    ts = datetime.fromisoformat(text)
    if ts.tzinfo is None:
        raise ValueError("timestamp has no time-zone offset")
    return ts.astimezone(timezone.utc)


def _fmt_ts(ts: datetime) -> str:
    return ts.astimezone(timezone.utc).strftime(_TS_FORMAT)


@dataclass(frozen=True, slots=True)
class WireField:
    """One field: how it is written and read on the serial line (text) and in JSON (a value).

    The readers raise `FrameRejected` with the reason (`wrong_type`, `out_of_range`), or
    `ValueError` for any other bad value (`malformed`)."""

    name: str
    to_text: Callable[[Any], str]
    from_text: Callable[[str], Any]
    to_json: Callable[[Any], Any]
    from_json: Callable[[Any], Any]


FIELDS: tuple[WireField, ...] = (
    WireField("station", str, _station, str, _station),
    WireField("seq", str, _seq_text, int, _seq_json),
    WireField(
        "ts", _fmt_ts, _parse_ts, lambda t: t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"), _parse_ts
    ),
    WireField("level_cm", lambda v: f"{v:.1f}", _level_text, lambda v: round(float(v), 1), _level_json),
    WireField("battery_v", lambda v: f"{v:.2f}", _battery_text, lambda v: round(float(v), 2), _battery_json),
)


def encode_sentence(frame: AwlrFrame) -> bytes:
    import pynmea2  # serial only: an MQTT-only gateway never pays for it (~0.5 MB)

    data = [SENTENCE] + [f.to_text(getattr(frame, f.name)) for f in FIELDS]
    return (str(pynmea2.ProprietarySentence(MANUFACTURER, data)) + "\r\n").encode("ascii")


def decode_sentence(line: bytes) -> AwlrFrame:
    """Decode one line (with or without CR LF) of the serial stream."""
    if len(line) > MAX_SENTENCE_BYTES:
        raise FrameRejected("too_large", f"{len(line)} bytes exceeds the NMEA limit of {MAX_SENTENCE_BYTES}")
    try:
        text = line.decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise FrameRejected("garbage", "non-ASCII bytes in sentence") from exc
    if not text.startswith(PREFIX.decode()):
        raise FrameRejected("garbage", f"not a $P{MANUFACTURER}{SENTENCE} sentence")
    if "*" not in text:
        raise FrameRejected("truncated", "sentence has no checksum")
    import pynmea2  # serial only, see encode_sentence; cached in sys.modules after the first line

    try:
        msg = pynmea2.parse(text, check=True)
    except pynmea2.ChecksumError as exc:
        raise FrameRejected("checksum", _first_arg(exc)) from exc
    except pynmea2.ParseError as exc:
        raise FrameRejected("malformed", _first_arg(exc)) from exc
    data = list(getattr(msg, "data", []))
    if len(data) != len(FIELDS) + 1 or data[0] != SENTENCE:
        raise FrameRejected("truncated" if len(data) < len(FIELDS) + 1 else "malformed",
                            f"expected {len(FIELDS)} fields, got {len(data) - 1}")
    return _build({f.name: raw for f, raw in zip(FIELDS, data[1:])}, text=True)


def encode_json(frame: AwlrFrame) -> bytes:
    return json.dumps({f.name: f.to_json(getattr(frame, f.name)) for f in FIELDS}, separators=(",", ":")).encode()


_JSON_NAMES = frozenset(f.name for f in FIELDS)


#: Quote characters in a frame whose keys are the five names and whose station and ts are
#: strings: two per key and two per string value, if no string holds a quote and nothing else
#: is a string. A key given twice is one string more, so with this count, and those keys and
#: string values, the parsed object saw every key once.
_PLAIN_QUOTES = 2 * (len(FIELDS) + 2)


def decode_json(payload: bytes) -> AwlrFrame:
    """Decode one MQTT payload: a JSON object with each field once, integers written as
    integers, numbers as numbers (finite, within their span)."""
    if len(payload) > MAX_JSON_BYTES:
        raise FrameRejected("too_large", f"{len(payload)} bytes exceeds {MAX_JSON_BYTES}")
    try:
        obj = from_json(payload)  # pydantic-core's parser: several times faster than json.loads
    except ValueError as exc:
        raise FrameRejected("not_json", str(exc)) from exc
    if (
        type(obj) is dict and obj.keys() == _JSON_NAMES and payload.count(b'"') == _PLAIN_QUOTES
        and type(obj["station"]) is str and type(obj["ts"]) is str
    ):
        return _plain(obj) or _build(obj, text=False)
    obj = strict_json(payload)  # pydantic-core keeps the last of duplicate keys without a word
    if not isinstance(obj, dict):
        raise FrameRejected("malformed", "payload is not a JSON object")
    missing = _JSON_NAMES - obj.keys()
    if missing:
        raise FrameRejected("truncated", f"missing fields {sorted(missing)}")
    extra = obj.keys() - _JSON_NAMES
    if extra:
        raise FrameRejected("malformed", f"unknown fields {sorted(extra)[:5]}")
    return _build(obj, text=False)


def _plain(obj: dict[str, Any]) -> AwlrFrame | None:
    """The frame every well-behaved device sends (native JSON types, valid values), decoded
    without the per-field conversions of `_build`; None for anything else (integers for
    levels included), which `_build` then decodes or rejects with its reason. Where both
    accept, the result is the same. The caller has checked that station and ts are strings."""
    station, seq, ts, level, battery = obj["station"], obj["seq"], obj["ts"], obj["level_cm"], obj["battery_v"]
    lo_v, hi_v = BATTERY_SPAN_V
    if not (
        type(seq) is int and type(level) is float and type(battery) is float
        and SEQ_SPAN[0] <= seq <= SEQ_SPAN[1] and math.isfinite(level) and lo_v <= battery <= hi_v
        and _STATION_RE.match(station)
    ):
        return None
    try:
        when = _parse_ts(ts)
    except (ValueError, OverflowError):
        return None
    return AwlrFrame(station, seq, when, level, battery)


def _first_arg(exc: Exception) -> str:
    arg = exc.args[0] if exc.args else ""
    return str(arg[0] if isinstance(arg, tuple) and arg else arg)


def _build(raw: dict[str, Any], text: bool) -> AwlrFrame:
    values: dict[str, Any] = {}
    for f in FIELDS:
        try:
            values[f.name] = (f.from_text if text else f.from_json)(raw[f.name])
        except FrameRejected:
            raise
        except (ValueError, TypeError, OverflowError) as exc:
            raise FrameRejected("malformed", f"field {f.name}: {exc}") from exc
    return AwlrFrame(**values)
