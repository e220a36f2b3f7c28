"""Messages a Mosquitto broker dropped: read from its `$SYS` tree, counted, logged, exported.

A QoS 1 message for a subscriber whose session queue is full (`max_queued_messages`,
`max_queued_bytes`) is dropped by the broker, after the publisher already got its PUBACK: the
device believes it was delivered and nobody downstream ever sees it. The broker counts these
in `$SYS/broker/publish/messages/dropped` ("the total number of publish messages that have
been dropped due to inflight/queuing limits", man mosquitto(8)). The $SYS tree is updated every
`sys_interval` (default 10 s, man mosquitto.conf(5)); Mosquitto publishes this value only when
it changed, retained (src/sys_tree.c), and 2.0 with a 60 s message expiry (seen here with
2.0.11): a client that connects within a minute of the last change gets it at once, one that
comes later only at the next drop. So drops while a gateway was away go unreported if traffic
stopped more than a minute before it came back (tepi/MQTT.md, "Seeing drops"): the broker
republishes nothing, so there is nothing more to read.
It is the broker's total since it started, over all its clients: on a gateway's site broker
the gateway is the main subscriber, so what moves it is mostly readings the gateway never saw
(sirens and displays subscribed to the local alarms count too).

The count restarts at 0 when the broker restarts; `DroppedCount` turns the series into
increases that are never negative. Both the gateway (its site broker) and ingest (the central
broker) read it with a `BrokerDropWatch`; every ingest worker reads the same central total, so
across workers take the maximum, never the sum.
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge

from core.logs import RateLimitedLog

#: Mosquitto's count of messages dropped for queue or in-flight limits (man mosquitto(8), "$SYS").
DROPPED_TOPIC = "$SYS/broker/publish/messages/dropped"
#: A warning per broker at most this often; the metric has every count.
WARN_EVERY_S = 60.0


def parse_count(payload: bytes) -> int:
    """The decimal count Mosquitto publishes; ValueError for anything else."""
    text = payload.decode("ascii", errors="strict").strip() if len(payload) <= 20 else ""
    if not text.isdigit():
        raise ValueError(f"not a message count: {payload[:20]!r}")
    return int(text)


class DroppedCount:
    """Increases of a broker's cumulative dropped count, never negative.

    `observe` returns how many messages were dropped since the previous value. The first value
    has no previous one: it is the broker's count since it started, all of it unseen by this
    process (drops while the gateway was down, the case that matters most), so it counts in
    full; `first` says so. A value below the previous one means the broker restarted and
    counts from 0 again: the new value is the increase.
    """

    def __init__(self) -> None:
        self.last: int | None = None

    @property
    def first(self) -> bool:
        return self.last is None

    def observe(self, total: int) -> int:
        if total < 0:
            raise ValueError(f"a dropped count is never negative: {total}")
        last, self.last = self.last, total
        if last is None or total < last:
            return total
        return total - last


class BrokerDropWatch:
    """Reads one broker's dropped count: exports it, warns (rate-limited) when it moves.

    `<prefix>_broker_dropped_messages_total` counts the increases this process saw (resets
    handled), `<prefix>_broker_dropped_count` is the broker's own value, as it reported it.
    """

    def __init__(self, prefix: str, broker: str, registry: CollectorRegistry, log: logging.Logger) -> None:
        self.broker = broker
        self.count = DroppedCount()
        self.dropped = Counter(
            f"{prefix}_broker_dropped_messages",
            "Messages the MQTT broker dropped for its queue or in-flight limits, as increases seen here.",
            registry=registry,
        )
        self.reported = Gauge(
            f"{prefix}_broker_dropped_count",
            "The broker's own count of dropped messages since it started ($SYS/broker/publish/messages/dropped).",
            registry=registry,
        )
        self.bad_values = Counter(
            f"{prefix}_broker_dropped_unreadable", "Values of the broker's dropped count that were not a count.", registry=registry
        )
        self._log = log
        self._warnings = RateLimitedLog(log, interval_s=WARN_EVERY_S)

    def observe(self, payload: bytes) -> int:
        """Take one published value; returns the increase (0 for an unreadable value, counted)."""
        try:
            total = parse_count(payload)
        except ValueError:
            self.bad_values.inc()
            self._warnings.warning("unreadable", "broker dropped count unreadable", broker=self.broker)
            return 0
        first = self.count.first
        increase = self.count.observe(total)
        self.reported.set(total)
        if increase:
            self.dropped.inc(increase)
            self._warnings.warning(
                "dropped",
                "MQTT broker dropped messages (queue or in-flight limit reached)",
                broker=self.broker,
                dropped=increase,
                broker_total=total,
                since_broker_start=first,
            )
        return increase
