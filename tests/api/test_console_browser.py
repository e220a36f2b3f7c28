"""The console shell in a real browser (headless Chromium): it loads, lists the river story's
alerts, shows a new one live, lets an officer acknowledge with a note and a viewer not, speaks
Indonesian and English, and works on a phone.

Signed in by an API key as a bearer header (see `console_fixtures`); SQLite only: the state
store's backends are the API tests' business, not the page's.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from api_people import DKI, OFFICER, app_settings
from console_fixtures import PHONE, ConsolePageFactory
from playwright.sync_api import Browser, Route, expect
from prometheus_client import CollectorRegistry
from river_story import T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.console.land import tenant_region
from api.main import create_app
from api.testing import bearer, serve
from central.accounts import set_password
from central.db import Alert, User, writer
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


def test_alert_rows_name_their_stations(console_page: ConsolePageFactory, engine: Engine) -> None:
    """People read "Pos Depok (Panus)", not the id "depok"; the acknowledge dialog names it too."""
    page = console_page().open("alerts")
    with Session(engine) as s:
        ids = {a.id: a.station_id for a in s.scalars(sa.select(Alert).where(Alert.tenant_id == DKI))}
    names = {"depok": "Pos Depok (Panus)", "katulampa": "Bendung Katulampa", "manggarai": "Pintu Air Manggarai"}
    for alert_id, station in ids.items():
        expect(page.locator(f'{ROW}[data-alert-id="{alert_id}"] h3')).to_have_text(f"Siaga · {names[station]}")
    katulampa = next(i for i, station in ids.items() if station == "katulampa")
    page.locator(f'{ROW}[data-alert-id="{katulampa}"] [data-testid=alert-ack]').click()
    expect(page.locator("#alert-dialog-title")).to_have_text("Tanggapi peringatan · Bendung Katulampa")


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


def test_an_acknowledged_alert_that_gets_worse_is_active_again_live(console_page: ConsolePageFactory, engine: Engine) -> None:
    """Acknowledged at Siaga III, then Manggarai reaches Siaga II: the stream's event makes the
    row active again, with its acknowledge button (newest by the event's order, not by status)."""
    page = console_page().open("alerts")
    expect(page.locator("[data-testid=live-status]")).to_have_attribute("data-state", "live")
    with Session(engine) as s:
        alert_id = s.scalars(sa.select(Alert.id).where(Alert.station_id == "manggarai", Alert.status == "active")).one()
    row = page.locator(f'{ROW}[data-alert-id="{alert_id}"]')
    row.locator("[data-testid=alert-ack]").click()
    page.locator("[data-testid=alert-note-submit]").click()
    expect(row).to_have_attribute("data-status", "acknowledged")
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([siaga_change("manggarai", T0 + timedelta(hours=6), 2, 820.0, siaga_from=3, seq=7)]), SqlPointSink(s))
    with Session(engine) as s:
        assert s.get(Alert, alert_id).status == "active"  # type: ignore[union-attr]
    expect(row).to_have_attribute("data-status", "active")
    expect(row).to_contain_text("Siaga II (Siaga)")
    expect(row.locator("[data-testid=alert-ack]")).to_have_count(1)


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


def test_device_health_shows_each_gateway_and_its_devices(console_page: ConsolePageFactory, engine: Engine) -> None:
    from central.reach_models import GatewayHealth

    now = datetime.now(timezone.utc)
    with Session(writer(engine)) as s, s.begin():
        for tenant, gateway, heard in ((DKI, "gw-ciliwung", now), (DKI, "gw-silent", now - timedelta(hours=2)), ("kab-badung", "gw-badung", now)):
            s.add(GatewayHealth(
                tenant_id=tenant, gateway=gateway, report_id=f"{gateway}-1", reported_at=heard, received_at=heard,
                uptime_s=7200.0, outbox_items=3, outbox_bytes=2048, rejected_frames=5, rejected_by_reason={"checksum": 5},
                link_up=True, report_every_s=300.0,
                devices=[{"device": f"{gateway}-awlr", "kind": "awlr", "platform": "depok", "battery_v": 12.6, "rejected_frames": 5}],
            ))
    page = console_page(as_user=(DKI, VIEWER)).open("health")
    rows = page.locator("[data-testid=gateway-row]")
    expect(rows).to_have_count(2)  # not Badung's
    expect(page.locator('[data-gateway="gw-ciliwung"]')).to_have_attribute("data-state", "ok")
    expect(page.locator('[data-gateway="gw-silent"]')).to_have_attribute("data-state", "stale")
    expect(page.locator('[data-gateway="gw-silent"]')).to_contain_text("Tidak terdengar")
    expect(page.locator('[data-gateway="gw-ciliwung"]')).to_contain_text("5 (checksum 5)")
    expect(page.locator('[data-testid=device-row][data-device="gw-ciliwung-awlr"]')).to_contain_text("12.6 V")


