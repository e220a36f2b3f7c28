"""Badge scanners at the office gateway: scanner messages in (`wire.decode_message`: Tepi's
batch of everything heard in a scan interval, or one message per advertisement as Theengs
Gateway and ESPresense send them), presence, security events and office health out
(`edge.office`). A scanner is a device of kind `badge` whose `platform` is an office of the
configuration's `offices:` section; a scanner on an undeclared office stops the gateway at
start.

Decoding resolves each advertisement at once (`edge.resolver`, the payload cache first) and
classifies it, so the journal holds badges, not radio bytes, and a replay after a restart
decides as the live run did.

Which time an EID is judged by. An EID is valid within `resolver.DRIFT_PERIODS` of the badge's
period when it was heard. The scanner's time says when; the gateway's receive time only
bounds it from above: a message may be late (MQTT QoS 1 redelivers the broker's backlog when
a gateway comes back after an outage, hours after the scan) but nothing is heard after the
gateway received it. One message alone cannot tell a late message from a scanner whose clock
is behind (both show a scanner time well before the receive time), so:

- `eid_replayed`: a period before the scanner time's window. A redelivered backlog, stamped
  correctly by its scanner, stays valid however late; judging by the receive time would call
  every honest EID of it replayed.
- `eid_ahead`: a period beyond the window of the later of the scanner time and the receive
  time. An EID ahead of the scanner's clock but not of the receive time is what a scanner
  whose clock is behind by more than a period hears from every honest badge: valid, not an
  alarm. Only an EID ahead of when the gateway got it proves a clock set forward or a key
  used in advance.

Refusing messages far behind the receive time would refuse the legitimate backlog, and a
per-scanner clock-offset estimate (the least lag of its recent messages) knows nothing right
after a gateway restart, which is when the backlog comes. What the rule costs: in a late message,
or from a scanner whose clock is behind, an EID ahead of the scanner's time by up to that
lag is not flagged `eid_ahead` (a badge clock run forward; EIDs computed from a stolen key,
whose holder can send the current ones anyway). And a scanner whose clock is behind takes an
EID recorded up to its lag earlier for a current one, as it did before; its check-ins are
dated by its clock too (nothing here corrects scanner time): scanners must keep NTP time.

Rejections (counted by reason, `gateway.errors.REJECTION_REASONS`): what `wire` refuses for
the message (`too_large`, `not_json`, `duplicate_key`, `malformed`, `wrong_type`,
`out_of_range`, `truncated`, `station_mismatch` for a batch naming another scanner) and for
single entries of a batch (each counted, the rest kept); a message ahead of the gateway clock
(`future_timestamp`); the processor's `out_of_order` and `late`. An advertisement that is no
badge of the roster is not a rejection: it is counted by the kind
(`tepi_gateway_badge_adverts_total{result}`).

Sizes: Tepi's batch holds at most `wire.MAX_ENTRIES` (5,000) advertisements, 70 to 80 bytes
each as JSON for a badge's payload (71 measured for Eddystone-EID: 142 kB for 2,000 badges):
~400 kB, and up to ~770 kB for 5,000 legacy advertisements with scan responses (62 bytes). The gateway refuses a payload above
`gateway.payload_limit(max_payload_bytes)` before a kind sees it: by default this kind's
largest message (`max_payload_bytes`, under the gateway's 1 MiB ceiling), or what the file's
`gateway.max_payload_bytes` sets; Theengs and ESPresense messages (a few hundred bytes each) fit the default, but come one per
advertisement: `device_rate_per_s` must then allow what a scanner hears (2,000 badges at one
advertisement a second: 2,000 frames a second per scanner). `tepi mqtt setup` sizes the site
broker's queues from `broker_queue.peak_readings_per_s` at this kind's largest payload: a
badge reading is a whole scan message, so a gateway of batch scanners sets it to its scanners'
messages a second (ten scanners: 10, with a margin 20), not to advertisements a second.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from contract.items import PRIORITY_EVENT, PRIORITY_ROUTINE
from core.config import ConfigError, DeviceConfig, GatewayConfig, TepiConfig
from gateway.errors import FrameRejected
from gateway.model import Decoded, RawFrame
from gateway.stored_item import StoredItem
from kinds.badge import wire
from kinds.badge.edge import reading as journal
from kinds.badge.edge import roster_store
from kinds.badge.edge.processor import ScannerProcessor
from kinds.badge.edge.reading import AHEAD, OK, REPLAYED, STATIC_REFUSED, ScanReading, Sighting
from kinds.badge.edge.resolver import DRIFT_PERIODS, NOT_BADGE, STATIC, UNKNOWN
from kinds.badge.edge.site import Site
from kinds.badge.items import KIND as KIND_NAME
from kinds.badge.items import OfficeHealth, Presence, SecurityEvent

log = logging.getLogger(__name__)

#: JSON bytes of one batch entry for a badge's advertisement (71 measured for Eddystone-EID).
ENTRY_BYTES = 72
#: The largest payload the gateway can be configured to take (`GatewayConfig.max_payload_bytes`).
GATEWAY_PAYLOAD_CEILING = 1_048_576


class BadgeKind:
    name = KIND_NAME
    #: One batch per scan interval (1 s) per scanner.
    readings_per_s = 1.0
    #: A batch from a scanner hearing the design's 2,000 badges.
    typical_payload_bytes = 2_000 * ENTRY_BYTES
    #: A full batch of legacy advertisements fits below the gateway's ceiling; larger ones
    #: (extended advertisements) the gateway never accepts anyway.
    max_payload_bytes = min(wire.MAX_MESSAGE_BYTES, GATEWAY_PAYLOAD_CEILING)

    def __init__(self) -> None:
        self._sites: dict[str, Site] = {}

    def processor(self, config: TepiConfig, device: DeviceConfig) -> ScannerProcessor:
        office_config = config.device_office(device)  # type: ignore[attr-defined]
        gw = config.gateway
        site = self._sites.get(gw.id)
        if site is None or device.id in site.bound:  # a new gateway (or one built again): fresh state
            site = self._sites[gw.id] = Site(config, roster_store.roster_path(gw.outbox.path, gw.id))
            if gw.payload_limit(self.max_payload_bytes) < 64 * ENTRY_BYTES:
                log.warning(
                    "gateway.max_payload_bytes refuses batch scanner messages of more than a few badges",
                    extra={"max_payload_bytes": gw.max_payload_bytes, "batch_of_2000_badges": 2_000 * ENTRY_BYTES},
                )
        if device.transport != "mqtt":
            raise ConfigError(f"device {device.id!r} (badge): scanners publish over MQTT, not {device.transport}")
        site.bound.add(device.id)
        return ScannerProcessor(site, site.office(office_config), device.id)

    def decode(self, frame: RawFrame, device: DeviceConfig, processor: ScannerProcessor, gateway: GatewayConfig) -> Decoded:
        """The message's advertisements resolved to badges; its bad entries counted as
        rejections of their own."""
        report = wire.decode_message(frame.payload, device.id, frame.received_at)
        if report.at > frame.received_at + timedelta(seconds=gateway.max_future_skew_s):
            raise FrameRejected("future_timestamp", f"{report.at.isoformat()} is ahead of the gateway clock")
        t = report.at.timestamp()
        latest = max(t, frame.received_at.timestamp())  # when it was heard, at the latest (module)
        site = processor.site
        resolver = site.resolver
        resolver.advance(latest)
        cache_get, resolve = resolver.cache.get, resolver.resolve
        require_eid = processor.office.require_eid
        ti, tl = int(t), int(latest)
        sightings: list[Sighting] = []
        append = sightings.append
        unknown = not_badges = malformed = 0
        for h in report.heard:
            data = h.data
            found = cache_get(data)
            if found is None:
                found = resolve(data)
            entry, period, tx = found
            if entry is None:
                if period == UNKNOWN:
                    unknown += 1
                elif period == NOT_BADGE:
                    not_badges += 1
                else:
                    malformed += 1
                continue
            if period == STATIC:
                append((entry.badge, entry.raw, h.rssi, tx, STATIC_REFUSED if require_eid else OK, 0))
                continue
            off = period - ((ti - entry.epoch) >> entry.k)
            if -DRIFT_PERIODS <= off <= DRIFT_PERIODS:
                append((entry.badge, entry.raw, h.rssi, tx, OK, 0))
            elif off < 0:
                append((entry.badge, entry.raw, h.rssi, tx, REPLAYED, off))
            else:
                off = period - ((tl - entry.epoch) >> entry.k)
                if off <= DRIFT_PERIODS:  # ahead of the scanner's clock only: the clock is behind
                    append((entry.badge, entry.raw, h.rssi, tx, OK, 0))
                else:
                    append((entry.badge, entry.raw, h.rssi, tx, AHEAD, off))
        processor.seq += 1
        office = processor.office
        snapshot = b""
        if office.snapshot and t >= office.snapshot_until:  # the badges in at the last close, into the journal
            snapshot, office.snapshot = office.snapshot, b""
        out = Decoded([ScanReading(device.id, processor.seq, report.at, t, sightings, unknown, not_badges, malformed, snapshot)])
        for reason, count in report.rejected:
            out.rejected.extend(FrameRejected(reason, f"{count} bad entries in a scanner message") for _ in range(count))
        return out

    journal_body = staticmethod(journal.journal_body)
    from_journal = staticmethod(journal.from_journal)

    @staticmethod
    def stored(item: Presence | SecurityEvent | OfficeHealth, gateway_id: str) -> StoredItem:
        """Presence and security events leave at once (a check-in is the record an allowance
        depends on); a health summary is routine and closes its scanner's journal window."""
        body = item.model_dump_json().encode()
        if isinstance(item, OfficeHealth):
            return StoredItem(item.id, PRIORITY_ROUTINE, KIND_NAME, item.type, item.office, item.window_start.timestamp(), body, item.summarised)
        return StoredItem(item.id, PRIORITY_EVENT, KIND_NAME, item.type, f"{item.office}/{item.badge}", item.at.timestamp(), body)

    @staticmethod
    def alarm(item: object) -> bytes | None:
        """Attendance sounds no siren."""
        return None


KIND = BadgeKind()
