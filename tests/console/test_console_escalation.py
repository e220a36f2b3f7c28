"""An alert nobody acknowledges does not stay on an unwatched screen: the notifier (in ingest)
mails the first person of the tenant's escalation chain after `escalation.after_min`, then the
next person after as long again, and the local SMTP server receives both.

Depok's Siaga alert opened when the deployment was seeded and nobody acknowledges it (the viewer
test leaves it as it was); DKI Jakarta's chain is the duty officer, then the head of Pusdalops,
a quarter of a minute apart."""

from __future__ import annotations

import pytest

from console_live import ESCALATION_AFTER_MIN, ESCALATION_CHAIN, PEOPLE, SMTP_FROM, LiveConsole

pytestmark = pytest.mark.integration
DEPOK = "Pos Depok (Panus)"


def test_an_unacknowledged_alert_escalates_by_email_along_the_chain(live: LiveConsole, mailbox) -> None:  # type: ignore[no-untyped-def]
    depok = live.open_alert("depok")
    assert depok is not None and depok["status"] == "active"
    address = {p.name: p.email for p in PEOPLE}
    first, then = (address[name] for name in ESCALATION_CHAIN)

    def about_depok(to: str):  # type: ignore[no-untyped-def]
        return lambda m: m.recipients == [to] and DEPOK in m.text

    wait = ESCALATION_AFTER_MIN * 60 * len(ESCALATION_CHAIN) + 120
    to_first = mailbox.wait_for(about_depok(first), wait, f"to {first} about Depok")
    to_next = mailbox.wait_for(about_depok(then), wait, f"to the next person, {then}, about Depok")

    for step, mail in enumerate((to_first, to_next), start=1):
        assert mail.sender == SMTP_FROM and mail.message["From"] == SMTP_FROM
        assert "Belum ditanggapi" in str(mail.message["Subject"])  # "not yet acknowledged"
        assert f"orang ke-{step}" in mail.text, "which person of the chain"
        assert "SIAGA III" in mail.text and "WIB" in mail.text
        assert f"{live.base_url}/" in mail.text, "a link to the console"
    assert mailbox.messages.index(to_first) < mailbox.messages.index(to_next)
    told = {r for m in mailbox.messages if DEPOK in m.text for r in m.recipients}
    assert told == {first, then}, "only the chain hears of it, each once per step"
    after = live.open_alert("depok")
    assert after is not None and after["status"] == "active", "a mail acknowledges nothing"
