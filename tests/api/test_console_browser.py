"""The console shell in a real browser (headless Chromium): it loads, lists the river story's
alerts, shows a new one live, lets an officer acknowledge with a note and a viewer not, speaks
Indonesian and English, and works on a phone.

Signed in by an API key as a bearer header (see `console_fixtures`); SQLite only: the state
store's backends are the API tests' business, not the page's.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from api_people import DKI, OFFICER, app_settings
from console_fixtures import PHONE, ConsolePageFactory
from playwright.sync_api import Browser, expect
from prometheus_client import CollectorRegistry
from river_story import T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.main import create_app
from api.testing import bearer, serve
from central.db import Alert, writer
from core.config import TepiConfig
from ingest.service import apply_batch
from ingest.testing import batch, siaga_change
from kinds.awlr.ingest.points import SqlPointSink

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

VIEWER = "Viewer DKI"
ROW = "[data-testid=alert-row]"


def open_alert_ids(engine: Engine, tenant: str = DKI) -> set[int]:
    with Session(engine) as s:
        return set(s.scalars(sa.select(Alert.id).where(Alert.tenant_id == tenant, Alert.status == "active")))


def all_alert_ids(engine: Engine, tenant: str) -> set[int]:
    with Session(engine) as s:
        return set(s.scalars(sa.select(Alert.id).where(Alert.tenant_id == tenant)))


def test_the_shell_loads_the_alerts_with_no_error_and_nothing_from_outside(
    console_page: ConsolePageFactory, engine: Engine
) -> None:
    console = console_page()
    page = console.open("alerts")
    shown = {int(i) for i in page.locator(ROW).evaluate_all("rows => rows.map(r => r.dataset.alertId)")}
    assert shown == all_alert_ids(engine, DKI)  # Depok's cleared alert, Katulampa's and Manggarai's open ones
    assert not shown & all_alert_ids(engine, "kab-badung")
    expect(page.locator("h1")).to_have_text("Peringatan")
    expect(page.locator("[data-testid=live-status]")).to_have_attribute("data-state", "live")
    assert console.console_errors == [] and console.page_errors == []
    assert console.outside_requests() == []


def test_a_new_alert_appears_live_and_is_marked(console_page: ConsolePageFactory, engine: Engine) -> None:
    console = console_page()
    page = console.open("alerts")
    expect(page.locator("[data-testid=live-status]")).to_have_attribute("data-state", "live")
    before = all_alert_ids(engine, DKI)
    with Session(writer(engine)) as s, s.begin():  # Depok rises again: a new Siaga alert
        apply_batch(s, batch([siaga_change("depok", T0 + timedelta(hours=6), 3, 210.0, siaga_from=4, seq=6)]), SqlPointSink(s))
    (new,) = all_alert_ids(engine, DKI) - before
    row = page.locator(f'{ROW}[data-alert-id="{new}"]')
    expect(row).to_have_attribute("data-status", "active")
    expect(row).to_contain_text("Siaga III (Waspada)")
    marks = page.evaluate("performance.getEntriesByType('mark').map(m => m.name)")
    assert any(m.startswith("sse-event:") for m in marks) and any(m.startswith("alert-shown:") for m in marks)


def test_an_officer_acknowledges_with_a_note(console_page: ConsolePageFactory, engine: Engine) -> None:
    page = console_page().open("alerts")
    alert_id = min(open_alert_ids(engine))
    row = page.locator(f'{ROW}[data-alert-id="{alert_id}"]')
    row.locator("[data-testid=alert-ack]").click()
    page.locator("[data-testid=alert-note]").fill("Tim menuju lokasi")
    page.locator("[data-testid=alert-note-submit]").click()
    expect(row).to_have_attribute("data-status", "acknowledged")
    expect(row.locator("[data-testid=alert-ack]")).to_have_count(0)
    expect(row).to_contain_text(OFFICER)
    with Session(engine) as s:
        alert = s.get(Alert, alert_id)
        assert alert is not None and (alert.status, alert.acknowledged_by) == ("acknowledged", OFFICER)


def test_a_viewer_gets_no_acknowledge_or_close_button(console_page: ConsolePageFactory) -> None:
    page = console_page(as_user=(DKI, VIEWER)).open("alerts")
    expect(page.locator(f'{ROW}[data-status="active"]')).to_have_count(2)
    expect(page.locator(f'{ROW}[data-status="cleared"]')).to_have_count(1)
    expect(page.locator("[data-testid=alert-ack], [data-testid=alert-close]")).to_have_count(0)


def test_the_language_switch_changes_the_navigation_and_is_remembered(console_page: ConsolePageFactory) -> None:
    console = console_page()
    page = console.open("alerts")
    link = page.locator('nav a[data-page="alerts"]')
    expect(link).to_have_text("Peringatan")
    page.locator("[data-testid=lang-switch]").click()
    console.wait_ready("alerts")
    expect(link).to_have_text("Alerts")
    expect(page.locator("h1")).to_have_text("Alerts")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.reload()
    console.wait_ready("alerts")
    expect(link).to_have_text("Alerts")


def test_on_a_phone_the_menu_button_shows_the_navigation(console_page: ConsolePageFactory) -> None:
    page = console_page(viewport=PHONE).open("alerts")
    menu = page.locator("[data-testid=menu-button]")
    link = page.locator('nav a[data-page="health"]')
    expect(menu).to_be_visible()
    expect(link).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(link).to_be_visible()
    link.click()
    page.wait_for_selector('main#main[data-page-ready="health"]', state="attached")
    expect(link).to_be_hidden()  # the menu closes on navigating
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_nobody_signed_in_gets_the_sign_in_form(console_page: ConsolePageFactory) -> None:
    console = console_page(as_user=None)
    page = console.open("login")
    expect(page.locator("#login-tenant")).to_be_visible()
    expect(page.locator("#login-name")).to_be_visible()
    expect(page.locator("#login-password")).to_have_attribute("type", "password")
    expect(page.locator("[data-testid=signout]")).to_be_hidden()
    page.goto(f"{console.base_url}/#/alerts")  # a page that needs a user: the sign-in form instead
    console.wait_ready("login")
    expect(page.locator("h1")).to_have_text("Masuk")



def test_the_stream_resumes_after_the_server_ends_it(
    console_browser: Browser, database_url: str, default_config: TepiConfig, engine: Engine, keys: dict[tuple[str, str], str]
) -> None:
    """The server ends each stream after `stream_max_s` (as a restart or a proxy would drop it):
    the browser reconnects, naming the last event it saw, and new alerts keep appearing."""
    settings = app_settings(database_url, level_store="sql", stream_poll_s=0.05, stream_max_s=0.3, stream_heartbeat_s=0.1)
    with serve(create_app(default_config, settings, registry=CollectorRegistry())) as url:
        context = console_browser.new_context(extra_http_headers=bearer(keys[(DKI, OFFICER)]))
        try:
            page = context.new_page()
            page.goto(f"{url}/#/alerts")
            page.wait_for_selector('main#main[data-page-ready="alerts"]', state="attached")
            with page.expect_request(lambda r: "/api/v1/alerts/stream" in r.url):
                pass  # the first stream has ended and the browser came back
            before = all_alert_ids(engine, DKI)
            with Session(writer(engine)) as s, s.begin():
                apply_batch(s, batch([siaga_change("depok", T0 + timedelta(hours=6), 3, 210.0, siaga_from=4, seq=6)]), SqlPointSink(s))
            (new,) = all_alert_ids(engine, DKI) - before
            expect(page.locator(f'{ROW}[data-alert-id="{new}"]')).to_have_attribute("data-status", "active")
            seq = max(int(m.split(":")[1]) for m in page.evaluate("performance.getEntriesByType('mark').map(m => m.name)") if m.startswith("sse-event:"))
            with page.expect_request(lambda r: "/api/v1/alerts/stream" in r.url) as resumed:
                pass
            assert resumed.value.header_value("last-event-id") == str(seq)
        finally:
            context.close()
