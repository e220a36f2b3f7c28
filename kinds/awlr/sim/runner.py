"""The simulator: one thread that makes every configured AWLR device send its readings.

Why one thread: the devices are cheap (a few numpy operations per reading), and a single
loop over a single clock keeps the readings of all stations in simulated-time order, which is
what makes the flood wave visible as it travels downstream. Links do their own I/O
(non-blocking pty writes, paho's network thread), so a stalled reader cannot stall the loop.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

import numpy as np

from firmware_sim.clock import SimClock, utc_now
from firmware_sim.errors import LinkError, ScenarioError, SimulatorError
from kinds.awlr.sim.faults import FaultPlan
from kinds.awlr.sim.hydrograph import wave_arrival_hours
from kinds.awlr.sim.recorder import AwlrRecorder, Transmission, sentence_fits
from firmware_sim.transports import MqttLink, PtySerialLink
from core.config import DeviceConfig, TepiConfig
from kinds.awlr.config import SimulationConfig
from core.logs import RateLimitedLog
from contract.topics import device_topic

log = logging.getLogger(__name__)

AWLR = "awlr"
_BURST = 256  # readings per device per pass, so stop() is honoured during a long catch-up
_MIN_SLEEP_S = 0.005  # batch readings at very high speed instead of spinning
_MAX_SLEEP_S = 1.0  # notice a wall-clock step within a second


class Link(Protocol):
    sent: int
    dropped: int

    def send(self, data: bytes) -> bool: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SimulatorCounters:
    """What the simulator did: the ground truth to compare with the gateway's counters."""

    sent: dict[str, int] = field(default_factory=dict)  # device -> payloads the link accepted
    dropped: dict[str, int] = field(default_factory=dict)  # device -> payloads the link refused
    faults: dict[str, int] = field(default_factory=dict)  # fault kind -> times injected


@dataclass
class _Device:
    config: DeviceConfig
    recorder: AwlrRecorder
    link: Link


