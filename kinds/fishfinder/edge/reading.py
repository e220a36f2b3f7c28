"""A boat's accepted reading as the gateway holds it, and how it survives a kill -9 (the journal).

The generic gateway keys its journal by (device, time, number); an instrument value has no
number of its own, and a fix, a depth and a temperature share their second, so `seq` here is
a code per value type (a distress adds its press number), which also makes a value told twice
(RMC and GGA of one second) one journal row.

What is journalled: fixes, depths, temperatures and distress presses, packed with `struct`
(tens of bytes each). Pings are not: at 2 pings/s of 500 bins they would write ~1 KB/s to the
gateway's flash for the echogram window, and what a crash costs without them is bounded: the
schools in the pings the detector still held (at most `max_school_pings` + one chunk, i.e. the
last ~2 minutes of echogram). A track, a sea summary and an SOS never depend on them.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from datetime import datetime

from datetime import timezone

from kinds.fishfinder.values import Depth, Distress, Fix, InstrumentValue, Ping, WaterTemp
from kinds.fishfinder.wire import NATURES

SEQ_FIX, SEQ_DEPTH, SEQ_TEMP, SEQ_DISTRESS = 0, 1, 2, 3
#: Journal numbers of SOS state rows: above any press row's (3 + 4 * press, press < 2**31).
SEQ_SOS_STATE = 1 << 40
_FIX = struct.Struct("<cdddd")
_DEPTH = struct.Struct("<cdd")
_TEMP = struct.Struct("<cd")
_DISTRESS = struct.Struct("<cIB?dd")
_SOS_STATE = struct.Struct("<cIdBdI???dd")


@dataclass(frozen=True, slots=True)
class SosState:
    """Where one press stands at the gateway (`edge.processor.Incident`), journalled whenever it
    changes and again within each sea window while the press is open, so a restart resumes it
    exactly: the press's time (its identity), when the gateway first saw it and the repeats it
    sent (its own clock), and whether the centre acknowledged or resolved it or the boat cancelled."""

    ts: datetime
    press: int
    pressed_at: datetime
    nature: str
    seen_at: datetime | None
    last_repeat: int
    acknowledged: bool
    cancelled: bool
    resolved: bool
    lat: float | None
    lon: float | None

@dataclass(frozen=True, slots=True)
class BoatReading:
    """One instrument value of one device (`gateway.model.Reading`)."""

    device: str
    seq: int
    ts: datetime
    value: InstrumentValue | SosState


def reading_of(device: str, value: InstrumentValue | SosState) -> BoatReading:
    if isinstance(value, Fix):
        seq = SEQ_FIX
    elif isinstance(value, Depth):
        seq = SEQ_DEPTH
    elif isinstance(value, WaterTemp):
        seq = SEQ_TEMP
    elif isinstance(value, Distress):
        seq = SEQ_DISTRESS + 4 * value.seq
    elif isinstance(value, SosState):
        seq = SEQ_SOS_STATE + value.press
    else:
        seq = value.seq  # a ping: its own number (pings are not journalled)
    return BoatReading(device, seq, value.ts, value)


def _nan(x: float | None) -> float:
    return math.nan if x is None else x


def _none(x: float) -> float | None:
    return None if math.isnan(x) else x


def journal_body(reading: BoatReading) -> bytes | None:
    """The value packed; None for a ping (see the module docstring)."""
    v = reading.value
    if isinstance(v, Fix):
        return _FIX.pack(b"F", v.lat, v.lon, _nan(v.sog_kn), _nan(v.cog_deg))
    if isinstance(v, Depth):
        return _DEPTH.pack(b"D", v.depth_m, _nan(v.offset_m))
    if isinstance(v, WaterTemp):
        return _TEMP.pack(b"T", v.temp_c)
    if isinstance(v, Distress):
        return _DISTRESS.pack(b"S", v.seq, NATURES.index(v.nature), v.active, _nan(v.lat), _nan(v.lon))
    if isinstance(v, SosState):
        return _SOS_STATE.pack(
            b"P", v.press, v.pressed_at.timestamp(), NATURES.index(v.nature), math.nan if v.seen_at is None else v.seen_at.timestamp(),
            v.last_repeat, v.acknowledged, v.cancelled, v.resolved, _nan(v.lat), _nan(v.lon),
        )
    if isinstance(v, Ping):
        return None
    raise ValueError(f"not a boat value: {type(v).__name__}")


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def from_journal(device: str, seq: int, ts: datetime, body: bytes) -> BoatReading:
    """The reading `journal_body` packed; ValueError for a body of another kind or layout."""
    tag = body[:1]
    try:
        if tag == b"F" and len(body) == _FIX.size:
            _, lat, lon, sog, cog = _FIX.unpack(body)
            value: InstrumentValue | SosState = Fix(ts, lat, lon, _none(sog), _none(cog))
        elif tag == b"D" and len(body) == _DEPTH.size:
            _, depth, offset = _DEPTH.unpack(body)
            value = Depth(ts, depth, _none(offset))
        elif tag == b"T" and len(body) == _TEMP.size:
            value = WaterTemp(ts, _TEMP.unpack(body)[1])
        elif tag == b"S" and len(body) == _DISTRESS.size:
            _, press, nature, active, lat, lon = _DISTRESS.unpack(body)
            value = Distress(ts, press, NATURES[nature], active, _none(lat), _none(lon))  # type: ignore[arg-type]
        elif tag == b"P" and len(body) == _SOS_STATE.size:
            _, press, pressed, nature, seen, repeat, ack, cancelled, resolved, lat, lon = _SOS_STATE.unpack(body)
            value = SosState(
                ts, press, _utc(pressed), NATURES[nature], None if math.isnan(seen) else _utc(seen), repeat,
                ack, cancelled, resolved, _none(lat), _none(lon),
            )
        else:
            raise ValueError(f"not a fish-finder journal body ({len(body)} bytes)")
    except (struct.error, IndexError) as exc:
        raise ValueError(f"not a fish-finder journal body: {exc}") from None
    return BoatReading(device, seq, ts, value)
