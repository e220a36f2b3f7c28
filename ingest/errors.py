"""Exceptions of the ingest package: one base, one subclass per thing a caller may handle.

Errors from libraries (SQLAlchemy, influxdb-client, paho) are re-raised as one of these with
`from`, so callers never import a driver to decide whether to retry.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of every error the ingest package raises on purpose."""


class StoreError(IngestError):
    """The state database could not be read or written; retrying later may succeed."""


class PointWriteError(IngestError):
    """The time-series sink refused or did not answer; nothing from the batch may be acknowledged."""


class BrokerError(IngestError):
    """The MQTT broker refused a connection or a subscription."""


class AlertError(IngestError):
    """Base of alert lifecycle errors that an operator action can cause."""


class AlertNotFound(AlertError):
    """No alert has this id."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} does not exist")
        self.alert_id = alert_id


class AlertAlreadyCleared(AlertError):
    """The alert is cleared; acknowledging it would record an action on something already over."""

    def __init__(self, alert_id: int) -> None:
        super().__init__(f"alert {alert_id} is already cleared")
        self.alert_id = alert_id


class AlertAlreadyClosed(AlertAlreadyCleared):
    """The alert is closed: its episode is over and filed; nothing more can be recorded on it."""

    def __init__(self, alert_id: int) -> None:
        AlertError.__init__(self, f"alert {alert_id} is already closed")
        self.alert_id = alert_id


class AlertNotCleared(AlertError):
    """Closing needs a cleared alert: an episode still in progress cannot be filed away."""

    def __init__(self, alert_id: int, status: str) -> None:
        super().__init__(f"alert {alert_id} is {status}; only a cleared alert can be closed")
        self.alert_id = alert_id
        self.status = status


class SchemaError(IngestError):
    """The state database's schema is not one this version of Tepi can use as it stands."""


class SchemaBehind(SchemaError):
    """The schema is older than this version's (or absent): `tepi admin db upgrade` fixes it."""


class SchemaUnrecognised(SchemaError):
    """The schema is not one any revision produced (a newer Tepi's, or hand-made): no automatic upgrade."""
