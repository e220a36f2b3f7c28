"""The marine conditions page in a real browser (headless Chromium, `console_fixtures`): Badung's
sea areas drawn in BMKG's categories with the category's name beside the colour, the forecast
hour chosen on a slider (with the keyboard), and a buoy with its latest observation; a marine
alert names its sea area on the alerts page.

SQLite only: the stores' backends are the API tests' business, not the page's.
"""

from __future__ import annotations

import re

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from api_people import BADUNG_TENANT, app_settings
from console_fixtures import ConsolePageFactory
from playwright.sync_api import expect
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from wavebuoy_marine_seas import AREAS, write_forecast

from api.testing import serve
from central.db import writer
from core.config import TepiConfig
from kinds.wavebuoy.api.routes_marine import request_time
from kinds.wavebuoy.marine_alerts import MarineWatch
from kinds.wavebuoy.state import WaveBuoy

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

BADUNG_OFFICER = (BADUNG_TENANT, "Petugas BPBD Badung")
#: The API's clock in these tests (`request_time` overridden), half past a fixed hour long gone:
#: the page must take "now" from the API's answer, never from the browser's or the test's clock,
#: so no hour can turn between the forecast written and the page drawn.
NOW = datetime(2026, 3, 14, 5, 0, tzinfo=timezone.utc)
API_TIME = NOW + timedelta(minutes=30)
AREA = "[data-testid=marine-area]"


def rising_sea(start: datetime, hours: int) -> dict:
    """South of Bali from slight (0.8 m) rising 0.9 m an hour; the Badung Strait slight throughout."""
    waves = {"perairan-selatan-bali": lambda k: 0.8 + 0.9 * k, "selat-badung": lambda k: 0.6}
    return {
        "type": "FeatureCollection",
        "issued": start.isoformat(),
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(hours=hours)).isoformat(),
        "features": [
            {
                "type": "Feature",
                "id": area,
                "geometry": {"type": "Polygon", "coordinates": [AREAS[area][1]]},
                "properties": {
                    "name": AREAS[area][0],
                    "hours": [
                        {"time": (start + timedelta(hours=k)).isoformat(), "wave_m": round(wave(k), 2), "wind_kn": 10}
                        for k in range(hours)
                    ],
                },
            }
            for area, wave in waves.items()
        ],
    }


@pytest.fixture
def rising_config(default_config: TepiConfig, tmp_path: Path) -> TepiConfig:
    """The default deployment with Badung's forecast file this test's: the rising sea."""
    path = write_forecast(tmp_path / "kab-badung.geojson", rising_sea(NOW, 6))
    tenants = [
        t.model_copy(update={"sea": t.sea.model_copy(update={"forecast_file": path})}) if t.id == BADUNG_TENANT else t
        for t in default_config.tenants
    ]
    return default_config.model_copy(update={"tenants": tenants})


@pytest.fixture
def console_url(database_url: str, rising_config: TepiConfig, engine: Engine) -> Iterator[str]:
    """The console over the river story, the rising sea off Badung, and a buoy in the Badung Strait."""
    from api.main import create_app

    config = rising_config
    with Session(writer(engine)) as s, s.begin():
        s.add(WaveBuoy(id="buoy-selat-badung", tenant_id=BADUNG_TENANT, name="Pelampung Selat Badung", lat=-8.72, lon=115.42,
                       observed_at=NOW - timedelta(minutes=20), hs_m=0.7, tp_s=8.0, wind_kn=9.0, wind_dir_deg=140.0))
    app = create_app(config, app_settings(database_url, level_store="sql"), registry=CollectorRegistry())
    app.dependency_overrides[request_time] = lambda: API_TIME
    with serve(app) as url:
        yield url


