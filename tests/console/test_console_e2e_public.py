"""The public page, like PetaBencana's: river levels and active warnings for anyone, with no
sign-in, no cookie, and nothing fetched but the public API; on a phone too."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from bench.console_browser import PHONE, wait_ready
from console_live import BADUNG, DKI, LiveConsole

pytestmark = pytest.mark.integration


def _show_tenant(page, tenant: str) -> None:  # type: ignore[no-untyped-def]
    if page.eval_on_selector("#public-tenant", "el => el.value") != tenant:
        page.select_option("#public-tenant", tenant)


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_public_page_shows_levels_and_warnings_to_anyone(browsing, live: LiveConsole, viewport) -> None:  # type: ignore[no-untyped-def]
    page, watch = browsing.anonymous(**({"viewport": viewport} if viewport else {}))
    api_paths: list[str] = []
    page.on("request", lambda r: api_paths.append(urlparse(r.url).path) if "/api/v1/" in r.url else None)
    page.goto(f"{live.base_url}/")
    wait_ready(page, "public")
    assert page.locator("[data-testid=signin-link]").is_visible()

    _show_tenant(page, DKI)
    page.wait_for_selector("[data-testid=public-station]:has-text('Depok')", state="visible")
    stations = page.locator("[data-testid=public-station]").all_inner_texts()
    assert len(stations) == 3 and any("Katulampa" in s for s in stations) and any("Manggarai" in s for s in stations)
    warnings = page.locator("[data-testid=public-warning]").all_inner_texts()
    assert any("Depok" in w for w in warnings), warnings
    assert not any("Tukad" in s for s in stations + warnings), "one tenant at a time"

    _show_tenant(page, BADUNG)
    page.wait_for_selector("[data-testid=public-station]:has-text('Tukad Mati')", state="visible")
    assert any("Tukad Mati" in w for w in page.locator("[data-testid=public-warning]").all_inner_texts())

    assert page.context.cookies() == [], "no cookie for the public"
    private = [p for p in api_paths if not p.startswith("/api/v1/public/") and p != "/api/v1/me"]
    assert private == [], "the public page fetches only the public API"
    assert not watch.page_errors, watch.page_errors