def test_an_officer_subscribes_by_email_and_webhook_and_unsubscribes(console_page: ConsolePageFactory) -> None:
    page = console_page().open("subscriptions")
    rows = page.locator("[data-testid=subscription-row]")
    expect(rows).to_have_count(0)
    page.locator("#sub-target").fill("piket@bpbd.jakarta.go.id")
    page.get_by_label("Siaga", exact=True).check()
    page.locator("#sub-subjects").fill("katulampa, depok")
    page.locator("[data-testid=subscription-add]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("piket@bpbd.jakarta.go.id")
    expect(rows.first).to_contain_text("katulampa, depok")
    page.locator("#sub-channel").select_option("webhook")
    page.locator("#sub-target").fill("https://wa-gateway.bpbd.example/tepi")
    page.locator("[data-testid=subscription-add]").click()
    expect(rows).to_have_count(2)
    expect(page.locator("[data-testid=signing-secret]")).not_to_be_empty()  # shown once, now
    rows.first.get_by_role("button").click()
    expect(rows).to_have_count(1)
    again = console_page().open("subscriptions")  # a new page of the same user: what the server kept
    expect(again.locator("[data-testid=subscription-row]")).to_have_count(1)
    expect(again.locator("[data-testid=subscription-row]")).to_contain_text("wa-gateway.bpbd.example")


def test_a_viewer_is_offered_only_the_alert_types_it_may_read(console_page: ConsolePageFactory) -> None:
    """SOS and overdue vessels name a boat and its crew: the API refuses a viewer's subscription
    to them, so the form does not offer them; an officer's does."""
    offered = "els => els.map(e => e.value)"
    viewer = console_page(as_user=(DKI, VIEWER)).open("subscriptions")
    types = viewer.locator("input[name=alert_types]").evaluate_all(offered)
    assert "siaga" in types and "marine" in types and not {"sos", "overdue"} & set(types)
    officer = console_page().open("subscriptions")
    assert {"sos", "overdue"} <= set(officer.locator("input[name=alert_types]").evaluate_all(offered))


def test_maps_draw_the_tenants_land_without_tiles_and_charts_fit_their_box(
    console_page: ConsolePageFactory, default_config: TepiConfig
) -> None:
    """The shell's `ctx.map` and `ctx.chart` (shell/visual.js), as a kind's page calls them."""
    console = console_page()
    page = console.open("alerts")
    drawn = page.evaluate(
        """async () => {
          const {makeMap, makeChart} = await import('/console/assets/shell/visual.js');
          const {makeApi} = await import('/console/assets/shell/api.js');
          const box = (w) => Object.assign(document.body.appendChild(document.createElement('div')), {style: `width:${w}px;height:300px`});
          const env = {api: makeApi({csrf: null}, () => {}), t: (k) => k, onCleanup: () => {}};
          const mapEl = box(400);
          const map = await makeMap(mapEl, {}, env);
          const b = map.getBounds();
          const one = await makeMap(box(400), {bbox: [106.8375, -6.6336, 106.8375, -6.6336]}, env);
          const chartEl = box(333);
          const chart = makeChart(chartEl, {series: [{}, {label: 'cm'}]}, [[1, 2, 3], [10, 20, 15]], env);
          return {land: mapEl.querySelectorAll('path.tepi-land').length, bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],
                  loneZoom: one.getZoom(), chartWidth: chart.width, canvas: chartEl.querySelectorAll('canvas').length};
        }"""
    )
    assert drawn["land"] == 1 and drawn["canvas"] == 1 and drawn["chartWidth"] == 333
    region = tenant_region(default_config, DKI)
    west, south, east, north = drawn["bounds"]  # fitted to the tenant's region (the map's aspect may widen it)
    assert west <= region.west + 0.2 and east >= region.east - 0.2 and south <= region.south + 0.2 and north >= region.north - 0.2
    assert drawn["loneZoom"] < 15  # a lone station is shown with its surroundings
    assert console.outside_requests() == [] and console.console_errors == []


def test_a_person_signs_in_with_a_password_lands_where_they_were_going_and_signs_out(
    console_page: ConsolePageFactory, engine: Engine
) -> None:
    """The cookie session end to end: the sign-in form (tenants listed), a wrong password, the
    page asked for before signing in, acknowledging with the CSRF token, signing out for good."""
    password = "sungai ciliwung meluap 2025"
    with Session(writer(engine)) as s, s.begin():
        set_password(s, s.scalars(sa.select(User).where(User.name == OFFICER)).one(), password, datetime.now(timezone.utc))
    console = console_page(as_user=None)
    page = console.page
    page.goto(f"{console.base_url}/#/alerts")
    console.wait_ready("login")
    expect(page.locator("#login-tenant option")).to_contain_text(["Pilih instansi", "BPBD Provinsi DKI Jakarta"])
    page.locator("#login-tenant").select_option(DKI)
    page.locator("#login-name").fill(OFFICER)
    page.locator("#login-password").fill("not the password at all")
    page.locator("[data-testid=login-submit]").click()
    expect(page.locator("[data-testid=login-error]")).to_have_text("Instansi, nama atau kata sandi salah.")
    page.locator("#login-password").fill(password)
    page.locator("[data-testid=login-submit]").click()
    console.wait_ready("alerts")
    expect(page.locator("[data-testid=who]")).to_contain_text(OFFICER)
    expect(page.locator("[data-testid=live-status]")).to_have_attribute("data-state", "live")
    row = page.locator(f'{ROW}[data-status="active"]').first
    row.locator("[data-testid=alert-ack]").click()
    page.locator("[data-testid=alert-note-submit]").click()  # no note: it is optional
    expect(page.locator(f'{ROW}[data-status="acknowledged"]')).to_have_count(1)
    page.locator("[data-testid=signout]").click()
    expect(page.locator("[data-testid=who]")).to_have_text("")
    page.goto(f"{console.base_url}/#/alerts")
    page.reload()
    console.wait_ready("login")
    expect(page.locator("[data-testid=live-status]")).to_be_hidden()


def test_a_refused_sign_out_says_so_and_stays_signed_in(console_page: ConsolePageFactory, engine: Engine) -> None:
    """The server refuses the sign-out (a wrong CSRF token, 403): the session is still valid, so
    the console says it could not sign out instead of showing the person signed out."""
    password = "sungai ciliwung meluap 2025"
    with Session(writer(engine)) as s, s.begin():
        set_password(s, s.scalars(sa.select(User).where(User.name == OFFICER)).one(), password, datetime.now(timezone.utc))
    console = console_page(as_user=None)
    page = console.page
    page.goto(f"{console.base_url}/#/alerts")
    console.wait_ready("login")
    page.locator("#login-tenant").select_option(DKI)
    page.locator("#login-name").fill(OFFICER)
    page.locator("#login-password").fill(password)
    page.locator("[data-testid=login-submit]").click()
    console.wait_ready("alerts")

    def wrong_token(route: Route) -> None:
        if route.request.method == "DELETE":
            route.continue_(headers={**route.request.headers, "x-csrf-token": "not-the-token"})
        else:
            route.continue_()

    page.route("**/api/v1/session", wrong_token)
    page.locator("[data-testid=signout]").click()
    expect(page.locator("[data-testid=signout-error]")).to_contain_text("Anda masih masuk")
    expect(page.locator("[data-testid=who]")).to_contain_text(OFFICER)
    expect(page.locator("[data-testid=signout]")).to_be_visible()
    assert page.evaluate("fetch('/api/v1/me').then(r => r.status)") == 200  # the session is indeed valid

    page.unroute("**/api/v1/session")
    page.locator("[data-testid=signout]").click()
    expect(page.locator("[data-testid=who]")).to_have_text("")
    assert page.evaluate("fetch('/api/v1/me').then(r => r.status)") == 401
