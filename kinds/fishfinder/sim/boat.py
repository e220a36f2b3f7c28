"""One boat's fish-finder over simulated time: every instrument value it gives in any second of
its day trip, and the lines its NMEA multiplexer puts on the wire.

Why a function of the second and not a running loop: the runner plays boats at 1x on a test
bench and at 60x or more in a demo, and a test asks for one minute out of the middle of a trip.
So `BoatInstruments.seconds(first, count)` maps seconds since departure to values with no clock
and no hidden state; the same plan, seed and second always give the same values, in whatever
order and pace they are asked for. Seconds count from the plan's departure (whole seconds, UTC);
the instruments are on from departure to arrival and off while the boat is moored.

Per second: a `Fix`, a `Depth` and a `WaterTemp` from `VoyagePlan.sample`, then any `Distress`,
then the pings of that second. The sounder sees the bottom only within its range
(``range_start_m + bins * bin_m``, 100 m by default): deeper, a real fish-finder loses the
bottom, so no `Depth` is sent that second and the pings show no seabed echo (off the Bukit and in
the Badung Strait the synthetic bottom drops to hundreds of metres: there the echogram is water
column only). The echogram is made 120 s at a time (`CHUNK_S`) by `echogram_sim.simulate_scene`
with the plan's depth as its seabed and a generator seeded by (seed, chunk): on the fishing
ground schools come every `GROUND_SCHOOL_GAP_S` on average, elsewhere every
`TRANSIT_SCHOOL_GAP_S` (assumptions that make fish plentiful where fishers go, not survey data).

The SOS button (`SosPress`): from the press until its release the device sends ``$PTEPD`` with
the press's number every `DISTRESS_REPEAT_S` seconds, and after a release sends the cancel
`CANCEL_REPEATS` times, so a lost line neither hides an alert nor leaves one standing. DSC
radios repeat a distress alert every 3.5-4.5 min until acknowledged (ITU-R M.541); an
SOS button on a line to a gateway a few metres away can afford to repeat far more often.
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np

from kinds.fishfinder import wire
from kinds.fishfinder.sim import serial_sim
from kinds.fishfinder.sim.echogram_sim import Scene, SceneSpec, simulate_scene
from kinds.fishfinder.sim.nmea_stream import StreamLine
from kinds.fishfinder.sim.voyage import KNOT_M_S, PHASES, VoyagePlan
from kinds.fishfinder.values import Depth, Distress, DistressNature, Fix, InstrumentValue, Ping, WaterTemp

CHUNK_S = 120
GROUND_SCHOOL_GAP_S = 30.0
TRANSIT_SCHOOL_GAP_S = 900.0
DISTRESS_REPEAT_S = 10
CANCEL_REPEATS = 3
_FISHING = PHASES.index("fishing")
_SCENE_CACHE = 4  # chunks kept per boat: the one being sent, its neighbours, a test's look-back


@dataclass(frozen=True, slots=True)
class SounderSettings:
    """The echo sounder and the line it talks on. 500 bins of 0.2 m: a 100 m range, typical
    of a small boat's fish-finder; ~2 pings/s (see the Marine notes in `echogram_sim`)."""

    bins: int = 500
    bin_m: float = 0.2
    ping_rate_hz: float = 2.0
    baud: int = 38400
    range_start_m: float = 0.0

    def __post_init__(self) -> None:
        if not 10 <= self.bins <= wire.MAX_BINS:
            raise ValueError(f"bins must be in [10, {wire.MAX_BINS}], got {self.bins}")
        if not (math.isfinite(self.bin_m) and self.bin_m >= 0.001 and math.isfinite(self.range_start_m) and self.range_start_m >= 0):
            raise ValueError("bin_m must be at least 1 mm and range_start_m non-negative")
        per_chunk = self.ping_rate_hz * CHUNK_S
        if not (0 < self.ping_rate_hz <= 10 and abs(per_chunk - round(per_chunk)) < 1e-9):
            raise ValueError(f"ping_rate_hz must be in (0, 10] with a whole number of pings in {CHUNK_S} s")
        if self.baud not in serial_sim.BAUDS:
            raise ValueError(f"baud must be one of {serial_sim.BAUDS}")

    @property
    def range_m(self) -> float:
        return self.range_start_m + self.bins * self.bin_m

    @property
    def pings_per_chunk(self) -> int:
        return round(self.ping_rate_hz * CHUNK_S)

    @property
    def echogram(self) -> bool:
        """Whether the line carries pings at all: not at 4,800 baud (see `wire`)."""
        return self.baud >= 38400


