"""AWLR device kind: checks frames against the station's configuration and summarises levels."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from gateway.devices.awlr import wire
from gateway.errors import FrameRejected
from gateway.model import RawFrame, Reading
from gateway.siaga import classify_siaga
from gateway.window import summarize
from tepi.config import DeviceConfig, GatewayConfig, StationConfig
from tepi.messages import LevelSummary, SiagaChange, event_id, summary_id


class AwlrKind:
    name = "awlr"

    def decode(self, frame: RawFrame, device: DeviceConfig, station: StationConfig, gateway: GatewayConfig) -> Reading:
        parsed = wire.decode_sentence(frame.payload) if frame.transport == "serial" else wire.decode_json(frame.payload)
        return check_frame(parsed, device, station, gateway.max_future_skew_s, frame.received_at)

    def processor(self, gateway: GatewayConfig, station: StationConfig, device: DeviceConfig) -> "LevelProcessor":
        return LevelProcessor(gateway.id, station, device.id, gateway.window_s)


def check_frame(
    frame: wire.AwlrFrame, device: DeviceConfig, station: StationConfig, max_future_skew_s: float, now: datetime
) -> Reading:
    """Reject what the configuration says cannot be true; pure, `now` is passed in."""
    if frame.station != station.id:
        raise FrameRejected("station_mismatch", f"device {device.id} is bound to {station.id}, frame claims {frame.station!r}")
    lo, hi = station.sensor_span_cm
    if not lo <= frame.level_cm <= hi:
        raise FrameRejected("out_of_range", f"{frame.level_cm} cm outside sensor span [{lo}, {hi}]")
    if frame.ts > now + timedelta(seconds=max_future_skew_s):
        raise FrameRejected("future_timestamp", f"{frame.ts.isoformat()} is ahead of gateway clock {now.isoformat()}")
    return Reading(device.id, station.id, frame.seq, frame.ts, frame.level_cm, frame.battery_v)


class LevelProcessor:
    """Per-station window of readings plus immediate Siaga-change events.

    Windows close on the gateway's notion of now (`due`) or when a reading of a later window
    arrives; a late reading for an already closed window is rejected, not merged silently.
    """

    def __init__(self, gateway_id: str, station: StationConfig, device_id: str, window_s: int) -> None:
        self.gateway_id = gateway_id
        self.station = station
        self.device_id = device_id
        self.window_s = window_s
        self._bounds = station.thresholds.bounds()
        self._window: int | None = None  # epoch seconds of the open window
        self._closed_until = float("-inf")  # end of the last summarised window
        self._ts: list[float] = []
        self._levels: list[float] = []
        self._seqs: list[int] = []
        self._battery: float | None = None
        self._siaga: int | None = None
        self._last_ts: datetime | None = None
        self._last_seq: int | None = None
        self.rejected_in_window = 0

    @property
    def siaga(self) -> int | None:
        return self._siaga

    def accept(self, reading: Reading) -> list[LevelSummary | SiagaChange]:
        if self._last_ts is not None and reading.ts <= self._last_ts:
            if reading.seq == self._last_seq or reading.ts == self._last_ts:
                raise FrameRejected("duplicate", f"seq {reading.seq} at {reading.ts.isoformat()} already accepted")
            raise FrameRejected("out_of_order", f"{reading.ts.isoformat()} is before {self._last_ts.isoformat()}")
        out: list[LevelSummary | SiagaChange] = []
        t = reading.ts.timestamp()
        if t < self._closed_until:
            raise FrameRejected("late", f"{reading.ts.isoformat()} falls in a window already summarised")
        start = int(t // self.window_s * self.window_s)
        if self._window is not None and start != self._window:
            out.extend(self._close())
        self._window = start
        self._ts.append(t)
        self._levels.append(reading.level_cm)
        self._seqs.append(reading.seq)
        self._battery = reading.battery_v
        self._last_ts, self._last_seq = reading.ts, reading.seq
        siaga = int(classify_siaga([reading.level_cm], self._bounds)[0])
        if siaga != self._siaga:
            out.append(
                SiagaChange(
                    id=event_id(self.gateway_id, self.station.id, "siaga", reading.ts, reading.seq),
                    station=self.station.id,
                    device=self.device_id,
                    ts=reading.ts,
                    seq=reading.seq,
                    level_cm=reading.level_cm,
                    siaga_from=self._siaga,
                    siaga_to=siaga,
                )
            )
            self._siaga = siaga
        return out

    def due(self, now: datetime) -> list[LevelSummary | SiagaChange]:
        if self._window is not None and now.timestamp() >= self._window + self.window_s:
            return self._close()
        return []

    def note_rejected(self) -> None:
        self.rejected_in_window += 1

    def _close(self) -> list[LevelSummary | SiagaChange]:
        if self._window is None or not self._levels:
            return []
        stats = summarize(np.asarray(self._ts), np.asarray(self._levels))
        start = datetime.fromtimestamp(self._window, timezone.utc)
        summary = LevelSummary(
            id=summary_id(self.gateway_id, self.station.id, start, self._seqs[0]),
            station=self.station.id,
            device=self.device_id,
            window_start=start,
            window_end=start + timedelta(seconds=self.window_s),
            count=stats.count,
            rejected=self.rejected_in_window,
            min_cm=stats.min,
            max_cm=stats.max,
            mean_cm=stats.mean,
            last_cm=stats.last,
            last_ts=datetime.fromtimestamp(self._ts[-1], timezone.utc),
            first_seq=self._seqs[0],
            last_seq=self._seqs[-1],
            siaga=int(classify_siaga([stats.last], self._bounds)[0]),
            battery_v=self._battery,
        )
        self._closed_until = self._window + self.window_s
        self._window = None
        self._ts, self._levels, self._seqs = [], [], []
        self.rejected_in_window = 0
        return [summary]


KIND = AwlrKind()
