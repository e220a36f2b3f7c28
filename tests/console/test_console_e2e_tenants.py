"""Another tenant's data never reaches a console page: not in what a page shows, not in any JSON
it fetched, not on its live stream, and not when a user types the other tenant's station into
the address bar.

DKI Jakarta's people visit every page their role offers while Kabupaten Badung, in the same
deployment, has a gauge, a gateway, a person and an open Siaga alert that keeps changing.
"""

from __future__ import annotations

import pytest

from bench.console_browser import every_page, marks, open_page
from console_live import ADMIN, BADUNG, BADUNG_DEVICE, BADUNG_SECRETS, BADUNG_STATION, OFFICER, LiveConsole
from core.testing import wait_until

pytestmark = pytest.mark.integration
#: DKI's pages with a parameter, which the navigation does not list.
DKI_ROUTES = ("station/katulampa", "station/depok")
#: Tukad Mati on to Siaga 2 (200 cm), a step a minute QC takes as a river's.
BADUNG_RISE_CM = [170.0, 180.0, 190.0, 200.0, 204.0]


def _leaks(text: str) -> list[str]:
    return [s for s in BADUNG_SECRETS if s in text]


@pytest.mark.parametrize("person", [ADMIN, OFFICER], ids=lambda p: p.role)
def test_no_page_a_dki_user_visits_shows_or_fetches_anything_of_badung(browsing, live: LiveConsole, person) -> None:  # type: ignore[no-untyped-def]
    page, watch = browsing.signed_in(person)
    visited = []
    for route in every_page(page, live.base_url, DKI_ROUTES):
        visited.append(route)
        assert _leaks(page.content()) == [], f"#/{route} shows Badung's data"
    assert "alerts" in visited and len(visited) >= 4, visited
    fetched = watch.json_bodies()
    assert fetched, "the pages fetched their data"
    for url, body in fetched:
        assert _leaks(body) == [], f"{url} answered Badung's data"
    assert not watch.page_errors, watch.page_errors


def test_the_live_stream_carries_no_event_of_another_tenant(browsing, live: LiveConsole) -> None:  # type: ignore[no-untyped-def]
    """Badung's alert changes while a DKI page is open; then a DKI alert changes (the sentinel:
    the stream is in order, so once the page shows DKI's change it would have had Badung's)."""
    page, _watch = browsing.signed_in(OFFICER)
    open_page(page, live.base_url, "alerts")
    page.wait_for_selector("[data-testid=live-status][data-state=live]", state="attached")
    badung = live.open_alert(BADUNG_STATION, tenant=BADUNG)
    assert badung is not None

    live.devices[BADUNG_DEVICE].send(BADUNG_RISE_CM)
    wait_until(lambda: (a := live.open_alert(BADUNG_STATION, tenant=BADUNG)) is not None and a["siaga"] == 2, 60, "Tukad Mati at Siaga 2", every_s=0.2)
    sentinel = live.open_alert("manggarai", kind="forecast")
    assert sentinel is not None
    with live.http() as http:  # DKI's own machine acknowledges DKI's forecast: an event on DKI's stream
        assert http.post(f"/alerts/{sentinel['id']}/ack", json={"note": "sentinel"}).status_code == 200
    page.wait_for_selector(f'[data-testid=alert-row][data-alert-id="{sentinel["id"]}"][data-status="acknowledged"]', state="visible")

    assert _leaks(page.content()) == []
    with live.http(BADUNG) as http:
        badung_seqs = {e["seq"] for e in http.get(f"/alerts/{badung['id']}/events").json()["data"]}
    received = {int(name.split(":", 1)[1]) for name in marks(page, "sse-event:")}
    assert received, "the page received DKI's events"
    assert received.isdisjoint(badung_seqs), "a Badung event reached a DKI page"


def test_another_tenants_station_typed_into_the_address_bar_is_not_found(browsing, live: LiveConsole) -> None:  # type: ignore[no-untyped-def]
    page, watch = browsing.signed_in(ADMIN)
    answers: list[tuple[str, int]] = []
    page.on("response", lambda r: answers.append((r.url, r.status)) if "/api/v1/" in r.url else None)
    open_page(page, live.base_url, f"station/{BADUNG_STATION}", "station", allow_error=True)

    assert all(status == 404 for url, status in answers if BADUNG_STATION in url), answers
    text = page.content()
    assert "Pos Tukad Mati Kuta" not in text and "Tukad Mati" not in text
    for url, body in watch.json_bodies():
        assert "Pos Tukad Mati Kuta" not in body, url
