"""Exceptions of the central state: one base, one subclass per thing a caller may handle.

Ingest (writing the river's state), the API (operators acting on alerts) and `tepi admin`
(upgrading the schema) all change the same state database, so its errors live here, below all
three, and none of them imports another to decide what went wrong.
"""

from __future__ import annotations


class CentralError(Exception):
    """Base of every error the central state raises on purpose."""


class StoreError(CentralError):
    """The state database could not be read or written; retrying later may succeed."""


class AlertError(CentralError):
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


class SchemaError(CentralError):
    """The state database's schema is not one this version of Tepi can use as it stands."""


class SchemaBehind(SchemaError):
    """The schema is older than this version's (or absent): `tepi admin db upgrade` fixes it."""


class SchemaUnrecognised(SchemaError):
    """The schema is not one any revision produced (a newer Tepi's, or hand-made): no automatic upgrade."""


class AccountError(CentralError):
    """Base of errors of tenants, users and API keys (`central.accounts`)."""


class TenantNotFound(AccountError):
    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id!r} does not exist")


class TenantExists(AccountError):
    def __init__(self, tenant_id: str) -> None:
        super().__init__(f"tenant {tenant_id!r} exists already")


class UserNotFound(AccountError):
    def __init__(self, user: int | str) -> None:
        super().__init__(f"user {user!r} does not exist")


class UserExists(AccountError):
    def __init__(self, name: str) -> None:
        super().__init__("a user of that name exists already in this tenant")
        self.name = name


class KeyNotFound(AccountError):
    def __init__(self, key_id: str) -> None:
        super().__init__(f"API key {key_id!r} does not exist")


class InvalidInput(AccountError):
    """A value the account rules refuse (bad identifier, unknown role, invisible characters in a name)."""
