"""Fixtures of the console's browser tests: one headless Chromium per test session, the API with
the river story on a real server, and pages signed in by an API key.

A plugin (registered by the repository's root conftest.py, like `api_fixtures`), so the
console tests of any folder share the one browser. Playwright drives Debian's Chromium
(`/usr/bin/chromium`); no browser is ever downloaded. Until people sign in with a password
(`POST /api/v1/session`), a page is "signed in" by sending an API key as a bearer header on
every request, which the shell accepts as it accepts a session cookie (`GET /api/v1/me`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from api_people import DKI, OFFICER, app_settings
from api.testing import bearer, serve
from bench.console_browser import DESKTOP, PHONE, chromium_missing, launch  # noqa: F401  (PHONE, DESKTOP re-exported to the page tests)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request
    from sqlalchemy.engine import Engine

    from core.config import TepiConfig



@pytest.fixture(scope="session")
def console_browser() -> Iterator[Browser]:
    """Headless Chromium, once per test session (starting one takes about half a second)."""
    from playwright.sync_api import sync_playwright

    missing = chromium_missing()
    if missing is not None:
        # As root `make test` installs it (`make system-deps`), so missing there is a failure.
        if os.geteuid() != 0:
            pytest.skip(missing)
        pytest.fail(missing)
    with sync_playwright() as playwright:
        browser = launch(playwright)  # the flags and binary the bench and the live tests use too
        yield browser
        browser.close()


@pytest.fixture
def console_url(database_url: str, default_config: TepiConfig, engine: Engine) -> Iterator[str]:
    """The API, console included, over the river story on a real uvicorn (the alert stream needs one)."""
    from prometheus_client import CollectorRegistry

    from api.main import create_app

    settings = app_settings(database_url, level_store="sql", stream_poll_s=0.05, stream_heartbeat_s=1.0)
    with serve(create_app(default_config, settings, registry=CollectorRegistry())) as url:
        yield url


@dataclass
class ConsolePage:
    """A browser page on the console, with what it logged and asked for."""

    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, route: str) -> Page:
        """Load the console at `#/<route>` and wait until that page says it is ready."""
        self.page.goto(f"{self.base_url}/#/{route}")
        return self.wait_ready(route.split("/")[0])

    def wait_ready(self, page_id: str) -> Page:
        self.page.wait_for_selector(f'main#main[data-page-ready="{page_id}"]', state="attached")
        return self.page

    def outside_requests(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(f"{self.base_url}/") and not url.startswith("data:")]


ConsolePageFactory = Callable[..., ConsolePage]


@pytest.fixture
def console_page(
    console_browser: Browser, console_url: str, keys: dict[tuple[str, str], str]
) -> Iterator[ConsolePageFactory]:
    """`console_page(as_user=(tenant, name), viewport=DESKTOP)`: a fresh browser context (no
    cookies or storage of another test) whose requests carry that user's API key (None: nobody)."""
    contexts: list[BrowserContext] = []

    def make(as_user: tuple[str, str] | None = (DKI, OFFICER), viewport: dict[str, int] = DESKTOP) -> ConsolePage:
        context = console_browser.new_context(
            viewport=viewport,
            extra_http_headers=bearer(keys[as_user]) if as_user is not None else {},
            service_workers="block",
        )
        contexts.append(context)
        page = context.new_page()
        console = ConsolePage(page, console_url)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                console.console_errors.append(message.text)

        def on_request(request: Request) -> None:
            console.requests.append(request.url)

        page.on("console", on_console)
        page.on("pageerror", lambda error: console.page_errors.append(str(error)))
        page.on("request", on_request)
        return console

    yield make
    for context in contexts:
        context.close()
