"""How big Mosquitto's per-session queues must be so that nothing Tepi accepted is dropped.

Mosquitto PUBACKs a QoS 1 message as soon as it has it, then queues it for every subscribed
session; once a session's queue is full (`max_queued_messages`, default 1000, or
`max_queued_bytes`), further messages are dropped silently (mosquitto.conf(5)). The device
has its PUBACK and forgets the reading, so the queue must hold the worst backlog any session
can see. The limits are global, one value for every session, so they are sized for the
largest one:

- a gateway's device link (`<gw>.devices`, site broker): a peak burst of readings (that
  gateway's own `broker_queue.peak_readings_per_s` for `peak_duration_s`) arriving while the
  gateway is away for `outage_s`, on top of every MQTT device's expected rate
  (`DeviceKind.readings_per_s`) over that outage, each at its kind's payload sizes (an AWLR
  frame of ~100 bytes; a fish-finder sends one payload a second, the NMEA lines of that second,
  ~2.4 KB with echogram). The burst is not assumed to drain meanwhile: a gateway may be restarting.
- an ingest worker (`ingest.N`, central broker): every gateway's uplink items over `outage_s`,
  with all stations at alert (a summary per `summary_every_s_alert`) and, as a bound on events,
  one per expected reading; each uplink message carries at least one item, so messages are at
  most items, and a round-robin share group may give any one worker the whole stream. On top
  of that, every gateway's stored outbox: after an uplink outage a gateway replays it all
  (up to `gateway.outbox.max_bytes` of stored items), and if ingest is away meanwhile (an
  upgrade) all of it queues here. The gateway deletes what the broker PUBACKed, so a drop here
  loses it for good.

Bounds on a stored outbox of B bytes: events travel one to a message, so an outbox of events
is the most messages, B / `MIN_ITEM_BODY_BYTES`; each message's payload is at most its items'
stored bytes plus the envelope (tenant, gateway, time: `envelope_bytes`), since zlib only
shrinks JSON of the size it is applied to. Expected: a full outbox is routine summaries (events
are rare and never evicted), which travel a thousand to a compressed message of about a fifth
of their stored bytes (`SUMMARY_PAYLOAD_FRACTION`), so sizing by B is conservative there.
Not covered: events are never evicted, so an outbox of events alone can outgrow `max_bytes`.

Every figure is multiplied by `margin`. `max_queued_bytes` holds each session's worst backlog
at the largest payload Tepi accepts (`DeviceKind.max_payload_bytes`, the uplink bounds above),
so for well-formed traffic neither limit binds first; it bounds broker memory.

Limits are per session: a broker serving G gateways' device links and N ingest workers may
hold a full queue in each. Ingest workers share one stream (each uplink message goes to one
member of the share group), so together they hold at most one ingest backlog.

Memory: measured on Mosquitto 2.0.11, a queued QoS 1 message costs its payload plus about 360
bytes (message store entry, per-client queue entry and a 32-byte topic): RSS grew 448 bytes
per message for 94-byte AWLR frames and 1,360 bytes for 1,000-byte payloads (100,000 messages
queued for an offline persistent session, RSS before and after).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from core.config import BrokerQueueConfig, TepiConfig

#: Broker memory per queued message besides its payload (measured, see the module docstring).
QUEUED_MESSAGE_OVERHEAD_BYTES = 360
#: Uplink payload per item: a one-summary message is ~570 bytes; batching only lowers it.
UPLINK_ITEM_BYTES = 600
#: The smallest uplink item the gateway stores (a `BrokerDrops` with one-character names and
#: an 8-character id is 141 bytes; every other item is larger): bounds the messages of a replay.
MIN_ITEM_BODY_BYTES = 140
#: Compressed uplink payload per stored summary byte, a thousand summaries a message: 0.20
#: measured for 1,000 summaries of 500 stations (zlib level 6), rounded up.
SUMMARY_PAYLOAD_FRACTION = 0.25
#: Messages the broker sends a session before it waits for PUBACKs. The gateway and ingest ack
#: after committing a batch, so with Mosquitto's 20 they would stall between commits.
INFLIGHT_MESSAGES = 1000


@dataclass(frozen=True)
class SessionBacklog:
    """The backlog of one MQTT session (or share group) when full, before the margin."""

    session: str
    messages: int  # at most: what max_queued_messages must hold
    max_payload_bytes: int  # at most, if every message had the largest payload Tepi accepts
    typical_messages: int  # expected
    typical_payload_bytes: int  # at the expected payload sizes
    sessions: int = 1  # MQTT sessions it is spread over (ingest workers share one stream)

    @property
    def memory_bytes(self) -> int:
        return self.typical_messages * QUEUED_MESSAGE_OVERHEAD_BYTES + self.typical_payload_bytes

    @property
    def worst_memory_bytes(self) -> int:
        return self.messages * QUEUED_MESSAGE_OVERHEAD_BYTES + self.max_payload_bytes

    def __add__(self, other: "SessionBacklog") -> "SessionBacklog":
        return SessionBacklog(
            self.session, self.messages + other.messages, self.max_payload_bytes + other.max_payload_bytes,
            self.typical_messages + other.typical_messages, self.typical_payload_bytes + other.typical_payload_bytes,
            self.sessions,
        )


@dataclass(frozen=True)
class QueueLimits:
    """Mosquitto's queue settings for one broker, and the sessions they were sized from."""

    max_queued_messages: int
    max_queued_bytes: int
    max_inflight_messages: int
    sessions: tuple[SessionBacklog, ...]
    margin: float

    @property
    def largest(self) -> SessionBacklog:
        return max(self.sessions, key=lambda s: s.messages)

    @property
    def session_count(self) -> int:
        return sum(s.sessions for s in self.sessions)

    @property
    def memory_bytes(self) -> int:
        """Whole-broker memory, expected, when every session's queue holds its backlog."""
        return math.ceil(sum(s.memory_bytes for s in self.sessions) * self.margin)

    @property
    def worst_memory_bytes(self) -> int:
        """Whole-broker memory if every session's queue held its worst backlog."""
        return math.ceil(sum(s.worst_memory_bytes for s in self.sessions) * self.margin)

    @property
    def memory_ceiling_bytes(self) -> int:
        """Broker memory per session if a full queue held only the largest payloads."""
        return self.max_queued_messages * QUEUED_MESSAGE_OVERHEAD_BYTES + self.max_queued_bytes

    def conf_lines(self) -> list[str]:
        largest = self.largest
        return [
            f"# Sized by `tepi mqtt setup` for {largest.session}: {largest.messages} messages x {self.margin:g} margin.",
            f"# Limits are per session ({self.session_count} here). Whole broker: about {self.memory_bytes / 1e6:.0f} MB "
            f"with every queue full, {self.worst_memory_bytes / 1e6:.0f} MB at worst; at most {self.memory_ceiling_bytes / 1e6:.0f} MB per session.",
            f"max_queued_messages {self.max_queued_messages}",
            f"max_queued_bytes {self.max_queued_bytes}",
            f"max_inflight_messages {self.max_inflight_messages}",
            "max_inflight_bytes 0",
            "queue_qos0_messages false",
        ]


