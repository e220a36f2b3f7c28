"""A simulated Kabupaten Indramayu: four offices on three sites, their staff and badges, the
truth of their days (`staff_days`) and the spoofing attempts planned on it (`scenarios`).

* Puspemkab (the regency's government complex): BKPSDM and Diskominfo next door to each other,
  one brick wall between them; both require rotating ids (Eddystone-EID badges).
* Kantor Kecamatan Haurgeulis, about 45 km west: requires EIDs; where relayed EIDs turn up.
* UPTD Puskesmas Sindang, about 2.5 km west of the complex: older static badges (iBeacon and
  Eddystone-UID), so it does not require EIDs; its badges' clones are what turns up elsewhere.

Positions are approximate (for the simulation; offices of a real deployment come from its
configuration). Floors of 16 x 12 m with 40 desks and `scanners` (4) on the ceiling
(`radio.office_floor`). The simulated offices' `enter_dbm` is -80 and `exit_dbm` -90: every desk
reads at least about -75 dBm (mean) from its nearest scanner on these floors, and a desk next
door at most about -86 dBm through the wall (an installer sets them so from a walk-through).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np

from kinds.badge.config import CIVIL_SERVICE_SCHEDULE, OfficeConfig
from kinds.badge.travel import MAX_KMH, distance_km
from kinds.badge.sim.office import OfficeWorld, SimBadge
from kinds.badge.sim.radio import OfficeFloor, Site, adjacent_floors
from kinds.badge.sim.scenarios import SimOffice, plan_spoofs
from kinds.badge.sim.truth import Spoof, Stay
from kinds.badge.sim.staff_days import StaffDay, StaffMember, simulate_staff_days

TENANT = "kab-indramayu"
WIB = ZoneInfo("Asia/Jakarta")
#: The iBeacon proximity UUID the regency's static badges share (major: office, minor: badge).
IBEACON_UUID = bytes.fromhex("b9407f30f5f8466eaff925556b57fe6d")
#: The Eddystone-UID namespace of its static badges (10 bytes).
UID_NAMESPACE = bytes.fromhex("8b0ca750e7a74e14bd99")


@dataclass(frozen=True, slots=True)
class OfficePlace:
    id: str
    name: str
    site: str
    lat: float
    lon: float
    require_eid: bool


OFFICES: tuple[OfficePlace, ...] = (
    OfficePlace("bkpsdm", "BKPSDM Kabupaten Indramayu", "puspemkab", -6.3273, 108.3235, True),
    OfficePlace("diskominfo", "Diskominfo Kabupaten Indramayu", "puspemkab", -6.3273, 108.3238, True),
    OfficePlace("kec-haurgeulis", "Kantor Kecamatan Haurgeulis", "haurgeulis", -6.4633, 107.9430, True),
    OfficePlace("puskesmas-sindang", "UPTD Puskesmas Sindang", "sindang", -6.3190, 108.3010, False),
)


@dataclass
class SimWorld:
    """Everything a run needs: the world to generate from, the offices as the gateway's
    configuration declares them, the scanners (device id -> office) and the truth."""

    world: OfficeWorld
    offices: list[SimOffice]
    office_configs: list[OfficeConfig]
    scanners: dict[str, str]
    staff_days: list[StaffDay]
    employee_badge: dict[str, str] = field(default_factory=dict)

    @property
    def stays(self) -> list[Stay]:
        return self.world.stays

    @property
    def spoofs(self) -> list[Spoof]:
        return self.world.spoofs

    def dispute_s(self, spoof: Spoof) -> float:
        """How long after a relay ends its events may still come: the gateway keeps the badge
        in dispute until the far office has been silent for the travel time between the two
        (`edge.site`), at `travel.MAX_KMH`; 0 for the other scenarios."""
        if spoof.kind != "eid_relay" or spoof.source_office is None:
            return 0.0
        place = {o.id: o for o in self.office_configs}
        a, b = place[spoof.source_office], place[spoof.office]
        return 3600.0 * distance_km(a.lat, a.lon, b.lat, b.lon) / MAX_KMH


def scanner_id(office: str, k: int) -> str:
    return f"scn-{office}-{k:02d}"


def _floors(staff: dict[str, int], scanners: int) -> list[Site]:
    """One site per place; the two offices of the complex share a wall."""
    sites: dict[str, list[OfficePlace]] = {}
    for o in OFFICES:
        sites.setdefault(o.site, []).append(o)
    out = []
    for site, places in sites.items():
        # Floors of 16 x 12 m: 40 desks each (more staff is a ValueError).
        floors = adjacent_floors([(o.id, [scanner_id(o.id, k) for k in range(scanners)], staff.get(o.id, 0)) for o in places], width=16.0)
        out.append(Site(site, tuple(floors)))
    return out


def _wall_desks(site: Site, floor: OfficeFloor) -> list[int]:
    """Desks of `floor` within 1.5 m of a wall it shares with another floor of its site."""
    edges = set()
    for other in site.floors:
        if other is floor:
            continue
        if abs(other.x0 + other.width - floor.x0) < 1e-6:
            edges.add(floor.x0)
        if abs(floor.x0 + floor.width - other.x0) < 1e-6:
            edges.add(floor.x0 + floor.width)
    return [i for i, (x, _) in enumerate(floor.desks) if any(abs(x - e) < 1.5 for e in edges)]


def build_world(
    employees: int, start: date, days: int, *, seed: int = 21, scanners: int = 4, holidays: Iterable[date] = (),
    spoofs_per_kind: int = 4, wall_badges_per_office: int = 2,
) -> SimWorld:
    """`employees` spread over the four offices (the complex's two get the most), their days from
    `start` for `days` days, and the planned spoofing attempts."""
    rng = np.random.default_rng(seed)
    shares = {"bkpsdm": 0.35, "diskominfo": 0.35, "kec-haurgeulis": 0.15, "puskesmas-sindang": 0.15}
    staff = {o: max(2, round(employees * s)) for o, s in shares.items()}
    staff["bkpsdm"] += employees - sum(staff.values())  # what rounding left over
    if staff["bkpsdm"] < 2:
        raise ValueError(f"{employees} employees are too few for four offices")
    sites = _floors(staff, scanners)
    site_of = {f.office: s for s in sites for f in s.floors}
    epoch = int(datetime.combine(start - timedelta(days=30), time(0), tzinfo=timezone.utc).timestamp())
    badges: dict[str, SimBadge] = {}
    desk: dict[str, tuple[str, int]] = {}
    members: list[StaffMember] = []
    employee_badge: dict[str, str] = {}
    wall: set[str] = set()
    for office_no, place in enumerate(OFFICES, start=1):
        floor = site_of[place.id].floor(place.id)
        walls = _wall_desks(site_of[place.id], floor)[:wall_badges_per_office]
        order = walls + [i for i in range(len(floor.desks)) if i not in walls]
        for n in range(staff[place.id]):
            badge_id = "b" + rng.bytes(6).hex()
            if place.require_eid:
                b = SimBadge(badge_id, "eid", identity_key=rng.bytes(16), k=int(rng.integers(8, 13)), epoch=epoch)
            elif n % 2 == 0:
                b = SimBadge(badge_id, "ibeacon", uuid=IBEACON_UUID, major=office_no, minor=n + 1)
            else:
                b = SimBadge(badge_id, "uid", namespace=UID_NAMESPACE, instance=(office_no << 32 | n + 1).to_bytes(6, "big"))
            badges[badge_id] = b
            desk[badge_id] = (place.id, order[n])
            if order[n] in walls:
                wall.add(badge_id)
            employee = f"{place.id}-{n + 1:03d}"
            employee_badge[employee] = badge_id
            members.append(StaffMember(employee, place.id, CIVIL_SERVICE_SCHEDULE))
    truth = simulate_staff_days(members, start, days, holidays, WIB, seed)
    stays = [
        Stay(employee_badge[d.employee], d.office, a, b)
        for d in truth for a, b in d.intervals
    ]
    offices = [SimOffice(o.id, o.site, o.require_eid) for o in OFFICES]
    home = {b: office for b, (office, _) in desk.items()}
    day_list = [start + timedelta(days=k) for k in range(days)]
    spoofs = plan_spoofs({b: x.format for b, x in badges.items()}, offices, stays, day_list, rng, per_kind=spoofs_per_kind, home_office=home)
    world = OfficeWorld(sites, badges, desk, stays, spoofs, wall)
    configs = [
        OfficeConfig(id=o.id, tenant=TENANT, name=o.name, lat=o.lat, lon=o.lon, require_eid=o.require_eid, enter_dbm=-80.0, exit_dbm=-90.0)
        for o in OFFICES
    ]
    scanner_office = {s.id: s.office for site in sites for s in site.scanners}
    return SimWorld(world, offices, configs, scanner_office, truth, employee_badge)
