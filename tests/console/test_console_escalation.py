"""An alert nobody acknowledges does not stay on an unwatched screen: after the tenant's
`escalation.after_min` the notifier (in ingest) mails the next person of its escalation chain,
and the local SMTP server receives it.

Depok's Siaga alert opened when the deployment was seeded and nobody acknowledges it (the viewer
test leaves it as it was); DKI Jakarta's chain is the duty officer, then the head of Pusdalops,
after a minute."""

from __future__ import annotations

import pytest

from console_live import ESCALATION_AFTER_MIN, ESCALATION_CHAIN, PEOPLE, SMTP_FROM, LiveConsole
from core.config_model import TenantConfig

pytestmark = pytest.mark.integration


def test_an_unacknowledged_alert_escalates_by_email_to_the_next_person(live: LiveConsole, mailbox) -> None:  # type: ignore[no-untyped-def]
    assert "escalation" in TenantConfig.model_fields, "tenants[].escalation is not in the configuration yet"
    depok = live.open_alert("depok")
    assert depok is not None and depok["status"] == "active"
    address = {p.name: p.email for p in PEOPLE}
    chain = [address[name] for name in ESCALATION_CHAIN]

    mail = mailbox.wait_for(
        lambda m: any(r in chain for r in m.recipients) and "Depok" in m.text,
        timeout=ESCALATION_AFTER_MIN * 60 * len(chain) + 120,
        what="escalating Depok's alert to the chain",
    )

    assert mail.sender == SMTP_FROM
    assert "Pos Depok" in mail.text and ("SIAGA" in mail.text.upper())
    escalated_to = {r for m in mailbox.messages if "Depok" in m.text for r in m.recipients}
    assert escalated_to <= set(chain), "only the chain hears of it"
    after = live.open_alert("depok")
    assert after is not None and after["status"] == "active", "mail acknowledges nothing"
