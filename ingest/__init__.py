"""Ingest: uplink batches from gateways, over MQTT, into the state store and time series.

`service.apply_batch` is the domain logic (idempotent, tenant-checked); `consumer.IngestWorker`
feeds it from the broker and acknowledges a message only after what it carried is stored.

Alerts: `alerts` is the lifecycle (active, acknowledged, cleared, closed) and writes the
append-only event log; `forecast` (pure) and `forecast_alerts` predict water downstream;
`offline` (pure decision plus a periodic check) notices silent stations.
"""
