"""`python -m bench.console_screenshots`: the screenshots of the console in `docs/`.

Runs the shipped demo (`tepi demo`: the storm on the Ciliwung, the boats of Badung and
Indramayu with their SOS, the Indramayu office's badges) on free ports, signs in as each
tenant's admin with a password, and shoots every page the navigation offers, each from the
tenant whose data it shows (a kind's pages from the tenant the demo gives that kind to), at
1280x800: `docs/console-<page>.png`; the public page and the sign-in form signed out; and the
alerts page on a phone (390x844): `docs/console-phone-alerts.png`.

Debian's Chromium, as the browser tests drive it (`bench.console_browser`).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.console_browser import DESKTOP, PHONE, declared_pages, launch, nav_pages, open_page, settle, sign_in, wait_ready
from contract.clock import utcnow
from core.processes import free_port

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
DKI, BADUNG, INDRAMAYU = "dki-jakarta", "kab-badung", "kab-indramayu"
#: Whose data each kind's pages show best in the demo: the rivers are DKI Jakarta's, the boats
#: and the sea Badung's, the badge office Indramayu's. Generic pages (alerts, health): DKI's.
KIND_TENANT = {"awlr": DKI, "fishfinder": BADUNG, "wavebuoy": BADUNG, "badge": INDRAMAYU}
#: Pages with a parameter, which the navigation does not list: route -> tenant.
EXTRA = {"station/katulampa": DKI}
PASSWORD = "Gambar-Layar-Konsol-24"
#: Who signs in to each tenant for the pictures (an admin: every page of the tenant is theirs).
ADMINS = {DKI: "Operator Pusdalops DKI", BADUNG: "Operator BPBD Badung", INDRAMAYU: "Operator Indramayu"}


def _admins(database_url: str, tenants: list[str]) -> None:
    """An admin with a password in each tenant of the demo's database, as `tepi admin` makes them."""
    from sqlalchemy.orm import Session

    from central import accounts
    from central.db import create_engine, writer

    engine = create_engine(database_url)
    try:
        with Session(writer(engine)) as s, s.begin():
            for tenant in tenants:
                user = accounts.create_user(s, tenant, ADMINS[tenant], "admin")
                accounts.set_password(s, user, PASSWORD, utcnow())
    finally:
        engine.dispose()


def _wait_for_api(base: str, demo: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    """Until the demo's API answers (it holds its port from the start, before its database exists)."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=2) as http:
        while time.monotonic() < deadline:
            if demo.poll() is not None:
                raise RuntimeError(f"tepi demo exited with {demo.returncode}")
            try:
                if http.get(f"{base}/api/v1/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    raise RuntimeError(f"the demo's API did not answer within {timeout_s:.0f} s")


def _wait_for_story(base: str, timeout_s: float) -> None:
    """Until the demo's storm has raised a warning the public can see (its boats' and office's
    stories go on meanwhile): what the pages are worth showing."""
    deadline = time.monotonic() + timeout_s
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            try:
                r = http.get(f"{base}/api/v1/public/warnings", params={"tenant": DKI})
                if r.status_code == 200 and r.json():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1.0)
    raise RuntimeError(f"no warning in the demo after {timeout_s:.0f} s")


def _shoot(page: Any, path: Path) -> None:
    page.mouse.move(0, 0)  # no hover left where the last click was (the sign-in button lies over a nav link)
    settle(page)
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def take(out: Path, story_s: float) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="tepi-shots-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = open(work / "demo.log", "wb")  # noqa: SIM115 - the demo writes it until stopped
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEPI_")}
    demo = subprocess.Popen([sys.executable, "-m", "tepi.cli", "demo", "--port", str(port), "--workdir", str(work / "demo")],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)
    written: list[Path] = []
    try:
        _wait_for_api(base, demo)
        _admins(f"sqlite:///{work / 'demo' / 'tepi.db'}", list(ADMINS))
        _wait_for_story(base, story_s)
        time.sleep(min(story_s, 30.0))  # the boats' SOS and the office's morning, as far as they get
        with sync_playwright() as p:
            browser = launch(p)
            anonymous = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
            anonymous.goto(f"{base}/")
            wait_ready(anonymous, "public")
            written.append(out / "console-public.png")
            _shoot(anonymous, written[-1])
            open_page(anonymous, base, "login")
            written.append(out / "console-login.png")
            _shoot(anonymous, written[-1])
            anonymous.context.close()

            pages: dict[str, Any] = {}
            for tenant in ADMINS:
                page = browser.new_page(viewport=DESKTOP)  # type: ignore[arg-type]
                sign_in(page, base, tenant, ADMINS[tenant], PASSWORD)
                pages[tenant] = page
            declared = declared_pages(pages[DKI])
            routes = {r: KIND_TENANT.get(declared.get(r, {}).get("kind", ""), DKI) for r in nav_pages(pages[DKI])} | EXTRA
            for route, tenant in routes.items():
                page = pages[tenant]
                open_page(page, base, route)
                written.append(out / f"console-{route.split('/')[0]}.png")
                _shoot(page, written[-1])

            phone = browser.new_page(viewport=PHONE, storage_state=pages[DKI].context.storage_state())  # type: ignore[arg-type]
            open_page(phone, base, "alerts")
            written.append(out / "console-phone-alerts.png")
            _shoot(phone, written[-1])
            browser.close()
    finally:
        demo.terminate()
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            demo.kill()
    return written


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.console_screenshots", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=DOCS, help="where the PNGs go (default: docs/)")
    p.add_argument("--story", type=float, default=90.0, help="seconds to wait for the demo's storm to raise a warning")
    args = p.parse_args(argv)
    take(args.out, args.story)
    return 0


if __name__ == "__main__":
    sys.exit(main())
