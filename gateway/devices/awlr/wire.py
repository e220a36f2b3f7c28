"""The AWLR wire format, declared once: the simulator encodes with it, the gateway decodes.

Serial: an NMEA 0183 proprietary sentence (manufacturer code ``TAW``, sentence ``L``)::

    $PTAWL,<station>,<seq>,<utc YYYYMMDDThhmmssZ>,<level_cm>,<battery_v>*hh\\r\\n

MQTT: a JSON object with the same field names, one topic per device.

The decoders are pure: bytes in, `AwlrFrame` out, or `FrameRejected` with a counted reason.
Checks that need configuration (known station, sensor span, clock skew) happen in
`gateway.devices.awlr.kind`, not here.
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


def _station(text: Any) -> str:
    if not isinstance(text, str) or not _STATION_RE.match(text):
        raise ValueError(f"bad station id {text!r}")
    return text


def _seq(text: Any) -> int:
    if isinstance(text, bool):
        raise ValueError("seq must be an integer")
    value = int(text)
    if value < 0 or value >= 2**63:
        raise ValueError(f"seq {value} out of range")
    return value


def _finite(text: Any) -> float:
    if isinstance(text, bool):
        raise ValueError("expected a number")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {text!r}")
    return value


def _parse_ts(text: Any) -> datetime:
    if not isinstance(text, str):
        raise ValueError("timestamp must be text")
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
    name: str
    to_text: Callable[[Any], str]
    from_text: Callable[[Any], Any]
    to_json: Callable[[Any], Any]


FIELDS: tuple[WireField, ...] = (
    WireField("station", str, _station, str),
    WireField("seq", str, _seq, int),
    WireField("ts", _fmt_ts, _parse_ts, lambda t: t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")),
    WireField("level_cm", lambda v: f"{v:.1f}", _finite, lambda v: round(float(v), 1)),
    WireField("battery_v", lambda v: f"{v:.2f}", _finite, lambda v: round(float(v), 2)),
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
    return _build({f.name: raw for f, raw in zip(FIELDS, data[1:])})


def encode_json(frame: AwlrFrame) -> bytes:
    return json.dumps({f.name: f.to_json(getattr(frame, f.name)) for f in FIELDS}, separators=(",", ":")).encode()


_JSON_NAMES = frozenset(f.name for f in FIELDS)


def decode_json(payload: bytes) -> AwlrFrame:
    if len(payload) > MAX_JSON_BYTES:
        raise FrameRejected("too_large", f"{len(payload)} bytes exceeds {MAX_JSON_BYTES}")
    try:
        obj = from_json(payload)  # pydantic-core's parser: several times faster than json.loads
    except ValueError as exc:
        raise FrameRejected("not_json", str(exc)) from exc
    if not isinstance(obj, dict):
        raise FrameRejected("malformed", "payload is not a JSON object")
    if obj.keys() == _JSON_NAMES:
        frame = _plain(obj)
        if frame is not None:
            return frame
    missing = _JSON_NAMES - obj.keys()
    if missing:
        raise FrameRejected("truncated", f"missing fields {sorted(missing)}")
    extra = obj.keys() - _JSON_NAMES
    if extra:
        raise FrameRejected("malformed", f"unknown fields {sorted(extra)[:5]}")
    return _build(obj)


def _plain(obj: dict[str, Any]) -> AwlrFrame | None:
    """The frame every well-behaved device sends (native JSON types, valid values), decoded
    without the per-field conversions of `_build`; None for anything else (numbers as text or
    integers included), which `_build` then decodes or rejects with its reason. Where both
    accept, the result is the same."""
    station, seq, ts, level, battery = obj["station"], obj["seq"], obj["ts"], obj["level_cm"], obj["battery_v"]
    if not (
        type(station) is str and type(seq) is int and type(ts) is str
        and type(level) is float and type(battery) is float
        and 0 <= seq < 2**63 and math.isfinite(level) and math.isfinite(battery)
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


def _build(raw: dict[str, Any]) -> AwlrFrame:
    values: dict[str, Any] = {}
    for f in FIELDS:
        try:
            values[f.name] = f.from_text(raw[f.name])
        except (ValueError, TypeError, OverflowError) as exc:
            raise FrameRejected("malformed", f"field {f.name}: {exc}") from exc
    return AwlrFrame(**values)
