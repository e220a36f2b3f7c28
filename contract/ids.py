"""Identifiers that cross the wire: deterministic item ids and uplink message ids."""

from __future__ import annotations

from datetime import datetime


#: Uplink message ids are unsigned 63-bit: JSON integers every side reads exactly.
MAX_MESSAGE_ID = 2**63 - 1


def event_id(gateway: str, station: str, kind: str, ts: datetime, seq: int) -> str:
    return f"{gateway}:{station}:{kind}:{int(ts.timestamp() * 1000)}:{seq}"
