"""An alert nobody acknowledges does not stay on an unwatched screen: the notifier (in ingest)
mails the first person of the tenant's escalation chain after `escalation.after_min`, then the
next person after as long again, and the local SMTP server receives both.

Depok's Siaga alert opened when the deployment was seeded and nobody acknowledges it (the viewer
test leaves it as it was); DKI Jakarta's chain is the duty officer, then the head of Pusdalops,
a quarter of a minute apart."""

from __future__ import annotations

import pytest

from central.notify.testing import ReceivedMail, SmtpInbox
from console_live import ESCALATION_AFTER_MIN, ESCALATION_CHAIN, PEOPLE, SMTP_FROM, LiveConsole
from core.testing import wait_until

pytestmark = pytest.mark.integration
DEPOK = "Pos Depok (Panus)"


def _mail(mailbox: SmtpInbox, to: str, timeout: float) -> ReceivedMail:
    """The first message to `to` alone about Depok, once it has come."""
    def about_depok() -> list[ReceivedMail]:
        return [m for m in mailbox.messages if m.rcpt_tos == [to] and DEPOK in m.text]
    wait_until(lambda: bool(about_depok()), timeout, f"a mail to {to} about Depok", every_s=0.2)
    return about_depok()[0]


def test_an_unacknowledged_alert_escalates_by_email_along_the_chain(live: LiveConsole, mailbox: SmtpInbox) -> None:
    depok = live.open_alert("depok")
    assert depok is not None and depok["status"] == "active"
    address = {p.name: p.email for p in PEOPLE}
    first, then = (address[name] for name in ESCALATION_CHAIN)
    wait = ESCALATION_AFTER_MIN * 60 * len(ESCALATION_CHAIN) + 120
    to_first = _mail(mailbox, first, wait)
    to_next = _mail(mailbox, then, wait)

    for step, mail in enumerate((to_first, to_next), start=1):
        assert mail.mail_from == SMTP_FROM and mail.message["From"] == SMTP_FROM
        assert "Belum ditanggapi" in mail.subject  # "not yet acknowledged"
        assert f"orang ke-{step}" in mail.text, "which person of the chain"
        assert "SIAGA III" in mail.text and "WIB" in mail.text
        assert f"{live.base_url}/" in mail.text, "a link to the console"
    assert mailbox.messages.index(to_first) < mailbox.messages.index(to_next)
    told = {r for m in mailbox.messages if DEPOK in m.text for r in m.rcpt_tos}
    assert told == {first, then}, "only the chain hears of it, each once per step"
    after = live.open_alert("depok")
    assert after is not None and after["status"] == "active", "a mail acknowledges nothing"
