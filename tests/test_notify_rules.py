"""The notifier's pure rules: who hears what, when an escalation step is due, when to retry,
which targets are acceptable, what a message says and how it is signed. No clock, no database."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from datetime import datetime, timedelta, timezone

import pytest

from api import permissions
from central.models import ALERT_TYPES
from central.notify import rules
from central.notify.messages import AlertFacts, Occasion, email_subject, email_text, signature, signing_secret, siaga_label, webhook_body
from central.notify.targets import TargetError, check_address, check_email, check_webhook_url
from kinds.awlr.siaga import SiagaLevel

T0 = datetime(2025, 12, 7, 7, 5, tzinfo=timezone.utc)  # 14:05 WIB


def _change(**changes: object) -> rules.AlertChange:
    values: dict[str, object] = dict(
        seq=10, tenant="dki-jakarta", alert_id=3, alert_type="siaga", subject="katulampa", station="katulampa",
        kind="opened", recorded_at=T0, siaga=2,
    )
    return rules.AlertChange(**{**values, **changes})  # type: ignore[arg-type]


def _subscriber(**changes: object) -> rules.Subscriber:
    values: dict[str, object] = dict(
        subscription_id=7, tenant="dki-jakarta", user_id=1, user_tenant="dki-jakarta", role="disaster_office",
        channel="email", target="a@b.go.id", alert_types=frozenset(), subjects=frozenset(),
        created_at=T0 - timedelta(days=1), active=True,
    )
    return rules.Subscriber(**{**values, **changes})  # type: ignore[arg-type]


def test_readers_are_the_apis() -> None:
    """The notifier tells a role only what `api.permissions` lets it read."""
    assert rules.ALERT_READERS == permissions.ALERT_READERS
    assert rules.SOS_RESPONDERS == permissions.SOS_RESPONDERS
    assert rules.readers_of("sos") == rules.readers_of("overdue") == permissions.SOS_RESPONDERS
    assert all(rules.readers_of(t) == permissions.ALERT_READERS for t in ALERT_TYPES if t not in ("sos", "overdue"))
    assert set(rules.SUBSCRIBER_ROLES) == {r for t in ALERT_TYPES for r in rules.readers_of(t)}
    assert permissions.TABLE[("POST", "/api/v1/subscriptions")] == rules.SUBSCRIBER_ROLES


def test_siaga_labels_are_the_rivers() -> None:
    assert [siaga_label(level) for level in (1, 2, 3, 4)] == [SiagaLevel(level).label for level in (1, 2, 3, 4)]


@pytest.mark.parametrize(
    ("kind", "siaga", "peak_before", "told"),
    [
        ("opened", 3, None, True),
        ("escalated", 1, 3, True),
        ("cleared", 4, 2, True),
        ("cancelled", 4, None, True),
        ("updated", 2, 3, True),  # a rate-of-rise alert whose river got worse than ever in the episode
        ("updated", 3, 3, False),
        ("updated", 3, 2, False),  # worse than a moment ago, not than the episode's worst
        ("updated", None, None, False),
        ("acknowledged", 2, None, False),
        ("closed", 4, None, False),
        ("forecast_refined", 2, None, False),
    ],
)
def test_worth_telling(kind: str, siaga: int | None, peak_before: int | None, told: bool) -> None:
    assert rules.worth_telling(kind, siaga, peak_before) is told


def test_who_wants_a_change() -> None:
    change = _change()
    assert rules.wants(_subscriber(), change)
    assert rules.wants(_subscriber(alert_types=frozenset({"siaga"}), subjects=frozenset({"katulampa"})), change)
    assert not rules.wants(_subscriber(alert_types=frozenset({"marine"})), change)
    assert not rules.wants(_subscriber(subjects=frozenset({"depok"})), change)
    assert not rules.wants(_subscriber(tenant="kab-badung", user_tenant="kab-badung"), change)
    assert not rules.wants(_subscriber(user_tenant="kab-badung"), change)  # a row pointing across tenants
    assert not rules.wants(_subscriber(active=False), change)
    assert not rules.wants(_subscriber(created_at=T0 + timedelta(seconds=1)), change)  # no order for the past
    assert not rules.wants(_subscriber(role="fisher"), change)
    sos = _change(alert_type="sos", subject="km-harapan", station=None, siaga=None)
    assert not rules.wants(_subscriber(role="viewer"), sos)
    assert not rules.wants(_subscriber(role="viewer", alert_types=frozenset({"sos"})), sos)
    assert rules.wants(_subscriber(role="disaster_office", subjects=frozenset({"km-harapan"})), sos)


def test_owed_for_changes_keys_each_message_once() -> None:
    owed = rules.owed_for_changes([_change(), _change(seq=11, kind="acknowledged")], [_subscriber(), _subscriber(subscription_id=8, channel="webhook")])
    assert [(o.dedupe_key, o.channel, o.event_seq) for o in owed] == [("sub:7:10", "email", 10), ("sub:8:10", "webhook", 10)]


def test_due_steps() -> None:
    after = timedelta(minutes=15)
    assert rules.due_steps(T0, T0 + timedelta(minutes=14, seconds=59), after, 3) == range(0)
    assert rules.due_steps(T0, T0 + after, after, 3) == range(1)
    assert rules.due_steps(T0, T0 + 2 * after, after, 3) == range(2)
    assert rules.due_steps(T0, T0 + timedelta(days=2), after, 3) == range(3)  # the chain ends
    assert rules.due_steps(T0, T0 - timedelta(minutes=1), after, 3) == range(0)


def test_the_unacknowledged_stretch() -> None:
    opened, acked, worse = T0, T0 + timedelta(minutes=5), T0 + timedelta(hours=2)
    assert rules.unacknowledged_since([("opened", opened)], T0 - timedelta(hours=1)) == (opened, 0)
    assert rules.unacknowledged_since([("opened", opened), ("escalated", acked)], T0) == (opened, 0)  # never acknowledged
    history = [("opened", opened), ("acknowledged", acked), ("escalated", worse)]
    assert rules.unacknowledged_since(history, T0) == (worse, 1)
    assert rules.step_token(0, 2) == "2" and rules.step_token(1, 0) == "1.0"


def test_escalation_owed_for_each_person() -> None:
    person = rules.ChainPerson(5, "disaster_office", False, "kepala@bpbd.go.id", ((9, "https://sms.example.go.id/h"),))
    owed, short = rules.escalation_owed("dki-jakarta", 3, "siaga", 0, 1, person)
    assert short is None
    assert [o.dedupe_key for o in owed] == ["esc:3:1:5:email", "esc:3:1:5:webhook:9"]
    assert {o.step for o in owed} == {1}
    assert rules.escalation_owed("dki-jakarta", 3, "siaga", 0, 0, None) == ([], rules.UNKNOWN_USER)
    no_mail = rules.ChainPerson(5, "admin", False, None, ((9, "https://x.go.id/h"),))
    owed, short = rules.escalation_owed("dki-jakarta", 3, "siaga", 0, 0, no_mail)
    assert (short, [o.channel for o in owed]) == (rules.NO_EMAIL, ["webhook"])
    viewer = rules.ChainPerson(6, "viewer", False, "v@x.go.id")
    assert rules.escalation_owed("dki-jakarta", 3, "overdue", 0, 0, viewer) == ([], rules.ROLE_MAY_NOT_READ)
    disabled = rules.ChainPerson(6, "admin", True, "v@x.go.id")
    assert rules.escalation_owed("dki-jakarta", 3, "siaga", 0, 0, disabled) == ([], rules.DISABLED_USER)


def test_retry_backoff_and_giving_up() -> None:
    delays = [rules.retry_at(T0, n, T0) - T0 for n in range(1, 10)]  # type: ignore[operator]
    assert [d.total_seconds() for d in delays] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert rules.retry_at(T0, 10**9, T0) == T0 + rules.LONGEST_RETRY
    assert rules.retry_at(T0, 3, T0 + timedelta(hours=23, minutes=59)) is not None
    assert rules.retry_at(T0, 3, T0 + timedelta(hours=24)) is None


@pytest.mark.parametrize("address", ["petugas@bpbd.jakarta.go.id", "a.b+alert@x-y.co.id", "o'neil@example.org"])
def test_email_addresses_accepted(address: str) -> None:
    assert check_email(address) == address


@pytest.mark.parametrize(
    "address",
    ["petugas", "a@b", "@b.go.id", "a..b@x.go.id", ".a@x.go.id", "a@-x.go.id", "a b@x.go.id", "a@x.go.id\r\nBcc: c@d.id",
     "pétugas@x.go.id", "a" * 65 + "@x.go.id", "a@" + "b" * 250 + ".id"],
)
def test_email_addresses_refused(address: str) -> None:
    with pytest.raises(TargetError):
        check_email(address)


def test_webhook_urls() -> None:
    assert check_webhook_url("https://sms.example.go.id/tepi?x=1", allow_http=False, allow_private=False)
    assert check_webhook_url("https://bücher.example/h", allow_http=False, allow_private=False)  # IDNA
    assert check_webhook_url("https://10.0.0.5:8443/h", allow_http=False, allow_private=True)
    for url in ("http://127.0.0.1:9000/h", "http://10.1.2.3/h", "http://192.168.1.9/h", "http://[::1]:8000/h", "http://localhost/h"):
        assert check_webhook_url(url, allow_http=True, allow_private=True) == url
        with pytest.raises(TargetError, match="https"):
            check_webhook_url(url, allow_http=False, allow_private=True)
        with pytest.raises(TargetError, match="TEPI_WEBHOOK_ALLOW_PRIVATE"):  # plain http goes nowhere but private
            check_webhook_url(url, allow_http=True, allow_private=False)
    refused = [
        ("http://sms.example.go.id/h", "loopback or private"),  # a name could resolve anywhere
        ("http://8.8.8.8/h", "loopback or private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("http://169.254.169.254/latest", "link-local"),
        ("https://[::ffff:169.254.169.254]/latest", "link-local"),  # the same address, written for IPv6
        ("https://[fe80::1]/h", "link-local"),
        ("https://224.0.0.1/h", "multicast"),
        ("https://0.0.0.0:8000/h", "unspecified"),
        ("https://user:pw@sms.example.go.id/h", "credentials"),
        ("ftp://x.go.id/h", "https"),
        ("https:///h", "https"),
        ("https://x.go.id:99999/h", "port"),
        ("https://x.go.id/h#frag", "fragment"),
        ("https://x.go.id/a b", "URL"),
        ("https://x.go.id/" + "a" * 2000, "URL"),
        # Hosts no HTTP client can reach: refused when subscribing, not at every send.
        ("https://xn--zz.com/h", "host name"),
        ("https://☃.net/", "host name"),
        ("https://a..b/h", "host name"),
        ("https://" + "a" * 64 + ".go.id/h", "host name"),
    ]
    for url, why in refused:
        with pytest.raises(TargetError, match=why):
            check_webhook_url(url, allow_http=True, allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["https://127.0.0.1:8000/", "https://10.0.0.5/", "https://[::1]/h", "https://[::ffff:10.0.0.5]/h", "https://[fd00::5]/h",
     "https://100.64.0.1/h", "https://localhost/h", "https://sms.localhost/h"],
)
def test_webhooks_to_loopback_or_private_addresses_only_where_allowed(url: str) -> None:
    with pytest.raises(TargetError, match="TEPI_WEBHOOK_ALLOW_PRIVATE"):
        check_webhook_url(url, allow_http=False, allow_private=False)
    assert check_webhook_url(url, allow_http=False, allow_private=True) == url


@pytest.mark.parametrize(
    ("address", "public", "private"),
    [
        ("8.8.8.8", True, True),
        ("2001:4860:4860::8888", True, True),
        ("::ffff:8.8.8.8", True, True),
        ("127.0.0.1", False, True),
        ("::1", False, True),
        ("10.0.0.5", False, True),
        ("192.168.1.9", False, True),
        ("100.64.0.1", False, True),  # carrier-grade NAT
        ("fd00::5", False, True),
        ("::ffff:10.0.0.5", False, True),  # IPv4-mapped: judged as the IPv4 address
        ("64:ff9b::a00:5", False, True),  # NAT64 of 10.0.0.5
        ("2002:a00:5::1", False, True),  # 6to4 of 10.0.0.5
        ("169.254.169.254", False, False),
        ("::ffff:169.254.169.254", False, False),
        ("64:ff9b::a9fe:a9fe", False, False),
        ("fe80::1", False, False),
        ("224.0.0.1", False, False),
        ("0.0.0.0", False, False),
        ("0.1.2.3", False, False),
        ("255.255.255.255", False, False),
        ("240.0.0.1", False, False),
        ("::a00:5", False, False),  # IPv4-compatible, deprecated and reserved
    ],
)
def test_which_addresses_a_webhook_may_connect_to(address: str, public: bool, private: bool) -> None:
    for allow_private, allowed in ((False, public), (True, private)):
        if allowed:
            check_address(ipaddress.ip_address(address), allow_private=allow_private)
        else:
            with pytest.raises(TargetError):
                check_address(ipaddress.ip_address(address), allow_private=allow_private)


def _facts(**changes: object) -> AlertFacts:
    values: dict[str, object] = dict(
        alert_id=3, tenant="dki-jakarta", tenant_name="BPBD Provinsi DKI Jakarta", zone="Asia/Jakarta", alert_type="siaga",
        subject="katulampa", station="katulampa", place="Bendung Katulampa", severity="major", siaga=2, status="active",
        opened_at=T0, at=T0, level_cm=150.0,
    )
    return AlertFacts(**{**values, **changes})  # type: ignore[arg-type]


def test_email_words() -> None:
    opened = Occasion(17, rules.REASON_SUBSCRIPTION, "opened")
    assert email_subject(_facts(), opened) == "[Tepi] SIAGA II — Bendung Katulampa"
    assert email_subject(_facts(), Occasion(17, rules.REASON_SUBSCRIPTION, "cleared")) == "[Tepi] Berakhir: SIAGA II — Bendung Katulampa"
    assert email_subject(_facts(), Occasion(17, rules.REASON_ESCALATION, None, 1, 15)) == "[Tepi] Belum ditanggapi: SIAGA II — Bendung Katulampa"
    rise = _facts(alert_type="rate_of_rise", siaga=3)
    assert email_subject(rise, opened) == "[Tepi] Kenaikan air cepat — Bendung Katulampa"
    text = email_text(rise, opened, "https://banjir.example.go.id/#/alerts")
    assert text.index("Tingkat sungai: SIAGA III") < text.index("River level: SIAGA III")
    assert "07/12/2025 14:05 WIB" in text and "#17" in text
    bali = email_text(_facts(zone="Asia/Makassar", tenant="kab-badung"), opened, "u")
    assert "07/12/2025 15:05 WITA" in bali
    escalation = email_text(_facts(), Occasion(17, rules.REASON_ESCALATION, None, 1, 15), "u")
    assert "orang ke-2" in escalation and "person 2 of" in escalation and "setiap 15 menit" in escalation
    sos = _facts(alert_type="sos", subject="km-harapan", station=None, place="km-harapan", siaga=None, level_cm=None)
    assert email_subject(sos, opened) == "[Tepi] SOS kapal — km-harapan"


def test_webhook_body_and_signature() -> None:
    body = webhook_body(_facts(), Occasion(17, rules.REASON_SUBSCRIPTION, "opened"), "https://banjir.example.go.id/#/alerts")
    document = json.loads(body)
    assert document["delivery"] == 17 and document["alert"]["opened_at"] == "2025-12-07T07:05:00Z"
    assert document["text"]["en"] == "[Tepi] New alert: SIAGA II — Bendung Katulampa (Flood warning), 07/12/2025 14:05 WIB. https://banjir.example.go.id/#/alerts"
    pepper = b"pepper-of-at-least-thirty-two-characters"
    secret = signing_secret(pepper, 9)
    assert secret == hmac.new(pepper, b"webhook:9", hashlib.sha256).hexdigest()
    assert signing_secret(pepper, 10) != secret
    expected = hmac.new(secret.encode(), b"1765091100." + body, hashlib.sha256).hexdigest()
    assert signature(secret, 1765091100, body) == f"sha256={expected}"