def test_sea_areas_in_bmkg_categories_and_the_slider_chooses_the_hour(console_page: ConsolePageFactory) -> None:
    console = console_page(as_user=BADUNG_OFFICER)
    page = console.open("marine")
    expect(page.locator("h1")).to_have_text("Kondisi laut")
    the_map = page.locator(".wb-map")
    expect(the_map).to_have_attribute("data-area-count", "2")
    expect(page.locator(".wb-map path.wb-area")).to_have_count(2)
    south = page.locator(f'{AREA}[data-area-id="perairan-selatan-bali"]')
    expect(south).to_have_attribute("data-category", "rendah")
    expect(south).to_contain_text("Rendah")  # the category's name, not its colour alone
    expect(page.locator(".wb-area-label", has_text="Perairan Selatan Bali")).to_contain_text("Rendah, 0,80 m")  # on the map too
    label = page.locator("[data-testid=marine-hour-label]")
    expect(label).to_contain_text("sekarang")
    first_hour = the_map.get_attribute("data-hour")

    slider = page.locator("#marine-hour")
    expect(slider).to_have_attribute("max", "5")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # two hours ahead: 0.8 + 1.8 = 2.6 m, rough
    expect(label).to_contain_text("(+2 jam)")
    expect(the_map).not_to_have_attribute("data-hour", first_hour or "")
    expect(south).to_have_attribute("data-category", "tinggi")
    expect(south).to_contain_text("Berbahaya bagi perahu kecil")
    expect(page.locator(f'{AREA}[data-area-id="selat-badung"]')).to_have_attribute("data-category", "rendah")

    buoy = page.locator("[data-testid=buoy-row]")
    expect(buoy).to_have_count(1)
    expect(buoy).to_contain_text("Pelampung Selat Badung")
    expect(buoy).to_contain_text("0,70 m")  # centimetres, as limits are set, in Indonesian
    assert console.console_errors == [] and console.page_errors == [] and console.outside_requests() == []


def test_without_a_current_forecast_the_page_never_shows_a_calm_sea(console_page: ConsolePageFactory) -> None:
    page = console_page().open("marine")  # DKI Jakarta's duty officer: no sea section
    expect(page.locator("[data-testid=marine-no-forecast]")).to_contain_text("bukan berarti laut tenang")
    # Why, in the reader's language; the API's English words only small beneath.
    expect(page.locator("[data-testid=marine-problem]")).to_have_text(re.compile(r"^Wilayah ini belum punya bagian laut"))
    expect(page.locator("#marine-hour")).to_have_count(0)
    expect(page.locator(AREA)).to_have_count(0)


def test_a_marine_alert_on_the_alerts_page_names_its_sea_area(
    console_page: ConsolePageFactory, rising_config: TepiConfig, engine: Engine
) -> None:
    with Session(writer(engine)) as s, s.begin():  # two hours on, south of Bali is rough: 2.6 m
        assert MarineWatch.from_config(rising_config).check(s, NOW + timedelta(hours=2)) == {
            f"{BADUNG_TENANT}/perairan-selatan-bali": "opened"
        }
    page = console_page(as_user=BADUNG_OFFICER).open("alerts")
    expect(page.locator('[data-testid=alert-row][data-type="marine"] h3')).to_have_text("Cuaca laut · Perairan Selatan Bali")


def test_a_buoys_name_is_shown_as_text_never_as_markup(console_page: ConsolePageFactory, engine: Engine) -> None:
    """A name holding markup shows as written in the buoy's tooltip: Leaflet would put a string in as HTML."""
    with Session(writer(engine)) as s, s.begin():
        s.get(WaveBuoy, "buoy-selat-badung").name = '<img src="/x" data-injected="1">Pelampung Selat Badung'  # type: ignore[union-attr]
    page = console_page(as_user=BADUNG_OFFICER).open("marine")
    page.locator(".wb-map path.wb-buoy").hover()
    tip = page.locator(".leaflet-tooltip:not(.wb-area-label)")
    expect(tip).to_contain_text('<img src="/x" data-injected="1">Pelampung Selat Badung: 0,70 m')
    expect(page.locator("[data-injected]")).to_have_count(0)
