"""The attendance page of the console in Chromium, over the badge test world served by uvicorn
(clock at Tuesday 3 March 2026, 10:00 WIB): the office's board of today lists its staff with
their status and local times, the recap of a chosen month links its CSV export; an employee sees
their own day; a viewer gets no attendance page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import pytest
from badge_api_world import INDRAMAYU, KANTOR, NIP, NOW, PEOPLE, fill_world, presence_event, wib, world_config, world_settings
from console_fixtures import ConsolePage, ConsolePageFactory
from playwright.sync_api import Page, expect
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from api.main import create_app
from api.testing import TEST_PEPPER, serve
from central.accounts import create_key, create_user
from central.db import create_engine, writer
from kinds.badge.api import attendance_data


UNLINKED = "Staf Baru"


@dataclass
class Office:
    url: str
    keys: dict[tuple[str, str], str]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """The world, and Dini in at 07:52 WIB today (22 minutes late); nobody else in yet. Staf Baru,
    a staff_admin whose account nobody has linked to an employee record yet."""
    url = f"sqlite:///{tmp_path_factory.mktemp('console-attendance') / 'state.db'}"
    config = world_config()
    engine = create_engine(url)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(attendance_data, "utcnow", lambda: NOW)
        try:
            keys, ids = fill_world(engine, config)
            with Session(writer(engine)) as s, s.begin():
                s.add(presence_event(ids["Dini Kartika"], KANTOR, "check_in", wib(3, "07:52", month=3), 1000))
                keys[UNLINKED] = create_key(s, TEST_PEPPER.encode(), create_user(s, INDRAMAYU, UNLINKED, "staff_admin").id)[1]
            with serve(create_app(config, world_settings(url), registry=CollectorRegistry())) as base:
                yield Office(base, {(PEOPLE[name][0] if name in PEOPLE else INDRAMAYU, name): key for name, key in keys.items()})
        finally:
            engine.dispose()


@pytest.fixture
def console_url(office: Office) -> str:
    """The world's console, for `console_page` (console_fixtures)."""
    return office.url


@pytest.fixture
def keys(office: Office) -> dict[tuple[str, str], str]:
    return office.keys


def _open(console_page: ConsolePageFactory, who: str) -> tuple[ConsolePage, Page]:
    console = console_page(as_user=(PEOPLE[who][0] if who in PEOPLE else INDRAMAYU, who))
    page = console.open("attendance")
    expect(page.locator("main#main[data-page-error]")).to_have_count(0)
    return console, page


def test_the_board_lists_the_office_and_the_recap_links_its_csv(console_page: ConsolePageFactory) -> None:
    console, staff = _open(console_page, "Sari Staf")
    expect(staff.locator("#attendance-date")).to_have_value("2026-03-03")
    dini = staff.locator(f'[data-testid=attendance-row][data-nip="{NIP["Dini Kartika"]}"]')
    expect(dini).to_have_attribute("data-status", "late")
    expect(dini).to_contain_text("Terlambat")
    expect(dini).to_contain_text("07:52 WIB")
    expect(dini).to_contain_text("22 mnt (TL1)")
    eko = staff.locator(f'[data-testid=attendance-row][data-nip="{NIP["Eko Prasetyo"]}"]')
    expect(eko).to_contain_text("Eko Prasetyo")
    expect(eko).to_have_attribute("data-status", "pending")
    expect(staff.locator(f'[data-testid=attendance-row][data-nip="{NIP["Hadi Susanto"]}"]')).to_have_count(0)  # another office

    expect(staff.locator("#attendance-month")).to_have_value("2026-03")
    staff.locator("#attendance-month").fill("2026-02")
    recap = staff.locator(f'[data-testid=recap-row][data-nip="{NIP["Dini Kartika"]}"]')
    expect(recap).to_be_visible()
    expect(staff.get_by_test_id("recap-csv")).to_have_attribute("href", "/api/v1/attendance/monthly?month=2026-02&format=csv&office=bkpsdm-indramayu")
    assert staff.evaluate("() => Object.keys(localStorage).filter((k) => k !== 'tepi.lang')") == []
    assert (console.console_errors, console.page_errors) == ([], [])


def test_an_employee_sees_their_own_day_and_a_viewer_no_attendance(console_page: ConsolePageFactory) -> None:
    console, dini = _open(console_page, "Dini Kartika")
    expect(dini.locator("h2").first).to_contain_text(f"Dini Kartika ({NIP['Dini Kartika']})")
    today = dini.locator('[data-testid=attendance-day][data-date="2026-03-03"]').first
    expect(today).to_have_attribute("data-status", "late")
    expect(today).to_contain_text("07:52 WIB")
    expect(dini.get_by_test_id("attendance-row")).to_have_count(0)  # no office board

    assert (console.console_errors, console.page_errors) == ([], [])
    viewer = console_page(as_user=(PEOPLE["Viewer Indramayu"][0], "Viewer Indramayu")).open("attendance")
    expect(viewer.locator('nav a[data-page="attendance"]')).to_have_count(0)
    expect(viewer.get_by_test_id("attendance-row")).to_have_count(0)


def test_before_work_starts_the_board_offers_the_last_working_day_and_an_unlinked_staff_admin_is_told_what_to_do(
    console_page: ConsolePageFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wednesday 4 March, 06:30 WIB: nobody in yet, and nobody late either.
    monkeypatch.setattr(attendance_data, "utcnow", lambda: wib(4, "06:30", month=3))
    console, staff = _open(console_page, "Sari Staf")
    expect(staff.locator("#attendance-date")).to_have_value("2026-03-04")
    expect(staff.locator("#att-board")).to_have_text("Papan hari ini (Rabu, 04/03/2026)")
    early = staff.get_by_test_id("attendance-before-start")
    expect(early).to_contain_text("belum mulai (mulai 07:30 WIB)")
    early.get_by_test_id("attendance-previous-day").click()  # Tuesday's board, one click
    expect(staff.locator("#attendance-date")).to_have_value("2026-03-03")
    expect(staff.locator("#att-board")).to_have_text("Papan Selasa, 03/03/2026")
    expect(staff.locator(f'[data-testid=attendance-row][data-nip="{NIP["Dini Kartika"]}"]')).to_have_attribute("data-status", "late")
    expect(early).to_be_hidden()
    assert (console.console_errors, console.page_errors) == ([], [])

    unlinked = console_page(as_user=(INDRAMAYU, UNLINKED))
    page = unlinked.open("attendance")
    expect(page.locator("main#main[data-page-error]")).to_have_count(0)  # a notice, not an error page
    notice = page.get_by_test_id("attendance-not-linked")
    expect(notice).to_have_attribute("data-code", "not_linked")
    expect(notice).to_contain_text("Akun Anda belum ditautkan ke data pegawai")
    expect(notice.locator("pre")).to_have_text(f'tepi admin employee link --tenant {INDRAMAYU} --user "{UNLINKED}" --nip <NIP>')

