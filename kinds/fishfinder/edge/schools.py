"""Fish schools in a fish-finder's echogram, found at the edge so only a few numbers per school
travel over a boat's thin link instead of the echogram itself.

The method is the threshold-and-contiguity school detector of Weill, Scalabrin & Diner (1993,
"MOVIES-B", Aquat. Living Resour. 6:255-267), as echopy implements it (`weill()`, threshold
-70 dB, https://github.com/open-ocean-sounding/echopy/blob/master/echopy/processing/mask_shoals.py):

1. Background noise is estimated from the pings, subtracted, and samples less than
   `snr_threshold_db` above it dropped (De Robertis & Higginbottom 2007, see `background_noise`):
   TVG-amplified noise passes -70 dB beyond about 80 m at 200 kHz, and where the seabed is out
   of range nothing else masks it. Of the rest, samples with Sv above `sv_threshold_db` are
   candidates (NaN and -inf are no echo).
2. The surface zone (transducer ringing and the bubbles swept under a hull) and everything from
   `bottom_margin_m` above the seabed down are masked. The seabed in a ping is the strongest
   echo below the surface zone if it exceeds `bottom_threshold_db`; its depth is the shallowest
   sample above that threshold within `bottom_rise_m` above the peak (the echo's leading edge;
   echopy's `maxSv` seabed mask likewise steps up from the peak), so a peak in the fluctuating
   tail does not put the seabed too deep. A ping without such an echo (seabed out of range, or
   too soft) has no seabed mask: a soft bottom weaker than the threshold can pass for a school.
3. Optionally, vertical gaps of at most `max_vertical_gap_m` inside a ping are filled (Weill's
   vertical contiguity); then candidates sharing a depth sample in neighbouring pings are one
   school (Weill's horizontal contiguity: `scipy.ndimage.label` with 4-connectivity). Filling is
   off by default: at 0.1 m bins a hole inside a school rarely cuts it in two (the samples
   around the hole still connect it), while in the simulated scenes (`echogram_sim`) a 0.2 m
   fill joined single fish to the speckle of the plankton layer they swim in and made false
   schools of them (5 in 40 ten-minute scenes, none without the fill). The price: weak,
   speckled schools (-68 to -60 dB, single-look fluctuation) break up, 72 of 243 into two or
   more pieces without the fill, 8 with 0.1 m and 2 with 0.2 m. Set it where schools are weak.
4. Schools at least `min_height_m` tall and `min_pings` long are kept: single fish (a sample or
   two tall) and speckle drop out here.

Every step before labelling works ping by ping (the noise level from the ping and the few
before it), so `SchoolDetector` (the streaming form the gateway calls once per ping) finds
exactly the schools `detect_schools` finds on the same pings.
Sv is held as float32 (resolution far below a sounder's). The mean Sv of a school is the mean,
over its samples (filled gaps included), of the linear volume backscattering coefficient
sv = 10^(Sv/10) with the noise removed, taken back to dB: echo energy adds linearly (the principle of echo
integration, Simmonds & MacLennan, Fisheries Acoustics, 2nd ed., Blackwell 2005; sv and Sv as
defined by MacLennan, Fernandes & Dalen 2002, https://doi.org/10.1006/jmsc.2001.1158), and a
mean of dB values would be a geometric mean, biased low.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
from scipy import ndimage

from kinds.fishfinder.edge.background_noise import ping_noise_db, remove_noise, trailing_median, tvg_db
from kinds.fishfinder.values import Fix, Ping

_LINKS = ndimage.generate_binary_structure(2, 1)  # 4-connectivity: Weill's contiguity
_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    sv_threshold_db: float = -70.0
    surface_zone_m: float = 2.0
    bottom_threshold_db: float = -30.0
    bottom_margin_m: float = 0.5
    bottom_rise_m: float = 1.0
    max_vertical_gap_m: float = 0.0  # off: see the module docstring, step 3
    min_height_m: float = 0.5
    min_pings: int = 3
    max_ping_gap_s: float = 5.0  # pings further apart are separate echograms: no school spans the gap
    max_fix_gap_s: float = 10.0  # a school's position comes from fixes at most this far from its middle time
    snr_threshold_db: float | None = 10.0  # None: no noise removal
    noise_window_m: float = 5.0
    noise_pings: int = 20  # 10 s at 2 pings/s
    absorption_db_per_m: float = 0.07  # the sounder's TVG: about 200 kHz in warm sea water (Francois & Garrison 1982)

    def __post_init__(self) -> None:
        if self.snr_threshold_db is not None and not math.isfinite(self.snr_threshold_db):
            raise ValueError("the signal-to-noise threshold must be finite (or None)")
        if not (math.isfinite(self.noise_window_m) and self.noise_window_m > 0 and self.noise_pings >= 1 and math.isfinite(self.absorption_db_per_m) and self.absorption_db_per_m >= 0):
            raise ValueError("the noise window must be positive, noise_pings at least 1 and absorption non-negative")
        values = (self.sv_threshold_db, self.surface_zone_m, self.bottom_threshold_db, self.bottom_margin_m, self.bottom_rise_m, self.max_vertical_gap_m, self.min_height_m, self.max_ping_gap_s, self.max_fix_gap_s)
        if not all(math.isfinite(v) for v in values):
            raise ValueError("detection settings must be finite")
        if min(self.surface_zone_m, self.bottom_margin_m, self.bottom_rise_m, self.max_vertical_gap_m, self.min_height_m, self.max_fix_gap_s) < 0:
            raise ValueError("depths, gaps and sizes must not be negative")
        if self.min_pings < 1 or not self.max_ping_gap_s > 0:
            raise ValueError("min_pings must be at least 1 and max_ping_gap_s positive")
        if not self.bottom_threshold_db > self.sv_threshold_db:
            raise ValueError("the bottom threshold must be above the school threshold")


DEFAULT_SETTINGS = DetectionSettings()


@dataclass(frozen=True, slots=True)
class School:
    """One school as the boat passed over it. Depths are metres below the transducer, the outer
    edges of the bins it covers in any ping; `middle` is halfway between start and end."""

    start: datetime
    end: datetime
    middle: datetime
    top_m: float
    bottom_m: float
    thickness_m: float
    mean_sv_db: float
    pings: int
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class FixTrack:
    """The boat's GNSS fixes as arrays: POSIX seconds (strictly increasing), WGS 84 degrees."""

    times_s: np.ndarray
    lat: np.ndarray
    lon: np.ndarray

    def __post_init__(self) -> None:
        t, lat, lon = (np.asarray(a, dtype=np.float64) for a in (self.times_s, self.lat, self.lon))
        if t.ndim != 1 or lat.shape != t.shape or lon.shape != t.shape:
            raise ValueError("fix times, lat and lon must be 1-D arrays of one length")
        if not (np.all(np.isfinite(t)) and np.all(np.isfinite(lat)) and np.all(np.isfinite(lon))):
            raise ValueError("fix times and positions must be finite")
        if np.any(np.diff(t) <= 0):
            raise ValueError("fix times must be strictly increasing")
        if np.any(np.abs(lat) > 90) or np.any(np.abs(lon) > 180):
            raise ValueError("fix latitude must be within +-90 and longitude within +-180 degrees")
        object.__setattr__(self, "times_s", t)
        object.__setattr__(self, "lat", lat)
        object.__setattr__(self, "lon", lon)

    @classmethod
    def from_fixes(cls, fixes: Sequence[Fix]) -> FixTrack:
        """From `Fix` values in time order; of fixes with the same time (an RMC and a GGA of one
        second) the last is kept."""
        by_time: dict[float, Fix] = {}
        for f in fixes:
            if f.ts.tzinfo is None:
                raise ValueError("fix times must be timezone-aware")
            by_time[f.ts.timestamp()] = f
        kept = list(by_time.items())
        return cls(np.array([t for t, _ in kept]), np.array([f.lat for _, f in kept]), np.array([f.lon for _, f in kept]))

    def position_at(self, t: float, max_gap_s: float) -> tuple[float, float] | None:
        """Linear between the fixes either side of `t` when both are within `max_gap_s` of it,
        else the one that is, else None."""
        i = int(np.searchsorted(self.times_s, t, side="right"))
        left_ok = i > 0 and t - self.times_s[i - 1] <= max_gap_s
        right_ok = i < len(self.times_s) and self.times_s[i] - t <= max_gap_s
        if left_ok and right_ok:
            t0, t1 = self.times_s[i - 1], self.times_s[i]
            w = (t - t0) / (t1 - t0)
            dlon = (self.lon[i] - self.lon[i - 1] + 180.0) % 360.0 - 180.0  # the short way across 180
            lon = (self.lon[i - 1] + w * dlon + 180.0) % 360.0 - 180.0
            return float(self.lat[i - 1] + w * (self.lat[i] - self.lat[i - 1])), float(lon)
        if left_ok:
            return float(self.lat[i - 1]), float(self.lon[i - 1])
        if right_ok:
            return float(self.lat[i]), float(self.lon[i])
        return None


