"""The gateway's own types: what a source yields and what every kind's readings have in common."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Transport = Literal["serial", "mqtt"]


@dataclass(frozen=True, slots=True)
class RawFrame:
    """Bytes as they came off a wire, before any parsing.

    `device_hint` is what the transport knows of the sender: the device id bound to a
    serial port, or the device id in the MQTT topic. The parser checks that the frame's own
    claim agrees with it.
    """

    transport: Transport
    payload: bytes
    device_hint: str | None
    received_at: datetime
    ack: Callable[[], object] | None = field(default=None, compare=False)
    """Tells the transport the frame is safely stored (MQTT PUBACK); None where it cannot."""


class Reading(Protocol):
    """One accepted reading of any kind, as far as the generic gateway looks into it: whose it
    is, its number and its time (the journal is keyed and trimmed by them). What it measured is
    the kind's business: a kind's `decode` returns its own reading type, and the journal stores
    it as the kind's opaque `journal_body`.

    Optional: `battery_v` (volts) and `battery_pct` (percent), where the device tells them; the
    gateway's health report reads them from a device's last accepted reading
    (`gateway.health_report`)."""

    @property
    def device(self) -> str: ...

    @property
    def seq(self) -> int: ...

    @property
    def ts(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one frame held when it is not exactly one reading: an MQTT payload of several NMEA
    lines, a serial line that completes nothing yet (an echogram fragment), or lines of which
    some were refused. Each refusal is counted by its reason; the readings are accepted as if
    they had come one per frame, and one bad line never costs its neighbours."""

    readings: list[Reading] = field(default_factory=list)
    rejected: list[Exception] = field(default_factory=list)
    """`gateway.errors.FrameRejected`, one per refused line (typed loosely: errors imports nothing here)."""