@dataclass(frozen=True, slots=True)
class SosPress:
    """A press of the SOS button at ``at``, held active until ``release`` (None: for the rest of the trip)."""

    at: datetime
    nature: DistressNature = "undesignated"
    release: datetime | None = None

    def __post_init__(self) -> None:
        for name, ts in (("at", self.at), ("release", self.release)):
            if ts is not None and (not isinstance(ts, datetime) or ts.utcoffset() is None):
                raise ValueError(f"SOS {name} must be a timezone-aware datetime, got {ts!r}")
        if self.nature not in wire.NATURES:
            raise ValueError(f"SOS nature must be one of {wire.NATURES}, got {self.nature!r}")
        if self.release is not None and self.release <= self.at:
            raise ValueError("an SOS release must come after its press")


@dataclass(frozen=True, slots=True)
class EchogramDecimation:
    """Which pings go on the wire when simulated time runs faster than a gateway can decode.

    A school is only found in consecutive pings, so thinning evenly would hide every school.
    Instead: the schools of one chunk in ``burst_every_chunks`` go at full rate (with
    ``guard_pings`` of water either side, the background a detector compares against), and
    outside them one ping in ``background_every`` keeps the seabed trace. `FULL` sends all."""

    burst_every_chunks: int = 1
    background_every: int = 1
    guard_pings: int = 4

    def __post_init__(self) -> None:
        if self.burst_every_chunks < 1 or self.background_every < 1 or self.guard_pings < 0:
            raise ValueError("decimation periods must be at least 1 and the guard non-negative")

    @classmethod
    def for_speedup(cls, speedup: float, ping_rate_hz: float, budget_pings_per_real_s: float = 8.0) -> EchogramDecimation:
        """Thin pings so that a boat sends about ``budget_pings_per_real_s`` (half school
        bursts, half background) at ``speedup`` times real time. A fishing-ground chunk holds
        about 100 pings of schools and guards (2-3 schools of 10-60 m at 1.5-2 m/s)."""
        if not (math.isfinite(speedup) and speedup > 0 and budget_pings_per_real_s > 0 and ping_rate_hz > 0):
            raise ValueError("speedup, ping rate and budget must be positive")
        if speedup * ping_rate_hz <= budget_pings_per_real_s:
            return FULL
        per_sim_s = budget_pings_per_real_s / speedup / 2
        return cls(
            burst_every_chunks=max(1, math.ceil(100 / (per_sim_s * CHUNK_S))),
            background_every=max(1, math.ceil(ping_rate_hz / per_sim_s)),
        )

    def bursts(self, chunk: int) -> bool:
        return chunk % self.burst_every_chunks == 0

    @property
    def is_full(self) -> bool:
        return self.background_every == 1


FULL = EchogramDecimation()


@dataclass(frozen=True, slots=True)
class SchoolTruth:
    """A school the echogram holds: when and how deep, where the boat was at its middle, and
    whether its pings went on the wire at full rate (`EchogramDecimation`)."""

    start: datetime
    end: datetime
    top_m: float
    bottom_m: float
    sv_db: float
    lat: float
    lon: float
    phase: str
    first_seq: int
    last_seq: int
    full_rate: bool


