"""The river kind's console pages in a real browser (headless Chromium, `console_fixtures`):
the rivers map and list, a station's level chart, and the public page without any sign-in.

What a user sees: each station with its Siaga label in words beside the colour, the trend, the
chart's thresholds and QC marks, times in the tenant's zone; another tenant's stations never.
SQLite only: the stores' backends are the API tests' business, not the pages'.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from api_people import DKI, OFFICER
from console_fixtures import PHONE, ConsolePageFactory
from playwright.sync_api import Request, expect
from river_story import BADUNG, T0
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from central.db import Station, writer
from ingest.service import apply_batch
from ingest.testing import batch, rate_of_rise
from kinds.awlr.ingest.points import SqlPointSink

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ROW = "[data-testid=station-row]"


def test_rivers_list_and_map_every_station_with_its_siaga_label_and_trend(console_page: ConsolePageFactory) -> None:
    console = console_page()
    page = console.open("rivers")
    rows = page.locator(ROW)
    # Worst first: Katulampa at Siaga II, Manggarai at Siaga III, Depok normal; Badung's never.
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.stationId)") == ["katulampa", "manggarai", "depok"]
    expect(rows.nth(0)).to_contain_text("Siaga II (Siaga)")
    expect(rows.nth(1)).to_contain_text("Siaga III (Waspada)")
    expect(rows.nth(2)).to_contain_text("Siaga IV (Normal)")
    expect(rows.nth(2)).to_contain_text("naik +6 cm/jam")  # Depok's last half hour
    expect(page.locator(f'{ROW}[data-station-id="{BADUNG}"]')).to_have_count(0)
    expect(page.locator(".awlr-map")).to_have_attribute("data-station-count", "3")
    marks = page.evaluate("performance.getEntriesByType('mark').map(m => m.name)")
    assert "map-drawn:rivers" in marks
    assert console.console_errors == [] and console.page_errors == [] and console.outside_requests() == []

    page.locator("#rivers-filter").fill("depok")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    console.wait_ready("station")
    expect(page.locator("h1")).to_have_text("Pos Depok (Panus)")


def test_a_stations_chart_shows_its_thresholds_qc_and_local_times(console_page: ConsolePageFactory) -> None:
    console = console_page()
    page = console.open("station/manggarai")
    expect(page.locator("h1")).to_have_text("Pintu Air Manggarai")
    thresholds = page.locator("[data-testid=threshold]")
    expect(thresholds).to_have_count(3)
    expect(thresholds.nth(0)).to_contain_text(re.compile(r"Siaga III \(Waspada\)\s*mulai \d+ cm"))
    expect(thresholds.nth(2)).to_contain_text("Siaga I (Awas)")
    expect(page.locator(".awlr-chart canvas").first).to_be_visible()
    # Manggarai's history has a window of suspect readings only: counted, and in the chart's legend.
    qc = page.locator("[data-testid=qc-summary]")
    expect(qc).to_have_attribute("data-suspect", "8")
    expect(qc).to_contain_text("8 bacaan meragukan")
    expect(page.locator(".u-legend")).to_contain_text("Ada bacaan meragukan (QC)")
    # The story is from January 2025: the page says so and shows the station's last day.
    expect(page.locator(".awlr-note")).to_contain_text("Tidak ada data baru sejak")
    page.locator("details summary").click()
    first_time = page.locator("details tbody th").first
    expect(first_time).to_have_text(re.compile(r"^\d\d/\d\d \d\d:\d\d WIB$"))  # the tenant's zone, WIB
    week = page.locator('button[data-range="7d"]')
    week.click()
    expect(week).to_have_attribute("aria-pressed", "true")
    expect(page.locator("section.page")).to_have_attribute("data-shown-range", "7d")
    assert console.console_errors == [] and console.page_errors == []


def test_the_public_page_needs_no_sign_in_and_asks_nothing_that_needs_one(console_page: ConsolePageFactory, engine: Engine) -> None:
    # Depok, back to normal, rises fast again: a rate-of-rise warning while its level is still Siaga IV.
    with Session(writer(engine)) as s, s.begin():
        apply_batch(s, batch([rate_of_rise("depok", T0 + timedelta(hours=6), True, 180.0, rate_cm_per_h=112.0, seq=9)]), SqlPointSink(s))
    console = console_page(as_user=None, viewport=PHONE)
    page = console.page
    asked: list[Request] = []
    page.on("request", lambda r: asked.append(r))
    page.goto(f"{console.base_url}/")
    console.wait_ready("public")
    expect(page.locator("#public-tenant")).to_have_value(DKI)
    stations = page.locator("[data-testid=public-station]")
    expect(stations).to_have_count(3)
    expect(stations.first).to_contain_text("Siaga II (Siaga)")
    warnings = page.locator("[data-testid=public-warning]")
    expect(warnings).to_have_count(3)  # Katulampa and Manggarai; Depok's Siaga ended, its fast rise is on
    expect(warnings.first).to_contain_text("SIAGA II (Siaga) di Bendung Katulampa")
    expect(warnings.first.locator(".awlr-siaga")).to_have_text("IISiaga II (Siaga)")
    rising = page.locator('[data-testid=public-warning][data-type="rate_of_rise"]')
    expect(rising.locator(".awlr-siaga")).to_have_text("↑Kenaikan cepat")  # its own badge, never a green "Normal"
    expect(rising).not_to_contain_text("Normal")
    expect(page.locator("[data-testid=signin-link]")).to_be_visible()
    for word in (OFFICER, "acknowledged", "Tanggapi"):
        expect(page.locator("main")).not_to_contain_text(word)

    page.locator("#public-tenant").select_option("kab-badung")
    console.wait_ready("public")
    expect(page.locator("section.page")).to_have_attribute("data-tenant", "kab-badung")
    expect(stations).to_have_count(1)
    expect(warnings).to_have_count(1)
    expect(page.locator(".awlr-map")).to_have_attribute("data-station-count", "1")

    api = [r for r in asked if "/api/v1/" in r.url]
    assert all("authorization" not in r.headers and "cookie" not in r.headers for r in asked)
    needs_sign_in = [r.url for r in api if "/api/v1/public/" not in r.url and not r.url.endswith("/api/v1/me")]
    assert needs_sign_in == []  # the shell asks who is signed in (/me); the page asks public things only
    assert console.page_errors == [] and console.outside_requests() == []


#: Keeps every Leaflet map the page makes in `window.__maps` (run before the page's scripts), so a
#: test can find where a canvas marker is drawn: canvas marks are no elements to hover.
KEEP_MAPS = """
(() => {
  let leaflet;
  Object.defineProperty(window, 'L', {configurable: true, get: () => leaflet, set(value) {
    leaflet = value;
    value.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
  }});
})();
"""


def test_a_stations_name_is_shown_as_text_never_as_markup(console_page: ConsolePageFactory, engine: Engine) -> None:
    """A name holding markup (data from a configuration file or an import) shows as written in
    the marker's tooltip: Leaflet would put a string in as HTML."""
    with Session(writer(engine)) as s, s.begin():
        s.get(Station, "depok").name = '<img src="/x" data-injected="1">Pos Depok'  # type: ignore[union-attr]
    console = console_page()
    console.page.add_init_script(KEEP_MAPS)
    page = console.open("rivers")
    x, y = page.evaluate("""() => {
      const map = window.__maps[window.__maps.length - 1];
      let spot = null;
      map.eachLayer((layer) => {
        if (layer.options.station?.id === 'depok') spot = map.latLngToContainerPoint(layer.getLatLng());
      });
      const box = map.getContainer().getBoundingClientRect();
      return [box.left + spot.x, box.top + spot.y];
    }""")
    page.mouse.move(x, y)
    tip = page.locator(".leaflet-tooltip")
    expect(tip).to_contain_text('<img src="/x" data-injected="1">Pos Depok (')
    expect(page.locator("[data-injected]")).to_have_count(0)
