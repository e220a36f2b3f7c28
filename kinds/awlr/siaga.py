"""Siaga (flood alert) levels: 4 normal, 3 waspada, 2 siaga, 1 awas.

`classify_siaga` is a pure function over numpy arrays, so QC, hysteresis and forecasting
(issue 3) can extend it without touching I/O; it imports numpy itself, since the gateway
process, which needs only the levels, does not load numpy.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, NDArray


class SiagaLevel(IntEnum):
    AWAS = 1
    SIAGA = 2
    WASPADA = 3
    NORMAL = 4

    @property
    def label(self) -> str:
        """The label BPBD and PetaBencana.id use, e.g. "SIAGA IV"."""
        return f"SIAGA {('I', 'II', 'III', 'IV')[self.value - 1]}"

    @property
    def name_id(self) -> str:
        return {1: "Awas", 2: "Siaga", 3: "Waspada", 4: "Normal"}[self.value]


def classify_siaga(levels_cm: ArrayLike, bounds: tuple[float, float, float]) -> NDArray[np.int8]:
    """Siaga level (1..4) of each reading; `bounds` are the lower bounds of Siaga 3, 2 and 1.

    A level equal to a bound takes the higher alert. NaN readings classify as 0 (unknown), so
    the caller decides what a missing reading means instead of it silently reading "normal".
    """
    import numpy as np

    b = np.asarray(bounds, dtype=float)
    if b.shape != (3,) or not np.all(np.isfinite(b)) or not np.all(np.diff(b) > 0):
        raise ValueError(f"bounds must be three finite increasing numbers, got {bounds!r}")
    x = np.asarray(levels_cm, dtype=float)
    exceeded = np.searchsorted(b, x, side="right")  # how many bounds are <= level
    out = (4 - exceeded).astype(np.int8)
    out[np.isnan(x)] = 0
    return out
