"""The edge gateway: sources → decode and check → per-station processors → outbox → uplink.

One worker thread does all parsing and processing, in arrival order, so processors need no
locks; transports only enqueue bytes. Everything rejected is counted by reason.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter

from gateway.devices import Processor, UplinkItem, device_kind
from gateway.errors import FrameRejected, OutboxError
from gateway.local_alarms import LocalAlarmChannel
from gateway.model import RawFrame, Reading
from gateway.ratelimit import TokenBucket
from gateway.outbox import PRIORITY_EVENT, PRIORITY_SUMMARY, Outbox
from gateway.sources import Source
from gateway.sources.mqtt_devices import MqttDeviceSource
from gateway.sources.serial_line import SerialLineSource
from gateway.uplink import Uplink
from tepi.config import DeviceConfig, TepiConfig
from tepi.logs import RateLimitedLog
from tepi.messages import LevelSummary

log = logging.getLogger(__name__)
_END_OF_TIME = datetime.max.replace(tzinfo=timezone.utc)
MAX_QUEUED_FRAMES = 5_000


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.frames = Counter("tepi_gateway_frames", "Frames received from devices", ["transport"], registry=registry)
        self.bytes_in = Counter("tepi_gateway_bytes_in", "Payload bytes received from devices", ["transport"], registry=registry)
        self.rejected = Counter("tepi_gateway_rejected", "Frames rejected, by reason", ["reason"], registry=registry)
        self.readings = Counter("tepi_gateway_readings", "Readings accepted", ["station"], registry=registry)
        self.queued = Counter("tepi_gateway_items_queued", "Items written to the outbox", ["type"], registry=registry)
        self.evicted = Counter("tepi_gateway_outbox_evicted_summaries", "Routine summaries evicted from a full outbox", registry=registry)
        self.recovered = Counter("tepi_gateway_recovered_readings", "Open-window readings replayed from the journal at start", registry=registry)
        self.internal_errors = Counter("tepi_gateway_internal_errors", "Unexpected failures, by stage", ["stage"], registry=registry)


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
        self.metrics = GatewayMetrics(self.registry)
        self.outbox = Outbox(outbox_path or gw.outbox.path, max_bytes=gw.outbox.max_bytes, on_evict=self.metrics.evicted.inc)
        if self.outbox.salvaged is not None:
            log.error("outbox was damaged at start; continuing with what was recovered", extra={"moved_to": str(self.outbox.salvaged.moved_to)})
        self.devices: dict[str, DeviceConfig] = {d.id: d for d in config.devices}
        self.processors: dict[str, Processor] = {}
        self._kinds = {d.id: device_kind(d.kind) for d in config.devices}
        self._buckets = {d.id: TokenBucket(gw.device_rate_per_s, gw.device_burst) for d in config.devices}
        self._stations = {d.id: config.station(d.station) for d in config.devices}
        self._tally: collections.Counter[tuple[str, str]] = collections.Counter()
        for d in config.devices:
            self.processors[d.id] = self._kinds[d.id].processor(gw, config.station(d.station), d)
        ports = dict(gw.serial_ports) | (serial_ports or {})
        self.sources: list[Source] = [
            SerialLineSource(d.id, ports[d.id], gw.serial_baud)
            for d in config.devices
            if d.transport == "serial" and d.id in ports
        ]
        missing = [d.id for d in config.devices if d.transport == "serial" and d.id not in ports]
        if missing:
            log.warning("serial devices without a port are not read", extra={"devices": missing})
        if any(d.transport == "mqtt" for d in config.devices):
            self.sources.append(MqttDeviceSource(gw.local_broker, gw.tenant, client_id=f"tepi-gw-{gw.id}-devices"))
        self.uplink = (
            Uplink(
                self.outbox, gw.uplink_broker, gw.tenant, gw.id, self.registry,
                inflight=gw.uplink_inflight, summary_linger_s=gw.summary_linger_s,
            )
            if with_uplink
            else None
        )
        self.local_alarms = LocalAlarmChannel(gw.local_broker, gw.tenant, gw.id) if local_alarms else None
        # Bounded: when processing falls behind, sources block, which pushes back on the broker
        # (TCP flow control, unacknowledged QoS 1) instead of growing the gateway's memory.
        self._frames: queue.Queue[RawFrame | None] = queue.Queue(maxsize=MAX_QUEUED_FRAMES)
        self._worker: threading.Thread | None = None
        self._rejections = RateLimitedLog(log)
        self._last_arrival: dict[str, float] = {}
        self.outbox_depth_at_stop: int | None = None

    def start(self) -> None:
        self._recover()
        self._worker = threading.Thread(target=self._run, name=f"gateway-{self.config.gateway.id}", daemon=True)
        self._worker.start()
        for src in self.sources:
            src.start(self.submit)
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
        """Called by sources on their own threads; blocks while the queue is full."""
        self._frames.put(frame)

    def stop(self, flush_timeout: float = 0.0) -> None:
        for src in self.sources:
            src.stop()
        self._frames.put(None)
        if self._worker:
            self._worker.join(timeout=10)
        if self.uplink:
            if flush_timeout > 0:
                self.uplink.flush(flush_timeout)
            self.uplink.stop()
        if self.local_alarms:
            self.local_alarms.stop()
        self.outbox_depth_at_stop = self.outbox.depth()
        self.outbox.close()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch, stopping = self._take_batch()
            accepted: list[Reading] = []
            for frame in batch:
                reading = self.handle(frame)
                if reading is not None:
                    accepted.append(reading)
            self._flush_tally()
            items = self._process({r.device for r in accepted})
            items.extend(self._close_due_windows())
            self._commit(items, accepted)
            # Only now may devices forget these frames: they are in the journal or a summary.
            for frame in batch:
                if frame.ack is not None:
                    frame.ack()

    def _process(self, devices: set[str]) -> list[UplinkItem]:
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
        """
        rows = self.outbox.journal()
        replayed = 0
        for device, ts, seq, level, battery in rows:
            proc = self.processors.get(device)
            if proc is None:
                continue  # a device removed from the configuration; its journal rows stay
            station = self.devices[device].station
            try:
                proc.accept(Reading(device, station, seq, datetime.fromtimestamp(ts, timezone.utc), level, battery))
                replayed += 1
            except FrameRejected:
                continue
        items = self._process({r[0] for r in rows if r[0] in self.processors})
        self._commit(items, [])
        if rows:
            self.metrics.recovered.inc(replayed)
            log.info("replayed journal of open windows", extra={"readings": replayed, "items": len(items)})

    def _take_batch(self, limit: int = 5000) -> tuple[list[RawFrame], bool]:
        """Up to `limit` queued frames (waiting at most 0.5 s for the first); True once stop() was called."""
        batch: list[RawFrame] = []
        try:
            frame = self._frames.get(timeout=0.5)
        except queue.Empty:
            return batch, False
        while frame is not None:
            batch.append(frame)
            if len(batch) >= limit:
                return batch, False
            try:
                frame = self._frames.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def handle(self, frame: RawFrame) -> Reading | None:
        """Decode, check and accept one frame; returns the reading, or None when rejected
        (counted by reason, logged rate-limited, never raised)."""
        tally = self._tally
        tally[("frames", frame.transport)] += 1
        tally[("bytes", frame.transport)] += len(frame.payload)
        device = self.devices.get(frame.device_hint or "")
        try:
            if device is None:
                raise FrameRejected("unknown_device", f"no device {frame.device_hint!r} is configured")
            if device.transport != frame.transport:
                raise FrameRejected("wrong_transport", f"device {device.id} is configured for {device.transport}")
            if not self._buckets[device.id].allow(time.monotonic()):
                raise FrameRejected("rate_limited", f"device {device.id} exceeds {self.config.gateway.device_rate_per_s}/s")
            if len(frame.payload) > self.config.gateway.max_payload_bytes:
                raise FrameRejected("too_large", f"{len(frame.payload)} bytes")
            reading = self._kinds[device.id].decode(frame, device, self._stations[device.id], self.config.gateway)
            self.processors[device.id].accept(reading)
        except FrameRejected as rej:
            self.metrics.rejected.labels(rej.reason).inc()
            if device is not None:
                self.processors[device.id].note_rejected()
            self._rejections.warning(
                f"{rej.reason}:{frame.device_hint}", "frame rejected",
                reason=rej.reason, device=frame.device_hint, transport=frame.transport, detail=rej.detail[:200],
            )
            return None
        self._seen(reading)
        return reading

    def _seen(self, reading: Reading) -> None:
        self._tally[("readings", reading.station)] += 1
        self._last_arrival[reading.device] = time.monotonic()

    def _flush_tally(self) -> None:
        """Metrics once per batch: per-frame label lookups cost more than parsing the frame."""
        m = self.metrics
        for (what, label), n in self._tally.items():
            if what == "frames":
                m.frames.labels(label).inc(n)
            elif what == "bytes":
                m.bytes_in.labels(label).inc(n)
            else:
                m.readings.labels(label).inc(n)
        self._tally.clear()

    def _close_due_windows(self) -> list[UplinkItem]:
        """A window normally closes when the device's next reading falls in a later window; a
        device silent for a whole window of wall time has its window closed, so a dead
        sensor's last data still goes out. Devices never close each other's windows: their
        clocks and delivery delays differ."""
        items: list[UplinkItem] = []
        now_mono = time.monotonic()
        for dev_id, last in list(self._last_arrival.items()):
            station = self.config.station(self.devices[dev_id].station)
            if now_mono - last > station.alerting.summary_every_s:
                items.extend(self.processors[dev_id].due(_END_OF_TIME))
                del self._last_arrival[dev_id]
        return items

    def _commit(self, items: list[UplinkItem], accepted: list[Reading]) -> None:
        """Store items, journal and summarised ranges in one transaction; retry until the disk
        takes them: a failing disk stalls intake (frames wait, unacknowledged) rather than
        dropping what was accepted."""
        rows = []
        summarised = []
        for item in items:
            if isinstance(item, LevelSummary):
                rows.append((item.id, PRIORITY_SUMMARY, item.model_dump_json().encode()))
                summarised.append((item.device, item.window_end.timestamp()))
            else:
                rows.append((item.id, PRIORITY_EVENT, item.model_dump_json().encode()))
        journal = [(r.device, r.ts.timestamp(), r.seq, r.level_cm, r.battery_v) for r in accepted]
        delay = 0.1
        while True:
            try:
                self.outbox.commit(rows, journal, summarised)
                break
            except OutboxError as exc:
                self.metrics.internal_errors.labels("outbox").inc()
                log.error("outbox write failed; retrying", extra={"error": str(exc), "retry_s": delay})
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        for item in items:
            self.metrics.queued.labels(item.type).inc()
            if self.local_alarms is not None and not isinstance(item, LevelSummary):
                self.local_alarms.announce(item)
