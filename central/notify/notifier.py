"""The notifier: one pass matches new alert events to subscriptions, owes the escalation steps
whose time has come, and sends what is due; `NotifierThread` runs passes in the ingest process.

Its own thread, not the ingest batch thread: an SMTP server taking its 10 s timeout must not
hold up the river's data. Every pass reads the clock it is given once (`clock`), so tests move
time instead of sleeping. Two notifiers (two ingest workers) may run at once: what is owed is
inserted once by its `dedupe_key`, and what is sent is claimed first (`store.claim_due`).

Before anything is sent the person is checked again, as the API would check them now: the user
not disabled and still of the alert's tenant, their role allowed to read the alert's type, the
subscription not deleted, the target still acceptable; an escalation's alert still active.
Otherwise the message is withheld (`failed`, counted as withheld, never sent).

One message never holds up the others: whatever sending it raises (a target no library can
use, a bug) is recorded as its failure, and the pass goes on to the next person. Only the
database failing ends a pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from prometheus_client import REGISTRY, CollectorRegistry, Counter
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from central.db import writer
from central.models import ALERT_ACTIVE
from central.notify import rules, store
from central.notify.channels import EmailChannel, Outcome, WebhookChannel
from central.notify.messages import AlertFacts, Occasion, email_subject, email_text, signing_secret, webhook_body
from central.notify.settings import NotifySettings
from central.notify.targets import TargetError, check_email, check_webhook_url
from central.reach_models import CHANNEL_EMAIL, CHANNEL_WEBHOOK, CHANNELS, NotificationDelivery
from contract.clock import utcnow
from core.config import TepiConfig
from core.logs import RateLimitedLog

log = logging.getLogger(__name__)

DEFAULT_ZONE = "Asia/Jakarta"
#: Why a message was withheld rather than sent (metric label values).
WITHHELD_REASONS = ("not_allowed", "answered", "target_refused", "gone")
#: Claims one pass makes at most: a storm's backlog is sent over several passes, between which new
#: events are matched and escalations owed.
MAX_CLAIMS_PER_PASS = 20


class NotifyMetrics:
    """Counters by channel and reason only: never a target, a user or a tenant in a label."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        reg = registry if registry is not None else REGISTRY
        self.owed = Counter("tepi_notify_owed", "Messages owed (rows of notification_deliveries made).", ["reason"], registry=reg)
        self.sent = Counter("tepi_notify_sent", "Messages sent.", ["channel"], registry=reg)
        self.retried = Counter("tepi_notify_retries", "Failed attempts that will be tried again.", ["channel"], registry=reg)
        self.failed = Counter("tepi_notify_failed", "Messages given up: refused for good, or unsent after a day.", ["channel"], registry=reg)
        self.withheld = Counter(
            "tepi_notify_withheld", "Messages not sent because their person may no longer hear them, the alert was "
            "acknowledged meanwhile or the target is no longer accepted.", ["reason"], registry=reg,
        )
        self.unreachable = Counter(
            "tepi_notify_escalation_unreachable", "Escalation steps whose person cannot be reached (by email, or at all).",
            ["reason"], registry=reg,
        )
        self.pass_errors = Counter("tepi_notify_pass_errors", "Notifier passes that failed (database errors).", registry=reg)
        for channel in CHANNELS:
            for counter in (self.sent, self.retried, self.failed):
                counter.labels(channel=channel)
        for reason in (rules.REASON_SUBSCRIPTION, rules.REASON_ESCALATION):
            self.owed.labels(reason=reason)
        for reason in WITHHELD_REASONS:
            self.withheld.labels(reason=reason)
        for reason in rules.UNREACHABLE_REASONS:
            self.unreachable.labels(reason=reason)


@dataclass
class PassReport:
    owed: int = 0
    sent: int = 0
    failed: int = 0


