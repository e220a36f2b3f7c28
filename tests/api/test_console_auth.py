"""People signing in to the console: POST/DELETE /api/v1/session, the session cookie, CSRF and Origin.

A browser is a client at the public base URL (https, so the Secure cookie travels) with no API
key; the app's clock is the test's (`app.state.clock`), so idle and absolute expiry need no sleep.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from api_people import BADUNG_TENANT, DKI, HEAD, OFFICER, ClientFactory, app_settings
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.main import create_app
from api.testing import TEST_PUBLIC_BASE_URL, bearer, parse_sse
from central.accounts import disable_user, find_user, set_password
from central.db import writer
from contract.clock import utcnow
from core.config import TepiConfig

SESSION = "/api/v1/session"
ME = "/api/v1/me"
PASSWORD = "kali ciliwung meluap lagi"
FAILED = {"detail": "wrong tenant, name or password", "code": "not_authenticated"}


def give_password(engine: Engine, name: str, password: str = PASSWORD, tenant: str = DKI) -> None:
    with Session(writer(engine)) as s, s.begin():
        set_password(s, find_user(s, tenant, name), password, utcnow())


def as_browser(client: TestClient) -> TestClient:
    """A client of the same app at the public base URL, sending no key: a browser on the console."""
    browser = TestClient(client.app, base_url=TEST_PUBLIC_BASE_URL)
    browser.portal = client.portal  # type: ignore[attr-defined]
    return browser


@pytest.fixture
def browser(make_client: ClientFactory, keys: dict) -> TestClient:
    return as_browser(make_client(as_user=None, level_store="sql"))


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def sign_in(browser: TestClient, name: str = OFFICER, password: str = PASSWORD, tenant: str = DKI) -> httpx.Response:
    return browser.post(SESSION, json={"tenant": tenant, "name": name, "password": password})


def active_alert(browser: TestClient) -> int:
    alerts = browser.get("/api/v1/alerts", params={"status": "active"}).json()["data"]
    return int(next(a["id"] for a in alerts if a["station"] == "katulampa"))


def test_sign_in_sets_an_httponly_strict_cookie_and_me_works_with_it(browser: TestClient, engine: Engine) -> None:
    give_password(engine, OFFICER)
    r = sign_in(browser)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["user"]["name"] == OFFICER and body["user"]["tenant"] == DKI and body["user"]["role"] == "disaster_office"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("tepi_session=")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "path", "max-age", "samesite"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/" in cookie.lower()
    assert "max-age=604800" in cookie.lower()  # the absolute lifetime, 7 days
    me = browser.get(ME)
    assert me.status_code == 200, me.text
    assert me.json()["name"] == OFFICER and me.json()["key_id"] is None
    assert me.json()["csrf_token"] == body["csrf_token"]
    assert (me.json()["tenant_name"], me.json()["timezone"]) == ("BPBD Provinsi DKI Jakarta", "Asia/Jakarta")


def test_me_tells_a_key_holder_their_tenant_zone_and_email_without_a_csrf_token(
    database_url: str, default_config: TepiConfig, engine: Engine, keys: dict
) -> None:
    """The zone is the tenant's configured one (Bali's WITA here), the email the user's."""
    tenants = [t.model_copy(update={"timezone": "Asia/Makassar"}) if t.id == BADUNG_TENANT else t for t in default_config.tenants]
    config = default_config.model_copy(update={"tenants": tenants})
    with Session(writer(engine)) as s, s.begin():
        find_user(s, BADUNG_TENANT, "Petugas BPBD Badung").email = "pusdalops@badungkab.go.id"
    app = create_app(config, app_settings(database_url), registry=CollectorRegistry())
    with TestClient(app, headers=bearer(keys[(BADUNG_TENANT, "Petugas BPBD Badung")])) as client:
        me = client.get(ME).json()
    assert (me["tenant_name"], me["timezone"], me["email"]) == ("Kabupaten Badung", "Asia/Makassar", "pusdalops@badungkab.go.id")
    assert me["csrf_token"] is None and me["key_id"] is not None