def _check_geometry(bin_m: float, range_start_m: float) -> None:
    if not (math.isfinite(bin_m) and bin_m > 0 and math.isfinite(range_start_m) and range_start_m >= 0):
        raise ValueError("bin_m must be positive and range_start_m non-negative, both finite")


def _as_sv(sv_db: np.ndarray, ndim: int) -> np.ndarray:
    sv = np.asarray(sv_db)
    if sv.ndim != ndim or sv.size == 0 or not (np.issubdtype(sv.dtype, np.floating) or np.issubdtype(sv.dtype, np.integer)):
        raise ValueError(f"Sv must be a non-empty {ndim}-D numeric array, got shape {sv.shape} of {sv.dtype}")
    sv = sv.astype(np.float32, copy=False)
    if np.isposinf(sv).any():
        raise ValueError("Sv must not be +inf")
    return sv


def _first_water_bin(bin_m: float, range_start_m: float, surface_zone_m: float) -> int:
    return max(0, math.ceil((surface_zone_m - range_start_m) / bin_m - _EPS))


def detect_bottom(sv_db: np.ndarray, bin_m: float, range_start_m: float = 0.0, settings: DetectionSettings | None = None) -> np.ndarray:
    """Seabed depth per ping (m below the transducer), NaN where no echo below the surface zone
    exceeds the bottom threshold. `sv_db` is pings x bins."""
    s = settings or DEFAULT_SETTINGS
    _check_geometry(bin_m, range_start_m)
    sv = _as_sv(sv_db, 2)
    s0 = _first_water_bin(bin_m, range_start_m, s.surface_zone_m)
    deep = np.where(np.isnan(sv[:, s0:]), -np.inf, sv[:, s0:])
    if deep.shape[1] == 0:
        return np.full(sv.shape[0], np.nan)
    rows = np.arange(deep.shape[0])
    peak = np.argmax(deep, axis=1)
    strong = deep > s.bottom_threshold_db
    idx = np.arange(deep.shape[1])
    reach = math.ceil(s.bottom_rise_m / bin_m - _EPS)
    near = strong & (idx >= (peak - reach)[:, None]) & (idx <= peak[:, None])
    top = s0 + np.argmax(near, axis=1)  # the shallowest strong sample: the echo's leading edge
    return np.where(strong[rows, peak], range_start_m + top * bin_m, np.nan)


