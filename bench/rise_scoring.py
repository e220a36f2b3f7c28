"""Scoring the rate-of-rise warning through the gateway's own `LevelProcessor` (QC, trackers,
events), one reading at a time as a gauge reporting once a minute delivers them.

* **Lead time** on the published rises (`bench/data/observed_rises.csv`, with their sources)
  and on the issue's 240 cm/h ramp from 50 cm: minutes from the first warning to the moment the
  true level reaches a Siaga threshold (negative: the warning came after it).
* **False warnings** in a simulated normal month per station: a warning is false when the true
  level stays below Siaga 3 for the two hours after it.

Readings are the true level plus 1 cm of Gaussian noise, with the simulator's spikes
(`kinds.awlr.sim.faults`), at the wire's 0.1 cm; a reading outside the sensor span is rejected as
the gateway's frame check rejects it. Pure apart from reading the CSV; seeded, so repeatable.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from kinds.awlr.sim.faults import add_noise, inject_spikes
from kinds.awlr.sim.hydrograph import flood_wave
from kinds.awlr.edge.processor import LevelProcessor
from gateway.errors import FrameRejected
from kinds.awlr.edge.reading import LevelReading as Reading
from kinds.awlr.config import StationConfig
from kinds.awlr.items import RateOfRise

OBSERVED_RISES = Path(__file__).resolve().parent / "data" / "observed_rises.csv"
T0 = datetime(2026, 1, 5, 0, 0, tzinfo=timezone.utc)
EVERY_S = 60.0  # one reading a minute
NOISE_CM = 1.0
FALSE_IF_BELOW_FOR_S = 2 * 3600.0  # a warning is false if the level stays below Siaga 3 this long after it

#: The issue-18 ramp: 240 cm/h from 50 cm, after two flat hours (Siaga 3 of Katulampa, 80 cm, 7.5 min in).
RAMP_FROM_CM, RAMP_CM_PER_H, RAMP_FLAT_MIN = 50.0, 240.0, 120.0

#: The normal month. Rain rises: about one a day (the wet season), each to a peak anywhere from 5 cm
#: above the base to 2 cm below Siaga 3, rising as half a cosine (as `kinds.awlr.sim.hydrograph`) at
#: up to 5-50 cm/h at its steepest, falling 2-4 times as long as it rose. 50 cm/h is twice the
#: published rises that stayed below Siaga 3 (Depok 105 -> 130 cm in an hour, antara-2023); a rise
#: as steep as a flood onset (>= 60 cm/h, the slowest in the published floods) is what the warning
#: is for, whether or not it then stops short of Siaga 3. Spikes: about one a day, 30-150 cm either
#: way (the simulator's), through the gateway's QC.
MONTH_DAYS = 30
RISES_PER_DAY = 1.0
RISE_MAX_CM_PER_H = (5.0, 50.0)
RISE_PEAK_ABOVE_BASE_CM, RISE_PEAK_BELOW_SIAGA3_CM = 5.0, 2.0
SPIKES_PER_DAY = 1.0


@dataclass(frozen=True)
class Knots:
    """A published rise as (minute, true level) corners, joined by straight lines."""

    name: str
    minutes: NDArray[np.float64]
    levels_cm: NDArray[np.float64]

    def sampled(self, every_s: float = EVERY_S) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Seconds from the start and the true level, one reading every `every_s`."""
        t = np.arange(0.0, self.minutes[-1] * 60.0 + 1e-9, every_s)
        return t, np.interp(t, self.minutes * 60.0, self.levels_cm)

    def reaches_s(self, level_cm: float) -> float | None:
        """When the true level first reaches `level_cm` (seconds from the start), None if never."""
        m, x = self.minutes, self.levels_cm
        if x[0] >= level_cm:
            return 0.0
        for i in range(1, len(m)):
            if x[i] >= level_cm:
                return 60.0 * (m[i - 1] + (m[i] - m[i - 1]) * (level_cm - x[i - 1]) / (x[i] - x[i - 1]))
        return None


def observed_rises(path: Path = OBSERVED_RISES) -> dict[str, Knots]:
    """The committed series, by name; ValueError if the file is malformed."""
    rows: dict[str, list[tuple[float, float]]] = {}
    with path.open(newline="") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            if row["kind"] not in ("published", "assumed"):
                raise ValueError(f"{path}: kind must be published or assumed, got {row['kind']!r}")
            rows.setdefault(row["series"], []).append((float(row["minute"]), float(row["level_cm"])))
    out = {}
    for name, pts in rows.items():
        m, x = np.array(pts).T
        if not (np.diff(m) > 0).all():
            raise ValueError(f"{path}: the minutes of {name} must increase")
        out[name] = Knots(name, m, x)
    return out


