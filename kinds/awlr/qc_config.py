"""QARTOD flags and per-station QC thresholds: what the configuration and the live gateway need
of QC, without numpy (the vectorised tests over whole series are in `kinds.awlr.edge.qc`)."""

from __future__ import annotations

import math
from enum import IntEnum
from numbers import Real

from pydantic import BaseModel, ConfigDict, Field, model_validator


class QcFlag(IntEnum):
    """QARTOD primary flags, as used by IOOS, ioos_qc and the flag columns Tepi stores."""

    GOOD = 1
    UNKNOWN = 2
    SUSPECT = 3
    FAIL = 4
    MISSING = 9


class QcConfig(BaseModel):
    """Per-station QC thresholds, in cm and seconds; the defaults suit a river AWLR at 1/min.

    Spike 30/60 cm: far beyond the noise of a radar or ultrasonic gauge, far below the 200+ cm
    false echoes (debris, rain) they produce. Rate of change 1 cm/s: the fastest published rise
    (Depok, 175 cm in an hour) is 0.05 cm/s, so only a broken reading moves faster. Flat line
    0.05 cm for 3600 s / 9000 s: the published QARTOD configuration. Usable as a pydantic field
    of the station configuration.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    user_span_cm: tuple[float, float] | None = Field(
        default=None, description="Levels this river plausibly reaches; outside is SUSPECT (must lie within the sensor span)."
    )
    spike_suspect_cm: float = Field(default=30.0, gt=0, allow_inf_nan=False)
    spike_fail_cm: float = Field(default=60.0, gt=0, allow_inf_nan=False)
    rate_suspect_cm_per_s: float = Field(default=1.0, gt=0, allow_inf_nan=False)
    rate_fail_cm_per_s: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    flat_tolerance_cm: float = Field(default=0.05, gt=0, allow_inf_nan=False)
    flat_suspect_s: float = Field(default=3600.0, gt=0, allow_inf_nan=False)
    flat_fail_s: float = Field(default=9000.0, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> QcConfig:
        if self.spike_suspect_cm > self.spike_fail_cm:
            raise ValueError("spike_suspect_cm must not exceed spike_fail_cm")
        if self.rate_fail_cm_per_s is not None and self.rate_suspect_cm_per_s > self.rate_fail_cm_per_s:
            raise ValueError("rate_suspect_cm_per_s must not exceed rate_fail_cm_per_s")
        if self.flat_suspect_s > self.flat_fail_s:
            raise ValueError("flat_suspect_s must not exceed flat_fail_s")
        if self.user_span_cm is not None:
            checked_span(self.user_span_cm, "user_span_cm")
        return self


def checked_span(span: tuple[float, float], name: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in span)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be two numbers (low, high), got {span!r}") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be finite (low, high) with low < high, got {span!r}")
    return lo, hi


def require_positive(value: float, name: str) -> None:
    if not (isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
