"""What office scanners hear, second by second: badges carried in and out of their offices as
the staff's days say (`staff_days`), and the spoofing attempts the gateway must catch, each with
its truth recorded so that a bench or a test can score the gateway's decisions.

Emitters are what advertises: a badge on its holder (present while the holder is inside), or a
spoofing device (a phone playing a cloned iBeacon, a recorder replaying yesterday's EIDs, a
relay re-emitting a badge's live EIDs at another office). Each is heard through the radio model
(`radio`) by the scanners of the site it is on; a scanner's ScanReport per scan interval lists
everything it heard with its RSSI, in the scanners' own batch format (`wire.ScanReport`).

Scenarios (issue 21), as `Spoof` records:
* `static_clone`: a static iBeacon badge's advertisement cloned with a phone and played at an
  office that requires rotating ids while its holder is at home;
* `eid_replay`: a badge's EIDs recorded at its office one day and played back there the next,
  while its holder is at home;
* `eid_relay`: a badge's live EIDs relayed to another office, far away, while its holder is in
  their own (one badge heard at two offices at once);
* honest badges at desks by the wall two offices share, heard by the scanners of both
  (`OfficeWorld.wall_badges`): no alarm, and a check-in only at their own office.
"""

from __future__ import annotations

import hashlib
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Literal

import numpy as np

from kinds.badge.adverts import eid_advert, ibeacon_advert, uid_advert
from kinds.badge.eid import eid
from kinds.badge.items import RosterBadge
from kinds.badge.sim.radio import PathLoss, Site
from kinds.badge.sim.truth import Spoof, Stay
from kinds.badge.wire import Heard, ScanReport

#: Seconds a person takes between the door and their desk: heard by the door meanwhile.
WALK_S = 15


