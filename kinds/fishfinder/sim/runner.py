"""Plays a fleet of fish-finder boats (`boat.BoatInstruments`) to their gateways, each on its
own link: a pseudo-terminal (the boat's NMEA multiplexer on a USB-serial cable) or MQTT (a
phone or router on board bridging the multiplexer to the gateway's broker).

Time: a `firmware_sim.clock.SimClock` starts at ``start`` (default: the first departure) and
runs ``speedup`` times faster than real time, never ahead of the real clock, so no value is
stamped in the future. The default day is yesterday (UTC), whose trips are all over by now;
`BoatSimulation.end_trips_now` moves them to end about now (the demo: recent values, still fast).
Each boat's thread sends every second of its trip when the simulated clock reaches it: over a
pty line by line (`firmware_sim.transports.PtySerialLink` drops whole lines when nobody reads),
over MQTT one payload a second, its lines newline-separated, on
`contract.topics.device_topic(tenant, boat)` at QoS 1. The boat's values are made a block at a
time (about one real second of them), so a press of `press_sos` takes effect from the next block.

Echogram at speed: at 60x one boat's full echogram is 120 pings, ~115 kB and ~1,400 lines per
real second, which would swamp a gateway decoding several boats. Above the budget
(``ping_budget_per_real_s``, 8 by default) pings are thinned by `boat.EchogramDecimation`: whole
schools of some chunks at full rate (a detector needs consecutive pings), a sparse background
elsewhere. The NMEA sentences (fix, depth, temperature, distress) are never thinned. A pty has
no baud rate, so at speed the line is not paced to the baud: the baud only decides what the
line carries (NMEA only at 4,800; with echogram and AIS at 38,400).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from contract.topics import device_topic
from firmware_sim.clock import SimClock, utc_now
from firmware_sim.errors import LinkError
from firmware_sim.transports import MqttLink, PtySerialLink
from kinds.fishfinder.sim.boat import BoatInstruments, EchogramDecimation, SosPress, SounderSettings, boat_seed
from kinds.fishfinder.sim.voyage import DEFAULT_FLEET, BoatDay, plan_fleet
from kinds.fishfinder.sim.nmea_stream import StreamLine
from kinds.fishfinder.values import Distress, DistressNature, Ping

log = logging.getLogger(__name__)

Transport = Literal["serial", "mqtt"]
_MAX_WAIT_S = 0.5  # notice stop() within this


class Link(Protocol):
    sent: int
    dropped: int

    def send(self, data: bytes) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class BoatSimulationConfig:
    """What to run. ``transports`` overrides ``transport`` per boat id; ``presses`` schedules
    SOS presses per boat id (the demo adds more with `BoatSimulation.press_sos`)."""

    fleet: tuple[BoatDay, ...] = DEFAULT_FLEET
    day: date | None = None
    speedup: float = 60.0
    seed: int = 0
    start: datetime | None = None
    transport: Transport = "serial"
    transports: Mapping[str, Transport] = field(default_factory=dict)
    sounder: SounderSettings = SounderSettings()
    presses: Mapping[str, tuple[SosPress, ...]] = field(default_factory=dict)
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    link_dir: Path | None = None
    ping_budget_per_real_s: float = 8.0
    garble_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not (isinstance(self.speedup, (int, float)) and math.isfinite(self.speedup) and self.speedup >= 1):
            raise ValueError(f"speedup must be a finite number >= 1, got {self.speedup!r}")
        ids = {b.boat_id for b in self.fleet}
        for name, mapping in (("transports", self.transports), ("presses", self.presses)):
            if unknown := sorted(set(mapping) - ids):
                raise ValueError(f"{name} names boats not in the fleet: {', '.join(unknown)}")
        for boat, transport in {**{b: self.transport for b in ids}, **self.transports}.items():
            if transport not in ("serial", "mqtt"):
                raise ValueError(f"boat {boat}: transport must be 'serial' or 'mqtt', got {transport!r}")
        if not 0 <= self.garble_fraction <= 1 or not self.ping_budget_per_real_s > 0:
            raise ValueError("garble_fraction must be in [0, 1] and the ping budget positive")


@dataclass
class BoatCounters:
    """What one boat sent: the ground truth to hold the gateway's counters to."""

    seconds: int = 0
    lines: int = 0
    bytes: int = 0
    pings: int = 0
    distress: int = 0
    dropped: int = 0  # lines (serial) or payloads (MQTT) the link refused
    max_lag_s: float = 0.0  # real seconds a block went out after its first second was due


@dataclass
class _Boat:
    instruments: BoatInstruments
    transport: Transport
    link: Link | None = None
    next_second: int = 0  # the first second not yet made into lines
    counters: BoatCounters = field(default_factory=BoatCounters)
    thread: threading.Thread | None = None


