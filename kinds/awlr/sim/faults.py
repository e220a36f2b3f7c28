"""What a real water level recorder and its link do to the true level: pure functions.

Why: the gateway's quality control (gross range, spike, flat line) and its rejection counters
(garbage, checksum, truncated, not_json) can only be trusted if they see the faults that field
loggers produce. Every function takes an explicit `numpy.random.Generator`, so a scenario with
a seed replays the same faults, and tests can count them.

Sensor faults, in the order a reading meets them:

1. gaussian noise (``noise_cm``): ripples, and radar/ultrasonic jitter;
2. spikes (``spike_probability``): debris or a stray echo reads tens of cm off for one reading;
3. a stuck sensor: the logger repeats the same value for a stretch (a frozen float, a
   blocked stilling well), long enough to cross the QARTOD flat-line limits of 3600 s and
   9000 s when it lasts;
4. dropouts (``dropout_probability``): the reading is taken (its sequence number is used) but
   never arrives, so the gateway can see the gap.

Link faults (``garbage_probability``) replace an encoded frame: line noise, a flipped
character (checksum mismatch) or a line cut short on the serial link, a cut JSON on MQTT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from kinds.awlr.wire import PREFIX
from kinds.awlr.config import SimulationConfig

# Not (yet) in SimulationConfig: chosen so a 12 h default run usually shows one stuck stretch.
DEFAULT_STUCK_PROBABILITY = 0.0002
DEFAULT_STUCK_SECONDS = (2700.0, 10800.0)  # 45 min .. 3 h: below and beyond the flat-line limits
DEFAULT_SPIKE_CM = (30.0, 150.0)

SERIAL_LINK_FAULTS = ("garbage", "checksum", "truncated")


def _probability(name: str, p: float) -> float:
    if not (isinstance(p, (int, float)) and 0.0 <= p <= 1.0):
        raise ValueError(f"{name} must be a probability in [0, 1], got {p!r}")
    return float(p)


def _count(n: int) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    return int(n)


def _levels(levels: ArrayLike) -> NDArray[np.float64]:
    x = np.asarray(levels, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"levels must be one-dimensional, got shape {x.shape}")
    return x


def _range(name: str, bounds: tuple[float, float], positive: bool = True) -> tuple[float, float]:
    lo, hi = (float(b) for b in bounds)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi and (lo > 0 or not positive)):
        raise ValueError(f"{name} must be (low, high) with 0 < low <= high, got {bounds!r}")
    return lo, hi


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """How often each fault happens at one device; built from the scenario, overridable in tests."""

    noise_cm: float = 0.0
    spike_probability: float = 0.0
    spike_cm: tuple[float, float] = DEFAULT_SPIKE_CM
    stuck_probability: float = 0.0
    stuck_readings: tuple[int, int] = (45, 180)
    dropout_probability: float = 0.0
    garbage_probability: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.noise_cm) and self.noise_cm >= 0):
            raise ValueError(f"noise_cm must be >= 0, got {self.noise_cm!r}")
        for name in ("spike_probability", "stuck_probability", "dropout_probability", "garbage_probability"):
            _probability(name, getattr(self, name))
        _range("spike_cm", self.spike_cm)
        lo, hi = self.stuck_readings
        if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
            raise ValueError(f"stuck_readings must be (low, high) integers with 1 <= low <= high, got {self.stuck_readings!r}")

    @classmethod
    def from_simulation(
        cls,
        simulation: SimulationConfig,
        station_id: str,
        stuck_probability: float = DEFAULT_STUCK_PROBABILITY,
        stuck_seconds: tuple[float, float] = DEFAULT_STUCK_SECONDS,
    ) -> "FaultPlan":
        """The plan for a device at ``station_id``; stuck stretches are given in simulated seconds
        because the flat-line limits they should exercise are in seconds."""
        scenario = simulation.stations.get(station_id)
        if scenario is None:
            raise ValueError(f"simulation has no scenario for station {station_id!r}")
        lo_s, hi_s = _range("stuck_seconds", stuck_seconds)
        interval = simulation.interval_s
        readings = (max(1, round(lo_s / interval)), max(1, round(hi_s / interval)))
        return cls(
            noise_cm=scenario.noise_cm,
            spike_probability=simulation.spike_probability,
            stuck_probability=stuck_probability,
            stuck_readings=readings,
            dropout_probability=simulation.dropout_probability,
            garbage_probability=simulation.garbage_probability,
        )


def add_noise(levels: ArrayLike, noise_cm: float, rng: np.random.Generator) -> NDArray[np.float64]:
    """Gaussian sensor noise with standard deviation ``noise_cm``."""
    x = _levels(levels)
    if not (math.isfinite(noise_cm) and noise_cm >= 0):
        raise ValueError(f"noise_cm must be >= 0, got {noise_cm!r}")
    if noise_cm == 0:
        return x.copy()
    return x + rng.normal(0.0, noise_cm, size=x.shape)


def inject_spikes(
    levels: ArrayLike, probability: float, rng: np.random.Generator, magnitude_cm: tuple[float, float] = DEFAULT_SPIKE_CM
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Single-reading excursions up or down; returns the levels and which ones were spiked."""
    x = _levels(levels)
    p = _probability("probability", probability)
    lo, hi = _range("magnitude_cm", magnitude_cm)
    hit = rng.random(x.shape) < p
    size = rng.uniform(lo, hi, size=x.shape) * rng.choice((-1.0, 1.0), size=x.shape)
    return np.where(hit, x + size, x), hit


