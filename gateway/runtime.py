"""The edge gateway: sources → decode and check → per-station processors → outbox → uplink.

One loop thread runs the MQTT device client, parses, processes and commits, in arrival order,
so processors need no locks and a device's PUBACK leaves from the thread that committed its
frame. Serial ports have threads of their own that only buffer lines. Everything rejected is
counted by reason.
"""

from __future__ import annotations

import collections
import logging
import select
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from gateway.broker_health import DropReports
from gateway.devices import DeviceKind, Processor, UplinkItem, device_kind
from gateway.errors import REJECTION_REASONS, FrameRejected, OutboxError
from gateway.health_report import DeviceCounts, HealthSchedule, ReportedDevice, build_report, reason_counts
from gateway.local_alarms import LocalAlarmChannel
from gateway.model import Decoded, RawFrame, Reading
from gateway.ratelimit import TokenBucket
from gateway.outbox import JournalRow, Outbox
from gateway.sources import LoopSource, Source
from gateway.sources.buffer import FrameBuffer
from gateway.sources.mqtt_devices import MqttDeviceSource
from gateway.sources.serial_line import SerialLineSource
from gateway.uplink import Uplink
from core.broker_drops import BrokerDropWatch
from contract.downlink import KindDownlink
from core.config import DeviceConfig, TepiConfig
from core.logs import RateLimitedLog
from contract.gateway_items import BrokerDrops, GatewayHealth
from gateway.stored_item import GATEWAY_KIND, StoredItem, stored_gateway_item

log = logging.getLogger(__name__)
_END_OF_TIME = datetime.max.replace(tzinfo=timezone.utc)
MAX_QUEUED_FRAMES = 5_000
#: Devices processed per outbox commit when deferred readings are settled.
SETTLE_DEVICES = 128
QUIET_S = 0.005  # a pause in the stream this long means there is time to process now
MAX_DEFER_S = 1.0  # under sustained load, readings wait at most this long to be processed
#: ... or until this many are waiting: a bound on memory (waiting readings are objects; 18,000
#: fewer measured 2.3 MB less in the footprint overload), not just on latency. At 5,000 (one
#: full batch) processing took no more CPU than at 20,000 (200,000 readings from 500 devices).
MAX_DEFERRED = 5_000
IDLE_WAKE_S = 0.5  # how often an idle gateway looks for devices that went silent
TICK_S = 1.0  # how often processors with timers of their own (`tick`: an SOS repeated) are told the time


class ReadingsByPlatform(Collector):
    """`tepi_gateway_readings_total{platform}`: readings accepted, per platform a configured
    device is mounted on (a river station, a vessel).

    A labelled prometheus `Counter` keeps an object with its own lock per platform (~600 bytes,
    0.3 MB with 500 stations on a gateway that must fit a small box); this is one int in a
    dict per platform. Every configured platform is there from the start, at 0, so one that
    never reported shows as such instead of being absent. Counts are only added by the
    gateway loop; a scrape copies the dict first (one C-level step under the GIL)."""

    def __init__(self, platforms: Iterable[str], registry: CollectorRegistry) -> None:
        self._counts = dict.fromkeys(platforms, 0)
        registry.register(self)

    def inc(self, platform: str, n: int = 1) -> None:
        counts = self._counts
        counts[platform] = counts.get(platform, 0) + n

    def describe(self) -> Iterable[CounterMetricFamily]:
        return [self._family()]

    def collect(self) -> Iterable[CounterMetricFamily]:
        family = self._family()
        for platform, n in list(self._counts.items()):
            family.add_metric([platform], n)
        return [family]

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily("tepi_gateway_readings", "Readings accepted", labels=["platform"])


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry, platforms: Iterable[str] = ()) -> None:
        self.frames = Counter("tepi_gateway_frames", "Frames received from devices", ["transport"], registry=registry)
        self.bytes_in = Counter("tepi_gateway_bytes_in", "Payload bytes received from devices", ["transport"], registry=registry)
        self.rejected = Counter("tepi_gateway_rejected", "Frames rejected, by reason", ["reason"], registry=registry)
        for reason in REJECTION_REASONS:  # every reason exported from the start, at 0
            self.rejected.labels(reason)
        self.readings = ReadingsByPlatform(platforms, registry)
        self.queued = Counter("tepi_gateway_items_queued", "Items written to the outbox", ["type"], registry=registry)
        self.evicted = Counter("tepi_gateway_outbox_evicted_summaries", "Routine summaries evicted from a full outbox", registry=registry)
        self.recovered = Counter("tepi_gateway_recovered_readings", "Open-window readings replayed from the journal at start", registry=registry)
        self.internal_errors = Counter("tepi_gateway_internal_errors", "Unexpected failures, by stage", ["stage"], registry=registry)
        self.downlink = Counter("tepi_gateway_downlink_messages", "Kind downlink messages handed to device kinds, by kind", ["kind"], registry=registry)


