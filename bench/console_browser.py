"""The console in a real browser: Debian's Chromium driven by Playwright, as the browser tests
(`tests/console`), the console benchmark (`bench/console_perf.py`) and the screenshots
(`bench/console_screenshots.py`) all drive it.

Playwright never downloads a browser here: field offices and CI have Debian's `chromium`
(`make system-deps` installs it), which Playwright drives over CDP like its own build. The
flags keep it from phoning home (component updates, sync, background networking) so that a
measurement sees only the console's own traffic, and from needing a GPU or a sandbox (CI
containers run as root).
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

#: Debian's Chromium; TEPI_TEST_CHROMIUM points elsewhere (another build of it).
CHROMIUM = Path(os.environ.get("TEPI_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
#: A page's render is over (the shell sets this attribute and marks `page-ready:<id>`).
READY_TIMEOUT_MS = 20_000


def chromium_missing() -> str | None:
    """Why the browser cannot run here, or None. Without Chromium and without root (who would
    install it, as `make system-deps` does) the caller skips; as root a missing browser fails."""
    if CHROMIUM.exists() or shutil.which("chromium"):
        return None
    return f"{CHROMIUM} is missing: install Debian's chromium (`make system-deps` as root does)"


def launch(playwright: Playwright) -> Browser:
    """Headless Chromium, the Debian build."""
    executable = CHROMIUM if CHROMIUM.exists() else Path(shutil.which("chromium") or CHROMIUM)
    return playwright.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS, headless=True)


def wait_until(page: Page, expression: str, arg: Any = None, timeout_ms: int = READY_TIMEOUT_MS) -> Any:
    """Poll `expression` (a JS function of `arg`) until it returns something truthy, and return it.

    Not Playwright's `wait_for_function`: its predicate is compiled inside the page, which the
    console's Content-Security-Policy (no 'unsafe-eval') refuses; `evaluate` runs through the
    DevTools protocol. Marks carry their own timestamps, so the poll interval costs no precision."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        value = page.evaluate(expression, arg)
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout_ms} ms: {expression}")
        time.sleep(0.02)


def wait_for_mark(page: Page, name: str, timeout_ms: int = READY_TIMEOUT_MS) -> None:
    """Until the console has made the performance mark `name` (e.g. `map-drawn:rivers`)."""
    wait_until(page, "m => performance.getEntriesByName(m).length > 0", name, timeout_ms)


def wait_ready(page: Page, page_id: str, timeout_ms: int = READY_TIMEOUT_MS) -> None:
    """Until the shell says page `page_id` has rendered (`main#main[data-page-ready=<id>]`)."""
    page.wait_for_selector(f'main#main[data-page-ready="{page_id}"]', state="attached", timeout=timeout_ms)


def open_page(page: Page, base_url: str, route: str, page_id: str | None = None, *, allow_error: bool = False) -> None:
    """Go to `#/<route>` of the console and wait for its render. A hash change within the app
    keeps the page (its EventSource, its session); a first visit loads the shell. A page whose
    render failed (the shell marks `data-page-error`) is an `AssertionError` unless `allow_error`."""
    if page.url.startswith(base_url + "/") and "#" in page.url:
        # The shell re-renders on `hashchange`; until it does, the last page's mark would still be up.
        page.evaluate(
            """hash => { if (location.hash !== hash) {
                document.querySelector('main#main').removeAttribute('data-page-ready'); location.hash = hash; } }""",
            f"#/{route}",
        )
    else:
        page.goto(f"{base_url}/#/{route}")
    wait_ready(page, page_id or route.split("/")[0])
    if not allow_error and page.get_attribute("main#main", "data-page-error") is not None:
        raise AssertionError(f"#/{route} failed to render: {page.inner_text('main#main')[:500]}")


