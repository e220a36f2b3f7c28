"""Quality control of a buoy's reports, after the IOOS QARTOD manual for in-situ surface waves
(U.S. IOOS, "Manual for Real-Time Quality Control of In-Situ Surface Wave Data", version 2.1,
2019, https://ioos.noaa.gov/ioos-in-action/wave-data/): gross range, spike and flat line, as
pure functions over numpy arrays, one flag per report (QARTOD flags: 1 good, 2 unknown,
3 suspect, 4 fail, 9 missing). `ValueError` on bad arguments.

The tests count reports, not seconds (QARTOD assumes evenly spaced data): a buoy reports at a
fixed interval, and a report it missed is simply absent.

Thresholds (`WAVE_QC`, `WIND_QC`) are Tepi's choices for the reef-sheltered coasts of Bali and
the Java Sea, where a report every minute or so is a running estimate over the buoy's last wave
record: a change of Hs by more than 1 m from the mean of its neighbours is suspect (2 m fail);
the same Hs to the centimetre five reports in a row is suspect, ten in a row fail (the buoy's
processing is stuck); wind is judged likewise (10 kn / 20 kn spikes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

GOOD, UNKNOWN, SUSPECT, FAIL, MISSING = 1, 2, 3, 4, 9
FlagArray = NDArray[np.uint8]
#: Aggregation: a later flag in this order wins (as ioos_qc's qartod_compare).
_PRECEDENCE = (MISSING, UNKNOWN, GOOD, SUSPECT, FAIL)
_RANK = np.zeros(10, dtype=np.uint8)
_RANK[list(_PRECEDENCE)] = np.arange(len(_PRECEDENCE))
_BY_RANK = np.array(_PRECEDENCE, dtype=np.uint8)


@dataclass(frozen=True, slots=True)
class SeriesQc:
    """Thresholds of one quantity's tests."""

    sensor_span: tuple[float, float]
    spike_suspect: float
    spike_fail: float
    flat_tolerance: float
    flat_suspect_count: int
    flat_fail_count: int


WAVE_QC = SeriesQc(sensor_span=(0.0, 20.0), spike_suspect=1.0, spike_fail=2.0, flat_tolerance=0.005, flat_suspect_count=5, flat_fail_count=10)
PERIOD_QC = SeriesQc(sensor_span=(1.6, 30.0), spike_suspect=6.0, spike_fail=12.0, flat_tolerance=0.05, flat_suspect_count=5, flat_fail_count=10)
WIND_QC = SeriesQc(sensor_span=(0.0, 116.0), spike_suspect=10.0, spike_fail=20.0, flat_tolerance=0.05, flat_suspect_count=5, flat_fail_count=10)


def _values(values: ArrayLike) -> NDArray[np.float64]:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"a series must be one-dimensional, not of shape {x.shape}")
    return x


def _span(span: tuple[float, float]) -> tuple[float, float]:
    lo, hi = (float(v) for v in span)
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ValueError(f"span {span!r} must be finite (low, high) with low < high")
    return lo, hi