def _fill_vertical_gaps(mask: np.ndarray, gap_bins: int) -> np.ndarray:
    """Fill runs of at most `gap_bins` empty samples with candidates above and below them."""
    if gap_bins <= 0 or not mask.any():
        return mask
    n_bins = mask.shape[1]
    idx = np.arange(n_bins)
    above = np.maximum.accumulate(np.where(mask, idx, -1), axis=1)
    below = np.minimum.accumulate(np.where(mask, idx, n_bins)[:, ::-1], axis=1)[:, ::-1]
    return mask | ((above >= 0) & (below < n_bins) & (below - above - 1 <= gap_bins))


def school_candidates(sv_db: np.ndarray, bin_m: float, range_start_m: float = 0.0, settings: DetectionSettings | None = None) -> np.ndarray:
    """The boolean pings x bins mask of samples that may belong to a school (steps 1-3 of the
    module docstring, before labelling), the pings taken as one run: a ping's mask depends on
    it and (through the noise level) on the `noise_pings - 1` before it."""
    s = settings or DEFAULT_SETTINGS
    _check_geometry(bin_m, range_start_m)
    return _candidates(_as_sv(sv_db, 2), bin_m, range_start_m, s, np.empty(0))[0]


def _denoised(sv: np.ndarray, bin_m: float, range_start_m: float, s: DetectionSettings, s0: int, history: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sv with the background noise removed (step 1) and the noise history to carry on."""
    if s.snr_threshold_db is None:
        return sv, history
    tvg = tvg_db(range_start_m + (np.arange(sv.shape[1]) + 0.5) * bin_m, s.absorption_db_per_m)
    window = max(1, round(s.noise_window_m / bin_m))
    noise, history = trailing_median(history, ping_noise_db(sv, tvg, s0, window), s.noise_pings)
    return remove_noise(sv, noise, tvg, s.snr_threshold_db), history


def _candidates(sv: np.ndarray, bin_m: float, range_start_m: float, s: DetectionSettings, history: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate mask, the denoised Sv and the noise history after these pings."""
    n_bins = sv.shape[1]
    s0 = _first_water_bin(bin_m, range_start_m, s.surface_zone_m)
    clean, history = _denoised(sv, bin_m, range_start_m, s, s0, history)
    bottom = detect_bottom(sv, bin_m, range_start_m, s)
    cut = np.where(np.isnan(bottom), np.inf, bottom - s.bottom_margin_m)
    bin_bottoms = range_start_m + (np.arange(n_bins) + 1) * bin_m
    end = np.searchsorted(bin_bottoms, cut + _EPS, side="right")  # bins wholly above the cut
    idx = np.arange(n_bins)
    mask = (clean > s.sv_threshold_db) & (idx >= s0) & (idx < end[:, None])
    return _fill_vertical_gaps(mask, int(math.floor(s.max_vertical_gap_m / bin_m + _EPS))), clean, history


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, timezone.utc)


