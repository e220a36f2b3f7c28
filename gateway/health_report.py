"""The gateway's health report (`contract.gateway_items.GatewayHealth`), built from what it
counts anyway, so that the centre knows every gateway and device: last seen, battery, frames
refused, outbox depth.

The gateway loop keeps a `DeviceCounts` per configured device (a few attribute stores per
accepted frame: the reading itself is not looked into on that path) and asks `HealthSchedule`
between batches whether a report is due; `build_report` is a pure function of those counts,
the outbox's depth, the uplink's state and the clocks.

Battery: any kind's reading type may carry `battery_v` (volts) and `battery_pct` (percent) as
optional attributes, as the river recorder's `LevelReading` carries `battery_v`; generic code
names no kind. They are read from a device's last accepted reading when a report is built, and
the last known value stays while later readings carry none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter

from contract.gateway_items import MAX_REPORTED_DEVICES, DeviceHealth, GatewayHealth

#: The most a battery value may be to be reported (the contract's bound); anything else is unknown.
_BATTERY_MAX = 100.0


@dataclass(slots=True)
class DeviceCounts:
    """One configured device since the gateway started; changed by the gateway loop only."""

    frames: int = 0
    rejected: int = 0
    last_seen_at: datetime | None = None
    #: The last accepted reading, kept as it is: its battery is read only when a report is built.
    last_reading: object | None = None
    battery_v: float | None = None
    battery_pct: float | None = None

    def seen(self, at: datetime, reading: object) -> None:
        """A frame with accepted readings, `reading` the last of them, arrived at `at` (gateway clock)."""
        self.frames += 1
        self.last_seen_at = at
        self.last_reading = reading

    def sample_battery(self) -> None:
        """Take the battery values the last accepted reading tells; keep the known ones otherwise."""
        if self.last_reading is None:
            return
        volts, percent = battery_of(self.last_reading)
        if volts is not None:
            self.battery_v = volts
        if percent is not None:
            self.battery_pct = percent
        self.last_reading = None  # sampled: a later report needs a newer reading to change them


def battery_of(reading: object) -> tuple[float | None, float | None]:
    """A reading's optional `battery_v` and `battery_pct`: finite numbers from 0 to 100, or None."""
    return _level(getattr(reading, "battery_v", None)), _level(getattr(reading, "battery_pct", None))


def _level(value: object) -> float | None:
    if type(value) not in (int, float):
        return None
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) and 0.0 <= number <= _BATTERY_MAX else None


class HealthSchedule:
    """When reports are due, on the gateway's monotonic clock: one `every_s` after the first
    look (the loop's first pass, at start), then every `every_s`. A loop held up longer than
    that makes one report, not a burst of them. Pure: times are passed in."""

    def __init__(self, every_s: float) -> None:
        if every_s <= 0:
            raise ValueError(f"every_s must be positive, not {every_s}")
        self.every_s = every_s
        self._started: float | None = None
        self._next = 0.0

    def due(self, now: float) -> bool:
        if self._started is None:
            self._started, self._next = now, now + self.every_s
            return False
        if now < self._next:
            return False
        self._next = now + self.every_s
        return True

    def uptime_s(self, now: float) -> float:
        return 0.0 if self._started is None else max(0.0, now - self._started)


def reason_counts(rejected: Counter) -> dict[str, int]:
    """The non-zero values of the gateway's `tepi_gateway_rejected_total{reason}` counter."""
    counts: dict[str, int] = {}
    for family in rejected.collect():
        for sample in family.samples:
            if sample.name.endswith("_total") and sample.value > 0:
                counts[sample.labels["reason"]] = int(sample.value)
    return counts


@dataclass(frozen=True, slots=True)
class ReportedDevice:
    """A configured device and its counts, as a report lists it."""

    device: str
    kind: str
    platform: str
    counts: DeviceCounts


def report_id(gateway: str, at: datetime) -> str:
    return f"{gateway}:gateway_health:{int(at.timestamp() * 1000)}"


def build_report(
    *,
    gateway: str,
    at: datetime,
    every_s: float,
    uptime_s: float,
    outbox_items: int,
    outbox_bytes: int,
    link_up: bool,
    rejected_by_reason: Mapping[str, int],
    devices: Iterable[ReportedDevice],
) -> GatewayHealth:
    """The report of `gateway` at `at` (its wall clock). Devices are listed by id, at most
    `MAX_REPORTED_DEVICES` of them (a gateway is sized for hundreds)."""
    listed = sorted(devices, key=lambda d: d.device)[:MAX_REPORTED_DEVICES]
    return GatewayHealth(
        id=report_id(gateway, at),
        gateway=gateway,
        at=at,
        every_s=every_s,
        uptime_s=uptime_s,
        outbox_items=outbox_items,
        outbox_bytes=outbox_bytes,
        link_up=link_up,
        rejected_frames=sum(rejected_by_reason.values()),
        rejected_by_reason=dict(sorted(rejected_by_reason.items())),
        devices=[
            DeviceHealth(
                device=d.device, kind=d.kind, platform=d.platform, last_seen_at=d.counts.last_seen_at,
                frames=d.counts.frames, rejected_frames=d.counts.rejected,
                battery_v=d.counts.battery_v, battery_pct=d.counts.battery_pct,
            )
            for d in listed
        ],
    )
