"""A seeded echogram of a small boat's fish-finder, with the truth about what is in it.

Why: school detection (`schools`) is scored against scenes whose content is known, with the
things that fool a threshold detector in them: the seabed, surface bubbles, noise that grows
with depth, single fish and weak plankton layers. Pure: the caller passes a numpy `Generator`
and the start time; nothing reads a clock.

Levels (volume backscattering strength Sv, dB re 1 m^-1, defined in MacLennan, Fernandes &
Dalen 2002, ICES J. Mar. Sci. 59:365-369, https://doi.org/10.1006/jmsc.2001.1158) are model
choices placed around published anchors rather than a calibration of any one sounder:

* Schools -60 to -35 dB: clear of the -70 dB school threshold of Weill et al. (1993, MOVIES-B,
  Aquat. Living Resour. 6:255-267), the default of echopy's `weill()`
  (https://github.com/open-ocean-sounding/echopy/blob/master/echopy/processing/mask_shoals.py),
  from sparse aggregations to dense schools (Simmonds & MacLennan, Fisheries Acoustics, 2nd ed.,
  Blackwell 2005, on the echo levels of fish aggregations).
* Seabed -20 to -10 dB at its peak, well above echopy's `maxSv` seabed threshold of -40 dB
  (https://github.com/open-ocean-sounding/echopy/blob/master/echopy/processing/mask_seabed.py),
  with a tail below it: off the beam's axis a flat seabed lies at longer ranges.
* Background noise as it appears after time-varied gain: a constant noise level plus
  20 log10(r) + 2 alpha r, so it rises with depth (De Robertis & Higginbottom 2007, ICES J. Mar.
  Sci. 64:1282-1291, https://doi.org/10.1093/icesjms/fsm112); alpha 0.07 dB/m is absorption
  near 200 kHz in warm sea water (Francois & Garrison 1982, J. Acoust. Soc. Am. 72:1879).
  The default noise is about -77 dB at 50 m, -87 dB at 25 m and -97 dB at 10 m, and -64 dB at
  100 m: -118 dB at 1 m, near the -120 dB Acoustics Unpacked quotes for a 120 kHz scientific
  sounder (http://acousticsunpacked.org/Examples/NoiseLevel/NoiseLevel.html), a small boat's
  sounder assumed no quieter. So beyond about 80 m noise alone passes the -70 dB school
  threshold, as it does on real echograms: a detector must remove it (`edge.background_noise`).
* Single fish -55 to -40 dB in one or two bins over 2-6 pings: strong, but too small for a
  school.
* Surface: transducer ringing (-25 dB) in the first 0.3 m and bubbles, -60 to -35 dB at the
  surface, fading to their lower edge at 0.5-1.8 m, within the 2 m a detector masks.
* Plankton layers -82 to -75 dB: weaker than the -70 dB threshold with margin for the
  bin-to-bin fluctuation, as scattering layers below a school threshold are meant to be.
* Each bin's intensity fluctuates as a gamma variate of `speckle_looks` degrees (one look is
  the Rayleigh-amplitude, exponential-intensity echo of many random scatterers, Simmonds &
  MacLennan 2005; a bin averaging a few samples has more looks).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
from scipy.signal import lfilter

from kinds.fishfinder.values import Ping

# Where the schools may sit: below the surface zone a detector masks, above the seabed.
SCHOOL_MIN_DEPTH_M = 3.0
SCHOOL_ABOVE_BOTTOM_M = 1.5


@dataclass(frozen=True, slots=True)
class SceneSpec:
    """What a scene holds. Ranges are (low, high), drawn uniformly per object."""

    n_bins: int = 500
    bin_m: float = 0.1
    range_start_m: float = 0.0
    ping_interval_s: float = 0.5  # about 2 pings/s
    ping_jitter_s: float = 0.02
    speed_mps: float = 2.0  # about 4 kn: a school `length_m` long is under the boat length/speed seconds
    noise_db_re_1m: float = -118.0
    absorption_db_per_m: float = 0.07
    speckle_looks: float = 3.0
    bubble_sv_db: tuple[float, float] = (-60.0, -35.0)
    bubble_depth_m: tuple[float, float] = (0.5, 1.8)
    seabed_sv_db: tuple[float, float] = (-20.0, -10.0)
    seabed_tail_db_per_m: float = 12.0
    school_gap_s: float = 30.0  # mean gap between schools (exponential), at least `school_min_gap_s`
    school_min_gap_s: float = 5.0
    school_sv_db: tuple[float, float] = (-60.0, -35.0)
    school_thickness_m: tuple[float, float] = (1.0, 6.0)
    school_length_m: tuple[float, float] = (10.0, 60.0)
    school_drift_mps: float = 0.05  # vertical, either way
    single_fish_per_min: float = 10.0
    single_fish_sv_db: tuple[float, float] = (-55.0, -40.0)
    plankton_layers: tuple[int, int] = (0, 2)
    plankton_sv_db: tuple[float, float] = (-82.0, -75.0)
    plankton_thickness_m: tuple[float, float] = (1.0, 4.0)
    bottom_m: tuple[float, float] = (15.0, 40.0)  # the range a generated bottom wanders in

    def __post_init__(self) -> None:
        if self.n_bins < 10 or not self.bin_m > 0 or self.range_start_m < 0:
            raise ValueError("need at least 10 bins of positive size from a non-negative range")
        if not self.ping_interval_s > 2 * self.ping_jitter_s >= 0:
            raise ValueError("ping interval must exceed twice the jitter, so times increase")
        if not self.speed_mps > 0 or not self.speckle_looks > 0 or not self.school_gap_s > 0:
            raise ValueError("speed, speckle looks and school gap must be positive")


@dataclass(frozen=True, slots=True)
class TrueObject:
    """Where one simulated object is: pings [first_ping, last_ping] (indices into the scene,
    inclusive), their times, and the depth range [top_m, bottom_m] it covers in any of them."""

    kind: str  # "school", "single_fish", "plankton"
    first_ping: int
    last_ping: int
    start: datetime
    end: datetime
    top_m: float
    bottom_m: float
    sv_db: float  # the object's mean level before fluctuation


@dataclass(frozen=True)
class Scene:
    spec: SceneSpec
    sv_db: np.ndarray  # (pings, bins) float32, read-only
    times_s: np.ndarray  # (pings,) POSIX seconds
    bottom_m: np.ndarray  # (pings,) true bottom depth
    schools: tuple[TrueObject, ...]
    single_fish: tuple[TrueObject, ...]
    plankton: tuple[TrueObject, ...]
    first_seq: int = field(default=0)

    @property
    def times(self) -> list[datetime]:
        return [_utc(t) for t in self.times_s]

    def pings(self) -> Iterator[Ping]:
        """The scene as the sounder sends it: one `Ping` column after another."""
        for k, row in enumerate(self.sv_db):
            yield Ping(ts=_utc(self.times_s[k]), seq=self.first_seq + k, bin_m=self.spec.bin_m, sv_db=row, range_start_m=self.spec.range_start_m)


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(float(t), timezone.utc)


def _db(x: np.ndarray | float) -> np.ndarray:
    return 10.0 * np.log10(x)


def _lin(db: np.ndarray | float) -> np.ndarray:
    return np.power(10.0, np.asarray(db, dtype=np.float64) / 10.0)


def wandering_bottom(rng: np.random.Generator, times_s: np.ndarray, depth_range_m: tuple[float, float]) -> np.ndarray:
    """A seabed under a moving boat: a smooth random walk of slopes, kept inside the range."""
    lo, hi = depth_range_m
    if not 0 < lo < hi:
        raise ValueError("bottom depth range must be 0 < low < high")
    dt = np.diff(times_s, prepend=times_s[0])
    slope = _smooth_series(rng, len(times_s), -0.15, 0.15, keep=0.995)  # m/s: up to 7.5 % at 2 m/s
    depth = rng.uniform(lo, hi) + np.cumsum(slope * dt)
    span = hi - lo  # fold back into [lo, hi] (a reflecting walk)
    return lo + span - np.abs(np.mod(depth - lo, 2 * span) - span)


def simulate_scene(
    rng: np.random.Generator, n_pings: int, t0: datetime, spec: SceneSpec = SceneSpec(), bottom_m: np.ndarray | None = None, first_seq: int = 0
) -> Scene:
    """`n_pings` echogram columns from `t0` on. `bottom_m` (one depth per ping, e.g. the
    boat's own depth sounding interpolated to the ping times) sets the seabed; without it the
    seabed wanders within `spec.bottom_m`. A bottom beyond the range gives no seabed echo."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy Generator (np.random.default_rng(seed))")
    if n_pings < 1:
        raise ValueError("n_pings must be at least 1")
    if t0.tzinfo is None:
        raise ValueError("t0 must be timezone-aware (UTC)")
    steps = spec.ping_interval_s + rng.uniform(-spec.ping_jitter_s, spec.ping_jitter_s, n_pings)
    steps[0] = 0.0
    # Whole microseconds, as a `Ping`'s datetime holds them: times_s[k] == pings' ts.timestamp().
    times_s = np.array([_utc(t).timestamp() for t in t0.timestamp() + np.cumsum(steps)])
    if bottom_m is None:
        bottom = wandering_bottom(rng, times_s, spec.bottom_m)
    else:
        bottom = np.asarray(bottom_m, dtype=np.float64)
        if bottom.shape != (n_pings,) or not np.all(np.isfinite(bottom)) or np.any(bottom <= 0):
            raise ValueError("bottom_m must hold one positive, finite depth per ping")
    z_top = spec.range_start_m + np.arange(spec.n_bins) * spec.bin_m
    z_mid = z_top + spec.bin_m / 2
    mean = np.zeros((n_pings, spec.n_bins))
    _add_noise(mean, z_mid, spec)
    _add_surface(rng, mean, z_mid, spec)
    _add_seabed(rng, mean, z_mid, bottom, spec)
    plankton = _add_plankton(rng, mean, z_top, bottom, times_s, spec)
    schools = _add_schools(rng, mean, z_top, bottom, times_s, spec)
    fish = _add_single_fish(rng, mean, z_top, bottom, times_s, spec, schools)
    k = spec.speckle_looks
    sv = _db(mean * rng.gamma(k, 1.0 / k, mean.shape)).astype(np.float32)
    sv.setflags(write=False)
    return Scene(spec, sv, times_s, bottom, tuple(schools), tuple(fish), tuple(plankton), first_seq)


