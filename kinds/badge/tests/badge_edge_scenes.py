"""Shared scenery of the badge edge tests: a tenant's offices (two neighbours and one 6 km
away), scanners, a roster of EID and static badges, the advertisements a badge sends at a
time, and a gate that drives the kind's gateway side exactly as `gateway.runtime` does
(decode, accept, process), collecting the items."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from core.config import TepiConfig, parse_config
from gateway.errors import FrameRejected
from gateway.model import RawFrame
from kinds.badge import adverts, eid, wire
from kinds.badge.edge import KIND
from kinds.badge.edge.processor import ScannerProcessor
from kinds.badge.items import BadgeRoster, OfficeHealth, Presence, RosterBadge, SecurityEvent

TENANT, GW = "kab-indramayu", "gw-pemkab"
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)  # 07:00 WIB
EPOCH = int(T0.timestamp()) - 30 * 86400  # badges issued a month ago
K = 10
#: Two neighbouring offices in one complex (about 60 m apart) and one across town (about 6 km).
OFFICES = {
    "bkpsdm": (-6.32660, 108.32480),
    "inspektorat": (-6.32660, 108.32535),
    "dishub": (-6.30500, 108.37300),
}
SCANNERS = {"bkpsdm": ["sc-bkpsdm-1", "sc-bkpsdm-2"], "inspektorat": ["sc-insp-1"], "dishub": ["sc-dishub-1"]}
UUID = bytes.fromhex("e2c56db5dffb48d2b060d0f5a71096e0")


def config(tmp_path: Path, require_eid: bool = True, summary_every_s: int = 300) -> TepiConfig:
    return parse_config({
        "tenants": [{"id": TENANT, "name": "Kabupaten Indramayu"}],
        "stations": [],
        "devices": [
            {"id": d, "kind": "badge", "platform": office, "transport": "mqtt"} for office, ds in SCANNERS.items() for d in ds
        ],
        "gateway": {"id": GW, "tenant": TENANT, "outbox": {"path": str(tmp_path / "outbox.db")}},
        "offices": [
            {"id": o, "tenant": TENANT, "name": o.upper(), "lat": lat, "lon": lon, "require_eid": require_eid, "summary_every_s": summary_every_s}
            for o, (lat, lon) in OFFICES.items()
        ],
    })


@dataclass(frozen=True)
class Badge:
    id: str
    format: str
    key: bytes = b""
    major: int = 0
    minor: int = 0

    def roster_entry(self) -> RosterBadge:
        if self.format == "eid":
            return RosterBadge(badge=self.id, format="eid", identity_key=self.key.hex(), k=K, epoch=EPOCH)
        return RosterBadge(badge=self.id, format="ibeacon", uuid=UUID.hex(), major=self.major, minor=self.minor)

    def advert(self, at: datetime, periods_off: int = 0) -> bytes:
        """What the badge advertises at `at` (an EID of a period `periods_off` away: a replay
        or an EID computed ahead)."""
        if self.format == "ibeacon":
            return adverts.ibeacon_advert(UUID, self.major, self.minor, -59)
        counter = int(at.timestamp()) - EPOCH + (periods_off << K)
        return adverts.eid_advert(eid.eid(self.key, K, counter), -59)


def badges(n: int, seed: int = 1, statics: int = 0) -> list[Badge]:
    rng = random.Random(seed)
    out = [Badge(f"b{i + 1:012x}", "eid", bytes(rng.getrandbits(8) for _ in range(16))) for i in range(n)]
    out += [Badge(f"b{0xa00 + i:012x}", "ibeacon", major=100, minor=i) for i in range(statics)]
    return out


def roster(version: int, members: list[Badge]) -> BadgeRoster:
    return BadgeRoster(version=version, badges=[b.roster_entry() for b in members])


def mac(i: int) -> str:
    return ":".join(f"{(i >> s) & 255:02x}" for s in (40, 32, 24, 16, 8, 0))


@dataclass
class Gate:
    """The kind's gateway side driven as the gateway drives it, one scanner message at a time."""

    cfg: TepiConfig
    procs: dict[str, ScannerProcessor] = field(default_factory=dict)
    items: list[Any] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    #: What the gateway's journal would hold: (device, ts, seq, body) per accepted reading,
    #: trimmed as items close devices' windows; and where each device's windows end.
    journal: list[tuple[str, float, int, bytes]] = field(default_factory=list)
    summarised: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.procs = {d.id: KIND.processor(self.cfg, d) for d in self.cfg.devices}

    def send(self, device: str, at: datetime, heard: list[tuple[bytes, int]], received_at: datetime | None = None) -> list[Any]:
        report = wire.ScanReport(device, at, tuple(wire.Heard(mac(i + 1), rssi, data) for i, (data, rssi) in enumerate(heard)))
        frame = RawFrame("mqtt", wire.encode_scan(report), device, received_at or at)
        dev = next(d for d in self.cfg.devices if d.id == device)
        proc = self.procs[device]
        try:
            decoded = KIND.decode(frame, dev, proc, self.cfg.gateway)
        except FrameRejected as rej:
            self.rejected.append(rej.reason)
            return []
        self.rejected += [r.reason for r in decoded.rejected]  # type: ignore[attr-defined]
        for r in decoded.readings:
            try:
                proc.accept(r)
            except FrameRejected as rej:
                self.rejected.append(rej.reason)
                continue
            self.journal.append((r.device, r.ts.timestamp(), r.seq, KIND.journal_body(r)))
        got = proc.process()
        self._commit(got)
        return got

    def _commit(self, got: list[Any]) -> None:
        """As the outbox commits items: each closing a device's window trims its journal."""
        self.items += got
        for item in got:
            closes = getattr(item, "summarised", None)
            if closes is not None:
                dev, until = closes
                self.journal = [row for row in self.journal if not (row[0] == dev and row[1] < until)]
                self.summarised[dev] = max(self.summarised.get(dev, until), until)

    def restarted(self) -> "Gate":
        """The gateway started again on the same outbox: fresh processors told where their
        windows end, then the journal replayed device by device (`EdgeGateway._recover`)."""
        again = Gate(self.cfg)
        again.journal, again.summarised = list(self.journal), dict(self.summarised)
        for dev, until in self.summarised.items():
            again.procs[dev].resume(datetime.fromtimestamp(until, timezone.utc))
        for device, ts, seq, body in sorted(self.journal, key=lambda row: (row[0], row[1], row[2])):
            try:
                again.procs[device].accept(KIND.from_journal(device, seq, datetime.fromtimestamp(ts, timezone.utc), body))
            except FrameRejected:
                continue
        again._commit([i for p in again.procs.values() for i in p.process()])
        return again

    def tick(self, now: datetime) -> None:
        """The gateway's wall clock `now`, passed to every processor as `gateway.runtime` does
        each second (the site acts once per `now`)."""
        for p in self.procs.values():
            self._commit(p.tick(now))

    def downlink(self, roster_: BadgeRoster | bytes) -> None:
        from contract.downlink import KindDownlink

        body = roster_ if isinstance(roster_, bytes) else roster_.model_dump_json().encode()
        message = KindDownlink("badge", "badge_roster", body)
        for p in self.procs.values():
            self.items += p.on_downlink(message)

    def presence(self, office: str | None = None) -> list[Presence]:
        return [i for i in self.items if isinstance(i, Presence) and (office is None or i.office == office)]

    def security(self) -> list[SecurityEvent]:
        return [i for i in self.items if isinstance(i, SecurityEvent)]

    def health(self, office: str | None = None) -> list[OfficeHealth]:
        seen, out = set(), []
        for i in self.items:
            if isinstance(i, OfficeHealth) and (office is None or i.office == office) and i.id not in seen:
                seen.add(i.id)
                out.append(i)
        return out


def seconds(start: datetime, duration_s: int, step_s: float = 1.0) -> list[datetime]:
    return [start + timedelta(seconds=i * step_s) for i in range(int(duration_s / step_s))]


#: (badge, mean RSSI, EID periods off) heard by a scanner at a time.
Heard = list[tuple[Badge, float, int]]


def run(gate: Gate, start: datetime, duration_s: int, who: Callable[[datetime, str], Heard], seed: int = 5, sigma: float = 2.5) -> None:
    """Every scanner sends what it hears each second (`who`), with noisy RSSI and up to 200 ms
    of jitter in its time, so scanners' messages reach an office a little out of time order."""
    rng = random.Random(seed)
    for at in seconds(start, duration_s):
        for scanners in SCANNERS.values():
            for scanner in scanners:
                heard = [(b.advert(at, off), max(-127, min(20, round(rng.gauss(mean, sigma))))) for b, mean, off in who(at, scanner)]
                gate.send(scanner, at + timedelta(milliseconds=rng.randint(0, 200)), heard)
