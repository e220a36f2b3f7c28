"""Sensor data quality flags (IOOS QARTOD) for river levels: pure functions over numpy arrays.

Each test returns one flag per reading, in the shape of its input, with the semantics of the
reference implementation `ioos_qc.qartod` (3.0.0), which the tests compare against on the same
arrays. The few places where we deliberately differ are listed in each docstring under
"Differs from ioos_qc"; all of them concern inputs the reference mishandles (infinities,
degenerate windows), never an ordinary series.

Gaps. QARTOD assumes evenly spaced data, and so do these tests: `spike` and `flat_line` count
readings, not seconds. Pass a missing reading as NaN where the logger should have reported
(it is then flagged MISSING and its neighbours' spike verdict UNKNOWN); a reading that is simply
absent makes `spike` compare across the gap, so a level that moved during a dropout reads as
half a spike at the first reading after it. `rate_of_change` divides by the real interval, so a
gap only dilutes the rate. `flat_line` sizes its window in readings from the median interval:
a gap inside the window makes it span more time (it flags later), while readings denser than
the median make it span less (it flags earlier), so give it one logger cadence at a time.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinds.awlr.qc_config import QcConfig, QcFlag, checked_span, require_positive

__all__ = ["QC_TESTS", "QcConfig", "QcFlag", "aggregate", "flat_line", "gross_range", "rate_of_change", "run_qc", "spike"]

FlagArray = NDArray[np.uint8]


_VALID_FLAGS = np.array(sorted(int(f) for f in QcFlag), dtype=np.uint8)
# Aggregation precedence, weakest first: a later flag in this list wins (ioos_qc qartod_compare).
_PRECEDENCE = (QcFlag.MISSING, QcFlag.UNKNOWN, QcFlag.GOOD, QcFlag.SUSPECT, QcFlag.FAIL)
_RANK = np.zeros(max(_PRECEDENCE) + 1, dtype=np.uint8)
_RANK[list(_PRECEDENCE)] = np.arange(len(_PRECEDENCE))
_BY_RANK = np.array(_PRECEDENCE, dtype=np.uint8)
# Plain ints for the hot paths: reading an IntEnum member costs an attribute lookup through the
# enum machinery, which at one QC pass per batch per station was a visible share of the pass.
_GOOD, _UNKNOWN, _SUSPECT, _FAIL, _MISSING = map(int, QcFlag)  # in definition order


def gross_range(values: ArrayLike, sensor_span: tuple[float, float], user_span: tuple[float, float] | None = None) -> FlagArray:
    """FAIL outside what the sensor can physically report, SUSPECT outside what this river does.

    Bounds are inclusive (a reading equal to a bound is GOOD). NaN is MISSING; ±inf lies
    outside any span and is FAIL, as in the reference. Any input shape is accepted.

    Differs from ioos_qc: reversed spans raise ValueError instead of being sorted silently.
    """
    x = np.asarray(values, dtype=float)
    s_lo, s_hi = checked_span(sensor_span, "sensor_span")
    flags = np.full(x.shape, _GOOD, dtype=np.uint8)
    with np.errstate(invalid="ignore"):
        if user_span is not None:
            u_lo, u_hi = checked_span(user_span, "user_span")
            if u_lo < s_lo or u_hi > s_hi:
                raise ValueError(f"user_span {user_span!r} must fall within sensor_span {sensor_span!r}")
            flags[(x < u_lo) | (x > u_hi)] = _SUSPECT
        flags[(x < s_lo) | (x > s_hi)] = _FAIL
    flags[np.isnan(x)] = _MISSING
    return flags


def spike(values: ArrayLike, suspect_threshold: float, fail_threshold: float) -> FlagArray:
    """QARTOD spike test: how far each reading sits from the mean of its two neighbours.

    |x[n] - (x[n-1] + x[n+1]) / 2| above `suspect_threshold` is SUSPECT, above `fail_threshold`
    FAIL (strictly above). The first and last readings have only one neighbour: UNKNOWN. A
    reading next to a missing one cannot be judged either: UNKNOWN. Missing readings: MISSING.
    Note the neighbours of a large spike are flagged too (they sit half a spike from their own
    neighbours' mean), exactly as in the reference; the alarms then skip three readings instead
    of one, which their run requirement tolerates.

    Real time: the newest reading is always UNKNOWN here, its verdict needs the next reading.

    Differs from ioos_qc: an empty series returns no flags (the reference raises IndexError);
    thresholds must be positive with suspect <= fail (the reference skips a zero threshold).
    """
    x = _series_values(values)
    require_positive(suspect_threshold, "suspect_threshold")
    require_positive(fail_threshold, "fail_threshold")
    if suspect_threshold > fail_threshold:
        raise ValueError(f"suspect_threshold {suspect_threshold} must not exceed fail_threshold {fail_threshold}")
    flags = np.full(x.shape, _GOOD, dtype=np.uint8)
    if x.size == 0:
        return flags
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        ref = (x[:-2] + x[2:]) / 2
        dev = np.abs(x[1:-1] - ref)
    inner = flags[1:-1]
    inner[dev > suspect_threshold] = _SUSPECT
    inner[dev > fail_threshold] = _FAIL
    judged = finite[:-2] & finite[2:] & np.isfinite(ref)
    inner[~judged] = _UNKNOWN
    flags[0] = flags[-1] = _UNKNOWN
    flags[~finite] = _MISSING
    return flags


def rate_of_change(
    times_s: ArrayLike, values: ArrayLike, threshold_per_s: float, fail_threshold_per_s: float | None = None
) -> FlagArray:
    """QARTOD rate of change: the step from the previous reading, in units per second.

    |x[n] - x[n-1]| / (t[n] - t[n-1]) strictly above `threshold_per_s` is SUSPECT, above
    `fail_threshold_per_s` (optional) FAIL. The step is flagged on the later reading; the first
    reading, and a reading after a missing one, have no step and stay GOOD (the reference's
    behaviour, although its docstring says UNKNOWN). Missing readings are MISSING. Times are
    real seconds, so a gap dilutes the rate rather than hiding the reading.

    Differs from ioos_qc: times must be finite and strictly increasing (the reference divides
    by zero on a repeated timestamp); intervals are not truncated to whole seconds; the
    reading after ±inf stays GOOD like after NaN (the reference's masked arithmetic flags it).
    """
    t, x = _series(times_s, values)
    require_positive(threshold_per_s, "threshold_per_s")
    if fail_threshold_per_s is not None:
        require_positive(fail_threshold_per_s, "fail_threshold_per_s")
    flags = np.full(x.shape, _GOOD, dtype=np.uint8)
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        rate = np.abs(np.diff(x) / np.diff(t))
    rate[~(finite[1:] & finite[:-1])] = np.nan
    later = flags[1:]
    with np.errstate(invalid="ignore"):
        later[rate > threshold_per_s] = _SUSPECT
        if fail_threshold_per_s is not None:
            later[rate > fail_threshold_per_s] = _FAIL
    flags[~finite] = _MISSING
    return flags


def flat_line(times_s: ArrayLike, values: ArrayLike, tolerance: float, suspect_seconds: float, fail_seconds: float) -> FlagArray:
    """QARTOD flat line: a stuck sensor repeats itself while a river never quite does.

    With `count = int(seconds / median interval)`, reading n is flagged when the readings
    n-count..n (count + 1 of them, so count intervals) all lie within a range strictly below
    `tolerance`; missing readings inside the window are ignored. FAIL for `fail_seconds`,
    else SUSPECT for `suspect_seconds`, else GOOD. Readings before the first full window stay
    GOOD, as does a series shorter than three readings (too short to judge). A flat line only
    shows above the sensor's noise: with a 1 cm resolution logger and a tolerance below 1 cm, a
    river that is truly steady for an hour is flagged too (as it is by the reference).

    Differs from ioos_qc: missing readings are always MISSING (the reference leaves them GOOD in
    series shorter than three); a threshold shorter than one median interval uses a two-reading
    window (the reference then flags every reading, since one reading is always "flat"); the
    median interval is not truncated to whole seconds.
    """
    t, x = _series(times_s, values)
    require_positive(tolerance, "tolerance")
    require_positive(suspect_seconds, "suspect_seconds")
    require_positive(fail_seconds, "fail_seconds")
    if suspect_seconds > fail_seconds:
        raise ValueError(f"suspect_seconds {suspect_seconds} must not exceed fail_seconds {fail_seconds}")
    flags = np.full(x.shape, _GOOD, dtype=np.uint8)
    if x.size >= 3:
        interval = _median(np.diff(t))
        for seconds, flag in ((suspect_seconds, _SUSPECT), (fail_seconds, _FAIL)):
            count = max(int(seconds / interval), 1)
            flags[_flat_window_ends(x, count, tolerance)] = flag
    flags[~np.isfinite(x)] = _MISSING
    return flags


def aggregate(*flag_arrays: ArrayLike) -> FlagArray:
    """The QARTOD aggregate: per reading, the worst verdict of any test that could judge it.

    Precedence FAIL > SUSPECT > GOOD > UNKNOWN > MISSING: a test that could not judge a reading
    (UNKNOWN) does not outvote one that passed it, and the aggregate is MISSING only when every
    test says MISSING. This is ioos_qc's `qartod_compare`, for arrays of any (equal) shape.
    """
    if not flag_arrays:
        raise ValueError("aggregate needs at least one flag array")
    arrays = [np.asarray(a) for a in flag_arrays]
    shape = arrays[0].shape
    for a in arrays:
        if a.shape != shape:
            raise ValueError(f"flag arrays differ in shape: {[b.shape for b in arrays]}")
        if a.size and not (np.issubdtype(a.dtype, np.integer) and np.isin(a, _VALID_FLAGS).all()):
            raise ValueError(f"not QARTOD flags: {np.unique(a)!r}")
    return _worst([a.astype(np.uint8, copy=False) for a in arrays])


def _worst(arrays: list[FlagArray]) -> FlagArray:
    """`aggregate` without the checks, for valid uint8 flags of equal shape: each flag is mapped
    to its rank in `_PRECEDENCE` and the highest rank wins, one pass instead of one per flag."""
    shape = arrays[0].shape
    ranks = _RANK[arrays[0].reshape(-1)]
    for a in arrays[1:]:
        np.maximum(ranks, _RANK[a.reshape(-1)], out=ranks)
    return _BY_RANK[ranks].reshape(shape)


QC_TESTS = ("gross_range", "spike", "rate_of_change", "flat_line")


def run_qc(
    times_s: ArrayLike, values: ArrayLike, sensor_span: tuple[float, float], qc: QcConfig | None = None
) -> tuple[dict[str, FlagArray], FlagArray]:
    """All four tests on one station's series, and their aggregate.

    Returns the per-test flags keyed by `QC_TESTS` (so they can be stored and explained, not
    just the verdict) and the aggregate; a reading is fit to raise or clear an alarm only when
    the aggregate is GOOD.
    """
    qc = qc or QcConfig()
    t, x = _series(times_s, values)
    flags = {
        "gross_range": gross_range(x, sensor_span, qc.user_span_cm),
        "spike": spike(x, qc.spike_suspect_cm, qc.spike_fail_cm),
        "rate_of_change": rate_of_change(t, x, qc.rate_suspect_cm_per_s, qc.rate_fail_cm_per_s),
        "flat_line": flat_line(t, x, qc.flat_tolerance_cm, qc.flat_suspect_s, qc.flat_fail_s),
    }
    return flags, _worst(list(flags.values()))


def _flat_window_ends(x: NDArray[np.float64], count: int, tolerance: float) -> NDArray[np.bool_]:
    """Mask of readings ending a window of count + 1 readings whose (non-missing) range < tolerance."""
    out = np.zeros(x.shape, dtype=bool)
    if x.size <= count:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(x, count + 1)
    if np.isfinite(x).all():
        # The usual case, without masking: two reductions instead of two copies of every window.
        with np.errstate(invalid="ignore"):
            out[count:] = np.abs(windows.max(axis=1) - windows.min(axis=1)) < tolerance
        return out
    # Missing readings ignored: -inf to the maximum, +inf to the minimum. Replaced in the series,
    # not in its windows, which would copy every reading count + 1 times (gigabytes for a day at 1 s).
    finite = np.isfinite(x)
    seen = np.concatenate(([0], np.cumsum(finite)))
    judged = seen[count + 1 :] - seen[: -count - 1] > 0
    hi = np.lib.stride_tricks.sliding_window_view(np.where(finite, x, -np.inf), count + 1).max(axis=1)
    lo = np.lib.stride_tricks.sliding_window_view(np.where(finite, x, np.inf), count + 1).min(axis=1)
    with np.errstate(invalid="ignore"):
        out[count:] = judged & (np.abs(hi - lo) < tolerance)
    return out


def _median(values: NDArray[np.float64]) -> float:
    """`np.median` of finite values, to the bit. np.median itself imports `numpy.ma` on first
    use (~1 MB resident for the gateway) only to check for masked input."""
    s = np.sort(values)
    mid = s.size // 2
    return float(s[mid]) if s.size % 2 else float((s[mid - 1] + s[mid]) / 2)


def _series_values(values: ArrayLike) -> NDArray[np.float64]:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"values must be a 1-D series, got shape {x.shape}")
    return x


def _series(times_s: ArrayLike, values: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A station's readings: 1-D, equal length, times finite and strictly increasing."""
    t = np.asarray(times_s, dtype=float)
    x = _series_values(values)
    if t.shape != x.shape:
        raise ValueError(f"times and values must be 1-D of equal length, got {t.shape} and {x.shape}")
    if not np.isfinite(t).all():
        raise ValueError("times must be finite")
    if t.size > 1 and not (np.diff(t) > 0).all():
        raise ValueError("times must be strictly increasing (sort readings and drop duplicates first)")
    return t, x
