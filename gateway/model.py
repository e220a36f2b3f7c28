"""The gateway's own types: what a source yields and what processors consume."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

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


@dataclass(frozen=True, slots=True)
class Reading:
    """One accepted measurement of a river level recorder."""

    device: str
    station: str
    seq: int
    ts: datetime
    level_cm: float
    battery_v: float | None
