"""A window of a buoy's reports summarised, and where the sea stands against the small-boat
limits: pure functions over arrays, `ValueError` on bad input.

Statistics use the reports QC left usable (GOOD, or UNKNOWN where a test could not judge yet:
the newest report's spike verdict waits for the next): the highest and mean Hs, the mean peak
period, the circular mean of directions (the mean of unit vectors: 350 and 10 degrees average to
north, not south), the highest and mean wind and the highest gust; a report whose wind failed
keeps its waves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinds.wavebuoy.edge.qc import FAIL, GOOD, SUSPECT, UNKNOWN

WAVE, WIND = "wave", "wind"


def usable(flags: ArrayLike) -> NDArray[np.bool_]:
    f = np.asarray(flags)
    return (f == GOOD) | (f == UNKNOWN)


def circular_mean_deg(degrees: ArrayLike) -> float | None:
    """The mean direction of `degrees` (NaN ignored) in [0, 360), None when there is none or the
    directions cancel out (no mean direction)."""
    d = np.asarray(degrees, dtype=float)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return None
    r = np.deg2rad(d)
    s, c = np.sin(r).mean(), np.cos(r).mean()
    if np.hypot(s, c) < 1e-9:
        return None
    mean = float(np.rad2deg(np.arctan2(s, c)) % 360.0)
    return 0.0 if mean >= 360.0 else mean  # -1e-15 % 360 is 360.0, which is north


@dataclass(frozen=True, slots=True)
class WindowStats:
    count: int
    qc_suspect: int
    qc_fail: int
    hs_max_m: float | None
    hs_mean_m: float | None
    tp_mean_s: float | None
    wave_dir_mean_deg: float | None
    wind_max_kn: float | None
    wind_mean_kn: float | None
    wind_dir_mean_deg: float | None
    gust_max_kn: float | None


def _stat(values: NDArray[np.float64], fn: str) -> float | None:
    v = values[np.isfinite(values)]
    return None if v.size == 0 else float(getattr(v, fn)())


def window_stats(
    hs_m: ArrayLike, tp_s: ArrayLike, wave_dir_deg: ArrayLike, wind_kn: ArrayLike, wind_dir_deg: ArrayLike,
    gust_kn: ArrayLike, wave_flags: ArrayLike, wind_flags: ArrayLike,
) -> WindowStats:
    """One window's statistics (NaN: the report has no such value). `ValueError` when the arrays
    differ in length."""
    arrays = [np.asarray(a, dtype=float) for a in (hs_m, tp_s, wave_dir_deg, wind_kn, wind_dir_deg, gust_kn)]
    wf, nf = np.asarray(wave_flags, dtype=np.uint8), np.asarray(wind_flags, dtype=np.uint8)
    if len({a.shape for a in [*arrays, wf, nf]}) != 1 or arrays[0].ndim != 1:
        raise ValueError("a window's series and flags must be one-dimensional and of one length")
    hs, tp, wdir, wind, ndir, gust = arrays
    waves_ok, wind_ok = usable(wf), usable(nf)
    worst = np.maximum(np.where(wf == 9, 0, wf), np.where(nf == 9, 0, nf))  # a missing wind is no fault
    return WindowStats(
        count=int(hs.size), qc_suspect=int(np.sum(worst == SUSPECT)), qc_fail=int(np.sum(worst == FAIL)),
        hs_max_m=_stat(hs[waves_ok], "max"), hs_mean_m=_stat(hs[waves_ok], "mean"), tp_mean_s=_stat(tp[waves_ok], "mean"),
        wave_dir_mean_deg=circular_mean_deg(wdir[waves_ok]), wind_max_kn=_stat(wind[wind_ok], "max"),
        wind_mean_kn=_stat(wind[wind_ok], "mean"), wind_dir_mean_deg=circular_mean_deg(ndir[wind_ok]),
        gust_max_kn=_stat(gust[wind_ok], "max"),
    )


def over_limits(hs_m: float, wind_kn: float, wave_limit_m: float, wind_limit_kn: float) -> list[str]:
    """Which small-boat limits one report is strictly above (`wave`, `wind`); NaN is above none.
    BMKG: waves above 1.25 m or wind above 15 kn are dangerous for fishing boats."""
    if not (wave_limit_m > 0 and wind_limit_kn > 0):
        raise ValueError(f"limits must be positive, not {wave_limit_m} m, {wind_limit_kn} kn")
    out = []
    if hs_m > wave_limit_m:
        out.append(WAVE)
    if wind_kn > wind_limit_kn:
        out.append(WIND)
    return out