def device_link_backlog(cfg: TepiConfig, queue: BrokerQueueConfig) -> SessionBacklog:
    """The gateway's device-link session: a peak burst during an outage, plus normal traffic."""
    from gateway.devices import device_kind

    kinds = [device_kind(d.kind) for d in cfg.devices if d.transport == "mqtt"]
    burst = queue.peak_readings_per_s * queue.peak_duration_s
    normal = sum(k.readings_per_s for k in kinds) * queue.outage_s
    typical = max((k.typical_payload_bytes for k in kinds), default=0)
    largest = max((k.max_payload_bytes for k in kinds), default=0)
    messages = math.ceil(burst + normal) if kinds else 0
    return SessionBacklog(cfg.gateway.mqtt_user("devices"), messages, messages * largest, messages, messages * typical)


def envelope_bytes(cfg: TepiConfig) -> int:
    """What an uplink message of this gateway adds around the items it carries."""
    from contract.envelope import encode_uplink

    sent_at = datetime(2026, 1, 1, 0, 0, 0, 1, tzinfo=timezone.utc)  # microseconds: the longest time
    return len(encode_uplink(cfg.gateway.tenant, cfg.gateway.id, [], sent_at))


def stored_backlog(cfg: TepiConfig) -> SessionBacklog:
    """A gateway's whole outbox, replayed after an uplink outage (see the module docstring)."""
    from gateway.uplink import MAX_ITEMS_PER_MESSAGE

    stored = cfg.gateway.outbox.max_bytes
    messages = stored // MIN_ITEM_BODY_BYTES
    batches = math.ceil(stored / (MAX_ITEMS_PER_MESSAGE * MIN_ITEM_BODY_BYTES))
    return SessionBacklog(
        "outbox", messages, stored + messages * envelope_bytes(cfg), batches, math.ceil(stored * SUMMARY_PAYLOAD_FRACTION)
    )