def _add_noise(mean: np.ndarray, z_mid: np.ndarray, spec: SceneSpec) -> None:
    r = np.maximum(z_mid, 1.0)
    mean += _lin(spec.noise_db_re_1m + 20 * np.log10(r) + 2 * spec.absorption_db_per_m * r)


def _smooth_series(rng: np.random.Generator, n: int, lo: float, hi: float, keep: float = 0.97) -> np.ndarray:
    """A slowly varying value in [lo, hi]: an AR(1) process mapped through a logistic."""
    shocks = rng.normal(0.0, np.sqrt(1 - keep**2), n)
    shocks[0] = rng.normal()
    x = lfilter([1.0], [1.0, -keep], shocks)
    return lo + (hi - lo) / (1 + np.exp(-1.5 * x))


def _add_surface(rng: np.random.Generator, mean: np.ndarray, z_mid: np.ndarray, spec: SceneSpec) -> None:
    """Transducer ringing in the first 0.3 m, then bubbles swept under the hull, strongest at
    the surface and fading to 20 dB weaker at their varying lower edge."""
    n = mean.shape[0]
    mean[:, z_mid < 0.3] += _lin(-25.0)
    level = _smooth_series(rng, n, *spec.bubble_sv_db)
    depth = _smooth_series(rng, n, *spec.bubble_depth_m)
    frac = z_mid[None, :] / depth[:, None]
    mean += np.where(frac < 1.0, _lin(level[:, None] - 20.0 * frac), 0.0)


