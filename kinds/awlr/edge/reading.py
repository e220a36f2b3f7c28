"""The river's reading, and how the gateway's journal keeps it across a restart."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import datetime

#: Journal body: the level, then the battery voltage when there is one, little-endian doubles.
#: 8 or 16 bytes, packed by one `struct` call per reading (the journal takes every reading).
_LEVEL = struct.Struct("<d")
_LEVEL_BATTERY = struct.Struct("<dd")


@dataclass(frozen=True, slots=True)
class LevelReading:
    """One accepted measurement of a river level recorder (its station is the device's, from
    the configuration: the decoder checked the frame's claim against it)."""

    device: str
    seq: int
    ts: datetime
    level_cm: float
    battery_v: float | None


def journal_body(reading: LevelReading) -> bytes:
    battery = reading.battery_v
    return _LEVEL.pack(reading.level_cm) if battery is None else _LEVEL_BATTERY.pack(reading.level_cm, battery)


def from_journal(device: str, seq: int, ts: datetime, body: bytes) -> LevelReading:
    if len(body) == 16:
        level, battery = _LEVEL_BATTERY.unpack(body)
        return LevelReading(device, seq, ts, level, battery)
    if len(body) == 8:
        return LevelReading(device, seq, ts, _LEVEL.unpack(body)[0], None)
    raise ValueError(f"an AWLR journal body is 8 or 16 bytes, not {len(body)}")
