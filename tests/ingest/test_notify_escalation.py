"""Escalation: an alert left unacknowledged reaches the first person of the tenant's chain after
`after_min`, the next after as many more; acknowledging stops it; a chain naming nobody, or
someone without an email address, is counted and logged, never a crash.

On SQLite and PostgreSQL; the clock is the test's, started at the wall clock (events are
recorded at it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from notify_world import BADUNG, DKI, World, metric, with_escalation
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import User, writer
from central.notify.testing import SmtpInbox, WebhookReceiver
from core.config import TepiConfig

HEAD, DEPUTY, OFFICER = "Kepala Pusdalops", "Wakil Kepala Pusdalops", "Petugas Pusdalops"
HEAD_MAIL, DEPUTY_MAIL = "kepala@bpbd.jakarta.go.id", "wakil@bpbd.jakarta.go.id"


@pytest.fixture
def world(engine: Engine, default_config: TepiConfig, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    config = with_escalation(default_config, DKI, [HEAD, DEPUTY], after_min=15, alert_types=["siaga", "sos"])
    with SmtpInbox() as inbox, WebhookReceiver() as hooks:
        w = World(engine, config, inbox, hooks).hold(monkeypatch)
        w.person(DKI, HEAD, "disaster_office", HEAD_MAIL)
        w.person(DKI, DEPUTY, "admin", DEPUTY_MAIL)
        w.person(DKI, OFFICER, "disaster_office", "petugas@bpbd.jakarta.go.id")
        yield w


def _recipients(world: World) -> list[str]:
    return [m.rcpt_tos[0] for m in world.inbox.messages]


def test_the_chain_is_followed_until_someone_acknowledges(world: World) -> None:
    # The deputy also has a webhook (for marine alerts only: an escalation reaches it anyway).
    world.subscribe(DEPUTY, "webhook", world.hooks.url, alert_types=["marine"])
    katulampa = world.siaga("katulampa", 2)
    notifier = world.notifier()

    world.clock.advance(minutes=14, seconds=59)
    notifier.run_pass()
    assert world.inbox.messages == []

    world.clock.advance(seconds=2)  # 15 minutes unacknowledged
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL]
    first = world.inbox.messages[0]
    assert first.subject == "[Tepi] Belum ditanggapi: SIAGA II — Bendung Katulampa"
    assert "orang ke-1 dalam rantai eskalasi" in first.text and "person 1 of" in first.text

    world.clock.advance(minutes=5)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL]  # each step once

    world.clock.advance(minutes=10)  # 30 minutes: the deputy, by email and by their webhook
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL, DEPUTY_MAIL]
    [hook] = world.hooks.received
    document = json.loads(hook.body)
    assert (document["reason"], document["escalation_step"], document["alert"]["id"]) == ("escalation", 1, katulampa)
    assert hook.headers["x-tepi-event"] == "escalation"

    world.clock.advance(hours=3)  # the chain has two people: nobody else to tell
    notifier.run_pass()
    assert len(world.inbox.messages) == 2
    keys = sorted(d.dedupe_key for d in world.deliveries())
    assert keys == sorted([
        f"esc:{katulampa}:0:{world.users[HEAD]}:email",
        f"esc:{katulampa}:1:{world.users[DEPUTY]}:email",
        f"esc:{katulampa}:1:{world.users[DEPUTY]}:webhook:{world.deliveries()[-1].subscription_id}",
    ])


def test_acknowledging_stops_the_chain(world: World) -> None:
    depok = world.siaga("depok", 3)
    notifier = world.notifier()
    world.clock.advance(minutes=16)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL]

    world.acknowledge(depok)
    world.clock.advance(minutes=60)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL]
    assert len(world.deliveries()) == 1  # no later step even owed


def test_a_step_owed_before_the_acknowledgement_is_withheld(world: World) -> None:
    """The head's email could not be sent (SMTP refusing); meanwhile the officer acknowledged:
    the retry does not tell the head an answered alert is unanswered."""
    alert = world.siaga("katulampa", 2)
    notifier = world.notifier()
    world.inbox.refuse(1)
    world.clock.advance(minutes=16)
    notifier.run_pass()
    world.acknowledge(alert)
    world.clock.advance(minutes=1)
    notifier.run_pass()
    assert world.inbox.messages == []
    assert world.deliveries()[0].last_error == "withheld: answered"


def test_types_and_tenants_that_do_not_escalate(world: World) -> None:
    """Rate of rise is not in this chain's types; Badung has no chain."""
    world.siaga("tukad-mati-kuta", 2)
    with Session(writer(world.engine)) as s, s.begin():
        from central import alerts as lifecycle
        from central.db import Station

        lifecycle.raise_rate_of_rise(s, s.get(Station, "depok"), 4, 150.0, 80.0, world.clock())
    world.clock.advance(hours=2)
    world.notifier().run_pass()
    assert world.inbox.messages == []
    assert BADUNG not in {t.id for t in world.config.tenants if t.escalation}


