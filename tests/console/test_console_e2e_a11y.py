"""Every page of the console passes axe-core without a serious or critical violation, on a
desktop and on a phone, signed in or not; and none breaks its Content-Security-Policy or throws.

axe runs in the page as Playwright evaluates it (over CDP, which the page's CSP does not
govern), so the console is checked as served, with its CSP on.
"""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from bench.console_browser import PHONE, declared_pages, every_page, open_page, wait_ready
from console_live import ADMIN, LiveConsole

pytestmark = pytest.mark.integration
SERIOUS = ("serious", "critical")
EXTRA_ROUTES = ("station/katulampa",)


def _serious(axe: Axe, page: Any, where: str) -> list[str]:
    violations = axe.run(page).response["violations"]
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in violations
        if v.get("impact") in SERIOUS
    ]


def _breakage(watch: Any, where: str) -> list[str]:
    found = [f"{where}: {e}" for e in watch.page_errors]
    found += [f"{where}: {e}" for e in watch.console_errors if "Content Security Policy" in e or "Refused to" in e]
    watch.page_errors.clear()
    watch.console_errors.clear()
    return found


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_no_page_has_a_serious_accessibility_violation(browsing, live: LiveConsole, viewport) -> None:  # type: ignore[no-untyped-def]
    size = {"viewport": viewport} if viewport else {}
    axe = Axe()
    found: list[str] = []
    broken: list[str] = []

    page, watch = browsing.anonymous(**size)
    page.goto(f"{live.base_url}/")
    wait_ready(page, "public")
    found += _serious(axe, page, "public")
    open_page(page, live.base_url, "login")
    found += _serious(axe, page, "login")
    broken += _breakage(watch, "signed out")

    page, watch = browsing.signed_in(ADMIN, **size)
    visited = []
    for route in every_page(page, live.base_url, EXTRA_ROUTES):
        visited.append(route)
        found += _serious(axe, page, route)
        broken += _breakage(watch, route)
    open_page(page, live.base_url, "alerts")
    page.click("[data-testid=alert-row] [data-testid=alert-ack] >> nth=0")
    page.wait_for_selector("[data-testid=alert-note]", state="visible")
    found += _serious(axe, page, "alerts, acknowledge dialog")

    unchecked = set(declared_pages(page)) - {"public", "login", *(r.split("/")[0] for r in visited)}
    assert unchecked == set(), "pages no one here visits: give the test a person who may"

    assert found == [], "\n".join(found)
    assert broken == [], "\n".join(broken)
