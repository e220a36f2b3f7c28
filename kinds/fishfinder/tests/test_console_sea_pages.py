"""The sea pages of the console in Chromium, over a real API (uvicorn) and Badung's real coast:
an SOS incident listed with its vessel and acknowledged by the disaster office, never by the
fisher whose vessel it is (who opens it, with no list of incidents in their navigation); an
overdue vessel marked; a route's verdict and distance after picking a fishing ground; and no sea
page in a viewer's navigation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from api_people import BADUNG_TENANT
from console_fixtures import ConsolePage, ConsolePageFactory
from playwright.sync_api import Page, expect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.testing import TEST_PEPPER, bearer, issue_keys
from central.db import writer
from central.models import User
from contract.clock import utcnow
from core.config import TepiConfig, load_config
from kinds.fishfinder.ingest.overdue import check_overdue
from kinds.fishfinder.state import SchoolSighting, Vessel, VesselPosition, register_vessel

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the pages, not the store, are tested

OFFICER, FISHER, VIEWER = "Petugas BPBD Badung", "Nelayan Benoa", "Viewer Badung"
BENOA = (-8.7394, 115.2083)
#: Open water south of the Bukit's cliffs (a ground's cell centre; sea on global-land-mask).
BUKIT = (-8.905, 115.155)
#: Where KM Benoa calls for help, and where KM Bantu is (about 6 km away).
DISTRESS = (-8.80, 115.26)
HELPER = (-8.83, 115.30)


@pytest.fixture(scope="module")
def sea_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-sea")


@pytest.fixture
def default_config(sea_files: Path) -> TepiConfig:
    """The shipped configuration, Badung's forecast file absent: no route is "go" without one."""
    cfg = load_config()
    tenants = [
        t.model_copy(update={"sea": t.sea.model_copy(update={"forecast_file": sea_files / "no-forecast.geojson", "hazards_file": None})})
        if t.id == BADUNG_TENANT and t.sea is not None else t
        for t in cfg.tenants
    ]  # fmt: skip
    return cfg.model_copy(update={"tenants": tenants})


def _fix(s: Session, vessel: Vessel, at: Any, spot: tuple[float, float]) -> None:
    s.add(VesselPosition(tenant_id=vessel.tenant_id, vessel_id=vessel.id, ts=at, lat=spot[0], lon=spot[1]))
    vessel.last_lat, vessel.last_lon, vessel.last_fix_at = spot[0], spot[1], at


@pytest.fixture
def sea(engine: Engine, keys: dict[tuple[str, str], str]) -> dict[tuple[str, str], str]:
    """Badung's fisher owns KM Benoa (6 kn, 4 l/h); KM Bantu is near; KM Telat is past its return;
    the three boats found fish south of the Bukit an hour ago (a fishing ground)."""
    people = [(BADUNG_TENANT, "fisher", FISHER), (BADUNG_TENANT, "viewer", VIEWER)]
    keys.update(issue_keys(engine, TEST_PEPPER, people))
    now = utcnow()
    with Session(writer(engine)) as s, s.begin():
        owner = s.scalar(sa.select(User.id).where(User.name == FISHER))
        boats = {
            vessel_id: register_vessel(s, vessel_id=vessel_id, tenant=BADUNG_TENANT, name=name, home_port="Benoa",
                                       gateway_id=f"gw-{vessel_id}", now=now, speed_kn=6.0, fuel_l_per_h=4.0, owner_user=owner_id)
            for vessel_id, name, owner_id in [("km-benoa", "KM Benoa", owner), ("km-bantu", "KM Bantu", None), ("km-telat", "KM Telat", None)]
        }  # fmt: skip
        _fix(s, boats["km-benoa"], now - timedelta(minutes=30), BENOA)
        _fix(s, boats["km-bantu"], now - timedelta(minutes=5), HELPER)
        _fix(s, boats["km-telat"], now - timedelta(minutes=20), (-8.95, 115.40))
        boats["km-telat"].at_sea, boats["km-telat"].expected_return_at = True, now - timedelta(hours=2)
        for n, vessel_id in enumerate(boats):
            at = now - timedelta(hours=1)
            s.add(SchoolSighting(item_id=f"school-{n}", tenant_id=BADUNG_TENANT, vessel_id=vessel_id, gateway=f"gw-{vessel_id}",
                                 start=at - timedelta(minutes=2), end=at, lat=BUKIT[0] + 0.0004 * n, lon=BUKIT[1] - 0.0004 * n,
                                 top_m=15.0, bottom_m=35.0, mean_sv_db=-55.0, pings=40))  # fmt: skip
    with Session(writer(engine)) as s, s.begin():
        assert check_overdue(s, now, now - timedelta(hours=1)) == ["km-telat"]
    return keys