def ramp(to_cm: float = 250.0) -> Knots:
    rise_min = (to_cm - RAMP_FROM_CM) / RAMP_CM_PER_H * 60.0
    return Knots("ramp", np.array([0.0, RAMP_FLAT_MIN, RAMP_FLAT_MIN + rise_min, RAMP_FLAT_MIN + rise_min + 30.0]),
                 np.array([RAMP_FROM_CM, RAMP_FROM_CM, to_cm, to_cm]))


def measured(true_cm: NDArray[np.float64], rng: np.random.Generator, spikes_per_reading: float = 0.0) -> NDArray[np.float64]:
    """What the gauge reports: noise, spikes, the wire's 0.1 cm."""
    x = add_noise(true_cm, NOISE_CM, rng)
    if spikes_per_reading:
        x, _ = inject_spikes(x, spikes_per_reading, rng)
    return np.round(x, 1)


def warnings(station: StationConfig, t_s: Sequence[float], levels_cm: Sequence[float]) -> list[RateOfRise]:
    """The rate-of-rise events the gateway's processor raises for these readings, fed one at a
    time (as they arrive live: the newest reading's spike verdict waits for the next)."""
    p = LevelProcessor("gw-bench", station, f"awlr-{station.id}")
    lo, hi = station.sensor_span_cm
    out: list[RateOfRise] = []
    for seq, (t, x) in enumerate(zip(t_s, levels_cm)):
        if not lo <= x <= hi:  # the frame check (`kinds.awlr.edge.kind`) rejects it
            p.note_rejected()
            continue
        try:
            p.accept(Reading(p.device_id, seq, T0 + timedelta(seconds=float(t)), float(x), 12.5))
        except FrameRejected:
            continue
        out += [i for i in p.process() if isinstance(i, RateOfRise)]
    return out


def lead_min(events: Sequence[RateOfRise], reaches_s: float | None) -> float | None:
    """Minutes from the first warning to the threshold (negative: after it); None without either."""
    first = next((e for e in events if e.active), None)
    if first is None or reaches_s is None:
        return None
    return (reaches_s - (first.ts - T0).total_seconds()) / 60.0


def normal_month(
    base_cm: float, siaga3_cm: float, rng: np.random.Generator, days: int = MONTH_DAYS,
    steepest_cm_per_h: tuple[float, float] = RISE_MAX_CM_PER_H,
) -> NDArray[np.float64]:
    """True levels, one a minute: the base and its rain rises, none reaching Siaga 3."""
    hours = np.arange(int(days * 86400 / EVERY_S)) * EVERY_S / 3600.0
    level = np.full(hours.size, float(base_cm))
    lowest, highest = base_cm + RISE_PEAK_ABOVE_BASE_CM, siaga3_cm - RISE_PEAK_BELOW_SIAGA3_CM
    if not lowest < highest:
        raise ValueError(f"no room for rain rises between base {base_cm} and Siaga 3 {siaga3_cm}")
    clock, last_peak_h = 0.0, -math.inf
    while True:
        clock += rng.exponential(24.0 / RISES_PER_DAY)
        # A rise starts once the last has peaked, so every earlier rise is falling while this one
        # rises, and the sum stays below this one's peak.
        start = max(clock, last_peak_h)
        if start >= hours[-1]:
            return level
        peak, steepest = rng.uniform(lowest, highest), rng.uniform(*steepest_cm_per_h)
        amplitude = peak - level[min(int(start * 3600 / EVERY_S), hours.size - 1)]
        if amplitude <= 1.0:
            continue
        rise_h = math.pi * amplitude / (2.0 * steepest)  # half a cosine is steepest at pi/2 * A / T
        level += amplitude * flood_wave(hours, start, rise_h, rise_h * rng.uniform(2.0, 4.0))
        last_peak_h = start + rise_h


@dataclass(frozen=True)
class MonthScore:
    station: str
    seed: int
    warnings: int
    false_warnings: int
    highest_cm: float
    siaga3_cm: float


def score_month(
    station: StationConfig, base_cm: float, seed: int, days: int = MONTH_DAYS,
    steepest_cm_per_h: tuple[float, float] = RISE_MAX_CM_PER_H,
) -> MonthScore:
    rng = np.random.default_rng(seed)
    siaga3 = station.thresholds.siaga3
    true = normal_month(base_cm, siaga3, rng, days, steepest_cm_per_h)
    t = np.arange(true.size) * EVERY_S
    events = warnings(station, t, measured(true, rng, SPIKES_PER_DAY * EVERY_S / 86400.0))
    starts = [(e.ts - T0).total_seconds() for e in events if e.active]
    after = int(FALSE_IF_BELOW_FOR_S / EVERY_S)
    false = 0
    for s in starts:
        i = int(s / EVERY_S)
        if not (true[i : i + after + 1] >= siaga3).any():
            false += 1
    return MonthScore(station.id, seed, len(starts), false, float(true.max()), siaga3)