class Notifier:
    """Passes over the state store (`run_pass`); `email` and `webhooks` may be replaced in tests."""

    def __init__(
        self,
        engine: Engine,
        config: TepiConfig,
        settings: NotifySettings,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], datetime] = utcnow,
        email: EmailChannel | None = None,
        webhooks: WebhookChannel | None = None,
        batch: int = 200,
        sends_per_claim: int = 10,
        catch_up: timedelta = rules.GIVE_UP_AFTER,
    ) -> None:
        self._engine = engine
        self._config = config
        self._settings = settings
        self._clock = clock
        self.metrics = NotifyMetrics(registry)
        self._email = email or EmailChannel(settings)
        self._webhooks = webhooks or WebhookChannel(settings)
        self._batch = batch
        self._sends = sends_per_claim
        # Long enough for every claimed message to take its full timeouts (connect and each SMTP
        # command), so no other notifier takes a row while this one still sends it; rows not
        # reached within half of it are left to the next claim (see `send_due`).
        slowest = max(settings.smtp_timeout_s, settings.webhook_timeout_s)
        self._lease = max(timedelta(minutes=5), timedelta(seconds=sends_per_claim * 4 * slowest))
        self._catch_up = catch_up
        self._cursor: int | None = None
        #: Escalation steps whose shortfall was counted and logged already: (alert, step token).
        self._reported: set[tuple[int, str]] = set()
        self._zones = {t.id: t.timezone for t in config.tenants}
        self._escalating = {t.id: t.escalation for t in config.tenants if t.escalation is not None}
        self._errors = RateLimitedLog(log, interval_s=60.0)
        base = settings.public_base_url or f"http://{config.api.host if config.api.host not in ('', '0.0.0.0', '::') else 'localhost'}:{config.api.port}"
        self.console_url = f"{base.rstrip('/')}/#/alerts"

    @property
    def channels(self) -> tuple[str, ...]:
        """The channels this notifier can send on: email with an SMTP host, webhooks with the pepper."""
        return tuple(c for c, ok in ((CHANNEL_EMAIL, self._email.configured), (CHANNEL_WEBHOOK, self._settings.pepper() is not None)) if ok)

    def close(self) -> None:
        self._webhooks.close()

    def run_pass(self) -> PassReport:
        """Match, escalate, send: each step in transactions of its own. Never raises for the
        database: the pass is counted as failed and the next one tries again."""
        report = PassReport()
        now = self._clock()
        try:
            report.owed += self.match(now)
            report.owed += self.escalate(now)
            report.sent, report.failed = self.send_due(now)
        except SQLAlchemyError as exc:
            self.metrics.pass_errors.inc()
            self._errors.warning("pass", "notifier pass failed; the next one retries", error=type(exc).__name__)
        return report

    # -- owing ------------------------------------------------------------------------------------

    def match(self, now: datetime) -> int:
        """Owe subscribers the news of the events after the cursor; returns messages owed."""
        owed_total = 0
        while True:
            with Session(self._engine) as session:
                if self._cursor is None:
                    self._cursor = store.start_cursor(session, now, self._catch_up)
                changes = store.changes_after(session, self._cursor, self._batch)
                if not changes:
                    return owed_total
                subs = store.subscribers(session, {c.tenant for c in changes})
            owed = rules.owed_for_changes(changes, subs)
            owed_total += self._owe(owed, now)
            self._cursor = changes[-1].seq
            if len(changes) < self._batch:
                return owed_total

    def escalate(self, now: datetime) -> int:
        """Owe each due escalation step its person's messages; returns messages owed."""
        owed: list[rules.Owed] = []
        for tenant, escalation in self._escalating.items():
            after = timedelta(minutes=escalation.after_min)
            with Session(self._engine) as session:
                alerts = store.unanswered(session, tenant, escalation.alert_types)
                told = store.told_steps(session, [a.alert_id for a in alerts])
                people = store.chain_people(session, tenant, escalation.chain) if alerts else {}
            for alert in alerts:
                since, stretch = rules.unacknowledged_since(alert.history, alert.opened_at)
                for step in rules.due_steps(since, now, after, len(escalation.chain)):
                    token = rules.step_token(stretch, step)
                    if (alert.alert_id, token) in told:
                        continue
                    messages, shortfall = rules.escalation_owed(
                        tenant, alert.alert_id, alert.alert_type, stretch, step, people.get(escalation.chain[step])
                    )
                    owed.extend(messages)
                    if shortfall is not None:
                        self._report_shortfall(tenant, alert.alert_id, token, step, shortfall, people.get(escalation.chain[step]))
        return self._owe(owed, now)

    def _owe(self, owed: list[rules.Owed], now: datetime) -> int:
        if not owed:
            return 0
        with Session(writer(self._engine)) as session, session.begin():
            new = store.insert_owed(session, owed, now)
        self.metrics.owed.labels(reason=owed[0].reason).inc(new)  # one reason per call: match or escalate
        return new

    def _report_shortfall(self, tenant: str, alert_id: int, token: str, step: int, reason: str, person: rules.ChainPerson | None) -> None:
        """Count and log once per step and process: a chain naming nobody, or someone without email."""
        if (alert_id, token) in self._reported:
            return
        self._reported.add((alert_id, token))
        self.metrics.unreachable.labels(reason=reason).inc()
        log.warning(
            "escalation step cannot reach its person",
            extra={"tenant": tenant, "alert": alert_id, "step": step, "reason": reason, "user_id": person.user_id if person else None},
        )

    # -- sending ----------------------------------------------------------------------------------

    def send_due(self, now: datetime) -> tuple[int, int]:
        """Send what is due now, a claim of `sends_per_claim` rows at a time (at most
        `MAX_CLAIMS_PER_PASS` claims); returns (sent, failed for good)."""
        with Session(writer(self._engine)) as session, session.begin():
            stale = store.give_up_stale(session, now, rules.GIVE_UP_AFTER)
        for channel, n in stale.items():
            self.metrics.failed.labels(channel=channel).inc(n)
        sent, failed = 0, sum(stale.values())
        for _ in range(MAX_CLAIMS_PER_PASS):
            with Session(writer(self._engine)) as session, session.begin():
                claimed = store.claim_due(session, now, self.channels, self._sends, self._lease)
            claimed_at = time.monotonic()
            for delivery in claimed:
                if time.monotonic() - claimed_at > self._lease.total_seconds() / 2:
                    return sent, failed  # slow targets: the rest wait for their lease to end, then go
                outcome = self._attempt_alone(delivery, now)
                if outcome.sent:
                    sent += 1
                else:
                    failed += int(self._record_failure(delivery, outcome, now))
            if len(claimed) < self._sends:
                break
        return sent, failed

    def _attempt_alone(self, d: NotificationDelivery, now: datetime) -> Outcome:
        """`_attempt`, with anything it raises but a database error made the message's failure:
        permanent for a target or text no library accepts (`ValueError`s such as IDNAError,
        httpx's InvalidURL), retried otherwise. Logged by type only: the text may hold the target."""
        try:
            return self._attempt(d, now)
        except SQLAlchemyError:
            raise
        except Exception as exc:  # noqa: BLE001 - one message must not stop everyone else's
            log.error(
                "notification attempt failed unexpectedly",
                extra={"delivery": d.id, "channel": d.channel, "alert": d.alert_id, "error": type(exc).__name__},
            )
            return Outcome(False, permanent=isinstance(exc, (ValueError, httpx.InvalidURL)), error=f"{d.channel} {type(exc).__name__}")

    def _attempt(self, d: NotificationDelivery, now: datetime) -> Outcome:
        with Session(self._engine) as session:
            context = store.delivery_context(session, d)
            since = None
            if context is not None and d.reason == rules.REASON_ESCALATION:
                history = store.histories(session, [d.alert_id]).get(d.alert_id, ())
                since, _stretch = rules.unacknowledged_since(history, context.alert["opened_at"])
        withheld = self._withheld(d, context)
        if withheld is not None:
            self.metrics.withheld.labels(reason=withheld).inc()
            # An escalation held back for its person or target leaves an alert nobody was told of.
            unheard = d.reason == rules.REASON_ESCALATION and withheld in ("not_allowed", "target_refused")
            level = logging.WARNING if unheard else logging.INFO
            log.log(level, "notification withheld", extra={
                "delivery": d.id, "channel": d.channel, "alert": d.alert_id, "reason": withheld, "kind": d.reason, "user_id": d.user_id,
            })
            return Outcome(False, permanent=True, error=f"withheld: {withheld}")
        assert context is not None
        facts = self._facts(d, context, since)
        occasion = Occasion(d.id, d.reason, context.event_kind, d.step, self._after_min(d.tenant_id))
        if d.channel == CHANNEL_EMAIL:
            outcome = self._email.send(d.target, email_subject(facts, occasion), email_text(facts, occasion, self.console_url), d.id, now)
        else:
            body = webhook_body(facts, occasion, self.console_url)
            secret = signing_secret(self._settings.pepper() or b"", d.subscription_id or 0)
            headers = WebhookChannel.headers(body, secret, d.id, context.event_kind or d.reason, self._clock())
            outcome = self._webhooks.send(d.target, body, headers)
        if outcome.sent:
            with Session(writer(self._engine)) as session, session.begin():
                store.record_sent(session, d.id, self._clock())
            self.metrics.sent.labels(channel=d.channel).inc()
            log.info("notification sent", extra={"delivery": d.id, "channel": d.channel, "reason": d.reason, "alert": d.alert_id, "tenant": d.tenant_id})
        return outcome

    def _withheld(self, d: NotificationDelivery, context: store.DeliveryContext | None) -> str | None:
        """Why this message must not go out now, or None."""
        if context is None:
            return "gone"
        alert = context.alert
        allowed = (
            not context.user_disabled
            and context.user_tenant == d.tenant_id == alert["tenant_id"]
            and context.user_role is not None
            and rules.may_read(context.user_role, alert["type"])
            and context.subscription_active
        )
        if not allowed:
            return "not_allowed"
        if d.reason == rules.REASON_ESCALATION and alert["status"] != ALERT_ACTIVE:
            return "answered"
        try:
            if d.channel == CHANNEL_EMAIL:
                check_email(d.target)
            else:
                check_webhook_url(d.target, allow_http=self._settings.webhook_allow_http, allow_private=self._settings.webhook_allow_private)
        except TargetError:
            return "target_refused"
        return None

    def _record_failure(self, d: NotificationDelivery, outcome: Outcome, now: datetime) -> bool:
        """Store a failed attempt; True when it was the last."""
        retry = None if outcome.permanent else rules.retry_at(d.created_at, d.attempts, now)
        with Session(writer(self._engine)) as session, session.begin():
            store.record_failure(session, d.id, outcome.error or "failed", retry)
        if outcome.error and outcome.error.startswith("withheld"):
            return False
        (self.metrics.retried if retry is not None else self.metrics.failed).labels(channel=d.channel).inc()
        self._errors.warning(
            f"send-{d.channel}", "notification not sent", delivery=d.id, channel=d.channel, error=outcome.error,
            attempts=d.attempts, retry_at=retry.isoformat() if retry else None,
        )
        return retry is None

    def _facts(self, d: NotificationDelivery, context: store.DeliveryContext, since: datetime | None) -> AlertFacts:
        a = context.alert
        station = a.get("station_id")
        return AlertFacts(
            alert_id=d.alert_id,
            tenant=d.tenant_id,
            tenant_name=context.tenant_name,
            zone=self._zones.get(d.tenant_id, DEFAULT_ZONE),
            alert_type=a["type"],
            subject=str(a.get("subject") or station or ""),
            station=station,
            place=context.place,
            severity=a["severity"],
            siaga=a.get("siaga") if station is not None else None,
            status=a["status"],
            opened_at=a["opened_at"],
            at=since or context.event_at or a["opened_at"],
            level_cm=a.get("last_level_cm"),
        )

    def _after_min(self, tenant: str) -> float | None:
        escalation = self._escalating.get(tenant)
        return escalation.after_min if escalation is not None else None


class NotifierThread:
    """Runs `Notifier` passes every `every_s` until stopped (in the ingest process)."""

    def __init__(self, notifier: Notifier, every_s: float) -> None:
        self.notifier = notifier
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="notifier", daemon=True)

    def start(self) -> None:
        channels = self.notifier.channels
        log.info(
            "notifier started",
            extra={"every_s": self._every_s, "channels": list(channels),
                   "off": [f"{c} ({why})" for c, why in ((CHANNEL_EMAIL, "TEPI_SMTP_HOST unset"), (CHANNEL_WEBHOOK, "TEPI_AUTH_PEPPER unset")) if c not in channels]},
        )
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self.notifier.close()

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self.notifier.run_pass()
            except Exception:  # a bug must not end notifications for good; the next pass tries again
                log.exception("unexpected error in a notifier pass")
