"""How many passwords a guesser may try: failed sign-ins counted per client IP, per (tenant,
name) from one client and per (tenant, name) from all clients (a higher ceiling); tries spent
before their verification, so guesses sent at once are counted; a bounded line for the hasher.

A browser is a client at the public base URL with no API key, from the address the test gives
it (`TestClient(client=...)`); clients of one app share its event loop, as in a deployment.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_people import DKI, HEAD, OFFICER, ClientFactory
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.routes import session as session_route
from api.testing import TEST_PUBLIC_BASE_URL
from central.accounts import find_user, set_password
from central.db import writer
from contract.clock import utcnow

PASSWORD = "kali ciliwung meluap lagi"
#: Limits that never refill within a test (a try a thousand minutes).
NO_REFILL = {"login_ip_per_min": 0.001, "login_user_per_min": 0.001, "login_user_total_per_min": 0.001}


def give_password(engine: Engine, name: str = OFFICER) -> None:
    with Session(writer(engine)) as s, s.begin():
        set_password(s, find_user(s, DKI, name), PASSWORD, utcnow())


def browser_at(client: TestClient, ip: str = "203.0.113.10") -> TestClient:
    """A browser on the console from `ip`, through the app (and event loop) of `client`."""
    browser = TestClient(client.app, base_url=TEST_PUBLIC_BASE_URL, client=(ip, 50000))
    browser.portal = client.portal  # type: ignore[attr-defined]
    return browser


def sign_in(browser: TestClient, name: str = OFFICER, password: str = PASSWORD) -> httpx.Response:
    return browser.post("/api/v1/session", json={"tenant": DKI, "name": name, "password": password})


def test_failed_sign_ins_are_rate_limited_per_name_and_per_client(make_client: ClientFactory, engine: Engine) -> None:
    give_password(engine)
    browser = browser_at(make_client(as_user=None, level_store="sql", login_user_burst=2, login_ip_burst=5, **NO_REFILL))
    assert [sign_in(browser, password="wrong password one").status_code for _ in range(2)] == [401, 401]
    limited = sign_in(browser)  # even the right password waits: the guesser cannot tell
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    assert "set-cookie" not in limited.headers
    # Other names from the same client: three more failures spend the client's five.
    assert [sign_in(browser, name=f"guess {n}").status_code for n in range(3)] == [401, 401, 401]
    assert sign_in(browser, name=HEAD).status_code == 429


def test_successful_sign_ins_spend_nothing(make_client: ClientFactory, engine: Engine) -> None:
    give_password(engine)
    browser = browser_at(make_client(as_user=None, level_store="sql", login_user_burst=1, login_ip_burst=1, login_user_total_burst=1))
    assert [sign_in(browser).status_code for _ in range(3)] == [200, 200, 200]


def test_a_stranger_failing_as_someone_does_not_lock_them_out(make_client: ClientFactory, engine: Engine) -> None:
    """The strict limit is per name and client: the officer, elsewhere, still signs in."""
    give_password(engine)
    app = make_client(as_user=None, level_store="sql", login_user_burst=3, **NO_REFILL)
    stranger, officer = browser_at(app, "198.51.100.66"), browser_at(app, "203.0.113.10")
    assert [sign_in(stranger, password="guess number one").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert sign_in(officer).status_code == 200


def test_guessing_one_name_from_many_addresses_is_bounded_too(make_client: ClientFactory, engine: Engine) -> None:
    """All clients together have a ceiling for a name (higher than one client's): past it every
    client waits, the right password too (else its answer would tell the right guess)."""
    give_password(engine)
    app = make_client(as_user=None, level_store="sql", login_user_burst=2, login_user_total_burst=5, **NO_REFILL)
    codes = [sign_in(browser_at(app, f"198.51.100.{n}"), password="guess again").status_code for n in range(1, 4) for _ in range(2)]
    assert codes == [401, 401, 401, 401, 401, 429]
    assert sign_in(browser_at(app, "203.0.113.10")).status_code == 429
    assert sign_in(browser_at(app, "203.0.113.10"), name=HEAD).status_code == 401  # another name is not held up


def test_guesses_sent_at_once_are_counted_before_they_are_verified(
    make_client: ClientFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Thirty wrong passwords at once from one client, with five tries: five are verified, the
    rest answered 429 without a verification. (Verifications are held until the others are
    answered; were tries counted only after a verification, all thirty would reach one.)"""
    app = make_client(as_user=None, level_store="sql", login_user_burst=5, login_waiting=100, **NO_REFILL)
    browser = browser_at(app)
    release = threading.Event()
    verified: list[str] = []
    real = session_route.sign_in

    def held_sign_in(*args: object, **kwargs: object) -> object:
        release.wait(timeout=3)  # without the fix nothing is answered before this gives up
        verified.append("verified")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(session_route, "sign_in", held_sign_in)
    answers: list[int] = []

    def guess(n: int) -> None:
        answers.append(sign_in(browser, password=f"guess number {n:02d}").status_code)
        if answers.count(429) == 25 or 401 in answers:
            release.set()

    with ThreadPoolExecutor(max_workers=30) as pool:
        list(pool.map(guess, range(30)))

    assert sorted(answers) == [401] * 5 + [429] * 25
    assert len(verified) == 5


def test_a_flood_is_answered_503_rather_than_queued(
    make_client: ClientFactory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With both verification slots busy and the line full, another sign-in is told to come back
    (503, Retry-After) at once, spending none of its tries; once the line moves it signs in."""
    give_password(engine)
    app = make_client(as_user=None, level_store="sql", login_concurrency=2, login_waiting=1, login_ip_burst=100, login_user_burst=100)
    release = threading.Event()
    entered = threading.Semaphore(0)
    real = session_route.sign_in

    def held_sign_in(*args: object, **kwargs: object) -> object:
        entered.release()
        release.wait(timeout=10)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(session_route, "sign_in", held_sign_in)
    flood = [browser_at(app, f"198.51.100.{n}") for n in range(1, 4)]
    with ThreadPoolExecutor(max_workers=3) as pool:
        pending = [pool.submit(sign_in, b, password="flooding guess") for b in flood]
        for _ in range(2):
            assert entered.acquire(timeout=10)  # both slots taken; the third waits in line
        guard: session_route.SignInGuard = app.app.state.sign_in_guard  # type: ignore[attr-defined]
        for _ in range(1000):
            if guard.in_flight == 3:
                break
            threading.Event().wait(0.01)
        busy = sign_in(browser_at(app, "203.0.113.10"))
        release.set()
        assert [p.result().status_code for p in pending] == [401, 401, 401]
    assert (busy.status_code, busy.headers["retry-after"], busy.json()["code"]) == (503, "1", "sign_in_busy")
    assert sign_in(browser_at(app, "203.0.113.10")).status_code == 200

