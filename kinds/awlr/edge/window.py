"""Windowed summaries of river levels: pure functions over numpy arrays.

Windows are aligned to the epoch (a 600 s window starts at :00, :10, ...), so every gateway
and every restart cuts the same windows, and a summary's id can be derived from its window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True, slots=True)
class WindowStats:
    count: int
    min: float
    max: float
    mean: float
    last: float


def window_start(ts_epoch_s: ArrayLike, window_s: float) -> np.ndarray:
    """Start (epoch seconds) of the aligned window each timestamp falls in."""
    if not window_s > 0:
        raise ValueError(f"window_s must be positive, got {window_s!r}")
    t = np.asarray(ts_epoch_s, dtype=float)
    return np.floor(t / window_s) * window_s


def summarize(ts_epoch_s: ArrayLike, levels_cm: ArrayLike) -> WindowStats:
    """Statistics of one window; NaN levels (missing) are ignored, `last` is the latest good one."""
    t = np.asarray(ts_epoch_s, dtype=float)
    x = np.asarray(levels_cm, dtype=float)
    if t.shape != x.shape or t.ndim != 1:
        raise ValueError(f"timestamps and levels must be 1-D of equal length, got {t.shape} and {x.shape}")
    good = ~np.isnan(x)
    if not good.any():
        raise ValueError("a window needs at least one good reading")
    t, x = t[good], x[good]
    return WindowStats(
        count=int(x.size),
        min=float(x.min()),
        max=float(x.max()),
        mean=float(x.mean()),
        last=float(x[np.argmax(t)]),
    )
