"""Fish-finder device kind, the gateway on board: NMEA lines in (a line per serial frame, or an
MQTT payload of newline-separated lines), a boat's items out (`edge.processor`).

A fish-finder device is mounted on a vessel: its `platform` in the configuration is the
vessel id. Vessels are registered centrally, not in the gateway's YAML, so the gateway cannot
check the id against a list; it must be a valid identifier, which `DeviceConfig` already ensures.
"""

from __future__ import annotations

import json
from datetime import timedelta

from contract.items import PRIORITY_DISTRESS, PRIORITY_EVENT, PRIORITY_ROUTINE
from core.config import DeviceConfig, GatewayConfig, TepiConfig
from gateway.errors import FrameRejected
from gateway.model import Decoded, RawFrame
from gateway.stored_item import StoredItem
from kinds.fishfinder import wire
from kinds.fishfinder.decoder import InstrumentDecoder
from kinds.fishfinder.edge import reading as journal
from kinds.fishfinder.edge.processor import CANCEL_REPEAT, BoatProcessor
from kinds.fishfinder.edge.reading import BoatReading, reading_of
from kinds.fishfinder.items import KIND as KIND_NAME
from kinds.fishfinder.items import DistressCall, SchoolSighting, SeaSummary, SosStatus, Track
from kinds.fishfinder.values import Fix

#: Lines one MQTT payload may hold: a second of a 38,400-baud multiplexer is ~40 lines.
MAX_LINES_PER_PAYLOAD = 400
_SPREAD_MAX = MAX_LINES_PER_PAYLOAD
_SPREAD = [timedelta(seconds=k) for k in range(_SPREAD_MAX + 1)]


class FishfinderKind:
    name = KIND_NAME
    # One MQTT payload a second (`sim.runner`: the lines of one second, newline-separated).
    readings_per_s = 1.0
    # A second at 38,400 baud with two 500-bin pings: ~2,440 bytes (`wire`'s byte budget).
    typical_payload_bytes = 2_440
    max_payload_bytes = MAX_LINES_PER_PAYLOAD * wire.MAX_SENTENCE_BYTES

    def processor(self, config: TepiConfig, device: DeviceConfig) -> BoatProcessor:
        """One per device, holding its NMEA decoder (NMEA state: dates, open pings)."""
        return BoatProcessor(config.gateway.id, device.platform, device.id, InstrumentDecoder())

    def decode(self, frame: RawFrame, device: DeviceConfig, processor: BoatProcessor, gateway: GatewayConfig) -> Decoded:
        """Every line of the frame through the device's decoder; a garbled line is a counted
        rejection of its own and never costs the lines around it."""
        lines = [frame.payload] if frame.transport == "serial" else frame.payload.split(b"\n")
        if len(lines) > MAX_LINES_PER_PAYLOAD:
            raise FrameRejected("too_large", f"{len(lines)} lines in one payload, at most {MAX_LINES_PER_PAYLOAD}")
        decoder = processor.decoder
        out = Decoded()
        n = len(lines)
        for i, line in enumerate(lines):
            if frame.transport == "mqtt" and not line.strip():
                continue
            lost = decoder.counts.get("incomplete_ping", 0)
            # A payload is the lines of the second before it was sent: each line is taken as
            # received in its turn within that second, so two pings of one payload keep their
            # order and interval instead of sharing one time.
            rx = frame.received_at if n == 1 else frame.received_at - _SPREAD[min(n - 1 - i, _SPREAD_MAX)] * (1 / n)
            try:
                value = decoder.decode(line, rx)
            except FrameRejected as rej:
                out.rejected.append(rej)
                value = None
            if decoder.counts.get("incomplete_ping", 0) > lost:
                out.rejected.append(FrameRejected("incomplete_ping", "an echogram ping lost fragments"))
            if value is None:
                continue
            if isinstance(value, Fix):
                if processor.last_decoded_fix is not None and value.ts == processor.last_decoded_fix:
                    continue  # RMC and GGA of one second: one fix
                processor.last_decoded_fix = value.ts
            out.readings.append(reading_of(device.id, value))
        if out.readings:  # the SOS state goes to the journal with the frame's readings
            out.readings.extend(processor.state_readings(out.readings[-1].ts))
        return out

    journal_body = staticmethod(journal.journal_body)
    from_journal = staticmethod(journal.from_journal)

    @staticmethod
    def stored(item: Track | SchoolSighting | SeaSummary | DistressCall, gateway_id: str) -> StoredItem:
        """An SOS call, and a track while an SOS is active, leave first; a school is an event;
        the rest is routine. A sea summary closes its device's window in the journal."""
        origin = f"{item.vessel}/{item.device}"
        body = item.model_dump_json().encode()
        if isinstance(item, DistressCall):
            return StoredItem(item.id, PRIORITY_DISTRESS, KIND_NAME, item.type, origin, item.ts.timestamp(), body)
        if isinstance(item, Track):
            priority = PRIORITY_DISTRESS if item.distress else PRIORITY_ROUTINE
            return StoredItem(item.id, priority, KIND_NAME, item.type, origin, item.points[0][0] / 1e6, body, item.summarised)
        if isinstance(item, SchoolSighting):
            return StoredItem(item.id, PRIORITY_EVENT, KIND_NAME, item.type, origin, item.start.timestamp(), body)
        assert isinstance(item, SeaSummary)
        return StoredItem(
            item.id, PRIORITY_ROUTINE, KIND_NAME, item.type, origin, item.window_start.timestamp(), body, item.summarised,
        )

    @staticmethod
    def alarm(item: object) -> bytes | None:
        """What the wheelhouse display and buzzer get: the SOS as sent, cancelled, and the
        centre's answers ('help acknowledged'); routine items and schools are no alarm."""
        if isinstance(item, DistressCall) and item.repeat in (0, CANCEL_REPEAT):
            state = {"vessel": item.vessel, "press": item.press, "active": item.active,
                     "message": "SOS sent" if item.active else "SOS cancelled", "at": item.ts.isoformat()}
        elif isinstance(item, SosStatus):
            words = {"received": "SOS received ashore", "acknowledged": "help acknowledged", "resolved": "incident closed"}
            state = {"vessel": item.vessel, "press": item.press, "status": item.status, "message": words[item.status],
                     "at": item.at.isoformat()}
        else:
            return None
        return json.dumps(state, separators=(",", ":")).encode()


KIND = FishfinderKind()

__all__ = ["KIND", "BoatReading", "FishfinderKind"]