@dataclass(frozen=True, slots=True)
class _Route:
    """Everything `handle` needs about one device, behind one lookup per frame."""

    device: DeviceConfig
    kind: DeviceKind
    bucket: TokenBucket
    processor: Processor
    #: The largest payload taken from this device (`GatewayConfig.payload_limit`).
    max_payload_bytes: int
    #: What its health report says of it (`gateway.health_report`).
    counts: DeviceCounts


class Deferral:
    """Accepted readings not yet processed: how many, of which devices, since when. Pure
    bookkeeping; time is passed in."""

    def __init__(self, max_age_s: float = MAX_DEFER_S, max_readings: int = MAX_DEFERRED) -> None:
        self.max_age_s = max_age_s
        self.max_readings = max_readings
        self.devices: set[str] = set()
        self.pending = 0
        self.since: float | None = None

    def add(self, readings: list[Reading], now: float) -> None:
        if not readings:
            return
        if self.since is None:
            self.since = now
        self.pending += len(readings)
        self.devices.update(r.device for r in readings)

    def overdue(self, now: float) -> bool:
        return self.pending >= self.max_readings or (self.since is not None and now - self.since >= self.max_age_s)

    def take(self) -> set[str]:
        devices, self.devices = self.devices, set()
        self.pending, self.since = 0, None
        return devices


