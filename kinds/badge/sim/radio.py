"""The radio between badges and office scanners: which scanner hears a badge, and at what RSSI.

Why a model and not recorded RSSI: the gateway's presence machine must be scored against the
truth (who was where when), which a recording does not have, and over a month of days, which a
recording cannot be. The model is the one the gateway's distance estimate inverts, so it is
simple on purpose; what makes it hard for the gateway is the noise, the walls and the misses.

Model (the log-distance path loss of ITU-R P.1238, "Propagation data and prediction methods for
the planning of indoor radiocommunication systems", with a loss per wall crossed as in Seidel
and Rappaport, "914 MHz path loss prediction models for indoor wireless communications in
multifloored buildings", IEEE Trans. Antennas Propag. 40(2), 1992):

    RSSI = P_1m - 10 n log10(d / 1 m) - wall_db * walls + X,    X ~ N(0, sigma^2)

* `P_1m`: the badge's received power at 1 m, what an iBeacon advertises as its measured power
  (typically -59 dBm: Apple, "Proximity Beacon Specification", release R1).
* `n = 2.7`: an obstructed office floor. Free space is 2; measured indoor exponents run from
  about 1.6 (a corridor) to 4-6 (obstructed: Rappaport, "Wireless Communications: Principles
  and Practice", 2nd ed., table 4.2); P.1238's office coefficient at 2.4 GHz, N = 10 n, is
  about 28-30.
* `wall_db = 8`: a plastered brick wall at 2.4 GHz (Cisco/Airespace design notes: drywall
  3-4 dB, brick about 8 dB, concrete 10-15 dB; NIST IR 6055, Stone 1997, "Electromagnetic signal
  attenuation in construction materials", measured the same order).
* `sigma`: drawn per badge, uniformly in 1.5-3.7 dB (issue 21: the spread BLE RSSI shows
  between badges, bodies and mountings).
* Missed advertisements: a scanner listens on one of the three advertising channels at a time
  and is busy part of each interval, so it misses a share of a badge's advertisements
  (`missed_share`, default 0.2; an assumption, not a measurement). A sample below the
  receiver's sensitivity (-95 dBm, about what common scanner chips reach at 1 Mbit/s: nRF52840
  and ESP32 data sheets) is not heard either.

Pure: positions in metres on a site's floor plan, randomness from the caller's seeded
`numpy.random.Generator`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: Badge height (worn on the chest, seated or standing) and scanner height (on the ceiling), m.
BADGE_Z_M = 1.2
SCANNER_Z_M = 2.7


@dataclass(frozen=True, slots=True)
class PathLoss:
    """The channel's constants (see the module docstring for their sources)."""

    exponent: float = 2.7
    wall_db: float = 8.0
    sigma_db: tuple[float, float] = (1.5, 3.7)
    missed_share: float = 0.2
    sensitivity_dbm: float = -95.0

    def __post_init__(self) -> None:
        if not 1.0 <= self.exponent <= 6.0:
            raise ValueError(f"path loss exponent {self.exponent} outside 1-6")
        if not 0.0 <= self.missed_share < 1.0:
            raise ValueError(f"missed share {self.missed_share} outside [0, 1)")
        lo, hi = self.sigma_db
        if not 0.0 <= lo <= hi:
            raise ValueError(f"sigma range {self.sigma_db} is not low <= high")

    def mean_rssi(self, tx_power_1m: float, distance_m: np.ndarray | float, walls: np.ndarray | int = 0) -> np.ndarray:
        """The mean RSSI (dBm) at `distance_m` through `walls` walls; distances under 0.1 m count
        as 0.1 m (the near field is no place for a log law, and log10(0) is none)."""
        d = np.maximum(np.asarray(distance_m, dtype=float), 0.1)
        return tx_power_1m - 10.0 * self.exponent * np.log10(d) - self.wall_db * np.asarray(walls, dtype=float)

    def distance_m(self, tx_power_1m: float, rssi_dbm: float) -> float:
        """The inverse, as a gateway estimates distance from a smoothed RSSI (no walls known)."""
        return float(10 ** ((tx_power_1m - rssi_dbm) / (10 * self.exponent)))

    def badge_sigmas(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.sigma_db[0], self.sigma_db[1], n)

    def sample(self, rng: np.random.Generator, mean: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """One scan interval's RSSI readings, rounded to whole dBm as scanners report them, for
        a (badges x scanners) array of means and a per-badge sigma; NaN where the scanner did
        not hear the badge (missed, or below sensitivity). NaN means stay unheard."""
        noisy = mean + rng.standard_normal(mean.shape) * sigma[:, None]
        heard = (rng.random(mean.shape) >= self.missed_share) & (noisy >= self.sensitivity_dbm)
        return np.where(heard, np.rint(noisy), np.nan)


@dataclass(frozen=True, slots=True)
class Scanner:
    """A scanner (a device of kind `badge`) on an office's ceiling."""

    id: str
    office: str
    x: float
    y: float
    z: float = SCANNER_Z_M


@dataclass(frozen=True, slots=True)
class Wall:
    x0: float
    y0: float
    x1: float
    y1: float

    def crosses(self, ax: float, ay: float, bx: float, by: float) -> bool:
        """Whether the straight path a-b passes through this wall (touching an end counts)."""
        def orient(px: float, py: float, qx: float, qy: float, rx: float, ry: float) -> float:
            return (qx - px) * (ry - py) - (qy - py) * (rx - px)

        d1 = orient(self.x0, self.y0, self.x1, self.y1, ax, ay)
        d2 = orient(self.x0, self.y0, self.x1, self.y1, bx, by)
        d3 = orient(ax, ay, bx, by, self.x0, self.y0)
        d4 = orient(ax, ay, bx, by, self.x1, self.y1)
        return (d1 * d2 <= 0) and (d3 * d4 <= 0) and not (d1 == d2 == 0)


@dataclass(frozen=True)
class OfficeFloor:
    """One office's open-plan floor: a rectangle with brick walls, desks in rows, a door on its
    south side and scanners in a grid on the ceiling."""

    office: str
    x0: float
    y0: float
    width: float
    depth: float
    desks: tuple[tuple[float, float], ...]
    door: tuple[float, float]
    scanners: tuple[Scanner, ...]

    def walls(self) -> list[Wall]:
        x0, y0, x1, y1 = self.x0, self.y0, self.x0 + self.width, self.y0 + self.depth
        return [Wall(x0, y0, x1, y0), Wall(x1, y0, x1, y1), Wall(x0, y1, x1, y1), Wall(x0, y0, x0, y1)]

    def inside(self, x: float, y: float) -> bool:
        return self.x0 < x < self.x0 + self.width and self.y0 < y < self.y0 + self.depth


def office_floor(
    office: str, scanners: list[str], *, x0: float = 0.0, y0: float = 0.0, width: float = 24.0, depth: float = 12.0,
    desks: int | None = 40, desk_pitch_m: float = 2.0,
) -> OfficeFloor:
    """An office floor with `desks` desks (None: as many as it holds) in rows `desk_pitch_m`
    apart (from 1 m off the walls) and its scanners spread in a grid over the floor, in the
    order of `scanners`. Desks are placed row by row from the north wall; more than the floor
    holds is a `ValueError`."""
    if not scanners:
        raise ValueError(f"office {office!r} needs at least one scanner")
    cols = max(1, int((width - 2.0) // desk_pitch_m) + 1)
    rows = max(1, int((depth - 3.0) // desk_pitch_m) + 1)  # the south metre and a half is the door's aisle
    if desks is None:
        desks = cols * rows
    if desks > cols * rows:
        raise ValueError(f"office {office!r}: {desks} desks do not fit {width} x {depth} m at {desk_pitch_m} m")
    spots = [(x0 + 1.0 + c * desk_pitch_m, y0 + depth - 1.0 - r * desk_pitch_m) for r in range(rows) for c in range(cols)]
    # A grid of scanners as square as the floor allows, each in the middle of its cell.
    n = len(scanners)
    gx = max(1, round(math.sqrt(n * width / depth)))
    gy = math.ceil(n / gx)
    cells = [(x0 + (i + 0.5) * width / gx, y0 + (j + 0.5) * depth / gy) for j in range(gy) for i in range(gx)][:n]
    return OfficeFloor(
        office, x0, y0, width, depth, tuple(spots[:desks]), (x0 + width / 2, y0 + 0.5),
        tuple(Scanner(s, office, x, y) for s, (x, y) in zip(scanners, cells)),
    )


@dataclass(frozen=True)
class Site:
    """A building: office floors side by side, one shared wall where two floors touch. A
    badge at one site is never heard at another (another building, kilometres away)."""

    id: str
    floors: tuple[OfficeFloor, ...]
    walls: tuple[Wall, ...] = field(init=False)

    def __post_init__(self) -> None:
        seen: dict[tuple[float, float, float, float], Wall] = {}
        for floor in self.floors:
            for w in floor.walls():
                key = (min(w.x0, w.x1), min(w.y0, w.y1), max(w.x0, w.x1), max(w.y0, w.y1))
                seen.setdefault(key, w)  # the wall two floors share is one wall
        object.__setattr__(self, "walls", tuple(seen.values()))

    @property
    def scanners(self) -> tuple[Scanner, ...]:
        return tuple(s for f in self.floors for s in f.scanners)

    def floor(self, office: str) -> OfficeFloor:
        for f in self.floors:
            if f.office == office:
                return f
        raise KeyError(office)

    def walls_between(self, x: float, y: float, scanner: Scanner) -> int:
        return sum(w.crosses(x, y, scanner.x, scanner.y) for w in self.walls)

    def mean_rssi(self, model: PathLoss, spots: list[tuple[float, float]], tx_power_1m: float) -> np.ndarray:
        """(spots x scanners) mean RSSI of a badge of `tx_power_1m` at each spot: worked out once
        per site, since badges sit at desks and doors, not anywhere."""
        scanners = self.scanners
        out = np.empty((len(spots), len(scanners)))
        for i, (x, y) in enumerate(spots):
            for j, s in enumerate(scanners):
                d = math.sqrt((x - s.x) ** 2 + (y - s.y) ** 2 + (BADGE_Z_M - s.z) ** 2)
                out[i, j] = model.mean_rssi(tx_power_1m, d, self.walls_between(x, y, s))
        return out


def adjacent_floors(offices: list[tuple[str, list[str], int]], *, width: float = 24.0, depth: float = 12.0) -> list[OfficeFloor]:
    """Floors of (office, scanners, staff) in a row along x, each sharing its east wall with
    the next one's west wall: two agencies next door to each other in one building. Each floor
    is laid with as many desks as it holds (staff sit where the caller seats them)."""
    floors = [office_floor(o, s, x0=i * width, width=width, depth=depth, desks=None) for i, (o, s, _) in enumerate(offices)]
    for (o, _, n), f in zip(offices, floors):
        if n > len(f.desks):
            raise ValueError(f"office {o!r}: {n} staff do not fit {len(f.desks)} desks")
    return floors
