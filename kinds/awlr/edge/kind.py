"""AWLR device kind: decodes frames and checks them against the station's configuration; tells
the gateway how to journal its readings, store its items and sound its local alarms."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import cache

from contract.items import PRIORITY_EVENT, PRIORITY_ROUTINE
from core.config import DeviceConfig, GatewayConfig, TepiConfig
from kinds.awlr.config import StationConfig
from gateway.errors import FrameRejected
from gateway.model import RawFrame
from gateway.stored_item import StoredItem
from kinds.awlr import wire
from kinds.awlr.edge import reading as journal
from kinds.awlr.edge.processor import LevelProcessor
from kinds.awlr.edge.reading import LevelReading
from kinds.awlr.items import LevelSummary, RateOfRise, SiagaChange, outbox_body
from kinds.awlr.siaga import SiagaLevel

KIND_NAME = "awlr"


class AwlrKind:
    name = KIND_NAME
    readings_per_s = 1 / 60  # one level a minute, what the loggers in the field send
    # A JSON frame as the firmware sends it (~110 bytes); the decoder refuses above the maximum.
    typical_payload_bytes = len(wire.encode_json(wire.AwlrFrame("x" * 16, 2**31, datetime(2026, 1, 1, tzinfo=timezone.utc), 1234.56, 12.6)))
    max_payload_bytes = wire.MAX_JSON_BYTES

    def decode(self, frame: RawFrame, device: DeviceConfig, processor: LevelProcessor, gateway: GatewayConfig) -> LevelReading:
        """One frame, checked against the station its processor was made for."""
        parsed = wire.decode_sentence(frame.payload) if frame.transport == "serial" else wire.decode_json(frame.payload)
        return check_frame(parsed, device, processor.station, gateway.max_future_skew_s, frame.received_at)

    def processor(self, config: TepiConfig, device: DeviceConfig) -> LevelProcessor:
        """An AWLR is mounted on a river station of the configuration (`ConfigError` if not)."""
        return LevelProcessor(config.gateway.id, config.device_station(device), device.id)

    journal_body = staticmethod(journal.journal_body)
    from_journal = staticmethod(journal.from_journal)

    @staticmethod
    def stored(item: LevelSummary | SiagaChange | RateOfRise, gateway_id: str) -> StoredItem:
        """A summary is routine (evictable) and closes its device's window; events are not."""
        origin = f"{item.station}/{item.device}"
        if type(item) is LevelSummary:
            return StoredItem(
                item.id, PRIORITY_ROUTINE, KIND_NAME, item.type, origin, item.window_start.timestamp(),
                outbox_body(item, gateway_id), (item.device, item.window_end.timestamp()),
            )
        assert isinstance(item, (SiagaChange, RateOfRise))
        return StoredItem(item.id, PRIORITY_EVENT, KIND_NAME, item.type, origin, item.ts.timestamp(), item.model_dump_json().encode())

    @staticmethod
    def alarm(item: LevelSummary | SiagaChange | RateOfRise) -> bytes | None:
        state = alarm_state(item)
        return None if state is None else json.dumps(state, separators=(",", ":")).encode()


def alarm_state(event: LevelSummary | SiagaChange | RateOfRise) -> dict[str, object] | None:
    """What a siren controller or a display at the site needs, and nothing personal: the
    Siaga level and the rate of rise; a summary is no alarm."""
    if isinstance(event, LevelSummary):
        return None
    state: dict[str, object] = {
        "station": event.station, "kind": event.type, "level_cm": event.level_cm, "reading_ts": event.ts.isoformat(),
    }
    if isinstance(event, SiagaChange):
        level = SiagaLevel(event.siaga_to)
        state |= {"siaga": level.value, "label": level.label, "siaga_name": level.name_id}
    else:
        state |= {"active": event.active, "rate_cm_per_h": event.rate_cm_per_h}
    return state


def check_frame(
    frame: wire.AwlrFrame, device: DeviceConfig, station: StationConfig, max_future_skew_s: float, now: datetime
) -> LevelReading:
    """Reject what the configuration says cannot be true; pure, `now` is passed in."""
    if frame.station != station.id:
        raise FrameRejected("station_mismatch", f"device {device.id} is bound to {station.id}, frame claims {frame.station!r}")
    lo, hi = station.sensor_span_cm
    if not lo <= frame.level_cm <= hi:
        raise FrameRejected("out_of_range", f"{frame.level_cm} cm outside sensor span [{lo}, {hi}]")
    if frame.ts > now + _seconds(max_future_skew_s):
        raise FrameRejected("future_timestamp", f"{frame.ts.isoformat()} is ahead of gateway clock {now.isoformat()}")
    return LevelReading(device.id, frame.seq, frame.ts, frame.level_cm, frame.battery_v)


KIND = AwlrKind()


@cache
def _seconds(s: float) -> timedelta:
    """The configured skew as a timedelta, built once: building one took half of `check_frame`."""
    return timedelta(seconds=s)
