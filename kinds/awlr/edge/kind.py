"""AWLR device kind: decodes frames and checks them against the station's configuration."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache

from kinds.awlr import wire
from kinds.awlr.edge.processor import LevelProcessor
from gateway.errors import FrameRejected
from gateway.model import RawFrame, Reading
from core.config import DeviceConfig, GatewayConfig, StationConfig


class AwlrKind:
    name = "awlr"
    readings_per_s = 1 / 60  # one level a minute, what the loggers in the field send
    # A JSON frame as the firmware sends it (~110 bytes); the decoder refuses above the maximum.
    typical_payload_bytes = len(wire.encode_json(wire.AwlrFrame("x" * 16, 2**31, datetime(2026, 1, 1, tzinfo=timezone.utc), 1234.56, 12.6)))
    max_payload_bytes = wire.MAX_JSON_BYTES

    def decode(self, frame: RawFrame, device: DeviceConfig, station: StationConfig, gateway: GatewayConfig) -> Reading:
        parsed = wire.decode_sentence(frame.payload) if frame.transport == "serial" else wire.decode_json(frame.payload)
        return check_frame(parsed, device, station, gateway.max_future_skew_s, frame.received_at)

    def processor(self, gateway: GatewayConfig, station: StationConfig, device: DeviceConfig) -> LevelProcessor:
        return LevelProcessor(gateway.id, station, device.id)


def check_frame(
    frame: wire.AwlrFrame, device: DeviceConfig, station: StationConfig, max_future_skew_s: float, now: datetime
) -> Reading:
    """Reject what the configuration says cannot be true; pure, `now` is passed in."""
    if frame.station != station.id:
        raise FrameRejected("station_mismatch", f"device {device.id} is bound to {station.id}, frame claims {frame.station!r}")
    lo, hi = station.sensor_span_cm
    if not lo <= frame.level_cm <= hi:
        raise FrameRejected("out_of_range", f"{frame.level_cm} cm outside sensor span [{lo}, {hi}]")
    if frame.ts > now + _seconds(max_future_skew_s):
        raise FrameRejected("future_timestamp", f"{frame.ts.isoformat()} is ahead of gateway clock {now.isoformat()}")
    return Reading(device.id, station.id, frame.seq, frame.ts, frame.level_cm, frame.battery_v)


KIND = AwlrKind()


@cache
def _seconds(s: float) -> timedelta:
    """The configured skew as a timedelta, built once: building one took half of `check_frame`."""
    return timedelta(seconds=s)
