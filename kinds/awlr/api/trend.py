"""Where a river's level is going: its rate of change over the last half hour, in cm/h.

Pure functions of a station's summary windows; `kinds.awlr.api.station_trend` gathers them.

How the rate is found, and why:

* **A fitted slope over a fixed time span, not a difference of windows.** The gateway sums up
  readings in windows of 10 minutes normally and of 1 minute from Siaga 3 on, so "the last
  window against the one before" measured a change over whatever the window length was: during a
  110 cm/h rise with 1-minute windows that is under 2 cm, and the river was called steady. A
  slope in cm/h over the same span of time means the same whatever the windows are.
* **Each window's mean level at the middle of its window, weighted by its good readings.** The
  mean of readings spread evenly over a window is the level at its middle (exactly, for a river
  that rises evenly), and weighting by the number of readings makes the fit count every reading
  once, as a fit of the readings themselves would: ten 1-minute windows of one reading each and
  one 10-minute window of ten readings weigh the same. The last reading of a window is one noisy
  sample; the mean of several is steadier (1 cm of noise on single readings becomes about
  0.3 cm on a mean of ten).
* **30 minutes.** A span is a choice between speed and calm. Katulampa has risen from 80 to
  140 cm in 22 minutes (about 164 cm/h, `kinds/awlr/tests/test_trend.py` cites the reports): at the
  end of that rise a least-squares line over the last 60 minutes, 38 of them still flat, says
  50 cm/h, one over 30 minutes says 135 cm/h. Over 30 minutes the noise of the fit stays near
  1.3 cm/h for single readings of 1 cm noise once a minute, far inside `STEADY_CM_PER_H`. It is
  also the rate-of-rise window configured for Katulampa (1800 s in config/tepi.yaml), so there
  the public rate and the rate-of-rise alarm talk about the same half hour.
* **Steady below 5 cm/h either way** (`STEADY_CM_PER_H`): a few times the fit's own noise, so
  sensor noise and a stray spike do not flip the label, and far below the rates that matter for
  floods (the rate-of-rise alarm is set at 60 cm/h; observed flood rises were 60 to 175 cm/h).
* **Whole cm/h.** The fit is not better than about 1 cm/h, and more digits would only suggest
  a precision that is not there.
* **No trend when the data are thin** (`level_trend` returns None): fewer than `MIN_WINDOWS`
  windows with good readings in the span, or windows covering less than `MIN_COVERAGE` of it. A
  line through two windows a minute apart turns 1 cm of noise into 60 cm/h; saying nothing is
  more honest than saying that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from kinds.awlr.api.models import Trend

#: The time span the slope is fitted over, ending at the station's newest reading.
SPAN = timedelta(minutes=30)
#: Below this rate (either way, after rounding) the river is steady.
STEADY_CM_PER_H = 5.0
#: Fewest windows with good readings a slope is fitted to.
MIN_WINDOWS = 3
#: The least time the fitted windows' middles must cover (first to last).
MIN_COVERAGE = SPAN / 2


@dataclass(frozen=True, slots=True)
class LevelWindow:
    """One summary window's good readings: their mean and how many there were."""

    start: datetime
    end: datetime
    mean_cm: float
    count: int

    @property
    def middle(self) -> datetime:
        return self.start + (self.end - self.start) / 2


@dataclass(frozen=True, slots=True)
class LevelTrend:
    """The rate of change of the level (rounded to whole cm/h) and what it means."""

    label: Trend
    cm_per_h: float
    #: Windows the slope was fitted to.
    windows: int


def weighted_slope(times_s: Sequence[float], levels_cm: Sequence[float], weights: Sequence[float]) -> float:
    """Slope (cm/s) of the weighted least-squares line through (time, level) points.

    ValueError for sequences of unequal length, non-finite values, weights that are not
    positive, or fewer than two distinct times (no line is defined).
    """
    if not len(times_s) == len(levels_cm) == len(weights):
        raise ValueError("times, levels and weights must be of equal length")
    for name, values in (("time", times_s), ("level", levels_cm), ("weight", weights)):
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"every {name} must be a finite number")
    if any(w <= 0 for w in weights):
        raise ValueError("weights must be positive")
    if len(set(times_s)) < 2:
        raise ValueError("a slope needs points at two different times at least")
    total = math.fsum(weights)
    t_mean = math.fsum(w * t for w, t in zip(weights, times_s)) / total
    y_mean = math.fsum(w * y for w, y in zip(weights, levels_cm)) / total
    sxx = math.fsum(w * (t - t_mean) ** 2 for w, t in zip(weights, times_s))
    sxy = math.fsum(w * (t - t_mean) * (y - y_mean) for w, t, y in zip(weights, times_s, levels_cm))
    return sxy / sxx


def trend_label(cm_per_h: float) -> Trend:
    """Rising, falling or steady: steady while the rate stays below `STEADY_CM_PER_H` either way."""
    if not math.isfinite(cm_per_h):
        raise ValueError(f"rate {cm_per_h!r} is not a finite number")
    if cm_per_h >= STEADY_CM_PER_H:
        return "rising"
    if cm_per_h <= -STEADY_CM_PER_H:
        return "falling"
    return "steady"


def level_trend(windows: Sequence[LevelWindow], until: datetime, span: timedelta = SPAN) -> LevelTrend | None:
    """The trend of the windows whose middle lies in [until - span, until]; None when too thin.

    `until` is the station's newest reading: the trend is as of when the river was last seen,
    as the level beside it is. Windows outside the span are ignored, so a caller may pass a few
    more. ValueError for naive times, a window that ends before it starts, a count below 1, a
    non-finite mean or a span that is not positive.
    """
    if until.tzinfo is None:
        raise ValueError("until must be timezone-aware")
    if span <= timedelta(0):
        raise ValueError("span must be positive")
    for w in windows:
        if w.start.tzinfo is None or w.end.tzinfo is None:
            raise ValueError("window times must be timezone-aware")
        if w.end < w.start:
            raise ValueError(f"window ends ({w.end.isoformat()}) before it starts ({w.start.isoformat()})")
        if w.count < 1:
            raise ValueError("a window's mean needs one good reading at least")
        if not math.isfinite(w.mean_cm):
            raise ValueError("window means must be finite")
    inside = [w for w in windows if until - span <= w.middle <= until]
    if len(inside) < MIN_WINDOWS:
        return None
    middles = [(w.middle - until).total_seconds() for w in inside]
    if max(middles) - min(middles) < MIN_COVERAGE.total_seconds():
        return None
    slope = weighted_slope(middles, [w.mean_cm for w in inside], [float(w.count) for w in inside])
    cm_per_h = float(round(slope * 3600)) + 0.0  # + 0.0: never "-0.0"
    return LevelTrend(trend_label(cm_per_h), cm_per_h, len(inside))