def _measure(labels: np.ndarray, slices: list, ids: Sequence[int], sv: np.ndarray, times_s: np.ndarray, bin_m: float, range_start_m: float, s: DetectionSettings, fixes: FixTrack | None) -> list[School]:
    """Schools for the labelled components `ids` that are tall and long enough."""
    kept = [i for i in ids if slices[i - 1][0].stop - slices[i - 1][0].start >= s.min_pings and (slices[i - 1][1].stop - slices[i - 1][1].start) * bin_m >= s.min_height_m - _EPS]
    if not kept:
        return []
    hit = labels > 0
    which = labels[hit]
    power = np.power(10.0, sv[hit].astype(np.float64) / 10.0)
    power[np.isnan(power)] = 0.0  # a NaN inside a school (a filled gap) is no echo
    power = np.bincount(which, weights=power, minlength=len(slices) + 1)
    count = np.bincount(which, minlength=len(slices) + 1)
    out = []
    for i in kept:
        rows, bins = slices[i - 1]
        t0, t1 = float(times_s[rows.start]), float(times_s[rows.stop - 1])
        mid = (t0 + t1) / 2
        top, bottom = range_start_m + bins.start * bin_m, range_start_m + bins.stop * bin_m
        pos = fixes.position_at(mid, s.max_fix_gap_s) if fixes is not None and len(fixes.times_s) else None
        out.append(School(
            start=_utc(t0), end=_utc(t1), middle=_utc(mid), top_m=top, bottom_m=bottom, thickness_m=bottom - top,
            mean_sv_db=float(10.0 * np.log10(power[i] / count[i])), pings=rows.stop - rows.start,
            lat=None if pos is None else pos[0], lon=None if pos is None else pos[1],
        ))
    return out


def _order(schools: list[School]) -> list[School]:
    return sorted(schools, key=lambda x: (x.start, x.top_m))