def gross_range(values: ArrayLike, sensor_span: tuple[float, float], user_span: tuple[float, float] | None = None) -> FlagArray:
    """QARTOD gross range: FAIL outside what the sensor can report, SUSPECT outside `user_span`
    (what this site sees), bounds inclusive; NaN is MISSING, ±inf FAIL."""
    x = _values(values)
    s_lo, s_hi = _span(sensor_span)
    flags = np.full(x.shape, GOOD, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        if user_span is not None:
            u_lo, u_hi = _span(user_span)
            if u_lo < s_lo or u_hi > s_hi:
                raise ValueError(f"user_span {user_span!r} must lie within sensor_span {sensor_span!r}")
            flags[(x < u_lo) | (x > u_hi)] = SUSPECT
        flags[(x < s_lo) | (x > s_hi)] = FAIL
    flags[np.isnan(x)] = MISSING
    return flags


def spike(values: ArrayLike, suspect: float, fail: float) -> FlagArray:
    """QARTOD spike: |x[n] - (x[n-1] + x[n+1]) / 2| strictly above `suspect` is SUSPECT, above
    `fail` FAIL. The first and last reports, and one beside a missing report, are UNKNOWN (the
    newest's verdict needs the next report); missing ones MISSING."""
    x = _values(values)
    if not (np.isfinite(suspect) and np.isfinite(fail) and 0 < suspect <= fail):
        raise ValueError(f"spike thresholds must be finite with 0 < suspect <= fail, not {suspect}, {fail}")
    flags = np.full(x.shape, GOOD, dtype=np.uint8)
    if x.size == 0:
        return flags
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        dev = np.abs(x[1:-1] - (x[:-2] + x[2:]) / 2)
    inner = flags[1:-1]
    inner[dev > suspect] = SUSPECT
    inner[dev > fail] = FAIL
    inner[~(finite[:-2] & finite[2:])] = UNKNOWN
    flags[0] = flags[-1] = UNKNOWN
    flags[~finite] = MISSING
    return flags


def flat_line(values: ArrayLike, tolerance: float, suspect_count: int, fail_count: int) -> FlagArray:
    """QARTOD flat line (the waves manual's stuck-sensor test): a report within `tolerance` of
    each of the reports before it, `suspect_count` reports in a row counting itself, is SUSPECT;
    `fail_count` in a row, FAIL. Missing reports are MISSING and break a run."""
    x = _values(values)
    if not (np.isfinite(tolerance) and tolerance >= 0):
        raise ValueError(f"tolerance must be finite and not negative, not {tolerance}")
    if not (2 <= suspect_count <= fail_count):
        raise ValueError(f"counts must be 2 <= suspect_count <= fail_count, not {suspect_count}, {fail_count}")
    flags = np.full(x.shape, GOOD, dtype=np.uint8)
    finite = np.isfinite(x)
    for count, flag in ((suspect_count, SUSPECT), (fail_count, FAIL)):
        if x.size < count:
            continue
        windows = np.lib.stride_tricks.sliding_window_view(x, count)
        with np.errstate(invalid="ignore"):
            stuck = np.all(np.abs(windows - windows[:, -1:]) <= tolerance, axis=1)
        flags[count - 1 :][stuck] = flag
    flags[~finite] = MISSING
    return flags


def aggregate(*flags: FlagArray) -> FlagArray:
    """The worst flag of each report across tests (FAIL > SUSPECT > GOOD > UNKNOWN > MISSING)."""
    if not flags:
        raise ValueError("aggregate needs at least one flag array")
    shapes = {np.shape(f) for f in flags}
    if len(shapes) != 1:
        raise ValueError(f"flag arrays of different shapes: {sorted(shapes)}")
    ranks = np.max(np.stack([_RANK[np.asarray(f, dtype=np.uint8)] for f in flags]), axis=0)
    return _BY_RANK[ranks]


def series_flags(values: ArrayLike, qc: SeriesQc) -> FlagArray:
    """Every test of one quantity, aggregated."""
    x = _values(values)
    return aggregate(
        gross_range(x, qc.sensor_span),
        spike(x, qc.spike_suspect, qc.spike_fail),
        flat_line(x, qc.flat_tolerance, qc.flat_suspect_count, qc.flat_fail_count),
    )


def report_flags(hs_m: ArrayLike, tp_s: ArrayLike, wind_kn: ArrayLike) -> tuple[FlagArray, FlagArray]:
    """(waves, wind) flags of a buoy's reports in time order: the waves' is the worst of Hs and
    Tp; the wind's its own (a report without wind is MISSING there, its waves still judged)."""
    hs, tp, wind = _values(hs_m), _values(tp_s), _values(wind_kn)
    if not (hs.shape == tp.shape == wind.shape):
        raise ValueError(f"series of different lengths: {hs.shape}, {tp.shape}, {wind.shape}")
    # The period does not flat-line the report: a steady swell keeps its period for hours.
    waves = aggregate(series_flags(hs, WAVE_QC), gross_range(tp, PERIOD_QC.sensor_span), spike(tp, PERIOD_QC.spike_suspect, PERIOD_QC.spike_fail))
    return waves, series_flags(wind, WIND_QC)
