"""Alerts in the console: a Siaga raised at a device reaches the open page by itself and is
acknowledged there with a note; a viewer sees alerts but has no button, and the API refuses
the viewer's request anyway."""

from __future__ import annotations

from typing import Any

import pytest

from bench.console_browser import api_call, marks, open_page
from console_live import OFFICER, VIEWER, LiveConsole
from core.testing import wait_until

pytestmark = pytest.mark.integration
#: Katulampa (Siaga 3 from 80 cm) rising through its bound: the last two readings raise it.
KATULAMPA_RISE_CM = [62.0, 72.0, 81.0, 86.0]
NOTE = "Tim reaksi cepat menuju Bendung Katulampa; warga bantaran diberi tahu."


def _row(alert_id: int, status: str | None = None) -> str:
    sel = f'[data-testid=alert-row][data-alert-id="{alert_id}"]'
    return sel + (f'[data-status="{status}"]' if status else "")


def _events(live: LiveConsole, alert_id: int) -> list[dict[str, Any]]:
    with live.http() as http:
        r = http.get(f"/alerts/{alert_id}/events")
        r.raise_for_status()
        return list(r.json()["data"])


def test_a_siaga_alert_raised_at_a_device_appears_live_and_is_acknowledged_with_a_note(browsing, live: LiveConsole) -> None:  # type: ignore[no-untyped-def]
    page, watch = browsing.signed_in(OFFICER)
    open_page(page, live.base_url, "alerts")
    page.wait_for_selector("[data-testid=live-status][data-state=live]", state="attached")
    assert live.open_alert("katulampa") is None
    page.evaluate("window.__sameDocument = true")

    live.devices["awlr-katulampa"].send(KATULAMPA_RISE_CM)  # as the gauge: MQTT -> gateway -> ingest
    wait_until(lambda: live.open_alert("katulampa") is not None, 60, "Katulampa's Siaga alert at the API", every_s=0.2)
    alert = live.open_alert("katulampa")
    assert alert is not None
    row = page.wait_for_selector(_row(alert["id"]), state="visible")

    assert page.evaluate("window.__sameDocument === true"), "the row came without a reload"
    assert row.get_attribute("data-type") == "siaga" and row.get_attribute("data-status") == "active"
    assert "katulampa" in row.inner_text().lower()
    opened = next(e for e in _events(live, alert["id"]) if e["kind"] == "opened")
    assert f"alert-shown:{opened['seq']}" in marks(page, "alert-shown:"), "shown from its SSE event"

    page.click(f"{_row(alert['id'])} [data-testid=alert-ack]")
    page.fill("[data-testid=alert-note]", NOTE)
    page.click("[data-testid=alert-note-submit]")
    page.wait_for_selector(_row(alert["id"], "acknowledged"), state="visible")

    with live.http() as http:
        now = http.get(f"/alerts/{alert['id']}").json()
    assert (now["status"], now["acknowledged_by"]) == ("acknowledged", OFFICER.name)
    ack = [e for e in _events(live, alert["id"]) if e["kind"] == "acknowledged"]
    assert [(e["who"], e["detail"].get("note")) for e in ack] == [(OFFICER.name, NOTE)]
    assert not watch.page_errors


def test_a_viewer_has_no_acknowledge_button_and_the_api_refuses_the_viewer(browsing, live: LiveConsole) -> None:  # type: ignore[no-untyped-def]
    depok = live.open_alert("depok")
    assert depok is not None and depok["status"] == "active"
    page, _watch = browsing.signed_in(VIEWER)
    open_page(page, live.base_url, "alerts")
    page.wait_for_selector(_row(depok["id"]), state="visible")

    assert page.locator("[data-testid=alert-row]").count() >= 1
    assert page.locator("[data-testid=alert-ack]").count() == 0
    assert page.locator("[data-testid=alert-close]").count() == 0

    # The request the button would send, with the viewer's cookie and CSRF token: refused.
    status, me = api_call(page, "GET", "/me")
    assert status == 200 and me["role"] == "viewer" and me["csrf_token"]
    for action in ("ack", "close"):
        status, _body = api_call(page, "POST", f"/alerts/{depok['id']}/{action}", {"note": "dari layar"}, csrf=me["csrf_token"])
        assert status == 403, action
    after = live.open_alert("depok")
    assert after is not None and (after["status"], after["acknowledged_at"], after["closed_at"]) == ("active", None, None)