def _add_seabed(rng: np.random.Generator, mean: np.ndarray, z_mid: np.ndarray, bottom: np.ndarray, spec: SceneSpec) -> None:
    """The peak in the bin holding the bottom, a two-bin leading edge above, a tail below."""
    peak = np.clip(rng.uniform(*spec.seabed_sv_db) + rng.normal(0.0, 1.5, len(bottom)), *spec.seabed_sv_db)
    bottom_bin = np.floor((bottom - spec.range_start_m) / spec.bin_m).astype(np.int64)
    rel = np.arange(len(z_mid))[None, :] - bottom_bin[:, None]
    sv = np.where(rel >= 0, peak[:, None] - spec.seabed_tail_db_per_m * spec.bin_m * rel, -np.inf)
    sv = np.where(rel == -1, peak[:, None] - 25.0, sv)
    sv = np.where(rel == -2, peak[:, None] - 40.0, sv)
    mean += _lin(sv)


def _truth(kind: str, cover: np.ndarray, rows: np.ndarray, z_top: np.ndarray, times_s: np.ndarray, bin_m: float, sv_db: float) -> TrueObject | None:
    """The rows and depth range actually rendered (cover: rows x bins boolean)."""
    hit_rows = rows[cover.any(axis=1)]
    hit_bins = np.flatnonzero(cover.any(axis=0))
    if not len(hit_rows):
        return None
    first, last = int(hit_rows[0]), int(hit_rows[-1])
    return TrueObject(kind, first, last, _utc(times_s[first]), _utc(times_s[last]), float(z_top[hit_bins[0]]), float(z_top[hit_bins[-1]] + bin_m), sv_db)


