"""Subscriptions reach people: a real SMTP server receives the email, a real HTTP server the
signed webhook; failures are retried with backoff and given up after a day; nobody hears of an
alert they could not read in the API; nothing is sent twice, by one notifier or two.

On SQLite and PostgreSQL (`database_url`); the clock is the test's (`notify_world.Clock`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from notify_world import BADUNG, DKI, World, metric
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER
from central.db import User, writer
from central.notify.messages import signing_secret
from central.notify.testing import SmtpInbox, WebhookReceiver
from core.config import TepiConfig

OFFICER, VIEWER, BADUNG_OFFICER = "Petugas Pusdalops", "Pemantau DKI", "Petugas BPBD Badung"


@pytest.fixture
def world(engine: Engine, default_config: TepiConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with SmtpInbox() as inbox, WebhookReceiver() as hooks:
        w = World(engine, default_config, inbox, hooks).hold(monkeypatch)
        w.person(DKI, OFFICER, "disaster_office", "petugas@bpbd.jakarta.go.id")
        w.person(DKI, VIEWER, "viewer", "pemantau@jakarta.go.id")
        w.person(BADUNG, BADUNG_OFFICER, "disaster_office", "petugas@bpbd.badungkab.go.id")
        yield w


def test_a_subscriber_gets_the_email_once(world: World) -> None:
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id", alert_types=["siaga"])
    alert = world.siaga("katulampa", 2)
    notifier = world.notifier()

    report = notifier.run_pass()

    assert (report.owed, report.sent) == (1, 1)
    [mail] = world.inbox.messages
    assert mail.rcpt_tos == ["petugas@bpbd.jakarta.go.id"]
    assert mail.mail_from == "tepi@bpbd.example.go.id"
    assert mail.subject == "[Tepi] SIAGA II — Bendung Katulampa"
    text = mail.text
    assert text.index("Peringatan baru") < text.index("New alert")  # Indonesian first
    assert "WIB" in text and "Tinggi muka air: 200 cm" in text
    assert "https://banjir.example.go.id/#/alerts" in text
    assert mail.message["Auto-Submitted"] == "auto-generated"
    [row] = world.deliveries()
    assert (row.status, row.alert_id, row.dedupe_key, row.attempts) == ("sent", alert, f"sub:{row.subscription_id}:{row.event_seq}", 1)
    assert metric(notifier, "sent", channel="email") == 1

    world.clock.advance(minutes=5)
    assert notifier.run_pass().sent == 0  # a second pass sends nothing again
    assert len(world.inbox.messages) == 1


def test_only_changes_worth_telling_are_sent(world: World) -> None:
    """Opened, escalated (a worse Siaga), cleared: three emails; an acknowledgement is no news."""
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id")
    notifier = world.notifier(smtp_host=None)  # owe, do not send: the rows tell what was owed
    alert = world.siaga("depok", 3)
    world.acknowledge(alert)
    world.siaga("depok", 1)
    notifier.run_pass()
    kinds = [_event_kind(world.engine, d.event_seq) for d in world.deliveries()]
    assert kinds == ["opened", "escalated"]


def test_filters_roles_and_tenants(world: World) -> None:
    """Type and subject filters hold; a viewer never hears of an SOS, even subscribed to it (a
    row the API would refuse); another tenant's alert reaches nobody here."""
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id", alert_types=["siaga"], subjects=["depok"])
    world.subscribe(VIEWER, "email", "pemantau@jakarta.go.id")  # every type the viewer may read
    world.subscribe(VIEWER, "email", "pemantau+sos@jakarta.go.id", alert_types=["sos"])
    world.subscribe(BADUNG_OFFICER, "email", "petugas@bpbd.badungkab.go.id")
    world.siaga("katulampa", 2)
    world.siaga("depok", 3)
    world.sos(DKI, "km-harapan")
    world.siaga("tukad-mati-kuta", 3)

    world.notifier().run_pass()

    got = sorted((m.rcpt_tos[0], m.subject) for m in world.inbox.messages)
    assert got == [
        ("pemantau@jakarta.go.id", "[Tepi] SIAGA II — Bendung Katulampa"),
        ("pemantau@jakarta.go.id", "[Tepi] SIAGA III — Pos Depok (Panus)"),
        ("petugas@bpbd.badungkab.go.id", "[Tepi] SIAGA III — Pos Tukad Mati Kuta"),
        ("petugas@bpbd.jakarta.go.id", "[Tepi] SIAGA III — Pos Depok (Panus)"),
    ]
    # Nothing else was even owed (the check before sending is a second line, not the first).
    assert [d.status for d in world.deliveries()] == ["sent"] * 4


def test_the_role_is_checked_again_before_sending(world: World) -> None:
    """Owed while the user was an officer; by the time it is sent they are a fisher: withheld."""
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id")
    world.siaga("katulampa", 2)
    notifier = world.notifier()
    assert notifier.match(world.clock()) == 1
    with Session(writer(world.engine)) as s, s.begin():
        s.get(User, world.users[OFFICER]).role = "fisher"  # type: ignore[union-attr]

    notifier.send_due(world.clock())

    assert world.inbox.messages == []
    [row] = world.deliveries()
    assert (row.status, row.last_error) == ("failed", "withheld: not_allowed")
    assert metric(notifier, "withheld", reason="not_allowed") == 1


