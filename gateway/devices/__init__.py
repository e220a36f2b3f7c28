"""The registry of device kinds: configuration names a kind, this map finds its code.

Adding a device kind is adding a folder under `gateway/devices/<kind>/` (wire format, decoder,
processor, README, sample config) and one line here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gateway.errors import GatewayError
from gateway.model import RawFrame, Reading
from core.config import DeviceConfig, GatewayConfig, StationConfig
from kinds.awlr.items import LevelSummary, RateOfRise, SiagaChange

UplinkItem = LevelSummary | SiagaChange | RateOfRise


class Processor(Protocol):
    """Turns one device's accepted readings into uplink items.

    Lifecycle: created once per device at gateway start, used from one thread only. `accept`
    is called for every reading in arrival order and raises `FrameRejected` for readings that
    cannot be placed (duplicate, out of order, late); `process` is called once one or more
    readings were accepted (under load the gateway lets many accumulate, for up to a second,
    because the cost of a call is mostly fixed) and returns the events and closed-window summaries; `due` closes a window whose end passed
    without a later reading. None of them does I/O or reads a clock.

    After a restart, `resume` is told where the device's summarised windows end (the outbox
    keeps it) before the journal is replayed, so no window is summarised twice.
    `open_window_s` is how long the gateway waits for a silent device before `due`.
    """

    def accept(self, reading: Reading) -> None: ...

    def process(self) -> list[UplinkItem]: ...

    def due(self, now: datetime) -> list[UplinkItem]: ...

    def note_rejected(self) -> None: ...

    def resume(self, summarised_until: datetime) -> None: ...

    @property
    def open_window_s(self) -> float | None: ...


class DeviceKind(Protocol):
    """`readings_per_s`, `typical_payload_bytes` and `max_payload_bytes` describe what one
    device of the kind sends over MQTT; `tepi mqtt setup` sizes the broker's queues from them."""

    name: str
    readings_per_s: float
    typical_payload_bytes: int
    max_payload_bytes: int

    def decode(self, frame: RawFrame, device: DeviceConfig, station: StationConfig, gateway: GatewayConfig) -> Reading:
        """Parse and check one frame; raise `FrameRejected` with a counted reason."""
        ...

    def processor(self, gateway: GatewayConfig, station: StationConfig, device: DeviceConfig) -> Processor: ...


def _registry() -> dict[str, DeviceKind]:
    from kinds.awlr import edge as awlr

    return {"awlr": awlr.KIND}


class UnknownDeviceKind(GatewayError):
    pass


def device_kind(name: str) -> DeviceKind:
    kinds = _registry()
    try:
        return kinds[name]
    except KeyError:
        raise UnknownDeviceKind(f"unknown device kind {name!r}; known: {sorted(kinds)}") from None