class EdgeGateway:
    """Lifecycle: construct from config, `start()`, then `stop()`; `stop()` keeps open windows
    open (they are not summarised early) and leaves unsent items in the outbox for next time."""

    def __init__(
        self,
        config: TepiConfig,
        registry: CollectorRegistry | None = None,
        outbox_path: Path | None = None,
        serial_ports: dict[str, str] | None = None,
        with_uplink: bool = True,
        local_alarms: bool = True,
    ) -> None:
        self.config = config
        gw = config.gateway
        self.registry = registry or CollectorRegistry()
        self.metrics = GatewayMetrics(self.registry, sorted({d.platform for d in config.devices}))
        self.outbox = Outbox(outbox_path or gw.outbox.path, max_bytes=gw.outbox.max_bytes, on_evict=self.metrics.evicted.inc)
        if self.outbox.salvaged is not None:
            log.error("outbox was damaged at start; continuing with what was recovered", extra={"moved_to": str(self.outbox.salvaged.moved_to)})
        self.devices: dict[str, DeviceConfig] = {d.id: d for d in config.devices}
        self.processors: dict[str, Processor] = {}
        self._routes: dict[str, _Route] = {}
        self._tally: collections.Counter[tuple[str, str]] = collections.Counter()
        #: Per kind name (the gateway's own items included): how its items are stored.
        self._storing: dict[str, Callable[[Any, str], StoredItem]] = {GATEWAY_KIND: lambda item, _gw: stored_gateway_item(item)}
        #: Per kind name: its local alarms (the gateway's own items sound none).
        self._alarms: dict[str, Callable[[Any], bytes | None]] = {GATEWAY_KIND: lambda item: None}
        for d in config.devices:
            kind = device_kind(d.kind)
            self._storing[kind.name] = kind.stored
            self._alarms[kind.name] = kind.alarm
            self.processors[d.id] = kind.processor(config, d)  # the kind checks the device's platform
            self._routes[d.id] = _Route(
                d, kind, TokenBucket(gw.device_rate_per_s, gw.device_burst), self.processors[d.id], gw.payload_limit(kind.max_payload_bytes),
                DeviceCounts(),
            )
        # A kind's own counts (a processor's `collector`), registered once however many devices share one.
        for collector in {id(c): c for p in self.processors.values() if (c := getattr(p, "collector", None)) is not None}.values():
            self.registry.register(collector)
        #: Processors with timers of their own (`tick(now)`), told the wall-clock time each `TICK_S`.
        self._ticking = {dev: p for dev, p in self.processors.items() if callable(getattr(p, "tick", None))}
        self._next_tick = 0.0
        #: Kind downlink messages from the uplink's thread, handled on the loop.
        self._downlinks: collections.deque[KindDownlink] = collections.deque()
        #: UTC now, for processors' timers; tests replace it.
        self.wall_clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)
        ports = dict(gw.serial_ports) | (serial_ports or {})
        self.sources: list[Source] = [
            SerialLineSource(d.id, ports[d.id], gw.serial_baud)
            for d in config.devices
            if d.transport == "serial" and d.id in ports
        ]
        missing = [d.id for d in config.devices if d.transport == "serial" and d.id not in ports]
        if missing:
            log.warning("serial devices without a port are not read", extra={"devices": missing})
        self.site_drops = BrokerDropWatch("tepi_gateway", "site", self.registry, log)
        self.drop_reports = DropReports(started_at=datetime.now(timezone.utc))
        self.health_schedule = HealthSchedule(gw.health_every_s)
        mqtt_platforms = sorted({d.platform for d in config.devices if d.transport == "mqtt"})
        #: Where ingest files this gateway's health alert: its first platform with MQTT devices.
        self.health_platform = mqtt_platforms[0] if mqtt_platforms else None
        if mqtt_platforms:
            device_link = MqttDeviceSource(gw.local_broker, gw.tenant, mqtt_user=gw.mqtt_user("devices"))
            device_link.on_dropped_count = self._site_dropped
            self.sources.append(device_link)
        self.uplink = (
            Uplink(
                self.outbox, gw.uplink_broker, gw.tenant, gw.id, self.registry,
                inflight=gw.uplink_inflight, mqtt_user=gw.mqtt_user("uplink"), summary_linger_s=gw.summary_linger_s,
                ack_timeout_s=gw.uplink_ack_timeout_s,
            )
            if with_uplink
            else None
        )
        if self.uplink is not None:
            self.uplink.on_kind_message = self.take_downlink
        self.local_alarms = LocalAlarmChannel(gw.local_broker, gw.tenant, gw.id, gw.mqtt_user("alarms")) if local_alarms else None
        # Bounded: when processing falls behind, sources block, which pushes back on the broker
        # (TCP flow control, unacknowledged QoS 1) instead of growing the gateway's memory.
        self._frames = FrameBuffer(MAX_QUEUED_FRAMES)
        self._loop_sources: list[LoopSource] = [s for s in self.sources if isinstance(s, MqttDeviceSource)]
        self._deferral = Deferral()
        self._loop: threading.Thread | None = None
        self._loop_ident: int | None = None
        self._stopping = False
        self.rejection_log = RateLimitedLog(log)
        #: Monotonic seconds: when each device last delivered a reading (token buckets too).
        self.clock: Callable[[], float] = time.monotonic
        self._last_arrival: dict[str, float] = {}
        self.outbox_depth_at_stop: int | None = None

    def start(self) -> None:
        self._recover()
        for src in self.sources:
            src.start(self.submit)
        self._loop = threading.Thread(target=self._run, name=f"gateway-{self.config.gateway.id}", daemon=True)
        self._loop.start()
        if self.uplink:
            self.uplink.start()
        if self.local_alarms:
            self.local_alarms.start()
        log.info(
            "gateway started",
            extra={"gateway": self.config.gateway.id, "devices": len(self.devices), "sources": [s.name for s in self.sources]},
        )

    def wait_ready(self, timeout: float = 10.0) -> bool:
        """True once the device subscriptions are in place (a fresh broker session has no queue yet)."""
        deadline = time.monotonic() + timeout
        for src in self.sources:
            event = getattr(src, "subscribed", None)
            if event is not None and not event.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def submit(self, frame: RawFrame) -> None:
        """Called by sources: threaded ones block while the buffer is full; the loop's own
        never do (they read only as much as there is room for)."""
        if threading.get_ident() == self._loop_ident:
            self._frames.put_own(frame)
        else:
            self._frames.put(frame)

    def stop(self, flush_timeout: float = 0.0) -> None:
        for src in self.sources:
            if src not in self._loop_sources:
                src.stop()
        self._stopping = True
        self._frames.wake()
        if self._loop:
            self._loop.join(timeout=10)
        self._frames.close()
        if self.uplink:
            if flush_timeout > 0:
                self.uplink.flush(flush_timeout)
            self.uplink.stop()
        if self.local_alarms:
            self.local_alarms.stop()
        self.outbox_depth_at_stop = self.outbox.depth()
        self.outbox.close()

    def _run(self) -> None:
        """The gateway loop: network in, frames decoded and journalled, PUBACKs out, all on
        this one thread. Processing (QC, trackers, windows) is deferred while frames keep
        coming, to run over many readings per device at once: its cost is mostly per call.
        It runs once the stream pauses for `QUIET_S`, or after `MAX_DEFER_S`, or at
        `MAX_DEFERRED` readings, so when the load is light every reading is processed at once."""
        self._loop_ident = threading.get_ident()
        try:
            while True:
                batch, stopping = self._take_batch()
                if batch:
                    self._intake(batch)
                del batch  # committed and acknowledged: not held while the next frames are read
                if self._downlinks:
                    self._settle()  # what the frames before it said is processed first
                    self._handle_downlinks()
                if stopping:
                    break
                if self._deferral.overdue(time.monotonic()):
                    self._settle()
                if self._frames.qsize() or self._pump(0.0):
                    continue
                if self._deferral.pending:
                    if not self._pump(QUIET_S):
                        self._settle()
                elif not self._pump(IDLE_WAKE_S):
                    self._settle()  # idle: close windows of devices that went silent
            self._settle()
        finally:
            for src in self._loop_sources:
                src.stop()

    def _pump(self, timeout: float) -> int:
        """Wait up to `timeout` for the network or a threaded source, then let the loop's own
        sources read as many frames as the buffer has room for. Returns frames delivered."""
        if self._stopping:
            return 0
        rlist: list[int] = [self._frames.fileno()]
        wlist: list[int] = []
        for src in self._loop_sources:
            fd = src.fileno()
            if fd is not None:
                rlist.append(fd)
                if src.wants_write():
                    wlist.append(fd)
            if src.has_buffered():
                timeout = 0.0
        readable, _, _ = select.select(rlist, wlist, [], timeout)
        if readable and readable[0] == rlist[0]:
            self._frames.clear_wake()
        delivered = 0
        for src in self._loop_sources:
            fd = src.fileno()
            delivered += src.service(fd in readable, self._frames.room() if not self._stopping else 0)
        return delivered + (1 if self._frames.qsize() else 0)

    def _intake(self, batch: list[RawFrame]) -> None:
        """Decode, check and journal a batch; only then may devices forget these frames."""
        accepted: list[Reading] = []
        journal: list[JournalRow] = []
        for frame in batch:
            taken = self._accept(frame)
            if taken is not None:
                readings, kind = taken
                for reading in readings:
                    accepted.append(reading)
                    body = kind.journal_body(reading)
                    if body is not None:  # a kind may leave a reading out (the fish-finder's pings)
                        journal.append((reading.device, reading.ts.timestamp(), reading.seq, body))
        self._flush_tally()
        self._deferral.add(accepted, time.monotonic())
        self._commit([], journal)
        for frame in batch:
            if frame.ack is not None:
                frame.ack()

    def _settle(self) -> None:
        """Process every device with readings waiting, and close windows of silent devices.

        `SETTLE_DEVICES` devices per outbox commit: a district's worth of summaries at once
        would be held in memory as objects (about 4 KB each) until the one commit.
        """
        devices = sorted(self._deferral.take())
        for start in range(0, len(devices), SETTLE_DEVICES):
            self._commit(self._process(devices[start : start + SETTLE_DEVICES]), [])
        self._commit([*self._close_due_windows(), *self._broker_drop_reports(), *self._tick(), *self._health_report()], [])

    def take_downlink(self, message: KindDownlink) -> None:
        """Called by the uplink (paho's thread): queue a kind's downlink message for the loop."""
        self._downlinks.append(message)
        self._frames.wake()

    def _handle_downlinks(self) -> None:
        """Each kind downlink message to every processor of its kind that takes downlinks
        (`on_downlink`): what they return that is an uplink item (has an `id`) is stored; every
        one is offered to the kind's local alarm (an SOS acknowledged sounds on board)."""
        while self._downlinks:
            message = self._downlinks.popleft()
            self.metrics.downlink.labels(message.kind[:32]).inc()
            for dev_id, route in self._routes.items():
                handler = getattr(route.processor, "on_downlink", None)
                if route.kind.name != message.kind or handler is None:
                    continue
                try:
                    results = handler(message)
                except Exception:  # a bad message must not stop the loop; counted and logged
                    self.metrics.internal_errors.labels("downlink").inc()
                    log.exception("downlink message failed", extra={"device": dev_id, "type": message.type})
                    continue
                self._commit([r for r in results if hasattr(r, "id")], [])
                for r in results:
                    if not hasattr(r, "id") and self.local_alarms is not None:
                        alarm = route.kind.alarm(r)
                        if alarm is not None:
                            self.local_alarms.announce(route.device.platform, str(getattr(r, "type", "notice")), alarm)

    def _tick(self) -> list[UplinkItem]:
        """Processors' own timers (an SOS the gateway repeats until acknowledged), once a `TICK_S`."""
        if not self._ticking:
            return []
        mono = self.clock()
        if mono < self._next_tick:
            return []
        self._next_tick = mono + TICK_S
        now = self.wall_clock()
        items: list[UplinkItem] = []
        for dev_id, processor in self._ticking.items():
            try:
                items.extend(processor.tick(now))  # type: ignore[attr-defined]
            except Exception:
                self.metrics.internal_errors.labels("tick").inc()
                log.exception("processor timer failed", extra={"device": dev_id})
        return items

    def _site_dropped(self, payload: bytes) -> None:
        """A value of the site broker's dropped count (loop thread): metric, warning, report."""
        first = self.site_drops.count.first
        increase = self.site_drops.observe(payload)
        total = self.site_drops.count.last
        if total is not None:
            self.drop_reports.observe(increase, total, first, datetime.now(timezone.utc))

    def _broker_drop_reports(self) -> list[BrokerDrops]:
        report = self.drop_reports.due(datetime.now(timezone.utc))
        if report is None or self.health_platform is None:
            return []
        gw = self.config.gateway.id
        return [
            BrokerDrops(
                id=f"{gw}:broker_drops:{int(report.until.timestamp() * 1000)}", station=self.health_platform,
                active=report.active, dropped=report.dropped, broker_total=report.broker_total,
                since=report.since, until=report.until,
            )
        ]

    def _health_report(self) -> list[GatewayHealth]:
        """The gateway's health report when one is due (`gateway.health_every_s`)."""
        now = self.clock()
        if not self.health_schedule.due(now):
            return []
        try:
            for route in self._routes.values():
                route.counts.sample_battery()
            return [build_report(
                gateway=self.config.gateway.id, at=self.wall_clock(), every_s=self.health_schedule.every_s,
                uptime_s=self.health_schedule.uptime_s(now), outbox_items=self.outbox.depth(), outbox_bytes=self.outbox.stored_bytes,
                link_up=self.uplink is not None and self.uplink.connected, rejected_by_reason=reason_counts(self.metrics.rejected),
                devices=[ReportedDevice(r.device.id, r.kind.name, r.device.platform, r.counts) for r in self._routes.values()],
            )]
        except Exception:  # a report is not worth the loop: counted and logged, the next one is tried
            self.metrics.internal_errors.labels("health").inc()
            log.exception("health report failed")
            return []

    def _process(self, devices: Iterable[str]) -> list[UplinkItem]:
        items: list[UplinkItem] = []
        for dev_id in sorted(devices):
            try:
                items.extend(self.processors[dev_id].process())
            except Exception:  # a bug must not stop the other devices; it is counted and logged
                self.metrics.internal_errors.labels("process").inc()
                log.exception("processing failed", extra={"device": dev_id})
        return items

    def _recover(self) -> None:
        """Replay readings of windows that were open when the gateway last stopped or died.

        Events they cause again carry the same ids as before, so the outbox and ingest keep
        each once; the open windows are rebuilt and their summaries will cover these readings.
        Each processor first learns where its summarised windows end, so the rebuilt window
        starts no earlier (a restart forgets the Siaga level, and with it the cadence).
        """
        for device, window_end in self.outbox.summarised_until().items():
            proc = self.processors.get(device)
            if proc is not None:
                proc.resume(datetime.fromtimestamp(window_end, timezone.utc))
        rows = self.outbox.journal()
        replayed = 0
        for device, ts, seq, body in rows:
            route = self._routes.get(device)
            if route is None:
                continue  # a device removed from the configuration; its journal rows stay
            try:
                route.processor.accept(route.kind.from_journal(device, seq, datetime.fromtimestamp(ts, timezone.utc), body))
                replayed += 1
            except FrameRejected:
                continue
            except ValueError as exc:  # not this kind's body: the device's kind was changed
                self.metrics.internal_errors.labels("recover").inc()
                log.error("journal reading not understood; not replayed", extra={"device": device, "error": str(exc)})
        devices = {r[0] for r in rows if r[0] in self.processors}
        items = self._process(devices)
        self._commit(items, [])
        restarted = self.clock()
        for device in devices:  # a device that stays silent has its rebuilt window closed in time
            self._last_arrival.setdefault(device, restarted)
        if rows:
            self.metrics.recovered.inc(replayed)
            log.info("replayed journal of open windows", extra={"readings": replayed, "items": len(items)})

    def _take_batch(self, limit: int = 5000) -> tuple[list[RawFrame], bool]:
        """Up to `limit` buffered frames, without waiting; True once stop() was called and
        nothing is left to take."""
        batch = self._frames.take(limit)
        return batch, self._stopping and not batch and not self._frames.qsize()

    def handle(self, frame: RawFrame) -> Reading | None:
        """Decode, check and accept one frame; returns its (last) reading, or None when rejected
        or when it held none (counted by reason, logged rate-limited, never raised)."""
        taken = self._accept(frame)
        return None if taken is None or not taken[0] else taken[0][-1]

    def _accept(self, frame: RawFrame) -> tuple[list[Reading], DeviceKind] | None:
        """`handle`, also telling the readings' kind (which journals them)."""
        tally = self._tally
        tally[("frames", frame.transport)] += 1
        tally[("bytes", frame.transport)] += len(frame.payload)
        route = self._routes.get(frame.device_hint or "")
        gw = self.config.gateway
        now = self.clock()
        try:
            if route is None:
                raise FrameRejected("unknown_device", f"no device {frame.device_hint!r} is configured")
            device = route.device
            if device.transport != frame.transport:
                raise FrameRejected("wrong_transport", f"device {device.id} is configured for {device.transport}")
            if not route.bucket.allow(now):
                raise FrameRejected("rate_limited", f"device {device.id} exceeds {gw.device_rate_per_s}/s")
            if len(frame.payload) > route.max_payload_bytes:
                raise FrameRejected("too_large", f"{len(frame.payload)} bytes, at most {route.max_payload_bytes}")
            try:
                decoded = route.kind.decode(frame, device, route.processor, gw)
            except FrameRejected:
                raise
            except Exception as exc:  # a decoder's defect must cost its frame only, never the loop
                raise FrameRejected("decoder_error", f"{type(exc).__name__} in the {route.kind.name} decoder: {exc}") from exc
            if type(decoded) is not Decoded:
                if decoded is None:
                    return None
                route.processor.accept(decoded)
                tally[("readings", device.platform)] += 1
                self._last_arrival[decoded.device] = now  # type: ignore[union-attr]
                route.counts.seen(frame.received_at, decoded)
                return [decoded], route.kind  # type: ignore[list-item]
        except FrameRejected as rej:
            self._rejected(rej, route, frame)
            return None
        for rej in decoded.rejected:
            self._rejected(rej, route, frame)  # type: ignore[arg-type]
        accepted: list[Reading] = []
        for reading in decoded.readings:
            try:
                route.processor.accept(reading)
            except FrameRejected as rej:
                self._rejected(rej, route, frame)
                continue
            accepted.append(reading)
        if accepted:
            tally[("readings", device.platform)] += len(accepted)
            self._last_arrival[device.id] = now
            route.counts.seen(frame.received_at, accepted[-1])
        return accepted, route.kind

    def _rejected(self, rej: FrameRejected, route: _Route | None, frame: RawFrame) -> None:
        self.metrics.rejected.labels(rej.reason).inc()
        if route is not None:
            route.processor.note_rejected()
            route.counts.rejected += 1
        # One sampled line per reason and configured device; senders the configuration does
        # not list share one per reason, so no name they choose is ever remembered (the
        # detail quotes it, escaped and cut, as it does any other value from the wire).
        device = route.device.id if route is not None else None
        self.rejection_log.warning(
            f"{rej.reason}:{device}" if device else rej.reason, "frame rejected",
            reason=rej.reason, device=device, transport=frame.transport, detail=rej.detail[:200],
        )

    def _flush_tally(self) -> None:
        """Metrics once per batch: per-frame label lookups cost more than parsing the frame."""
        m = self.metrics
        for (what, label), n in self._tally.items():
            if what == "frames":
                m.frames.labels(label).inc(n)
            elif what == "bytes":
                m.bytes_in.labels(label).inc(n)
            else:
                m.readings.inc(label, n)
        self._tally.clear()

    def _close_due_windows(self) -> list[UplinkItem]:
        """A window normally closes when the device's next reading falls in a later window; a
        device silent for as long as its open window is long (ten minutes at Siaga IV, one
        minute at Siaga III and worse) has it closed, so its last reading reaches the centre
        within one reporting interval, and a dead sensor's last data still goes out. Devices
        never close each other's windows: their clocks and delivery delays differ."""
        items: list[UplinkItem] = []
        now = self.clock()
        for dev_id, last in list(self._last_arrival.items()):
            processor = self.processors[dev_id]
            window_s = processor.open_window_s
            if window_s is None:
                del self._last_arrival[dev_id]  # no window open: nothing to wait for
            elif now - last >= window_s:
                items.extend(processor.due(_END_OF_TIME))
                del self._last_arrival[dev_id]
        return items

    def _commit(self, items: Sequence[UplinkItem | BrokerDrops | GatewayHealth], journal: list[JournalRow]) -> None:
        """Store items, journal and summarised ranges in one transaction; retry until the disk
        takes them: a failing disk stalls intake (frames wait, unacknowledged) rather than
        dropping what was accepted. Each item is stored as its kind says."""
        storing, gw = self._storing, self.config.gateway.id
        rows = [storing[item.kind](item, gw) for item in items]
        delay = 0.1
        while True:
            try:
                self.outbox.commit(rows, journal)
                break
            except OutboxError as exc:
                self.metrics.internal_errors.labels("outbox").inc()
                log.error("outbox write failed; retrying", extra={"error": str(exc), "retry_s": delay})
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        for item in items:
            self.metrics.queued.labels(item.type).inc()
            if self.local_alarms is not None:
                alarm = self._alarms[item.kind](item)
                if alarm is not None:
                    self.local_alarms.announce(item.platform, item.type, alarm)
