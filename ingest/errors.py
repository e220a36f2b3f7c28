"""Exceptions of the ingest package: one base, one subclass per thing a caller may handle.

Errors from libraries (SQLAlchemy, influxdb-client, paho) are re-raised as one of these with
`from`, so callers never import a driver to decide whether to retry. Errors of the central
state (alerts, schema, the state database) are `central.errors`'; `StoreError` is re-exported
here because ingest raises it for the state database it writes.
"""

from __future__ import annotations

from central.errors import StoreError

__all__ = ["BrokerError", "IngestError", "PointWriteError", "StoreError"]


class IngestError(Exception):
    """Base of every error the ingest package raises on purpose."""


class PointWriteError(IngestError):
    """The time-series sink refused or did not answer; nothing from the batch may be acknowledged."""


class BrokerError(IngestError):
    """The MQTT broker refused a connection or a subscription."""