def sign_in(page: Page, base_url: str, tenant: str, name: str, password: str) -> None:
    """Sign in through the form, as a person does; returns once the page after it is ready."""
    page.goto(f"{base_url}/#/login")
    wait_ready(page, "login")
    page.select_option("#login-tenant", tenant)
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("[data-testid=login-submit]")
    page.wait_for_selector('main#main[data-page-ready]:not([data-page-ready="login"])', state="attached", timeout=READY_TIMEOUT_MS)


def nav_pages(page: Page) -> list[str]:
    """The page ids the navigation offers the signed-in user (`nav a[data-page]`), in order."""
    ids: list[str] = page.eval_on_selector_all("nav a[data-page]", "els => els.map(e => e.dataset.page)")
    return list(dict.fromkeys(ids))


def every_page(page: Page, base_url: str, extra: tuple[str, ...] = ()) -> Iterator[str]:
    """Visit every page the navigation offers the signed-in user, then the `extra` routes
    (e.g. `station/katulampa`), yielding each route once it is ready."""
    if not page.url.startswith(base_url + "/"):
        page.goto(f"{base_url}/")
        page.wait_for_selector("main#main[data-page-ready]", state="attached", timeout=READY_TIMEOUT_MS)
    for route in [*nav_pages(page), *extra]:
        open_page(page, base_url, route)
        yield route


def settle(page: Page, quiet_s: float = 0.5, limit_s: float = 5.0) -> int:
    """Until no resource has finished loading for `quiet_s` (at most `limit_s`): a page's data
    and basemap are in once its render resolved, but a late request may still be in flight.
    (Playwright's "networkidle" never comes while the alert stream is open.) Returns how many
    resources the page loaded."""
    count_js = "performance.getEntriesByType('resource').length"
    deadline = time.monotonic() + limit_s
    last = page.evaluate(count_js)
    while time.monotonic() < deadline:
        time.sleep(quiet_s)
        now = page.evaluate(count_js)
        if now == last:
            break
        last = now
    return int(last)


_DECLARED_PAGES_JS = """async () => {
  const manifest = await (await fetch('/console/manifest.json')).json();
  const modules = [...(manifest.pages || []).map(url => ['', url]), ...manifest.kinds.map(k => [k.kind, k.module])];
  const out = {};
  for (const [kind, url] of modules) {
    for (const p of (await import(url)).default) out[p.id] = {kind, roles: p.roles, nav: !!p.nav};
  }
  return out;
}"""


def declared_pages(page: Page) -> dict[str, dict[str, Any]]:
    """Every page the console's modules declare (the shell's and each kind's, as its manifest
    lists them): id -> {kind ('' for the shell's own), roles, nav}."""
    found: dict[str, dict[str, Any]] = page.evaluate(_DECLARED_PAGES_JS)
    return found


def marks(page: Page, prefix: str = "") -> dict[str, float]:
    """The page's `performance.mark`s whose names start with `prefix`: name -> startTime (ms)."""
    found: dict[str, float] = page.evaluate(
        "p => Object.fromEntries(performance.getEntriesByType('mark').filter(m => m.name.startsWith(p)).map(m => [m.name, m.startTime]))",
        prefix,
    )
    return found


def environment_note() -> dict[str, Any]:
    """Which browser measured (for results)."""
    return {"chromium": str(CHROMIUM), "root": os.geteuid() == 0}


def api_call(page: Page, method: str, path: str, body: Any = None, csrf: str | None = None) -> tuple[int, Any]:
    """`fetch` from inside the page, same origin, with the page's cookie: what the console's own
    code could send (or a script injected into it). Returns (status, parsed JSON or None)."""
    result: tuple[int, Any] = page.evaluate(
        """async ([method, path, body, csrf]) => {
            const headers = {};
            if (body !== null) headers['Content-Type'] = 'application/json';
            if (csrf) headers['X-CSRF-Token'] = csrf;
            const r = await fetch('/api/v1' + path, {method, credentials: 'same-origin', headers,
                                                     body: body === null ? undefined : JSON.stringify(body)});
            const text = await r.text();
            let data = null;
            try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
            return [r.status, data];
        }""",
        [method, path, body, csrf],
    )
    return result
