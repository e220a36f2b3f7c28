"""`/api/v1/subscriptions`: a user's own subscriptions, validated; another user's is 404; a
webhook's signing secret is shown once, and the messages a real HTTP server then receives verify
with it.

The API fixtures' world (tests/api/api_fixtures.py): DKI Jakarta's river story and people of
two tenants, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from api_people import BADUNG_TENANT, DKI, HEAD, ClientFactory
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.routes.subscriptions import MAX_SUBSCRIPTIONS
from api.testing import TEST_PEPPER, TEST_PUBLIC_BASE_URL
from central.db import writer
from central.incidents import raise_subject_alert
from central.notify.messages import signing_secret
from central.notify.notifier import Notifier
from central.notify.settings import NotifySettings
from central.notify.testing import WebhookReceiver
from contract.clock import utcnow
from core.config import TepiConfig

EMAIL = {"channel": "email", "target": "petugas@bpbd.jakarta.go.id"}
VIEWER = (DKI, "Viewer DKI")


def test_subscribe_list_and_unsubscribe(client: TestClient) -> None:
    made = client.post("/api/v1/subscriptions", json={**EMAIL, "alert_types": ["siaga", "forecast", "siaga"], "subjects": ["katulampa"]})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["channel"] == "email" and body["target"] == EMAIL["target"]
    assert (body["alert_types"], body["subjects"], body["active"], body["signing_secret"]) == (["siaga", "forecast"], ["katulampa"], True, None)

    listed = client.get("/api/v1/subscriptions").json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == body["id"]
    assert "signing_secret" not in listed["data"][0]

    assert client.delete(f"/api/v1/subscriptions/{body['id']}").status_code == 204
    assert client.get("/api/v1/subscriptions").json() == {"data": [], "count": 0}
    again = client.delete(f"/api/v1/subscriptions/{body['id']}")
    assert (again.status_code, again.json()["code"]) == (404, "subscription_not_found")


def test_another_users_subscription_is_not_found(make_client: ClientFactory) -> None:
    officer = make_client(level_store="sql")
    head = make_client(as_user=(DKI, HEAD), level_store="sql")
    badung = make_client(as_user=(BADUNG_TENANT, "Petugas BPBD Badung"), level_store="sql")
    heads = head.post("/api/v1/subscriptions", json=EMAIL).json()["id"]
    missing = officer.delete("/api/v1/subscriptions/2147483647")
    for other in (officer, badung):
        answer = other.delete(f"/api/v1/subscriptions/{heads}")
        assert (answer.status_code, answer.json()) == (404, {**missing.json(), "detail": f"subscription {heads} does not exist"})
        assert other.get("/api/v1/subscriptions").json()["count"] == 0
    assert head.get("/api/v1/subscriptions").json()["count"] == 1


def test_roles(make_client: ClientFactory) -> None:
    """A viewer subscribes to what it may read (an empty list: all of that), never to SOS; a fisher
    reads no alerts, so subscribes to none."""
    viewer = make_client(as_user=VIEWER, level_store="sql")
    refused = viewer.post("/api/v1/subscriptions", json={**EMAIL, "alert_types": ["siaga", "sos"]})
    assert refused.status_code == 403 and "may not read sos alerts" in refused.json()["detail"]
    assert viewer.post("/api/v1/subscriptions", json={**EMAIL, "alert_types": ["siaga", "marine"]}).status_code == 201
    assert viewer.post("/api/v1/subscriptions", json=EMAIL).status_code == 201
    fisher = make_client(as_user=(DKI, "Fisher DKI"), level_store="sql")
    assert fisher.post("/api/v1/subscriptions", json=EMAIL).status_code == 403
    assert fisher.get("/api/v1/subscriptions").status_code == 403
    officer = make_client(level_store="sql")
    assert officer.post("/api/v1/subscriptions", json={**EMAIL, "alert_types": ["sos", "overdue"]}).status_code == 201


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"channel": "email", "target": "petugas"}, "not an email address"),
        ({"channel": "email", "target": "a@b.go.id\r\nBcc: x@y.id"}, "not an email address"),
        ({"channel": "webhook", "target": "http://sms.example.go.id/h"}, "must be https"),
        ({"channel": "webhook", "target": "http://127.0.0.1:9000/h"}, "TEPI_WEBHOOK_ALLOW_PRIVATE"),
        ({"channel": "webhook", "target": "https://127.0.0.1:8000/"}, "TEPI_WEBHOOK_ALLOW_PRIVATE"),
        ({"channel": "webhook", "target": "https://10.0.0.5/"}, "TEPI_WEBHOOK_ALLOW_PRIVATE"),
        ({"channel": "webhook", "target": "https://localhost/h"}, "TEPI_WEBHOOK_ALLOW_PRIVATE"),
        ({"channel": "webhook", "target": "https://169.254.169.254/latest"}, "link-local"),
        ({"channel": "webhook", "target": "https://[::ffff:169.254.169.254]/"}, "link-local"),
        ({"channel": "webhook", "target": "https://xn--zz.com/h"}, "not a valid host name"),
        ({"channel": "webhook", "target": "https://☃.net/"}, "not a valid host name"),
        ({"channel": "webhook", "target": "https://u:p@sms.example.go.id/h"}, "credentials"),
        ({"channel": "sms", "target": "+628123"}, "channel"),
        ({**EMAIL, "alert_types": ["flood"]}, "alert_types"),
        ({**EMAIL, "alert_types": "siaga"}, "alert_types"),
        ({**EMAIL, "subjects": ["Katulampa Dam"]}, "subjects"),
        ({**EMAIL, "subjects": ["s"] * 101}, "subjects"),
        ({**EMAIL, "active": False}, "active"),
        ({"channel": "email"}, "target"),
    ],
)
def test_invalid_subscriptions_are_422(client: TestClient, body: dict[str, object], why: str) -> None:
    answer = client.post("/api/v1/subscriptions", json=body)
    assert answer.status_code == 422, answer.text
    assert why in json.dumps(answer.json()["detail"])
    assert client.get("/api/v1/subscriptions").json()["count"] == 0


def test_webhooks_to_private_addresses_when_allowed(client: TestClient) -> None:
    """A deployment whose SMS gateway is on its own network allows private targets, and maybe
    plain http to them; plain http to a public address never."""
    client.app.state.notify_settings = NotifySettings(webhook_allow_private=True)  # type: ignore[attr-defined]
    assert client.post("/api/v1/subscriptions", json={"channel": "webhook", "target": "https://10.0.0.5:8443/sms"}).status_code == 201
    plain = client.post("/api/v1/subscriptions", json={"channel": "webhook", "target": "http://10.0.0.5:8080/sms"})
    assert plain.status_code == 422 and "must be https" in json.dumps(plain.json())
    client.app.state.notify_settings = NotifySettings(webhook_allow_private=True, webhook_allow_http=True)  # type: ignore[attr-defined]
    assert client.post("/api/v1/subscriptions", json={"channel": "webhook", "target": "http://10.0.0.5:8080/sms"}).status_code == 201
    public = client.post("/api/v1/subscriptions", json={"channel": "webhook", "target": "http://1.1.1.1/sms"})
    assert public.status_code == 422 and "loopback or private" in json.dumps(public.json())


def test_at_most_fifty_each(make_client: ClientFactory) -> None:
    officer = make_client(level_store="sql")
    ids = [officer.post("/api/v1/subscriptions", json=EMAIL).json()["id"] for _ in range(MAX_SUBSCRIPTIONS)]
    over = officer.post("/api/v1/subscriptions", json=EMAIL)
    assert (over.status_code, over.json()["code"]) == (409, "too_many_subscriptions")
    head = make_client(as_user=(DKI, HEAD), level_store="sql")
    assert head.post("/api/v1/subscriptions", json=EMAIL).status_code == 201  # per user, not per tenant
    assert officer.delete(f"/api/v1/subscriptions/{ids[0]}").status_code == 204
    assert officer.post("/api/v1/subscriptions", json=EMAIL).status_code == 201


def test_a_webhook_verifies_with_the_secret_the_api_gave(
    client: TestClient, engine: Engine, default_config: TepiConfig
) -> None:
    client.app.state.notify_settings = NotifySettings(webhook_allow_http=True, webhook_allow_private=True)  # type: ignore[attr-defined]
    with WebhookReceiver() as hooks:
        made = client.post("/api/v1/subscriptions", json={"channel": "webhook", "target": hooks.url, "alert_types": ["sos"]}).json()
        assert made["signing_secret"] == signing_secret(TEST_PEPPER.encode(), made["id"])
        with Session(writer(engine)) as s, s.begin():
            raise_subject_alert(s, tenant=DKI, kind="fishfinder", subject="km-uji", alert_type="sos", severity="critical",
                                at=utcnow(), who="app", detail={"nature": "fire"})
        settings = NotifySettings(  # type: ignore[arg-type]
            auth_pepper=TEST_PEPPER, webhook_allow_http=True, webhook_allow_private=True, public_base_url=TEST_PUBLIC_BASE_URL
        )
        notifier = Notifier(engine, default_config, settings, registry=CollectorRegistry())
        assert notifier.run_pass().sent == 1

        [hook] = hooks.received
        signed = f"{hook.headers['x-tepi-timestamp']}.".encode() + hook.body
        mac = hmac.new(made["signing_secret"].encode(), signed, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(hook.headers["x-tepi-signature"], f"sha256={mac}")
        wrong = hmac.new(signing_secret(TEST_PEPPER.encode(), made["id"] + 1).encode(), signed, hashlib.sha256).hexdigest()
        assert hook.headers["x-tepi-signature"] != f"sha256={wrong}"
        document = json.loads(hook.body)
        assert (document["alert"]["type"], document["alert"]["subject"], document["url"]) == ("sos", "km-uji", f"{TEST_PUBLIC_BASE_URL}/#/alerts")
        assert hook.path == "/hook" and hook.headers["user-agent"] == "Tepi-Webhook/1"