def detect_schools(
    sv_db: np.ndarray, times_s: np.ndarray, bin_m: float, range_start_m: float = 0.0, fixes: FixTrack | None = None, settings: DetectionSettings | None = None
) -> list[School]:
    """Schools in a block of consecutive pings (`sv_db` pings x bins, `times_s` POSIX seconds,
    strictly increasing), in order of start time. Pings more than `max_ping_gap_s` apart split
    the block: no school spans the gap."""
    s = settings or DEFAULT_SETTINGS
    _check_geometry(bin_m, range_start_m)
    sv = _as_sv(sv_db, 2)
    t = np.asarray(times_s, dtype=np.float64)
    if t.shape != (sv.shape[0],):
        raise ValueError(f"need one time per ping: {sv.shape[0]} pings, times of shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("ping times must be finite and strictly increasing")
    cuts = [0, *(np.flatnonzero(np.diff(t) > s.max_ping_gap_s) + 1).tolist(), len(t)]
    out: list[School] = []
    for a, b in zip(cuts[:-1], cuts[1:]):  # each run of pings has its own noise history
        mask, clean, _ = _candidates(sv[a:b], bin_m, range_start_m, s, np.empty(0))
        labels, n = ndimage.label(mask, _LINKS)
        out += _measure(labels, ndimage.find_objects(labels), range(1, n + 1), clean, t[a:b], bin_m, range_start_m, s, fixes)
    return _order(out)



class SchoolDetector:
    """The streaming form of `detect_schools` for one boat: pings and fixes one at a time, in
    time order, as the sounder and GNSS send them; schools come back once they have ended.

    Pings are taken in chunks of `chunk_pings` (default 20: 10 s at 2 pings/s), so a school is
    reported within a chunk of its end. Each chunk is labelled together with the columns of the
    schools still open (those touching the newest ping); closed ones are reported and dropped,
    so nothing older than the oldest open school is kept and history is never labelled again.
    A school still open after `max_school_pings` is reported as it stands (at most
    `max_school_pings + chunk_pings` pings long) and what follows starts a new one: memory stays
    bounded under a layer that never ends. Short of that, the schools are those
    `detect_schools` finds on the same pings and fixes. A change of bin geometry (the skipper
    changed the range) or a pause longer than `max_ping_gap_s` ends the open schools first.
    Pure: nothing here reads a clock.
    """

    def __init__(self, settings: DetectionSettings | None = None, chunk_pings: int = 20, max_school_pings: int = 240) -> None:
        self.settings = settings or DEFAULT_SETTINGS
        if chunk_pings < 1 or max_school_pings < self.settings.min_pings:
            raise ValueError("chunk_pings must be at least 1 and max_school_pings at least min_pings")
        self.chunk_pings, self.max_school_pings = chunk_pings, max_school_pings
        self._geometry: tuple[int, float, float] | None = None
        self._new_sv = np.empty((0, 0), np.float32)
        self._new_t = np.empty(chunk_pings)
        self._n_new = 0
        self._open_mask = np.empty((0, 0), bool)
        self._open_sv = np.empty((0, 0), np.float32)
        self._open_t = np.empty(0)
        self._last_t: float | None = None
        self._noise_history = np.empty(0)  # the last noise_pings - 1 pings' noise levels
        self._fix_t: list[float] = []
        self._fix_ll: list[tuple[float, float]] = []

    @property
    def held_pings(self) -> int:
        """Pings held in memory: those of open schools plus the chunk being filled."""
        return len(self._open_t) + self._n_new

    def push_fix(self, fix: Fix) -> None:
        """A GNSS fix. One with the time of the previous fix replaces it; an older one is a ValueError."""
        if fix.ts.tzinfo is None:
            raise ValueError("fix time must be timezone-aware")
        if not (math.isfinite(fix.lat) and math.isfinite(fix.lon) and abs(fix.lat) <= 90 and abs(fix.lon) <= 180):
            raise ValueError(f"fix position out of range: {fix.lat}, {fix.lon}")
        t = fix.ts.timestamp()
        if self._fix_t and t < self._fix_t[-1]:
            raise ValueError("fix older than the previous fix")
        if self._fix_t and t == self._fix_t[-1]:
            self._fix_ll[-1] = (fix.lat, fix.lon)
        else:
            self._fix_t.append(t)
            self._fix_ll.append((fix.lat, fix.lon))
        self._forget_fixes()

    def push(self, ping: Ping) -> list[School]:
        """One ping; the schools that ended with it (usually none). A ValueError (bad Sv, time
        not after the previous ping's) leaves the detector as it was."""
        sv = _as_sv(ping.sv_db, 1)
        _check_geometry(ping.bin_m, ping.range_start_m)
        if ping.ts.tzinfo is None:
            raise ValueError("ping time must be timezone-aware")
        t = ping.ts.timestamp()
        if self._last_t is not None and t <= self._last_t:
            raise ValueError(f"ping time {ping.ts.isoformat()} is not after the previous ping's")
        out: list[School] = []
        geometry = (len(sv), float(ping.bin_m), float(ping.range_start_m))
        if geometry != self._geometry or (self._last_t is not None and t - self._last_t > self.settings.max_ping_gap_s):
            out = self._process(final=True)
            if geometry != self._geometry:
                self._geometry = geometry
                self._new_sv = np.empty((self.chunk_pings, len(sv)), np.float32)
        self._new_sv[self._n_new] = sv
        self._new_t[self._n_new] = t
        self._n_new += 1
        self._last_t = t
        if self._n_new == self.chunk_pings:
            out += self._process(final=False)
        return out

    def flush(self) -> list[School]:
        """End of data (or of a trip): every open school is reported."""
        return self._process(final=True)

    def _forget_fixes(self) -> None:
        """Drop fixes no future school can use: its middle time is no earlier than the oldest
        ping still held (or than the newest fix, when no ping is held)."""
        held = [self._open_t[0]] if len(self._open_t) else []
        if self._n_new:
            held.append(self._new_t[0])
        horizon = min(held) if held else self._fix_t[-1] if self._fix_t else 0.0
        k = min(bisect_left(self._fix_t, horizon - self.settings.max_fix_gap_s), len(self._fix_t) - 1)  # the newest stays
        if k > 0:
            del self._fix_t[:k], self._fix_ll[:k]

    def _process(self, final: bool) -> list[School]:
        if self._geometry is None or (self._n_new == 0 and not len(self._open_t)):
            if final:
                self._noise_history = np.empty(0)
            return []
        n_bins, bin_m, range_start_m = self._geometry
        s = self.settings
        new_sv, new_t = self._new_sv[: self._n_new], self._new_t[: self._n_new]
        if self._n_new:
            new_mask, new_sv, self._noise_history = _candidates(new_sv, bin_m, range_start_m, s, self._noise_history)
        else:  # a flush or a break right after a full chunk
            new_mask = np.empty((0, n_bins), bool)
        if final:  # a pause, a range change or the end: the next run estimates its noise afresh
            self._noise_history = np.empty(0)
        if len(self._open_t):
            mask = np.concatenate([self._open_mask, new_mask])
            sv = np.concatenate([self._open_sv, new_sv])
            t = np.concatenate([self._open_t, new_t])
        else:
            mask, sv, t = new_mask, new_sv.copy(), new_t.copy()
        self._n_new = 0
        labels, n = ndimage.label(mask, _LINKS)
        slices = ndimage.find_objects(labels)
        n_rows = len(t)
        still_open = [i for i in range(1, n + 1) if not final and slices[i - 1][0].stop == n_rows and slices[i - 1][0].stop - slices[i - 1][0].start < self.max_school_pings]
        open_set = set(still_open)
        closed = [i for i in range(1, n + 1) if i not in open_set]
        fixes = FixTrack(np.array(self._fix_t), *np.array(self._fix_ll).reshape(-1, 2).T) if closed and self._fix_t else None
        out = _measure(labels, slices, closed, sv, t, bin_m, range_start_m, s, fixes)
        if still_open:
            start = min(slices[i - 1][0].start for i in still_open)
            keep = np.zeros(n + 1, bool)
            keep[still_open] = True
            self._open_mask, self._open_sv, self._open_t = keep[labels[start:]], sv[start:], t[start:]
        else:
            self._open_mask, self._open_sv, self._open_t = np.empty((0, n_bins), bool), np.empty((0, n_bins), np.float32), np.empty(0)
        if self._fix_t:
            self._forget_fixes()
        return _order(out)
