"""A buoy's accepted report as the gateway holds it, and its journal body (kill -9 safe)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from datetime import datetime

_BODY = struct.Struct("<cdddddd")


@dataclass(frozen=True, slots=True)
class BuoyReading:
    """One report of one device (`gateway.model.Reading`); NaN where the report has no value."""

    device: str
    seq: int
    ts: datetime
    hs_m: float
    tp_s: float
    wave_dir_deg: float
    wind_kn: float
    wind_dir_deg: float
    gust_kn: float


def nan(x: float | None) -> float:
    return math.nan if x is None else x


def journal_body(r: BuoyReading) -> bytes:
    return _BODY.pack(b"W", r.hs_m, r.tp_s, r.wave_dir_deg, r.wind_kn, r.wind_dir_deg, r.gust_kn)


def from_journal(device: str, seq: int, ts: datetime, body: bytes) -> BuoyReading:
    """The reading `journal_body` packed; ValueError for a body of another kind or layout."""
    if len(body) != _BODY.size or body[:1] != b"W":
        raise ValueError(f"not a wave-buoy journal body ({len(body)} bytes)")
    _, *values = _BODY.unpack(body)
    return BuoyReading(device, seq, ts, *values)
