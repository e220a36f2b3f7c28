"""What the gateway asks of a device kind, and where it finds one: `kinds.edge_kind(name)`.

Adding a device kind is adding a folder `kinds/<kind>/` (its `edge` side implements
`DeviceKind`) and one line in `kinds.KINDS`; nothing here names a kind.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

import kinds
from core.config import ConfigError, DeviceConfig, GatewayConfig, TepiConfig
from gateway.errors import GatewayError
from gateway.model import Decoded, RawFrame, Reading
from gateway.stored_item import GATEWAY_KIND, StoredItem


class UplinkItem(Protocol):
    """What the generic gateway reads of an item a processor returns: every uplink item (the
    contract's `_Item`) has these; the rest is the kind's."""

    @property
    def id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def type(self) -> str: ...

    @property
    def platform(self) -> str:
        """Where the device is mounted (a station, a vessel): alarms are filed by it."""
        ...


class Processor(Protocol):
    """Turns one device's accepted readings into uplink items.

    Lifecycle: created once per device at gateway start, used from one thread only. `accept`
    is called for every reading in arrival order and raises `FrameRejected` for readings that
    cannot be placed (duplicate, out of order, late); `process` is called once one or more
    readings were accepted (under load the gateway lets many accumulate, for up to a second,
    because the cost of a call is mostly fixed) and returns the events and closed-window
    summaries; `due` closes a window whose end passed without a later reading. None of them
    does I/O or reads a clock.

    After a restart, `resume` is told where the device's summarised windows end (the outbox
    keeps it) before the journal is replayed, so no window is summarised twice.
    `open_window_s` is how long the gateway waits for a silent device before `due`.
    A processor may expose `collector`, a prometheus `Collector` of its kind's own counts: the
    gateway registers each distinct one in its registry (devices may share one).
    """

    def accept(self, reading: Any) -> None: ...

    def process(self) -> list[Any]: ...

    def due(self, now: datetime) -> list[Any]: ...

    def note_rejected(self) -> None: ...

    def resume(self, summarised_until: datetime) -> None: ...

    @property
    def open_window_s(self) -> float | None: ...


class DeviceKind(Protocol):
    """A kind's gateway side. `readings_per_s`, `typical_payload_bytes` and `max_payload_bytes`
    describe what one device of the kind sends over MQTT; `tepi mqtt setup` sizes the broker's
    queues from them.

    The generic gateway never looks into a kind's readings or items: it journals a reading as
    `journal_body` (bytes, packed once: this runs for every reading) and rebuilds it after a
    restart with `from_journal`; it stores an item as `stored` says (body, priority, series);
    it publishes `alarm(item)` on the site's local alarm channel when that is not None."""

    name: str
    readings_per_s: float
    typical_payload_bytes: int
    max_payload_bytes: int

    def decode(self, frame: RawFrame, device: DeviceConfig, processor: Any, gateway: GatewayConfig) -> Reading | Decoded | None:
        """Parse and check one frame; raise `FrameRejected` with a counted reason. `processor`
        is the one this kind made for `device` (`processor`): what the kind knows of the
        device's platform, and any decoder state (NMEA needs what came before) live there,
        looked up once at start, not per frame. A frame may carry several readings or none
        (an MQTT payload of NMEA lines, an echogram fragment): then a `Decoded`."""
        ...

    def processor(self, config: TepiConfig, device: DeviceConfig) -> Processor:
        """The device's processor. The kind checks the device's platform here (awlr: a
        configured station) and raises `core.config.ConfigError` when it cannot be bound, so
        a wrong binding stops the gateway at start."""
        ...

    def journal_body(self, reading: Any) -> bytes: ...

    def from_journal(self, device: str, seq: int, ts: datetime, body: bytes) -> Reading:
        """The reading `journal_body` stored; raises ValueError for a body it cannot read."""
        ...

    def stored(self, item: Any, gateway_id: str) -> StoredItem: ...

    def alarm(self, item: Any) -> bytes | None:
        """What the site's sirens and displays get for this item (retained, per platform and
        item type), or None when it is no alarm."""
        ...


class DownlinkAware(Protocol):
    """A kind whose devices hear from the centre (e.g. the fish-finder's SOS status). The
    uplink passes each downlink message naming `kind` to `on_downlink` of that kind's
    processors, on the gateway loop: what they return is committed and alarmed as any item;
    a processor without `on_downlink` ignores it."""

    def on_downlink(self, message: dict[str, Any]) -> list[Any]: ...


class UnknownDeviceKind(GatewayError):
    pass


def device_kind(name: str) -> DeviceKind:
    if name == GATEWAY_KIND:  # reserved for the gateway's own items
        raise UnknownDeviceKind(f"{name!r} is no device kind; known: {kinds.kind_names()}")
    try:
        kind: DeviceKind = kinds.edge_kind(name)
    except kinds.UnknownKind as exc:
        raise UnknownDeviceKind(str(exc)) from None
    return kind


def binding_problems(config: TepiConfig) -> list[str]:
    """What would stop the gateway at start, a line per device: a kind this build lacks, or a
    platform its kind cannot bind (`DeviceKind.processor`: an AWLR's station, a buoy the file
    does not declare). The same checks as `gateway.runtime.EdgeGateway`, without opening
    anything: `tepi config check` runs them."""
    problems = []
    for d in config.devices:
        try:
            device_kind(d.kind).processor(config, d)
        except UnknownDeviceKind as exc:
            problems.append(f"device {d.id!r}: {exc}")
        except ConfigError as exc:
            problems.append(str(exc))
    return problems
