"""People sign in to the console with a password, through its form, and out again.

The session lives in an HttpOnly, SameSite=Strict cookie that page scripts cannot read; a wrong
password or an unknown name get the same answer, so the form tells no one which names exist.
"""

from __future__ import annotations

import pytest

from bench.console_browser import api_call, sign_in, wait_ready
from console_live import OFFICER, SUPERVISOR, LiveConsole

pytestmark = pytest.mark.integration
SESSION_COOKIE = "tepi_session"


def test_a_person_signs_in_with_a_password_and_out_again(browsing, live: LiveConsole) -> None:  # type: ignore[no-untyped-def]
    page, watch = browsing.anonymous()
    page.goto(f"{live.base_url}/")
    wait_ready(page, "public")  # nobody signed in: the public page, with the way to sign in
    page.click("[data-testid=signin-link]")
    wait_ready(page, "login")

    sign_in(page, live.base_url, SUPERVISOR.tenant, SUPERVISOR.name, SUPERVISOR.password)

    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert SESSION_COOKIE not in page.evaluate("document.cookie"), "page scripts must not read the session"
    status, me = api_call(page, "GET", "/me")
    assert status == 200 and (me["name"], me["role"], me["tenant"]) == (SUPERVISOR.name, SUPERVISOR.role, SUPERVISOR.tenant)
    assert me["csrf_token"], "a cookie session gets its CSRF token"
    assert page.locator("[data-testid=signout]").is_visible()
    assert page.locator("nav a[data-page=alerts]").count() == 1, "the disaster office reads alerts"

    page.click("[data-testid=signout]")
    page.wait_for_selector('main#main[data-page-ready="login"], main#main[data-page-ready="public"]', state="attached")
    assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
    assert api_call(page, "GET", "/me")[0] == 401
    assert not watch.page_errors


def test_a_wrong_password_and_an_unknown_name_get_the_same_refusal(browsing, live: LiveConsole) -> None:  # type: ignore[no-untyped-def]
    refusals = []
    for name, password in ((OFFICER.name, OFFICER.password + "x"), ("Bukan Pengguna", OFFICER.password)):
        page, _watch = browsing.anonymous()
        page.goto(f"{live.base_url}/#/login")
        wait_ready(page, "login")
        page.select_option("#login-tenant", OFFICER.tenant)
        page.fill("#login-name", name)
        page.fill("#login-password", password)
        page.click("[data-testid=login-submit]")
        error = page.wait_for_selector("[data-testid=login-error]", state="visible")
        refusals.append(error.inner_text().strip())
        assert page.get_attribute("main#main", "data-page-ready") == "login"
        assert SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}
        assert api_call(page, "GET", "/me")[0] == 401
    assert refusals[0] and refusals[0] == refusals[1]
