"""The notifier's test world: people of two tenants with email addresses and subscriptions, alerts
raised through the lifecycle itself, a clock tests move, and notifiers wired to a real SMTP
server and a real webhook receiver (`central.notify.testing`).

The lifecycle records events at its own clock read (`central.alerts.record_event`); `World.hold`
makes that the test's clock, so escalation, which counts from when an event was recorded, moves
with the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL
from central import alerts as lifecycle
from central.accounts import create_user
from central.db import Station, User, writer
from central.incidents import raise_subject_alert
from central.notify.channels import Resolver, WebhookChannel
from central.notify.notifier import Notifier
from central.notify.settings import NotifySettings
from central.notify.testing import SmtpInbox, WebhookReceiver
from central.reach_models import NotificationDelivery, Subscription
from contract.clock import utcnow
from core.config import TepiConfig
from core.config_model import EscalationConfig

DKI, BADUNG = "dki-jakarta", "kab-badung"


class Clock:
    """Starts at the wall clock; moves only when told."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def with_escalation(config: TepiConfig, tenant: str, chain: list[str], after_min: float = 15, alert_types: list[str] | None = None) -> TepiConfig:
    escalation = EscalationConfig(after_min=after_min, chain=chain, **({"alert_types": alert_types} if alert_types else {}))
    tenants = [t.model_copy(update={"escalation": escalation}) if t.id == tenant else t for t in config.tenants]
    return config.model_copy(update={"tenants": tenants})


def settings_for(inbox: SmtpInbox | None, **changes: Any) -> NotifySettings:
    values: dict[str, Any] = {
        "smtp_host": inbox.host if inbox else None,
        "smtp_port": inbox.port if inbox else 25,
        "smtp_from": "tepi@bpbd.example.go.id",
        "auth_pepper": TEST_PEPPER,
        "webhook_allow_http": True,  # the receiver is plain http on loopback
        "webhook_allow_private": True,
        "public_base_url": TEST_PUBLIC_BASE_URL,
        "smtp_timeout_s": 5,
        "webhook_timeout_s": 5,
    }
    return NotifySettings(**{**values, **changes})


@dataclass
class World:
    engine: Engine
    config: TepiConfig
    inbox: SmtpInbox
    hooks: WebhookReceiver
    clock: Clock = field(default_factory=Clock)
    users: dict[str, int] = field(default_factory=dict)

    def hold(self, monkeypatch: pytest.MonkeyPatch) -> World:
        """Record alert events at the test's clock."""
        monkeypatch.setattr(lifecycle, "utcnow", self.clock)
        return self

    def notifier(self, config: TepiConfig | None = None, resolver: Resolver | None = None, **settings: Any) -> Notifier:
        """A notifier of this world; `resolver` answers for DNS (the system's otherwise)."""
        values = settings_for(self.inbox, **settings)
        webhooks = WebhookChannel(values, resolver=resolver) if resolver is not None else None
        return Notifier(self.engine, config or self.config, values, registry=CollectorRegistry(), clock=self.clock, webhooks=webhooks)

    def person(self, tenant: str, name: str, role: str, email: str | None = None) -> int:
        with Session(writer(self.engine)) as s, s.begin():
            user = create_user(s, tenant, name, role)
            user.email = email
            s.flush()
            self.users[name] = user.id
            return user.id

    def subscribe(self, name: str, channel: str, target: str, alert_types: list[str] | None = None, subjects: list[str] | None = None) -> int:
        """A subscription as the API stores it (the API's own checks are tested apart)."""
        with Session(writer(self.engine)) as s, s.begin():
            user_id = self.users[name]
            tenant = s.get(User, user_id).tenant_id  # type: ignore[union-attr]
            sub = Subscription(tenant_id=tenant, user_id=user_id, channel=channel, target=target,
                               alert_types=alert_types or [], subjects=subjects or [], created_at=self.clock())
            s.add(sub)
            s.flush()
            return sub.id

    def siaga(self, station: str, level: int, level_cm: float = 200.0) -> int:
        with Session(writer(self.engine)) as s, s.begin():
            lifecycle.raise_siaga(s, s.get(Station, station), level, level_cm, self.clock(), who="gateway:gw-test")
            return lifecycle.open_alert(s, station).id  # type: ignore[union-attr]

    def sos(self, tenant: str, vessel: str) -> int:
        with Session(writer(self.engine)) as s, s.begin():
            alert, _ = raise_subject_alert(s, tenant=tenant, kind="fishfinder", subject=vessel, alert_type="sos",
                                           severity="critical", at=self.clock(), who="app", detail={"nature": "adrift"})
            s.flush()
            return alert.id

    def acknowledge(self, alert_id: int, by: str = "Petugas Pusdalops") -> None:
        with Session(writer(self.engine)) as s, s.begin():
            lifecycle.acknowledge(s, alert_id, by, self.clock())

    def deliveries(self) -> list[NotificationDelivery]:
        with Session(self.engine) as s:
            rows = s.scalars(sa.select(NotificationDelivery).order_by(NotificationDelivery.id)).all()
            s.expunge_all()
            return list(rows)


def metric(notifier: Notifier, name: str, **labels: str) -> float:
    counter = getattr(notifier.metrics, name)
    return float(counter.labels(**labels)._value.get())