def fault_mask(n: int, probability: float, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Which of ``n`` readings a fault of this probability hits (dropouts, link garbage)."""
    return rng.random(_count(n)) < _probability("probability", probability)


@dataclass(frozen=True, slots=True)
class StuckSensor:
    """Carry-over between batches: how many more readings stay frozen, and at which value.

    ``last_cm`` is the last value the sensor reported, which is what it freezes at.
    """

    remaining: int = 0
    value_cm: float = math.nan
    last_cm: float = math.nan


def apply_stuck(
    levels: ArrayLike,
    state: StuckSensor,
    probability: float,
    stretch_readings: tuple[int, int],
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.bool_], StuckSensor]:
    """Freeze stretches of readings at the last reported value.

    Returns the levels, which readings are frozen, and the state to pass to the next batch, so
    a stretch continues across ticks of the runner exactly as in one long array.
    """
    x = _levels(levels).copy()
    p = _probability("probability", probability)
    lo, hi = stretch_readings
    if not (1 <= lo <= hi):
        raise ValueError(f"stretch_readings must be (low, high) with 1 <= low <= high, got {stretch_readings!r}")
    starts = rng.random(x.shape) < p
    lengths = rng.integers(lo, hi + 1, size=x.shape)
    frozen = np.zeros(x.shape, dtype=bool)
    remaining, value, last = state.remaining, state.value_cm, state.last_cm
    for i in range(x.size):
        if remaining == 0 and starts[i] and math.isfinite(last):
            remaining, value = int(lengths[i]), last
        if remaining > 0:
            x[i] = value
            frozen[i] = True
            remaining -= 1
        last = float(x[i])
    return x, frozen, StuckSensor(remaining, value if remaining else math.nan, last)


def corrupt_line(line: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """Damage one serial sentence the way a noisy RS-232/RS-485 line does.

    Returns the fault kind (the gateway's rejection reason it should produce) and the bytes
    to send. Every result is still one CR LF terminated line, so one damaged frame costs
    exactly one rejection and never swallows the next good sentence.
    """
    body = line.rstrip(b"\r\n")
    if not body.startswith(PREFIX) or body.rfind(b"*") <= len(PREFIX):
        raise ValueError("not a complete AWLR sentence with a checksum")
    kind = SERIAL_LINK_FAULTS[int(rng.integers(len(SERIAL_LINK_FAULTS)))]
    if kind == "garbage":
        # Baud-rate mismatch or EMI: bytes with the high bit set, never a line end.
        noise = rng.integers(0x80, 0x100, size=int(rng.integers(4, len(body) + 1)), dtype=np.uint8)
        return kind, noise.tobytes() + b"\r\n"
    star = body.rindex(b"*")
    # Both keep the "$PTAWL," prefix, so the gateway recognises the sentence and says why it fails.
    if kind == "truncated":
        return kind, body[: int(rng.integers(len(PREFIX), star))] + b"\r\n"
    # One bit flipped in a data character between the prefix and "*": checksum mismatch.
    i = int(rng.integers(len(PREFIX), star))
    flipped = body[i] ^ 0x01
    if flipped in (ord("*"), ord("$"), ord(","), ord("\r"), ord("\n")) or not 0x20 <= flipped < 0x7F:
        flipped = ord("#") if body[i] != ord("#") else ord("%")
    return "checksum", body[:i] + bytes([flipped]) + body[i + 1 :] + b"\r\n"


def corrupt_json(payload: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """Cut a JSON payload short, as firmware that publishes a half-filled buffer does."""
    if len(payload) < 2:
        raise ValueError("payload too short to cut")
    return "truncated_json", payload[: int(rng.integers(1, len(payload) - 1))]
