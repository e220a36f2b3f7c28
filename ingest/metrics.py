"""Prometheus metrics of ingest: the exact counts that rate-limited logs only hint at."""

from __future__ import annotations

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram

from ingest.service import ApplyResult


class IngestMetrics:
    """Counters of one ingest worker, registered in `registry` (a private one in tests)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = registry if registry is not None else REGISTRY
        self.messages = Counter("tepi_ingest_messages", "Uplink MQTT messages received.", registry=reg)
        self.items_stored = Counter(
            "tepi_ingest_items_stored", "Uplink items stored for the first time.", ["type"], registry=reg
        )
        self.duplicates = Counter("tepi_ingest_duplicates", "Uplink events already applied (redeliveries); summaries are rewritten idempotently, not counted.", registry=reg)
        self.rejected = Counter(
            "tepi_ingest_rejected",
            "Uplink messages (reason=malformed, topic_mismatch) or items (other reasons) rejected.",
            ["reason"],
            registry=reg,
        )
        self.uplink_acks = Counter(
            "tepi_ingest_uplink_acks", "Acknowledgements sent to gateways (one per gateway per batch), after storing.", registry=reg
        )
        self.alerts = Counter("tepi_ingest_alert_transitions", "Alert transitions.", ["transition"], registry=reg)
        self.stale_changes = Counter(
            "tepi_ingest_stale_siaga_changes", "Siaga changes older than the station's last one.", registry=reg
        )
        self.dropped_at_edge = Counter(
            "tepi_ingest_summaries_dropped_at_edge",
            "Summaries gateways report they evicted from a full outbox.",
            ["station"],
            registry=reg,
        )
        self.site_broker_drops = Counter(
            "tepi_ingest_site_broker_dropped_messages",
            "Device messages gateways report their site broker dropped (readings lost before the gateway).",
            ["gateway"],
            registry=reg,
        )
        self.overlapping_summaries = Counter(
            "tepi_ingest_overlapping_summaries",
            "Summaries whose window overlaps the one before it of their station and gateway (an older gateway "
            "switching cadence, or two devices at one station): the TSDB keeps one point per series and time.",
            ["gateway"],
            registry=reg,
        )
        self.tsdb_write_errors = Counter("tepi_ingest_tsdb_write_errors", "Failed TSDB writes.", registry=reg)
        self.store_errors = Counter("tepi_ingest_store_errors", "Failed state database transactions.", registry=reg)
        self.batch_seconds = Histogram(
            "tepi_ingest_batch_seconds",
            "Time to apply one batch of messages, commit included.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=reg,
        )

    def record(self, result: ApplyResult) -> None:
        """Count what one committed transaction did."""
        for item_type, n in result.stored_by_type.items():
            self.items_stored.labels(type=item_type).inc(n)
        if result.duplicates:
            self.duplicates.inc(result.duplicates)
        for reason, n in result.rejected.items():
            self.rejected.labels(reason=reason).inc(n)
        for transition, n in result.alerts.items():
            self.alerts.labels(transition=transition).inc(n)
        if result.stale_changes:
            self.stale_changes.inc(result.stale_changes)
        for station, n in result.dropped_at_edge.items():
            self.dropped_at_edge.labels(station=station).inc(n)
        for gateway, n in result.site_broker_drops.items():
            self.site_broker_drops.labels(gateway=gateway).inc(n)
