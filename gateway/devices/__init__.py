"""The registry of device kinds: configuration names a kind, this map finds its code.

Adding a device kind is adding a folder under `gateway/devices/<kind>/` (wire format, decoder,
processor, README, sample config) and one line here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from gateway.errors import GatewayError
from gateway.model import RawFrame, Reading
from tepi.config import DeviceConfig, GatewayConfig, StationConfig
from tepi.messages import LevelSummary, SiagaChange

UplinkItem = LevelSummary | SiagaChange


class Processor(Protocol):
    """Turns a station's accepted readings into uplink items.

    Lifecycle: created once per station at gateway start; `accept` is called for every reading
    in arrival order from one thread; `due` is called periodically with the gateway's notion of
    now and returns summaries of windows that have closed. Neither does I/O.
    """

    def accept(self, reading: Reading) -> list[UplinkItem]: ...

    def due(self, now: datetime) -> list[UplinkItem]: ...


class DeviceKind(Protocol):
    name: str

    def decode(self, frame: RawFrame, device: DeviceConfig, station: StationConfig, gateway: GatewayConfig) -> Reading:
        """Parse and check one frame; raise `FrameRejected` with a counted reason."""
        ...

    def processor(self, gateway: GatewayConfig, station: StationConfig, device: DeviceConfig) -> Processor: ...


def _registry() -> dict[str, DeviceKind]:
    from gateway.devices import awlr

    return {"awlr": awlr.KIND}


class UnknownDeviceKind(GatewayError):
    pass


def device_kind(name: str) -> DeviceKind:
    kinds = _registry()
    try:
        return kinds[name]
    except KeyError:
        raise UnknownDeviceKind(f"unknown device kind {name!r}; known: {sorted(kinds)}") from None