def _add_plankton(rng: np.random.Generator, mean: np.ndarray, z_top: np.ndarray, bottom: np.ndarray, times_s: np.ndarray, spec: SceneSpec) -> list[TrueObject]:
    """Thin layers over much of the scene, undulating slowly, weaker than the school threshold."""
    out: list[TrueObject] = []
    n = len(times_s)
    z_mid = z_top + spec.bin_m / 2
    for _ in range(rng.integers(spec.plankton_layers[0], spec.plankton_layers[1] + 1)):
        first = int(rng.integers(0, max(1, n // 3)))
        last = int(rng.integers(min(n - 1, first + n // 3), n))
        rows = np.arange(first, last + 1)
        thick = rng.uniform(*spec.plankton_thickness_m)
        floor = min(float(bottom[rows].min()), z_top[-1]) - thick / 2 - 1.0
        if floor <= 5.0:
            continue
        amp, period = rng.uniform(0.0, 1.0), rng.uniform(60.0, 300.0)
        centre = rng.uniform(5.0, floor) + amp * np.sin(2 * np.pi * (times_s[rows] - times_s[0]) / period + rng.uniform(0, 2 * np.pi))
        cover = np.abs(z_mid[None, :] - centre[:, None]) <= thick / 2
        level = rng.uniform(*spec.plankton_sv_db)
        t = _truth("plankton", cover, rows, z_top, times_s, spec.bin_m, level)
        if t is not None and not _near(t, out, pings=0):  # two layers in one place would add up
            mean[rows] += np.where(cover, _lin(level), 0.0)
            out.append(t)
    return out


def _add_schools(rng: np.random.Generator, mean: np.ndarray, z_top: np.ndarray, bottom: np.ndarray, times_s: np.ndarray, spec: SceneSpec) -> list[TrueObject]:
    """Ellipses in (time, depth), one after another with gaps between, each drifting up or down."""
    out = []
    n = len(times_s)
    z_mid = z_top + spec.bin_m / 2
    row = int(rng.exponential(spec.school_gap_s) / spec.ping_interval_s)
    while True:
        half_w = max(2.0, rng.uniform(*spec.school_length_m) / spec.speed_mps / spec.ping_interval_s / 2)
        first, last = row, row + int(np.ceil(2 * half_w))
        if last >= n:
            break
        rows = np.arange(first, last + 1)
        centre_row = (first + last) / 2
        drift = rng.uniform(-spec.school_drift_mps, spec.school_drift_mps)
        drift_m = drift * (times_s[rows] - times_s[int(centre_row)])
        floor = min(float(bottom[rows].min()), z_top[-1]) - SCHOOL_ABOVE_BOTTOM_M
        room = floor - SCHOOL_MIN_DEPTH_M - np.ptp(drift_m)
        thick = min(rng.uniform(*spec.school_thickness_m), room)
        if thick >= spec.school_thickness_m[0]:
            lo = SCHOOL_MIN_DEPTH_M + thick / 2 - drift_m.min()
            hi = floor - thick / 2 - drift_m.max()
            centre = rng.uniform(lo, hi) + drift_m
            u = (rows - centre_row) / half_w
            half_h = thick / 2 * np.sqrt(np.clip(1 - u**2, 0.0, None))
            cover = np.abs(z_mid[None, :] - centre[:, None]) <= half_h[:, None]
            level = rng.uniform(*spec.school_sv_db)
            mean[rows] += np.where(cover, _lin(level), 0.0)
            if (t := _truth("school", cover, rows, z_top, times_s, spec.bin_m, level)) is not None:
                out.append(t)
        gap = max(spec.school_min_gap_s, rng.exponential(spec.school_gap_s))
        row = last + 1 + int(gap / spec.ping_interval_s)
    return out


def _near(a: TrueObject, others: list[TrueObject], pings: int = 4, metres: float = 1.0) -> bool:
    return any(a.first_ping - pings <= o.last_ping and o.first_ping <= a.last_ping + pings and a.top_m - metres < o.bottom_m and o.top_m < a.bottom_m + metres for o in others)


def _add_single_fish(rng: np.random.Generator, mean: np.ndarray, z_top: np.ndarray, bottom: np.ndarray, times_s: np.ndarray, spec: SceneSpec, schools: list[TrueObject]) -> list[TrueObject]:
    """A fish crossing the beam: an arch 1-2 bins tall over 2-6 pings, its range least when it is
    under the transducer (at most 0.4 m from the top of the arch to the bottom of its ends). Fish keep apart from schools and from each other: two fish in one
    spot would be a (tiny) school, and the truth would no longer say which is which."""
    out: list[TrueObject] = []
    n = len(times_s)
    duration_min = (times_s[-1] - times_s[0]) / 60.0
    for _ in range(rng.poisson(spec.single_fish_per_min * duration_min)):
        width = int(rng.integers(2, 7))
        first = int(rng.integers(0, max(1, n - width)))
        rows = np.arange(first, min(n, first + width))
        floor = min(float(bottom[rows].min()), z_top[-1]) - 1.0
        if floor <= SCHOOL_MIN_DEPTH_M - 0.5:
            continue
        depth = rng.uniform(SCHOOL_MIN_DEPTH_M - 0.5, floor)
        arch = depth + 0.02 * (rows - rows.mean()) ** 2
        top_bin = np.floor((arch - spec.range_start_m) / spec.bin_m).astype(int)
        tall = int(rng.integers(1, 3))
        bins = np.arange(len(z_top))[None, :]
        cover = (bins >= top_bin[:, None]) & (bins < top_bin[:, None] + tall)
        level = rng.uniform(*spec.single_fish_sv_db)
        t = _truth("single_fish", cover, rows, z_top, times_s, spec.bin_m, level)
        if t is not None and not _near(t, schools + out):
            mean[rows] += np.where(cover, _lin(level), 0.0)
            out.append(t)
    return out