def test_unknown_names_and_missing_emails_are_counted_not_fatal(world: World, caplog: pytest.LogCaptureFixture) -> None:
    config = with_escalation(world.config, DKI, ["Nama Yang Tidak Ada", OFFICER, HEAD], after_min=10)
    with Session(writer(world.engine)) as s, s.begin():
        s.get(User, world.users[OFFICER]).email = None  # type: ignore[union-attr]
    world.siaga("katulampa", 2)
    notifier = world.notifier(config)
    caplog.set_level(logging.WARNING, logger="central.notify.notifier")

    for _ in range(4):  # 10, 20, 30, 40 minutes
        world.clock.advance(minutes=10)
        notifier.run_pass()

    assert _recipients(world) == [HEAD_MAIL]  # the third person is still reached, on time
    assert metric(notifier, "unreachable", reason="unknown_user") == 1
    assert metric(notifier, "unreachable", reason="no_email") == 1
    warnings = [r for r in caplog.records if r.getMessage() == "escalation step cannot reach its person"]
    assert [(r.step, r.reason) for r in warnings] == [(0, "unknown_user"), (1, "no_email")]  # type: ignore[attr-defined]
    assert warnings[1].user_id == world.users[OFFICER]  # type: ignore[attr-defined]
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "Nama Yang Tidak Ada" not in logged and OFFICER not in logged and "@" not in logged


def test_an_address_no_mail_can_go_to_is_counted_and_the_chain_goes_on(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Stored before `tepi admin user email` checked addresses as sending does: the step is
    reported like a missing address (WARNING, the user id only), and the next person is told."""
    config = with_escalation(world.config, DKI, [OFFICER, HEAD], after_min=10)
    with Session(writer(world.engine)) as s, s.begin():
        s.get(User, world.users[OFFICER]).email = "petugas@bpbd_jakarta.go.id"  # type: ignore[union-attr]
    world.siaga("katulampa", 2)
    notifier = world.notifier(config)
    caplog.set_level(logging.WARNING, logger="central.notify.notifier")

    for _ in range(2):
        world.clock.advance(minutes=10)
        notifier.run_pass()

    assert _recipients(world) == [HEAD_MAIL]
    assert metric(notifier, "unreachable", reason="invalid_email") == 1
    [warning] = [r for r in caplog.records if r.getMessage() == "escalation step cannot reach its person"]
    assert (warning.reason, warning.user_id) == ("invalid_email", world.users[OFFICER])  # type: ignore[attr-defined]
    assert "bpbd_jakarta" not in " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)


def test_an_escalation_held_back_at_sending_is_a_warning(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Owed, then the person's role changed to one that may not read alerts: withheld, and said
    so above INFO, since this step told nobody of the alert."""
    world.siaga("katulampa", 2)
    notifier = world.notifier()
    world.clock.advance(minutes=16)
    assert notifier.escalate(world.clock()) == 1
    with Session(writer(world.engine)) as s, s.begin():
        s.get(User, world.users[HEAD]).role = "fisher"  # type: ignore[union-attr]
    caplog.set_level(logging.INFO, logger="central.notify.notifier")

    notifier.send_due(world.clock())

    assert world.inbox.messages == []
    [held] = [r for r in caplog.records if r.getMessage() == "notification withheld"]
    assert (held.levelno, held.reason, held.user_id) == (logging.WARNING, "not_allowed", world.users[HEAD])  # type: ignore[attr-defined]
    assert HEAD_MAIL not in str(held.__dict__)


def test_a_viewer_in_the_chain_hears_nothing_of_an_sos(world: World) -> None:
    viewer = "Pemantau DKI"
    world.person(DKI, viewer, "viewer", "pemantau@jakarta.go.id")
    config = with_escalation(world.config, DKI, [viewer, HEAD], after_min=15, alert_types=["sos"])
    world.sos(DKI, "km-harapan")
    notifier = world.notifier(config)
    world.clock.advance(minutes=31)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL]
    assert metric(notifier, "unreachable", reason="role_may_not_read") == 1


def test_a_worse_level_after_acknowledgement_starts_the_chain_again(world: World) -> None:
    alert = world.siaga("katulampa", 3)
    notifier = world.notifier()
    world.clock.advance(minutes=16)
    notifier.run_pass()
    world.acknowledge(alert)
    world.clock.advance(minutes=30)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL]

    world.siaga("katulampa", 1)  # worse: active again, unacknowledged from now
    world.clock.advance(minutes=14)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL]
    world.clock.advance(minutes=1, seconds=1)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL, HEAD_MAIL]
    assert world.inbox.messages[-1].subject == "[Tepi] Belum ditanggapi: SIAGA I — Bendung Katulampa"
    world.clock.advance(minutes=15)
    notifier.run_pass()
    assert _recipients(world) == [HEAD_MAIL, HEAD_MAIL, DEPUTY_MAIL]
    assert sorted(d.dedupe_key.split(":")[2] for d in world.deliveries()) == ["0", "1.0", "1.1"]
