"""The rivers page shows each of the tenant's gauges, on the map and in the list beside it, with
its Siaga level in words as well as in colour."""

from __future__ import annotations

import pytest

from bench.console_browser import open_page, wait_for_mark
from console_live import OFFICER, LiveConsole

pytestmark = pytest.mark.integration


def test_the_rivers_page_shows_every_station_with_its_siaga_level_in_words(browsing, live: LiveConsole) -> None:  # type: ignore[no-untyped-def]
    with live.http() as http:
        stations = http.get("/stations").json()["data"]
    page, _watch = browsing.signed_in(OFFICER)
    open_page(page, live.base_url, "rivers")
    wait_for_mark(page, "map-drawn:rivers")

    # Markers are drawn on one canvas (500 DOM markers would be slow); the map says how many.
    assert page.get_attribute(".leaflet-container", "data-station-count") == str(len(stations)) == "3"
    text = page.inner_text("main#main")
    for station in stations:
        assert station["name"] in text
    depok = next(s for s in stations if s["id"] == "depok")
    assert depok["siaga"] == 3 and "Siaga III" in text
