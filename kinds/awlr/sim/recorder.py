"""One AWLR logger's firmware: read the level on schedule, number it, frame it, encode it.

Why a separate layer: the runner owns threads and sockets, the hydrograph and faults are pure;
this is the part that decides *what bytes* a device sends for each reading slot, so it can be
tested without a clock or a broker. Frames are encoded only with
`kinds.awlr.wire`, the one wire format the gateway decodes.

Sequence numbers start at 0 when the simulator starts (a logger powering up) and advance by
one per reading slot, including slots that drop out, so the gateway sees the gap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

from kinds.awlr.sim import faults
from kinds.awlr.sim.hydrograph import station_level
from kinds.awlr.wire import MAX_SENTENCE_BYTES, AwlrFrame, encode_json, encode_sentence
from core.config import DeviceConfig
from kinds.awlr.config import SimulationConfig

WIB = timezone(timedelta(hours=7))


@dataclass(frozen=True, slots=True)
class Transmission:
    """What one reading slot produced; ``payload`` is None when the reading dropped out."""

    device: str
    seq: int
    ts: datetime
    payload: bytes | None
    faults: tuple[str, ...] = ()


def battery_volts(ts: datetime) -> float:
    """A solar-charged 12 V lead-acid battery: charging by day (WIB), resting at night.

    Gives the battery field a plausible daily rhythm instead of a constant a test cannot tell
    from a stuck value.
    """
    if ts.tzinfo is None:
        raise ValueError("ts must be timezone-aware")
    local = ts.astimezone(WIB)
    hour = local.hour + local.minute / 60.0 + local.second / 3600.0
    sun = math.sin(math.pi * (hour - 6.0) / 12.0)
    return round(12.4 + 1.4 * max(0.0, sun), 2)


def reading_frame(station: str, seq: int, ts: datetime, level_cm: float, battery_v: float) -> AwlrFrame:
    """The frame a logger builds: time in UTC to the whole second, as the serial format carries it.

    Truncating here (not only in the serial encoder) makes the serial and MQTT transports
    carry the same timestamp for the same reading.
    """
    if ts.tzinfo is None:
        raise ValueError("ts must be timezone-aware")
    return AwlrFrame(
        station=station,
        seq=int(seq),
        ts=ts.astimezone(timezone.utc).replace(microsecond=0),
        level_cm=float(level_cm),
        battery_v=float(battery_v),
    )


def encode_frame(frame: AwlrFrame, transport: str) -> bytes:
    """Bytes on the wire for a transport: an NMEA sentence on serial, JSON on MQTT."""
    if transport == "serial":
        return encode_sentence(frame)
    if transport == "mqtt":
        return encode_json(frame)
    raise ValueError(f"unknown transport {transport!r}")


def sentence_fits(station: str, max_level_cm: float) -> bool:
    """Whether this station's sentences stay within the NMEA 82-byte limit for years of seq.

    Checked before a run, so a long station id is a start-up error rather than every serial
    frame being rejected as too large by the gateway.
    """
    worst = reading_frame(station, 10**8 - 1, datetime(2099, 12, 31, tzinfo=timezone.utc), -abs(max_level_cm) - 0.05, 13.99)
    return len(encode_sentence(worst)) <= MAX_SENTENCE_BYTES


class AwlrRecorder:
    """The state one logger carries between readings: next slot, RNG and stuck-sensor state."""

    def __init__(
        self,
        device: DeviceConfig,
        simulation: SimulationConfig,
        arrival_h: float,
        epoch: datetime,
        plan: faults.FaultPlan,
        rng: np.random.Generator,
    ) -> None:
        scenario = simulation.stations.get(device.station)
        if scenario is None:
            raise ValueError(f"device {device.id!r}: simulation has no scenario for station {device.station!r}")
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        self.device = device
        self._scenario = scenario
        self._simulation = simulation
        self._arrival_h = float(arrival_h)
        self._epoch = epoch.astimezone(timezone.utc)
        self._interval = timedelta(seconds=simulation.interval_s)
        self._plan = plan
        self._rng = rng
        self._stuck = faults.StuckSensor()
        self.next_seq = 0

    @property
    def next_due(self) -> datetime:
        """Simulated time of the next reading slot."""
        return self._epoch + self._interval * self.next_seq

    def take_until(self, sim_now: datetime, limit: int = 256) -> list[Transmission]:
        """Take every reading due at or before ``sim_now`` (at most ``limit``, the rest next call)."""
        if limit < 1:
            raise ValueError("limit must be >= 1")
        due = math.floor((sim_now - self._epoch) / self._interval) + 1 - self.next_seq
        n = max(0, min(due, limit))
        if n == 0:
            return []
        seqs = np.arange(self.next_seq, self.next_seq + n)
        self.next_seq += n
        return self._readings(seqs)

    def _readings(self, seqs: np.ndarray) -> list[Transmission]:
        sim, plan, rng = self._simulation, self._plan, self._rng
        hours = seqs * (sim.interval_s / 3600.0)
        true = station_level(hours, self._scenario, sim.storm_start_h + self._arrival_h, sim.rise_h, sim.fall_h)
        measured = faults.add_noise(true, plan.noise_cm, rng)
        measured, spiked = faults.inject_spikes(measured, plan.spike_probability, rng, plan.spike_cm)
        measured, frozen, self._stuck = faults.apply_stuck(
            measured, self._stuck, plan.stuck_probability, plan.stuck_readings, rng
        )
        dropped = faults.fault_mask(len(seqs), plan.dropout_probability, rng)
        garbled = faults.fault_mask(len(seqs), plan.garbage_probability, rng)
        out: list[Transmission] = []
        for i, seq in enumerate(seqs.tolist()):
            ts = self._epoch + self._interval * seq
            kinds = [k for k, hit in (("spike", spiked[i] and not frozen[i]), ("stuck", frozen[i])) if hit]
            if dropped[i]:
                out.append(Transmission(self.device.id, seq, ts, None, (*kinds, "dropout")))
                continue
            frame = reading_frame(self.device.station, seq, ts, measured[i], battery_volts(ts))
            payload = encode_frame(frame, self.device.transport)
            if garbled[i]:
                corrupt = faults.corrupt_line if self.device.transport == "serial" else faults.corrupt_json
                kind, payload = corrupt(payload, rng)
                kinds.append(kind)
            out.append(Transmission(self.device.id, seq, ts, payload, tuple(kinds)))
        return out
