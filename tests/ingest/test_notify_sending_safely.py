"""One bad target never holds up anyone else's message, and a webhook goes only where it may:
a host no library can reach, a send that raises, a name resolving to a private or metadata
address; and the address checked is the address connected to.

On SQLite and PostgreSQL (`database_url`); DNS is the test's (`resolver`), never the network's.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator, Sequence

import pytest
from notify_world import DKI, World, metric
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import Station, writer
from central.notify.channels import WebhookChannel
from central.notify.targets import IPAddress
from central.notify.testing import SmtpInbox, WebhookReceiver
from core.config import TepiConfig

OFFICER, MAIL = "Petugas Pusdalops", "petugas@bpbd.jakarta.go.id"


@pytest.fixture
def world(engine: Engine, default_config: TepiConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    with SmtpInbox() as inbox, WebhookReceiver() as hooks:
        w = World(engine, default_config, inbox, hooks).hold(monkeypatch)
        w.person(DKI, OFFICER, "disaster_office", MAIL)
        yield w


def dns(*answers: str) -> tuple[list[str], object]:
    """A resolver answering `answers` for any name, and the names it was asked."""
    asked: list[str] = []

    def resolve(host: str, _port: int) -> Sequence[IPAddress]:
        asked.append(host)
        return [ipaddress.ip_address(a) for a in answers]

    return asked, resolve


@pytest.mark.parametrize("poison", ["https://xn--zz.com/h", "https://☃.net/", "https://a..b/h"])
def test_a_webhook_no_client_can_reach_does_not_stop_the_email_after_it(world: World, poison: str) -> None:
    """Stored before the API checked hosts (or by hand): the pass refuses it and goes on."""
    world.subscribe(OFFICER, "webhook", poison)  # claimed first
    world.subscribe(OFFICER, "email", MAIL)
    world.siaga("katulampa", 2)

    report = world.notifier().run_pass()

    assert [m.rcpt_tos for m in world.inbox.messages] == [[MAIL]]
    assert report.sent == 1
    webhook, email = world.deliveries()
    assert (webhook.status, webhook.last_error) == ("failed", "withheld: target_refused")
    assert email.status == "sent"


def test_a_send_that_raises_is_that_messages_failure_only(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Whatever a channel raises is recorded against its message (retried unless the target is
    invalid) and logged without the target; the others are sent in the same pass."""
    world.subscribe(OFFICER, "webhook", "https://sms.example.go.id/tepi")
    world.subscribe(OFFICER, "email", MAIL)
    world.siaga("katulampa", 2)
    notifier = world.notifier()

    def explode(url: str, body: bytes, headers: dict[str, str]) -> None:
        raise RuntimeError(f"cannot reach {url}")

    monkeypatch.setattr(notifier._webhooks, "send", explode)
    with caplog.at_level(logging.INFO):
        notifier.run_pass()

    assert [m.rcpt_tos for m in world.inbox.messages] == [[MAIL]]
    webhook, email = world.deliveries()
    assert (webhook.status, webhook.last_error, email.status) == ("pending", "webhook RuntimeError", "sent")
    assert metric(notifier, "retried", channel="webhook") == 1
    assert "sms.example.go.id" not in caplog.text + "".join(str(r.__dict__) for r in caplog.records)

    def invalid(url: str, body: bytes, headers: dict[str, str]) -> None:
        raise UnicodeError("label empty or too long")

    monkeypatch.setattr(notifier._webhooks, "send", invalid)
    world.clock.advance(minutes=1)
    notifier.run_pass()
    assert (world.deliveries()[0].status, world.deliveries()[0].last_error) == ("failed", "webhook UnicodeError")


def test_a_line_break_in_a_place_name_still_sends_the_email(world: World) -> None:
    with Session(writer(world.engine)) as s, s.begin():
        s.get(Station, "katulampa").name = "Bendung\r\nKatulampa"  # type: ignore[union-attr]
    world.subscribe(OFFICER, "email", MAIL)
    world.siaga("katulampa", 2)
    world.notifier().run_pass()
    [mail] = world.inbox.messages
    assert mail.subject == "[Tepi] SIAGA II — Bendung Katulampa"


@pytest.mark.parametrize(
    "answers",
    [["10.0.0.5"], ["127.0.0.1"], ["169.254.169.254"], ["::ffff:169.254.169.254"], ["8.8.8.8", "192.168.1.9"]],
)
def test_a_name_resolving_to_a_private_address_is_refused_when_sending(world: World, answers: list[str]) -> None:
    """`https://anything.nip.io/` passes the subscription's checks; where it resolves is checked
    right before sending, every address of it, and the message fails for good."""
    world.subscribe(OFFICER, "webhook", "https://sms.example.go.id/tepi")
    world.siaga("katulampa", 2)
    asked, resolve = dns(*answers)
    notifier = world.notifier(resolver=resolve, webhook_allow_private=False)  # type: ignore[arg-type]

    notifier.run_pass()

    assert asked == ["sms.example.go.id"]
    [row] = world.deliveries()
    assert (row.status, row.last_error) == ("failed", "webhook address refused (not public)")
    assert metric(notifier, "failed", channel="webhook") == 1


def test_the_webhook_connects_to_the_address_that_was_checked() -> None:
    """The name is resolved once, by the check; the request goes to that address (the receiver
    listens on 127.0.0.2 only, where the system's `localhost` is 127.0.0.1) and still names its
    host in `Host`."""
    from central.notify.settings import NotifySettings

    with WebhookReceiver(host="127.0.0.2") as hooks:
        asked, resolve = dns("127.0.0.2")
        channel = WebhookChannel(NotifySettings(webhook_allow_private=True, webhook_allow_http=True), resolver=resolve)  # type: ignore[arg-type]
        try:
            outcome = channel.send(f"http://localhost:{hooks.port}/hook", b"{}", {"Content-Type": "application/json"})
        finally:
            channel.close()
    assert outcome.sent, outcome
    assert asked == ["localhost"]
    [hook] = hooks.received
    assert hook.headers["host"] == f"localhost:{hooks.port}"


def test_an_unreachable_first_address_falls_back_to_the_next() -> None:
    """A name with an address that refuses connections (an IPv6 one on a host without IPv6,
    say) is tried at its next address, as a browser would."""
    from central.notify.settings import NotifySettings

    with WebhookReceiver(host="127.0.0.2") as hooks:
        _asked, resolve = dns("127.0.0.3", "127.0.0.2")  # nothing listens on 127.0.0.3
        channel = WebhookChannel(NotifySettings(webhook_allow_private=True, webhook_allow_http=True), resolver=resolve)  # type: ignore[arg-type]
        try:
            outcome = channel.send(f"http://localhost:{hooks.port}/hook", b"{}", {})
        finally:
            channel.close()
    assert outcome.sent, outcome
    assert len(hooks.received) == 1
