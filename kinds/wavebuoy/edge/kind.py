"""Wave-buoy device kind at the shore gateway: NMEA sentences in (a line per serial frame, or an
MQTT payload of newline-separated lines, one report or several), a buoy's items out
(`edge.processor`). A device's `platform` is a buoy of the configuration's `buoys:` section; a
device on an undeclared buoy stops the gateway at start.

Rejections (counted by reason, `gateway.errors.REJECTION_REASONS`): what `wire` refuses
(`too_large`, `non_ascii`, `garbage`, `no_checksum`, `checksum`, `truncated`, `malformed`,
`out_of_range`, `unknown`, `no_fix`), a report naming another buoy than its device's
(`station_mismatch`), one ahead of the gateway clock (`future_timestamp`), and the processor's
`duplicate`, `out_of_order` and `late`.
"""

from __future__ import annotations

import json
from datetime import timedelta

from contract.items import PRIORITY_EVENT, PRIORITY_ROUTINE
from core.config import DeviceConfig, GatewayConfig, TepiConfig
from gateway.errors import FrameRejected
from gateway.model import Decoded, RawFrame
from gateway.stored_item import StoredItem
from kinds.wavebuoy import wire
from kinds.wavebuoy.edge import reading as journal
from kinds.wavebuoy.edge.processor import BuoyProcessor
from kinds.wavebuoy.edge.reading import BuoyReading, nan
from kinds.wavebuoy.items import KIND as KIND_NAME
from kinds.wavebuoy.items import SeaStateSummary, SmallBoatLimit

#: Lines one MQTT payload may hold: a day of reports queued in the modem at one a minute is
#: 4,320 lines; a payload is one report (3 lines) normally.
MAX_LINES_PER_PAYLOAD = 64


class WavebuoyKind:
    name = KIND_NAME
    # One report (MDA, MWV, PTEPW: ~175 bytes) a minute at most (`sim.runner`).
    readings_per_s = 1 / 60
    typical_payload_bytes = 180
    max_payload_bytes = MAX_LINES_PER_PAYLOAD * wire.MAX_SENTENCE_BYTES

    def processor(self, config: TepiConfig, device: DeviceConfig) -> BuoyProcessor:
        buoy = config.device_buoy(device)
        wave_limit, wind_limit = config.small_boat_limits(buoy.tenant)
        return BuoyProcessor(config.gateway.id, buoy.id, device.id, wave_limit, wind_limit, buoy.summary_every_s)

    def decode(self, frame: RawFrame, device: DeviceConfig, processor: BuoyProcessor, gateway: GatewayConfig) -> Decoded:
        """Each line through the device's report assembler; a bad line is a counted rejection of
        its own and never costs the lines around it."""
        lines = [frame.payload] if frame.transport == "serial" else frame.payload.split(b"\n")
        if len(lines) > MAX_LINES_PER_PAYLOAD:
            raise FrameRejected("too_large", f"{len(lines)} lines in one payload, at most {MAX_LINES_PER_PAYLOAD}")
        assembler = processor.assembler
        out = Decoded()
        latest = frame.received_at + timedelta(seconds=gateway.max_future_skew_s)
        for line in lines:
            if frame.transport == "mqtt" and not line.strip():
                continue
            try:
                report = assembler.feed(line)
                if report is None:
                    continue
                if report.buoy != processor.buoy:
                    raise FrameRejected("station_mismatch", f"a report of buoy {report.buoy!r} from device {device.id!r}")
                if report.ts > latest:
                    raise FrameRejected("future_timestamp", f"{report.ts.isoformat()} is ahead of the gateway clock")
            except FrameRejected as rej:
                out.rejected.append(rej)
                continue
            out.readings.append(BuoyReading(
                device.id, report.seq, report.ts, report.hs_m, report.tp_s, nan(report.wave_dir_deg), nan(report.wind_kn),
                nan(report.wind_dir_deg), nan(report.gust_kn),
            ))
        return out

    journal_body = staticmethod(journal.journal_body)
    from_journal = staticmethod(journal.from_journal)

    @staticmethod
    def stored(item: SeaStateSummary | SmallBoatLimit, gateway_id: str) -> StoredItem:
        """A limit event leaves at once, ahead of routine summaries; a summary closes its
        device's window in the journal."""
        origin = f"{item.buoy}/{item.device}"
        body = item.model_dump_json().encode()
        if isinstance(item, SmallBoatLimit):
            return StoredItem(item.id, PRIORITY_EVENT, KIND_NAME, item.type, origin, item.observation.at.timestamp(), body)
        return StoredItem(item.id, PRIORITY_ROUTINE, KIND_NAME, item.type, origin, item.window_start.timestamp(), body, item.summarised)

    @staticmethod
    def alarm(item: object) -> bytes | None:
        """What a harbour display gets: the sea at the buoy above or back below the small-boat limits."""
        if not isinstance(item, SmallBoatLimit):
            return None
        o = item.observation
        state = {
            "buoy": item.buoy, "exceeded": item.exceeded, "over": item.over, "hs_m": o.hs_m, "wind_kn": o.wind_kn,
            "message": "dangerous for small boats" if item.exceeded else "back within small-boat limits", "at": o.at.isoformat(),
        }
        return json.dumps(state, separators=(",", ":")).encode()


KIND = WavebuoyKind()