class BoatSimulation:
    """The fleet of a `BoatSimulationConfig`: `open` the links, `start` the boats, `stop`."""

    def __init__(self, config: BoatSimulationConfig = BoatSimulationConfig(), now_fn: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        self._now_fn = now_fn
        day = config.day or (now_fn().astimezone(timezone.utc) - timedelta(days=1)).date()
        plans = plan_fleet(day, np.random.default_rng(config.seed), config.fleet)
        decimation = EchogramDecimation.for_speedup(config.speedup, config.sounder.ping_rate_hz, config.ping_budget_per_real_s)
        self._boats: dict[str, _Boat] = {}
        for plan in plans:
            instruments = BoatInstruments(
                plan, boat_seed(config.seed, plan.boat_id), config.sounder,
                config.presses.get(plan.boat_id, ()), decimation)
            self._boats[plan.boat_id] = _Boat(instruments, config.transports.get(plan.boat_id, config.transport))
        self.start_time = config.start or min(p.departure for p in plans)
        self._clock: SimClock | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # instruments replaced by press_sos, counters read by others
        self._errors: dict[str, BaseException] = {}

    @property
    def boats(self) -> dict[str, BoatInstruments]:
        with self._lock:
            return {k: b.instruments for k, b in self._boats.items()}

    @property
    def clock(self) -> SimClock:
        if self._clock is None:
            raise RuntimeError("the simulation has not been started")
        return self._clock

    @property
    def errors(self) -> dict[str, BaseException]:
        """Boat id -> the exception that ended its thread."""
        return dict(self._errors)

    # -- life cycle
    def open(self) -> "BoatSimulation":
        """Open every boat's link (ptys exist from here on: a reader may attach before `start`)."""
        if any(b.link is not None for b in self._boats.values()):
            return self
        try:
            for boat_id, b in self._boats.items():
                b.link = self._open_link(boat_id, b)
        except BaseException:
            self._close_links()
            raise
        return self

    def _open_link(self, boat_id: str, b: _Boat) -> Link:
        c = self.config
        if b.transport == "serial":
            return PtySerialLink(c.link_dir / boat_id if c.link_dir is not None else None).open()
        topic = device_topic(b.instruments.plan.tenant, boat_id)
        return MqttLink(c.broker_host, c.broker_port, topic=topic, client_id=f"tepi-sim-{boat_id}").open()

    def start(self) -> "BoatSimulation":
        if self._clock is not None:
            raise RuntimeError("the simulation is already started")
        self.open()
        self._clock = SimClock(self.start_time, self.config.speedup, self._now_fn)
        for boat_id, b in self._boats.items():
            b.next_second = max(0, math.ceil((self.start_time - b.instruments.plan.departure).total_seconds()))
            b.thread = threading.Thread(target=self._run_boat, args=(boat_id, b), name=f"boat-{boat_id}", daemon=True)
            b.thread.start()
        log.info("boat simulation started", extra={"boats": len(self._boats), "speedup": self.config.speedup,
                                                    "start": self.start_time.isoformat()})
        return self

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every boat has come home (or ``timeout``); True if all threads ended."""
        for b in self._boats.values():
            if b.thread is not None:
                b.thread.join(timeout)
        return all(b.thread is None or not b.thread.is_alive() for b in self._boats.values())

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every boat, let MQTT acknowledge what is in flight, close the links."""
        self._stop.set()
        for b in self._boats.values():
            if b.thread is not None:
                b.thread.join(timeout)
                if b.thread.is_alive():
                    log.warning("boat thread did not stop in time", extra={"thread": b.thread.name})
        self._close_links()

    def __enter__(self) -> "BoatSimulation":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _close_links(self) -> None:
        for boat_id, b in self._boats.items():
            if b.link is not None:
                try:
                    b.link.close()
                except (OSError, LinkError):
                    log.exception("closing link failed", extra={"boat": boat_id})

    def end_trips_now(self, start: datetime) -> timedelta:
        """Move every trip (and `start_time` with it) so that, replayed from ``start`` at the
        speed-up, the last boat comes home just as the simulated clock meets the real one: its
        values are of the last hours (a track the default queries show, an SOS of today), never
        in the future, and the replay runs accelerated to its end. ``start`` is a time of the
        trips as planned; returns how far they moved. Call before `start`; presses configured
        move with their trips."""
        if self._clock is not None:
            raise RuntimeError("the simulation is already started")
        with self._lock:
            arrival = max(b.instruments.plan.arrival for b in self._boats.values())
            replay = max(arrival - start, timedelta(0))
            # The clock runs from `new_start` at `speedup` until it meets the real one, replay/speedup later.
            new_start = self._now_fn() - replay * (1.0 - 1.0 / self.config.speedup)
            by = timedelta(seconds=math.floor((new_start - start).total_seconds()))
            for b in self._boats.values():
                ins = b.instruments
                presses = tuple(replace(p, at=p.at + by, release=None if p.release is None else p.release + by) for p in ins.presses)
                b.instruments = BoatInstruments(ins.plan.shifted(by), ins.seed, ins.sounder, presses, ins.decimation)
            self.start_time = start + by
        return by

    # -- for the demo and the CLI
    def serial_paths(self) -> dict[str, str]:
        """Boat id -> pty path of every serial boat (after `open`)."""
        return {k: b.link.path for k, b in self._boats.items() if isinstance(b.link, PtySerialLink)}

    def counters(self) -> dict[str, BoatCounters]:
        with self._lock:
            return {k: BoatCounters(**vars(b.counters)) for k, b in self._boats.items()}

    def press_sos(self, boat_id: str, nature: DistressNature = "undesignated") -> SosPress:
        """Press the boat's SOS button now (simulated time): its distress goes out from the
        next block on. ValueError when the boat is not at sea or a press is already held."""
        with self._lock:
            b = self._boat(boat_id)
            at = max(self.clock.now(), b.instruments.timestamp(b.next_second))
            press = SosPress(at.replace(microsecond=0), nature)
            b.instruments = b.instruments.with_press(press)
        log.warning("SOS pressed", extra={"boat": boat_id, "nature": nature, "at": press.at.isoformat()})
        return press

    def release_sos(self, boat_id: str) -> None:
        with self._lock:
            b = self._boat(boat_id)
            at = max(self.clock.now(), b.instruments.timestamp(b.next_second))
            b.instruments = b.instruments.with_release(at.replace(microsecond=0))

    def _boat(self, boat_id: str) -> _Boat:
        try:
            return self._boats[boat_id]
        except KeyError:
            raise ValueError(f"no boat {boat_id!r} in the simulation") from None

    # -- the boats
    def _run_boat(self, boat_id: str, b: _Boat) -> None:
        clock, speedup = self.clock, self.config.speedup
        block_s = max(1, min(60, int(speedup)))  # about a real second of values at a time
        try:
            while not self._stop.is_set():
                with self._lock:
                    instruments, first = b.instruments, b.next_second
                if first > instruments.last_second:
                    return  # home: the fish-finder is switched off
                if not self._wait_until(instruments.timestamp(first)):
                    return
                with self._lock:  # claim the block: a press from now on goes into the next one
                    instruments = b.instruments
                    count = min(block_s, instruments.last_second + 1 - first)
                    b.next_second = first + count
                lines = instruments.lines(first, count, garble_fraction=self.config.garble_fraction)
                by_second: list[list[StreamLine]] = [[] for _ in range(count)]
                for line in lines:
                    by_second[line.second].append(line)
                lag = (clock.now() - instruments.timestamp(first)).total_seconds() / speedup
                with self._lock:
                    b.counters.max_lag_s = max(b.counters.max_lag_s, lag)
                for k, second_lines in enumerate(by_second):
                    if k and not self._wait_until(instruments.timestamp(first + k)):
                        return
                    self._send(b, second_lines)
        except Exception as exc:  # a boat's thread must not die silently
            self._errors[boat_id] = exc
            log.exception("boat thread failed", extra={"boat": boat_id})

    def _wait_until(self, ts: datetime) -> bool:
        """Sleep until the simulated clock reaches ``ts``; False when stopped meanwhile."""
        while not self._stop.is_set():
            wait = self.clock.real_seconds_until(ts)
            if wait <= 0:
                return True
            self._stop.wait(min(wait, _MAX_WAIT_S))
        return False

    def _send(self, b: _Boat, lines: list[StreamLine]) -> None:
        assert b.link is not None
        refused = 0
        try:
            if b.transport == "mqtt":
                if lines:
                    refused += not b.link.send(b"".join(line.wire for line in lines))
            else:
                for line in lines:
                    refused += not b.link.send(line.wire)
        except LinkError as exc:
            log.warning("link failed", extra={"boat": b.instruments.boat_id, "error": str(exc)})
            refused += 1
        with self._lock:
            c = b.counters
            c.seconds += 1
            c.lines += len(lines)
            c.bytes += sum(len(line.wire) for line in lines)
            c.pings += sum(isinstance(line.value, Ping) for line in lines)
            c.distress += sum(isinstance(line.value, Distress) for line in lines)
            c.dropped += refused