def _ready(page: Page, page_id: str) -> None:
    expect(page.locator(f'main#main[data-page-ready="{page_id}"]')).to_be_attached()
    expect(page.locator("main#main[data-page-error]")).to_have_count(0)


def _open(console_page: ConsolePageFactory, who: str, route: str) -> tuple[ConsolePage, Page]:
    console = console_page(as_user=(BADUNG_TENANT, who))
    page = console.open(route)
    expect(page.locator("main#main[data-page-error]")).to_have_count(0)
    return console, page


def _no_errors(*consoles: ConsolePage) -> None:
    for console in consoles:
        assert (console.console_errors, console.page_errors) == ([], [])


def test_an_sos_is_acknowledged_by_the_rescue_and_its_fisher_sees_help_coming(
    sea: dict[tuple[str, str], str], console_url: str, console_page: ConsolePageFactory
) -> None:
    raised = httpx.post(f"{console_url}/api/v1/sos", headers=bearer(sea[(BADUNG_TENANT, FISHER)]),
                        json={"vessel": "km-benoa", "lat": DISTRESS[0], "lon": DISTRESS[1], "nature": "sinking"})  # fmt: skip
    assert raised.status_code == 201, raised.text
    incident = raised.json()["id"]

    fishing, fisher = _open(console_page, FISHER, f"sos/{incident}")
    expect(fisher.locator("h1")).to_have_text("SOS: KM Benoa")
    expect(fisher.get_by_test_id("sos-help")).to_have_text("Menunggu tanggapan tim penyelamat.")
    expect(fisher.get_by_test_id("sos-acknowledge")).to_have_count(0)
    expect(fisher.get_by_test_id("sos-resolve")).to_have_count(0)
    expect(fisher.get_by_test_id("sos-nearest")).to_have_count(0)  # other boats' positions are not theirs
    # Their incident opens by its address, but the list of every incident is not in their navigation.
    expect(fisher.locator('nav a[data-page="grounds"]')).to_have_count(1)
    expect(fisher.locator('nav a[data-page="sos"]')).to_have_count(0)

    rescue, officer = _open(console_page, OFFICER, "sos")
    expect(officer.locator('nav a[data-page="sos"]')).to_have_count(1)
    row = officer.locator(f'[data-testid=sos-row][data-incident-id="{incident}"]')
    expect(row).to_have_attribute("data-status", "open")
    expect(row).to_contain_text("KM Benoa (km-benoa)")
    expect(row).to_contain_text("Tenggelam")
    row.get_by_role("link").click()
    _ready(officer, "sos")
    expect(officer.locator('[data-testid=sos-nearest][data-vessel-id="km-bantu"]')).to_contain_text("KM Bantu")
    expect(officer.locator('[data-testid=casualty-marker][data-vessel-id="km-benoa"]')).to_be_attached()
    officer.get_by_label("Catatan").fill("Basarnas Denpasar berangkat")
    officer.get_by_test_id("sos-acknowledge").click()
    acknowledged = officer.locator('[data-testid=sos-lifecycle] li[data-step="acknowledged"]')
    expect(acknowledged).to_contain_text(f"oleh {OFFICER} — Basarnas Denpasar berangkat")
    expect(officer.get_by_test_id("sos-status")).to_have_text("Ditanggapi")
    expect(officer.get_by_test_id("sos-acknowledge")).to_have_count(0)
    expect(officer.get_by_test_id("sos-resolve")).to_be_visible()

    fisher.reload()
    _ready(fisher, "sos")
    expect(fisher.get_by_test_id("sos-help")).to_have_text("Tim penyelamat sudah menanggapi: bantuan sedang menuju.")
    acknowledged = fisher.locator('[data-testid=sos-lifecycle] li[data-step="acknowledged"]')
    expect(acknowledged).not_to_contain_text(OFFICER)  # operators' names and notes are theirs
    expect(acknowledged).not_to_contain_text("Basarnas")

    officer.get_by_test_id("sos-resolve").click()
    expect(officer.get_by_test_id("sos-status")).to_have_text("Selesai")
    expect(officer.locator('[data-testid=sos-lifecycle] li[data-step="resolved"]')).to_contain_text(f"oleh {OFFICER}")
    expect(officer.get_by_test_id("sos-resolve")).to_have_count(0)
    _no_errors(fishing, rescue)


