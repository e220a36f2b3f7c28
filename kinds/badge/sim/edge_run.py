"""The gateway's own edge (the kind's processors, `kinds.badge.edge`) over simulated scanner
messages in simulated time: what the accuracy bench and the behaviour tests score.

Why not the whole gateway process: a month of reports is hours of messages; in simulated time,
without MQTT, the outbox or the wall clock, it runs in minutes, and decides exactly as the
gateway does, since the gateway's decisions are the processors' (their time is the readings',
never a clock). Each report takes the road a scanner's message takes through the gateway:
encoded in the batch format (`wire.encode_scan`), decoded by the kind (`BadgeKind.decode`,
resolving each advertisement), accepted by its scanner's processor, processed by its office.
The roster reaches the gateway as the centre sends it (a `BadgeRoster` downlink).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from contract.downlink import KindDownlink
from core.config import BrokerConfig, DeviceConfig, GatewayConfig, OutboxConfig, TenantConfig, TepiConfig
from gateway.errors import FrameRejected
from gateway.model import RawFrame
from kinds.badge.config import TenantAttendance
from kinds.badge.edge.kind import KIND
from kinds.badge.items import BadgeRoster, OfficeHealth, Presence, SecurityEvent
from kinds.badge.sim.world import TENANT, SimWorld
from kinds.badge.wire import ScanReport, encode_scan

GATEWAY = "gw-indramayu"


def sim_config(sim: SimWorld, outbox: Path, *, gateway: str = GATEWAY, max_payload_bytes: int = 1_048_576) -> TepiConfig:
    """One gateway for all the simulated offices (so that a relay between two of them is its
    to catch), every scanner an MQTT device of kind `badge` on its office."""
    devices = [DeviceConfig(id=s, kind="badge", platform=office, transport="mqtt") for s, office in sim.scanners.items()]
    gw = GatewayConfig(
        id=gateway, tenant=TENANT, local_broker=BrokerConfig(), uplink_broker=BrokerConfig(), outbox=OutboxConfig(path=outbox),
        max_payload_bytes=max_payload_bytes,
    )
    return TepiConfig(
        tenants=[TenantConfig(id=TENANT, name="Kabupaten Indramayu")], stations=[], devices=devices, gateway=gw,
        offices=sim.office_configs, attendance=[TenantAttendance(tenant=TENANT)],
    )


def roster(sim: SimWorld, version: int = 1) -> BadgeRoster:
    return BadgeRoster(version=version, badges=[b.roster_entry() for b in sim.world.badges.values()])


@dataclass
class EdgeRun:
    """The kind's processors of one gateway, fed interval by interval."""

    config: TepiConfig
    processors: dict[str, Any] = field(init=False)
    items: list[Presence | SecurityEvent] = field(default_factory=list, init=False)
    health: int = field(default=0, init=False)
    rejected: Counter[str] = field(default_factory=Counter, init=False)
    messages: int = field(default=0, init=False)
    adverts: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.processors = {d.id: KIND.processor(self.config, d) for d in self.config.devices}
        self._devices = {d.id: d for d in self.config.devices}
        first_per_office: dict[str, Any] = {}
        for d in self.config.devices:
            first_per_office.setdefault(d.platform, self.processors[d.id])
        self._office_procs = list(first_per_office.values())
        self._any = next(iter(self.processors.values()))

    def send_roster(self, r: BadgeRoster) -> None:
        self._any.on_downlink(KindDownlink("badge", "badge_roster", r.model_dump_json().encode()))

    def feed(self, reports: Iterable[ScanReport]) -> None:
        gw = self.config.gateway
        now: datetime | None = None
        for r in reports:
            now = r.at
            proc, dev = self.processors[r.scanner], self._devices[r.scanner]
            frame = RawFrame("mqtt", encode_scan(r), r.scanner, r.at)
            try:
                decoded = KIND.decode(frame, dev, proc, gw)
            except FrameRejected as rej:
                self.rejected[rej.reason] += 1
                continue
            for rej in decoded.rejected:
                self.rejected[getattr(rej, "reason", "unknown")] += 1
            for reading in decoded.readings:
                try:
                    proc.accept(reading)
                except FrameRejected as rej:
                    self.rejected[rej.reason] += 1
            self.messages += 1
            self.adverts += len(r.heard)
        out: list[Any] = []
        for proc in self._office_procs:
            out += proc.process()
        if now is not None:
            out += self._any.tick(now)
        self._keep(out)

    def _keep(self, out: list[Any]) -> None:
        for item in out:
            if isinstance(item, Presence | SecurityEvent):
                self.items.append(item)
            elif isinstance(item, OfficeHealth):
                self.health += 1

    def run(self, intervals: Iterator[list[ScanReport]]) -> None:
        for reports in intervals:
            self.feed(reports)