def ingest_backlog(configs: Sequence[TepiConfig], queue: BrokerQueueConfig) -> SessionBacklog:
    """The ingest share group: every gateway's uplink items while ingest is away, plus every
    gateway's stored outbox; any one worker may get all of it."""
    from gateway.devices import device_kind

    per_s = 0.0
    for cfg in configs:
        reporting = {d.station for d in cfg.devices}
        per_s += sum(1 / s.alerting.summary_every_s_alert for s in cfg.stations if s.id in reporting)
        per_s += sum(device_kind(d.kind).readings_per_s for d in cfg.devices)
    messages = math.ceil(per_s * queue.outage_s)
    workers = max(c.ingest.workers for c in configs)
    session = configs[0].ingest.mqtt_user(1) + (f"..{workers}" if workers > 1 else "")
    live = SessionBacklog(session, messages, messages * UPLINK_ITEM_BYTES, messages, messages * UPLINK_ITEM_BYTES, workers)
    return sum((stored_backlog(c) for c in _gateways(configs)), live)


def _gateways(configs: Sequence[TepiConfig]) -> list[TepiConfig]:
    """One config per gateway: several files may describe the same one."""
    return list({c.gateway.id: c for c in configs}.values())


def queue_budget(configs: Sequence[TepiConfig]) -> BrokerQueueConfig:
    """Configs of one broker may differ; the broker must honour the most demanding of each."""
    q = [c.broker_queue for c in configs]
    return BrokerQueueConfig(
        peak_readings_per_s=max(x.peak_readings_per_s for x in q),
        peak_duration_s=max(x.peak_duration_s for x in q),
        outage_s=max(x.outage_s for x in q),
        margin=max(x.margin for x in q),
        autosave_interval_s=min(x.autosave_interval_s for x in q),
    )


def _own_burst(cfg: TepiConfig, queue: BrokerQueueConfig) -> BrokerQueueConfig:
    """A device link's burst is its own gateway's (`peak_readings_per_s` is per gateway): a boat's
    gateway with one fish-finder at a payload a second must not be sized for the river
    gateway's 20,000 readings a second, at the fish-finder's 33 KB largest payload. Outage and
    margin stay the broker's most demanding."""
    own = cfg.broker_queue
    return queue.model_copy(update={"peak_readings_per_s": own.peak_readings_per_s, "peak_duration_s": own.peak_duration_s})


def size_queues(configs: Sequence[TepiConfig]) -> QueueLimits:
    """Queue limits for a broker serving `configs` (one per gateway), largest session first."""
    queue = queue_budget(configs)
    sessions = [device_link_backlog(c, _own_burst(c, queue)) for c in _gateways(configs)] + [ingest_backlog(configs, queue)]
    sessions.sort(key=lambda s: s.messages, reverse=True)
    messages = max(1000, math.ceil(sessions[0].messages * queue.margin))  # never below Mosquitto's default
    return QueueLimits(
        max_queued_messages=messages,
        # Never 0, which means "no limit": each session's worst backlog fits, at Mosquitto's default count.
        max_queued_bytes=math.ceil(max(max(s.max_payload_bytes for s in sessions), 1000 * UPLINK_ITEM_BYTES) * queue.margin),
        max_inflight_messages=INFLIGHT_MESSAGES,
        sessions=tuple(sessions),
        margin=queue.margin,
    )