def test_every_sign_in_failure_is_the_same_401(browser: TestClient, engine: Engine) -> None:
    give_password(engine, OFFICER)
    give_password(engine, "Viewer DKI")
    with Session(writer(engine)) as s, s.begin():
        disable_user(s, find_user(s, DKI, "Viewer DKI").id, utcnow())
    failures = {
        "wrong password": sign_in(browser, password=PASSWORD + "!"),
        "unknown user": sign_in(browser, name="Nobody Here"),
        "unknown tenant": sign_in(browser, tenant="kab-nowhere"),
        "user of another tenant": sign_in(browser, tenant=BADUNG_TENANT),
        "disabled user": sign_in(browser, name="Viewer DKI"),
        "no password set": sign_in(browser, name=HEAD),
    }
    for why, r in failures.items():
        assert (r.status_code, r.json()) == (401, FAILED), why
        assert "set-cookie" not in r.headers, why
    assert browser.get(ME).status_code == 401


def test_every_failure_costs_one_argon2_verification(browser: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same work whether or not the name exists: its time does not tell names apart."""
    import central.passwords as passwords

    give_password(engine, OFFICER)
    calls: list[str] = []
    real = passwords.HASHER

    class Counting(type(real)):  # type: ignore[misc]
        def verify(self, hash: str, password: str) -> bool:  # noqa: A002
            calls.append(hash)
            return real.verify(hash, password)

    monkeypatch.setattr(passwords, "HASHER", Counting.from_parameters(real._parameters))
    for attempt in ({"name": "Nobody Here"}, {"password": "not the password at all"}, {"name": HEAD}):
        calls.clear()
        assert sign_in(browser, **attempt).status_code == 401
        assert len(calls) == 1 and calls[0].startswith("$argon2id$"), attempt


def test_each_sign_in_makes_a_new_session(browser: TestClient, engine: Engine) -> None:
    """No session fixation: a token in the browser before sign-in is never the one after."""
    give_password(engine, OFFICER)
    first = sign_in(browser).cookies["tepi_session"]
    second = sign_in(browser).cookies["tepi_session"]
    assert first != second and len(second) == 43
    assert browser.get(ME, headers={"Cookie": f"tepi_session={first}"}).status_code == 200  # another tab's session stays


def test_cookie_changes_need_the_csrf_token(browser: TestClient, engine: Engine) -> None:
    give_password(engine, OFFICER)
    token = sign_in(browser).json()["csrf_token"]
    alert = active_alert(browser)
    ack = f"/api/v1/alerts/{alert}/ack"
    missing = browser.post(ack, json={"note": "menuju lokasi"})
    # The last character is replaced by a different one, so the wrong token never equals the right one.
    wrong_token = token[:-1] + ("1" if token.endswith("0") else "0")
    wrong = browser.post(ack, json={"note": "menuju lokasi"}, headers={"X-CSRF-Token": wrong_token})
    for r in (missing, wrong):
        assert (r.status_code, r.json()["detail"]) == (403, "CSRF token missing or wrong")
    assert browser.get(f"/api/v1/alerts/{alert}").json()["status"] == "active"
    right = browser.post(ack, json={"note": "menuju lokasi"}, headers={"X-CSRF-Token": token})
    assert right.status_code == 200, right.text
    assert right.json()["acknowledged_by"] == OFFICER


def test_a_foreign_origin_is_refused_even_with_the_token(browser: TestClient, engine: Engine) -> None:
    give_password(engine, OFFICER)
    token = sign_in(browser).json()["csrf_token"]
    ack = f"/api/v1/alerts/{active_alert(browser)}/ack"
    for origin in ("https://evil.example", "null", "http://banjir.example.go.id"):
        r = browser.post(ack, headers={"X-CSRF-Token": token, "Origin": origin})
        assert (r.status_code, r.json()["detail"]) == (403, "cross-origin request refused"), origin
    assert browser.post(ack, headers={"X-CSRF-Token": token, "Origin": TEST_PUBLIC_BASE_URL}).status_code == 200
    # Signing a victim in from another site (login CSRF) is refused too.
    foreign = browser.post(SESSION, json={"tenant": DKI, "name": OFFICER, "password": PASSWORD}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403


def test_a_viewers_cookie_still_cannot_acknowledge(browser: TestClient, engine: Engine) -> None:
    give_password(engine, "Viewer DKI")
    token = sign_in(browser, name="Viewer DKI").json()["csrf_token"]
    r = browser.post(f"/api/v1/alerts/{active_alert(browser)}/ack", headers={"X-CSRF-Token": token})
    assert (r.status_code, r.json()["detail"]) == (403, "the viewer role may not do this")


def test_a_session_sees_only_its_tenant(browser: TestClient, engine: Engine, keys: dict) -> None:
    give_password(engine, OFFICER)
    sign_in(browser)
    other = TestClient(browser.app, base_url=TEST_PUBLIC_BASE_URL, headers=bearer(keys[(BADUNG_TENANT, "Petugas BPBD Badung")]))
    other.portal = browser.portal  # type: ignore[attr-defined]
    badung_alert = other.get("/api/v1/alerts").json()["data"][0]["id"]
    assert browser.get(f"/api/v1/alerts/{badung_alert}").status_code == 404
    assert BADUNG_TENANT not in browser.get("/api/v1/alerts", params={"tenant": BADUNG_TENANT}).text


def test_bearer_wins_over_the_cookie_and_needs_no_csrf(browser: TestClient, engine: Engine, keys: dict) -> None:
    give_password(engine, "Viewer DKI")
    sign_in(browser, name="Viewer DKI")
    officer = bearer(keys[(DKI, OFFICER)])
    assert browser.get(ME, headers=officer).json()["name"] == OFFICER
    r = browser.post(f"/api/v1/alerts/{active_alert(browser)}/ack", headers=officer)
    assert r.status_code == 200 and r.json()["acknowledged_by"] == OFFICER


def test_sign_out_revokes_the_session(browser: TestClient, engine: Engine) -> None:
    give_password(engine, OFFICER)
    signed = sign_in(browser)
    cookie, token = signed.cookies["tepi_session"], signed.json()["csrf_token"]
    assert browser.delete(SESSION).status_code == 403  # a change like any other: the token is needed
    out = browser.delete(SESSION, headers={"X-CSRF-Token": token})
    assert out.status_code == 204
    assert 'tepi_session=""' in out.headers["set-cookie"] or "max-age=0" in out.headers["set-cookie"].lower()
    assert browser.get(ME, headers={"Cookie": f"tepi_session={cookie}"}).status_code == 401
    assert browser.delete(SESSION).status_code == 204  # signed out already: nothing to protect


def test_idle_and_absolute_limits(browser: TestClient, engine: Engine) -> None:
    clock = Clock(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
    browser.app.state.clock = clock  # type: ignore[attr-defined]
    give_password(engine, OFFICER)
    cookie = sign_in(browser).cookies["tepi_session"]

    def me_at(at: datetime) -> int:
        clock.now = at
        return browser.get(ME, headers={"Cookie": f"tepi_session={cookie}"}).status_code

    start = clock.now
    # Used every 11 hours it stays signed in (each use renews the 12-hour idle limit) ...
    assert [me_at(start + timedelta(hours=11 * n)) for n in range(1, 16)] == [200] * 15
    # ... but never past 7 days from sign-in.
    assert me_at(start + timedelta(days=7) - timedelta(seconds=1)) == 200
    assert me_at(start + timedelta(days=7)) == 401

    clock.now = start
    idle = sign_in(browser).cookies["tepi_session"]
    cookie = idle
    assert me_at(start + timedelta(hours=11, minutes=59)) == 200
    assert me_at(start + timedelta(hours=23, minutes=58)) == 200
    assert me_at(start + timedelta(hours=35, minutes=58)) == 401  # 12 hours unused


def test_a_password_change_ends_every_session_of_the_user(browser: TestClient, engine: Engine) -> None:
    give_password(engine, OFFICER)
    cookies = [sign_in(browser).cookies["tepi_session"] for _ in range(2)]
    give_password(engine, OFFICER, "sungai ciliwung surut lagi")
    for cookie in cookies:
        assert browser.get(ME, headers={"Cookie": f"tepi_session={cookie}"}).status_code == 401
    assert sign_in(browser).status_code == 401
    assert sign_in(browser, password="sungai ciliwung surut lagi").status_code == 200


def test_disabling_a_user_ends_their_sessions(browser: TestClient, engine: Engine) -> None:
    give_password(engine, OFFICER)
    cookie = sign_in(browser).cookies["tepi_session"]
    with Session(writer(engine)) as s, s.begin():
        disable_user(s, find_user(s, DKI, OFFICER).id, utcnow())
    assert browser.get(ME, headers={"Cookie": f"tepi_session={cookie}"}).status_code == 401


def test_the_alert_stream_opens_with_the_cookie(live_api: str, engine: Engine, keys: dict) -> None:
    """What the console's EventSource does: same-origin GET with the cookie, no header of its own."""
    give_password(engine, OFFICER)
    with httpx.Client(base_url=live_api, timeout=5) as http:
        signed = http.post(SESSION, json={"tenant": DKI, "name": OFFICER, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        # The cookie is Secure (the public base URL is https), so this http client would not send
        # it by itself; a browser on the https console does.
        cookie = {"Cookie": f"tepi_session={signed.cookies['tepi_session']}"}
        with http.stream("GET", "/api/v1/alerts/stream", params={"after": 0}, headers=cookie) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            first = next(m for m in parse_sse(r.iter_lines()) if m.data_lines)
            assert first.json()["kind"] == "opened" and int(first.id or 0) >= 1
        assert http.get("/api/v1/alerts/stream", params={"after": 0}).status_code == 401  # no cookie


def test_the_sign_in_form_lists_the_tenants_publicly(make_client: ClientFactory, keys: dict) -> None:
    anonymous = make_client(as_user=None, level_store="sql")
    r = anonymous.get("/api/v1/public/tenants")
    assert r.status_code == 200 and "public" in r.headers["cache-control"] and r.headers["etag"]
    tenants = {t["id"]: t for t in r.json()}
    assert tenants[DKI] == {"id": DKI, "name": "BPBD Provinsi DKI Jakarta", "timezone": "Asia/Jakarta"}
    assert set(tenants) >= {DKI, BADUNG_TENANT}
    assert anonymous.get("/api/v1/public/tenants", headers={"If-None-Match": r.headers["etag"]}).status_code == 304


def test_public_tenants_are_rate_limited(make_client: ClientFactory, keys: dict) -> None:
    anonymous = make_client(as_user=None, level_store="sql", public_burst=2)
    codes = [anonymous.get("/api/v1/public/tenants").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_no_hash_password_or_name_in_the_logs(browser: TestClient, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    give_password(engine, OFFICER)
    assert sign_in(browser).status_code == 200
    assert sign_in(browser, password="a wrong password here").status_code == 401
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "$argon2" not in text and PASSWORD not in text and "a wrong password here" not in text
    infos = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert any(r.getMessage() == "signed in" and isinstance(r.__dict__.get("user_id"), int) for r in infos)
    assert not any(OFFICER in str(r.__dict__) for r in infos)



def test_the_cookie_is_not_secure_only_when_the_site_is_plain_http(make_client: ClientFactory, engine: Engine, keys: dict) -> None:
    """The demo on loopback is http: a Secure cookie would never come back there."""
    give_password(engine, OFFICER)
    demo = make_client(as_user=None, level_store="sql", public_base_url="http://127.0.0.1:8000")
    signed = sign_in(demo)
    assert signed.status_code == 200
    assert "secure" not in signed.headers["set-cookie"].lower() and "httponly" in signed.headers["set-cookie"].lower()
    token = signed.json()["csrf_token"]
    ack = f"/api/v1/alerts/{active_alert(demo)}/ack"
    # The demo's own origin, or the host the browser used, is the console's.
    assert demo.post(ack, headers={"X-CSRF-Token": token, "Origin": "http://testserver"}).status_code == 200
    assert demo.post(ack, headers={"X-CSRF-Token": token, "Origin": "http://127.0.0.1:8000"}).status_code == 200
    assert demo.post(ack, headers={"X-CSRF-Token": token, "Origin": "http://127.0.0.1:9999"}).status_code == 403