@dataclass(frozen=True)
class SimBadge:
    """A badge as it advertises. EID badges rotate their Bluetooth address with their EID (a fixed
    address would give the badge away, whatever its EID); static badges keep theirs."""

    badge: str
    format: Literal["eid", "ibeacon", "uid"]
    tx_power_1m: int = -59
    identity_key: bytes | None = None
    k: int = 10
    epoch: int = 0
    uuid: bytes | None = None
    major: int = 0
    minor: int = 0
    namespace: bytes | None = None
    instance: bytes | None = None
    _cache: dict[int, tuple[bytes, str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_roster(cls, entry: RosterBadge, tx_power_1m: int = -59) -> SimBadge:
        """The badge a roster entry describes (the demo issues badges centrally, then simulates them)."""
        hexed = lambda v: bytes.fromhex(v) if v is not None else None  # noqa: E731
        return cls(
            entry.badge, entry.format, tx_power_1m, hexed(entry.identity_key), entry.k if entry.k is not None else 10,
            entry.epoch or 0, hexed(entry.uuid), entry.major or 0, entry.minor or 0, hexed(entry.namespace), hexed(entry.instance),
        )

    def roster_entry(self) -> RosterBadge:
        hexed = lambda v: v.hex() if v is not None else None  # noqa: E731
        if self.format == "eid":
            return RosterBadge(badge=self.badge, format="eid", identity_key=hexed(self.identity_key), k=self.k, epoch=self.epoch)
        if self.format == "ibeacon":
            return RosterBadge(badge=self.badge, format="ibeacon", uuid=hexed(self.uuid), major=self.major, minor=self.minor)
        return RosterBadge(badge=self.badge, format="uid", namespace=hexed(self.namespace), instance=hexed(self.instance))

    def advert(self, t: int) -> tuple[bytes, str]:
        """(advertising payload, Bluetooth address) the badge sends at Unix second `t`."""
        if self.format != "eid":
            got = self._cache.get(-1)
            if got is None:
                data = (ibeacon_advert(self.uuid, self.major, self.minor, self.tx_power_1m) if self.format == "ibeacon"
                        else uid_advert(self.namespace, self.instance, self.tx_power_1m))
                got = self._cache[-1] = (data, _mac(self.badge.encode()))
            return got
        assert self.identity_key is not None
        counter = t - self.epoch
        if counter < 0:
            raise ValueError(f"badge {self.badge}: {t} is before its epoch {self.epoch}")
        period = counter >> self.k
        got = self._cache.get(period)
        if got is None:
            if len(self._cache) > 512:
                self._cache.clear()
            ephemeral = eid(self.identity_key, self.k, counter)
            got = self._cache[period] = (eid_advert(ephemeral, self.tx_power_1m), _mac(ephemeral))
        return got


def _mac(seed: bytes) -> str:
    """A non-resolvable private address (top two bits 00) derived from `seed`."""
    b = bytearray(hashlib.blake2b(seed, digest_size=6).digest())
    b[0] &= 0x3F
    return ":".join(f"{x:02x}" for x in b)


@dataclass(frozen=True, slots=True)
class _Segment:
    """One emitter at one spot for a while (whole Unix seconds, end excluded)."""

    start: int
    end: int
    site: int
    spot: int
    badge: SimBadge
    shift_s: int
    mac: str | None  # a spoofing phone's own address, else the badge's
    sigma: float


@dataclass
class OfficeWorld:
    """The offices' sites, the badges and their desks, and the truth to generate from."""

    sites: list[Site]
    badges: dict[str, SimBadge]
    desk: dict[str, tuple[str, int]]  # badge -> (office, desk index on its floor)
    stays: list[Stay]
    spoofs: list[Spoof] = field(default_factory=list)
    wall_badges: set[str] = field(default_factory=set)  # honest badges at desks by a shared wall

    def site_of(self, office: str) -> int:
        for i, s in enumerate(self.sites):
            if any(f.office == office for f in s.floors):
                return i
        raise KeyError(office)


class ScanStream:
    """Every scanner's ScanReport for each scan interval, in time order; pure (seeded)."""

    def __init__(self, world: OfficeWorld, *, model: PathLoss | None = None, seed: int = 21, scan_s: int = 1) -> None:
        self.world = world
        self.model = model or PathLoss()
        self.scan_s = scan_s
        self.rng = np.random.default_rng(seed)
        sigmas = self.model.badge_sigmas(self.rng, len(world.badges))
        self.sigma = dict(zip(sorted(world.badges), sigmas.tolist()))
        # Spots per site: every floor's desks, then its door; the mean RSSI for 0 dBm at 1 m.
        self.spots: list[dict[tuple[str, str, int], int]] = []
        self.mean0: list[np.ndarray] = []
        self.scanners = [[s.id for s in site.scanners] for site in world.sites]
        for site in world.sites:
            index: dict[tuple[str, str, int], int] = {}
            coords: list[tuple[float, float]] = []
            for f in site.floors:
                for i, xy in enumerate(f.desks):
                    index[(f.office, "desk", i)] = len(coords)
                    coords.append(xy)
                index[(f.office, "door", 0)] = len(coords)
                coords.append(f.door)
            self.spots.append(index)
            self.mean0.append(site.mean_rssi(self.model, coords, 0.0))
        self.segments = sorted(self._segments(), key=lambda s: s.start)

    def _segments(self) -> Iterator[_Segment]:
        w = self.world
        for stay in w.stays:
            b = w.badges[stay.badge]
            site = w.site_of(stay.office)
            office, desk = w.desk.get(stay.badge, (stay.office, 0))
            if office != stay.office:
                desk = 0  # visiting another office: the first desk there
            s, e = _unix(stay.start), _unix(stay.end)
            door = self.spots[site][(stay.office, "door", 0)]
            seat = self.spots[site][(stay.office, "desk", desk)]
            walk = min(WALK_S, (e - s) // 3)
            sig = self.sigma[stay.badge]
            yield _Segment(s, s + walk, site, door, b, 0, None, sig)
            yield _Segment(s + walk, e - walk, site, seat, b, 0, None, sig)
            yield _Segment(e - walk, e, site, door, b, 0, None, sig)
        for k, spoof in enumerate(w.spoofs):
            b = w.badges[spoof.badge]
            site = w.site_of(spoof.office)
            floor = w.sites[site].floor(spoof.office)
            # A phone left on a desk in the middle of the floor (not by a wall next door).
            cx, cy = floor.x0 + floor.width / 2, floor.y0 + floor.depth / 2
            middle = sorted(range(len(floor.desks)), key=lambda i: (floor.desks[i][0] - cx) ** 2 + (floor.desks[i][1] - cy) ** 2)
            spot = self.spots[site][(spoof.office, "desk", middle[k % 4])]
            phone = _mac(f"spoof-{k}".encode()) if spoof.kind == "static_clone" else None
            sig = float(self.model.badge_sigmas(np.random.default_rng(k), 1)[0])
            yield _Segment(_unix(spoof.start), _unix(spoof.end), site, spot, b, spoof.shift_s, phone, sig)

    def reports(self, start: datetime, end: datetime, *, idle_step_s: int | None = None) -> Iterator[list[ScanReport]]:
        """Per scan interval from `start` to `end`, every scanner's report (empty ones too). With
        `idle_step_s`, while nothing advertises anywhere the reports come that far apart (all
        empty), and the scanners of a site where nothing advertises report that far apart too:
        a month then runs in minutes, and the gateway's clock still moves on."""
        t0, t1 = _unix(start), _unix(end)
        pending = iter(self.segments)
        nxt = next(pending, None)
        while nxt is not None and nxt.end <= t0:
            nxt = next(pending, None)
        active: list[tuple[int, int, _Segment]] = []  # heap by end
        t = t0
        while t < t1:
            while nxt is not None and nxt.start <= t:
                if nxt.end > t:
                    heapq.heappush(active, (nxt.end, id(nxt), nxt))
                nxt = next(pending, None)
            while active and active[0][0] <= t:
                heapq.heappop(active)
            yield self.interval(t, [a[2] for a in active], idle_step_s)
            step = self.scan_s
            if idle_step_s and not active:
                step = max(step, min(idle_step_s, (nxt.start - t) if nxt is not None else idle_step_s))
            t += step

    def interval(self, t: int, active: Iterable[_Segment], idle_step_s: int | None = None) -> list[ScanReport]:
        """Every scanner's report for the interval at Unix second `t`; with `idle_step_s`, the
        scanners of a site where nothing advertises report only every `idle_step_s` seconds."""
        at = datetime.fromtimestamp(t, timezone.utc)
        by_site: dict[int, list[_Segment]] = {}
        for seg in active:
            by_site.setdefault(seg.site, []).append(seg)
        out: list[ScanReport] = []
        for site, scanners in enumerate(self.scanners):
            segs = by_site.get(site)
            if not segs:
                if not by_site or not idle_step_s or t % idle_step_s == 0:
                    out.extend(ScanReport(sc, at, ()) for sc in scanners)
                continue
            heard: list[list[Heard]] = [[] for _ in scanners]
            mean = self.mean0[site][[s.spot for s in segs]] + np.array([s.badge.tx_power_1m for s in segs], dtype=float)[:, None]
            rssi = self.model.sample(self.rng, mean, np.array([s.sigma for s in segs]))
            for seg, row in zip(segs, rssi.tolist()):
                data, mac = seg.badge.advert(t - seg.shift_s)
                mac = seg.mac or mac
                for j, x in enumerate(row):
                    if x == x:  # not NaN: heard
                        heard[j].append(Heard(mac, int(x), data))
            out.extend(ScanReport(sc, at, tuple(h)) for sc, h in zip(scanners, heard))
        return out


def _unix(at: datetime) -> int:
    if at.tzinfo is None:
        raise ValueError(f"{at!r} has no time zone")
    return int(at.timestamp())
