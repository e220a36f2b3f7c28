"""Browser tests of the operator console: Debian's Chromium driven by Playwright against a live
deployment (`console_live`), with a local SMTP server receiving what the notifier sends.

Expensive things are per test session: one browser (shared with the other console tests), one
deployment, one mail server (`central.notify.testing.SmtpInbox`). Each test gets fresh browser
contexts (their own cookies and storage), signed in through the form once per person and
session: sign-in attempts are rate limited per client address, and every test here comes from
127.0.0.1.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bench.console_browser import DESKTOP, chromium_missing, sign_in
from central.notify.testing import SmtpInbox
from console_live import LiveConsole, Person, live_console

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Response


# --- mail ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mailbox() -> Iterator[SmtpInbox]:
    """The local SMTP server the notifier (in ingest) sends to: aiosmtpd on a port of its own."""
    with SmtpInbox() as inbox:
        yield inbox


# --- the deployment -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory, mailbox: SmtpInbox) -> Iterator[LiveConsole]:
    from core.processes import Mosquitto

    if not Mosquitto.available():
        pytest.fail("mosquitto is not installed: run `make test`, which installs it")
    with live_console(tmp_path_factory.mktemp("console"), mailbox.port) as deployment:
        yield deployment


# --- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Browser:
    """The session's one Chromium (`console_browser` of `tests/api/console_fixtures.py`: Playwright's
    sync API runs one instance per process). Without Chromium a non-root run skips; as root (CI,
    where `make system-deps` installs it) a missing browser fails."""
    missing = chromium_missing()
    if missing is not None and os.geteuid() != 0:
        pytest.skip(f"{missing}; not root, so nothing here installs it")
    browser: Browser = request.getfixturevalue("console_browser")
    return browser


@dataclass
class PageWatch:
    """What a page did: the JSON answers it fetched, console errors (CSP violations are
    reported there) and uncaught exceptions."""

    responses: list[Response] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("response", self._response)
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    def _response(self, response: Response) -> None:
        if "json" in response.headers.get("content-type", ""):
            self.responses.append(response)

    def json_bodies(self) -> list[tuple[str, str]]:
        """(url, body) of every JSON answer so far (read once the page has them all)."""
        return [(r.url, r.text()) for r in self.responses]


class Browsing:
    """New browser contexts for one test: signed in as a person (through the form the first time
    in the session, then from the saved cookies and storage), or anonymous."""

    def __init__(self, browser: Browser, live: LiveConsole, states: dict[Person, dict[str, Any]], artefacts: Path) -> None:
        self.browser, self.live, self.states, self.artefacts = browser, live, states, artefacts
        self.opened: list[tuple[BrowserContext, Page, PageWatch]] = []

    def anonymous(self, viewport: dict[str, int] = DESKTOP) -> tuple[Page, PageWatch]:
        return self._open(None, viewport)

    def signed_in(self, person: Person, viewport: dict[str, int] = DESKTOP) -> tuple[Page, PageWatch]:
        if person not in self.states:
            page, watch = self._open(None, viewport)
            sign_in(page, self.live.base_url, person.tenant, person.name, person.password)
            self.states[person] = page.context.storage_state()
            return page, watch
        return self._open(self.states[person], viewport)

    def _open(self, state: dict[str, Any] | None, viewport: dict[str, int]) -> tuple[Page, PageWatch]:
        context = self.browser.new_context(viewport=viewport, storage_state=state, locale="id-ID")  # type: ignore[arg-type]
        page = context.new_page()
        watch = PageWatch()
        watch.attach(page)
        self.opened.append((context, page, watch))
        return page, watch

    def close(self, failed: bool) -> None:
        for i, (context, page, _watch) in enumerate(self.opened):
            if failed:
                page.screenshot(path=str(self.artefacts / f"page-{i}.png"), full_page=True)
            context.close()


@pytest.fixture(scope="session")
def saved_sign_ins() -> dict[Person, dict[str, Any]]:
    return {}


@pytest.fixture
def browsing(
    browser: Browser, live: LiveConsole, saved_sign_ins: dict[Person, dict[str, Any]], request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Browsing]:
    b = Browsing(browser, live, saved_sign_ins, tmp_path)
    yield b
    report = getattr(request.node, "rep_call", None)
    failed = report is not None and report.failed
    b.close(failed)
    if failed:
        print(f"screenshots in {tmp_path}\n{live.processes.tails()}")