class Simulator:
    """AWLR devices of a `TepiConfig` sending a storm scenario over their configured transports.

    ``speed`` is how much faster than real time the simulated clock runs while it catches up
    from ``simulation.lookback_h`` in the past. With ``link_dir``, each serial device gets a
    symlink ``link_dir/<device id>`` to its pty, a stable path to put in the gateway config.
    """

    def __init__(
        self,
        config: TepiConfig,
        speed: float,
        broker_host: str = "127.0.0.1",
        broker_port: int = 1883,
        link_dir: Path | None = None,
        now_fn: Callable[[], datetime] = utc_now,
        fault_plans: Mapping[str, FaultPlan] | None = None,
    ) -> None:
        if config.simulation is None:
            raise ScenarioError("the configuration has no `simulation:` section")
        if not (isinstance(speed, (int, float)) and 1 <= speed < float("inf")):
            raise SimulatorError(f"speed must be a finite number >= 1, got {speed!r}")
        self._config = config
        self._simulation: SimulationConfig = config.simulation
        self._speed = speed
        self._broker = (broker_host, broker_port)
        self._link_dir = link_dir
        self._now_fn = now_fn
        self._awlr = [d for d in config.devices if d.kind == AWLR]
        missing = sorted({d.station for d in self._awlr} - set(self._simulation.stations))
        if missing:
            raise ScenarioError(f"simulation has no scenario for station(s) {', '.join(missing)}")
        try:
            self._arrival = wave_arrival_hours(config.stations)
            self._plans = {
                d.id: (fault_plans or {}).get(d.id) or FaultPlan.from_simulation(self._simulation, d.station)
                for d in self._awlr
            }
        except ValueError as exc:
            raise ScenarioError(str(exc)) from exc
        for d in self._awlr:
            scenario = self._simulation.stations[d.station]
            if d.transport == "serial" and not sentence_fits(d.station, scenario.peak_cm + self._plans[d.id].spike_cm[1]):
                raise ScenarioError(f"device {d.id!r}: station id {d.station!r} makes sentences longer than NMEA allows")
        self._links: dict[str, Link] = {}  # by device id, from `open`
        self._devices: list[_Device] = []
        self._clock: SimClock | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._faults: Counter[str] = Counter()
        self._error: BaseException | None = None
        self._drops = RateLimitedLog(log)

    @property
    def clock(self) -> SimClock:
        if self._clock is None:
            raise SimulatorError("simulator has not been started")
        return self._clock

    @property
    def error(self) -> BaseException | None:
        """The exception that ended the simulator thread, if one did."""
        return self._error

    def open(self) -> "Simulator":
        """Open every link without sending yet: a gateway started next finds its serial ports
        there, rather than warning that they are missing until `start`. On a failure nothing
        is left open. `start` opens them when this was not called."""
        if self._links:
            return self
        try:
            for device in self._awlr:
                self._links[device.id] = self._open_link(device)
        except BaseException:
            self._close_links()
            raise
        return self

    def start(self) -> None:
        """Open every link (unless `open` did), then start sending; on a failure nothing is left open."""
        if self._thread is not None:
            raise SimulatorError("simulator already started")
        sim = self._simulation
        try:
            self._clock = SimClock.starting(sim.lookback_h, sim.interval_s, self._speed, self._now_fn)
        except ValueError as exc:
            raise SimulatorError(f"cannot start the simulated clock: {exc}") from exc
        self.open()
        try:
            self._devices = [self._device(d, self._clock.epoch) for d in self._awlr]
        except BaseException:
            self._close_links()
            raise
        self._thread = threading.Thread(target=self._run, name="firmware-sim", daemon=True)
        self._thread.start()
        log.info(
            "simulator started",
            extra={"devices": len(self._devices), "speed": self._speed, "epoch": self._clock.epoch.isoformat()},
        )

    def _device(self, device: DeviceConfig, epoch: datetime) -> _Device:
        rng = np.random.default_rng([self._simulation.seed, zlib.crc32(device.id.encode())])
        recorder = AwlrRecorder(
            device, self._simulation, self._arrival[device.station], epoch, self._plans[device.id], rng
        )
        return _Device(device, recorder, self._links[device.id])

    def _open_link(self, device: DeviceConfig) -> Link:
        if device.transport == "serial":
            path = self._link_dir / device.id if self._link_dir is not None else None
            return PtySerialLink(path).open()
        tenant = self._config.station(device.station).tenant
        mqtt_link = MqttLink(*self._broker, topic=device_topic(tenant, device.id), client_id=f"tepi-sim-{device.id}")
        return mqtt_link.open()

    def serial_paths(self) -> dict[str, str]:
        """Device id -> pty slave path of every serial device (empty before `open` or `start`)."""
        return {device: link.path for device, link in self._links.items() if isinstance(link, PtySerialLink)}

    def counters(self) -> SimulatorCounters:
        with self._lock:
            return SimulatorCounters(
                sent={d.config.id: d.link.sent for d in self._devices},
                dropped={d.config.id: d.link.dropped for d in self._devices},
                faults=dict(self._faults),
            )

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the simulator thread ends or ``timeout`` passes; True if it ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def halt(self, timeout: float = 5.0) -> None:
        """Stop sending and keep the links open: a gateway stopped next closes its ports on a
        quiet line instead of warning that they vanished. `stop` closes them."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("simulator thread did not stop in time", extra={"timeout_s": timeout})

    def stop(self, timeout: float = 5.0) -> None:
        """Stop sending, let MQTT acknowledge what is in flight, close every link."""
        self.halt(timeout)
        self._close_links()
        c = self.counters()
        log.info("simulator stopped", extra={"sent": c.sent, "dropped": c.dropped, "faults": c.faults})

    def _close_links(self) -> None:
        links, self._links = self._links, {}
        for device, link in links.items():
            try:
                link.close()
            except (OSError, SimulatorError):
                log.exception("closing link failed", extra={"device": device})

    def _run(self) -> None:
        clock = self.clock
        try:
            while not self._stop.is_set():
                now = clock.now()
                backlog = False
                for d in self._devices:
                    batch = d.recorder.take_until(now, limit=_BURST)
                    backlog |= len(batch) == _BURST
                    for tx in batch:
                        self._deliver(d, tx)
                if backlog or not self._devices:
                    if not self._devices:
                        self._stop.wait(_MAX_SLEEP_S)
                    continue
                due = min(d.recorder.next_due for d in self._devices)
                pause = min(max(clock.real_seconds_until(due), _MIN_SLEEP_S), _MAX_SLEEP_S)
                self._stop.wait(pause)
        except Exception as exc:  # the thread must not die silently
            self._error = exc
            log.exception("simulator thread failed")

    def _deliver(self, d: _Device, tx: Transmission) -> None:
        with self._lock:
            self._faults.update(tx.faults)
        if tx.faults:
            log.debug("fault injected", extra={"device": tx.device, "seq": tx.seq, "faults": list(tx.faults)})
        if tx.payload is None:
            return
        try:
            ok = d.link.send(tx.payload)
        except LinkError as exc:
            self._drops.warning(f"error:{tx.device}", "link failed", device=tx.device, error=str(exc))
            d.link.dropped += 1
            return
        if not ok:
            self._drops.warning(f"full:{tx.device}", "link full, reading dropped", device=tx.device, seq=tx.seq)


def run_simulator(
    config: TepiConfig,
    speed: float,
    broker_host: str,
    broker_port: int,
    link_dir: Path | None,
    duration_s: float | None = None,
    on_start: Callable[[Simulator], None] | None = None,
) -> SimulatorCounters:
    """Run until ``duration_s`` (forever if None) or Ctrl-C, then stop cleanly: the CLI entry.

    ``on_start`` is called once the links are open, e.g. for the CLI to print the serial
    paths a gateway should use. Raises `SimulatorError` if the simulator thread failed, so
    the CLI exits non-zero.
    """
    sim = Simulator(config, speed, broker_host, broker_port, link_dir)
    sim.start()
    for device, path in sim.serial_paths().items():
        link = str(link_dir / device) if link_dir else None
        log.info("serial device ready", extra={"device": device, "pty": path, "link": link})
    try:
        if on_start is not None:
            on_start(sim)
        deadline = None if duration_s is None else time.monotonic() + duration_s
        while deadline is None or time.monotonic() < deadline:
            remaining = _MAX_SLEEP_S if deadline is None else min(_MAX_SLEEP_S, deadline - time.monotonic())
            if sim.wait(max(remaining, 0.0)):
                break  # the thread ended by itself: only on an error
    except KeyboardInterrupt:
        log.info("interrupted, stopping simulator")
    finally:
        sim.stop()
    if sim.error is not None:
        raise SimulatorError(f"simulator failed: {sim.error}") from sim.error
    return sim.counters()