class _SceneCache:
    """The few latest chunks, shared by a boat's copies (`with_press`) and safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scenes: OrderedDict[int, Scene] = OrderedDict()

    def get(self, chunk: int, make) -> Scene:  # type: ignore[no-untyped-def]
        with self._lock:
            scene = self._scenes.get(chunk)
            if scene is not None:
                self._scenes.move_to_end(chunk)
                return scene
        scene = make(chunk)
        with self._lock:
            self._scenes[chunk] = scene
            while len(self._scenes) > _SCENE_CACHE:
                self._scenes.popitem(last=False)
        return scene


class BoatInstruments:
    """One boat's instruments on its `VoyagePlan` (see the module docstring)."""

    def __init__(
        self,
        plan: VoyagePlan,
        seed: int,
        sounder: SounderSettings = SounderSettings(),
        presses: Sequence[SosPress] = (),
        decimation: EchogramDecimation = FULL,
        *,
        _cache: _SceneCache | None = None,
    ) -> None:
        if not isinstance(plan, VoyagePlan):
            raise ValueError(f"plan must be a VoyagePlan, got {type(plan).__name__}")
        if not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed!r}")
        self.plan, self.seed, self.sounder, self.decimation = plan, seed, sounder, decimation
        self.last_second = int(math.floor(plan.duration_s))
        ordered = tuple(sorted(presses, key=lambda p: p.at))
        for p in ordered:
            if not 0 <= self.second_of(p.at) <= self.last_second:
                raise ValueError(f"SOS press at {p.at.isoformat()} is outside {plan.boat_id}'s trip (instruments off)")
        for a, b in zip(ordered, ordered[1:]):
            if a.release is None or a.release > b.at:
                raise ValueError("an SOS press must be released before the next one")
        self.presses = ordered
        self._cache = _cache or _SceneCache()

    @property
    def boat_id(self) -> str:
        return self.plan.boat_id

    def with_press(self, press: SosPress) -> BoatInstruments:
        """The same boat with one more press scheduled; the echogram is shared, not redrawn."""
        return BoatInstruments(self.plan, self.seed, self.sounder, (*self.presses, press), self.decimation, _cache=self._cache)

    def with_release(self, at: datetime) -> BoatInstruments:
        """The same boat with its latest press released at ``at`` (ValueError if none is held)."""
        if not self.presses or self.presses[-1].release is not None:
            raise ValueError(f"{self.boat_id}: no SOS press is held")
        presses = (*self.presses[:-1], replace(self.presses[-1], release=at))
        return BoatInstruments(self.plan, self.seed, self.sounder, presses, self.decimation, _cache=self._cache)

    def timestamp(self, second: int) -> datetime:
        return self.plan.departure + timedelta(seconds=int(second))

    def second_of(self, ts: datetime) -> int:
        """The second since departure that holds ``ts``."""
        if not isinstance(ts, datetime) or ts.utcoffset() is None:
            raise ValueError(f"expected a timezone-aware datetime, got {ts!r}")
        return math.floor((ts - self.plan.departure).total_seconds())

    def _check(self, first: int, count: int) -> None:
        if count < 0 or first < 0 or first + count - 1 > self.last_second:
            raise ValueError(f"seconds [{first}, {first + count}) are outside the trip [0, {self.last_second}]")

    # -- values
    def seconds(self, first: int, count: int) -> list[list[InstrumentValue]]:
        """The values of ``count`` seconds from ``first``, one list per second in sending order."""
        self._check(first, count)
        if count == 0:
            return []
        secs = np.arange(first, first + count)
        track = self.plan.sample(secs.astype(np.float64))
        pings = self._pings(first, count) if self.sounder.echogram else {}
        out: list[list[InstrumentValue]] = []
        for i, s in enumerate(secs.tolist()):
            ts = self.timestamp(s)
            lat, lon, cog = float(track.lat[i]), float(track.lon[i]), float(track.cog_deg[i])
            values: list[InstrumentValue] = [Fix(ts, lat, lon, float(track.sog_kn[i]), None if math.isnan(cog) else cog)]
            depth = float(track.depth_m[i])
            if depth < self.sounder.range_m:  # beyond the range the sounder has lost the bottom
                values.append(Depth(ts, depth))
            values.append(WaterTemp(ts, float(track.temp_c[i])))
            values += self._distress(s, ts, lat, lon)
            values += pings.get(s, [])
            out.append(values)
        return out

    def _distress(self, second: int, ts: datetime, lat: float, lon: float) -> list[Distress]:
        out = []
        for seq, press in enumerate(self.presses, 1):
            start = self.second_of(press.at)
            end = None if press.release is None else self.second_of(press.release)
            if second >= start and (end is None or second < end) and (second - start) % DISTRESS_REPEAT_S == 0:
                out.append(Distress(ts, seq, press.nature, True, lat, lon))
            elif end is not None and 0 <= second - end < CANCEL_REPEATS * DISTRESS_REPEAT_S and (second - end) % DISTRESS_REPEAT_S == 0:
                out.append(Distress(ts, seq, press.nature, False, lat, lon))
        return out

    def lines(self, first: int, count: int, *, garble_fraction: float = 0.0) -> list[StreamLine]:
        """The multiplexed lines of those seconds (`serial_sim.stream_for` at the sounder's
        baud: NMEA only at 4,800, echogram and AIS at 38,400). `StreamLine.second` counts from
        ``first``. AIS and damage are seeded by (seed, first): the same block, the same bytes."""
        seed = zlib.crc32(f"{self.seed}:{self.boat_id}:{first}".encode())
        return list(serial_sim.stream_for(self.sounder.baud, self.seconds(first, count), seed=seed, garble_fraction=garble_fraction))

    # -- echogram
    def scene(self, chunk: int) -> Scene:
        """The echogram of chunk ``chunk`` (seconds ``chunk * CHUNK_S`` on), all pings."""
        if not 0 <= chunk <= self.last_second // CHUNK_S:
            raise ValueError(f"chunk {chunk} is outside the trip")
        return self._cache.get(chunk, self._make_scene)

    def _make_scene(self, chunk: int) -> Scene:
        snd = self.sounder
        n = snd.pings_per_chunk
        t = chunk * CHUNK_S + np.arange(n) / snd.ping_rate_hz
        track = self.plan.sample(t)
        fishing = np.mean(track.phase == _FISHING) >= 0.5
        spec = SceneSpec(
            n_bins=snd.bins,
            bin_m=snd.bin_m,
            range_start_m=snd.range_start_m,
            ping_interval_s=1.0 / snd.ping_rate_hz,
            ping_jitter_s=0.0,  # pings on a fixed grid, so a chunk's pings never cross into the next
            speed_mps=float(np.clip(np.mean(track.sog_kn) * KNOT_M_S, 1.5, 5.0)),
            school_gap_s=GROUND_SCHOOL_GAP_S if fishing else TRANSIT_SCHOOL_GAP_S,
        )
        rng = np.random.default_rng([self.seed, zlib.crc32(self.boat_id.encode()), chunk])
        return simulate_scene(rng, n, self.timestamp(chunk * CHUNK_S), spec, bottom_m=track.depth_m, first_seq=chunk * n)

    def _kept(self, chunk: int, scene: Scene) -> np.ndarray:
        n = len(scene.times_s)
        dec = self.decimation
        keep = (chunk * n + np.arange(n)) % dec.background_every == 0
        if dec.bursts(chunk):
            for school in scene.schools:
                keep[max(0, school.first_ping - dec.guard_pings): school.last_ping + dec.guard_pings + 1] = True
        return keep

    def _pings(self, first: int, count: int) -> dict[int, list[Ping]]:
        snd, out = self.sounder, {}
        for chunk in range(first // CHUNK_S, (first + count - 1) // CHUNK_S + 1):
            scene = self.scene(chunk)
            keep = self._kept(chunk, scene)
            for k in np.flatnonzero(keep).tolist():
                offset = k / snd.ping_rate_hz
                second = chunk * CHUNK_S + math.floor(offset + 1e-9)
                if first <= second < first + count:
                    ts = self.timestamp(chunk * CHUNK_S) + timedelta(seconds=offset)
                    out.setdefault(second, []).append(
                        Ping(ts, scene.first_seq + k, snd.bin_m, scene.sv_db[k], snd.range_start_m))
        return out

    def schools(self, first: int, count: int) -> list[SchoolTruth]:
        """The schools whose middle falls in those seconds, in time order."""
        self._check(first, count)
        if count == 0:
            return []
        out = []
        for chunk in range(first // CHUNK_S, (first + count - 1) // CHUNK_S + 1):
            scene = self.scene(chunk)
            for school in scene.schools:
                mid = (school.start + (school.end - school.start) / 2)
                rel = (mid - self.plan.departure).total_seconds()
                if not first <= rel < first + count:
                    continue
                track = self.plan.sample([rel])
                out.append(SchoolTruth(
                    school.start, school.end, school.top_m, school.bottom_m, school.sv_db,
                    float(track.lat[0]), float(track.lon[0]), PHASES[int(track.phase[0])],
                    scene.first_seq + school.first_ping, scene.first_seq + school.last_ping,
                    self.sounder.echogram and self.decimation.bursts(chunk),
                ))
        return out


def boat_seed(seed: int, boat_id: str) -> int:
    """A boat's own seed from a run's seed, so adding a boat does not change the others."""
    return zlib.crc32(f"{seed}:{boat_id}".encode())


def values_of(lines: Iterable[StreamLine]) -> list[InstrumentValue]:
    """The values a decoder should get from lines that arrive whole (ground truth)."""
    return [line.value for line in lines if line.value is not None]