def test_an_overdue_vessel_is_marked_and_a_viewer_gets_no_sea_page(
    sea: dict[tuple[str, str], str], console_page: ConsolePageFactory
) -> None:
    rescue, officer = _open(console_page, OFFICER, "vessels")
    late = officer.locator('[data-testid=vessel-row][data-vessel-id="km-telat"]')
    expect(late).to_have_attribute("data-overdue", "true")
    expect(late.get_by_test_id("overdue-badge")).to_contain_text("Terlambat: lewat waktu kembali")
    expect(officer.locator('[data-testid=vessel-row][data-vessel-id="km-benoa"] [data-testid=overdue-badge]')).to_have_count(0)
    expect(officer.locator("[data-testid=vessel-row]").first).to_have_attribute("data-vessel-id", "km-telat")
    expect(officer.locator('[data-testid=vessel-marker][data-vessel-id="km-telat"]')).to_have_attribute("data-overdue", "true")
    # The map shows the coast the boats sail from: Benoa's port among them, and no closer than zoom 11.
    expect(officer.get_by_test_id("port-marker")).to_have_attribute("aria-label", "Pelabuhan asal: Benoa")
    assert float(officer.locator(".sea-map").get_attribute("data-zoom") or "99") <= 11
    expect(officer.locator(".sea-legend")).to_contain_text("Pelabuhan asal")
    late.get_by_test_id("vessel-track").click()
    expect(officer.get_by_test_id("track-info")).to_have_text("Lintasan KM Telat 24 jam terakhir: 1 titik")

    watching, viewer = _open(console_page, VIEWER, "alerts")
    expect(viewer.locator("nav a[data-page]").first).to_be_attached()
    for page_id in ("sos", "vessels", "grounds"):
        expect(viewer.locator(f'nav a[data-page="{page_id}"]')).to_have_count(0)
    expect(officer.locator('nav a[data-page="vessels"]')).to_have_count(1)
    # On the alerts page the overdue alert names the boat, not its id.
    rescue.open("alerts")
    expect(officer.locator('[data-testid=alert-row][data-type="overdue"] h3')).to_have_text("Kapal terlambat · KM Telat")
    _no_errors(rescue, watching)


def test_picking_a_ground_plans_the_route_with_its_verdict_and_distance(
    sea: dict[tuple[str, str], str], console_page: ConsolePageFactory
) -> None:
    fishing, fisher = _open(console_page, FISHER, "grounds")
    expect(fisher.locator("#route-vessel")).to_have_value("km-benoa")
    expect(fisher.locator("#route-from")).to_have_value("-8.73940,115.20830")
    ground = fisher.get_by_test_id("ground-row")
    expect(ground).to_have_count(1)
    expect(ground).to_contain_text("3 kapal")
    ground.click()
    verdict = fisher.get_by_test_id("route-verdict")
    expect(verdict).to_have_attribute("data-verdict", "caution")  # no current forecast: never go
    expect(verdict).to_have_text("Hati-hati")
    expect(fisher.get_by_test_id("route-distance")).to_contain_text("nmi")
    expect(fisher.locator('[data-testid=route-reason][data-code="no_forecast"]')).to_contain_text("Tidak ada prakiraan terkini")
    expect(fisher.get_by_test_id("route-fuel")).to_contain_text("L")
    expect(fisher.locator("path.sea-route")).to_have_count(1)
    # The ground is drawn as water (its own dashed style, in the key beside the land), never as land.
    expect(fisher.locator("path.sea-ground.sea-ground-picked")).to_have_count(1)
    expect(fisher.locator(".sea-legend")).to_contain_text("Daerah penangkapan ikan")
    expect(fisher.locator(".sea-legend")).to_contain_text("Daratan")

    # A start on land, then one that is no position: said in Indonesian, the API's English small beside.
    error = fisher.get_by_test_id("route-error")
    for start, code, words in (("-8.30,115.16", "on_land", "ada di darat"), ("abc", "not_a_position", "bukan posisi")):
        fisher.locator("#route-from").fill(start)
        fisher.get_by_test_id("route-plan").click()
        expect(error).to_have_attribute("data-code", code)
        expect(error).to_contain_text(words)
        expect(error.locator("small[lang=en]")).to_contain_text("not a position" if code == "not_a_position" else "is on land")
    refused = "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    assert (fishing.console_errors, fishing.page_errors) == ([refused, refused], []), "the browser's own notes of the two 422s only"