def test_a_failed_email_is_retried_with_backoff(world: World) -> None:
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id")
    world.siaga("katulampa", 2)
    notifier = world.notifier()
    world.inbox.refuse(1)

    notifier.run_pass()
    [row] = world.deliveries()
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "SMTP 451")
    assert row.next_attempt_at == world.clock() + timedelta(seconds=30)

    world.clock.advance(seconds=20)
    assert notifier.run_pass().sent == 0  # not due yet
    world.clock.advance(seconds=11)
    assert notifier.run_pass().sent == 1

    assert [m.rcpt_tos for m in world.inbox.messages] == [["petugas@bpbd.jakarta.go.id"]]
    [row] = world.deliveries()
    assert (row.status, row.attempts) == ("sent", 2)
    assert (metric(notifier, "retried", channel="email"), metric(notifier, "sent", channel="email")) == (1, 1)


def test_an_unreachable_target_is_given_up_after_a_day(world: World) -> None:
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id")
    world.siaga("katulampa", 2)
    notifier = world.notifier()
    world.inbox.refuse(10_000)
    notifier.run_pass()
    for _ in range(6):  # 30 s, 1, 2, 4, 8, 16 min later
        world.clock.advance(hours=1)
        notifier.run_pass()
    assert world.deliveries()[0].status == "pending"
    world.clock.advance(hours=18)
    notifier.run_pass()
    [row] = world.deliveries()
    assert row.status == "failed" and row.attempts == 7
    assert metric(notifier, "failed", channel="email") == 1
    assert world.inbox.messages == []


def test_a_webhook_is_signed_and_retried(world: World) -> None:
    sub = world.subscribe(OFFICER, "webhook", world.hooks.url, alert_types=["siaga"])
    alert = world.siaga("katulampa", 1)
    notifier = world.notifier()
    world.hooks.answer_next(500)

    notifier.run_pass()
    world.clock.advance(seconds=31)
    notifier.run_pass()

    first, second = world.hooks.received
    assert first.headers["x-tepi-delivery"] == second.headers["x-tepi-delivery"]  # the receiver can tell a retry
    secret = signing_secret(TEST_PEPPER.encode(), sub)
    for hook in (first, second):
        signed = f"{hook.headers['x-tepi-timestamp']}.".encode() + hook.body
        expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(hook.headers["x-tepi-signature"], expected)
    document = json.loads(second.body)
    assert document["alert"]["id"] == alert and document["alert"]["siaga_label"] == "SIAGA I"
    assert document["event"] == "opened" and document["text"]["id"].startswith("[Tepi] Peringatan baru: SIAGA I — Bendung Katulampa")
    assert world.deliveries()[0].status == "sent"
    assert metric(notifier, "retried", channel="webhook") == 1


def test_a_refused_webhook_is_not_retried(world: World) -> None:
    world.subscribe(OFFICER, "webhook", world.hooks.url)
    world.siaga("katulampa", 2)
    world.hooks.answer_next(410)
    notifier = world.notifier()
    notifier.run_pass()
    world.clock.advance(hours=2)
    notifier.run_pass()
    assert len(world.hooks.received) == 1
    assert (world.deliveries()[0].status, world.deliveries()[0].last_error) == ("failed", "webhook HTTP 410")


def test_http_webhooks_wait_for_the_deployment_to_allow_them(world: World) -> None:
    """Made while plain http was allowed; the deployment has since turned it off: withheld."""
    world.subscribe(OFFICER, "webhook", world.hooks.url)
    world.siaga("katulampa", 2)
    world.notifier(webhook_allow_http=False).run_pass()
    assert world.hooks.received == []
    assert world.deliveries()[0].last_error == "withheld: target_refused"


def test_two_notifiers_send_once(world: World) -> None:
    """Two ingest workers' notifiers passing at the same moment, then again: one email."""
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id")
    world.subscribe(OFFICER, "webhook", world.hooks.url)
    world.siaga("katulampa", 2)
    notifiers = [world.notifier(), world.notifier()]
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            start.wait()
            notifiers[n].run_pass()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in notifiers:
        n.run_pass()

    assert errors == []
    assert len(world.inbox.messages) == 1 and len(world.hooks.received) == 1
    assert [d.status for d in world.deliveries()] == ["sent", "sent"]


def test_a_restarted_notifier_resumes_without_repeating(world: World) -> None:
    world.subscribe(OFFICER, "email", "petugas@bpbd.jakarta.go.id")
    world.siaga("katulampa", 3)
    world.notifier().run_pass()
    world.siaga("katulampa", 2)  # escalated while the notifier was down
    world.clock.advance(minutes=2)
    world.notifier().run_pass()  # a new one: its cursor comes from the rows
    assert [m.subject for m in world.inbox.messages] == ["[Tepi] SIAGA III — Bendung Katulampa", "[Tepi] SIAGA II — Bendung Katulampa"]


def _event_kind(engine: Engine, seq: int | None) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(sa.text("SELECT kind FROM alert_events WHERE seq = :s"), {"s": seq}))
